using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using AOT;
using Xnano.Native;

namespace Xnano
{
    /// <summary>Curve of a console's key (<c>XNANO_CURVE_*</c>).</summary>
    public enum Curve : uint
    {
        /// <summary>NIST P-256.</summary>
        P256 = NativeMethods.XNANO_CURVE_P256,
        /// <summary>NIST P-384.</summary>
        P384 = NativeMethods.XNANO_CURVE_P384,
        /// <summary>NIST P-521.</summary>
        P521 = NativeMethods.XNANO_CURVE_P521,
    }

    /// <summary>Who may connect to a console (<c>XNANO_CONSOLE_FLAG_*</c>).</summary>
    [Flags]
    public enum ConsoleFlags : uint
    {
        /// <summary>No flag.</summary>
        None = 0,
        /// <summary>Console users.</summary>
        AllowConsoleUsers = NativeMethods.XNANO_CONSOLE_FLAG_ALLOW_CONSOLE_USERS,
        /// <summary>Authenticated users.</summary>
        AllowAuthenticatedUsers = NativeMethods.XNANO_CONSOLE_FLAG_ALLOW_AUTHENTICATED_USERS,
        /// <summary>Anonymous users.</summary>
        AllowAnonymousUsers = NativeMethods.XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS,
        /// <summary>Certificate pending.</summary>
        CertificatePending = NativeMethods.XNANO_CONSOLE_FLAG_CERTIFICATE_PENDING,
    }

    /// <summary>Where a title is launched (<c>XNANO_TITLE_LOCATION_*</c>).</summary>
    public enum TitleLocation : uint
    {
        /// <summary>Full screen.</summary>
        Full = NativeMethods.XNANO_TITLE_LOCATION_FULL,
        /// <summary>Fill.</summary>
        Fill = NativeMethods.XNANO_TITLE_LOCATION_FILL,
        /// <summary>Snapped.</summary>
        Snapped = NativeMethods.XNANO_TITLE_LOCATION_SNAPPED,
        /// <summary>Start view.</summary>
        StartView = NativeMethods.XNANO_TITLE_LOCATION_START_VIEW,
        /// <summary>System UI.</summary>
        SystemUi = NativeMethods.XNANO_TITLE_LOCATION_SYSTEM_UI,
        /// <summary>The default.</summary>
        Default = NativeMethods.XNANO_TITLE_LOCATION_DEFAULT,
    }

    /// <summary>Media commands (<c>XNANO_MEDIA_*</c>).</summary>
    public enum MediaCommand : uint
    {
#pragma warning disable 1591
        Play = NativeMethods.XNANO_MEDIA_PLAY,
        Pause = NativeMethods.XNANO_MEDIA_PAUSE,
        PlayPauseToggle = NativeMethods.XNANO_MEDIA_PLAY_PAUSE_TOGGLE,
        Stop = NativeMethods.XNANO_MEDIA_STOP,
        Record = NativeMethods.XNANO_MEDIA_RECORD,
        NextTrack = NativeMethods.XNANO_MEDIA_NEXT_TRACK,
        PreviousTrack = NativeMethods.XNANO_MEDIA_PREVIOUS_TRACK,
        FastForward = NativeMethods.XNANO_MEDIA_FAST_FORWARD,
        Rewind = NativeMethods.XNANO_MEDIA_REWIND,
        ChannelUp = NativeMethods.XNANO_MEDIA_CHANNEL_UP,
        ChannelDown = NativeMethods.XNANO_MEDIA_CHANNEL_DOWN,
        Back = NativeMethods.XNANO_MEDIA_BACK,
        View = NativeMethods.XNANO_MEDIA_VIEW,
        Menu = NativeMethods.XNANO_MEDIA_MENU,
        Seek = NativeMethods.XNANO_MEDIA_SEEK,
#pragma warning restore 1591
    }

