import CXnano
import CXnanoSim
import Foundation
import Xnano

// libxnano_sim's ABI (sim/include/xnano_sim.h, XNANO_SIM_ABI_VERSION): the same rules as
// libxnano's ABI 1 (uint32_t results and enums, a leading struct_size), its own version number
// (`xnano_sim_abi_version()`, checked before the first call into the library) and its own
// thread-local error message (`xnano_sim_last_error()`; libxnano's `xnano_last_error()` knows
// nothing of the simulator's calls).

extension xnano_sim_config: SizedCStruct {}
extension xnano_sim_stats: SizedCStruct {}

/// Process-wide facts about libxnano_sim, the simulated console's library.
public enum SimLibrary {
    /// The libxnano_sim ABI this module is written for. It must equal `xnano_sim_abi_version()`
    /// of the loaded library (checked before the first call into it: `checkAbi()`) and
    /// `headerAbiVersion`.
    public static let abiVersion: UInt32 = 1

    /// `XNANO_SIM_ABI_VERSION` of the header this module was compiled against.
    public static let headerAbiVersion = UInt32(XNANO_SIM_ABI_VERSION)

    /// The ABI of the loaded libxnano_sim (`xnano_sim_abi_version`), 0 without that function.
    public static var loadedAbiVersion: UInt32 {
        switch simAbiCheckResult {
        case .success: return abiVersion
        case .failure(.abiMismatch(let found, _)): return found
        }
    }

    /// Where the loaded libxnano_sim is (from the loader), or nil.
    public static var libraryPath: String? { loadedSimLibraryPath() }

    /// Throws `XnanoSimError.abiMismatch(found:expected:)` when the loaded libxnano_sim's ABI is
    /// not `abiVersion`. `Simulator` calls it before its first call into the library (the check
    /// runs once per process); `SimConfig()` calls nothing when it fails.
    public static func checkAbi() throws { try simAbiCheckResult.get() }

    /// True when the check passed (for the non-throwing `SimConfig()`).
    static var abiIsCompatible: Bool {
        if case .success = simAbiCheckResult { return true }
        return false
    }
}

/// What XnanoSim throws besides `XnanoError` (which its failed calls throw, with
/// `xnano_sim_last_error()` as the message).
public enum XnanoSimError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The loaded libxnano_sim speaks ABI `found` (`xnano_sim_abi_version()`; 0: the library has
    /// no such function) and this module needs `expected` (`SimLibrary.abiVersion`). Nothing
    /// else was called in libxnano_sim.
    case abiMismatch(found: UInt32, expected: UInt32)

    /// The mismatch explained: the file loaded, the version found, the version needed.
    public var message: String {
        switch self {
        case .abiMismatch(let found, let expected):
            let path = loadedSimLibraryPath() ?? "libxnano_sim"
            let what = found == 0 ? "has no xnano_sim_abi_version" : "has ABI version \(found)"
            return "\(path) \(what), but the XnanoSim Swift module needs libxnano_sim ABI version \(expected): "
                + "use a libxnano_sim and a binding of the same release"
        }
    }

    public var description: String { "ABI mismatch: \(message)" }
}

/// The path of the loaded libxnano_sim: the file that maps `xnano_sim_last_error` (not
/// `xnano_sim_abi_version`, which a test replaces with a preloaded one).
private func loadedSimLibraryPath() -> String? {
    let f: @convention(c) () -> UnsafePointer<CChar>? = xnano_sim_last_error
    return loadedLibraryPath(containing: UInt(bitPattern: unsafeBitCast(f, to: UnsafeRawPointer.self)))
}

/// The result of the one libxnano_sim ABI check of this process (run on first use).
private let simAbiCheckResult: Result<Void, XnanoSimError> = {
    let expected = SimLibrary.abiVersion
    guard processExports("xnano_sim_abi_version") else { return .failure(.abiMismatch(found: 0, expected: expected)) }
    let found = xnano_sim_abi_version()
    return found == expected ? .success(()) : .failure(.abiMismatch(found: found, expected: expected))
}()

/// Throws `XnanoError` for any result but XNANO_OK, with libxnano_sim's last error message.
@inline(__always)
func checkSim(_ r: UInt32) throws {
    if r != u32(XNANO_OK) {
        throw simError(r)
    }
}

/// The error for result `r` of an `xnano_sim_*` call, with the thread's `xnano_sim_last_error()`.
func simError(_ r: UInt32) -> XnanoError {
    XnanoError(code: ResultCode(r), message: String(cString: xnano_sim_last_error()))
}
