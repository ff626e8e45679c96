import CXnano
import Foundation

// ABI 1 of libxnano (include/xnano.h, XNANO_ABI_VERSION): fixed-width result and enum types,
// a leading `struct_size` on every caller-allocated struct, and `xnano_abi_version()`, which
// this binding checks before its first call into the library.

/// The C enums are `uint32_t` in the ABI. Swift imports each enum's constants as a
/// RawRepresentable struct (`XNANO_OK.rawValue`) and the functions as returning `UInt32`;
/// `u32` turns either into the `UInt32` the ABI passes, so the binding never names the
/// ambiguous imported type (`xnano_result` is both the enum's struct and a typealias of UInt32).
/// `package`: XnanoSim, the simulator's module of this package, uses it too.
@inline(__always)
package func u32(_ v: UInt32) -> UInt32 { v }

@inline(__always)
package func u32<T: RawRepresentable>(_ v: T) -> UInt32 where T.RawValue: BinaryInteger {
    UInt32(truncatingIfNeeded: v.rawValue)
}

/// A caller-allocated C struct with a leading `struct_size` (ABI 1, rule 3): the binding sets
/// it to C's `sizeof` before every call that takes the struct, so that the library reads and
/// writes only the fields this binding knows of. For an imported C struct `sizeof` is
/// `MemoryLayout<Self>.stride`: `.size` leaves out the trailing padding (62 bytes for the
/// 64 of `xnano_client_config`). `package`: XnanoSim's structs conform too.
package protocol SizedCStruct {
    init()
    var struct_size: UInt32 { get set }
}

extension SizedCStruct {
    /// A zeroed struct with `struct_size` set.
    package static func sized() -> Self {
        var s = Self()
        s.struct_size = UInt32(MemoryLayout<Self>.stride)
        return s
    }

    /// This struct with `struct_size` set (again: a call that writes may have lowered it).
    package var sized: Self {
        var s = self
        s.struct_size = UInt32(MemoryLayout<Self>.stride)
        return s
    }
}

extension xnano_client_config: SizedCStruct {}
extension xnano_console_config: SizedCStruct {}
extension xnano_client_stats: SizedCStruct {}
extension xnano_console_info: SizedCStruct {}
extension xnano_controller_state: SizedCStruct {}
extension xnano_gamepad: SizedCStruct {}

/// The path of the libxnano this process loaded (the file mapped at the address of one of its
/// functions), or nil when that cannot be found out.
func loadedLibraryPath() -> String? {
    let f: @convention(c) () -> UnsafePointer<CChar>? = xnano_version
    return loadedLibraryPath(containing: UInt(bitPattern: unsafeBitCast(f, to: UnsafeRawPointer.self)))
}

/// The path of the shared library mapped at `address` (e.g. of one of its functions), or nil
/// when that cannot be found out. `package`: XnanoSim names libxnano_sim with it.
package func loadedLibraryPath(containing address: UInt) -> String? {
    #if canImport(Darwin)
    var info = Dl_info()
    guard dladdr(UnsafeRawPointer(bitPattern: address), &info) != 0, let name = info.dli_fname else { return nil }
    return String(cString: name)
    #else
    // Glibc's dladdr needs _GNU_SOURCE, which Swift's Glibc module does not define: read the
    // process's mappings instead ("start-end perms offset dev inode path"), with stdio (procfs
    // files have size 0, which Foundation's whole-file readers take literally).
    guard let maps = fopen("/proc/self/maps", "r") else { return nil }
    defer { fclose(maps) }
    var line = [CChar](repeating: 0, count: 4096 + 256)
    while fgets(&line, Int32(line.count), maps) != nil {
        let text = String(cString: line)
        let fields = text.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
        guard fields.count == 6 else { continue }
        let range = fields[0].split(separator: "-")
        guard range.count == 2, let start = UInt(range[0], radix: 16), let end = UInt(range[1], radix: 16),
              start <= address, address < end else { continue }
        let path = fields[5].trimmingCharacters(in: .whitespacesAndNewlines)
        return path.isEmpty ? nil : path
    }
    return nil
    #endif
}

/// Whether the process's libraries export `symbol` (the loaded libxnano has no
/// `xnano_abi_version` when it is a build from before ABI 1); true when that cannot be found
/// out. `package`: XnanoSim asks for `xnano_sim_abi_version`.
package func processExports(_ symbol: String) -> Bool {
    guard let me = dlopen(nil, RTLD_LAZY) else { return true }
    defer { dlclose(me) }
    return dlsym(me, symbol) != nil
}

/// Throws `XnanoError.abiMismatch` unless `found` is `expected`. `found` 0 stands for a library
/// without `xnano_abi_version` at all.
func checkAbi(found: UInt32, expected: UInt32 = Library.abiVersion) throws {
    guard found == expected else { throw XnanoError.abiMismatch(found: found, expected: expected) }
}

/// The result of the one ABI check of this process (run on first use, then remembered).
private let abiCheckResult: Result<Void, XnanoError> = {
    guard processExports("xnano_abi_version") else { return .failure(.abiMismatch(found: 0, expected: Library.abiVersion)) }
    let found = xnano_abi_version()
    return found == Library.abiVersion ? .success(()) : .failure(.abiMismatch(found: found, expected: Library.abiVersion))
}()

/// Throws the ABI mismatch, if any; every entry point of the binding calls it before it calls
/// anything else in libxnano.
@inline(__always)
func requireAbi() throws {
    try abiCheckResult.get()
}

/// What the ABI check found: the library's `xnano_abi_version()`, 0 without that function.
var abiFound: UInt32 {
    switch abiCheckResult {
    case .success: return Library.abiVersion
    case .failure(.abiMismatch(let found, _)): return found
    case .failure: return 0
    }
}

/// True when the ABI check passed (for the non-throwing config initialisers).
var abiIsCompatible: Bool {
    if case .success = abiCheckResult { return true }
    return false
}
