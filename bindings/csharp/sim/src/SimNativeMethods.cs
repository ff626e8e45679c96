// P/Invoke declarations of libxnano_sim's C API (sim/include/xnano_sim.h), ABI 1, one to one:
// every constant, struct and function of that header under its C name. It is a library of its
// own ("xnano_sim": libxnano_sim.so / libxnano_sim.dylib / xnano_sim.dll), separate from
// libxnano: an application that ships without the simulator ships neither this assembly nor
// that library. The conventions are xnano.h's (uint results and enums, struct_size first in
// caller-allocated structs, passed `ref`; a void free), except that the message of a failed
// xnano_sim_* call is xnano_sim_last_error() (NOT xnano_last_error()), and the version to
// check is xnano_sim_abi_version() == XNANO_SIM_ABI_VERSION. The wrappers check it before
// first use. xnano_console_info and the result codes are libxnano's (Xnano.Native).
using System;
using System.Runtime.InteropServices;
using Xnano.Native;

namespace Xnano.Sim.Native
{
    /// <summary>The constants, structs and functions of <c>xnano_sim.h</c>, unchanged.</summary>
    /// <remarks>
    /// Use <see cref="Xnano.Sim.Simulator"/> instead; this layer is public for callers who need
    /// something the wrappers do not offer. It skips the ABI check.
    /// </remarks>
    public static class SimNativeMethods
    {
#if (UNITY_IOS || UNITY_TVOS) && !UNITY_EDITOR
        /// <summary>Unity on iOS/tvOS links libxnano_sim statically (libxnano_sim.a).</summary>
        public const string Library = "__Internal";
#else
        /// <summary>The library name for DllImport: libxnano_sim.so, libxnano_sim.dylib or xnano_sim.dll.</summary>
        public const string Library = "xnano_sim";
#endif

#pragma warning disable 1591 // the names are the header's; its comments document them
        /// <summary>The ABI this binding is written against (<c>xnano_sim_abi_version()</c> must return it).</summary>
        public const uint XNANO_SIM_ABI_VERSION = 1;

        public const uint XNANO_SIM_VIDEO_TEST_PATTERN = 0;
        public const uint XNANO_SIM_VIDEO_SYNTHETIC = 1;
        public const uint XNANO_SIM_AUDIO_OPUS = 0;
        public const uint XNANO_SIM_AUDIO_PCM = 1;
        public const uint XNANO_SIM_AUDIO_NONE = 2;

        // ------------------------------------------------------------------ functions
        // Handles are IntPtr here; the wrappers hold them in SafeHandles.

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_abi_version();

        /// <summary>The message of the last failed <c>xnano_sim_*</c> call on this thread
        /// (libxnano's <c>xnano_last_error</c> knows nothing of them).</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern IntPtr xnano_sim_last_error();

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_config_default(ref xnano_sim_config out_config);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_new(ref xnano_sim_config config, out IntPtr out_sim);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_nano_ports(IntPtr sim, out ushort out_tcp_port, out ushort out_udp_port);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_get_stats(IntPtr sim, ref xnano_sim_stats out_stats);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_close_client(IntPtr sim);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_stop(IntPtr sim);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern void xnano_sim_free(IntPtr sim);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_smartglass_port(IntPtr sim, out ushort out_port);

        /// <summary>Writes libxnano's <c>xnano_console_info</c> (<see cref="Xnano.Native.xnano_console_info"/>).</summary>
        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_console_info(IntPtr sim, ref xnano_console_info out_info);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_smartglass_powered_on(IntPtr sim, [MarshalAs(UnmanagedType.I1)] out bool out_on);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_smartglass_message_count(IntPtr sim, byte[] msg_type, out ulong out_count);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern uint xnano_sim_start_text_session(IntPtr sim, byte[] prompt, out uint out_clients);
    }

    // ---------------------------------------------------------------------- structs
    // Field order and types follow the header exactly (sequential layout, C alignment;
    // C `bool` is one byte).

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_sim_config
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        public ushort tcp_port;
        public ushort udp_port;
        public uint width;
        public uint height;
        public uint fps;
        public uint bitrate_bps;
        public uint keyframe_interval;
        public uint chunk_size;
        public uint video_source;
        public uint synthetic_min_len;
        public uint synthetic_max_len;
        public ulong synthetic_seed;
        public uint audio_source;
        public uint telemetry_interval_ms;
        public ulong session_seed;
        public double loss_pct;
        public double reorder_pct;
        public double duplicate_pct;
        public uint delay_ms;
        public uint jitter_ms;
        public ulong impairment_seed;
        [MarshalAs(UnmanagedType.I1)] public bool smartglass;
        public ushort smartglass_port;
        [MarshalAs(UnmanagedType.I1)] public bool smartglass_require_auth;
        [MarshalAs(UnmanagedType.I1)] public bool smartglass_powered_on;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct xnano_sim_stats
    {
        /// <summary>sizeof this struct as the caller knows it; set before every call.</summary>
        public uint struct_size;
        public ulong clients_accepted;
        public ulong video_frames_sent;
        public ulong video_bytes_sent;
        public ulong keyframes_sent;
        public ulong keyframe_requests;
        public ulong audio_packets_sent;
        public ulong input_frames_received;
        public ulong input_acks_sent;
        public ulong rumble_sent;
        public ulong chat_audio_received;
        public ulong udp_sent;
        public ulong udp_dropped;
        public ulong bad_packets;
        [MarshalAs(UnmanagedType.I1)] public bool client_connected;
        public ulong sg_discovery_requests;
        public ulong sg_power_on_requests;
        public ulong sg_connects_accepted;
        public ulong sg_connects_rejected;
        public ulong sg_messages_received;
        public ulong sg_gamestreams_started;
        public ulong sg_gamestreams_stopped;
    }
#pragma warning restore 1591
}
