// The boundary with libxnano: the ABI check before first use, struct_size values, the marking
// of threads, and the AOT attribute for callbacks (Unity IL2CPP, Xamarin, Mono full AOT).
using System;
using System.IO;
using System.Runtime.InteropServices;
using System.Threading;
using Xnano.Native;

#if !UNITY_5_3_OR_NEWER
namespace AOT
{
    /// <summary>
    /// Marks a static method that native code calls through a delegate of type
    /// <see cref="Type"/>. Ahead-of-time compilers (Unity IL2CPP, Mono full AOT, Xamarin.iOS)
    /// recognise the attribute by its name and generate a native entry point for the method;
    /// without it, calling the callback from native code fails at run time. Unity declares the
    /// same attribute in UnityEngine (used instead when compiled inside Unity).
    /// </summary>
    [AttributeUsage(AttributeTargets.Method)]
    internal sealed class MonoPInvokeCallbackAttribute : Attribute
    {
        public MonoPInvokeCallbackAttribute(Type type)
        {
            Type = type;
        }

        public Type Type { get; }
    }
}
#endif

namespace Xnano
{
    /// <summary>
    /// The loaded libxnano speaks another C ABI than this binding (or predates ABI versions):
    /// calling it would corrupt memory, so the binding refuses it before first use.
    /// </summary>
    public sealed class XnanoAbiException : Exception
    {
        internal XnanoAbiException(uint? found, uint expected, string libraryPath)
            : base(Describe(found, expected, libraryPath))
        {
            Found = found;
            Expected = expected;
            LibraryPath = libraryPath;
        }

        /// <summary>What <c>xnano_abi_version()</c> returned; null when the library lacks the
        /// function (a library older than ABI 1).</summary>
        public uint? Found { get; }

        /// <summary>The ABI this binding needs (<see cref="NativeMethods.XNANO_ABI_VERSION"/>).</summary>
        public uint Expected { get; }

        /// <summary>The file that was loaded, when the platform tells (null otherwise).</summary>
        public string LibraryPath { get; }

        private static string Describe(uint? found, uint expected, string path)
        {
            var lib = path ?? "libxnano (\"" + NativeMethods.Library + "\" as the loader resolved it)";
            var what = found.HasValue
                ? "has ABI version " + found.Value
                : "has no xnano_abi_version (a library older than ABI 1)";
            return lib + " " + what + "; this binding (Xnano " + NativeMethods.XNANO_VERSION_STRING
                + ") needs ABI version " + expected + ". Use the libxnano built from the same sources as the binding.";
        }
    }

    /// <summary>
    /// Checks the loaded library's ABI once, on the first call into it through the wrappers
    /// (every entry point calls <see cref="Boundary.Enter"/>).
    /// </summary>
    internal static class AbiCheck
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
                        found = NativeMethods.xnano_abi_version();
                    }
                    catch (EntryPointNotFoundException)
                    {
                        found = null;
                    }
                    // DllNotFoundException (no library at all) propagates and is retried next time.
                    if (found == NativeMethods.XNANO_ABI_VERSION)
                    {
                        s_ok = true;
                        return;
                    }
                    s_found = found;
                    s_path = LoadedLibraryPath();
                    s_failed = true;
                }
                throw new XnanoAbiException(s_found, NativeMethods.XNANO_ABI_VERSION, s_path);
            }
        }

        /// <summary>Where libxnano was loaded from (Linux: /proc/self/maps); null if unknown.</summary>
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
                    if (name == "libxnano.so" || name.StartsWith("libxnano.so.", StringComparison.Ordinal))
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

    /// <summary>struct_size of each caller-allocated struct (ABI 1), as this binding lays it out.</summary>
    internal static class StructSize
    {
        internal static readonly uint ClientConfig = Of(typeof(xnano_client_config));
        internal static readonly uint ControllerState = Of(typeof(xnano_controller_state));
        internal static readonly uint ClientStats = Of(typeof(xnano_client_stats));
        internal static readonly uint ConsoleInfo = Of(typeof(xnano_console_info));
        internal static readonly uint ConsoleConfig = Of(typeof(xnano_console_config));
        internal static readonly uint Gamepad = Of(typeof(xnano_gamepad));

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

    /// <summary>Bookkeeping of the threads that cross the boundary.</summary>
    internal static class Boundary
    {
        [ThreadStatic]
        private static bool t_known;

        /// <summary>
        /// Called by every wrapper before it calls libxnano: checks the ABI (once) and marks the
        /// thread as the application's (left as it is, never made a background thread).
        /// </summary>
        internal static void Enter()
        {
            AbiCheck.Ensure();
            t_known = true;
        }

        /// <summary>
        /// Called first in every callback trampoline. libxnano's own threads become managed
        /// threads on their first callback; they are marked as background so that they never
        /// hold up the process's exit (Mono waits for foreground threads). Application threads
        /// (that called into libxnano, e.g. a console's events during Connect) are left alone.
        /// </summary>
        internal static void EnterCallback()
        {
            if (!t_known)
            {
                t_known = true;
                Thread.CurrentThread.IsBackground = true;
            }
        }
    }
}
