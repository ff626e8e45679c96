using System;
using Xnano.Native;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Xnano.Tests")]

namespace Xnano
{
    /// <summary>Process-wide functions of libxnano: version and logging.</summary>
    public static class Library
    {
        // Alive for the life of the process: native code may call it from any thread.
        private static readonly NativeMethods.xnano_log_callback s_log = OnLog;
        private static readonly object s_lock = new object();
        private static volatile Action<LogLevel, string, string> s_handler;

        /// <summary>The loaded library's version (<c>xnano_version</c>).</summary>
        public static string Version => Utf8.Decode(NativeMethods.xnano_version());

        /// <summary>The header version this binding was written against.</summary>
        public const string BindingVersion = NativeMethods.XNANO_VERSION_STRING;

        /// <summary>The C name of a result code (<c>xnano_result_name</c>).</summary>
        public static string ResultName(ResultCode code) => XnanoException.CodeNameOf(code);

        /// <summary>
        /// Routes libxnano's log messages (level, target module, text) to
        /// <paramref name="handler"/>, up to <paramref name="maxLevel"/>; null removes it. The
        /// handler runs on whatever thread logs and must not call into xnano (other than
        /// <see cref="Version"/>). Exceptions it throws are swallowed.
        /// </summary>
        public static void SetLogHandler(Action<LogLevel, string, string> handler, LogLevel maxLevel = LogLevel.Info)
        {
            Client.MarkApplicationThread();
            lock (s_lock)
            {
                s_handler = handler;
                var r = handler == null
                    ? NativeMethods.xnano_set_log_callback(null, IntPtr.Zero, (uint)LogLevel.Off)
                    : NativeMethods.xnano_set_log_callback(s_log, IntPtr.Zero, (uint)maxLevel);
                XnanoException.Check(r);
            }
        }

        private static void OnLog(IntPtr userData, int level, IntPtr target, IntPtr message)
        {
            try
            {
                Client.MarkThreadBackground();
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
