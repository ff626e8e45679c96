using System;
using System.Runtime.InteropServices;
using AOT;
using Xnano.Native;

namespace Xnano
{
    /// <summary>
    /// A gamestream client session (<c>xnano_client</c>). Subscribe to the events, connect,
    /// send input, then <see cref="Stop"/> or <see cref="Dispose"/>.
    /// </summary>
    /// <remarks>
    /// <para>Events are raised on libxnano's threads (video and audio on its UDP thread), one
    /// at a time and in order; keep handlers short. A handler may call methods of the client
    /// (input, keyframe requests, stats) but not <see cref="Stop"/>, which throws
    /// <see cref="XnanoException"/> with <see cref="ResultCode.FromCallback"/> there;
    /// <see cref="Dispose"/> from a handler detaches the client (freed once the handler
    /// returned). Exceptions thrown by handlers never reach native code: they are passed to
    /// <see cref="CallbackError"/>.</para>
    /// <para>Pull mode: with <see cref="ClientConfig.EventQueueCapacity"/> &gt; 0 the native
    /// callbacks are set to NULL and no events are raised; read <see cref="NextEvent"/> instead,
    /// on a thread of your choice.</para>
    /// <para>Native code finds the client through a weak GCHandle passed as <c>user_data</c>,
    /// which lives as long as the native client (freed after <c>xnano_client_free</c>
    /// returned). While a session runs, a second, strong GCHandle keeps the client alive
    /// (dropped when the session closes), so a streaming client is never collected under its
    /// callbacks. The callback delegates are static fields over static methods, alive for the
    /// life of the process.</para>
    /// </remarks>
    public sealed class Client : IDisposable
    {
        // Native code may call these whenever any client is connected: static, never collected.
        // Static methods only (AOT compilers cannot marshal instance delegates); each finds its
        // client through user_data.
        private static readonly NativeMethods.xnano_video_callback s_video = OnVideo;
        private static readonly NativeMethods.xnano_audio_callback s_audio = OnAudio;
        private static readonly NativeMethods.xnano_rumble_callback s_rumble = OnRumble;
        private static readonly NativeMethods.xnano_state_callback s_state = OnState;

        private readonly ClientHandle _handle;
        private readonly bool _pullMode;

        // Serialises connects (install callbacks, connect, clear them on failure). Never held by
        // Stop, Dispose or a callback.
        private readonly object _connectLock = new object();

        // A strong GCHandle (as IntPtr) to this client while a session may call back, so that a
        // streaming client is never collected; zero otherwise. Native code never sees it (its
        // user_data is the weak handle in ClientHandle.Callbacks). Guarded by _keepAliveLock.
        private IntPtr _keepAlive;
        private readonly object _keepAliveLock = new object();

        // The statistics when Dispose freed the native client; Stop returns them afterwards.
        private volatile ClientStats _finalStats;

        /// <summary>True while a session may still call back (the client is then kept alive);
        /// for tests.</summary>
        internal bool IsReferencedByNative
        {
            get
            {
                lock (_keepAliveLock)
                {
                    return _keepAlive != IntPtr.Zero;
                }
            }
        }

        /// <summary>Raised for each complete video frame, in frame-id order.</summary>
        public event EventHandler<VideoFrame> VideoFrameReceived;
        /// <summary>Raised for each audio packet.</summary>
        public event EventHandler<AudioPacket> AudioPacketReceived;
        /// <summary>Raised for each rumble command.</summary>
        public event EventHandler<Rumble> RumbleReceived;
        /// <summary>Raised on each state change; Closed comes once and is the last event.</summary>
        public event EventHandler<StateChange> StateChanged;
        /// <summary>Raised when one of the other events' handlers threw.</summary>
        public event EventHandler<CallbackErrorEventArgs> CallbackError;

        /// <summary>Creates an idle client (<c>xnano_client_new</c>); null config: defaults.</summary>
        public Client(ClientConfig config = null)
        {
            Boundary.Enter();
            var native = (config ?? new ClientConfig()).Native;
            native.struct_size = StructSize.ClientConfig;
            XnanoException.Check(NativeMethods.xnano_client_new(ref native, out IntPtr p));
            _handle = new ClientHandle(p, this);
            _pullMode = native.event_queue_capacity > 0;
        }

