import CXnano
import Foundation

/// Process-wide functions of libxnano: version and logging.
public enum Library {
    /// The loaded library's version (`xnano_version`).
    public static var version: String { String(cString: xnano_version()) }

    /// The header version this binding was compiled against (`XNANO_VERSION_*`).
    public static let headerVersion = XNANO_VERSION_STRING
    public static let headerVersionParts = (Int(XNANO_VERSION_MAJOR), Int(XNANO_VERSION_MINOR), Int(XNANO_VERSION_PATCH))

    /// Receives (level, target module, text); runs on whatever thread logs and must not call
    /// into xnano.
    public typealias LogHandler = (LogLevel, String, String) -> Void

    private final class LogBox {
        let handler: LogHandler
        init(_ h: @escaping LogHandler) { handler = h }
    }

    private static let lock = NSLock()
    private static var current: Unmanaged<LogBox>?

    /// Routes libxnano's log messages up to `maxLevel` to `handler`; nil removes it.
    public static func setLogHandler(maxLevel: LogLevel = .info, _ handler: LogHandler?) throws {
        lock.lock()
        defer { lock.unlock() }
        let box = handler.map { Unmanaged.passRetained(LogBox($0)) }
        let r: xnano_result
        if let box = box {
            r = xnano_set_log_callback({ userData, level, target, message in
                guard let userData = userData else { return }
                let b = Unmanaged<LogBox>.fromOpaque(userData).takeUnretainedValue()
                b.handler(LogLevel(level), target.map { String(cString: $0) } ?? "",
                          message.map { String(cString: $0) } ?? "")
            }, box.toOpaque(), maxLevel.c.rawValue)
        } else {
            r = xnano_set_log_callback(nil, nil, XNANO_LOG_OFF.rawValue)
        }
        do {
            try check(r)
        } catch {
            box?.release()
            throw error
        }
        // The previous callback is not running and will not run again: release its box.
        current?.release()
        current = box
    }
}
