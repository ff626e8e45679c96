using System;
using AOT;
using Xnano.Native;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Xnano.Tests")]

namespace Xnano
{
    /// <summary>Process-wide functions of libxnano: versions, the ABI check and logging.</summary>
    public static class Library
    {
        // Alive for the life of the process: native code may call it from any thread.
        private static readonly NativeMethods.xnano_log_callback s_log = OnLog;
        private static readonly object s_lock = new object();
        private static volatile Action<LogLevel, string, string> s_handler;

        /// <summary>The loaded library's version (<c>xnano_version</c>).</summary>
        public static string Version
        {
            get
            {
                Boundary.Enter();
                return Utf8.Decode(NativeMethods.xnano_version());
            }
        }

        /// <summary>The header version this binding was written against.</summary>
        public const string BindingVersion = NativeMethods.XNANO_VERSION_STRING;

        /// <summary>The C ABI version this binding needs (<c>XNANO_ABI_VERSION</c>).</summary>
        public const uint AbiVersion = NativeMethods.XNANO_ABI_VERSION;

        /// <summary>
        /// Checks that the loaded libxnano has <see cref="AbiVersion"/>; throws
        /// <see cref="XnanoAbiException"/> (naming the file, what it found and what it needs)
        /// otherwise, or when the library lacks <c>xnano_abi_version</c>. Every wrapper runs the
        /// check before its first call into libxnano (once per process); calling it yourself
        /// only makes the failure come earlier.
        /// </summary>
        public static void CheckAbi() => Boundary.Enter();

        /// <summary>The C name of a result code (<c>xnano_result_name</c>).</summary>
        public static string ResultName(ResultCode code)
        {
            Boundary.Enter();
            return XnanoException.CodeNameOf(code);
        }

        /// <summary>
        /// Routes libxnano's log messages (level, target module, text) to
        /// <paramref name="handler"/>, up to <paramref name="maxLevel"/>; null removes it. The
        /// handler runs on whatever thread logs and must not call into xnano (other than
        /// <see cref="Version"/>). Exceptions it throws are swallowed.
        /// </summary>
        public static void SetLogHandler(Action<LogLevel, string, string> handler, LogLevel maxLevel = LogLevel.Info)
        {
            Boundary.Enter();
            lock (s_lock)
            {
                s_handler = handler;
                var r = handler == null
                    ? NativeMethods.xnano_set_log_callback(null, IntPtr.Zero, (uint)LogLevel.Off)
                    : NativeMethods.xnano_set_log_callback(s_log, IntPtr.Zero, (uint)maxLevel);
                XnanoException.Check(r);
            }
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xnano_log_callback))]
        private static void OnLog(IntPtr userData, uint level, IntPtr target, IntPtr message)
        {
            try
            {
                Boundary.EnterCallback();
                var h = s_handler;
                if (h != null)
                {
                    h((LogLevel)level, Utf8.Decode(target), Utf8.Decode(message));
                }
            }
            catch
            {
                // Nothing may unwind into native code.
            }
        }
    }
}
