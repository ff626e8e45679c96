// End to end through SmartGlass against the simulated console: discovery, power-on, the
// console session with its commands and events, and a gamestream started by the console.
import Foundation
import XCTest
@testable import Xnano
import XnanoSim

final class ConsoleRecorder {
    private let lock = NSLock()
    private var _events: [ConsoleEvent] = []
    private var _onCallerThread: [Bool] = []

    func attach(_ c: Console, callerThread: Thread = Thread.current) {
        c.onEvent = { e in
            self.lock.lock()
            self._events.append(e)
            self._onCallerThread.append(Thread.current == callerThread)
            self.lock.unlock()
        }
    }

    var events: [ConsoleEvent] { lock.lock(); defer { lock.unlock() }; return _events }
    var onCallerThread: [Bool] { lock.lock(); defer { lock.unlock() }; return _onCallerThread }

    func find(_ kind: ConsoleEventType, _ pred: (ConsoleEvent) -> Bool = { _ in true }) -> ConsoleEvent? {
        events.first { $0.kind == kind && pred($0) }
    }
}

/// A UDP address where nobody answers (the socket stays open while `body` runs).
func withSilentAddress(_ body: (String) throws -> Void) rethrows {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) }
    }
    _ = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    try body("127.0.0.1:\(UInt16(bigEndian: addr.sin_port))")
}

final class SmartGlassTests: XCTestCase {
    func code<T>(_ body: @autoclosure () throws -> T, file: StaticString = #filePath, line: UInt = #line) -> ResultCode? {
        do {
            _ = try body()
            XCTFail("no error", file: file, line: line)
            return nil
        } catch let e as XnanoError {
            return e.code
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return nil
        }
    }

    func testDefaultsComeFromTheLibrary() {
        let c = ConsoleConfig()
        XCTAssertNil(c.userHash)
        XCTAssertFalse(c.ignoreAnonymousFlag)
        XCTAssertEqual(c.discoveryTimeoutMs, 3000)
        XCTAssertEqual(c.waitTimeoutMs, 10000)
        XCTAssertEqual(c.eventQueueCapacity, 0)
        XCTAssertTrue(SimConfig().smartglass)
        XCTAssertEqual(SmartGlass.defaultPort, 5050)
    }

    func testDiscoversTheSimulatedConsole() throws {
        let sim = try Simulator(config: cheapSim())
        let address = try sim.smartglassAddress()
        let found = try SmartGlass.discover(address: address, timeoutMs: 3000)
        XCTAssertEqual(found.count, 1)
        let info = found[0]
        XCTAssertEqual(info, try sim.consoleInfo())
        XCTAssertEqual(info.name, "XboxOne")
        XCTAssertTrue(info.liveId.hasPrefix("FD00"))
        XCTAssertEqual(info.address, address)
        XCTAssertEqual(info.port, try sim.smartglassPort())
        XCTAssertEqual(info.curve, .p256)
        XCTAssertTrue(info.anonymousAllowed)
        XCTAssertTrue(info.isXboxOne)
        XCTAssertEqual(info.uuid.count, 36)
        XCTAssertGreaterThanOrEqual(try sim.stats().sg_discovery_requests, 1)
        try withSilentAddress { addr in
            XCTAssertEqual(try SmartGlass.discover(address: addr, timeoutMs: 300).count, 0, "nobody there: empty")
        }
    }

