using System;
using Xnano.Native;

namespace Xnano
{
    /// <summary>Client settings; a new instance holds the library's defaults
    /// (<c>xnano_client_config_default</c>). Preferences left null mean "any".</summary>
    public sealed class ClientConfig
    {
        internal xnano_client_config Native;

        /// <summary>The library's defaults.</summary>
        public ClientConfig()
        {
            Boundary.Enter();
            Native.struct_size = StructSize.ClientConfig;
            XnanoException.Check(NativeMethods.xnano_client_config_default(ref Native));
            Native.struct_size = StructSize.ClientConfig;
        }

        private static uint? Pref(uint v) => v == NativeMethods.XNANO_ANY ? (uint?)null : v;
        private static uint Pref(uint? v) => v ?? NativeMethods.XNANO_ANY;
        private static TimeSpan Ms(uint v) => TimeSpan.FromMilliseconds(v);

        private static uint Ms(TimeSpan t)
        {
            if (t < TimeSpan.Zero || t.TotalMilliseconds > uint.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(t));
            }
            return (uint)t.TotalMilliseconds;
        }

        /// <summary>Preferred video width, or null for any.</summary>
        public uint? VideoWidth { get => Pref(Native.video_width); set => Native.video_width = Pref(value); }
        /// <summary>Preferred video height, or null for any.</summary>
        public uint? VideoHeight { get => Pref(Native.video_height); set => Native.video_height = Pref(value); }
        /// <summary>Preferred video codec, or null for any.</summary>
        public VideoCodec? VideoCodec
        {
            get => (VideoCodec?)Pref(Native.video_codec);
            set => Native.video_codec = Pref((uint?)value);
        }
        /// <summary>Preferred audio codec, or null for any.</summary>
        public AudioCodec? AudioCodec
        {
            get => (AudioCodec?)Pref(Native.audio_codec);
            set => Native.audio_codec = Pref((uint?)value);
        }
        /// <summary>Preferred audio channel count, or null for any.</summary>
        public uint? AudioChannels { get => Pref(Native.audio_channels); set => Native.audio_channels = Pref(value); }
        /// <summary>Preferred audio sample rate (Hz), or null for any.</summary>
        public uint? AudioSampleRate { get => Pref(Native.audio_sample_rate); set => Native.audio_sample_rate = Pref(value); }
        /// <summary>TCP connect and handshake timeout.</summary>
        public TimeSpan ConnectTimeout { get => Ms(Native.connect_timeout_ms); set => Native.connect_timeout_ms = Ms(value); }
        /// <summary>The session closes (Timeout) when the console is silent this long.</summary>
        public TimeSpan SilenceTimeout { get => Ms(Native.silence_timeout_ms); set => Native.silence_timeout_ms = Ms(value); }
        /// <summary>How long a video frame may wait for its missing chunks.</summary>
        public TimeSpan DefragTimeout { get => Ms(Native.defrag_timeout_ms); set => Native.defrag_timeout_ms = Ms(value); }
        /// <summary>Interval of keyframe requests while none arrives.</summary>
        public TimeSpan KeyframeRetry { get => Ms(Native.keyframe_retry_ms); set => Native.keyframe_retry_ms = Ms(value); }
        /// <summary>The most input frames sent per second.</summary>
        public uint InputReadsPerSecond { get => Native.input_reads_per_second; set => Native.input_reads_per_second = value; }
        /// <summary>The largest video frame accepted, bytes.</summary>
        public uint MaxFrameSize { get => Native.max_frame_size; set => Native.max_frame_size = value; }
        /// <summary>UDP receive buffer asked from the kernel, bytes.</summary>
        public uint UdpReceiveBuffer { get => Native.udp_recv_buffer; set => Native.udp_recv_buffer = value; }
        /// <summary>0: events go to the .NET events only. N &gt; 0: they are also queued (at most N)
        /// for <see cref="Client.NextEvent"/>.</summary>
        public uint EventQueueCapacity { get => Native.event_queue_capacity; set => Native.event_queue_capacity = value; }
        /// <summary>Open the ChatAudio channel.</summary>
        public bool ChatAudio { get => Native.chat_audio; set => Native.chat_audio = value; }
        /// <summary>Hold video back until the first keyframe.</summary>
        public bool WaitForFirstKeyframe { get => Native.wait_for_first_keyframe; set => Native.wait_for_first_keyframe = value; }
    }

    /// <summary>Settings of the simulated console; a new instance holds the library's defaults
    /// (<c>xnano_sim_config_default</c>).</summary>
    public sealed class SimConfig
    {
        internal xnano_sim_config Native;

        /// <summary>The library's defaults.</summary>
        public SimConfig()
        {
            Boundary.Enter();
            Native.struct_size = StructSize.SimConfig;
            XnanoException.Check(NativeMethods.xnano_sim_config_default(ref Native));
            Native.struct_size = StructSize.SimConfig;
        }

        /// <summary>TCP (control) port on 127.0.0.1; 0: any free port.</summary>
        public ushort TcpPort { get => Native.tcp_port; set => Native.tcp_port = value; }
        /// <summary>UDP (data) port on 127.0.0.1; 0: any free port.</summary>
        public ushort UdpPort { get => Native.udp_port; set => Native.udp_port = value; }
        /// <summary>Video width.</summary>
        public uint Width { get => Native.width; set => Native.width = value; }
        /// <summary>Video height.</summary>
        public uint Height { get => Native.height; set => Native.height = value; }
        /// <summary>Frames per second, 1..240.</summary>
        public uint Fps { get => Native.fps; set => Native.fps = value; }
        /// <summary>H.264 target bitrate, bits per second.</summary>
        public uint BitrateBps { get => Native.bitrate_bps; set => Native.bitrate_bps = value; }
        /// <summary>A keyframe every this many frames; 0: only the first and requested ones.</summary>
        public uint KeyframeInterval { get => Native.keyframe_interval; set => Native.keyframe_interval = value; }
        /// <summary>Video payload bytes per UDP packet.</summary>
        public uint ChunkSize { get => Native.chunk_size; set => Native.chunk_size = value; }
        /// <summary>Where the video comes from.</summary>
        public SimVideoSource VideoSource { get => (SimVideoSource)Native.video_source; set => Native.video_source = (uint)value; }
        /// <summary>Synthetic video: smallest frame, bytes.</summary>
        public uint SyntheticMinLength { get => Native.synthetic_min_len; set => Native.synthetic_min_len = value; }
        /// <summary>Synthetic video: largest frame, bytes.</summary>
        public uint SyntheticMaxLength { get => Native.synthetic_max_len; set => Native.synthetic_max_len = value; }
        /// <summary>Synthetic video: seed of the contents.</summary>
        public ulong SyntheticSeed { get => Native.synthetic_seed; set => Native.synthetic_seed = value; }
        /// <summary>Where the audio comes from.</summary>
        public SimAudioSource AudioSource { get => (SimAudioSource)Native.audio_source; set => Native.audio_source = (uint)value; }
        /// <summary>Realtime telemetry interval, ms; 0: none.</summary>
        public uint TelemetryIntervalMs { get => Native.telemetry_interval_ms; set => Native.telemetry_interval_ms = value; }
        /// <summary>Seed of each session's random numbers; 0: random.</summary>
        public ulong SessionSeed { get => Native.session_seed; set => Native.session_seed = value; }
        /// <summary>UDP impairment: percentage of datagrams dropped.</summary>
        public double LossPercent { get => Native.loss_pct; set => Native.loss_pct = value; }
        /// <summary>UDP impairment: percentage reordered.</summary>
        public double ReorderPercent { get => Native.reorder_pct; set => Native.reorder_pct = value; }
        /// <summary>UDP impairment: percentage duplicated.</summary>
        public double DuplicatePercent { get => Native.duplicate_pct; set => Native.duplicate_pct = value; }
        /// <summary>UDP impairment: fixed delay, ms.</summary>
        public uint DelayMs { get => Native.delay_ms; set => Native.delay_ms = value; }
        /// <summary>UDP impairment: jitter, +- ms.</summary>
        public uint JitterMs { get => Native.jitter_ms; set => Native.jitter_ms = value; }
        /// <summary>Seed of the impairment decisions.</summary>
        public ulong ImpairmentSeed { get => Native.impairment_seed; set => Native.impairment_seed = value; }
        /// <summary>Also run the SmartGlass console (discovery, power, session, gamestreams).</summary>
        public bool SmartGlass { get => Native.smartglass; set => Native.smartglass = value; }
        /// <summary>SmartGlass UDP port on 127.0.0.1; 0: any free port.</summary>
        public ushort SmartGlassPort { get => Native.smartglass_port; set => Native.smartglass_port = value; }
        /// <summary>The SmartGlass console refuses anonymous connections.</summary>
        public bool SmartGlassRequireAuth { get => Native.smartglass_require_auth; set => Native.smartglass_require_auth = value; }
        /// <summary>The SmartGlass console starts powered on.</summary>
        public bool SmartGlassPoweredOn { get => Native.smartglass_powered_on; set => Native.smartglass_powered_on = value; }
    }
}
