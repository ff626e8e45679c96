using System;
using Xnano.Native;

namespace Xnano
{
    /// <summary>The state of a <see cref="Client"/> (<c>xnano_state</c>).</summary>
    public enum ClientState : uint
    {
        /// <summary>Created, not connected.</summary>
        Idle = NativeMethods.XNANO_STATE_IDLE,
        /// <summary>TCP is up; the control handshake runs.</summary>
        Connecting = NativeMethods.XNANO_STATE_CONNECTING,
        /// <summary>Handshake done; channels are opening.</summary>
        Connected = NativeMethods.XNANO_STATE_CONNECTED,
        /// <summary>Media flows.</summary>
        Streaming = NativeMethods.XNANO_STATE_STREAMING,
        /// <summary>The session ended.</summary>
        Closed = NativeMethods.XNANO_STATE_CLOSED,
    }

    /// <summary>Video codecs (<c>XNANO_VIDEO_CODEC_*</c>).</summary>
    public enum VideoCodec : uint
    {
        /// <summary>H.264 access units, Annex B.</summary>
        H264 = NativeMethods.XNANO_VIDEO_CODEC_H264,
        /// <summary>Raw YUV.</summary>
        Yuv = NativeMethods.XNANO_VIDEO_CODEC_YUV,
        /// <summary>Raw RGB.</summary>
        Rgb = NativeMethods.XNANO_VIDEO_CODEC_RGB,
    }

    /// <summary>Audio codecs (<c>XNANO_AUDIO_CODEC_*</c>).</summary>
    public enum AudioCodec : uint
    {
        /// <summary>Opus packets.</summary>
        Opus = NativeMethods.XNANO_AUDIO_CODEC_OPUS,
        /// <summary>AAC.</summary>
        Aac = NativeMethods.XNANO_AUDIO_CODEC_AAC,
        /// <summary>PCM, signed 16-bit little-endian interleaved.</summary>
        Pcm = NativeMethods.XNANO_AUDIO_CODEC_PCM,
    }

    /// <summary>Controller buttons (<c>XNANO_BUTTON_*</c>), a bit mask.</summary>
    [Flags]
    public enum Buttons : ushort
    {
        /// <summary>No button.</summary>
        None = 0,
        /// <summary>D-pad up.</summary>
        DPadUp = NativeMethods.XNANO_BUTTON_DPAD_UP,
        /// <summary>D-pad down.</summary>
        DPadDown = NativeMethods.XNANO_BUTTON_DPAD_DOWN,
        /// <summary>D-pad left.</summary>
        DPadLeft = NativeMethods.XNANO_BUTTON_DPAD_LEFT,
        /// <summary>D-pad right.</summary>
        DPadRight = NativeMethods.XNANO_BUTTON_DPAD_RIGHT,
        /// <summary>Start (menu).</summary>
        Start = NativeMethods.XNANO_BUTTON_START,
        /// <summary>Back (view).</summary>
        Back = NativeMethods.XNANO_BUTTON_BACK,
        /// <summary>Left stick click.</summary>
        LeftThumb = NativeMethods.XNANO_BUTTON_LEFT_THUMB,
        /// <summary>Right stick click.</summary>
        RightThumb = NativeMethods.XNANO_BUTTON_RIGHT_THUMB,
        /// <summary>Left bumper.</summary>
        LeftShoulder = NativeMethods.XNANO_BUTTON_LEFT_SHOULDER,
        /// <summary>Right bumper.</summary>
        RightShoulder = NativeMethods.XNANO_BUTTON_RIGHT_SHOULDER,
        /// <summary>Guide (Xbox) button.</summary>
        Guide = NativeMethods.XNANO_BUTTON_GUIDE,
        /// <summary>A.</summary>
        A = NativeMethods.XNANO_BUTTON_A,
        /// <summary>B.</summary>
        B = NativeMethods.XNANO_BUTTON_B,
        /// <summary>X.</summary>
        X = NativeMethods.XNANO_BUTTON_X,
        /// <summary>Y.</summary>
        Y = NativeMethods.XNANO_BUTTON_Y,
    }

