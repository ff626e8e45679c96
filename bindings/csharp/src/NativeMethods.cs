// P/Invoke declarations of the xnano C API (include/xnano.h), ABI 1, one to one: every
// constant, struct, callback type and function of the header under its C name.
// ABI 1: every result and enum is a uint32_t (uint here); caller-allocated structs start with
// `struct_size` (set it to Marshal.SizeOf before every call that takes the struct: such
// parameters are `ref`, never `out`, so that the marshaler copies struct_size in); frees are
// void. The wrappers check xnano_abi_version() against XNANO_ABI_VERSION before first use.
// scripts/check-bindings.py compares this file with the header (names, constant values,
// struct field order, parameter counts); keep them in step.
using System;
using System.Runtime.InteropServices;

namespace Xnano.Native
{
    /// <summary>The header's constants, structs, callback types and functions, unchanged.</summary>
    /// <remarks>
    /// Use the classes of the <c>Xnano</c> namespace instead; this layer is public for callers
    /// who need something the wrappers do not offer.
    /// </remarks>
    public static class NativeMethods
    {
#if (UNITY_IOS || UNITY_TVOS) && !UNITY_EDITOR
        /// <summary>Unity on iOS/tvOS links libxnano statically (the crate's staticlib, libxnano.a).</summary>
        public const string Library = "__Internal";
#else
        /// <summary>The library name for DllImport: libxnano.so, libxnano.dylib or xnano.dll.</summary>
        public const string Library = "xnano";
#endif

        // ------------------------------------------------------------------ constants
#pragma warning disable 1591 // the names are the header's; its comments document them
        public const int XNANO_VERSION_MAJOR = 0;
        public const int XNANO_VERSION_MINOR = 1;
        public const int XNANO_VERSION_PATCH = 0;
        public const string XNANO_VERSION_STRING = "0.1.0";

        /// <summary>The ABI this binding is written against (<c>xnano_abi_version()</c> must return it).</summary>
        public const uint XNANO_ABI_VERSION = 1;

        public const uint XNANO_ANY = 4294967295;

        public const uint XNANO_VIDEO_CODEC_H264 = 0;
        public const uint XNANO_VIDEO_CODEC_YUV = 1;
        public const uint XNANO_VIDEO_CODEC_RGB = 2;

        public const uint XNANO_AUDIO_CODEC_OPUS = 0;
        public const uint XNANO_AUDIO_CODEC_AAC = 1;
        public const uint XNANO_AUDIO_CODEC_PCM = 2;

        public const ushort XNANO_BUTTON_DPAD_UP = 1;
        public const ushort XNANO_BUTTON_DPAD_DOWN = 2;
        public const ushort XNANO_BUTTON_DPAD_LEFT = 4;
        public const ushort XNANO_BUTTON_DPAD_RIGHT = 8;
        public const ushort XNANO_BUTTON_START = 16;
        public const ushort XNANO_BUTTON_BACK = 32;
        public const ushort XNANO_BUTTON_LEFT_THUMB = 64;
        public const ushort XNANO_BUTTON_RIGHT_THUMB = 128;
        public const ushort XNANO_BUTTON_LEFT_SHOULDER = 256;
        public const ushort XNANO_BUTTON_RIGHT_SHOULDER = 512;
        public const ushort XNANO_BUTTON_GUIDE = 1024;
        public const ushort XNANO_BUTTON_A = 4096;
        public const ushort XNANO_BUTTON_B = 8192;
        public const ushort XNANO_BUTTON_X = 16384;
        public const ushort XNANO_BUTTON_Y = 32768;

        // enum xnano_result
        public const uint XNANO_OK = 0;
        public const uint XNANO_ERR_NULL = 1;
        public const uint XNANO_ERR_INVALID_ARGUMENT = 2;
        public const uint XNANO_ERR_WRONG_STATE = 3;
        public const uint XNANO_ERR_FROM_CALLBACK = 4;
        public const uint XNANO_ERR_IO = 5;
        public const uint XNANO_ERR_TIMEOUT = 6;
        public const uint XNANO_ERR_PROTOCOL = 7;
        public const uint XNANO_ERR_CLOSED = 8;
        public const uint XNANO_ERR_BUFFER_TOO_SMALL = 9;
        public const uint XNANO_ERR_UNSUPPORTED = 10;
        public const uint XNANO_ERR_PANIC = 11;
        public const uint XNANO_ERR_NOT_FOUND = 12;
        public const uint XNANO_ERR_REFUSED = 13;

