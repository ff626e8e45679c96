import CXnano

/// Result codes of the C API (`xnano_result`).
public enum ResultCode: Equatable, CustomStringConvertible {
    /// Success.
    case ok
    /// A required pointer was NULL.
    case null
    /// An argument is out of range or malformed.
    case invalidArgument
    /// The call is not allowed in the current state.
    case wrongState
    /// Stopping or freeing a client from inside one of its own callbacks.
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

    init(_ r: xnano_result) {
        switch r {
        case XNANO_OK: self = .ok
        case XNANO_ERR_NULL: self = .null
        case XNANO_ERR_INVALID_ARGUMENT: self = .invalidArgument
        case XNANO_ERR_WRONG_STATE: self = .wrongState
        case XNANO_ERR_FROM_CALLBACK: self = .fromCallback
        case XNANO_ERR_IO: self = .io
        case XNANO_ERR_TIMEOUT: self = .timeout
        case XNANO_ERR_PROTOCOL: self = .protocol
        case XNANO_ERR_CLOSED: self = .closed
        case XNANO_ERR_BUFFER_TOO_SMALL: self = .bufferTooSmall
        case XNANO_ERR_UNSUPPORTED: self = .unsupported
        case XNANO_ERR_PANIC: self = .panic
        case XNANO_ERR_NOT_FOUND: self = .notFound
        case XNANO_ERR_REFUSED: self = .refused
        default: self = .unknown(r.rawValue)
        }
    }

    /// The C value.
    public var rawValue: UInt32 {
        switch self {
        case .ok: return XNANO_OK.rawValue
        case .null: return XNANO_ERR_NULL.rawValue
        case .invalidArgument: return XNANO_ERR_INVALID_ARGUMENT.rawValue
        case .wrongState: return XNANO_ERR_WRONG_STATE.rawValue
        case .fromCallback: return XNANO_ERR_FROM_CALLBACK.rawValue
        case .io: return XNANO_ERR_IO.rawValue
        case .timeout: return XNANO_ERR_TIMEOUT.rawValue
        case .protocol: return XNANO_ERR_PROTOCOL.rawValue
        case .closed: return XNANO_ERR_CLOSED.rawValue
        case .bufferTooSmall: return XNANO_ERR_BUFFER_TOO_SMALL.rawValue
        case .unsupported: return XNANO_ERR_UNSUPPORTED.rawValue
        case .panic: return XNANO_ERR_PANIC.rawValue
        case .notFound: return XNANO_ERR_NOT_FOUND.rawValue
        case .refused: return XNANO_ERR_REFUSED.rawValue
        case .unknown(let v): return v
        }
    }

    /// The C name, e.g. "XNANO_ERR_WRONG_STATE" (`xnano_result_name`).
    public var name: String {
        String(cString: xnano_result_name(Int32(bitPattern: rawValue)))
    }

    public var description: String { name }
}

/// A failed libxnano call: its result code and the library's message.
public struct XnanoError: Error, CustomStringConvertible {
    /// The result code the call returned.
    public let code: ResultCode
    /// The library's message (`xnano_last_error`).
    public let message: String

    public var description: String { "\(code.name): \(message)" }
}

/// Throws `XnanoError` for any result but XNANO_OK, with the thread's last error message.
@inline(__always)
func check(_ r: xnano_result) throws {
    if r != XNANO_OK {
        throw XnanoError(code: ResultCode(r), message: String(cString: xnano_last_error()))
    }
}