    /// <summary>SmartGlass gamepad buttons (<c>XNANO_GAMEPAD_*</c>), for UI navigation.</summary>
    [Flags]
    public enum GamepadButtons : ushort
    {
#pragma warning disable 1591
        None = 0,
        Enroll = NativeMethods.XNANO_GAMEPAD_ENROLL,
        Nexus = NativeMethods.XNANO_GAMEPAD_NEXUS,
        Menu = NativeMethods.XNANO_GAMEPAD_MENU,
        View = NativeMethods.XNANO_GAMEPAD_VIEW,
        A = NativeMethods.XNANO_GAMEPAD_A,
        B = NativeMethods.XNANO_GAMEPAD_B,
        X = NativeMethods.XNANO_GAMEPAD_X,
        Y = NativeMethods.XNANO_GAMEPAD_Y,
        DPadUp = NativeMethods.XNANO_GAMEPAD_DPAD_UP,
        DPadDown = NativeMethods.XNANO_GAMEPAD_DPAD_DOWN,
        DPadLeft = NativeMethods.XNANO_GAMEPAD_DPAD_LEFT,
        DPadRight = NativeMethods.XNANO_GAMEPAD_DPAD_RIGHT,
        LeftShoulder = NativeMethods.XNANO_GAMEPAD_LEFT_SHOULDER,
        RightShoulder = NativeMethods.XNANO_GAMEPAD_RIGHT_SHOULDER,
        LeftThumb = NativeMethods.XNANO_GAMEPAD_LEFT_THUMB,
        RightThumb = NativeMethods.XNANO_GAMEPAD_RIGHT_THUMB,
#pragma warning restore 1591
    }

    /// <summary>SmartGlass service channels (<c>XNANO_CHANNEL_*</c>).</summary>
    public enum ServiceChannel : uint
    {
#pragma warning disable 1591
        Core = NativeMethods.XNANO_CHANNEL_CORE,
        SystemInput = NativeMethods.XNANO_CHANNEL_SYSTEM_INPUT,
        SystemInputTvRemote = NativeMethods.XNANO_CHANNEL_SYSTEM_INPUT_TV_REMOTE,
        SystemMedia = NativeMethods.XNANO_CHANNEL_SYSTEM_MEDIA,
        SystemText = NativeMethods.XNANO_CHANNEL_SYSTEM_TEXT,
        SystemBroadcast = NativeMethods.XNANO_CHANNEL_SYSTEM_BROADCAST,
        Title = NativeMethods.XNANO_CHANNEL_TITLE,
#pragma warning restore 1591
    }

    /// <summary>The console's gamestream state (<c>XNANO_GAMESTREAM_*</c>).</summary>
    public enum GameStreamState : uint
    {
#pragma warning disable 1591
        Unknown = NativeMethods.XNANO_GAMESTREAM_UNKNOWN,
        Initializing = NativeMethods.XNANO_GAMESTREAM_INITIALIZING,
        Started = NativeMethods.XNANO_GAMESTREAM_STARTED,
        Stopped = NativeMethods.XNANO_GAMESTREAM_STOPPED,
        Paused = NativeMethods.XNANO_GAMESTREAM_PAUSED,
#pragma warning restore 1591
    }

    /// <summary>What a <see cref="ConsoleEvent"/> reports (<c>xnano_console_event_type</c>).</summary>
    public enum ConsoleEventType : uint
    {
#pragma warning disable 1591
        Connected = NativeMethods.XNANO_CONSOLE_EVENT_CONNECTED,
        Closed = NativeMethods.XNANO_CONSOLE_EVENT_CLOSED,
        ConsoleStatus = NativeMethods.XNANO_CONSOLE_EVENT_CONSOLE_STATUS,
        MediaState = NativeMethods.XNANO_CONSOLE_EVENT_MEDIA_STATE,
        TextConfiguration = NativeMethods.XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION,
        TextInput = NativeMethods.XNANO_CONSOLE_EVENT_TEXT_INPUT,
        TextDone = NativeMethods.XNANO_CONSOLE_EVENT_TEXT_DONE,
        ChannelStarted = NativeMethods.XNANO_CONSOLE_EVENT_CHANNEL_STARTED,
        ChannelFailed = NativeMethods.XNANO_CONSOLE_EVENT_CHANNEL_FAILED,
        GameStreamState = NativeMethods.XNANO_CONSOLE_EVENT_GAMESTREAM_STATE,
        GameStreamConnected = NativeMethods.XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED,
        GameStreamFailed = NativeMethods.XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED,
        Other = NativeMethods.XNANO_CONSOLE_EVENT_OTHER,
#pragma warning restore 1591
    }

    /// <summary>The state of an <see cref="XboxConsole"/> (<c>xnano_console_state</c>).</summary>
    public enum ConsoleState : uint
    {
        /// <summary>Created, not connected.</summary>
        Idle = NativeMethods.XNANO_CONSOLE_STATE_IDLE,
        /// <summary>Connected: commands may be sent.</summary>
        Connected = NativeMethods.XNANO_CONSOLE_STATE_CONNECTED,
        /// <summary>The session ended.</summary>
        Closed = NativeMethods.XNANO_CONSOLE_STATE_CLOSED,
    }

