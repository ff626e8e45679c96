using System;
using Xnano.Sim.Native;

namespace Xnano.Sim
{
    /// <summary>Video source of the simulated console.</summary>
    public enum SimVideoSource : uint
    {
        /// <summary>Real H.264 of a moving test pattern.</summary>
        TestPattern = SimNativeMethods.XNANO_SIM_VIDEO_TEST_PATTERN,
        /// <summary>Synthetic self-checking frames (not decodable; cheap).</summary>
        Synthetic = SimNativeMethods.XNANO_SIM_VIDEO_SYNTHETIC,
    }

    /// <summary>Audio source of the simulated console.</summary>
    public enum SimAudioSource : uint
    {
        /// <summary>Opus, stereo, 48 kHz, 20 ms packets.</summary>
        Opus = SimNativeMethods.XNANO_SIM_AUDIO_OPUS,
        /// <summary>PCM s16le, stereo, 48 kHz, 20 ms packets.</summary>
        Pcm = SimNativeMethods.XNANO_SIM_AUDIO_PCM,
        /// <summary>No audio.</summary>
        None = SimNativeMethods.XNANO_SIM_AUDIO_NONE,
    }

    /// <summary>Counters of the simulated console (<c>xnano_sim_stats</c>).</summary>
    public sealed class SimStats
    {
        internal SimStats(xnano_sim_stats s)
        {
            Raw = s;
        }

        /// <summary>The C struct with every counter.</summary>
        public xnano_sim_stats Raw { get; }
        /// <summary>Clients accepted.</summary>
        public ulong ClientsAccepted => Raw.clients_accepted;
        /// <summary>Video frames sent.</summary>
        public ulong VideoFramesSent => Raw.video_frames_sent;
        /// <summary>Keyframes sent.</summary>
        public ulong KeyframesSent => Raw.keyframes_sent;
        /// <summary>Keyframe requests received.</summary>
        public ulong KeyframeRequests => Raw.keyframe_requests;
        /// <summary>Audio packets sent.</summary>
        public ulong AudioPacketsSent => Raw.audio_packets_sent;
        /// <summary>Input frames received.</summary>
        public ulong InputFramesReceived => Raw.input_frames_received;
        /// <summary>Rumble commands sent.</summary>
        public ulong RumbleSent => Raw.rumble_sent;
        /// <summary>Chat audio packets received.</summary>
        public ulong ChatAudioReceived => Raw.chat_audio_received;
        /// <summary>True while a client is connected.</summary>
        public bool ClientConnected => Raw.client_connected;
        /// <summary>SmartGlass discovery requests answered.</summary>
        public ulong SgDiscoveryRequests => Raw.sg_discovery_requests;
        /// <summary>SmartGlass power-on requests received.</summary>
        public ulong SgPowerOnRequests => Raw.sg_power_on_requests;
        /// <summary>SmartGlass connections accepted.</summary>
        public ulong SgConnectsAccepted => Raw.sg_connects_accepted;
        /// <summary>SmartGlass connections rejected.</summary>
        public ulong SgConnectsRejected => Raw.sg_connects_rejected;
        /// <summary>SmartGlass messages received.</summary>
        public ulong SgMessagesReceived => Raw.sg_messages_received;
        /// <summary>Gamestreams started over SmartGlass.</summary>
        public ulong SgGamestreamsStarted => Raw.sg_gamestreams_started;
        /// <summary>Gamestreams stopped over SmartGlass.</summary>
        public ulong SgGamestreamsStopped => Raw.sg_gamestreams_stopped;

        /// <inheritdoc/>
        public override string ToString() =>
            $"clients {ClientsAccepted}, video {VideoFramesSent}, audio {AudioPacketsSent}, input {InputFramesReceived}, rumble {RumbleSent}";
    }
}
