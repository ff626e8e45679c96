//! `xnano_client`: one gamestream session (the Nano client engine).

use std::ffi::{c_char, c_void, CString};
use std::net::{SocketAddr, ToSocketAddrs};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};

use super::console::{console_ref, start_gamestream, xnano_console, StreamLink};
use super::gamestream_config::{gamestream_config_arg, xnano_gamestream_config};
use xnano_ffi_support::{box_to_mut_ptr, try_box_from_ptr, try_ref_from_ptr, Castable};

use super::{
    arg_str, boundary, growable_out, in_callback_of, out_ptr, panic_message, read_growable,
    write_growable, write_out, xnano_result, CallbackGuard, FfiError, FfiResult, XNANO_ANY,
};
use crate::nano::ReassemblyConfig;
use crate::nano::{
    AudioPreference, Client, ClientConfig, ClientEvent, CloseReason, ControllerState, EventHandler,
    StreamState, StreamStats, VideoPreference,
};
use xnano_proto::wire::nano::audio::AudioCodec;
use xnano_proto::wire::nano::video::VideoCodec;
use xnano_result::*;

/// A gamestream client session. Created by `xnano_client_new`, freed by
/// `xnano_client_free`. Opaque.
pub struct xnano_client {
    inner: Arc<ClientInner>,
}

/// The state of an `xnano_client`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum xnano_state {
    /// Created, not connected yet: callbacks may be set.
    XNANO_STATE_IDLE = 0,
    /// Connecting: the TCP connection is up, the control handshake runs.
    XNANO_STATE_CONNECTING = 1,
    /// The control handshake completed; channels are being opened.
    XNANO_STATE_CONNECTED = 2,
    /// Media flows: the console's first UDP datagram arrived.
    XNANO_STATE_STREAMING = 3,
    /// The session ended (see the error passed with this state).
    XNANO_STATE_CLOSED = 4,
}

/// Client settings. Get the defaults with `xnano_client_config_default`,
/// then change what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct xnano_client_config {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// Preferred video width among the console's offers, or XNANO_ANY.
    pub video_width: u32,
    /// Preferred video height, or XNANO_ANY.
    pub video_height: u32,
    /// Preferred video codec (XNANO_VIDEO_CODEC_*), or XNANO_ANY.
    pub video_codec: u32,
    /// Preferred audio codec (XNANO_AUDIO_CODEC_*), or XNANO_ANY.
    pub audio_codec: u32,
    /// Preferred audio channel count, or XNANO_ANY.
    pub audio_channels: u32,
    /// Preferred audio sample rate in Hz, or XNANO_ANY.
    pub audio_sample_rate: u32,
    /// TCP connect and control handshake timeout, ms (default 5000).
    pub connect_timeout_ms: u32,
    /// The session closes with XNANO_ERR_TIMEOUT when the console is silent
    /// this long, ms (default 5000).
    pub silence_timeout_ms: u32,
    /// How long a video frame may wait for its missing chunks, ms (default 16).
    pub defrag_timeout_ms: u32,
    /// Interval of keyframe requests while none arrives, ms (default 300).
    pub keyframe_retry_ms: u32,
    /// The most input frames sent per second (default 120).
    pub input_reads_per_second: u32,
    /// The largest video frame accepted, bytes (default 4 MiB).
    pub max_frame_size: u32,
    /// UDP receive buffer asked from the kernel, bytes (default 8 MiB).
    pub udp_recv_buffer: u32,
    /// 0 (default): events go to the callbacks only. N > 0: every event is
    /// also copied into a queue of at most N events, read with
    /// `xnano_client_next_event`; when it is full new media events are
    /// dropped (counted in `events_dropped`), state events never are.
    pub event_queue_capacity: u32,
    /// Open the ChatAudio channel (microphone to console; default true).
    pub chat_audio: bool,
    /// Hold video back until the first keyframe (default true).
    pub wait_for_first_keyframe: bool,
}

super::growable!(xnano_client_config {
    struct_size,
    video_width,
    video_height,
    video_codec,
    audio_codec,
    audio_channels,
    audio_sample_rate,
    connect_timeout_ms,
    silence_timeout_ms,
    defrag_timeout_ms,
    keyframe_retry_ms,
    input_reads_per_second,
    max_frame_size,
    udp_recv_buffer,
    event_queue_capacity,
    chat_audio,
    wait_for_first_keyframe,
});

impl Default for xnano_client_config {
    fn default() -> Self {
        let c = ClientConfig::default();
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        xnano_client_config {
            struct_size: std::mem::size_of::<xnano_client_config>() as u32,
            video_width: XNANO_ANY,
            video_height: XNANO_ANY,
            video_codec: XNANO_ANY,
            audio_codec: XNANO_ANY,
            audio_channels: XNANO_ANY,
            audio_sample_rate: XNANO_ANY,
            connect_timeout_ms: ms(c.connect_timeout),
            silence_timeout_ms: ms(c.silence_timeout),
            defrag_timeout_ms: ms(c.reassembly.defrag_timeout),
            keyframe_retry_ms: ms(c.keyframe_retry),
            input_reads_per_second: c.input_reads_per_second,
            max_frame_size: u32::try_from(c.reassembly.max_frame_size).unwrap_or(u32::MAX),
            udp_recv_buffer: u32::try_from(c.udp_recv_buffer).unwrap_or(u32::MAX),
            event_queue_capacity: 0,
            chat_audio: c.chat_audio,
            wait_for_first_keyframe: c.reassembly.wait_for_first_keyframe,
        }
    }
}

fn pref(v: u32) -> Option<u32> {
    (v != XNANO_ANY).then_some(v)
}

fn to_core_config(c: &xnano_client_config) -> FfiResult<ClientConfig> {
    let nonzero = |v: u32, what: &str| {
        if v == 0 {
            Err(FfiError::invalid(format!("config.{what} must be > 0")))
        } else {
            Ok(v)
        }
    };
    let ms = |v: u32, what: &str| nonzero(v, what).map(|v| Duration::from_millis(v.into()));
    let d = ClientConfig::default();
    let max_frame_size = nonzero(c.max_frame_size, "max_frame_size")? as usize;
    Ok(ClientConfig {
        video: VideoPreference {
            width: pref(c.video_width),
            height: pref(c.video_height),
            codec: pref(c.video_codec).map(VideoCodec::from_raw),
        },
        audio: AudioPreference {
            codec: pref(c.audio_codec).map(AudioCodec::from_raw),
            channels: pref(c.audio_channels),
            sample_rate: pref(c.audio_sample_rate),
        },
        connect_timeout: ms(c.connect_timeout_ms, "connect_timeout_ms")?,
        silence_timeout: ms(c.silence_timeout_ms, "silence_timeout_ms")?,
        keyframe_retry: ms(c.keyframe_retry_ms, "keyframe_retry_ms")?,
        input_reads_per_second: nonzero(c.input_reads_per_second, "input_reads_per_second")?,
        udp_recv_buffer: c.udp_recv_buffer as usize,
        chat_audio: c.chat_audio,
        reassembly: ReassemblyConfig {
            defrag_timeout: ms(c.defrag_timeout_ms, "defrag_timeout_ms")?,
            max_frame_size,
            max_total_bytes: d.reassembly.max_total_bytes.max(max_frame_size),
            wait_for_first_keyframe: c.wait_for_first_keyframe,
            ..d.reassembly
        },
        ..d
    })
}