        /// <summary>The native handle (for calls through <see cref="NativeMethods"/>).</summary>
        public ClientHandle Handle => _handle;

        private HandleUse Use() => Boundary.Use(_handle, nameof(Client));

        /// <summary>Connects straight to a Nano host (<c>xnano_client_connect_nano</c>). Returns once
        /// TCP is up (state Connecting); the rest is reported through <see cref="StateChanged"/>.
        /// A failed connect leaves the client idle: it may be connected again.</summary>
        public void ConnectNano(string host, ushort tcpPort, ushort udpPort)
        {
            if (host == null)
            {
                throw new ArgumentNullException(nameof(host));
            }
            var hostUtf8 = Utf8.Encode(host);
            Connect(p => NativeMethods.xnano_client_connect_nano(p, hostUtf8, tcpPort, udpPort));
        }

        /// <summary>
        /// Starts a gamestream over SmartGlass (<c>xnano_client_connect_console</c>): asks the
        /// connected <paramref name="console"/> to stream with <paramref name="config"/> (null:
        /// defaults), waits for its Nano host and connects to it. The client then works as after
        /// <see cref="ConnectNano"/>; <see cref="Stop"/> also stops the console's stream.
        /// </summary>
        public void ConnectConsole(XboxConsole console, GameStreamConfig config = null)
        {
            if (console == null)
            {
                throw new ArgumentNullException(nameof(console));
            }
            using (var ch = Boundary.Use(console.Handle, nameof(XboxConsole)))
            using (var gh = config == null ? default(HandleUse) : Boundary.Use(config.Handle, nameof(GameStreamConfig)))
            {
                var consolePtr = ch.Ptr;
                var configPtr = config == null ? IntPtr.Zero : gh.Ptr;
                Connect(p => NativeMethods.xnano_client_connect_console(p, consolePtr, configPtr));
            }
        }

        // The callbacks are always set before a connect: the trampolines with this client's
        // weak user_data in push mode, NULL in pull mode (so nothing of an earlier attempt
        // stays installed). On failure the client is idle and no callback was called: they
        // are cleared again and the keep-alive handle dropped.
        private void Connect(Func<IntPtr, uint> connect)
        {
            lock (_connectLock)
            {
                using (var h = Use())
                {
                    var r = SetCallbacks(h.Ptr, !_pullMode);
                    if (r == NativeMethods.XNANO_OK)
                    {
                        if (!_pullMode)
                        {
                            HoldKeepAlive();
                        }
                        r = connect(h.Ptr);
                    }
                    if (r == NativeMethods.XNANO_OK)
                    {
                        return;
                    }
                    var message = Utf8.Decode(NativeMethods.xnano_last_error());
                    if (NativeMethods.xnano_client_get_state(h.Ptr, out uint state) == NativeMethods.XNANO_OK
                        && state == NativeMethods.XNANO_STATE_IDLE)
                    {
                        // No session: nothing can call back. (Not idle: the connect was refused
                        // because a session runs, and its callbacks and keep-alive stay.)
                        SetCallbacks(h.Ptr, false);
                        DropKeepAlive();
                    }
                    throw new XnanoException((ResultCode)r, message);
                }
            }
        }

        private uint SetCallbacks(IntPtr client, bool install)
        {
            var self = install ? _handle.Callbacks.UserData : IntPtr.Zero;
            var r = NativeMethods.xnano_client_set_video_callback(client, install ? s_video : null, self);
            if (r == NativeMethods.XNANO_OK)
            {
                r = NativeMethods.xnano_client_set_audio_callback(client, install ? s_audio : null, self);
            }
            if (r == NativeMethods.XNANO_OK)
            {
                r = NativeMethods.xnano_client_set_rumble_callback(client, install ? s_rumble : null, self);
            }
            if (r == NativeMethods.XNANO_OK)
            {
                r = NativeMethods.xnano_client_set_state_callback(client, install ? s_state : null, self);
            }
            return r;
        }

