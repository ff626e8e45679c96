// The boundary with libxnano_sim: its LibraryBoundary (Xnano's, with libxnano_sim's ABI check
// before first use, separate from libxnano's: each library has its own version; and its errors,
// xnano_sim_last_error), struct_size values and the per-call reference on a handle.
// libxnano_sim has no callbacks.
using System;
using System.Runtime.InteropServices;
using Xnano.Native;
using Xnano.Sim.Native;

[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Xnano.Tests")]

namespace Xnano.Sim
{
    /// <summary>
    /// The loaded libxnano_sim speaks another C ABI than this binding (or predates ABI
    /// versions): calling it would corrupt memory, so the binding refuses it before first use.
    /// (libxnano itself is checked on its own, by <see cref="Library.CheckAbi"/>.)
    /// <see cref="NativeAbiException.Found"/> is what <c>xnano_sim_abi_version()</c> returned
    /// (null when the library lacks the function); <see cref="NativeAbiException.Expected"/> is
    /// <see cref="SimNativeMethods.XNANO_SIM_ABI_VERSION"/>.
    /// </summary>
    public sealed class XnanoSimAbiException : NativeAbiException
    {
        internal XnanoSimAbiException(uint? found, uint expected, string libraryPath)
            : base(found, expected, libraryPath, "libxnano_sim", SimNativeMethods.Library,
                "has no xnano_sim_abi_version (not a libxnano_sim of ABI 1 or later)",
                "Xnano.Sim " + SimLibrary.BindingVersion, "libxnano_sim ABI version")
        {
        }
    }

    /// <summary>Called by every wrapper before it calls libxnano_sim.</summary>
    internal static class SimBoundary
    {
        /// <summary>libxnano_sim: xnano_sim_abi_version() must be XNANO_SIM_ABI_VERSION; the
        /// message of a failed call is xnano_sim_last_error() (not libxnano's).</summary>
        internal static readonly LibraryBoundary Lib = new LibraryBoundary(
            "libxnano_sim.so",
            SimNativeMethods.XNANO_SIM_ABI_VERSION,
            () => SimNativeMethods.xnano_sim_abi_version(),
            (found, path) => new XnanoSimAbiException(found, SimNativeMethods.XNANO_SIM_ABI_VERSION, path),
            () => SimNativeMethods.xnano_sim_last_error());

        internal static void Enter() => Lib.Enter();

        /// <summary>Throws for any result but XNANO_OK, with libxnano_sim's message of this
        /// thread's last failed call.</summary>
        internal static void Check(uint result) => Lib.Check(result);

        /// <summary>A reference on <paramref name="handle"/> for one call into libxnano_sim
        /// (xnano_sim_free must be the last call on a handle).</summary>
        internal static HandleUse Use(SafeHandle handle, string owner) => new HandleUse(Lib, handle, owner);
    }

    /// <summary>struct_size of each caller-allocated struct (ABI 1), as this binding lays it out.</summary>
    internal static class SimStructSize
    {
        internal static readonly uint Config = NativeStructs.SizeOf(typeof(xnano_sim_config));
        internal static readonly uint Stats = NativeStructs.SizeOf(typeof(xnano_sim_stats));
    }
}
