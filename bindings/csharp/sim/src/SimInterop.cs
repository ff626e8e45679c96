// The boundary with libxnano_sim: its ABI check before first use (separate from libxnano's:
// each library has its own version), struct_size values, errors (xnano_sim_last_error) and the
// per-call reference on a handle. libxnano_sim has no callbacks.
using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Text;
using Xnano.Native;
using Xnano.Sim.Native;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Xnano.Tests")]

namespace Xnano.Sim
{
    /// <summary>
    /// The loaded libxnano_sim speaks another C ABI than this binding (or predates ABI
    /// versions): calling it would corrupt memory, so the binding refuses it before first use.
    /// (libxnano itself is checked on its own, by <see cref="Library.CheckAbi"/>.)
    /// </summary>
    public sealed class XnanoSimAbiException : Exception
    {
        internal XnanoSimAbiException(uint? found, uint expected, string libraryPath)
            : base(Describe(found, expected, libraryPath))
        {
            Found = found;
            Expected = expected;
            LibraryPath = libraryPath;
        }

        /// <summary>What <c>xnano_sim_abi_version()</c> returned; null when the library lacks
        /// the function.</summary>
        public uint? Found { get; }

        /// <summary>The ABI this binding needs (<see cref="SimNativeMethods.XNANO_SIM_ABI_VERSION"/>).</summary>
        public uint Expected { get; }

        /// <summary>The file that was loaded, when the platform tells (null otherwise).</summary>
        public string LibraryPath { get; }

        private static string Describe(uint? found, uint expected, string path)
        {
            var lib = path ?? "libxnano_sim (\"" + SimNativeMethods.Library + "\" as the loader resolved it)";
            var what = found.HasValue
                ? "has ABI version " + found.Value
                : "has no xnano_sim_abi_version (not a libxnano_sim of ABI 1 or later)";
            return lib + " " + what + "; this binding (Xnano.Sim " + SimLibrary.BindingVersion
                + ") needs libxnano_sim ABI version " + expected
                + ". Use the libxnano_sim built from the same sources as the binding.";
        }
    }

    /// <summary>
    /// Checks the loaded libxnano_sim's ABI once, on the first call into it through the
    /// wrappers (every entry point calls <see cref="SimBoundary.Enter"/>).
    /// </summary>
    internal static class SimAbiCheck
    {
        private static readonly object s_lock = new object();
        private static volatile bool s_ok;
        private static bool s_failed;
        private static uint? s_found;
        private static string s_path;

        internal static void Ensure()
        {
            if (s_ok)
            {
                return;
            }
            lock (s_lock)
            {
                if (s_ok)
                {
                    return;
                }
                if (!s_failed)
                {
                    uint? found;
                    try
                    {
                        found = SimNativeMethods.xnano_sim_abi_version();
                    }
                    catch (EntryPointNotFoundException)
                    {
                        found = null;
                    }
                    // DllNotFoundException (no library at all) propagates and is retried next time.
                    if (found == SimNativeMethods.XNANO_SIM_ABI_VERSION)
                    {
                        s_ok = true;
                        return;
                    }
                    s_found = found;
                    s_path = LoadedLibraryPath();
                    s_failed = true;
                }
                throw new XnanoSimAbiException(s_found, SimNativeMethods.XNANO_SIM_ABI_VERSION, s_path);
            }
        }

        /// <summary>Where libxnano_sim was loaded from (Linux: /proc/self/maps); null if unknown.</summary>
        internal static string LoadedLibraryPath()
        {
            try
            {
                const string maps = "/proc/self/maps";
                if (!File.Exists(maps))
                {
                    return null;
                }
                foreach (var line in File.ReadAllLines(maps))
                {
                    var slash = line.IndexOf('/');
                    if (slash < 0)
                    {
                        continue;
                    }
                    var path = line.Substring(slash).Trim();
                    var name = Path.GetFileName(path);
                    if (name == "libxnano_sim.so" || name.StartsWith("libxnano_sim.so.", StringComparison.Ordinal))
                    {
                        return path;
                    }
                }
            }
            catch (Exception)
            {
                // Best effort: the message then names the library without its path.
            }
            return null;
        }
    }