        private void HoldKeepAlive()
        {
            lock (_keepAliveLock)
            {
                if (_keepAlive == IntPtr.Zero)
                {
                    _keepAlive = GCHandle.ToIntPtr(GCHandle.Alloc(this));
                }
            }
        }

        // Lets the client be collected again: the session ended (CLOSED, a stop returned, a
        // connect failed). Native code keeps no reference to this handle, so any time is safe.
        private void DropKeepAlive()
        {
            lock (_keepAliveLock)
            {
                if (_keepAlive != IntPtr.Zero)
                {
                    GCHandle.FromIntPtr(_keepAlive).Free();
                    _keepAlive = IntPtr.Zero;
                }
            }
        }

        /// <summary>The current state (<c>xnano_client_get_state</c>).</summary>
        public ClientState State
        {
            get
            {
                using (var h = Use())
                {
                    XnanoException.Check(NativeMethods.xnano_client_get_state(h.Ptr, out uint s));
                    return (ClientState)s;
                }
            }
        }

        /// <summary>Session statistics (<c>xnano_client_get_stats</c>); final numbers after a stop.</summary>
        public ClientStats Stats
        {
            get
            {
                using (var h = Use())
                {
                    return StatsOf(h.Ptr);
                }
            }
        }

        private static ClientStats StatsOf(IntPtr client)
        {
            var s = new xnano_client_stats { struct_size = StructSize.ClientStats };
            XnanoException.Check(NativeMethods.xnano_client_get_stats(client, ref s));
            return new ClientStats(s);
        }

        // The final statistics after this thread's stop returned. xnano_client_get_stats fails
        // with WRONG_STATE while a stop is in progress, and another thread's stop (or Dispose)
        // may still be running, even as a no-op, after ours: wait for it (bounded).
        private static ClientStats FinalStatsOf(IntPtr client)
        {
            var s = new xnano_client_stats { struct_size = StructSize.ClientStats };
            var until = DateTime.UtcNow.AddSeconds(10);
            uint r;
            while ((r = NativeMethods.xnano_client_get_stats(client, ref s)) == NativeMethods.XNANO_ERR_WRONG_STATE
                && DateTime.UtcNow < until)
            {
                System.Threading.Thread.Sleep(1);
                s = new xnano_client_stats { struct_size = StructSize.ClientStats };
            }
            XnanoException.Check(r);
            return new ClientStats(s);
        }

