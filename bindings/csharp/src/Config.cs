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
}