/// One complete video frame, as passed to the video callback and carried
/// by video events.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct xnano_video_frame {
    /// Frame id (consecutive; a gap means frames were lost).
    pub frame_id: u32,
    /// Codec of the stream (XNANO_VIDEO_CODEC_*).
    pub codec: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second announced by the console.
    pub fps: u32,
    /// Console timestamp, microseconds.
    pub timestamp: u64,
    /// The frame's bytes (one H.264 access unit for H.264). In a callback:
    /// valid only during the call. In an event: owned by the event.
    pub data: *const u8,
    /// Length of `data` in bytes.
    pub len: usize,
    /// True for keyframes (IDR).
    pub keyframe: bool,
}

/// One audio packet, as passed to the audio callback and carried by audio
/// events.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct xnano_audio_packet {
    /// Frame id as sent by the console.
    pub frame_id: u32,
    /// Codec of the stream (XNANO_AUDIO_CODEC_*).
    pub codec: u32,
    /// Channel count.
    pub channels: u32,
    /// Sample rate, Hz.
    pub sample_rate: u32,
    /// Console timestamp, microseconds.
    pub timestamp: u64,
    /// The encoded packet. In a callback: valid only during the call. In an
    /// event: owned by the event.
    pub data: *const u8,
    /// Length of `data` in bytes.
    pub len: usize,
}

/// A rumble (force feedback) command.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct xnano_rumble {
    /// Controller number, 0..=3.
    pub controller: u8,
    /// Left trigger motor, 0..=255.
    pub left_trigger: u8,
    /// Right trigger motor, 0..=255.
    pub right_trigger: u8,
    /// Left handle (low-frequency) motor, 0..=255.
    pub left_handle: u8,
    /// Right handle (high-frequency) motor, 0..=255.
    pub right_handle: u8,
}

/// The state of one controller, sent with `xnano_client_set_controller_state`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct xnano_controller_state {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// Buttons held down: a bit mask of XNANO_BUTTON_*.
    pub buttons: u16,
    /// Left trigger, 0..=255.
    pub left_trigger: u8,
    /// Right trigger, 0..=255.
    pub right_trigger: u8,
    /// Left stick X, -32768..=32767.
    pub left_thumb_x: i16,
    /// Left stick Y.
    pub left_thumb_y: i16,
    /// Right stick X.
    pub right_thumb_x: i16,
    /// Right stick Y.
    pub right_thumb_y: i16,
}

super::growable!(xnano_controller_state {
    struct_size,
    buttons,
    left_trigger,
    right_trigger,
    left_thumb_x,
    left_thumb_y,
    right_thumb_x,
    right_thumb_y,
} + zeroed Default);

/// Button bit: D-pad up.
pub const XNANO_BUTTON_DPAD_UP: u16 = 0x0001;
/// Button bit: D-pad down.
pub const XNANO_BUTTON_DPAD_DOWN: u16 = 0x0002;
/// Button bit: D-pad left.
pub const XNANO_BUTTON_DPAD_LEFT: u16 = 0x0004;
/// Button bit: D-pad right.
pub const XNANO_BUTTON_DPAD_RIGHT: u16 = 0x0008;
/// Button bit: Start (menu).
pub const XNANO_BUTTON_START: u16 = 0x0010;
/// Button bit: Back (view).
pub const XNANO_BUTTON_BACK: u16 = 0x0020;
/// Button bit: left stick click.
pub const XNANO_BUTTON_LEFT_THUMB: u16 = 0x0040;
/// Button bit: right stick click.
pub const XNANO_BUTTON_RIGHT_THUMB: u16 = 0x0080;
/// Button bit: left bumper.
pub const XNANO_BUTTON_LEFT_SHOULDER: u16 = 0x0100;
/// Button bit: right bumper.
pub const XNANO_BUTTON_RIGHT_SHOULDER: u16 = 0x0200;
/// Button bit: Guide (Xbox) button.
pub const XNANO_BUTTON_GUIDE: u16 = 0x0400;
/// Button bit: A.
pub const XNANO_BUTTON_A: u16 = 0x1000;
/// Button bit: B.
pub const XNANO_BUTTON_B: u16 = 0x2000;
/// Button bit: X.
pub const XNANO_BUTTON_X: u16 = 0x4000;
/// Button bit: Y.
pub const XNANO_BUTTON_Y: u16 = 0x8000;

/// Session statistics (`xnano_client_get_stats`).
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct xnano_client_stats {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// Video frames delivered.
    pub frames_delivered: u64,
    /// Complete frames withheld because they depended on a lost one.
    pub frames_dropped: u64,
    /// Video frames lost.
    pub frames_lost: u64,
    /// Keyframes delivered.
    pub keyframes_delivered: u64,
    /// Keyframe requests sent.
    pub keyframe_requests: u64,
    /// Lost-frame reports sent.
    pub lost_reports: u64,
    /// Video chunks accepted.
    pub chunks_accepted: u64,
    /// Duplicated video chunks ignored.
    pub chunks_duplicate: u64,
    /// Video chunks of frames already finished.
    pub chunks_late: u64,
    /// Contradictory or over-limit video chunks.
    pub chunks_invalid: u64,
    /// Video bytes delivered.
    pub video_bytes: u64,
    /// Audio packets delivered.
    pub audio_packets: u64,
    /// Audio bytes delivered.
    pub audio_bytes: u64,
    /// Input frames sent.
    pub input_frames_sent: u64,
    /// Input frames acknowledged by the console.
    pub input_frames_acked: u64,
    /// Rumble commands received.
    pub rumble_events: u64,
    /// ChatAudio packets sent.
    pub chat_audio_sent: u64,
    /// UDP datagrams accepted.
    pub udp_packets: u64,
    /// UDP bytes accepted.
    pub udp_bytes: u64,
    /// UDP datagrams that did not decode.
    pub udp_malformed: u64,
    /// UDP datagrams with a wrong connection id or channel.
    pub udp_rejected: u64,
    /// UDP datagrams from an address other than the console's.
    pub udp_foreign_packets: u64,
    /// TCP packets received.
    pub tcp_packets: u64,
    /// TCP packets that did not decode.
    pub tcp_malformed: u64,
    /// Frame delivery latency (last chunk to callback), median, us.
    pub latency_p50_us: u64,
    /// Frame delivery latency, 99th percentile, us.
    pub latency_p99_us: u64,
    /// Frame delivery latency, maximum, us.
    pub latency_max_us: u64,
    /// Events dropped because the event queue was full.
    pub events_dropped: u64,
    /// Frame-id restarts seen (encoder restarts, stalls resynchronised).
    pub frame_id_restarts: u64,
    /// Video chunks whose flags differed from their frame's other chunks.
    pub chunk_flag_mismatches: u64,
    /// Input frames sent again until the console acked the latest state.
    pub input_frames_resent: u64,
}

