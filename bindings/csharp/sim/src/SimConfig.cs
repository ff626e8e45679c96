using System;
using Xnano.Sim.Native;

namespace Xnano.Sim
{
    /// <summary>Settings of the simulated console; a new instance holds the library's defaults
    /// (<c>xnano_sim_config_default</c>).</summary>
    public sealed class SimConfig
    {
        internal xnano_sim_config Native;

        /// <summary>The library's defaults.</summary>
        public SimConfig()
        {
            SimBoundary.Enter();
            Native.struct_size = SimStructSize.Config;
            SimBoundary.Check(SimNativeMethods.xnano_sim_config_default(ref Native));
            Native.struct_size = SimStructSize.Config;
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
