using System;
using System.Runtime.InteropServices;
using Xnano.Native;

namespace Xnano
{
    /// <summary>
    /// The <c>user_data</c> of a handle's callbacks: a weak GCHandle to the wrapper object,
    /// allocated with the handle and freed only after <c>xnano_*_free</c> returned, when native
    /// code can no longer call with it. (It is weak so that it never keeps the wrapper alive;
    /// a session in progress is kept alive by a separate strong handle of the wrapper.)
    /// </summary>
    internal sealed class CallbackTarget
    {
        private readonly object _lock = new object();
        private IntPtr _ptr;
        private int _running;      // trampolines of this handle running its handlers
        private bool _freePending; // freed inside one of them: free when it returns

        internal CallbackTarget(object target)
        {
            _ptr = GCHandle.ToIntPtr(GCHandle.Alloc(target, GCHandleType.Weak));
        }

        /// <summary>The value passed as user_data (valid until <see cref="Free"/>).</summary>
        internal IntPtr UserData => _ptr;

        /// <summary>The object behind a user_data pointer, or null (collected).</summary>
        internal static T Resolve<T>(IntPtr userData) where T : class
        {
            return userData == IntPtr.Zero ? null : GCHandle.FromIntPtr(userData).Target as T;
        }

        /// <summary>Frees the GCHandle once native code can no longer call with it: now, or,
        /// when the handle was freed inside one of its own callbacks (ABI 1 detaches it; the
        /// header asks user_data to stay valid until that callback returned), when the
        /// callback's trampoline leaves its <see cref="Running"/> scope.</summary>
        internal void Free()
        {
            lock (_lock)
            {
                if (_running > 0)
                {
                    _freePending = true;
                    return;
                }
                FreeLocked();
            }
        }

        private void FreeLocked()
        {
            if (_ptr != IntPtr.Zero)
            {
                GCHandle.FromIntPtr(_ptr).Free();
                _ptr = IntPtr.Zero;
            }
            _freePending = false;
        }

        /// <summary>Marks a trampoline of this handle as running user code (handlers) until the
        /// returned scope is disposed.</summary>
        internal RunningScope Running()
        {
            lock (_lock)
            {
                _running++;
            }
            return new RunningScope(this);
        }

        private void Leave()
        {
            lock (_lock)
            {
                if (--_running == 0 && _freePending)
                {
                    FreeLocked();
                }
            }
        }

        internal struct RunningScope : IDisposable
        {
            private CallbackTarget _target;

            internal RunningScope(CallbackTarget target)
            {
                _target = target;
            }

            public void Dispose()
            {
                if (_target != null)
                {
                    _target.Leave();
                    _target = null;
                }
            }
        }
    }

    /// <summary>Owns an <c>xnano_client *</c>; releasing it calls <c>xnano_client_free</c>.</summary>
    public sealed class ClientHandle : SafeHandle
    {
        internal ClientHandle(IntPtr p, object owner) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
            Callbacks = new CallbackTarget(owner);
        }

        internal CallbackTarget Callbacks { get; }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Called once, when no call uses the handle any more (Dispose or finalizer).</summary>
        protected override bool ReleaseHandle()
        {
            // Stops the session if needed (joining its threads) and frees; never fails (ABI 1).
            // From inside one of the client's callbacks it detaches instead.
            NativeMethods.xnano_client_free(handle);
            Callbacks.Free();
            return true;
        }
    }

    /// <summary>Owns an <c>xnano_console *</c>; releasing it calls <c>xnano_console_free</c>.</summary>
    public sealed class ConsoleHandle : SafeHandle
    {
        internal ConsoleHandle(IntPtr p, object owner) : base(IntPtr.Zero, true)
        {
            SetHandle(p);
            Callbacks = new CallbackTarget(owner);
        }

        internal CallbackTarget Callbacks { get; }

        /// <inheritdoc/>
        public override bool IsInvalid => handle == IntPtr.Zero;

        /// <summary>Disconnects and frees the console handle (never fails, ABI 1).</summary>
        protected override bool ReleaseHandle()
        {
            NativeMethods.xnano_console_free(handle);
            Callbacks.Free();
            return true;
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
}

namespace Xnano.Native
{
    /// <summary>
    /// Holds a reference on a SafeHandle for the duration of one native call, so that a
    /// concurrent Dispose cannot free the handle under it (a library's free must not race with
    /// other calls on the same handle). Throws ObjectDisposedException once disposed.
    /// </summary>
    public struct HandleUse : IDisposable
    {
        private readonly SafeHandle _handle;
        private bool _added;

        /// <summary>Enters <paramref name="boundary"/> (its ABI check) and takes a reference on
        /// <paramref name="handle"/>, which belongs to <paramref name="owner"/> (the name in
        /// the ObjectDisposedException).</summary>
        public HandleUse(LibraryBoundary boundary, SafeHandle handle, string owner)
        {
            boundary.Enter();
            _handle = handle;
            _added = false;
            if (handle.IsClosed)
            {
                throw new ObjectDisposedException(owner);
            }
            handle.DangerousAddRef(ref _added);
        }

        /// <summary>The native pointer (IntPtr.Zero for a default instance).</summary>
        public IntPtr Ptr => _handle == null ? IntPtr.Zero : _handle.DangerousGetHandle();

        /// <summary>Releases the reference.</summary>
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
