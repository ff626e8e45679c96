import CXnano

/// Result codes of the C API (`xnano_result`).
public enum ResultCode: Equatable, Sendable, CustomStringConvertible {
    /// Success.
    case ok
    /// A required pointer was NULL.
    case null
    /// An argument is out of range or malformed.
    case invalidArgument
    /// The call is not allowed in the current state.
    case wrongState
    /// Stopping a client, or disconnecting a console, from inside one of its own callbacks.
    case fromCallback
    /// A socket or operating-system error.
    case io
    /// A timeout passed.
    case timeout
    /// The console sent something that cannot be used.
    case `protocol`
    /// The session is closed and no more events are queued.
    case closed
    /// A caller-provided buffer is too small.
    case bufferTooSmall
    /// Not available in this build.
    case unsupported
    /// A panic was caught inside libxnano (a bug in xnano).
    case panic
    /// No console answered discovery at the address given, or it is off.
    case notFound
    /// The console refused (the connection, a channel or the gamestream).
    case refused
    /// A code this binding does not know (a newer library).
    case unknown(UInt32)

    /// The code for the C value `r` (`package`: XnanoSim turns libxnano_sim's results with it).
    package init(_ r: UInt32) {
        switch r {
        case u32(XNANO_OK): self = .ok
        case u32(XNANO_ERR_NULL): self = .null
        case u32(XNANO_ERR_INVALID_ARGUMENT): self = .invalidArgument
        case u32(XNANO_ERR_WRONG_STATE): self = .wrongState
        case u32(XNANO_ERR_FROM_CALLBACK): self = .fromCallback
        case u32(XNANO_ERR_IO): self = .io
        case u32(XNANO_ERR_TIMEOUT): self = .timeout
        case u32(XNANO_ERR_PROTOCOL): self = .protocol
        case u32(XNANO_ERR_CLOSED): self = .closed
        case u32(XNANO_ERR_BUFFER_TOO_SMALL): self = .bufferTooSmall
        case u32(XNANO_ERR_UNSUPPORTED): self = .unsupported
        case u32(XNANO_ERR_PANIC): self = .panic
        case u32(XNANO_ERR_NOT_FOUND): self = .notFound
        case u32(XNANO_ERR_REFUSED): self = .refused
        default: self = .unknown(r)
        }
    }

    /// The C value.
    public var rawValue: UInt32 {
        switch self {
        case .ok: return u32(XNANO_OK)
        case .null: return u32(XNANO_ERR_NULL)
        case .invalidArgument: return u32(XNANO_ERR_INVALID_ARGUMENT)
        case .wrongState: return u32(XNANO_ERR_WRONG_STATE)
        case .fromCallback: return u32(XNANO_ERR_FROM_CALLBACK)
        case .io: return u32(XNANO_ERR_IO)
        case .timeout: return u32(XNANO_ERR_TIMEOUT)
        case .protocol: return u32(XNANO_ERR_PROTOCOL)
        case .closed: return u32(XNANO_ERR_CLOSED)
        case .bufferTooSmall: return u32(XNANO_ERR_BUFFER_TOO_SMALL)
        case .unsupported: return u32(XNANO_ERR_UNSUPPORTED)
        case .panic: return u32(XNANO_ERR_PANIC)
        case .notFound: return u32(XNANO_ERR_NOT_FOUND)
        case .refused: return u32(XNANO_ERR_REFUSED)
        case .unknown(let v): return v
        }
    }

    /// The C name, e.g. "XNANO_ERR_WRONG_STATE" (`xnano_result_name`).
    public var name: String {
        String(cString: xnano_result_name(rawValue))
    }

    public var description: String { name }
}

/// What the binding throws: a failed libxnano call, or a libxnano of another ABI.
public enum XnanoError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A libxnano call returned `code`; `message` is the library's (`xnano_last_error`).
    case failed(code: ResultCode, message: String)
    /// The loaded libxnano speaks ABI `found` (`xnano_abi_version()`; 0: a library from before
    /// ABI 1, without that function) and this binding needs `expected` (`Library.abiVersion`).
    /// Nothing else was called in the library.
    case abiMismatch(found: UInt32, expected: UInt32)

    /// A failed call.
    public init(code: ResultCode, message: String) {
        self = .failed(code: code, message: message)
    }

    /// The result code of a failed call; `.unsupported` for an ABI mismatch.
    public var code: ResultCode {
        switch self {
        case .failed(let code, _): return code
        case .abiMismatch: return .unsupported
        }
    }

    /// The library's message, or the mismatch explained.
    public var message: String {
        switch self {
        case .failed(_, let message): return message
        case .abiMismatch(let found, let expected):
            let path = loadedLibraryPath() ?? "libxnano"
            let what = found == 0 ? "has no xnano_abi_version (a build from before ABI 1)" : "has ABI version \(found)"
            return "\(path) \(what), but this Swift binding needs ABI version \(expected): "
                + "use a libxnano and a binding of the same release"
        }
    }

    public var description: String {
        switch self {
        case .failed(let code, let message): return "\(code.name): \(message)"
        case .abiMismatch: return "ABI mismatch: \(message)"
        }
    }
}

/// Throws `XnanoError` for any result but XNANO_OK, with the thread's last error message.
@inline(__always)
func check(_ r: UInt32) throws {
    if r != u32(XNANO_OK) {
        throw lastError(r)
    }
}

/// The error for result `r` with the thread's last error message.
func lastError(_ r: UInt32) -> XnanoError {
    XnanoError(code: ResultCode(r), message: String(cString: xnano_last_error()))
}