    /// <summary>Called by every wrapper before it calls libxnano_sim.</summary>
    internal static class SimBoundary
    {
        internal static void Enter() => SimAbiCheck.Ensure();

        /// <summary>Throws for any result but XNANO_OK, with libxnano_sim's message of this
        /// thread's last failed call (<c>xnano_sim_last_error</c>, not libxnano's).</summary>
        internal static void Check(uint result)
        {
            if (result != NativeMethods.XNANO_OK)
            {
                throw new XnanoException((ResultCode)result, Utf8.Decode(SimNativeMethods.xnano_sim_last_error()));
            }
        }
    }

    /// <summary>struct_size of each caller-allocated struct (ABI 1), as this binding lays it out.</summary>
    internal static class SimStructSize
    {
        internal static readonly uint Config = Of(typeof(xnano_sim_config));
        internal static readonly uint Stats = Of(typeof(xnano_sim_stats));
        internal static readonly uint ConsoleInfo = Of(typeof(xnano_console_info));

        // Marshal.SizeOf(Type) rather than SizeOf<T>(): the same on .NET Framework, Mono and Unity.
        private static uint Of(Type t) => (uint)Marshal.SizeOf(t);

        /// <summary>An empty xnano_console_info to be written by the library (arrays allocated,
        /// struct_size set).</summary>
        internal static xnano_console_info NewConsoleInfo()
        {
            return new xnano_console_info
            {
                struct_size = ConsoleInfo,
                name = new byte[NativeMethods.XNANO_CONSOLE_NAME_SIZE],
                live_id = new byte[NativeMethods.XNANO_LIVE_ID_SIZE],
                address = new byte[NativeMethods.XNANO_ADDRESS_SIZE],
                uuid = new byte[NativeMethods.XNANO_UUID_SIZE],
            };
        }
    }

    /// <summary>
    /// Holds a reference on a SafeHandle for the duration of one native call, so that a
    /// concurrent Dispose cannot free the handle under it (xnano_sim_free must be the last
    /// call on a handle). Throws ObjectDisposedException once disposed.
    /// </summary>
    internal struct SimHandleUse : IDisposable
    {
        private readonly SafeHandle _handle;
        private bool _added;

        public SimHandleUse(SafeHandle handle, string owner)
        {
            SimBoundary.Enter();
            _handle = handle;
            _added = false;
            if (handle.IsClosed)
            {
                throw new ObjectDisposedException(owner);
            }
            handle.DangerousAddRef(ref _added);
        }

        public IntPtr Ptr => _handle.DangerousGetHandle();

        public void Dispose()
        {
            if (_added && _handle != null)
            {
                _handle.DangerousRelease();
                _added = false;
            }
        }
    }

    /// <summary>UTF-8 strings to and from native memory.</summary>
    internal static class Utf8
    {
        /// <summary>A NUL-terminated UTF-8 copy of <paramref name="s"/>; null stays null.</summary>
        public static byte[] Encode(string s)
        {
            if (s == null)
            {
                return null;
            }
            if (s.IndexOf('\0') >= 0)
            {
                throw new ArgumentException("string contains a NUL character");
            }
            var n = Encoding.UTF8.GetByteCount(s);
            var bytes = new byte[n + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, bytes, 0);
            return bytes;
        }

        /// <summary>Decodes a NUL-terminated UTF-8 string; NULL gives "".</summary>
        public static string Decode(IntPtr p)
        {
            if (p == IntPtr.Zero)
            {
                return "";
            }
            var len = 0;
            while (Marshal.ReadByte(p, len) != 0)
            {
                len++;
            }
            var bytes = new byte[len];
            Marshal.Copy(p, bytes, 0, len);
            return Encoding.UTF8.GetString(bytes);
        }
    }
}
