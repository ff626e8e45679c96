using System;
using System.Runtime.InteropServices;
using Xnano.Native;

namespace Xnano
{
    /// <summary>Owns an <c>xnano_client *</c>; releasing it calls <c>xnano_client_free</c>.</summary>
    public sealed class ClientHandle : SafeHandle
    {
        internal ClientHandle(IntPtr p) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
        }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Called once, when nothing uses the handle any more (Dispose or finalizer).</summary>
        protected override bool ReleaseHandle()
        {
            // Not a callback thread: the finalizer thread or the disposing thread, after
            // Client.Dispose stopped the session; so FROM_CALLBACK cannot happen here.
            return NativeMethods.xnano_client_free(handle) == NativeMethods.XNANO_OK;
        }
    }

    /// <summary>Owns an <c>xnano_sim *</c>; releasing it calls <c>xnano_sim_free</c>.</summary>
    public sealed class SimHandle : SafeHandle
    {
        internal SimHandle(IntPtr p) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
        }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Stops and frees the simulated console.</summary>
        protected override bool ReleaseHandle()
        {
            NativeMethods.xnano_sim_free(handle);
            return true;
        }
    }

    /// <summary>Owns an <c>xnano_console *</c>; releasing it calls <c>xnano_console_free</c>.</summary>
    public sealed class ConsoleHandle : SafeHandle
    {
        internal ConsoleHandle(IntPtr p) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
        }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Disconnects and frees the console handle.</summary>
        protected override bool ReleaseHandle()
        {
            return NativeMethods.xnano_console_free(handle) == NativeMethods.XNANO_OK;
        }
    }

    /// <summary>Owns an <c>xnano_discovery *</c>; releasing it calls <c>xnano_discovery_free</c>.</summary>
    public sealed class DiscoveryHandle : SafeHandle
    {
        internal DiscoveryHandle(IntPtr p) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
        }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Frees the list.</summary>
        protected override bool ReleaseHandle()
        {
            NativeMethods.xnano_discovery_free(handle);
            return true;
        }
    }

    /// <summary>Owns an <c>xnano_gamestream_config *</c>; releasing it calls
    /// <c>xnano_gamestream_config_free</c>.</summary>
    public sealed class GameStreamConfigHandle : SafeHandle
    {
        internal GameStreamConfigHandle(IntPtr p) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
        }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Frees the configuration.</summary>
        protected override bool ReleaseHandle()
        {
            NativeMethods.xnano_gamestream_config_free(handle);
            return true;
        }
    }

    /// <summary>
    /// Holds a reference on a SafeHandle for the duration of one native call, so that a
    /// concurrent Dispose cannot free the handle under it (xnano_*_free must not race with
    /// other calls on the same handle). Throws ObjectDisposedException once disposed.
    /// </summary>
    internal struct HandleUse : IDisposable
    {
        private readonly SafeHandle _handle;
        private bool _added;

        public HandleUse(SafeHandle handle, string owner)
        {
            Client.MarkApplicationThread();
            _handle = handle;
            _added = false;
            if (handle.IsClosed)
            {
                throw new ObjectDisposedException(owner);
            }
            handle.DangerousAddRef(ref _added);
        }

        public IntPtr Ptr => _handle == null ? IntPtr.Zero : _handle.DangerousGetHandle();

        public void Dispose()
        {
            if (_added && _handle != null)
            {
                _handle.DangerousRelease();
                _added = false;
            }
        }
    }
}
