import CXnano
import Foundation

/// The `AsyncStream`s of one client or console: every event is yielded to each stream made by
/// `stream(bufferingPolicy:)`, in the order the library delivers them, until `finish()` (the
/// session closed, was stopped, or the handle was freed); streams made after that end at once.
///
/// With callbacks the trampolines feed it. In pull mode (`event_queue_capacity > 0`) a pump
/// thread reads the library's queue while streams exist; `subscribe` and `enablePull` say when
/// the owner must start one, and `pumpShouldContinue` when it ends.
///
/// `@unchecked Sendable`: every mutable field is read and written under `lock`; continuations
/// are yielded to outside it (AsyncStream.Continuation is thread-safe).
final class EventHub<Element: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuations: [Int: AsyncStream<Element>.Continuation] = [:]
    private var nextId = 0
    private var finished = false
    private var pullMode = false
    private var pumpRunning = false

    /// True while at least one stream is open (so that a callback can skip copying its data).
    var hasSubscribers: Bool {
        lock.lock()
        defer { lock.unlock() }
        return !continuations.isEmpty
    }

    /// A new stream; `startPump` is true when the caller must start the pull-mode pump.
    func subscribe(bufferingPolicy: AsyncStream<Element>.Continuation.BufferingPolicy)
        -> (stream: AsyncStream<Element>, startPump: Bool) {
        lock.lock()
        let id = nextId
        nextId += 1
        lock.unlock()
        var continuation: AsyncStream<Element>.Continuation?
        let stream = AsyncStream<Element>(bufferingPolicy: bufferingPolicy) { c in
            c.onTermination = { [weak self] _ in self?.remove(id) }
            continuation = c
        }
        guard let c = continuation else { return (stream, false) }
        lock.lock()
        if finished {
            lock.unlock()
            c.finish()
            return (stream, false)
        }
        continuations[id] = c
        let start = pullMode && !pumpRunning
        if start { pumpRunning = true }
        lock.unlock()
        return (stream, start)
    }

    private func remove(_ id: Int) {
        lock.lock()
        continuations[id] = nil
        lock.unlock()
    }

    /// Pull mode is on (the session is connected and has a queue); true when the caller must
    /// start the pump now.
    func enablePull() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        pullMode = true
        let start = !finished && !continuations.isEmpty && !pumpRunning
        if start { pumpRunning = true }
        return start
    }

    /// Called by the pump before each read: false (and the pump counts as ended) once no
    /// stream is left or the hub finished.
    func pumpShouldContinue() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if finished || continuations.isEmpty {
            pumpRunning = false
            return false
        }
        return true
    }

    /// Hands `event` to every open stream.
    func yield(_ event: Element) {
        lock.lock()
        let all = continuations
        lock.unlock()
        for (id, c) in all {
            if case .terminated = c.yield(event) { remove(id) }
        }
    }

    /// Ends every stream (after their buffered events) and every later one.
    func finish() {
        lock.lock()
        finished = true
        let all = continuations.values
        continuations = [:]
        lock.unlock()
        for c in all { c.finish() }
    }
}