super::growable!(xnano_client_stats {
    struct_size,
    frames_delivered,
    frames_dropped,
    frames_lost,
    keyframes_delivered,
    keyframe_requests,
    lost_reports,
    chunks_accepted,
    chunks_duplicate,
    chunks_late,
    chunks_invalid,
    video_bytes,
    audio_packets,
    audio_bytes,
    input_frames_sent,
    input_frames_acked,
    rumble_events,
    chat_audio_sent,
    udp_packets,
    udp_bytes,
    udp_malformed,
    udp_rejected,
    udp_foreign_packets,
    tcp_packets,
    tcp_malformed,
    latency_p50_us,
    latency_p99_us,
    latency_max_us,
    events_dropped,
    frame_id_restarts,
    chunk_flag_mismatches,
    input_frames_resent,
} + zeroed Default);

impl xnano_client_stats {
    fn from_core(s: &StreamStats, events_dropped: u64) -> Self {
        xnano_client_stats {
            struct_size: std::mem::size_of::<xnano_client_stats>() as u32,
            frames_delivered: s.frames_delivered,
            frames_dropped: s.frames_dropped,
            frames_lost: s.frames_lost,
            keyframes_delivered: s.keyframes_delivered,
            keyframe_requests: s.keyframe_requests,
            lost_reports: s.lost_reports,
            chunks_accepted: s.chunks_accepted,
            chunks_duplicate: s.chunks_duplicate,
            chunks_late: s.chunks_late,
            chunks_invalid: s.chunks_invalid,
            video_bytes: s.video_bytes,
            audio_packets: s.audio_packets,
            audio_bytes: s.audio_bytes,
            input_frames_sent: s.input_frames_sent,
            input_frames_acked: s.input_frames_acked,
            rumble_events: s.rumble_events,
            chat_audio_sent: s.chat_audio_sent,
            udp_packets: s.udp_packets,
            udp_bytes: s.udp_bytes,
            udp_malformed: s.udp_malformed,
            udp_rejected: s.udp_rejected,
            udp_foreign_packets: s.udp_foreign_packets,
            tcp_packets: s.tcp_packets,
            tcp_malformed: s.tcp_malformed,
            latency_p50_us: s.latency_p50_us,
            latency_p99_us: s.latency_p99_us,
            latency_max_us: s.latency_max_us,
            events_dropped,
            frame_id_restarts: s.frame_id_restarts,
            chunk_flag_mismatches: s.chunk_flag_mismatches,
            input_frames_resent: s.input_frames_resent,
        }
    }
}

/// Receives each complete video frame, in frame-id order. `frame` and its
/// data are valid only during the call (copy what you keep).
pub type xnano_video_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, frame: *const xnano_video_frame)>;

/// Receives each audio packet. `packet` and its data are valid only during
/// the call.
pub type xnano_audio_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, packet: *const xnano_audio_packet)>;

/// Receives each rumble command. `rumble` is valid only during the call.
pub type xnano_rumble_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, rumble: *const xnano_rumble)>;

/// Receives each state change. With XNANO_STATE_CLOSED, `error` tells why
/// (XNANO_OK after `xnano_client_stop`, XNANO_ERR_TIMEOUT, XNANO_ERR_IO,
/// XNANO_ERR_PROTOCOL, XNANO_ERR_CLOSED when the console hung up,
/// XNANO_ERR_PANIC when a callback trampoline failed); otherwise it is
/// XNANO_OK. `message` is a NUL-terminated text (never NULL, possibly
/// empty) valid only during the call. CLOSED comes exactly once and is the
/// last call of any callback of the client.
pub type xnano_state_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        state: xnano_state,
        error: xnano_result,
        message: *const c_char,
    ),
>;

/// What an `xnano_event` carries.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum xnano_event_type {
    /// A state change: `state`, `error` and `message` are set.
    XNANO_EVENT_STATE = 0,
    /// A video frame: `video` is set.
    XNANO_EVENT_VIDEO_FRAME = 1,
    /// An audio packet: `audio` is set.
    XNANO_EVENT_AUDIO = 2,
    /// A rumble command: `rumble` is set.
    XNANO_EVENT_RUMBLE = 3,
}

/// An event taken from the queue by `xnano_client_next_event`. The event
/// owns what it points to (`video`, `audio`, `rumble`, their data,
/// `message`) until `xnano_event_free`. Fields that do not belong to
/// `kind` are zero or NULL (`message` is then ""). The library allocates
/// it; later versions may append fields.
#[repr(C)]
#[derive(Debug)]
pub struct xnano_event {
    /// What the event carries.
    pub kind: xnano_event_type,
    /// The new state (XNANO_EVENT_STATE).
    pub state: xnano_state,
    /// Why the session closed (XNANO_EVENT_STATE with XNANO_STATE_CLOSED).
    pub error: xnano_result,
    /// State text (never NULL; "" for other events).
    pub message: *const c_char,
    /// The frame (XNANO_EVENT_VIDEO_FRAME), else NULL.
    pub video: *const xnano_video_frame,
    /// The packet (XNANO_EVENT_AUDIO), else NULL.
    pub audio: *const xnano_audio_packet,
    /// The command (XNANO_EVENT_RUMBLE), else NULL.
    pub rumble: *const xnano_rumble,
}

/// The event as allocated: the public part first, then what it owns.
/// (Public only as the Rust side of `xnano_event`'s handle; its fields are
/// private.)
#[doc(hidden)]
#[repr(C)]
pub struct OwnedEvent {
    ev: xnano_event,
    video: xnano_video_frame,
    audio: xnano_audio_packet,
    rumble: xnano_rumble,
    data: Vec<u8>,
    message: CString,
}

// SAFETY: the raw pointers in `ev` point into `data` and `message`, owned
// by the same allocation; nothing else aliases them.
unsafe impl Send for OwnedEvent {}

const EMPTY_VIDEO: xnano_video_frame = xnano_video_frame {
    frame_id: 0,
    codec: 0,
    width: 0,
    height: 0,
    fps: 0,
    timestamp: 0,
    data: std::ptr::null(),
    len: 0,
    keyframe: false,
};