    func testFullSmartGlassPath() throws {
        let sim = try Simulator(config: cheapSim())
        let info = try SmartGlass.discover(address: try sim.smartglassAddress()).first!
        let console = try Console()
        let rec = ConsoleRecorder()
        rec.attach(console)
        var fromCallback: [String: ResultCode] = [:]
        let recordAll = console.onEvent!
        console.onEvent = { [unowned console] e in
            recordAll(e)
            guard e.kind == .connected else { return }
            do { try console.launchTitle("ms-xbl-test://from-callback"); fromCallback["launch"] = .ok } catch {}
            do { try console.disconnect(); fromCallback["disconnect"] = .ok } catch let x as XnanoError {
                fromCallback["disconnect"] = x.code
            } catch {}
        }
        var cfg = ConsoleConfig()
        cfg.waitTimeoutMs = 5000
        try console.connect(info: info, config: cfg)
        XCTAssertEqual(rec.events.first?.kind, .connected, "CONNECTED before connect returned")
        XCTAssertEqual(rec.onCallerThread.first, true, "on the calling thread")
        XCTAssertEqual(rec.events.first?.participantId, 31)
        XCTAssertEqual(fromCallback["launch"], .ok)
        XCTAssertEqual(fromCallback["disconnect"], .fromCallback)
        XCTAssertEqual(try console.state(), .connected)
        XCTAssertEqual(try console.info().liveId, info.liveId)

        XCTAssertTrue(waitFor { rec.find(.mediaState) != nil })
        let status = rec.find(.consoleStatus)!
        XCTAssertEqual(status.osMajorVersion, 10)
        XCTAssertTrue(status.text.hasPrefix("Xbox.Home"), status.text)
        let media = rec.find(.mediaState)!
        XCTAssertGreaterThan(try console.mediaCommand(titleId: media.titleId, .pause), 0)
        XCTAssertTrue(waitFor { rec.find(.mediaState) { $0.playbackStatus != media.playbackStatus } != nil },
                      "the media state changes after pause")
        try console.gamepad(GamepadState(buttons: [.a, .dpadUp], leftTrigger: 0.5))
        try console.gameDvrRecord(startDelta: -30, endDelta: 0)
        try console.unsnap()
        XCTAssertTrue(try waitFor { try sim.startTextSession(prompt: "Gamertag?") == 1 })
        XCTAssertTrue(waitFor { rec.find(.textConfiguration) != nil })
        let tc = rec.find(.textConfiguration)!
        XCTAssertEqual(tc.text, "Gamertag?")
        try console.sendText("xnano")
        try console.textAcknowledge(sessionId: tc.textSessionId, version: 1)
        try console.textDone(accept: true)
        for name in ["TitleLaunch", "MediaCommand", "Gamepad", "GameDvrRecord", "Unsnap",
                     "SystemTextInput", "SystemTextAck", "SystemTextDone"] {
            XCTAssertTrue(try waitFor { try sim.messageCount(name) >= 1 }, name)
        }
        XCTAssertGreaterThanOrEqual(try sim.messageCount(), 8)

        // The gamestream, delivered to an ordinary client.
        do {
            let gs = try GameStreamConfig()
            try gs.set("videoMaximumFrameRate", 30)
            try gs.set("enableAudioChat", true)
            let crec = Recorder()
            let client = try Client()
            crec.attach(client)
            try client.connect(console: console, config: gs)
            XCTAssertEqual(code(try Client().connect(console: console)), .wrongState, "one stream per console")
            let ok = try waitFor(tick: pressLoop(client)) {
                crec.frames.count >= 30 && crec.audio.count >= 10 && !crec.rumble.isEmpty
            }
            XCTAssertTrue(ok)
            XCTAssertTrue(crec.frames.allSatisfy { $0.width == 320 && $0.height == 240 })
            XCTAssertEqual(crec.rumble.last?.rightTrigger, 222)
            let stats = try client.stop()
            XCTAssertGreaterThanOrEqual(stats.frames_delivered, 30)
            XCTAssertEqual(crec.states.last?.state, .closed)
            XCTAssertEqual(crec.states.last?.error, .ok)
        }
        XCTAssertTrue(try waitFor { try sim.stats().sg_gamestreams_stopped == 1 })
        XCTAssertNotNil(rec.find(.gameStreamState) { $0.gameStreamState == .started })
        XCTAssertGreaterThan(rec.find(.gameStreamConnected)?.tcpPort ?? 0, 0)

        try console.disconnect()
        let kinds = rec.events.map { $0.kind }
        XCTAssertEqual(kinds.last, .closed, "CLOSED before disconnect returned, last")
        XCTAssertEqual(kinds.filter { $0 == .closed }.count, 1)
        XCTAssertEqual(rec.events.last?.error, .ok)
        XCTAssertEqual(try console.state(), .closed)
        XCTAssertEqual(code(try console.unsnap()), .closed)
    }

    func testGameStreamConfigKeys() throws {
        let gs = try GameStreamConfig()
        try gs.set("videoMaximumWidth", 640)
        try gs.set("enableOpusAudio", true)
        XCTAssertEqual(try gs.get("videoMaximumWidth"), "640")
        XCTAssertEqual(try gs.get("enableOpusAudio"), "true")
        XCTAssertEqual(try gs.get("audioSyncCompressFactor"), "0.99")
        try gs.set("urcpMaximumRate", Int64(123_456_789_012))
        XCTAssertEqual(try gs.get("urcpMaximumRate"), "123456789012")
        XCTAssertThrowsError(try gs.set("noSuchKey", "1")) { e in
            XCTAssertEqual((e as? XnanoError)?.code, .invalidArgument)
            XCTAssertTrue("\(e)".contains("noSuchKey"), "\(e)")
        }
        XCTAssertEqual(code(try gs.set("videoMaximumWidth", "wide")), .invalidArgument)
        XCTAssertEqual(code(try gs.get("noSuchKey")), .invalidArgument)
        XCTAssertEqual(try gs.get("videoMaximumWidth"), "640", "unchanged after a refused set")
    }