        // enum xnano_state
        public const uint XNANO_STATE_IDLE = 0;
        public const uint XNANO_STATE_CONNECTING = 1;
        public const uint XNANO_STATE_CONNECTED = 2;
        public const uint XNANO_STATE_STREAMING = 3;
        public const uint XNANO_STATE_CLOSED = 4;

        // enum xnano_event_type
        public const uint XNANO_EVENT_STATE = 0;
        public const uint XNANO_EVENT_VIDEO_FRAME = 1;
        public const uint XNANO_EVENT_AUDIO = 2;
        public const uint XNANO_EVENT_RUMBLE = 3;

        // enum xnano_log_level
        public const uint XNANO_LOG_OFF = 0;
        public const uint XNANO_LOG_ERROR = 1;
        public const uint XNANO_LOG_WARN = 2;
        public const uint XNANO_LOG_INFO = 3;
        public const uint XNANO_LOG_DEBUG = 4;
        public const uint XNANO_LOG_TRACE = 5;

        public const int XNANO_CONSOLE_NAME_SIZE = 64;
        public const int XNANO_LIVE_ID_SIZE = 32;
        public const int XNANO_ADDRESS_SIZE = 64;
        public const int XNANO_UUID_SIZE = 40;
        public const ushort XNANO_SMARTGLASS_PORT = 5050;

        public const uint XNANO_CURVE_P256 = 0;
        public const uint XNANO_CURVE_P384 = 1;
        public const uint XNANO_CURVE_P521 = 2;

        public const uint XNANO_CONSOLE_FLAG_ALLOW_CONSOLE_USERS = 1;
        public const uint XNANO_CONSOLE_FLAG_ALLOW_AUTHENTICATED_USERS = 2;
        public const uint XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS = 4;
        public const uint XNANO_CONSOLE_FLAG_CERTIFICATE_PENDING = 8;

        public const uint XNANO_DEVICE_XBOX_ONE = 1;

        public const uint XNANO_TITLE_LOCATION_FULL = 0;
        public const uint XNANO_TITLE_LOCATION_FILL = 1;
        public const uint XNANO_TITLE_LOCATION_SNAPPED = 2;
        public const uint XNANO_TITLE_LOCATION_START_VIEW = 3;
        public const uint XNANO_TITLE_LOCATION_SYSTEM_UI = 4;
        public const uint XNANO_TITLE_LOCATION_DEFAULT = 5;

        public const uint XNANO_MEDIA_PLAY = 2;
        public const uint XNANO_MEDIA_PAUSE = 4;
        public const uint XNANO_MEDIA_PLAY_PAUSE_TOGGLE = 8;
        public const uint XNANO_MEDIA_STOP = 16;
        public const uint XNANO_MEDIA_RECORD = 32;
        public const uint XNANO_MEDIA_NEXT_TRACK = 64;
        public const uint XNANO_MEDIA_PREVIOUS_TRACK = 128;
        public const uint XNANO_MEDIA_FAST_FORWARD = 256;
        public const uint XNANO_MEDIA_REWIND = 512;
        public const uint XNANO_MEDIA_CHANNEL_UP = 1024;
        public const uint XNANO_MEDIA_CHANNEL_DOWN = 2048;
        public const uint XNANO_MEDIA_BACK = 4096;
        public const uint XNANO_MEDIA_VIEW = 8192;
        public const uint XNANO_MEDIA_MENU = 16384;
        public const uint XNANO_MEDIA_SEEK = 32768;