const EMPTY_AUDIO: xnano_audio_packet = xnano_audio_packet {
    frame_id: 0,
    codec: 0,
    channels: 0,
    sample_rate: 0,
    timestamp: 0,
    data: std::ptr::null(),
    len: 0,
};

impl OwnedEvent {
    fn new(kind: xnano_event_type, data: &[u8], message: &str) -> Box<OwnedEvent> {
        let mut b = Box::new(OwnedEvent {
            ev: xnano_event {
                kind,
                state: xnano_state::XNANO_STATE_IDLE,
                error: XNANO_OK,
                message: std::ptr::null(),
                video: std::ptr::null(),
                audio: std::ptr::null(),
                rumble: std::ptr::null(),
            },
            video: EMPTY_VIDEO,
            audio: EMPTY_AUDIO,
            rumble: xnano_rumble::default(),
            data: data.to_vec(),
            message: c_text(message),
        });
        b.ev.message = b.message.as_ptr();
        b
    }

    fn data_ptr(&self) -> *const u8 {
        if self.data.is_empty() {
            std::ptr::null()
        } else {
            self.data.as_ptr()
        }
    }
}

fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

#[derive(Clone, Copy)]
struct Cb<F> {
    f: F,
    user_data: *mut c_void,
}

#[derive(Clone, Copy, Default)]
struct Callbacks {
    video: Option<Cb<unsafe extern "C" fn(*mut c_void, *const xnano_video_frame)>>,
    audio: Option<Cb<unsafe extern "C" fn(*mut c_void, *const xnano_audio_packet)>>,
    rumble: Option<Cb<unsafe extern "C" fn(*mut c_void, *const xnano_rumble)>>,
    state: Option<Cb<unsafe extern "C" fn(*mut c_void, xnano_state, xnano_result, *const c_char)>>,
}

// SAFETY: user data is only handed back to the user's callbacks, which the
// header documents as called from the library's threads.
unsafe impl Send for Callbacks {}
// SAFETY: as above; immutable once the session starts.
unsafe impl Sync for Callbacks {}

/// Test hook: the id of a client whose trampoline panics at its next frame.
#[cfg(test)]
pub(crate) static PANIC_IN_TRAMPOLINE: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// The id the test hook compares with.
#[cfg(test)]
pub(crate) fn test_id(c: *const xnano_client) -> usize {
    // SAFETY: tests pass live handles.
    unsafe { &*c }.id()
}

type Queue = super::EventQueue<OwnedEvent>;

/// What the engine's handler shares with the handle.
struct Ctx {
    id: usize,
    cbs: Callbacks,
    queue: Option<Queue>,
    events_dropped: AtomicU64,
    closed_reported: AtomicBool,
    /// Set once the CLOSED event is queued (pull mode ends after it).
    closed_queued: AtomicBool,
    panicked: AtomicBool,
    owner: Weak<ClientInner>,
}

impl Ctx {
    /// The engine's event handler body (runs on engine threads, or on a
    /// thread calling into the client). Never unwinds.
    fn handle(&self, ev: &ClientEvent) {
        if self.closed_reported.load(Ordering::Acquire) {
            return;
        }
        let r = catch_unwind(AssertUnwindSafe(|| self.translate(ev)));
        if let Err(p) = r {
            let msg = format!(
                "callback trampoline panicked: {}",
                panic_message(p.as_ref())
            );
            let _ = catch_unwind(AssertUnwindSafe(move || drop(p)));
            self.on_panic(msg);
        }
    }

    fn translate(&self, ev: &ClientEvent) {
        #[cfg(test)]
        if matches!(ev, ClientEvent::VideoFrame(_))
            && PANIC_IN_TRAMPOLINE
                .compare_exchange(self.id, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            panic!("test hook: panic in trampoline");
        }
        match ev {
            ClientEvent::Connected { .. } => {
                self.report_state(xnano_state::XNANO_STATE_CONNECTED, XNANO_OK, "connected")
            }
            ClientEvent::UdpEstablished => {
                self.report_state(xnano_state::XNANO_STATE_STREAMING, XNANO_OK, "streaming")
            }
            ClientEvent::VideoFrame(f) => {
                let v = &f.format;
                let frame = xnano_video_frame {
                    frame_id: f.frame_id,
                    codec: v.codec.raw(),
                    width: v.width,
                    height: v.height,
                    fps: v.fps,
                    timestamp: f.timestamp,
                    data: f.data.as_ptr(),
                    len: f.data.len(),
                    keyframe: f.keyframe,
                };
                if let Some(q) = &self.queue {
                    let mut e =
                        OwnedEvent::new(xnano_event_type::XNANO_EVENT_VIDEO_FRAME, &f.data, "");
                    e.video = xnano_video_frame {
                        data: e.data_ptr(),
                        ..frame
                    };
                    e.ev.video = &e.video;
                    self.push(q, e);
                }
                if let Some(cb) = self.cbs.video {
                    let _g = CallbackGuard::enter(self.id);
                    // SAFETY: the user's callback and user data; `frame`
                    // and `f.data` outlive the call.
                    unsafe { (cb.f)(cb.user_data, &frame) };
                }
            }
            ClientEvent::Audio(p) => {
                let a = &p.format;
                let packet = xnano_audio_packet {
                    frame_id: p.frame_id,
                    codec: a.codec.raw(),
                    channels: a.channels,
                    sample_rate: a.sample_rate,
                    timestamp: p.timestamp,
                    data: p.data.as_ptr(),
                    len: p.data.len(),
                };
                if let Some(q) = &self.queue {
                    let mut e = OwnedEvent::new(xnano_event_type::XNANO_EVENT_AUDIO, &p.data, "");
                    e.audio = xnano_audio_packet {
                        data: e.data_ptr(),
                        ..packet
                    };
                    e.ev.audio = &e.audio;
                    self.push(q, e);
                }
                if let Some(cb) = self.cbs.audio {
                    let _g = CallbackGuard::enter(self.id);
                    // SAFETY: as for video.
                    unsafe { (cb.f)(cb.user_data, &packet) };
                }
            }
            ClientEvent::Rumble(r) => {
                let rumble = xnano_rumble {
                    controller: r.controller,
                    left_trigger: r.left_trigger,
                    right_trigger: r.right_trigger,
                    left_handle: r.left_handle,
                    right_handle: r.right_handle,
                };
                if let Some(q) = &self.queue {
                    let mut e = OwnedEvent::new(xnano_event_type::XNANO_EVENT_RUMBLE, &[], "");
                    e.rumble = rumble;
                    e.ev.rumble = &e.rumble;
                    self.push(q, e);
                }
                if let Some(cb) = self.cbs.rumble {
                    let _g = CallbackGuard::enter(self.id);
                    // SAFETY: as for video.
                    unsafe { (cb.f)(cb.user_data, &rumble) };
                }
            }
            ClientEvent::Closed(reason) => {
                let code = match reason {
                    // Aborted by our own trampoline after a callback panicked.
                    CloseReason::Aborted { .. } if self.panicked.load(Ordering::Acquire) => {
                        XNANO_ERR_PANIC
                    }
                    r => super::close_reason_code(r),
                };
                self.report_closed(code, &reason.to_string());
            }
            ClientEvent::FramesLost { first, last } => {
                log::debug!("video frames {first}..={last} lost");
            }
            ClientEvent::InputReady(n) => log::debug!("input ready for controller {n}"),
            ClientEvent::ChannelOpened(c) => log::debug!("channel opened: {c:?}"),
            ClientEvent::ChannelClosed(c) => log::debug!("channel closed: {c:?}"),
            // Each frame and packet carries its format.
            ClientEvent::VideoFormat(_) | ClientEvent::AudioFormat(_) => {}
            ClientEvent::ChatAudioReady(_) | ClientEvent::Telemetry(_) => {}
        }
    }

