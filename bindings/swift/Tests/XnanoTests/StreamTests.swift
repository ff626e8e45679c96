// `Client.events` / `Console.events`: AsyncStreams of the events, read with `for await`,
// against the simulated console.
import Foundation
import XCTest
@testable import Xnano
import XnanoSim

/// Runs `end` (a stop or disconnect) after `seconds` unless cancelled: a stream that never gets
/// what the test waits for still ends.
func watchdog(seconds: UInt64 = 20, _ end: @escaping @Sendable () -> Void) -> Task<Void, Never> {
    Task.detached {
        try? await Task.sleep(nanoseconds: seconds * 1_000_000_000)
        if !Task.isCancelled { end() }
    }
}

func watchdog(_ client: Client) -> Task<Void, Never> {
    watchdog { _ = try? client.stop() }
}

func watchdog(_ console: Console) -> Task<Void, Never> {
    watchdog { try? console.disconnect() }
}

/// A counter for closures on library threads (NSLock is not for async contexts).
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add() { lock.lock(); n += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

final class StreamTests: XCTestCase {
    func testVideoFramesWithForAwait() async throws {
        let sim = try Simulator(config: cheapSim())
        let c = try Client()
        let closureFrames = Counter()
        c.onVideoFrame = { _ in closureFrames.add() }
        let stream = c.events
        let second = c.events
        try c.connect(to: sim)
        let dog = watchdog(c)
        var frames: [VideoFrame] = []
        var states: [StateChange] = []
        var audio = 0
        for await event in stream {
            switch event {
            case .videoFrame(let f):
                frames.append(f)
                if frames.count == 30 { try c.stop() }
            case .audioPacket: audio += 1
            case .rumble: break
            case .stateChange(let s): states.append(s)
            }
        }
        dog.cancel()
        XCTAssertGreaterThanOrEqual(frames.count, 30, "the stream ended early")
        XCTAssertEqual(frames[0].width, 320)
        XCTAssertTrue(frames[0].keyframe)
        XCTAssertFalse(frames[0].data.isEmpty)
        let ids = frames.map { $0.frameId }
        XCTAssertEqual(ids, Array(ids[0]..<(ids[0] + UInt32(ids.count))), "in order, none lost")
        XCTAssertGreaterThan(audio, 0)
        XCTAssertEqual(states.map { $0.state }, [.connected, .streaming, .closed], "ends after CLOSED")
        XCTAssertEqual(states.last?.error, .ok)
        XCTAssertEqual(closureFrames.value, frames.count, "the closure ran beside the stream, frame for frame")

        // A second stream got the same events; one made after the end ends at once.
        var secondIds: [UInt32] = []
        for await case .videoFrame(let f) in second { secondIds.append(f.frameId) }
        XCTAssertEqual(secondIds, ids)
        var late = 0
        for await _ in c.events { late += 1 }
        XCTAssertEqual(late, 0)
    }

    func testPullModeStream() async throws {
        let sim = try Simulator(config: cheapSim())
        var cfg = ClientConfig()
        cfg.eventQueueCapacity = 512
        let c = try Client(config: cfg)
        let stream = c.events(bufferingPolicy: .unbounded)
        try c.connect(to: sim)
        let dog = watchdog(c)
        var video = 0
        var states: [StateChange] = []
        for await event in stream {
            switch event {
            case .videoFrame(let f):
                XCTAssertEqual(f.height, 240)
                video += 1
                if video == 20 { try c.stop() }
            case .stateChange(let s): states.append(s)
            default: break
            }
        }
        dog.cancel()
        XCTAssertGreaterThanOrEqual(video, 20)
        XCTAssertEqual(states.first?.state, .connected)
        XCTAssertEqual(states.last?.state, .closed, "the queue's final CLOSED, then the end")
        XCTAssertEqual(states.last?.error, .ok)
    }

    func testStreamEndsWhenTheClientGoesAway() async throws {
        let sim = try Simulator(config: cheapSim())
        let stream: AsyncStream<ClientEvent>
        weak var weakClient: Client?
        do {
            let c = try Client()
            weakClient = c
            stream = c.events
            try c.connect(to: sim)
        }
        XCTAssertNil(weakClient, "the stream does not keep the client")
        var n = 0
        for await _ in stream { n += 1 }
        XCTAssertTrue(try waitFor { try !sim.stats().client_connected })
        _ = n // whatever arrived before the free
    }

    func testConsoleEventsWithForAwait() async throws {
        let sim = try Simulator(config: cheapSim())
        let console = try Console()
        let stream = console.events
        try console.connect(address: try sim.smartglassAddress())
        let dog = watchdog(console)
        var kinds: [ConsoleEventType] = []
        for await e in stream {
            kinds.append(e.kind)
            if e.kind == .consoleStatus { try console.disconnect() }
        }
        dog.cancel()
        XCTAssertEqual(kinds.first, .connected)
        XCTAssertTrue(kinds.contains(.consoleStatus))
        XCTAssertEqual(kinds.last, .closed)
        XCTAssertEqual(kinds.filter { $0 == .closed }.count, 1)
    }

    func testConsolePullModeStream() async throws {
        let sim = try Simulator(config: cheapSim())
        let console = try Console()
        let stream = console.events
        var cfg = ConsoleConfig()
        cfg.eventQueueCapacity = 64
        try console.connect(address: try sim.smartglassAddress(), config: cfg)
        let dog = watchdog(console)
        var kinds: [ConsoleEventType] = []
        for await e in stream {
            kinds.append(e.kind)
            if e.kind == .consoleStatus { try console.disconnect() }
        }
        dog.cancel()
        XCTAssertEqual(kinds.first, .connected)
        XCTAssertEqual(kinds.last, .closed)
    }
}