    func testConsolePullMode() throws {
        let sim = try Simulator(config: cheapSim())
        let console = try Console()
        var cfg = ConsoleConfig()
        cfg.eventQueueCapacity = 64
        try console.connect(address: try sim.smartglassAddress(), config: cfg)
        var seen: [ConsoleEventType] = []
        let end = Date().addingTimeInterval(20)
        while Date() < end {
            guard let e = try console.nextEvent(timeoutMs: 200) else { continue }
            seen.append(e.kind)
            if e.kind == .consoleStatus { break }
        }
        XCTAssertEqual(seen.first, .connected)
        XCTAssertTrue(seen.contains(.consoleStatus))
        try console.disconnect()
        var rest: [ConsoleEventType] = []
        do {
            while true {
                guard let e = try console.nextEvent(timeoutMs: 1000) else { return XCTFail("timed out before CLOSED") }
                rest.append(e.kind)
            }
        } catch let e as XnanoError {
            XCTAssertEqual(e.code, .closed)
        }
        XCTAssertEqual(rest.last, .closed)
        XCTAssertEqual(try console.eventsDropped(), 0)
    }

    func testPowerOffThenPowerOn() throws {
        let sim = try Simulator(config: cheapSim())
        let info = try sim.consoleInfo()
        do {
            let console = try Console()
            let rec = ConsoleRecorder()
            rec.attach(console)
            try console.connect(info: info)
            try console.powerOff()
            XCTAssertTrue(waitFor { rec.find(.closed) != nil })
            let closed = rec.find(.closed)!
            XCTAssertEqual(closed.error, .closed)
            XCTAssertTrue(closed.message.contains("PowerOff"), closed.message)
        }
        XCTAssertFalse(try sim.smartglassPoweredOn())
        XCTAssertEqual(try SmartGlass.discover(address: info.address, timeoutMs: 300).count, 0)
        var quick = ConsoleConfig()
        quick.discoveryTimeoutMs = 300
        XCTAssertEqual(code(try Console().connect(info: info, config: quick)), .notFound)
        try SmartGlass.powerOn(liveId: info.liveId, address: info.address)
        XCTAssertTrue(try waitFor(timeout: 5) { try sim.smartglassPoweredOn() })
        XCTAssertGreaterThanOrEqual(try sim.stats().sg_power_on_requests, 1)
        XCTAssertEqual(try SmartGlass.discover(address: info.address).count, 1)
        let again = try Console()
        try again.connect(info: info)
        XCTAssertEqual(try again.state(), .connected)
    }

    func testCredentialsWhenAnonymousIsRefused() throws {
        var cfg = cheapSim()
        cfg.smartglassRequireAuth = true
        let sim = try Simulator(config: cfg)
        let info = try sim.consoleInfo()
        XCTAssertFalse(info.anonymousAllowed)
        XCTAssertThrowsError(try Console().connect(info: info)) { e in
            XCTAssertEqual((e as? XnanoError)?.code, .refused)
            XCTAssertTrue("\(e)".contains("anonymous"), "\(e)")
        }
        var auth = ConsoleConfig()
        auth.userHash = "1234567890"
        auth.authToken = "eyJ0ZXN0Ijp0cnVlfQ"
        let console = try Console()
        try console.connect(info: info, config: auth)
        XCTAssertEqual(try console.state(), .connected)
        XCTAssertEqual(try sim.stats().sg_connects_accepted, 1)
    }

    func testWrongStatesAndBadArguments() throws {
        let sim = try Simulator(config: cheapSim())
        let console = try Console()
        XCTAssertEqual(try console.state(), .idle)
        XCTAssertEqual(code(try console.launchTitle("x")), .wrongState)
        let client = try Client()
        XCTAssertEqual(code(try client.connect(console: console)), .wrongState)
        XCTAssertEqual(try client.state(), .idle)
        var quick = ConsoleConfig()
        quick.discoveryTimeoutMs = 300
        try withSilentAddress { addr in
            XCTAssertEqual(code(try console.connect(address: addr, config: quick)), .notFound)
        }
        XCTAssertEqual(try console.state(), .idle)
        var zero = ConsoleConfig()
        zero.waitTimeoutMs = 0
        XCTAssertEqual(code(try console.connect(address: try sim.smartglassAddress(), config: zero)), .invalidArgument)
        try console.connect(address: try sim.smartglassAddress())
        XCTAssertEqual(code(try console.connect(address: try sim.smartglassAddress())), .wrongState)
        XCTAssertEqual(code(try console.launchTitle("x", location: TitleLocation(rawValue: 9))), .invalidArgument)
        XCTAssertEqual(code(try console.mediaCommand(titleId: 1, MediaCommand(rawValue: 3))), .invalidArgument)
        XCTAssertEqual(code(try console.gamepad(GamepadState(leftTrigger: 2.0))), .invalidArgument)
        XCTAssertThrowsError(try console.sendText("no session")) { e in
            XCTAssertTrue("\(e)".contains("text"), "\(e)")
        }
        XCTAssertEqual(code(try console.nextEvent(timeoutMs: 0)), .wrongState)
        XCTAssertEqual(code(try SmartGlass.powerOn(liveId: " ")), .invalidArgument)
        var noSg = cheapSim()
        noSg.smartglass = false
        XCTAssertEqual(code(try Simulator(config: noSg).consoleInfo()), .wrongState)
    }
}