    fn push(&self, q: &Queue, e: Box<OwnedEvent>) {
        let mut events = q.events.lock();
        if e.ev.kind != xnano_event_type::XNANO_EVENT_STATE && events.len() >= q.capacity {
            self.events_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        events.push_back(e);
        q.ready.notify_all();
    }

    fn report_state(&self, state: xnano_state, error: xnano_result, message: &str) {
        if let Some(q) = &self.queue {
            let mut e = OwnedEvent::new(xnano_event_type::XNANO_EVENT_STATE, &[], message);
            e.ev.state = state;
            e.ev.error = error;
            self.push(q, e);
        }
        if let Some(cb) = self.cbs.state {
            let text = c_text(message);
            let _g = CallbackGuard::enter(self.id);
            // SAFETY: the user's callback; `text` outlives the call.
            unsafe { (cb.f)(cb.user_data, state, error, text.as_ptr()) };
        }
    }

    /// Reports CLOSED once; later events are ignored.
    fn report_closed(&self, error: xnano_result, message: &str) {
        if self.closed_reported.swap(true, Ordering::AcqRel) {
            return;
        }
        self.report_state(xnano_state::XNANO_STATE_CLOSED, error, message);
        self.closed_queued.store(true, Ordering::Release);
        if let Some(q) = &self.queue {
            let _g = q.events.lock();
            q.ready.notify_all();
        }
    }

    /// A panic inside the trampoline: end the session with an error. The
    /// engine's Closed event then reports it; if the session cannot be
    /// reached (it is being stopped), CLOSED is reported here.
    fn on_panic(&self, msg: String) {
        log::error!("{msg}");
        self.panicked.store(true, Ordering::Release);
        let aborted = catch_unwind(AssertUnwindSafe(|| {
            let Some(owner) = self.owner.upgrade() else {
                return false;
            };
            let Some(slot) = owner.slot.try_read_recursive() else {
                return false;
            };
            match &*slot {
                Slot::Running { client, .. } => {
                    client.abort(CloseReason::Aborted {
                        reason: msg.clone(),
                    });
                    true
                }
                _ => false,
            }
        }))
        .unwrap_or(false);
        if !aborted {
            let _ = catch_unwind(AssertUnwindSafe(|| {
                self.report_closed(XNANO_ERR_PANIC, &msg)
            }));
        }
    }
}

enum Slot {
    Idle(Callbacks),
    Running {
        client: Client,
        ctx: Arc<Ctx>,
        /// Set when the stream was started through a console.
        link: Option<StreamLink>,
    },
    Stopped {
        ctx: Arc<Ctx>,
        stats: Option<Box<StreamStats>>,
    },
}

struct ClientInner {
    cfg: ClientConfig,
    queue_capacity: usize,
    slot: RwLock<Slot>,
    /// Set while `stop` waits for the slot's write lock. Calls check it
    /// before taking the (recursive, writer-blind) read lock, so threads
    /// hammering the client cannot starve a stop.
    stopping: AtomicBool,
    /// Set while a connect holds the slot's write lock (it may block for
    /// the connect timeout): `get_state` answers CONNECTING meanwhile
    /// instead of waiting.
    connecting: AtomicBool,
    /// The current session's context, for readers that must not touch the
    /// slot lock (state, events): set when a session starts.
    ctx: Mutex<Option<Arc<Ctx>>>,
    /// Held for the whole of a stop (and of the stop inside a free): a
    /// second stop waits until the first has joined the threads, so that
    /// neither returns while a callback can still run.
    op: Mutex<()>,
}

/// Marks a connect in progress for as long as it lives.
struct Connecting<'a>(&'a ClientInner);

impl<'a> Connecting<'a> {
    fn enter(inner: &'a ClientInner) -> Self {
        inner.connecting.store(true, Ordering::Release);
        Connecting(inner)
    }
}

impl Drop for Connecting<'_> {
    fn drop(&mut self) {
        self.0.connecting.store(false, Ordering::Release);
    }
}

impl xnano_client {
    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// A fresh context for a session starting now (`slot` is the locked
    /// idle slot holding the callbacks).
    fn new_ctx(&self, slot: &Slot) -> Arc<Ctx> {
        let cbs = match slot {
            Slot::Idle(cbs) => *cbs,
            _ => Callbacks::default(),
        };
        Arc::new(Ctx {
            id: self.id(),
            cbs,
            queue: Queue::with_capacity(self.inner.queue_capacity),
            events_dropped: AtomicU64::new(0),
            closed_reported: AtomicBool::new(false),
            closed_queued: AtomicBool::new(false),
            panicked: AtomicBool::new(false),
            owner: Arc::downgrade(&self.inner),
        })
    }

    fn with_running<T>(&self, f: impl FnOnce(&Client) -> FfiResult<T>) -> FfiResult<T> {
        if self.inner.stopping.load(Ordering::Acquire) {
            return Err(FfiError::new(XNANO_ERR_CLOSED, "the client is stopping"));
        }
        let slot = self.inner.slot.read_recursive();
        match &*slot {
            Slot::Running { client, .. } => f(client),
            Slot::Idle(_) => Err(FfiError::state("the client is not connected")),
            Slot::Stopped { .. } => Err(FfiError::new(XNANO_ERR_CLOSED, "the client was stopped")),
        }
    }

