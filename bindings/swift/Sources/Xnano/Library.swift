import CXnano
import Foundation

/// Process-wide functions of libxnano: versions, the ABI check and logging.
public enum Library {
    /// The loaded library's version (`xnano_version`; callable whatever its ABI).
    public static var version: String { String(cString: xnano_version()) }

    /// The C ABI this binding is written for. It must equal `xnano_abi_version()` of the loaded
    /// library (checked before the first call into it: `checkAbi()`), and `headerAbiVersion`.
    public static let abiVersion: UInt32 = 1

    /// `XNANO_ABI_VERSION` of the header this binding was compiled against.
    public static let headerAbiVersion = UInt32(XNANO_ABI_VERSION)

    /// The ABI of the loaded library (`xnano_abi_version`), 0 for a library from before ABI 1.
    public static var loadedAbiVersion: UInt32 { abiFound }

    /// Where the loaded libxnano is (from the loader), or nil.
    public static var libraryPath: String? { loadedLibraryPath() }

    /// Throws `XnanoError.abiMismatch(found:expected:)` when the loaded library's ABI is not
    /// `abiVersion`. Every type of the binding calls it before its first call into libxnano
    /// (the check runs once per process); call it yourself to fail early.
    public static func checkAbi() throws { try requireAbi() }

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

    /// The installed handler's box. `@unchecked Sendable`: `current` is only touched under
    /// `lock` (held across `xnano_set_log_callback`, so installs do not interleave).
    private final class Installed: @unchecked Sendable {
        let lock = NSLock()
        var current: Unmanaged<LogBox>?
    }

    private static let installed = Installed()

    /// Routes libxnano's log messages up to `maxLevel` to `handler`; nil removes it.
    public static func setLogHandler(maxLevel: LogLevel = .info, _ handler: LogHandler?) throws {
        try requireAbi()
        installed.lock.lock()
        defer { installed.lock.unlock() }
        let box = handler.map { Unmanaged.passRetained(LogBox($0)) }
        let r: UInt32
        if let box = box {
            r = xnano_set_log_callback({ userData, level, target, message in
                guard let userData = userData else { return }
                let b = Unmanaged<LogBox>.fromOpaque(userData).takeUnretainedValue()
                b.handler(LogLevel(u32(level)), target.map { String(cString: $0) } ?? "",
                          message.map { String(cString: $0) } ?? "")
            }, box.toOpaque(), maxLevel.c)
        } else {
            r = xnano_set_log_callback(nil, nil, u32(XNANO_LOG_OFF))
        }
        do {
            try check(r)
        } catch {
            box?.release()
            throw error
        }
        // The previous callback is not running and will not run again: release its box.
        installed.current?.release()
        installed.current = box
    }
}
