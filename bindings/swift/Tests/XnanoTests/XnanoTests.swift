// End-to-end tests of the Swift binding against the simulated console (XnanoSim, over
// libxnano_sim), through libxnano's C ABI (run by scripts/test-swift.sh).
import CXnano
import Foundation
import XCTest
@testable import Xnano
import XnanoSim

/// Collects everything a client reports, thread-safely.
final class Recorder {
    private let lock = NSLock()
    private var _frames: [VideoFrame] = []
    private var _audio: [AudioPacket] = []
    private var _rumble: [Rumble] = []
    private var _states: [StateChange] = []

    func attach(_ c: Client) {
        c.onVideoFrame = { f in self.locked { self._frames.append(f) } }
        c.onAudioPacket = { a in self.locked { self._audio.append(a) } }
        c.onRumble = { r in self.locked { self._rumble.append(r) } }
        c.onStateChange = { s in self.locked { self._states.append(s) } }
    }

    private func locked<T>(_ f: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return f()
    }

    var frames: [VideoFrame] { locked { _frames } }
    var audio: [AudioPacket] { locked { _audio } }
    var rumble: [Rumble] { locked { _rumble } }
    var states: [StateChange] { locked { _states } }
}

/// Polls `cond` (calling `tick` each round) until true or `timeout` seconds passed.
func waitFor(timeout: TimeInterval = 20, tick: (() throws -> Void)? = nil, _ cond: () throws -> Bool) rethrows -> Bool {
    let end = Date().addingTimeInterval(timeout)
    while Date() < end {
        try tick?()
        if try cond() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try cond()
}

/// Synthetic 320x240 video and PCM audio: cheap to produce.
func cheapSim() -> SimConfig {
    var c = SimConfig()
    c.width = 320
    c.height = 240
    c.fps = 60
    c.keyframeInterval = 30
    c.videoSource = .synthetic
    c.audioSource = .pcm
    return c
}

/// A tick sending changing input (A toggling, triggers 11/222) once connected.
func pressLoop(_ c: Client) -> () throws -> Void {
    var n = 0
    return {
        n += 1
        let s = try c.state()
        if s == .connected || s == .streaming {
            try c.setControllerState(0, ControllerState(
                buttons: n % 2 == 1 ? .a : [], leftTrigger: 11, rightTrigger: 222, leftThumbX: -1234))
        }
    }
}

func repoRoot() -> URL {
    // Tests/XnanoTests/XnanoTests.swift -> bindings/swift -> repository
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

final class XnanoTests: XCTestCase {
    func testVersionMatchesHeaderAndCargo() throws {
        let cargo = try String(contentsOf: repoRoot().appendingPathComponent("Cargo.toml"), encoding: .utf8)
        let line = cargo.split(separator: "\n").first { $0.hasPrefix("version") }!
        let crate = line.split(separator: "\"")[1]
        XCTAssertEqual(Library.version, String(crate))
        XCTAssertEqual(Library.headerVersion, String(crate))
        let (ma, mi, pa) = Library.headerVersionParts
        XCTAssertEqual("\(ma).\(mi).\(pa)", String(crate))
        XCTAssertEqual(ResultCode.wrongState.name, "XNANO_ERR_WRONG_STATE")
    }

    func testConfigDefaultsComeFromTheLibrary() {
        var c = ClientConfig()
        XCTAssertEqual(c.connectTimeoutMs, 5000)
        XCTAssertEqual(c.eventQueueCapacity, 0)
        XCTAssertTrue(c.waitForFirstKeyframe)
        XCTAssertNil(c.videoWidth)
        c.videoWidth = 640
        XCTAssertEqual(c.videoWidth, 640)
        c.videoCodec = .h264
        XCTAssertEqual(c.videoCodec, .h264)
        let s = SimConfig()
        XCTAssertEqual(s.width, 1280)
        XCTAssertEqual(s.height, 720)
        XCTAssertEqual(s.fps, 60)
        XCTAssertEqual(s.videoSource, .testPattern)
        XCTAssertEqual(s.audioSource, .opus)
    }

    func testStreamWithClosures() throws {
        let sim = try Simulator(config: cheapSim())
        let rec = Recorder()
        let c = try Client()
        rec.attach(c)
        try c.connect(to: sim)
        XCTAssertTrue([.connecting, .connected, .streaming].contains(try c.state()))
        let ok = try waitFor(tick: pressLoop(c)) {
            let acked = try c.stats().input_frames_acked
            return rec.frames.count >= 30 && rec.audio.count >= 10 && !rec.rumble.isEmpty && acked >= 1
        }
        let statsNow = try c.stats()
        XCTAssertTrue(ok, "\(statsNow)")
        XCTAssertEqual(try c.state(), .streaming)
        // Connecting again is refused and leaves the running session alone.
        expectCode(.wrongState, try c.connect(to: sim))
        let before = rec.frames.count
        XCTAssertTrue(waitFor { rec.frames.count >= before + 10 }, "still streaming")
        try c.requestKeyframe()
        try c.changeVideoQuality([1, 2, 3, 4, 5, 6])
        let stats = try c.stop()
        XCTAssertEqual(try c.state(), .closed)
        try c.stop() // twice: fine

        let frames = rec.frames
        let f = frames[0]
        XCTAssertEqual(f.width, 320)
        XCTAssertEqual(f.height, 240)
        XCTAssertEqual(f.codec, .h264)
        XCTAssertTrue(f.keyframe)
        XCTAssertFalse(f.data.isEmpty)
        let ids = frames.map { $0.frameId }
        XCTAssertEqual(ids, Array(ids[0]..<(ids[0] + UInt32(ids.count))), "frames in order, none lost")
        let a = rec.audio[0]
        XCTAssertEqual(a.codec, .pcm)
        XCTAssertEqual(a.channels, 2)
        XCTAssertEqual(a.sampleRate, 48000)
        XCTAssertEqual(a.data.count, 48000 / 50 * 2 * 2, "20 ms of s16 stereo")
        let r = rec.rumble.last!
        XCTAssertEqual(r.controller, 0)
        XCTAssertEqual(r.leftTrigger, 11)
        XCTAssertEqual(r.rightTrigger, 222)
        XCTAssertEqual(stats.frames_delivered, UInt64(frames.count))
        XCTAssertGreaterThanOrEqual(stats.keyframe_requests, 1)
        XCTAssertGreaterThanOrEqual(stats.input_frames_sent, 1)
        XCTAssertEqual(rec.states.map { $0.state }, [.connected, .streaming, .closed])
        XCTAssertEqual(rec.states.last?.error, .ok)
        let ss = try sim.stats()
        XCTAssertGreaterThanOrEqual(ss.input_frames_received, 1)
        XCTAssertGreaterThanOrEqual(ss.rumble_sent, 1)
        XCTAssertGreaterThanOrEqual(ss.video_frames_sent, UInt64(frames.count))
    }

    func testRealH264AndOpus() throws {
        var cfg = SimConfig()
        cfg.width = 320
        cfg.height = 240
        cfg.fps = 30
        cfg.bitrateBps = 500_000
        cfg.keyframeInterval = 30
        let sim = try Simulator(config: cfg)
        let rec = Recorder()
        let c = try Client()
        rec.attach(c)
        try c.connect(to: sim)
        XCTAssertTrue(waitFor { rec.frames.count >= 10 && rec.audio.count >= 10 })
        try c.stop()
        let f = rec.frames[0]
        XCTAssertTrue(f.keyframe)
        XCTAssertEqual(Array(f.data.prefix(4)), [0, 0, 0, 1], "Annex B start code")
        var nalTypes = Set<UInt8>()
        for i in 0..<(f.data.count - 3) where f.data[i] == 0 && f.data[i + 1] == 0 && f.data[i + 2] == 1 {
            nalTypes.insert(f.data[i + 3] & 0x1F)
        }
        XCTAssertTrue(nalTypes.isSuperset(of: [7, 8, 5]), "SPS, PPS and IDR: \(nalTypes)")
        let a = rec.audio[0]
        XCTAssertEqual(a.codec, .opus)
        XCTAssertEqual(a.channels, 2)
        XCTAssertEqual(a.sampleRate, 48000)
        XCTAssertTrue(a.data.count > 0 && a.data.count < 1500)
    }

    func testPullMode() throws {
        let sim = try Simulator(config: cheapSim())
        var cfg = ClientConfig()
        cfg.eventQueueCapacity = 512
        let c = try Client(config: cfg)
        var called = false
        c.onVideoFrame = { _ in called = true }
        try c.connect(to: sim)
        var video = 0, audio = 0, rumble = 0
        var states: [StateChange] = []
        let tick = pressLoop(c)
        let end = Date().addingTimeInterval(20)
        while Date() < end && !(video >= 20 && audio >= 5 && rumble >= 1) {
            try tick()
            switch try c.nextEvent(timeoutMs: 50) {
            case .videoFrame(let f)?:
                XCTAssertEqual(f.width, 320)
                XCTAssertFalse(f.data.isEmpty)
                video += 1
            case .audioPacket?: audio += 1
            case .rumble(let r)?:
                XCTAssertEqual(r.rightTrigger, 222)
                rumble += 1
            case .stateChange(let s)?: states.append(s)
            case nil: break
            }
        }
        XCTAssertTrue(video >= 20 && audio >= 5 && rumble >= 1, "video \(video) audio \(audio) rumble \(rumble)")
        XCTAssertEqual(states.first?.state, .connected)
        XCTAssertFalse(called, "pull mode calls no closure")
        try c.stop()
        var rest: [Event] = []
        do {
            while true {
                guard let e = try c.nextEvent(timeoutMs: 1000) else {
                    XCTFail("timed out before the session reported closed")
                    break
                }
                rest.append(e)
            }
        } catch let e as XnanoError {
            XCTAssertEqual(e.code, .closed)
        }
        guard case .stateChange(let last)? = rest.last else { return XCTFail("no final state event") }
        XCTAssertEqual(last.state, .closed)
        XCTAssertEqual(last.error, .ok)
    }

    func expectCode<T>(_ code: ResultCode, _ body: @autoclosure () throws -> T,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { e in
            XCTAssertEqual((e as? XnanoError)?.code, code, "\(e)", file: file, line: line)
        }
    }

    func testErrorsBecomeSwiftErrors() throws {
        // Nothing listens on this port: connection refused.
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
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
        close(fd)
        let port = UInt16(bigEndian: addr.sin_port)

        let c = try Client()
        XCTAssertThrowsError(try c.connectNano(host: "127.0.0.1", tcpPort: port, udpPort: port)) { e in
            let x = e as? XnanoError
            XCTAssertEqual(x?.code, .io)
            XCTAssertFalse(x?.message.isEmpty ?? true)
            XCTAssertTrue("\(e)".hasPrefix("XNANO_ERR_IO: "), "\(e)")
        }
        XCTAssertEqual(try c.state(), .idle, "a failed connect leaves the client idle")
        expectCode(.wrongState, try c.setControllerState(0, ControllerState(buttons: .a)))
        expectCode(.wrongState, try c.requestKeyframe())
        expectCode(.wrongState, try c.nextEvent(timeoutMs: 0))
        expectCode(.invalidArgument, try c.setControllerState(9, ControllerState()))
        expectCode(.invalidArgument, try c.changeVideoQuality([1, 2, 3]))
        expectCode(.invalidArgument, try c.connectNano(host: "bad\0host", tcpPort: 1, udpPort: 1))
        XCTAssertEqual(try c.stats().frames_delivered, 0)
        try c.stop() // never connected: fine

        var bad = ClientConfig()
        bad.connectTimeoutMs = 0
        XCTAssertThrowsError(try Client(config: bad)) { e in
            XCTAssertEqual((e as? XnanoError)?.code, .invalidArgument)
            XCTAssertTrue((e as? XnanoError)?.message.contains("connect_timeout_ms") ?? false, "\(e)")
        }
        var badSim = SimConfig()
        badSim.fps = 0
        expectCode(.invalidArgument, try Simulator(config: badSim))
        // A failed xnano_sim_* call's message is libxnano_sim's (xnano_sim_last_error), which
        // libxnano's xnano_last_error knows nothing of.
        XCTAssertThrowsError(try Simulator(config: badSim)) { e in
            let message = (e as? XnanoError)?.message ?? ""
            XCTAssertTrue(message.contains("fps 0"), "from xnano_sim_last_error: \(e)")
            XCTAssertFalse(String(cString: xnano_last_error()).contains("fps"))
        }
    }

    func testStopFromOwnClosureIsRefused() throws {
        let sim = try Simulator(config: cheapSim())
        let c = try Client()
        let done = DispatchSemaphore(value: 0)
        var result: ResultCode?
        var once = false
        c.onVideoFrame = { [unowned c] _ in
            if once { return }
            once = true
            do {
                try c.stop()
                result = .ok
            } catch let e as XnanoError {
                result = e.code
            } catch {}
            // Other calls from a closure are fine.
            try? c.requestKeyframe()
            _ = try? c.stats()
            done.signal()
        }
        try c.connect(to: sim)
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success, "no video frame")
        XCTAssertEqual(result, .fromCallback)
        XCTAssertEqual(try c.state(), .streaming, "the refused stop did nothing")
        try c.stop()
        XCTAssertEqual(try c.state(), .closed)
    }

    func testConsoleClosingTheSessionIsReported() throws {
        let sim = try Simulator(config: cheapSim())
        let c = try Client()
        let rec = Recorder()
        rec.attach(c)
        try c.connect(to: sim)
        XCTAssertTrue(waitFor { !rec.frames.isEmpty })
        try sim.closeClient()
        XCTAssertTrue(try waitFor { try c.state() == .closed })
        XCTAssertTrue(waitFor { rec.states.last?.state == .closed })
        XCTAssertNotEqual(rec.states.last?.error, .ok)
        XCTAssertEqual(rec.states.filter { $0.state == .closed }.count, 1, "closed comes once")
        XCTAssertThrowsError(try c.requestKeyframe())
    }

    func testChatAudioReachesTheConsole() throws {
        let sim = try Simulator(config: cheapSim())
        let c = try Client()
        let rec = Recorder()
        rec.attach(c)
        try c.connect(to: sim)
        XCTAssertTrue(waitFor { rec.frames.count >= 5 })
        let ok = try waitFor(tick: { try? c.sendChatAudio([1, 2, 3, 4, 5, 6, 7, 8]) }) {
            try sim.stats().chat_audio_received >= 1
        }
        XCTAssertTrue(ok)
        XCTAssertGreaterThanOrEqual(try c.stats().chat_audio_sent, 1)
    }

    func testDeinitFreesTheSession() throws {
        let sim = try Simulator(config: cheapSim())
        weak var weakClient: Client?
        var frames = 0
        let lock = NSLock()
        do {
            let c = try Client()
            weakClient = c
            c.onVideoFrame = { _ in lock.lock(); frames += 1; lock.unlock() }
            try c.connect(to: sim)
            XCTAssertTrue(waitFor { lock.lock(); defer { lock.unlock() }; return frames >= 5 })
            XCTAssertTrue(try sim.stats().client_connected)
        }
        XCTAssertNil(weakClient, "the client is gone at the end of its scope")
        XCTAssertTrue(try waitFor { try !sim.stats().client_connected }, "deinit stopped and freed the session")
        lock.lock()
        let after = frames
        lock.unlock()
        Thread.sleep(forTimeInterval: 0.2)
        lock.lock()
        XCTAssertEqual(frames, after, "no closure runs after deinit")
        lock.unlock()
    }

    func testReleasingTheLastReferenceInsideAClosure() throws {
        // deinit inside the client's own callback cannot free there (it would deadlock);
        // it frees from another thread instead.
        let sim = try Simulator(config: cheapSim())
        final class Holder { var client: Client? }
        let holder = Holder()
        let released = DispatchSemaphore(value: 0)
        holder.client = try Client()
        holder.client!.onVideoFrame = { _ in
            if holder.client != nil {
                holder.client = nil // last reference: deinit runs on this library thread
                released.signal()
            }
        }
        try holder.client!.connect(to: sim)
        XCTAssertEqual(released.wait(timeout: .now() + 20), .success)
        XCTAssertTrue(try waitFor { try !sim.stats().client_connected }, "the session was freed anyway")
    }

    func testLogHandlerReceivesMessages() throws {
        let lock = NSLock()
        var messages: [String] = []
        try Library.setLogHandler(maxLevel: .debug) { level, target, text in
            lock.lock()
            messages.append("\(level) \(target): \(text)")
            lock.unlock()
        }
        do {
            let sim = try Simulator(config: cheapSim())
            let c = try Client()
            let rec = Recorder()
            rec.attach(c)
            try c.connect(to: sim)
            XCTAssertTrue(waitFor { !rec.frames.isEmpty })
            try c.stop()
        }
        try Library.setLogHandler(nil)
        lock.lock()
        let n = messages.count
        XCTAssertGreaterThan(n, 0)
        XCTAssertTrue(messages.contains { $0.contains("xnano") }, "\(messages.prefix(5))")
        lock.unlock()
        _ = try Simulator(config: cheapSim())
        lock.lock()
        XCTAssertEqual(messages.count, n, "no messages after the handler was removed")
        lock.unlock()
    }
}
