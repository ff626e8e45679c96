import CXnano
import Foundation

/// Which thread is inside one handle's callback right now (callbacks of one handle never
/// overlap, so one slot is enough): lets `stop()` / `disconnect()` refuse with `.fromCallback`
/// before taking their lock, which the thread waiting for that callback holds.
///
/// `@unchecked Sendable`: `thread` is only touched under `lock`.
final class CallbackThread: @unchecked Sendable {
    private let lock = NSLock()
    private var thread: pthread_t?

    /// Runs `body` marked as this handle's callback.
    @inline(__always)
    func run(_ body: () -> Void) {
        lock.lock()
        thread = pthread_self()
        lock.unlock()
        defer {
            lock.lock()
            thread = nil
            lock.unlock()
        }
        body()
    }

    /// True on the thread that runs one of this handle's callbacks.
    var isCurrent: Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let t = thread else { return false }
        return pthread_equal(t, pthread_self()) != 0
    }
}