        public const ushort XNANO_GAMEPAD_ENROLL = 1;
        public const ushort XNANO_GAMEPAD_NEXUS = 2;
        public const ushort XNANO_GAMEPAD_MENU = 4;
        public const ushort XNANO_GAMEPAD_VIEW = 8;
        public const ushort XNANO_GAMEPAD_A = 16;
        public const ushort XNANO_GAMEPAD_B = 32;
        public const ushort XNANO_GAMEPAD_X = 64;
        public const ushort XNANO_GAMEPAD_Y = 128;
        public const ushort XNANO_GAMEPAD_DPAD_UP = 256;
        public const ushort XNANO_GAMEPAD_DPAD_DOWN = 512;
        public const ushort XNANO_GAMEPAD_DPAD_LEFT = 1024;
        public const ushort XNANO_GAMEPAD_DPAD_RIGHT = 2048;
        public const ushort XNANO_GAMEPAD_LEFT_SHOULDER = 4096;
        public const ushort XNANO_GAMEPAD_RIGHT_SHOULDER = 8192;
        public const ushort XNANO_GAMEPAD_LEFT_THUMB = 16384;
        public const ushort XNANO_GAMEPAD_RIGHT_THUMB = 32768;

        public const uint XNANO_TEXT_RESULT_CANCEL = 0;
        public const uint XNANO_TEXT_RESULT_ACCEPT = 1;

        public const uint XNANO_CHANNEL_CORE = 0;
        public const uint XNANO_CHANNEL_SYSTEM_INPUT = 1;
        public const uint XNANO_CHANNEL_SYSTEM_INPUT_TV_REMOTE = 2;
        public const uint XNANO_CHANNEL_SYSTEM_MEDIA = 3;
        public const uint XNANO_CHANNEL_SYSTEM_TEXT = 4;
        public const uint XNANO_CHANNEL_SYSTEM_BROADCAST = 5;
        public const uint XNANO_CHANNEL_TITLE = 7;

        public const uint XNANO_GAMESTREAM_UNKNOWN = 0;
        public const uint XNANO_GAMESTREAM_INITIALIZING = 1;
        public const uint XNANO_GAMESTREAM_STARTED = 2;
        public const uint XNANO_GAMESTREAM_STOPPED = 3;
        public const uint XNANO_GAMESTREAM_PAUSED = 4;

        // enum xnano_console_event_type
        public const uint XNANO_CONSOLE_EVENT_CONNECTED = 0;
        public const uint XNANO_CONSOLE_EVENT_CLOSED = 1;
        public const uint XNANO_CONSOLE_EVENT_CONSOLE_STATUS = 2;
        public const uint XNANO_CONSOLE_EVENT_MEDIA_STATE = 3;
        public const uint XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION = 4;
        public const uint XNANO_CONSOLE_EVENT_TEXT_INPUT = 5;
        public const uint XNANO_CONSOLE_EVENT_TEXT_DONE = 6;
        public const uint XNANO_CONSOLE_EVENT_CHANNEL_STARTED = 7;
        public const uint XNANO_CONSOLE_EVENT_CHANNEL_FAILED = 8;
        public const uint XNANO_CONSOLE_EVENT_GAMESTREAM_STATE = 9;
        public const uint XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED = 10;
        public const uint XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED = 11;
        public const uint XNANO_CONSOLE_EVENT_OTHER = 12;

        // enum xnano_console_state
        public const uint XNANO_CONSOLE_STATE_IDLE = 0;
        public const uint XNANO_CONSOLE_STATE_CONNECTED = 1;
        public const uint XNANO_CONSOLE_STATE_CLOSED = 2;

        // ------------------------------------------------------------------ callbacks
        // Every pointer argument is valid only during the call.

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void xnano_video_callback(IntPtr user_data, IntPtr frame);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void xnano_audio_callback(IntPtr user_data, IntPtr packet);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void xnano_rumble_callback(IntPtr user_data, IntPtr rumble);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void xnano_state_callback(IntPtr user_data, uint state, uint error, IntPtr message);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void xnano_console_event_callback(IntPtr user_data, IntPtr @event);