    /// <summary>A console as its discovery response describes it (<c>xnano_console_info</c>).</summary>
    public sealed class ConsoleInfo
    {
        /// <summary>The console described by a raw <c>xnano_console_info</c> (as
        /// <c>xnano_discovery_get</c>, <c>xnano_console_get_info</c> or another library built
        /// on xnano.h writes it).</summary>
        public ConsoleInfo(xnano_console_info i)
        {
            Name = Text(i.name, NativeMethods.XNANO_CONSOLE_NAME_SIZE);
            LiveId = Text(i.live_id, NativeMethods.XNANO_LIVE_ID_SIZE);
            Address = Text(i.address, NativeMethods.XNANO_ADDRESS_SIZE);
            Uuid = Text(i.uuid, NativeMethods.XNANO_UUID_SIZE);
            Curve = (Curve)i.curve;
            Flags = (ConsoleFlags)i.flags;
            DeviceType = i.device_type;
            LastError = i.last_error;
            Port = i.port;
        }

        private static string Text(byte[] b, int size)
        {
            if (b == null)
            {
                return "";
            }
            var n = Array.IndexOf(b, (byte)0);
            return System.Text.Encoding.UTF8.GetString(b, 0, n < 0 ? Math.Min(b.Length, size) : n);
        }

        /// <summary>The console's name.</summary>
        public string Name { get; }
        /// <summary>The console's Live ID (for <see cref="SmartGlass.PowerOn"/>).</summary>
        public string LiveId { get; }
        /// <summary>The SmartGlass address, "IP:PORT", as <see cref="XboxConsole.Connect(string, ConsoleConfig)"/> takes it.</summary>
        public string Address { get; }
        /// <summary>The console's UUID.</summary>
        public string Uuid { get; }
        /// <summary>Curve of the console's key.</summary>
        public Curve Curve { get; }
        /// <summary>Who may connect.</summary>
        public ConsoleFlags Flags { get; }
        /// <summary>Device type (<see cref="IsXboxOne"/>).</summary>
        public uint DeviceType { get; }
        /// <summary>True for an Xbox One console.</summary>
        public bool IsXboxOne => DeviceType == NativeMethods.XNANO_DEVICE_XBOX_ONE;
        /// <summary>The console's last error code.</summary>
        public uint LastError { get; }
        /// <summary>The SmartGlass UDP port.</summary>
        public ushort Port { get; }
        /// <summary>True when anonymous connections are allowed.</summary>
        public bool AnonymousAllowed => (Flags & ConsoleFlags.AllowAnonymousUsers) != 0;

        /// <inheritdoc/>
        public override string ToString() => $"{Name} ({LiveId}) at {Address}";
    }

    /// <summary>Settings of <see cref="XboxConsole.Connect(string, ConsoleConfig)"/>; the library's
    /// defaults (anonymous) on construction.</summary>
    public sealed class ConsoleConfig
    {
        internal xnano_console_config Native;

        /// <summary>The library's defaults.</summary>
        public ConsoleConfig()
        {
            Boundary.Enter();
            Native.struct_size = StructSize.ConsoleConfig;
            XnanoException.Check(NativeMethods.xnano_console_config_default(ref Native));
            Native.struct_size = StructSize.ConsoleConfig;
        }

        private static uint Ms(TimeSpan t)
        {
            if (t < TimeSpan.Zero || t.TotalMilliseconds > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(t));
            }
            return (uint)t.TotalMilliseconds;
        }