    /// <summary>Severity of a log message (<c>xnano_log_level</c>).</summary>
    public enum LogLevel : uint
    {
        /// <summary>Nothing (as a filter: logging off).</summary>
        Off = NativeMethods.XNANO_LOG_OFF,
        /// <summary>Errors.</summary>
        Error = NativeMethods.XNANO_LOG_ERROR,
        /// <summary>Warnings.</summary>
        Warn = NativeMethods.XNANO_LOG_WARN,
        /// <summary>Information.</summary>
        Info = NativeMethods.XNANO_LOG_INFO,
        /// <summary>Debugging details.</summary>
        Debug = NativeMethods.XNANO_LOG_DEBUG,
        /// <summary>Very verbose tracing.</summary>
        Trace = NativeMethods.XNANO_LOG_TRACE,
    }

    /// <summary>Something a <see cref="Client"/> reports: passed to its events and returned by
    /// <see cref="Client.NextEvent"/>.</summary>
    public abstract class ClientEvent : EventArgs
    {
    }

    /// <summary>One complete video frame (its bytes are a copy, yours to keep).</summary>
    public sealed class VideoFrame : ClientEvent
    {
        /// <summary>Frame id; consecutive unless frames were lost.</summary>
        public uint FrameId { get; }
        /// <summary>Codec of the stream.</summary>
        public VideoCodec Codec { get; }
        /// <summary>Width in pixels.</summary>
        public uint Width { get; }
        /// <summary>Height in pixels.</summary>
        public uint Height { get; }
        /// <summary>Frames per second announced by the console.</summary>
        public uint Fps { get; }
        /// <summary>Console timestamp, microseconds.</summary>
        public ulong Timestamp { get; }
        /// <summary>True for keyframes (IDR).</summary>
        public bool Keyframe { get; }
        /// <summary>The frame's bytes (one H.264 access unit for H.264).</summary>
        public byte[] Data { get; }

        internal VideoFrame(ref xnano_video_frame f)
        {
            FrameId = f.frame_id;
            Codec = (VideoCodec)f.codec;
            Width = f.width;
            Height = f.height;
            Fps = f.fps;
            Timestamp = f.timestamp;
            Keyframe = f.keyframe;
            Data = Utf8.Copy(f.data, f.len);
        }
    }

    /// <summary>One audio packet (its bytes are a copy).</summary>
    public sealed class AudioPacket : ClientEvent
    {
        /// <summary>Frame id as sent by the console.</summary>
        public uint FrameId { get; }
        /// <summary>Codec of the stream.</summary>
        public AudioCodec Codec { get; }
        /// <summary>Channel count.</summary>
        public uint Channels { get; }
        /// <summary>Sample rate, Hz.</summary>
        public uint SampleRate { get; }
        /// <summary>Console timestamp, microseconds.</summary>
        public ulong Timestamp { get; }
        /// <summary>The encoded packet.</summary>
        public byte[] Data { get; }

        internal AudioPacket(ref xnano_audio_packet p)
        {
            FrameId = p.frame_id;
            Codec = (AudioCodec)p.codec;
            Channels = p.channels;
            SampleRate = p.sample_rate;
            Timestamp = p.timestamp;
            Data = Utf8.Copy(p.data, p.len);
        }
    }

    /// <summary>A rumble (force feedback) command.</summary>
    public sealed class Rumble : ClientEvent
    {
        /// <summary>Controller number, 0..3.</summary>
        public byte Controller { get; }
        /// <summary>Left trigger motor.</summary>
        public byte LeftTrigger { get; }
        /// <summary>Right trigger motor.</summary>
        public byte RightTrigger { get; }
        /// <summary>Left handle (low-frequency) motor.</summary>
        public byte LeftHandle { get; }
        /// <summary>Right handle (high-frequency) motor.</summary>
        public byte RightHandle { get; }

        internal Rumble(ref xnano_rumble r)
        {
            Controller = r.controller;
            LeftTrigger = r.left_trigger;
            RightTrigger = r.right_trigger;
            LeftHandle = r.left_handle;
            RightHandle = r.right_handle;
        }
    }

    /// <summary>A state change; with <see cref="ClientState.Closed"/>, <see cref="Error"/> says why.</summary>
    public sealed class StateChange : ClientEvent
    {
        /// <summary>The new state.</summary>
        public ClientState State { get; }
        /// <summary>Why the session closed (Ok after Stop); Ok for other states.</summary>
        public ResultCode Error { get; }
        /// <summary>Text from the library (possibly empty).</summary>
        public string Message { get; }

        internal StateChange(uint state, uint error, string message)
        {
            State = (ClientState)state;
            Error = (ResultCode)error;
            Message = message;
        }

        /// <inheritdoc/>
        public override string ToString() => State + " (" + Error + ") " + Message;
    }

