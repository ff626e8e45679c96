// The boundary with the native libraries: LibraryBoundary (public, one per library: the ABI
// check before first use, the last error, the marking of threads), libxnano's instance of it,
// struct_size values, and the AOT attribute for callbacks (Unity IL2CPP, Xamarin, Mono full AOT).
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
    /// A native library of xnano speaks another C ABI than its binding (or predates ABI
    /// versions): calling it would corrupt memory, so the binding refuses it before first use.
    /// Each library has its own exception (<see cref="XnanoAbiException"/> for libxnano).
    /// </summary>
    public abstract class NativeAbiException : Exception
    {
        /// <summary>The refusal of <paramref name="library"/> (e.g. "libxnano"), whose DllImport
        /// name is <paramref name="dllName"/>: what it <paramref name="found"/> (null: the
        /// version function is missing, as <paramref name="whenMissing"/> says) against what
        /// <paramref name="binding"/> (e.g. "Xnano 0.1.0") <paramref name="needs"/> (e.g. "ABI
        /// version", followed by <paramref name="expected"/>).</summary>
        protected NativeAbiException(uint? found, uint expected, string libraryPath,
            string library, string dllName, string whenMissing, string binding, string needs)
            : base((libraryPath ?? library + " (\"" + dllName + "\" as the loader resolved it)") + " "
                + (found.HasValue ? "has ABI version " + found.Value : whenMissing)
                + "; this binding (" + binding + ") needs " + needs + " " + expected
                + ". Use the " + library + " built from the same sources as the binding.")
        {
            Found = found;
            Expected = expected;
            LibraryPath = libraryPath;
        }

        /// <summary>What the library's ABI version function returned; null when the library
        /// lacks the function.</summary>
        public uint? Found { get; }

        /// <summary>The ABI the binding needs.</summary>
        public uint Expected { get; }

        /// <summary>The file that was loaded, when the platform tells (null otherwise).</summary>
        public string LibraryPath { get; }
    }

    /// <summary>
    /// The loaded libxnano speaks another C ABI than this binding (or predates ABI versions):
    /// calling it would corrupt memory, so the binding refuses it before first use.
    /// <see cref="NativeAbiException.Found"/> is what <c>xnano_abi_version()</c> returned (null
    /// when the library lacks the function: a library older than ABI 1);
    /// <see cref="NativeAbiException.Expected"/> is <see cref="NativeMethods.XNANO_ABI_VERSION"/>.
    /// </summary>
    public sealed class XnanoAbiException : NativeAbiException
    {
        internal XnanoAbiException(uint? found, uint expected, string libraryPath)
            : base(found, expected, libraryPath, "libxnano", NativeMethods.Library,
                "has no xnano_abi_version (a library older than ABI 1)",
                "Xnano " + NativeMethods.XNANO_VERSION_STRING, "ABI version")
        {
        }
    }

    /// <summary>struct_size of each caller-allocated struct (ABI 1), as this binding lays it out.</summary>
    internal static class StructSize
    {
        internal static readonly uint ClientConfig = NativeStructs.SizeOf(typeof(xnano_client_config));
        internal static readonly uint ControllerState = NativeStructs.SizeOf(typeof(xnano_controller_state));
        internal static readonly uint ClientStats = NativeStructs.SizeOf(typeof(xnano_client_stats));
        internal static readonly uint ConsoleInfo = NativeStructs.SizeOf(typeof(xnano_console_info));
        internal static readonly uint ConsoleConfig = NativeStructs.SizeOf(typeof(xnano_console_config));
        internal static readonly uint Gamepad = NativeStructs.SizeOf(typeof(xnano_gamepad));

        internal static xnano_console_info NewConsoleInfo() => NativeStructs.NewConsoleInfo();
    }

    /// <summary>libxnano's side of the boundary: its ABI check, its last error, its handles.</summary>
    internal static class Boundary
    {
        /// <summary>libxnano: xnano_abi_version() must be XNANO_ABI_VERSION; the message of a
        /// failed call is xnano_last_error().</summary>
        internal static readonly LibraryBoundary Lib = new LibraryBoundary(
            "libxnano.so",
            NativeMethods.XNANO_ABI_VERSION,
            () => NativeMethods.xnano_abi_version(),
            (found, path) => new XnanoAbiException(found, NativeMethods.XNANO_ABI_VERSION, path),
            () => NativeMethods.xnano_last_error());

        /// <summary>
        /// Called by every wrapper before it calls libxnano: checks the ABI (once) and marks the
        /// thread as the application's (<see cref="LibraryBoundary.Enter"/>).
        /// </summary>
        internal static void Enter() => Lib.Enter();

        /// <summary>Called first in every callback trampoline (<see cref="LibraryBoundary.EnterCallback"/>).</summary>
        internal static void EnterCallback() => LibraryBoundary.EnterCallback();

        /// <summary>A reference on <paramref name="handle"/> for one call into libxnano.</summary>
        internal static HandleUse Use(SafeHandle handle, string owner) => new HandleUse(Lib, handle, owner);
    }
}