        /// <summary>Xbox Live user hash for an authenticated connection (with <see cref="AuthToken"/>).</summary>
        public string UserHash { get; set; }
        /// <summary>Xbox Live XSTS token.</summary>
        public string AuthToken { get; set; }
        /// <summary>Connect anonymously even when the console's flags do not allow it.</summary>
        public bool IgnoreAnonymousFlag { get => Native.ignore_anonymous_flag; set => Native.ignore_anonymous_flag = value; }
        /// <summary>How long the discovery that fetches the certificate waits.</summary>
        public TimeSpan DiscoveryTimeout
        {
            get => TimeSpan.FromMilliseconds(Native.discovery_timeout_ms);
            set => Native.discovery_timeout_ms = Ms(value);
        }
        /// <summary>How long blocking calls wait (connect, channel and gamestream start).</summary>
        public TimeSpan WaitTimeout
        {
            get => TimeSpan.FromMilliseconds(Native.wait_timeout_ms);
            set => Native.wait_timeout_ms = Ms(value);
        }
        /// <summary>Time between heartbeats.</summary>
        public TimeSpan HeartbeatInterval
        {
            get => TimeSpan.FromMilliseconds(Native.heartbeat_interval_ms);
            set => Native.heartbeat_interval_ms = Ms(value);
        }
        /// <summary>The session closes when the console is silent this long.</summary>
        public TimeSpan ConsoleTimeout
        {
            get => TimeSpan.FromMilliseconds(Native.console_timeout_ms);
            set => Native.console_timeout_ms = Ms(value);
        }
        /// <summary>0: events are raised only. N &gt; 0: pull mode, no events are raised and at most
        /// N are queued for <see cref="XboxConsole.NextEvent"/>.</summary>
        public uint EventQueueCapacity { get => Native.event_queue_capacity; set => Native.event_queue_capacity = value; }
    }

    /// <summary>One event of an <see cref="XboxConsole"/> (<c>xnano_console_event</c>); fields that do
    /// not belong to <see cref="Kind"/> are 0 or "".</summary>
    public sealed class ConsoleEvent : EventArgs
    {
        internal ConsoleEvent(ref xnano_console_event e)
        {
            Kind = (ConsoleEventType)e.kind;
            Error = (ResultCode)e.error;
            Message = Utf8.Decode(e.message);
            Json = Utf8.Decode(e.json);
            ParticipantId = e.participant_id;
            TitleId = e.title_id;
            OsMajorVersion = e.os_major_version;
            OsMinorVersion = e.os_minor_version;
            OsBuildNumber = e.os_build_number;
            ActiveTitleCount = e.active_title_count;
            PlaybackStatus = e.playback_status;
            MediaPosition = e.media_position;
            MediaEnd = e.media_end;
            TextSessionId = e.text_session_id;
            TextVersion = e.text_version;
            TextMaxLength = e.text_max_length;
            TextResult = e.text_result;
            Text = Utf8.Decode(e.text);
            Channel = (ServiceChannel)e.channel;
            GameStreamState = (GameStreamState)e.gamestream_state;
            TcpPort = e.tcp_port;
            UdpPort = e.udp_port;
        }

#pragma warning disable 1591 // as the header documents them
        public ConsoleEventType Kind { get; }
        public ResultCode Error { get; }
        public string Message { get; }
        public string Json { get; }
        public uint ParticipantId { get; }
        public uint TitleId { get; }
        public uint OsMajorVersion { get; }
        public uint OsMinorVersion { get; }
        public uint OsBuildNumber { get; }
        public uint ActiveTitleCount { get; }
        public uint PlaybackStatus { get; }
        public ulong MediaPosition { get; }
        public ulong MediaEnd { get; }
        public uint TextSessionId { get; }
        public uint TextVersion { get; }
        public uint TextMaxLength { get; }
        /// <summary>XNANO_TEXT_RESULT_*: see <see cref="TextAccepted"/>.</summary>
        public uint TextResult { get; }
        public bool TextAccepted => TextResult == NativeMethods.XNANO_TEXT_RESULT_ACCEPT;
        public string Text { get; }
        public ServiceChannel Channel { get; }
        public GameStreamState GameStreamState { get; }
        public ushort TcpPort { get; }
        public ushort UdpPort { get; }
#pragma warning restore 1591

        /// <inheritdoc/>
        public override string ToString() => Kind + (Message.Length > 0 ? " " + Message : "");
    }

    /// <summary>A SmartGlass gamepad state (UI navigation outside a gamestream).</summary>
    public struct GamepadState
    {
        /// <summary>Buttons down.</summary>
        public GamepadButtons Buttons;
        /// <summary>Left trigger, 0..1.</summary>
        public float LeftTrigger;
        /// <summary>Right trigger, 0..1.</summary>
        public float RightTrigger;
        /// <summary>Left stick X, -1..1.</summary>
        public float LeftThumbX;
        /// <summary>Left stick Y, -1..1.</summary>
        public float LeftThumbY;
        /// <summary>Right stick X, -1..1.</summary>
        public float RightThumbX;
        /// <summary>Right stick Y, -1..1.</summary>
        public float RightThumbY;
    }

    /// <summary>Discovery and power-on.</summary>
    public static class SmartGlass
    {
        /// <summary>The SmartGlass UDP port of consoles.</summary>
        public const ushort DefaultPort = NativeMethods.XNANO_SMARTGLASS_PORT;

        /// <summary>
        /// Discovers consoles (<c>xnano_discover</c>): with <paramref name="address"/> ("host" or
        /// "host:port") asks that console and returns when it answers; with null broadcasts and
        /// collects answers for the whole <paramref name="timeout"/>. Nothing found: empty list.
        /// </summary>
        public static IList<ConsoleInfo> Discover(string address, TimeSpan timeout)
        {
            Boundary.Enter();
            var ms = (uint)Math.Max(0, Math.Min(timeout.TotalMilliseconds, uint.MaxValue));
            XnanoException.Check(NativeMethods.xnano_discover(Utf8.Encode(address), ms, out IntPtr p));
            var list = new List<ConsoleInfo>();
            using (var handle = new DiscoveryHandle(p))
            using (var h = Boundary.Use(handle, "discovery"))
            {
                XnanoException.Check(NativeMethods.xnano_discovery_count(h.Ptr, out UIntPtr count));
                for (ulong i = 0; i < count.ToUInt64(); i++)
                {
                    var info = StructSize.NewConsoleInfo();
                    XnanoException.Check(NativeMethods.xnano_discovery_get(h.Ptr, (UIntPtr)i, ref info));
                    list.Add(new ConsoleInfo(info));
                }
            }
            return list;
        }

        /// <summary>Sends power-on requests for <paramref name="liveId"/> (broadcast, multicast and,
        /// when given, to <paramref name="address"/>), <paramref name="tries"/> rounds (0: 2).</summary>
        public static void PowerOn(string liveId, string address = null, uint tries = 0)
        {
            if (liveId == null)
            {
                throw new ArgumentNullException(nameof(liveId));
            }
            Boundary.Enter();
            XnanoException.Check(NativeMethods.xnano_power_on(Utf8.Encode(liveId), Utf8.Encode(address), tries));
        }
    }

    /// <summary>
    /// A gamestream configuration (<c>xnano_gamestream_config</c>): keys by their protocol name
    /// ("videoMaximumWidth", "enableOpusAudio", ...) with text values.
    /// </summary>
    public sealed class GameStreamConfig : IDisposable
    {
        /// <summary>The defaults (1280x720 at 60 fps, AAC audio, chat audio on, ...).</summary>
        public GameStreamConfig()
        {
            Boundary.Enter();
            XnanoException.Check(NativeMethods.xnano_gamestream_config_new(out IntPtr p));
            Handle = new GameStreamConfigHandle(p);
        }

        /// <summary>The native handle.</summary>
        public GameStreamConfigHandle Handle { get; }

        /// <summary>A key's value as text; setting accepts integers, numbers and true/false.
        /// Unknown keys and values of the wrong type throw InvalidArgument.</summary>
        public string this[string key]
        {
            get => Get(key);
            set => Set(key, value);
        }

        /// <summary>Sets <paramref name="key"/> from a string, number or bool.</summary>
        public void Set(string key, object value)
        {
            if (key == null)
            {
                throw new ArgumentNullException(nameof(key));
            }
            string text;
            if (value is bool b)
            {
                text = b ? "true" : "false";
            }
            else if (value is IFormattable f)
            {
                text = f.ToString(null, CultureInfo.InvariantCulture);
            }
            else
            {
                text = value?.ToString() ?? throw new ArgumentNullException(nameof(value));
            }
            using (var h = Boundary.Use(Handle, nameof(GameStreamConfig)))
            {
                XnanoException.Check(NativeMethods.xnano_gamestream_config_set(h.Ptr, Utf8.Encode(key), Utf8.Encode(text)));
            }
        }

        /// <summary>The text form of <paramref name="key"/>.</summary>
        public string Get(string key)
        {
            if (key == null)
            {
                throw new ArgumentNullException(nameof(key));
            }
            var k = Utf8.Encode(key);
            using (var h = Boundary.Use(Handle, nameof(GameStreamConfig)))
            {
                for (var size = 32; ; size *= 8)
                {
                    var buffer = new byte[size];
                    var r = NativeMethods.xnano_gamestream_config_get(h.Ptr, k, buffer, (UIntPtr)size, out UIntPtr len);
                    if (r == NativeMethods.XNANO_ERR_BUFFER_TOO_SMALL && size < 1 << 20)
                    {
                        continue;
                    }
                    XnanoException.Check(r);
                    return System.Text.Encoding.UTF8.GetString(buffer, 0, (int)len.ToUInt64());
                }
            }
        }

        /// <summary>Frees the configuration.</summary>
        public void Dispose() => Handle.Dispose();
    }

    /// <summary>
    /// A SmartGlass session with a console (<c>xnano_console</c>): connect, receive
    /// <see cref="EventReceived"/>, send commands, start gamestreams with
    /// <see cref="Client.ConnectConsole"/>, then <see cref="Disconnect"/> or <see cref="Dispose"/>.
    /// </summary>
    /// <remarks>
    /// Events are raised on the console's socket thread (those arriving during
    /// <see cref="Connect(string, ConsoleConfig)"/> on the calling thread, before it returns), one
    /// at a time, in order; Closed comes once and is the last. Handlers may send commands but not
    /// <see cref="Disconnect"/> (FromCallback); <see cref="Dispose"/> from a handler detaches the
    /// console (freed by libxnano once the handler returned). The same lifetime rules as
    /// <see cref="Client"/> apply: static callbacks, a weak GCHandle as user_data for the life of
    /// the native handle, a strong one while connected, SafeHandle.
    /// </remarks>
    public sealed class XboxConsole : IDisposable
    {
        // Static, never collected; a static method (AOT) that finds its console via user_data.
        private static readonly NativeMethods.xnano_console_event_callback s_event = OnEvent;

        // Serialises connects; never held by Disconnect, Dispose or a callback (it is re-entered
        // by events raised on the connecting thread, which cannot connect: the console is busy).
        private readonly object _connectLock = new object();
        // Strong GCHandle while a session may call back (see Client); guarded by _keepAliveLock.
        private IntPtr _keepAlive;
        private readonly object _keepAliveLock = new object();

        /// <summary>Raised for each event of the session.</summary>
        public event EventHandler<ConsoleEvent> EventReceived;
        /// <summary>Raised when an <see cref="EventReceived"/> handler threw.</summary>
        public event EventHandler<CallbackErrorEventArgs> CallbackError;

        /// <summary>Creates an idle console handle (<c>xnano_console_new</c>).</summary>
        public XboxConsole()
        {
            Boundary.Enter();
            XnanoException.Check(NativeMethods.xnano_console_new(out IntPtr p));
            Handle = new ConsoleHandle(p, this);
        }

        /// <summary>The native handle.</summary>
        public ConsoleHandle Handle { get; }

        /// <summary>True while a session may still call back; for tests.</summary>
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

        private HandleUse Use() => Boundary.Use(Handle, nameof(XboxConsole));

        /// <summary>Connects to the console at <paramref name="address"/> ("host" or "host:port")
        /// and waits until it accepts. Errors: NotFound, Refused, Timeout, Io. A failed connect
        /// leaves the console idle: it may be connected again.</summary>
        public void Connect(string address, ConsoleConfig config = null)
        {
            if (address == null)
            {
                throw new ArgumentNullException(nameof(address));
            }
            config = config ?? new ConsoleConfig();
            var native = config.Native;
            native.struct_size = StructSize.ConsoleConfig;
            var addr = Utf8.Encode(address);
            var push = native.event_queue_capacity == 0;
            var strings = new List<IntPtr>();
            try
            {
                native.userhash = Alloc(config.UserHash, strings);
                native.auth_token = Alloc(config.AuthToken, strings);
                lock (_connectLock)
                using (var h = Use())
                {
                    // Always set: the trampoline (push mode) or NULL (pull mode).
                    var r = SetCallback(h.Ptr, push);
                    if (r == NativeMethods.XNANO_OK)
                    {
                        if (push)
                        {
                            HoldKeepAlive();
                        }
                        r = NativeMethods.xnano_console_connect(h.Ptr, addr, ref native);
                    }
                    if (r != NativeMethods.XNANO_OK)
                    {
                        var message = Utf8.Decode(NativeMethods.xnano_last_error());
                        if (NativeMethods.xnano_console_get_state(h.Ptr, out uint state) == NativeMethods.XNANO_OK
                            && state == NativeMethods.XNANO_CONSOLE_STATE_IDLE)
                        {
                            // No session, no callback: clear it and let the console be collected.
                            SetCallback(h.Ptr, false);
                            DropKeepAlive();
                        }
                        throw new XnanoException((ResultCode)r, message);
                    }
                }
            }
            finally
            {
                foreach (var p in strings)
                {
                    Marshal.FreeHGlobal(p);
                }
            }
        }

        private uint SetCallback(IntPtr console, bool install)
        {
            return install
                ? NativeMethods.xnano_console_set_event_callback(console, s_event, Handle.Callbacks.UserData)
                : NativeMethods.xnano_console_set_event_callback(console, null, IntPtr.Zero);
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

        /// <summary>Connects to a discovered console.</summary>
        public void Connect(ConsoleInfo info, ConsoleConfig config = null)
        {
            if (info == null)
            {
                throw new ArgumentNullException(nameof(info));
            }
            Connect(info.Address, config);
        }

        private static IntPtr Alloc(string s, List<IntPtr> owned)
        {
            if (string.IsNullOrEmpty(s))
            {
                return IntPtr.Zero;
            }
            var bytes = Utf8.Encode(s);
            var p = Marshal.AllocHGlobal(bytes.Length);
            owned.Add(p);
            Marshal.Copy(bytes, 0, p, bytes.Length);
            return p;
        }

        /// <summary>The session's state.</summary>
        public ConsoleState State
        {
            get
            {
                using (var h = Use())
                {
                    XnanoException.Check(NativeMethods.xnano_console_get_state(h.Ptr, out uint s));
                    return (ConsoleState)s;
                }
            }
        }

        /// <summary>What discovery said about the connected console.</summary>
        public ConsoleInfo Info
        {
            get
            {
                using (var h = Use())
                {
                    var i = StructSize.NewConsoleInfo();
                    XnanoException.Check(NativeMethods.xnano_console_get_info(h.Ptr, ref i));
                    return new ConsoleInfo(i);
                }
            }
        }

        /// <summary>Events dropped because the pull-mode queue was full.</summary>
        public ulong EventsDropped
        {
            get
            {
                using (var h = Use())
                {
                    XnanoException.Check(NativeMethods.xnano_console_events_dropped(h.Ptr, out ulong n));
                    return n;
                }
            }
        }

        /// <summary>Pull mode: the next event, waiting up to <paramref name="timeout"/>; null on
        /// timeout; throws Closed after the last event.</summary>
        public ConsoleEvent NextEvent(TimeSpan timeout)
        {
            var ms = timeout <= TimeSpan.Zero ? 0u : (uint)Math.Min(timeout.TotalMilliseconds, uint.MaxValue);
            uint r;
            IntPtr ev;
            using (var h = Use())
            {
                r = NativeMethods.xnano_console_next_event(h.Ptr, ms, out ev);
            }
            if (r == NativeMethods.XNANO_ERR_TIMEOUT)
            {
                return null;
            }
            XnanoException.Check(r);
            try
            {
                var e = (xnano_console_event)Marshal.PtrToStructure(ev, typeof(xnano_console_event));
                return new ConsoleEvent(ref e);
            }
            finally
            {
                NativeMethods.xnano_console_event_free(ev);
            }
        }

        /// <summary>Says goodbye and joins the session's thread; the Closed event comes before it
        /// returns and no event follows. Disconnecting an idle, closed or disposed console does
        /// nothing; a Connect running on another thread fails (Closed). From one of this console's
        /// handlers: FromCallback.</summary>
        public void Disconnect()
        {
            HandleUse h;
            try
            {
                h = Use();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            using (h)
            {
                XnanoException.Check(NativeMethods.xnano_console_disconnect(h.Ptr));
            }
            DropKeepAlive();
        }

        /// <summary>Disconnects if needed and frees the handle; when it returns no event is raised
        /// any more. Safe twice and against a concurrent <see cref="Disconnect"/>/Dispose; from a
        /// handler, the console is detached and freed by libxnano after the handler.</summary>
        public void Dispose()
        {
            if (Handle.IsClosed)
            {
                return;
            }
            try
            {
                using (var h = Use())
                {
                    // Joins the session (FROM_CALLBACK in a handler: the free detaches instead).
                    if (NativeMethods.xnano_console_disconnect(h.Ptr) == NativeMethods.XNANO_OK)
                    {
                        DropKeepAlive();
                    }
                }
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            Handle.Dispose();
            DropKeepAlive();
        }

        /// <summary>Powers the console off (Closed with Closed follows).</summary>
        public void PowerOff() => Call(NativeMethods.xnano_console_power_off);

        /// <summary>Unsnaps the snapped app.</summary>
        public void Unsnap() => Call(NativeMethods.xnano_console_unsnap);

        /// <summary>Launches a title or URI.</summary>
        public void LaunchTitle(string uri, TitleLocation location = TitleLocation.Default)
        {
            var u = Utf8.Encode(uri ?? throw new ArgumentNullException(nameof(uri)));
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_console_launch_title(h.Ptr, u, (uint)location));
            }
        }

        /// <summary>Sends a media command to <paramref name="titleId"/>; returns the request id.</summary>
        public ulong SendMediaCommand(uint titleId, MediaCommand command, ulong seekPosition = 0)
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_console_media_command(h.Ptr, titleId, (uint)command, seekPosition, out ulong id));
                return id;
            }
        }

        /// <summary>Sends a gamepad state on the SystemInput channel.</summary>
        public void Gamepad(GamepadState state)
        {
            var g = new xnano_gamepad
            {
                struct_size = StructSize.Gamepad,
                buttons = (ushort)state.Buttons,
                left_trigger = state.LeftTrigger,
                right_trigger = state.RightTrigger,
                left_thumb_x = state.LeftThumbX,
                left_thumb_y = state.LeftThumbY,
                right_thumb_x = state.RightThumbX,
                right_thumb_y = state.RightThumbY,
            };
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_console_gamepad(h.Ptr, ref g));
            }
        }

        /// <summary>Replaces the text of the active text session.</summary>
        public void SendText(string text)
        {
            var t = Utf8.Encode(text ?? throw new ArgumentNullException(nameof(text)));
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_console_send_text(h.Ptr, t));
            }
        }

        /// <summary>Acknowledges a version of a text session.</summary>
        public void TextAcknowledge(uint textSessionId, uint version)
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_console_text_acknowledge(h.Ptr, textSessionId, version));
            }
        }

        /// <summary>Ends the active text session, keeping the text or not.</summary>
        public void TextDone(bool accept)
        {
            var result = accept ? NativeMethods.XNANO_TEXT_RESULT_ACCEPT : NativeMethods.XNANO_TEXT_RESULT_CANCEL;
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_console_text_done(h.Ptr, result));
            }
        }

        /// <summary>Records a game DVR clip between two offsets from now, in seconds.</summary>
        public void GameDvrRecord(int startDeltaSeconds, int endDeltaSeconds)
        {
            using (var h = Use())
            {
                XnanoException.Check(NativeMethods.xnano_console_game_dvr_record(h.Ptr, startDeltaSeconds, endDeltaSeconds));
            }
        }

        private void Call(Func<IntPtr, uint> f)
        {
            using (var h = Use())
            {
                XnanoException.Check(f(h.Ptr));
            }
        }

        [MonoPInvokeCallback(typeof(NativeMethods.xnano_console_event_callback))]
        private static void OnEvent(IntPtr userData, IntPtr ev)
        {
            try
            {
                Boundary.EnterCallback();
                var c = CallbackTarget.Resolve<XboxConsole>(userData);
                if (c == null)
                {
                    return;
                }
                var e = (xnano_console_event)Marshal.PtrToStructure(ev, typeof(xnano_console_event));
                var h = c.EventReceived;
                if (h != null)
                {
                    var args = new ConsoleEvent(ref e);
                    try
                    {
                        using (c.Handle.Callbacks.Running())
                        {
                            h(c, args);
                        }
                    }
                    catch (Exception x)
                    {
                        try
                        {
                            var eh = c.CallbackError;
                            if (eh != null)
                            {
                                eh(c, new CallbackErrorEventArgs(x));
                            }
                            else
                            {
                                System.Diagnostics.Trace.WriteLine("xnano: unhandled exception in a console event handler: " + x);
                            }
                        }
                        catch
                        {
                        }
                    }
                }
                if (e.kind == NativeMethods.XNANO_CONSOLE_EVENT_CLOSED)
                {
                    // CLOSED is the session's last event: no need to keep the console alive.
                    // (The user_data GCHandle lives until xnano_console_free returned.)
                    c.DropKeepAlive();
                }
            }
            catch
            {
                // Nothing may unwind into native code.
            }
        }
    }
}