    /// Stops the engine if it runs. Fails inside own callbacks.
    fn stop(&self) -> FfiResult<()> {
        if in_callback_of(self.id()) {
            return Err(FfiError::new(
                XNANO_ERR_FROM_CALLBACK,
                "cannot stop or free a client from inside its own callback",
            ));
        }
        // Our own reference: a free racing this stop waits on `op` and then
        // drops the handle, while this call still finishes with `inner`.
        let inner = self.inner.clone();
        // A stop already running (another thread's stop or free): wait
        // until it has joined the threads.
        let _op = inner.op.lock();
        // Nothing to stop (never connected, or stopped by the call we
        // waited for): leave the other calls undisturbed.
        if !matches!(&*inner.slot.read_recursive(), Slot::Running { .. }) {
            return Ok(());
        }
        // New calls now fail fast instead of queueing on the read lock.
        inner.stopping.store(true, Ordering::Release);
        let (client, ctx, link) = {
            let mut slot = inner.slot.write();
            inner.stopping.store(false, Ordering::Release);
            let ctx = match &*slot {
                Slot::Running { ctx, .. } => ctx.clone(),
                Slot::Idle(_) | Slot::Stopped { .. } => return Ok(()),
            };
            let old = std::mem::replace(
                &mut *slot,
                Slot::Stopped {
                    ctx: ctx.clone(),
                    stats: None,
                },
            );
            match old {
                Slot::Running { client, link, .. } => (client, ctx, link),
                _ => unreachable!("checked above"),
            }
        };
        // Joins the engine's threads: no callback runs after this.
        let stats = client.stop()?;
        if let Some(l) = link {
            l.stopped();
        }
        if let Slot::Stopped { stats: s, .. } = &mut *inner.slot.write() {
            *s = Some(Box::new(stats));
        }
        // The engine does not report its own stop: CLOSED is delivered here,
        // on the calling thread, unless the session had already closed.
        ctx.report_closed(XNANO_OK, "stopped");
        Ok(())
    }
}

impl Drop for ClientInner {
    fn drop(&mut self) {
        // Reached only when not in a callback of this client (see free).
        let slot = std::mem::replace(self.slot.get_mut(), Slot::Idle(Callbacks::default()));
        if let Slot::Running { client, link, .. } = slot {
            let _ = client.stop();
            if let Some(l) = link {
                l.stopped();
            }
        }
    }
}

/// Fills `out_config` with the default client settings.
#[no_mangle]
pub extern "C" fn xnano_client_config_default(
    out_config: *mut xnano_client_config,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_config, "out_config") }?;
        // SAFETY: checked.
        unsafe { write_growable(out, xnano_client_config::default()) };
        Ok(())
    })
}

/// Creates a client in XNANO_STATE_IDLE. `config` may be NULL for the
/// defaults; it is copied. Set the callbacks next, then connect. Free with
/// `xnano_client_free`.
#[no_mangle]
pub extern "C" fn xnano_client_new(
    config: *const xnano_client_config,
    out_client: *mut *mut xnano_client,
) -> xnano_result {
    boundary(|| {
        let out = out_ptr(out_client, "out_client")?;
        let c = if config.is_null() {
            xnano_client_config::default()
        } else {
            // SAFETY: non-NULL, a config of `struct_size` bytes by the
            // caller's promise.
            unsafe { read_growable(config, xnano_client_config::default(), "config") }?
        };
        let cfg = to_core_config(&c)?;
        let client = Box::new(xnano_client {
            inner: Arc::new(ClientInner {
                cfg,
                queue_capacity: c.event_queue_capacity as usize,
                slot: RwLock::new(Slot::Idle(Callbacks::default())),
                stopping: AtomicBool::new(false),
                connecting: AtomicBool::new(false),
                ctx: Mutex::new(None),
                op: Mutex::new(()),
            }),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, box_to_mut_ptr::<xnano_client>(client)) };
        Ok(())
    })
}

/// Borrows a client handle argument.
///
/// # Safety
/// `p` is NULL or a live handle from `xnano_client_new`.
unsafe fn client_ref<'a>(p: *const xnano_client) -> FfiResult<&'a xnano_client> {
    // SAFETY: forwarded promise.
    unsafe { try_ref_from_ptr(p) }
}

// SAFETY: the handle is the struct itself.
unsafe impl Castable for xnano_client {
    const NAME: &'static str = "client";
    type RustType = xnano_client;
}

// SAFETY: `OwnedEvent` is repr(C) with the public event first.
unsafe impl Castable for xnano_event {
    const NAME: &'static str = "event";
    type RustType = OwnedEvent;
}

fn set_callback(client: *mut xnano_client, set: impl FnOnce(&mut Callbacks)) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        let mut slot = c.inner.slot.write();
        match &mut *slot {
            Slot::Idle(cbs) => {
                set(cbs);
                Ok(())
            }
            _ => Err(FfiError::state(
                "callbacks can only be set before connecting",
            )),
        }
    })
}

/// Sets (NULL: removes) the video frame callback. Only in XNANO_STATE_IDLE.
#[no_mangle]
pub extern "C" fn xnano_client_set_video_callback(
    client: *mut xnano_client,
    callback: xnano_video_callback,
    user_data: *mut c_void,
) -> xnano_result {
    set_callback(client, |c| c.video = callback.map(|f| Cb { f, user_data }))
}

/// Sets (NULL: removes) the audio packet callback. Only in XNANO_STATE_IDLE.
#[no_mangle]
pub extern "C" fn xnano_client_set_audio_callback(
    client: *mut xnano_client,
    callback: xnano_audio_callback,
    user_data: *mut c_void,
) -> xnano_result {
    set_callback(client, |c| c.audio = callback.map(|f| Cb { f, user_data }))
}

/// Sets (NULL: removes) the rumble callback. Only in XNANO_STATE_IDLE.
#[no_mangle]
pub extern "C" fn xnano_client_set_rumble_callback(
    client: *mut xnano_client,
    callback: xnano_rumble_callback,
    user_data: *mut c_void,
) -> xnano_result {
    set_callback(client, |c| c.rumble = callback.map(|f| Cb { f, user_data }))
}

/// Sets (NULL: removes) the state change callback. Only in XNANO_STATE_IDLE.
#[no_mangle]
pub extern "C" fn xnano_client_set_state_callback(
    client: *mut xnano_client,
    callback: xnano_state_callback,
    user_data: *mut c_void,
) -> xnano_result {
    set_callback(client, |c| c.state = callback.map(|f| Cb { f, user_data }))
}

fn resolve(host: &str, port: u16) -> FfiResult<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| FfiError::new(XNANO_ERR_IO, format!("cannot resolve {host}: {e}")))?
        .next()
        .ok_or_else(|| FfiError::new(XNANO_ERR_IO, format!("{host} did not resolve")))
}