namespace Xnano.Native
{
    /// <summary>
    /// One native library at the boundary with managed code (libxnano; the simulator's
    /// assembly has one for its own library): its ABI check before first use, once per process,
    /// the message of this thread's last failed call, and the marking of the threads that call
    /// it. Each xnano assembly keeps one instance per library it calls and enters it before
    /// every call.
    /// </summary>
    public sealed class LibraryBoundary
    {
        [ThreadStatic]
        private static bool t_known;

        private readonly object _lock = new object();
        private readonly string _fileName;
        private readonly Func<uint> _abiVersion;
        private readonly Func<uint?, string, Exception> _refusal;
        private readonly Func<IntPtr> _lastError;
        private volatile bool _ok;
        private bool _failed;
        private uint? _found;
        private string _path;

        /// <summary>
        /// The library loaded as <paramref name="fileName"/> (e.g. "libxnano.so", also matched
        /// with an ABI suffix, "libxnano.so.1"), which needs <paramref name="abiVersion"/> to
        /// return <paramref name="expectedAbi"/>; <paramref name="refusal"/> makes the
        /// exception for what it found (null: no version function) and the loaded file's path
        /// (null: unknown); <paramref name="lastError"/> returns the library's message of this
        /// thread's last failed call (a NUL-terminated UTF-8 string, or NULL).
        /// </summary>
        public LibraryBoundary(string fileName, uint expectedAbi, Func<uint> abiVersion,
            Func<uint?, string, Exception> refusal, Func<IntPtr> lastError)
        {
            _fileName = fileName ?? throw new ArgumentNullException(nameof(fileName));
            ExpectedAbi = expectedAbi;
            _abiVersion = abiVersion ?? throw new ArgumentNullException(nameof(abiVersion));
            _refusal = refusal ?? throw new ArgumentNullException(nameof(refusal));
            _lastError = lastError ?? throw new ArgumentNullException(nameof(lastError));
        }

        /// <summary>The ABI version the binding needs.</summary>
        public uint ExpectedAbi { get; }

        /// <summary>
        /// Called before every call into the library: checks its ABI (the first time; a refusal
        /// is thrown again on every later call) and marks the thread as the application's (left
        /// as it is, never made a background thread by <see cref="EnterCallback"/>).
        /// </summary>
        public void Enter()
        {
            EnsureAbi();
            t_known = true;
        }

        /// <summary>
        /// Called first in every callback trampoline. A native library's own threads become
        /// managed threads on their first callback; they are marked as background so that they
        /// never hold up the process's exit (Mono waits for foreground threads). Application
        /// threads (that called into a library, e.g. a console's events during Connect) are
        /// left alone.
        /// </summary>
        public static void EnterCallback()
        {
            if (!t_known)
            {
                t_known = true;
                Thread.CurrentThread.IsBackground = true;
            }
        }

        /// <summary>Throws for any result but XNANO_OK: an <see cref="XnanoException"/> with
        /// this library's message of the thread's last failed call.</summary>
        public void Check(uint result)
        {
            if (result != NativeMethods.XNANO_OK)
            {
                throw new XnanoException((ResultCode)result, Utf8.Decode(_lastError()));
            }
        }

        private void EnsureAbi()
        {
            if (_ok)
            {
                return;
            }
            lock (_lock)
            {
                if (_ok)
                {
                    return;
                }
                if (!_failed)
                {
                    uint? found;
                    try
                    {
                        found = _abiVersion();
                    }
                    catch (EntryPointNotFoundException)
                    {
                        found = null;
                    }
                    // DllNotFoundException (no library at all) propagates and is retried next time.
                    if (found == ExpectedAbi)
                    {
                        _ok = true;
                        return;
                    }
                    _found = found;
                    _path = LoadedPath();
                    _failed = true;
                }
                throw _refusal(_found, _path);
            }
        }

        /// <summary>Where the library was loaded from (Linux: /proc/self/maps); null if unknown.</summary>
        public string LoadedPath()
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
                    if (name == _fileName || name.StartsWith(_fileName + ".", StringComparison.Ordinal))
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

    /// <summary>Sizes and empty instances of the caller-allocated structs (ABI 1).</summary>
    public static class NativeStructs
    {
        /// <summary>The struct_size of <paramref name="t"/> as this binding lays it out.
        /// (Marshal.SizeOf(Type) rather than SizeOf&lt;T&gt;(): the same on .NET Framework,
        /// Mono and Unity.)</summary>
        public static uint SizeOf(Type t) => (uint)Marshal.SizeOf(t);

        /// <summary>An empty xnano_console_info to be written by a library (arrays allocated,
        /// struct_size set).</summary>
        public static xnano_console_info NewConsoleInfo()
        {
            return new xnano_console_info
            {
                struct_size = SizeOf(typeof(xnano_console_info)),
                name = new byte[NativeMethods.XNANO_CONSOLE_NAME_SIZE],
                live_id = new byte[NativeMethods.XNANO_LIVE_ID_SIZE],
                address = new byte[NativeMethods.XNANO_ADDRESS_SIZE],
                uuid = new byte[NativeMethods.XNANO_UUID_SIZE],
            };
        }
    }
}