        [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
        public delegate void xnano_log_callback(IntPtr user_data, uint level, IntPtr target, IntPtr message);

        // ------------------------------------------------------------------ functions
        // Handles are IntPtr here; the wrappers hold them in SafeHandles.

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_abi_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr xnano_version();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr xnano_last_error();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr xnano_result_name(uint result);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_config_default(ref xnano_client_config out_config);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_new(ref xnano_client_config config, out IntPtr out_client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_set_video_callback(IntPtr client, xnano_video_callback callback, IntPtr user_data);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_set_audio_callback(IntPtr client, xnano_audio_callback callback, IntPtr user_data);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_set_rumble_callback(IntPtr client, xnano_rumble_callback callback, IntPtr user_data);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_set_state_callback(IntPtr client, xnano_state_callback callback, IntPtr user_data);

        /// <summary><paramref name="host"/> is NUL-terminated UTF-8 (see <c>Utf8.Encode</c>).</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_connect_nano(IntPtr client, byte[] host, ushort tcp_port, ushort udp_port);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_get_state(IntPtr client, out uint out_state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_set_controller_state(IntPtr client, byte controller, ref xnano_controller_state state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_set_controller_connected(IntPtr client, byte controller, [MarshalAs(UnmanagedType.I1)] bool connected);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_request_keyframe(IntPtr client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_change_video_quality(IntPtr client, uint[] values, UIntPtr count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_send_chat_audio(IntPtr client, byte[] data, UIntPtr len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_get_stats(IntPtr client, ref xnano_client_stats out_stats);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_next_event(IntPtr client, uint timeout_ms, out IntPtr out_event);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void xnano_event_free(IntPtr @event);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_stop(IntPtr client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void xnano_client_free(IntPtr client);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_client_connect_console(IntPtr client, IntPtr console, IntPtr config);

        /// <summary><paramref name="address"/>: NUL-terminated UTF-8 or null (broadcast).</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_discover(byte[] address, uint timeout_ms, out IntPtr out_discovery);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_discovery_count(IntPtr discovery, out UIntPtr out_count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_discovery_get(IntPtr discovery, UIntPtr index, ref xnano_console_info out_info);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void xnano_discovery_free(IntPtr discovery);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_power_on(byte[] live_id, byte[] address, uint tries);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_config_default(ref xnano_console_config out_config);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_new(out IntPtr out_console);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_set_event_callback(IntPtr console, xnano_console_event_callback callback, IntPtr user_data);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_connect(IntPtr console, byte[] address, ref xnano_console_config config);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_get_state(IntPtr console, out uint out_state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_get_info(IntPtr console, ref xnano_console_info out_info);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_next_event(IntPtr console, uint timeout_ms, out IntPtr out_event);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void xnano_console_event_free(IntPtr @event);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_events_dropped(IntPtr console, out ulong out_count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_disconnect(IntPtr console);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void xnano_console_free(IntPtr console);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_power_off(IntPtr console);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_launch_title(IntPtr console, byte[] uri, uint location);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_media_command(IntPtr console, uint title_id, uint command, ulong seek_position, out ulong out_request_id);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_gamepad(IntPtr console, ref xnano_gamepad state);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_send_text(IntPtr console, byte[] text);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_text_acknowledge(IntPtr console, uint text_session_id, uint version);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_text_done(IntPtr console, uint result);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_game_dvr_record(IntPtr console, int start_delta_s, int end_delta_s);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_console_unsnap(IntPtr console);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_gamestream_config_new(out IntPtr out_config);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_gamestream_config_set(IntPtr config, byte[] key, byte[] value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_gamestream_config_get(IntPtr config, byte[] key, byte[] buffer, UIntPtr buffer_size, out UIntPtr out_len);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void xnano_gamestream_config_free(IntPtr config);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_set_log_callback(xnano_log_callback callback, IntPtr user_data, uint max_level);
    }

    // ---------------------------------------------------------------------- structs
    // Field order and types follow the header exactly (sequential layout, C alignment;
    // C `bool` is one byte). StructSize has each caller-allocated struct's struct_size.

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_client_config
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        public uint video_width;
        public uint video_height;
        public uint video_codec;
        public uint audio_codec;
        public uint audio_channels;
        public uint audio_sample_rate;
        public uint connect_timeout_ms;
        public uint silence_timeout_ms;
        public uint defrag_timeout_ms;
        public uint keyframe_retry_ms;
        public uint input_reads_per_second;
        public uint max_frame_size;
        public uint udp_recv_buffer;
        public uint event_queue_capacity;
        [MarshalAs(UnmanagedType.I1)] public bool chat_audio;
        [MarshalAs(UnmanagedType.I1)] public bool wait_for_first_keyframe;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_video_frame
    {
        public uint frame_id;
        public uint codec;
        public uint width;
        public uint height;
        public uint fps;
        public ulong timestamp;
        public IntPtr data;
        public UIntPtr len;
        [MarshalAs(UnmanagedType.I1)] public bool keyframe;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_audio_packet
    {
        public uint frame_id;
        public uint codec;
        public uint channels;
        public uint sample_rate;
        public ulong timestamp;
        public IntPtr data;
        public UIntPtr len;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_rumble
    {
        public byte controller;
        public byte left_trigger;
        public byte right_trigger;
        public byte left_handle;
        public byte right_handle;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_controller_state
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        public ushort buttons;
        public byte left_trigger;
        public byte right_trigger;
        public short left_thumb_x;
        public short left_thumb_y;
        public short right_thumb_x;
        public short right_thumb_y;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_client_stats
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        public ulong frames_delivered;
        public ulong frames_dropped;
        public ulong frames_lost;
        public ulong keyframes_delivered;
        public ulong keyframe_requests;
        public ulong lost_reports;
        public ulong chunks_accepted;
        public ulong chunks_duplicate;
        public ulong chunks_late;
        public ulong chunks_invalid;
        public ulong video_bytes;
        public ulong audio_packets;
        public ulong audio_bytes;
        public ulong input_frames_sent;
        public ulong input_frames_acked;
        public ulong rumble_events;
        public ulong chat_audio_sent;
        public ulong udp_packets;
        public ulong udp_bytes;
        public ulong udp_malformed;
        public ulong udp_rejected;
        public ulong udp_foreign_packets;
        public ulong tcp_packets;
        public ulong tcp_malformed;
        public ulong latency_p50_us;
        public ulong latency_p99_us;
        public ulong latency_max_us;
        public ulong events_dropped;
        public ulong frame_id_restarts;
        public ulong chunk_flag_mismatches;
        public ulong input_frames_resent;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_event
    {
        public uint kind;
        public uint state;
        public uint error;
        public IntPtr message;
        /// <summary>const xnano_video_frame *: non-NULL for XNANO_EVENT_VIDEO_FRAME.</summary>
        public IntPtr video;
        /// <summary>const xnano_audio_packet *: non-NULL for XNANO_EVENT_AUDIO.</summary>
        public IntPtr audio;
        /// <summary>const xnano_rumble *: non-NULL for XNANO_EVENT_RUMBLE.</summary>
        public IntPtr rumble;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_console_info
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = NativeMethods.XNANO_CONSOLE_NAME_SIZE)] public byte[] name;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = NativeMethods.XNANO_LIVE_ID_SIZE)] public byte[] live_id;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = NativeMethods.XNANO_ADDRESS_SIZE)] public byte[] address;
        [MarshalAs(UnmanagedType.ByValArray, SizeConst = NativeMethods.XNANO_UUID_SIZE)] public byte[] uuid;
        public uint curve;
        public uint flags;
        public uint device_type;
        public uint last_error;
        public ushort port;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_console_config
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        /// <summary>NUL-terminated UTF-8, or zero.</summary>
        public IntPtr userhash;
        /// <summary>NUL-terminated UTF-8, or zero.</summary>
        public IntPtr auth_token;
        [MarshalAs(UnmanagedType.I1)] public bool ignore_anonymous_flag;
        public uint discovery_timeout_ms;
        public uint wait_timeout_ms;
        public uint heartbeat_interval_ms;
        public uint console_timeout_ms;
        public uint event_queue_capacity;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_console_event
    {
        public uint kind;
        public uint error;
        public IntPtr message;
        public IntPtr json;
        public uint participant_id;
        public uint title_id;
        public uint os_major_version;
        public uint os_minor_version;
        public uint os_build_number;
        public uint active_title_count;
        public uint playback_status;
        public ulong media_position;
        public ulong media_end;
        public uint text_session_id;
        public uint text_version;
        public uint text_max_length;
        public uint text_result;
        public IntPtr text;
        public uint channel;
        public uint gamestream_state;
        public ushort tcp_port;
        public ushort udp_port;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_gamepad
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        public ushort buttons;
        public float left_trigger;
        public float right_trigger;
        public float left_thumb_x;
        public float left_thumb_y;
        public float right_thumb_x;
        public float right_thumb_y;
    }
#pragma warning restore 1591
}
