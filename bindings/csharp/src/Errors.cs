using System;
using Xnano.Native;

namespace Xnano
{
    /// <summary>Result codes of the C API (<c>xnano_result</c>).</summary>
    public enum ResultCode : uint
    {
        /// <summary>Success.</summary>
        Ok = NativeMethods.XNANO_OK,
        /// <summary>A required pointer was NULL (a bug in the binding if it reaches you).</summary>
        Null = NativeMethods.XNANO_ERR_NULL,
        /// <summary>An argument is out of range or malformed.</summary>
        InvalidArgument = NativeMethods.XNANO_ERR_INVALID_ARGUMENT,
        /// <summary>The call is not allowed in the current state.</summary>
        WrongState = NativeMethods.XNANO_ERR_WRONG_STATE,
        /// <summary>Stopping a client (or disconnecting a console) from inside one of its own callbacks.</summary>
        FromCallback = NativeMethods.XNANO_ERR_FROM_CALLBACK,
        /// <summary>A socket or operating-system error.</summary>
        Io = NativeMethods.XNANO_ERR_IO,
        /// <summary>A timeout passed.</summary>
        Timeout = NativeMethods.XNANO_ERR_TIMEOUT,
        /// <summary>The console sent something that cannot be used.</summary>
        Protocol = NativeMethods.XNANO_ERR_PROTOCOL,
        /// <summary>The session is closed and no more events are queued.</summary>
        Closed = NativeMethods.XNANO_ERR_CLOSED,
        /// <summary>A caller-provided buffer is too small.</summary>
        BufferTooSmall = NativeMethods.XNANO_ERR_BUFFER_TOO_SMALL,
        /// <summary>Not available in this build.</summary>
        Unsupported = NativeMethods.XNANO_ERR_UNSUPPORTED,
        /// <summary>A panic was caught inside libxnano (a bug in xnano).</summary>
        Panic = NativeMethods.XNANO_ERR_PANIC,
        /// <summary>No console answered discovery at the address given, or it is off.</summary>
        NotFound = NativeMethods.XNANO_ERR_NOT_FOUND,
        /// <summary>The console refused (the connection, a channel or the gamestream).</summary>
        Refused = NativeMethods.XNANO_ERR_REFUSED,
    }

    /// <summary>A failed libxnano call: its <see cref="ResultCode"/> and message.</summary>
    public class XnanoException : Exception
    {
        /// <summary>The result code the call returned.</summary>
        public ResultCode Code { get; }

        /// <summary>The code's C name, e.g. <c>XNANO_ERR_WRONG_STATE</c>.</summary>
        public string CodeName { get; }

        /// <summary>Creates an exception for <paramref name="code"/>.</summary>
        public XnanoException(ResultCode code, string message)
            : base(CodeNameOf(code) + ": " + message)
        {
            Code = code;
            CodeName = CodeNameOf(code);
        }

        internal static string CodeNameOf(ResultCode code)
        {
            return Utf8.Decode(NativeMethods.xnano_result_name((uint)code));
        }

        /// <summary>Throws for any result but XNANO_OK, with the thread's last error message.</summary>
        internal static void Check(uint result) => Boundary.Lib.Check(result);
    }
}