        /// <summary>Sets the state of controller 0..3; the first call announces it. Needs
        /// Connected or later.</summary>
        public void SetControllerState(byte controller, ControllerState state)
        {
            var native = state.ToNative();
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_client_set_controller_state(h.Ptr, controller, ref native));
            }
        }

        /// <summary>Announces or removes controller 0..3.</summary>
        public void SetControllerConnected(byte controller, bool connected)
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_client_set_controller_connected(h.Ptr, controller, connected));
            }
        }

        /// <summary>Asks the console for a keyframe.</summary>
        public void RequestKeyframe()
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_client_request_keyframe(h.Ptr));
            }
        }

        /// <summary>Sends a Change Video Quality message (six values).</summary>
        public void ChangeVideoQuality(params uint[] values)
        {
            if (values == null)
            {
                throw new ArgumentNullException(nameof(values));
            }
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_client_change_video_quality(h.Ptr, values, (UIntPtr)values.Length));
            }
        }

        /// <summary>Sends one encoded microphone packet to the console (copied).</summary>
        public void SendChatAudio(byte[] data)
        {
            if (data == null)
            {
                throw new ArgumentNullException(nameof(data));
            }
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_client_send_chat_audio(h.Ptr, data, (UIntPtr)data.Length));
            }
        }

        /// <summary>
        /// Pull mode: takes the next queued event, waiting up to <paramref name="timeout"/>.
        /// Returns null when nothing arrived in time; throws <see cref="XnanoException"/> with
        /// <see cref="ResultCode.Closed"/> once the session is closed and every event was taken.
        /// </summary>
        public ClientEvent NextEvent(TimeSpan timeout)
        {
            var ms = timeout <= TimeSpan.Zero ? 0u : (uint)Math.Min(timeout.TotalMilliseconds, uint.MaxValue);
            uint r;
            IntPtr ev;
            using (var h = Use())
            {
                r = NativeMethods.xnano_client_next_event(h.Ptr, ms, out ev);
            }
            if (r == NativeMethods.XNANO_ERR_TIMEOUT)
            {
                return null;
            }
            XnanoException.Check(r);
            try
            {
                var e = (xnano_event)Marshal.PtrToStructure(ev, typeof(xnano_event));
                // ABI 1: the payloads are pointers, owned by the event until xnano_event_free.
                switch (e.kind)
                {
                    case NativeMethods.XNANO_EVENT_VIDEO_FRAME:
                        var f = (xnano_video_frame)Marshal.PtrToStructure(NonNull(e.video), typeof(xnano_video_frame));
                        return new VideoFrame(ref f);
                    case NativeMethods.XNANO_EVENT_AUDIO:
                        var a = (xnano_audio_packet)Marshal.PtrToStructure(NonNull(e.audio), typeof(xnano_audio_packet));
                        return new AudioPacket(ref a);
                    case NativeMethods.XNANO_EVENT_RUMBLE:
                        var ru = (xnano_rumble)Marshal.PtrToStructure(NonNull(e.rumble), typeof(xnano_rumble));
                        return new Rumble(ref ru);
                    case NativeMethods.XNANO_EVENT_STATE:
                        return new StateChange(e.state, e.error, Utf8.Decode(e.message));
                    default:
                        throw new XnanoException(ResultCode.Protocol, "unknown event kind " + e.kind);
                }
            }
            finally
            {
                NativeMethods.xnano_event_free(ev);
            }
        }

        private static IntPtr NonNull(IntPtr p)
        {
            if (p == IntPtr.Zero)
            {
                throw new XnanoException(ResultCode.Protocol, "event without its payload");
            }
            return p;
        }

        /// <summary>
        /// Stops the session (<c>xnano_client_stop</c>): when it returns no event is raised any
        /// more. Stopping a stopped or never connected client does nothing; so does stopping a
        /// disposed one. Safe against a concurrent <see cref="Stop"/> or <see cref="Dispose"/>
        /// (the later caller waits for the first). Returns the final statistics. From one of this
        /// client's own handlers: throws <see cref="ResultCode.FromCallback"/>.
        /// </summary>
        public ClientStats Stop()
        {
            HandleUse h;
            try
            {
                h = Use();
            }
            catch (ObjectDisposedException)
            {
                // Disposed (Dispose sets _finalStats before it closes the handle).
                return _finalStats ?? new ClientStats(new xnano_client_stats());
            }
            using (h)
            {
                XnanoException.Check(NativeMethods.xnano_client_stop(h.Ptr));
                // No callback can run any more: the session no longer needs the keep-alive.
                DropKeepAlive();
                return FinalStatsOf(h.Ptr);
            }
        }

        /// <summary>
        /// Stops the session if needed and frees the native client; when it returns no event is
        /// raised any more. Disposing twice, or while another thread stops or disposes, is safe;
        /// calls running on other threads finish first (the handle is a SafeHandle). From one of
        /// this client's own handlers the native client is detached and freed by libxnano once
        /// that handler returned (ABI 1); no other event follows.
        /// </summary>
        public void Dispose()
        {
            if (_handle.IsClosed)
            {
                return;
            }
            try
            {
                using (var h = Use())
                {
                    // Joins the session's threads (FROM_CALLBACK from a handler: the free below
                    // detaches instead). Then the final statistics, for a Stop after Dispose.
                    if (NativeMethods.xnano_client_stop(h.Ptr) == NativeMethods.XNANO_OK)
                    {
                        DropKeepAlive();
                        try
                        {
                            _finalStats = FinalStatsOf(h.Ptr);
                        }
                        catch (XnanoException)
                        {
                            // Dispose does not fail; a later Stop then reports zeros.
                        }
                    }
                    else
                    {
                        // FROM_CALLBACK (inside a handler): whatever the library has now.
                        var s = new xnano_client_stats { struct_size = StructSize.ClientStats };
                        if (NativeMethods.xnano_client_get_stats(h.Ptr, ref s) == NativeMethods.XNANO_OK)
                        {
                            _finalStats = new ClientStats(s);
                        }
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                return; // another thread disposed it meanwhile
            }
            // xnano_client_free (void, never fails) runs once the last call using the handle
            // returned, then the user_data GCHandle is freed.
            _handle.Dispose();
            DropKeepAlive();
        }

        // ------------------------------------------------------------- trampolines
        // Called by libxnano on its threads. Static, marked for AOT compilers; nothing may throw
        // out of them.

        private static Client FromUserData(IntPtr userData)
        {
            Boundary.EnterCallback();
            return CallbackTarget.Resolve<Client>(userData);
        }

        private void Raise<T>(EventHandler<T> handler, T args)
        {
            try
            {
                handler(this, args);
            }
            catch (Exception e)
            {
                ReportCallbackError(e);
            }
        }

        private void ReportCallbackError(Exception e)
        {
            try
            {
                var h = CallbackError;
                if (h != null)
                {
                    h(this, new CallbackErrorEventArgs(e));
                }
                else
                {
                    System.Diagnostics.Trace.WriteLine("xnano: unhandled exception in an event handler: " + e);
                }
            }
            catch
            {
                // Nothing may unwind into native code.
            }
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xnano_video_callback))]
        private static void OnVideo(IntPtr userData, IntPtr frame)
        {
            try
            {
                var c = FromUserData(userData);
                var h = c?.VideoFrameReceived;
                if (h == null)
                {
                    return;
                }
                var f = (xnano_video_frame)Marshal.PtrToStructure(frame, typeof(xnano_video_frame));
                using (c._handle.Callbacks.Running())
                {
                    c.Raise(h, new VideoFrame(ref f));
                }
            }
            catch
            {
                // Nothing may unwind into native code.
            }
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xnano_audio_callback))]
        private static void OnAudio(IntPtr userData, IntPtr packet)
        {
            try
            {
                var c = FromUserData(userData);
                var h = c?.AudioPacketReceived;
                if (h == null)
                {
                    return;
                }
                var p = (xnano_audio_packet)Marshal.PtrToStructure(packet, typeof(xnano_audio_packet));
                using (c._handle.Callbacks.Running())
                {
                    c.Raise(h, new AudioPacket(ref p));
                }
            }
            catch
            {
            }
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xnano_rumble_callback))]
        private static void OnRumble(IntPtr userData, IntPtr rumble)
        {
            try
            {
                var c = FromUserData(userData);
                var h = c?.RumbleReceived;
                if (h == null)
                {
                    return;
                }
                var r = (xnano_rumble)Marshal.PtrToStructure(rumble, typeof(xnano_rumble));
                using (c._handle.Callbacks.Running())
                {
                    c.Raise(h, new Rumble(ref r));
                }
            }
            catch
            {
            }
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xnano_state_callback))]
        private static void OnState(IntPtr userData, uint state, uint error, IntPtr message)
        {
            try
            {
                var c = FromUserData(userData);
                if (c == null)
                {
                    return;
                }
                var h = c.StateChanged;
                if (h != null)
                {
                    using (c._handle.Callbacks.Running())
                    {
                        c.Raise(h, new StateChange(state, error, Utf8.Decode(message)));
                    }
                }
                if (state == NativeMethods.XNANO_STATE_CLOSED)
                {
                    // CLOSED is the session's last callback: it need not keep the client alive
                    // any more. (The user_data GCHandle itself lives until xnano_client_free.)
                    c.DropKeepAlive();
                }
            }
            catch
            {
            }
        }
    }
}