    /// <summary>An exception thrown by one of your event handlers (it does not reach native code).</summary>
    public sealed class CallbackErrorEventArgs : EventArgs
    {
        /// <summary>The exception.</summary>
        public Exception Exception { get; }

        internal CallbackErrorEventArgs(Exception e)
        {
            Exception = e;
        }
    }

    /// <summary>The state of one controller, for <see cref="Client.SetControllerState"/>.</summary>
    public struct ControllerState
    {
        /// <summary>Buttons held down.</summary>
        public Buttons Buttons;
        /// <summary>Left trigger, 0..255.</summary>
        public byte LeftTrigger;
        /// <summary>Right trigger, 0..255.</summary>
        public byte RightTrigger;
        /// <summary>Left stick X.</summary>
        public short LeftThumbX;
        /// <summary>Left stick Y.</summary>
        public short LeftThumbY;
        /// <summary>Right stick X.</summary>
        public short RightThumbX;
        /// <summary>Right stick Y.</summary>
        public short RightThumbY;

        internal xnano_controller_state ToNative()
        {
            return new xnano_controller_state
            {
                struct_size = StructSize.ControllerState,
                buttons = (ushort)Buttons,
                left_trigger = LeftTrigger,
                right_trigger = RightTrigger,
                left_thumb_x = LeftThumbX,
                left_thumb_y = LeftThumbY,
                right_thumb_x = RightThumbX,
                right_thumb_y = RightThumbY,
            };
        }
    }

    /// <summary>Session statistics (<c>xnano_client_stats</c>).</summary>
    public sealed class ClientStats
    {
        internal ClientStats(xnano_client_stats s)
        {
            Raw = s;
        }

        /// <summary>The C struct with every counter.</summary>
        public xnano_client_stats Raw { get; }
        /// <summary>Video frames delivered.</summary>
        public ulong FramesDelivered => Raw.frames_delivered;
        /// <summary>Complete frames withheld because they depended on a lost one.</summary>
        public ulong FramesDropped => Raw.frames_dropped;
        /// <summary>Video frames lost.</summary>
        public ulong FramesLost => Raw.frames_lost;
        /// <summary>Keyframes delivered.</summary>
        public ulong KeyframesDelivered => Raw.keyframes_delivered;
        /// <summary>Keyframe requests sent.</summary>
        public ulong KeyframeRequests => Raw.keyframe_requests;
        /// <summary>Video bytes delivered.</summary>
        public ulong VideoBytes => Raw.video_bytes;
        /// <summary>Audio packets delivered.</summary>
        public ulong AudioPackets => Raw.audio_packets;
        /// <summary>Audio bytes delivered.</summary>
        public ulong AudioBytes => Raw.audio_bytes;
        /// <summary>Input frames sent.</summary>
        public ulong InputFramesSent => Raw.input_frames_sent;
        /// <summary>Input frames acknowledged by the console.</summary>
        public ulong InputFramesAcked => Raw.input_frames_acked;
        /// <summary>Rumble commands received.</summary>
        public ulong RumbleEvents => Raw.rumble_events;
        /// <summary>ChatAudio packets sent.</summary>
        public ulong ChatAudioSent => Raw.chat_audio_sent;
        /// <summary>UDP datagrams accepted.</summary>
        public ulong UdpPackets => Raw.udp_packets;
        /// <summary>Events dropped because the event queue was full.</summary>
        public ulong EventsDropped => Raw.events_dropped;
        /// <summary>Frame-id restarts seen (encoder restarts, stalls resynchronised).</summary>
        public ulong FrameIdRestarts => Raw.frame_id_restarts;
        /// <summary>Video chunks whose flags differed from their frame's other chunks.</summary>
        public ulong ChunkFlagMismatches => Raw.chunk_flag_mismatches;
        /// <summary>Input frames sent again until the console acked the latest state.</summary>
        public ulong InputFramesResent => Raw.input_frames_resent;
        /// <summary>Frame delivery latency, median.</summary>
        public TimeSpan LatencyP50 => TimeSpan.FromTicks((long)Raw.latency_p50_us * 10);
        /// <summary>Frame delivery latency, 99th percentile.</summary>
        public TimeSpan LatencyP99 => TimeSpan.FromTicks((long)Raw.latency_p99_us * 10);

        /// <inheritdoc/>
        public override string ToString() =>
            $"frames {FramesDelivered} (lost {FramesLost}), audio {AudioPackets}, input {InputFramesSent}/{InputFramesAcked}, rumble {RumbleEvents}";
    }
}