/// Connects straight to a Nano host (a console whose gamestream was
/// started elsewhere, or the simulated console): `host` is a name or IP
/// address, `tcp_port` the control port, `udp_port` the data port. Blocks
/// until the TCP connection is up (at most `connect_timeout_ms`), then
/// returns in XNANO_STATE_CONNECTING; the rest is reported through the
/// state callback / events. Only in XNANO_STATE_IDLE; on failure the client
/// stays IDLE and may be connected again.
#[no_mangle]
pub extern "C" fn xnano_client_connect_nano(
    client: *mut xnano_client,
    host: *const c_char,
    tcp_port: u16,
    udp_port: u16,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        // SAFETY: NULL or a NUL-terminated string.
        let host = unsafe { arg_str(host, "host") }?;
        if tcp_port == 0 || udp_port == 0 {
            return Err(FfiError::invalid("ports must be non-zero"));
        }
        let tcp = resolve(host, tcp_port)?;
        let udp = SocketAddr::new(tcp.ip(), udp_port);
        // The write lock is held while the engine starts, so callbacks that
        // call back into this client wait until it is stored. The engine
        // dispatches nothing on this thread during `connect`.
        let mut slot = c.inner.slot.write();
        if !matches!(&*slot, Slot::Idle(_)) {
            return Err(FfiError::state("the client was already connected"));
        }
        let _connecting = Connecting::enter(&c.inner);
        let ctx = c.new_ctx(&slot);
        let h = ctx.clone();
        let handler: EventHandler = Box::new(move |ev| h.handle(ev));
        let engine = Client::connect(tcp, udp, c.inner.cfg.clone(), handler)?;
        *c.inner.ctx.lock() = Some(ctx.clone());
        *slot = Slot::Running {
            client: engine,
            ctx,
            link: None,
        };
        Ok(())
    })
}

/// Starts a gamestream over SmartGlass: asks the connected `console` to
/// start streaming with `config` (NULL: the defaults; it is copied), waits
/// until the console's Nano host is up and connects this client to it.
/// From then on the client works exactly as after
/// `xnano_client_connect_nano`: the same callbacks, events, input, stats,
/// stop and free; `xnano_client_stop` also tells the console to stop
/// streaming. The client's config applies, except that the gamestream
/// keys "videoPacketDefragTimeoutMs", "inputReadsPerSecond" and
/// "enableAudioChat" override its defrag timeout, input rate and chat
/// audio. Blocks up to the console's `wait_timeout_ms` (twice: channel and
/// stream); returns in XNANO_STATE_CONNECTING or later. Only in
/// XNANO_STATE_IDLE, with the console connected and no other client
/// streaming through it (XNANO_ERR_WRONG_STATE); XNANO_ERR_REFUSED when
/// the console refuses the stream; XNANO_ERR_FROM_CALLBACK from inside the
/// console's event callback. On failure the client stays IDLE (no callback
/// was called) and may be connected again.
#[no_mangle]
pub extern "C" fn xnano_client_connect_console(
    client: *mut xnano_client,
    console: *mut xnano_console,
    config: *const xnano_gamestream_config,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        // SAFETY: the caller passes a live handle or NULL.
        let con = unsafe { console_ref(console) }?;
        // SAFETY: NULL or a live configuration handle.
        let gs = unsafe { gamestream_config_arg(config) }?;
        // As in `xnano_client_connect_nano`: callbacks that call back in
        // wait until the engine is stored.
        let mut slot = c.inner.slot.write();
        if !matches!(&*slot, Slot::Idle(_)) {
            return Err(FfiError::state("the client was already connected"));
        }
        let _connecting = Connecting::enter(&c.inner);
        let ctx = c.new_ctx(&slot);
        let h = ctx.clone();
        let handler: EventHandler = Box::new(move |ev| h.handle(ev));
        let mute = || ctx.closed_reported.store(true, Ordering::Release);
        let (engine, link) =
            start_gamestream(con, c.id(), &gs, c.inner.cfg.clone(), handler, &mute)?;
        *c.inner.ctx.lock() = Some(ctx.clone());
        *slot = Slot::Running {
            client: engine,
            ctx,
            link: Some(link),
        };
        Ok(())
    })
}

fn ctx_of(c: &xnano_client) -> Option<Arc<Ctx>> {
    c.inner.ctx.lock().clone()
}

/// Writes the client's current state to `out_state`.
#[no_mangle]
pub extern "C" fn xnano_client_get_state(
    client: *const xnano_client,
    out_state: *mut xnano_state,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        let out = out_ptr(out_state, "out_state")?;
        // Asked of the engine. Besides a connect, the slot's write lock is
        // held only to store or take the engine, never while joining.
        if c.inner.connecting.load(Ordering::Acquire) {
            // SAFETY: checked non-NULL.
            unsafe { write_out(out, xnano_state::XNANO_STATE_CONNECTING) };
            return Ok(());
        }
        let st = match &*c.inner.slot.read_recursive() {
            Slot::Idle(_) => xnano_state::XNANO_STATE_IDLE,
            Slot::Stopped { .. } => xnano_state::XNANO_STATE_CLOSED,
            Slot::Running { client, .. } => match client.state() {
                StreamState::Connecting => xnano_state::XNANO_STATE_CONNECTING,
                StreamState::Connected => xnano_state::XNANO_STATE_CONNECTED,
                StreamState::Streaming => xnano_state::XNANO_STATE_STREAMING,
                StreamState::Closed => xnano_state::XNANO_STATE_CLOSED,
            },
        };
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, st) };
        Ok(())
    })
}

fn check_controller(n: u8) -> FfiResult<()> {
    if n > 3 {
        Err(FfiError::invalid(format!("controller {n}: must be 0..=3")))
    } else {
        Ok(())
    }
}

/// Sets the state of controller `controller` (0..=3). The first call
/// announces the controller to the console, which then opens its input
/// channel; changes are sent as input frames (at most
/// `input_reads_per_second`). Allowed from XNANO_STATE_CONNECTING on: a
/// state set before the console opened input is sent once it has.
#[no_mangle]
pub extern "C" fn xnano_client_set_controller_state(
    client: *mut xnano_client,
    controller: u8,
    state: *const xnano_controller_state,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        // SAFETY: NULL or a valid struct.
        let s = unsafe { read_growable(state, xnano_controller_state::default(), "state") }?;
        check_controller(controller)?;
        let st = ControllerState {
            buttons: s.buttons,
            left_trigger: s.left_trigger,
            right_trigger: s.right_trigger,
            left_thumb_x: s.left_thumb_x,
            left_thumb_y: s.left_thumb_y,
            right_thumb_x: s.right_thumb_x,
            right_thumb_y: s.right_thumb_y,
        };
        c.with_running(|e| Ok(e.set_controller_state(controller, st)?))
    })
}

/// Announces (`connected` true) or removes a controller (0..=3).
#[no_mangle]
pub extern "C" fn xnano_client_set_controller_connected(
    client: *mut xnano_client,
    controller: u8,
    connected: bool,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        check_controller(controller)?;
        c.with_running(|e| Ok(e.set_controller_connected(controller, connected)?))
    })
}

