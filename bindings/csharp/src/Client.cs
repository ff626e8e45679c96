using System;
using System.Runtime.InteropServices;
using System.Threading;
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
    /// (input, keyframe requests, stats) but not <see cref="Stop"/> or <see cref="Dispose"/>,
    /// which throw <see cref="XnanoException"/> with <see cref="ResultCode.FromCallback"/> there.
    /// Exceptions thrown by handlers never reach native code: they are passed to
    /// <see cref="CallbackError"/>.</para>
    /// <para>Pull mode: with <see cref="ClientConfig.EventQueueCapacity"/> &gt; 0 no native
    /// callbacks are installed and no events are raised; read <see cref="NextEvent"/> instead,
    /// on a thread of your choice.</para>
    /// <para>While connected, the client is kept alive by a GCHandle given to native code as
    /// <c>user_data</c> (released when the session closes), so a running session is never
    /// collected under its callbacks. The callback delegates themselves are static fields,
    /// alive for the life of the process.</para>
    /// </remarks>
    public sealed class Client : IDisposable
    {
        // Native code may call these whenever any client is connected: static, never collected.
        private static readonly NativeMethods.xnano_video_callback s_video = OnVideo;
        private static readonly NativeMethods.xnano_audio_callback s_audio = OnAudio;
        private static readonly NativeMethods.xnano_rumble_callback s_rumble = OnRumble;
        private static readonly NativeMethods.xnano_state_callback s_state = OnState;

        private readonly ClientHandle _handle;

        /// <summary>True while native code holds a reference to this client (a session that may
        /// still call back); for tests.</summary>
        internal bool IsReferencedByNative => _self != IntPtr.Zero;
        private readonly bool _pullMode;
        // GCHandle (as IntPtr) to this client while native code may call back; else zero.
        private IntPtr _self;
        private readonly object _selfLock = new object();

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
            MarkApplicationThread();
            var native = (config ?? new ClientConfig()).Native;
            XnanoException.Check(NativeMethods.xnano_client_new(ref native, out IntPtr p));
            _handle = new ClientHandle(p);
            _pullMode = native.event_queue_capacity > 0;
        }

        /// <summary>The native handle (for calls through <see cref="NativeMethods"/>).</summary>
        public ClientHandle Handle => _handle;

        private HandleUse Use() => new HandleUse(_handle, nameof(Client));

        /// <summary>Connects straight to a Nano host (<c>xnano_client_connect_nano</c>). Returns once
        /// TCP is up (state Connecting); the rest is reported through <see cref="StateChanged"/>.</summary>
        public void ConnectNano(string host, ushort tcpPort, ushort udpPort)
        {
            if (host == null)
            {
                throw new ArgumentNullException(nameof(host));
            }
            var hostUtf8 = Utf8.Encode(host);
            using (var h = Use())
            {
                var r = _pullMode ? NativeMethods.XNANO_OK : InstallCallbacks(h.Ptr);
                if (r == NativeMethods.XNANO_OK)
                {
                    r = NativeMethods.xnano_client_connect_nano(h.Ptr, hostUtf8, tcpPort, udpPort);
                }
                FailConnect(h.Ptr, r);
            }
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
            using (var h = Use())
            using (var ch = new HandleUse(console.Handle, nameof(XboxConsole)))
            using (var gh = config == null ? default(HandleUse) : new HandleUse(config.Handle, nameof(GameStreamConfig)))
            {
                var r = _pullMode ? NativeMethods.XNANO_OK : InstallCallbacks(h.Ptr);
                if (r == NativeMethods.XNANO_OK)
                {
                    r = NativeMethods.xnano_client_connect_console(h.Ptr, ch.Ptr, config == null ? IntPtr.Zero : gh.Ptr);
                }
                FailConnect(h.Ptr, r);
            }
        }

        // After a connect call: throws for a failure, releasing the GCHandle when the client
        // is still idle (no session that could call back; a call in the wrong state leaves a
        // running session, and its GCHandle, alone).
        private void FailConnect(IntPtr client, int r)
        {
            if (r == NativeMethods.XNANO_OK)
            {
                return;
            }
            var message = Utf8.Decode(NativeMethods.xnano_last_error());
            if (NativeMethods.xnano_client_get_state(client, out int state) == NativeMethods.XNANO_OK
                && state == NativeMethods.XNANO_STATE_IDLE)
            {
                ReleaseSelf();
            }
            throw new XnanoException((ResultCode)r, message);
        }

        /// <summary>Connects to a simulated console on this machine.</summary>
        public void Connect(Simulator sim)
        {
            if (sim == null)
            {
                throw new ArgumentNullException(nameof(sim));
            }
            ConnectNano(Simulator.Host, sim.TcpPort, sim.UdpPort);
        }

        // Points the native callbacks at the static trampolines with a GCHandle to this client
        // as user_data (one handle for the client's life; its target is always this client).
        private int InstallCallbacks(IntPtr client)
        {
            IntPtr self;
            lock (_selfLock)
            {
                if (_self == IntPtr.Zero)
                {
                    _self = GCHandle.ToIntPtr(GCHandle.Alloc(this));
                }
                self = _self;
            }
            var r = NativeMethods.xnano_client_set_video_callback(client, s_video, self);
            if (r == NativeMethods.XNANO_OK)
            {
                r = NativeMethods.xnano_client_set_audio_callback(client, s_audio, self);
            }
            if (r == NativeMethods.XNANO_OK)
            {
                r = NativeMethods.xnano_client_set_rumble_callback(client, s_rumble, self);
            }
            if (r == NativeMethods.XNANO_OK)
            {
                r = NativeMethods.xnano_client_set_state_callback(client, s_state, self);
            }
            return r;
        }

        // Frees the GCHandle once no callback can come any more.
        private void ReleaseSelf()
        {
            lock (_selfLock)
            {
                if (_self != IntPtr.Zero)
                {
                    GCHandle.FromIntPtr(_self).Free();
                    _self = IntPtr.Zero;
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
                    XnanoException.Check(NativeMethods.xnano_client_get_state(h.Ptr, out int s));
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
                    XnanoException.Check(NativeMethods.xnano_client_get_stats(h.Ptr, out xnano_client_stats s));
                    return new ClientStats(s);
                }
            }
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
            int r;
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
                switch (e.kind)
                {
                    case NativeMethods.XNANO_EVENT_VIDEO_FRAME:
                        return new VideoFrame(ref e.video);
                    case NativeMethods.XNANO_EVENT_AUDIO:
                        return new AudioPacket(ref e.audio);
                    case NativeMethods.XNANO_EVENT_RUMBLE:
                        return new Rumble(ref e.rumble);
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

        /// <summary>
        /// Stops the session (<c>xnano_client_stop</c>): when it returns no event is raised any
        /// more. Stopping a stopped or never connected client does nothing. Returns the final
        /// statistics.
        /// </summary>
        public ClientStats Stop()
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_client_stop(h.Ptr));
            }
            ReleaseSelf();
            return Stats;
        }

        /// <summary>Stops the session if needed and frees the native client. Throws
        /// (FromCallback) when called from one of this client's own event handlers.</summary>
        public void Dispose()
        {
            if (_handle.IsClosed)
            {
                return;
            }
            int r;
            try
            {
                using (var h = Use())
                {
                    r = NativeMethods.xnano_client_stop(h.Ptr);
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (r == NativeMethods.XNANO_ERR_FROM_CALLBACK)
            {
                XnanoException.Check(r);
            }
            _handle.Dispose();
            ReleaseSelf();
        }

        // ------------------------------------------------------------- trampolines
        // Called by libxnano on its threads. Nothing may throw out of them.

        [ThreadStatic]
        private static bool t_known;

        // Called on every thread that calls into libxnano from .NET: such a thread is the
        // application's, and is left as it is.
        internal static void MarkApplicationThread()
        {
            t_known = true;
        }

        // libxnano's own threads become managed threads on their first callback; they are
        // marked as background so that they never hold up the process's exit (Mono waits for
        // foreground threads). Application threads (that called into libxnano) are left alone.
        internal static void MarkThreadBackground()
        {
            if (!t_known)
            {
                t_known = true;
                Thread.CurrentThread.IsBackground = true;
            }
        }

        private static Client FromUserData(IntPtr userData)
        {
            MarkThreadBackground();
            return userData == IntPtr.Zero ? null : GCHandle.FromIntPtr(userData).Target as Client;
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
                c.Raise(h, new VideoFrame(ref f));
            }
            catch
            {
                // Nothing may unwind into native code.
            }
        }

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
                c.Raise(h, new AudioPacket(ref p));
            }
            catch
            {
            }
        }

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
                c.Raise(h, new Rumble(ref r));
            }
            catch
            {
            }
        }

        private static void OnState(IntPtr userData, int state, int error, IntPtr message)
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
                    c.Raise(h, new StateChange(state, error, Utf8.Decode(message)));
                }
                if (state == NativeMethods.XNANO_STATE_CLOSED)
                {
                    // CLOSED is the last call of any callback of this client.
                    c.ReleaseSelf();
                }
            }
            catch
            {
            }
        }
    }
}