/// Asks the console for a keyframe. Needs XNANO_STATE_CONNECTED or later.
#[no_mangle]
pub extern "C" fn xnano_client_request_keyframe(client: *mut xnano_client) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        c.with_running(|e| Ok(e.request_keyframe()?))
    })
}

/// Sends a Change Video Quality message: `count` must be 6 (the six
/// values of the message; their meaning is undocumented).
#[no_mangle]
pub extern "C" fn xnano_client_change_video_quality(
    client: *mut xnano_client,
    values: *const u32,
    count: usize,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        if values.is_null() {
            return Err(FfiError::null("values"));
        }
        if count != 6 {
            return Err(FfiError::invalid(format!("count {count}: must be 6")));
        }
        // SAFETY: non-NULL and `count` elements long by the caller's promise.
        let v = unsafe { std::slice::from_raw_parts(values, 6) };
        let q = [v[0], v[1], v[2], v[3], v[4], v[5]];
        c.with_running(|e| Ok(e.change_video_quality(q)?))
    })
}

/// Sends one encoded microphone packet (in the ChatAudio format) to the
/// console. `data` is copied.
#[no_mangle]
pub extern "C" fn xnano_client_send_chat_audio(
    client: *mut xnano_client,
    data: *const u8,
    len: usize,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        if data.is_null() {
            return Err(FfiError::null("data"));
        }
        // SAFETY: non-NULL and `len` bytes long by the caller's promise.
        let d = unsafe { std::slice::from_raw_parts(data, len) };
        c.with_running(|e| Ok(e.send_chat_audio(d)?))
    })
}

/// Writes the session statistics to `out_stats`. Works in every state
/// (zeros before connecting, the final numbers after a stop); fails with
/// XNANO_ERR_WRONG_STATE only while a stop is in progress.
#[no_mangle]
pub extern "C" fn xnano_client_get_stats(
    client: *const xnano_client,
    out_stats: *mut xnano_client_stats,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_stats, "out_stats") }?;
        if c.inner.stopping.load(Ordering::Acquire) {
            return Err(FfiError::state("the client is stopping"));
        }
        let st = match &*c.inner.slot.read_recursive() {
            Slot::Idle(_) => xnano_client_stats::default(),
            Slot::Running { client, ctx, .. } => xnano_client_stats::from_core(
                &client.stats(),
                ctx.events_dropped.load(Ordering::Relaxed),
            ),
            Slot::Stopped {
                stats: Some(s),
                ctx,
            } => xnano_client_stats::from_core(s, ctx.events_dropped.load(Ordering::Relaxed)),
            Slot::Stopped { stats: None, .. } => {
                return Err(FfiError::state("the client is stopping"))
            }
        };
        // SAFETY: checked non-NULL.
        unsafe { write_growable(out, st) };
        Ok(())
    })
}

/// Takes the next queued event (pull mode; needs
/// `event_queue_capacity` > 0 in the config), waiting up to `timeout_ms`
/// (0: do not wait). On XNANO_OK `*out_event` owns a new event: free it
/// with `xnano_event_free`. XNANO_ERR_TIMEOUT: nothing arrived in time.
/// XNANO_ERR_CLOSED: the session is closed and every event (including the
/// final CLOSED state event) was taken. XNANO_ERR_WRONG_STATE: not
/// connected yet, or no queue configured. Any thread may call it, also
/// while another thread stops the client; not after `xnano_client_free`.
#[no_mangle]
pub extern "C" fn xnano_client_next_event(
    client: *mut xnano_client,
    timeout_ms: u32,
    out_event: *mut *mut xnano_event,
) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        let out = out_ptr(out_event, "out_event")?;
        if c.inner.queue_capacity == 0 {
            return Err(FfiError::state(
                "no event queue: set event_queue_capacity in the config",
            ));
        }
        let ctx = ctx_of(c).ok_or_else(|| FfiError::state("the client is not connected"))?;
        let q = ctx
            .queue
            .as_ref()
            .ok_or_else(|| FfiError::state("no event queue"))?;
        let e = q.pop_wait(timeout_ms, &ctx.closed_queued)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, box_to_mut_ptr::<xnano_event>(e)) };
        Ok(())
    })
}

/// Frees an event from `xnano_client_next_event` with everything it owns.
/// NULL is accepted. The event's pointers are invalid afterwards.
#[no_mangle]
pub extern "C" fn xnano_event_free(event: *mut xnano_event) {
    let _ = boundary(|| {
        // SAFETY: NULL or an event from `xnano_client_next_event`.
        drop(unsafe { try_box_from_ptr(event) });
        Ok(())
    });
}

/// Stops the session: tells the console, closes the sockets, joins the
/// library's threads. When it returns no callback of this client runs any
/// more; the state callback got XNANO_STATE_CLOSED (from this call, on this
/// thread, with XNANO_OK, unless the session had closed before). Statistics
/// stay readable. Stopping a stopped or never connected client is XNANO_OK.
/// Called while another thread stops or frees the same client, it waits
/// until that one has joined the threads, so the promise holds for both.
/// Returns XNANO_ERR_FROM_CALLBACK (and does nothing) when called from one
/// of this client's callbacks.
#[no_mangle]
pub extern "C" fn xnano_client_stop(client: *mut xnano_client) -> xnano_result {
    boundary(|| {
        // SAFETY: the caller passes a live handle or NULL.
        let c = unsafe { client_ref(client) }?;
        c.stop()
    })
}

/// Stops the client if needed (see `xnano_client_stop`) and frees it. NULL
/// is accepted. Never fails; the handle is invalid once it returns. A free
/// racing a stop of the same client on another thread waits for that stop.
/// Called from inside one of this client's callbacks, it cannot wait for
/// the library's threads (the caller is one of them): no callback of this
/// client is called after the running one returns, and the library stops
/// the session and releases the handle on a thread of its own once the
/// callback's thread has ended.
#[no_mangle]
pub extern "C" fn xnano_client_free(client: *mut xnano_client) {
    let _ = boundary(|| {
        // SAFETY: NULL or a live handle; the caller gives it up.
        let Some(c) = (unsafe { try_box_from_ptr(client) }) else {
            return Ok(());
        };
        if in_callback_of(c.id()) {
            // Nothing more reaches the user: later events are ignored and
            // the stop reports no CLOSED.
            if let Some(ctx) = ctx_of(&c) {
                ctx.closed_reported.store(true, Ordering::Release);
            }
            super::reap("client", move || {
                if let Err(e) = c.stop() {
                    log::debug!("stopping a client freed in its callback: {}", e.message);
                }
            });
            return Ok(());
        }
        if let Err(e) = c.stop() {
            log::debug!("stopping a client on free: {}", e.message);
        }
        Ok(())
    });
}
