//! `xnano_console`: the SmartGlass console session with its commands and
//! events, and the console's side of a gamestream started through it.
//! (Discovery and power-on: `discovery.rs`; the gamestream configuration
//! handle: `gamestream_config.rs`.)

use std::collections::VecDeque;
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::{Condvar, Mutex, RwLock};

use xnano_ffi_support::{box_to_mut_ptr, try_box_from_ptr, try_ref_from_ptr, Castable};

use super::discovery::resolve_console;
use super::{
    arg_str, boundary, close_reason_code, growable_out, in_callback_of, out_ptr, panic_message,
    read_growable, reap, write_growable, write_out, xnano_result, CallbackGuard, FfiError,
    FfiResult,
};
use crate::nano;
use crate::smartglass::{self, ConnectOptions, Event};
use crate::smartglass::{
    CloseReason, GameStreamConfig, GameStreamEvent, ServiceChannel, SessionConfig, SessionEvent,
};
pub use xnano_ffi_support::console_info::*;
use xnano_proto::wire::sg::payloads::{
    ActiveTitleLocation, Gamepad, GamepadButtons, MediaControlCommand, TextResult,
};
use xnano_result::*;

/// `xnano_console_launch_title` location: full screen.
pub const XNANO_TITLE_LOCATION_FULL: u32 = 0;
/// `xnano_console_launch_title` location: fill.
pub const XNANO_TITLE_LOCATION_FILL: u32 = 1;
/// `xnano_console_launch_title` location: snapped.
pub const XNANO_TITLE_LOCATION_SNAPPED: u32 = 2;
/// `xnano_console_launch_title` location: start view.
pub const XNANO_TITLE_LOCATION_START_VIEW: u32 = 3;
/// `xnano_console_launch_title` location: system UI.
pub const XNANO_TITLE_LOCATION_SYSTEM_UI: u32 = 4;
/// `xnano_console_launch_title` location: the console's default.
pub const XNANO_TITLE_LOCATION_DEFAULT: u32 = 5;

/// Media command: play.
pub const XNANO_MEDIA_PLAY: u32 = 0x2;
/// Media command: pause.
pub const XNANO_MEDIA_PAUSE: u32 = 0x4;
/// Media command: play/pause toggle.
pub const XNANO_MEDIA_PLAY_PAUSE_TOGGLE: u32 = 0x8;
/// Media command: stop.
pub const XNANO_MEDIA_STOP: u32 = 0x10;
/// Media command: record.
pub const XNANO_MEDIA_RECORD: u32 = 0x20;
/// Media command: next track.
pub const XNANO_MEDIA_NEXT_TRACK: u32 = 0x40;
/// Media command: previous track.
pub const XNANO_MEDIA_PREVIOUS_TRACK: u32 = 0x80;
/// Media command: fast forward.
pub const XNANO_MEDIA_FAST_FORWARD: u32 = 0x100;
/// Media command: rewind.
pub const XNANO_MEDIA_REWIND: u32 = 0x200;
/// Media command: channel up.
pub const XNANO_MEDIA_CHANNEL_UP: u32 = 0x400;
/// Media command: channel down.
pub const XNANO_MEDIA_CHANNEL_DOWN: u32 = 0x800;
/// Media command: back.
pub const XNANO_MEDIA_BACK: u32 = 0x1000;
/// Media command: view.
pub const XNANO_MEDIA_VIEW: u32 = 0x2000;
/// Media command: menu.
pub const XNANO_MEDIA_MENU: u32 = 0x4000;
/// Media command: seek (to `seek_position`).
pub const XNANO_MEDIA_SEEK: u32 = 0x8000;

/// SmartGlass gamepad button bit (`xnano_gamepad.buttons`): enroll.
pub const XNANO_GAMEPAD_ENROLL: u16 = 0x1;
/// SmartGlass gamepad button bit: Nexus (guide).
pub const XNANO_GAMEPAD_NEXUS: u16 = 0x2;
/// SmartGlass gamepad button bit: menu.
pub const XNANO_GAMEPAD_MENU: u16 = 0x4;
/// SmartGlass gamepad button bit: view.
pub const XNANO_GAMEPAD_VIEW: u16 = 0x8;
/// SmartGlass gamepad button bit: A.
pub const XNANO_GAMEPAD_A: u16 = 0x10;
/// SmartGlass gamepad button bit: B.
pub const XNANO_GAMEPAD_B: u16 = 0x20;
/// SmartGlass gamepad button bit: X.
pub const XNANO_GAMEPAD_X: u16 = 0x40;
/// SmartGlass gamepad button bit: Y.
pub const XNANO_GAMEPAD_Y: u16 = 0x80;
/// SmartGlass gamepad button bit: D-pad up.
pub const XNANO_GAMEPAD_DPAD_UP: u16 = 0x100;
/// SmartGlass gamepad button bit: D-pad down.
pub const XNANO_GAMEPAD_DPAD_DOWN: u16 = 0x200;
/// SmartGlass gamepad button bit: D-pad left.
pub const XNANO_GAMEPAD_DPAD_LEFT: u16 = 0x400;
/// SmartGlass gamepad button bit: D-pad right.
pub const XNANO_GAMEPAD_DPAD_RIGHT: u16 = 0x800;
/// SmartGlass gamepad button bit: left shoulder.
pub const XNANO_GAMEPAD_LEFT_SHOULDER: u16 = 0x1000;
/// SmartGlass gamepad button bit: right shoulder.
pub const XNANO_GAMEPAD_RIGHT_SHOULDER: u16 = 0x2000;
/// SmartGlass gamepad button bit: left thumbstick click.
pub const XNANO_GAMEPAD_LEFT_THUMB: u16 = 0x4000;
/// SmartGlass gamepad button bit: right thumbstick click.
pub const XNANO_GAMEPAD_RIGHT_THUMB: u16 = 0x8000;

/// `xnano_console_text_done` result: cancel the text entry.
pub const XNANO_TEXT_RESULT_CANCEL: u32 = 0;
/// `xnano_console_text_done` result: accept the text.
pub const XNANO_TEXT_RESULT_ACCEPT: u32 = 1;

/// Service channel value (`xnano_console_event.channel`): core.
pub const XNANO_CHANNEL_CORE: u32 = 0;
/// Service channel value: system input.
pub const XNANO_CHANNEL_SYSTEM_INPUT: u32 = 1;
/// Service channel value: system input, TV remote.
pub const XNANO_CHANNEL_SYSTEM_INPUT_TV_REMOTE: u32 = 2;
/// Service channel value: system media.
pub const XNANO_CHANNEL_SYSTEM_MEDIA: u32 = 3;
/// Service channel value: system text.
pub const XNANO_CHANNEL_SYSTEM_TEXT: u32 = 4;
/// Service channel value: system broadcast (gamestream).
pub const XNANO_CHANNEL_SYSTEM_BROADCAST: u32 = 5;
/// Service channel value: the title channel.
pub const XNANO_CHANNEL_TITLE: u32 = 7;

/// Gamestream state value (`xnano_console_event.gamestream_state`): unknown.
pub const XNANO_GAMESTREAM_UNKNOWN: u32 = 0;
/// Gamestream state value: initializing (the Nano ports are announced).
pub const XNANO_GAMESTREAM_INITIALIZING: u32 = 1;
/// Gamestream state value: started (the Nano host is ready).
pub const XNANO_GAMESTREAM_STARTED: u32 = 2;
/// Gamestream state value: stopped.
pub const XNANO_GAMESTREAM_STOPPED: u32 = 3;
/// Gamestream state value: paused.
pub const XNANO_GAMESTREAM_PAUSED: u32 = 4;

/// Settings of `xnano_console_connect`. Get the defaults with
/// `xnano_console_config_default`, then change what you need. The strings
/// are read (copied) during `xnano_console_connect` only.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct xnano_console_config {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// Xbox Live user hash for an authenticated connection; NULL or ""
    /// (default): anonymous (needs both this and `auth_token`).
    pub userhash: *const c_char,
    /// Xbox Live XSTS token; NULL or "" (default): anonymous.
    pub auth_token: *const c_char,
    /// Connect anonymously even when the console's flags do not allow
    /// anonymous users (default false: XNANO_ERR_REFUSED without sending).
    pub ignore_anonymous_flag: bool,
    /// How long the unicast discovery that fetches the console's
    /// certificate waits, ms (default 3000).
    pub discovery_timeout_ms: u32,
    /// How long blocking calls wait, ms (default 10000): the connect
    /// itself, and the channel and gamestream start of
    /// `xnano_client_connect_console`.
    pub wait_timeout_ms: u32,
    /// Time between heartbeats, ms (default 3000).
    pub heartbeat_interval_ms: u32,
    /// The session closes with XNANO_ERR_TIMEOUT when nothing arrived from
    /// the console this long, ms (default 15000).
    pub console_timeout_ms: u32,
    /// 0 (default): events go to the event callback only. N > 0: every
    /// event is also copied into a queue of at most N events, read with
    /// `xnano_console_next_event`; when it is full new events are dropped,
    /// except CLOSED, which never is.
    pub event_queue_capacity: u32,
}

super::growable!(xnano_console_config {
    struct_size,
    userhash,
    auth_token,
    ignore_anonymous_flag,
    discovery_timeout_ms,
    wait_timeout_ms,
    heartbeat_interval_ms,
    console_timeout_ms,
    event_queue_capacity,
});

impl Default for xnano_console_config {
    fn default() -> Self {
        let o = ConnectOptions::default();
        let ms = |d: Duration| u32::try_from(d.as_millis()).unwrap_or(u32::MAX);
        xnano_console_config {
            struct_size: std::mem::size_of::<xnano_console_config>() as u32,
            userhash: std::ptr::null(),
            auth_token: std::ptr::null(),
            ignore_anonymous_flag: false,
            discovery_timeout_ms: ms(o.discovery_timeout),
            wait_timeout_ms: ms(o.wait_timeout),
            heartbeat_interval_ms: ms(o.session.heartbeat_interval),
            console_timeout_ms: ms(o.session.console_timeout),
            event_queue_capacity: 0,
        }
    }
}

/// Reads an optional string field (NULL: "").
///
/// # Safety
/// `p` is NULL or NUL-terminated.
unsafe fn opt_str(p: *const c_char, what: &str) -> FfiResult<String> {
    if p.is_null() {
        Ok(String::new())
    } else {
        // SAFETY: forwarded promise.
        Ok(unsafe { arg_str(p, what) }?.to_string())
    }
}

fn to_options(c: &xnano_console_config) -> FfiResult<ConnectOptions> {
    let ms = |v: u32, what: &str| {
        if v == 0 {
            Err(FfiError::invalid(format!("config.{what} must be > 0")))
        } else {
            Ok(Duration::from_millis(v.into()))
        }
    };
    let mut o = ConnectOptions::default();
    o.discovery_timeout = ms(c.discovery_timeout_ms, "discovery_timeout_ms")?;
    o.wait_timeout = ms(c.wait_timeout_ms, "wait_timeout_ms")?;
    o.session = SessionConfig {
        // SAFETY: NULL or NUL-terminated, by the config's contract.
        userhash: unsafe { opt_str(c.userhash, "config.userhash") }?,
        // SAFETY: as above.
        auth_token: unsafe { opt_str(c.auth_token, "config.auth_token") }?,
        ignore_anonymous_flag: c.ignore_anonymous_flag,
        heartbeat_interval: ms(c.heartbeat_interval_ms, "heartbeat_interval_ms")?,
        console_timeout: ms(c.console_timeout_ms, "console_timeout_ms")?,
        ..o.session
    };
    Ok(o)
}

/// Fills `out_config` with the default console settings (anonymous).
#[no_mangle]
pub extern "C" fn xnano_console_config_default(
    out_config: *mut xnano_console_config,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_config, "out_config") }?;
        // SAFETY: checked.
        unsafe { write_growable(out, xnano_console_config::default()) };
        Ok(())
    })
}

/// The state of an `xnano_console`.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum xnano_console_state {
    /// Created, not connected: the event callback may be set.
    XNANO_CONSOLE_STATE_IDLE = 0,
    /// Connected: commands may be sent.
    XNANO_CONSOLE_STATE_CONNECTED = 1,
    /// The session ended (see the CLOSED event).
    XNANO_CONSOLE_STATE_CLOSED = 2,
}

/// What an `xnano_console_event` reports.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum xnano_console_event_type {
    /// The console accepted the connection: `participant_id`.
    XNANO_CONSOLE_EVENT_CONNECTED = 0,
    /// The session ended; nothing follows. `error`: XNANO_OK after
    /// `xnano_console_disconnect`, XNANO_ERR_CLOSED when the console
    /// disconnected (e.g. powered off), XNANO_ERR_TIMEOUT, XNANO_ERR_IO,
    /// XNANO_ERR_PANIC; `message` says why.
    XNANO_CONSOLE_EVENT_CLOSED = 1,
    /// Console status: `os_major_version`, `os_minor_version`,
    /// `os_build_number`, `active_title_count`, `title_id` and `text` (the
    /// focused title and its AUM).
    XNANO_CONSOLE_EVENT_CONSOLE_STATUS = 2,
    /// Media state: `title_id`, `playback_status`, `media_position`,
    /// `media_end`, `text` (the app's AUM).
    XNANO_CONSOLE_EVENT_MEDIA_STATE = 3,
    /// The console opened a text entry session: `text_session_id`,
    /// `text_version`, `text_max_length`, `text` (the prompt). Answer with
    /// `xnano_console_send_text` / `xnano_console_text_done`.
    XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION = 4,
    /// The console's text changed: `text_session_id`, `text_version`,
    /// `text` (acknowledged automatically).
    XNANO_CONSOLE_EVENT_TEXT_INPUT = 5,
    /// A text session ended: `text_session_id`, `text_version`,
    /// `text_result` (XNANO_TEXT_RESULT_*).
    XNANO_CONSOLE_EVENT_TEXT_DONE = 6,
    /// A service channel opened: `channel` (XNANO_CHANNEL_*).
    XNANO_CONSOLE_EVENT_CHANNEL_STARTED = 7,
    /// The console refused to open a channel: `channel`, `error`
    /// (XNANO_ERR_REFUSED), `message`.
    XNANO_CONSOLE_EVENT_CHANNEL_FAILED = 8,
    /// The console's gamestream state changed: `gamestream_state`
    /// (XNANO_GAMESTREAM_*), `tcp_port` / `udp_port` (the Nano ports, when
    /// announced).
    XNANO_CONSOLE_EVENT_GAMESTREAM_STATE = 9,
    /// The gamestream's Nano connection is up: `tcp_port`, `udp_port`.
    XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED = 10,
    /// The gamestream could not be started: `error`, `message`.
    XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED = 11,
    /// Anything else the session reports (acknowledgements, JSON messages,
    /// pairing state, media command results, rejected packets...):
    /// `message` is its name, `json` its content.
    XNANO_CONSOLE_EVENT_OTHER = 12,
}

/// One event of an `xnano_console`, as passed to the event callback and
/// returned by `xnano_console_next_event`. Fields that do not belong to
/// `kind` are 0 (strings ""). In a callback the event and its strings are
/// valid only during the call; a pulled event owns them until
/// `xnano_console_event_free`.
#[repr(C)]
#[derive(Debug)]
pub struct xnano_console_event {
    /// What happened.
    pub kind: xnano_console_event_type,
    /// CLOSED, CHANNEL_FAILED, GAMESTREAM_FAILED: the result code that
    /// describes the failure (XNANO_OK for a CLOSED after
    /// `xnano_console_disconnect`); XNANO_OK otherwise.
    pub error: xnano_result,
    /// A one-line description (never NULL): the close reason, the error,
    /// the event's name for OTHER.
    pub message: *const c_char,
    /// The whole event as JSON (never NULL; field names as in the Rust
    /// core's `SessionEvent` serialization).
    pub json: *const c_char,
    /// CONNECTED: our participant id.
    pub participant_id: u32,
    /// CONSOLE_STATUS: the focused title's id; MEDIA_STATE: the media
    /// title's id.
    pub title_id: u32,
    /// CONSOLE_STATUS: OS major version.
    pub os_major_version: u32,
    /// CONSOLE_STATUS: OS minor version.
    pub os_minor_version: u32,
    /// CONSOLE_STATUS: OS build number.
    pub os_build_number: u32,
    /// CONSOLE_STATUS: number of running titles.
    pub active_title_count: u32,
    /// MEDIA_STATE: playback status (0 closed, 1 changing, 2 stopped,
    /// 3 playing, 4 paused).
    pub playback_status: u32,
    /// MEDIA_STATE: position (100 ns units).
    pub media_position: u64,
    /// MEDIA_STATE: media end (100 ns units).
    pub media_end: u64,
    /// TEXT_*: the text session id.
    pub text_session_id: u32,
    /// TEXT_CONFIGURATION: buffer version; TEXT_INPUT: submitted version;
    /// TEXT_DONE: text version.
    pub text_version: u32,
    /// TEXT_CONFIGURATION: the longest text accepted.
    pub text_max_length: u32,
    /// TEXT_DONE: XNANO_TEXT_RESULT_*.
    pub text_result: u32,
    /// Text content (never NULL): CONSOLE_STATUS the focused title's AUM,
    /// MEDIA_STATE the app's AUM, TEXT_CONFIGURATION the prompt,
    /// TEXT_INPUT the text.
    pub text: *const c_char,
    /// CHANNEL_*: XNANO_CHANNEL_*.
    pub channel: u32,
    /// GAMESTREAM_STATE: XNANO_GAMESTREAM_*.
    pub gamestream_state: u32,
    /// GAMESTREAM_*: the Nano TCP port (0 when not announced).
    pub tcp_port: u16,
    /// GAMESTREAM_*: the Nano UDP port (0 when not announced).
    pub udp_port: u16,
}

/// Receives each event of a console, in order. `event` is valid only
/// during the call. CLOSED comes exactly once and is the last call.
pub type xnano_console_event_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, event: *const xnano_console_event)>;

fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// An event's content on the Rust side (cloneable; turned into C form
/// for each consumer).
#[derive(Debug, Clone)]
struct Spec {
    kind: xnano_console_event_type,
    error: xnano_result,
    message: String,
    json: String,
    text: String,
    participant_id: u32,
    title_id: u32,
    os: [u32; 3],
    active_title_count: u32,
    playback_status: u32,
    media_position: u64,
    media_end: u64,
    text_session_id: u32,
    text_version: u32,
    text_max_length: u32,
    text_result: u32,
    channel: u32,
    gamestream_state: u32,
    tcp_port: u16,
    udp_port: u16,
}

impl Spec {
    fn new(kind: xnano_console_event_type, message: impl Into<String>, json: String) -> Spec {
        Spec {
            kind,
            error: XNANO_OK,
            message: message.into(),
            json,
            text: String::new(),
            participant_id: 0,
            title_id: 0,
            os: [0; 3],
            active_title_count: 0,
            playback_status: 0,
            media_position: 0,
            media_end: 0,
            text_session_id: 0,
            text_version: 0,
            text_max_length: 0,
            text_result: 0,
            channel: 0,
            gamestream_state: 0,
            tcp_port: 0,
            udp_port: 0,
        }
    }

    fn into_owned(self) -> Box<OwnedConsoleEvent> {
        let mut b = Box::new(OwnedConsoleEvent {
            ev: xnano_console_event {
                kind: self.kind,
                error: self.error,
                message: std::ptr::null(),
                json: std::ptr::null(),
                participant_id: self.participant_id,
                title_id: self.title_id,
                os_major_version: self.os[0],
                os_minor_version: self.os[1],
                os_build_number: self.os[2],
                active_title_count: self.active_title_count,
                playback_status: self.playback_status,
                media_position: self.media_position,
                media_end: self.media_end,
                text_session_id: self.text_session_id,
                text_version: self.text_version,
                text_max_length: self.text_max_length,
                text_result: self.text_result,
                text: std::ptr::null(),
                channel: self.channel,
                gamestream_state: self.gamestream_state,
                tcp_port: self.tcp_port,
                udp_port: self.udp_port,
            },
            message: c_text(&self.message),
            json: c_text(&self.json),
            text: c_text(&self.text),
        });
        b.ev.message = b.message.as_ptr();
        b.ev.json = b.json.as_ptr();
        b.ev.text = b.text.as_ptr();
        b
    }
}

/// The event as allocated: the public part first, then what it owns.
/// (Public only as the Rust side of `xnano_console_event`'s handle.)
#[doc(hidden)]
#[repr(C)]
pub struct OwnedConsoleEvent {
    ev: xnano_console_event,
    message: CString,
    json: CString,
    text: CString,
}

// SAFETY: the raw pointers in `ev` point into the CStrings of the same
// allocation; nothing else aliases them.
unsafe impl Send for OwnedConsoleEvent {}

fn channel_value(c: ServiceChannel) -> u32 {
    c as u32
}

fn json_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "{}".into())
}

/// Translates an engine event; `None` for nothing worth reporting.
fn convert(ev: &Event) -> Spec {
    use xnano_console_event_type::*;
    let se = match ev {
        Event::NanoConnected { tcp, udp } => {
            let json = serde_json::json!({
                "event": "gamestream_connected",
                "tcp": tcp.to_string(),
                "udp": udp.to_string(),
            })
            .to_string();
            let mut s = Spec::new(
                XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED,
                format!("gamestream connected to {tcp} / {udp}"),
                json,
            );
            s.tcp_port = tcp.port();
            s.udp_port = udp.port();
            return s;
        }
        Event::NanoFailed { error } => {
            let json =
                serde_json::json!({"event": "gamestream_failed", "error": error}).to_string();
            let mut s = Spec::new(XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED, error.clone(), json);
            s.error = if error.contains("GameStreamError") {
                XNANO_ERR_REFUSED
            } else if error.starts_with("nano connect") {
                XNANO_ERR_IO
            } else {
                XNANO_ERR_PROTOCOL
            };
            return s;
        }
        Event::Session(se) => se,
    };
    let json = json_of(se);
    match se {
        SessionEvent::Connected { participant_id, .. } => {
            let mut s = Spec::new(XNANO_CONSOLE_EVENT_CONNECTED, "connected", json);
            s.participant_id = *participant_id;
            s
        }
        SessionEvent::Closed(reason) => {
            let mut s = Spec::new(XNANO_CONSOLE_EVENT_CLOSED, reason.to_string(), json);
            s.error = close_reason_code(reason);
            s
        }
        SessionEvent::ConsoleStatus(st) => {
            let focused = st
                .active_titles
                .iter()
                .find(|t| t.disposition.has_focus)
                .or_else(|| st.active_titles.first());
            let mut s = Spec::new(
                XNANO_CONSOLE_EVENT_CONSOLE_STATUS,
                format!(
                    "console status: OS {}.{}.{}, {} title(s){}",
                    st.major_version,
                    st.minor_version,
                    st.build_number,
                    st.active_titles.len(),
                    focused
                        .map(|t| format!(", focus {}", t.aum))
                        .unwrap_or_default()
                ),
                json,
            );
            s.os = [st.major_version, st.minor_version, st.build_number];
            s.active_title_count = u32::try_from(st.active_titles.len()).unwrap_or(u32::MAX);
            if let Some(t) = focused {
                s.title_id = t.title_id;
                s.text = t.aum.clone();
            }
            s
        }
        SessionEvent::MediaState(m) => {
            let mut s = Spec::new(
                XNANO_CONSOLE_EVENT_MEDIA_STATE,
                format!(
                    "media state: {} {}",
                    m.aum_id,
                    m.playback_status.name().to_lowercase()
                ),
                json,
            );
            s.title_id = m.title_id;
            s.playback_status = m.playback_status.raw().into();
            s.media_position = m.position;
            s.media_end = m.media_end;
            s.text = m.aum_id.clone();
            s
        }
        SessionEvent::TextConfiguration(t) => {
            let mut s = Spec::new(
                XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION,
                "text session started",
                json,
            );
            s.text_session_id = t.text_session_id as u32;
            s.text_version = t.text_buffer_version;
            s.text_max_length = t.max_text_length;
            s.text = t.prompt.clone();
            s
        }
        SessionEvent::TextInput(t) => {
            let mut s = Spec::new(XNANO_CONSOLE_EVENT_TEXT_INPUT, "text input", json);
            s.text_session_id = t.text_session_id;
            s.text_version = t.submitted_version;
            s.text = t.text_chunk.clone();
            s
        }
        SessionEvent::TextDone(t) => {
            let mut s = Spec::new(XNANO_CONSOLE_EVENT_TEXT_DONE, "text session ended", json);
            s.text_session_id = t.text_session_id;
            s.text_version = t.text_version;
            s.text_result = t.result.raw();
            s
        }
        SessionEvent::ChannelStarted { channel, .. } => {
            let mut s = Spec::new(
                XNANO_CONSOLE_EVENT_CHANNEL_STARTED,
                format!("channel {channel} started"),
                json,
            );
            s.channel = channel_value(*channel);
            s
        }
        SessionEvent::ChannelFailed { channel, result } => {
            let mut s = Spec::new(
                XNANO_CONSOLE_EVENT_CHANNEL_FAILED,
                format!("console refused channel {channel}: {}", result.name()),
                json,
            );
            s.channel = channel_value(*channel);
            s.error = XNANO_ERR_REFUSED;
            s
        }
        SessionEvent::GameStream(GameStreamEvent::State(st)) => {
            let mut s = Spec::new(
                XNANO_CONSOLE_EVENT_GAMESTREAM_STATE,
                format!("gamestream {}", st.state.name().to_lowercase()),
                json,
            );
            s.gamestream_state = u32::try_from(st.state.raw()).unwrap_or(0);
            s.tcp_port = st.tcp_port.unwrap_or(0);
            s.udp_port = st.udp_port.unwrap_or(0);
            s
        }
        other => {
            let name = serde_json::to_value(other)
                .ok()
                .and_then(|v| v.get("event").and_then(|e| e.as_str()).map(String::from))
                .unwrap_or_else(|| "other".into());
            Spec::new(XNANO_CONSOLE_EVENT_OTHER, name, json)
        }
    }
}

#[derive(Clone, Copy)]
struct Cb {
    f: unsafe extern "C" fn(*mut c_void, *const xnano_console_event),
    user_data: *mut c_void,
}

// SAFETY: user data is only handed back to the user's callback, which the
// header documents as called from the library's threads.
unsafe impl Send for Cb {}
// SAFETY: as above; immutable once connected.
unsafe impl Sync for Cb {}

type Queue = super::EventQueue<OwnedConsoleEvent>;

/// Events are held back until `xnano_console_connect` has stored the
/// session (so that callbacks may call back into the console).
struct Gate {
    live: bool,
    held: VecDeque<Spec>,
}

/// What the engine's handler shares with the handle.
struct Ctx {
    id: usize,
    cb: Option<Cb>,
    gate: Mutex<Gate>,
    /// Signalled when an event is held back.
    held_cv: Condvar,
    queue: Option<Queue>,
    events_dropped: AtomicU64,
    closed_reported: AtomicBool,
    closed_queued: AtomicBool,
}

impl Ctx {
    /// The engine's handler body (socket thread, or the thread that
    /// disconnects). A panic here is caught by the engine, which ends the
    /// session with a HandlerPanic close reason (CLOSED, XNANO_ERR_PANIC).
    fn handle(&self, ev: &Event) {
        if self.closed_reported.load(Ordering::Acquire) {
            return;
        }
        #[cfg(test)]
        if matches!(ev, Event::Session(SessionEvent::TextConfiguration(_)))
            && PANIC_IN_CONSOLE_TRAMPOLINE
                .compare_exchange(self.id, 0, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            panic!("test hook: panic in console trampoline");
        }
        let spec = convert(ev);
        {
            let mut g = self.gate.lock();
            if !g.live {
                g.held.push_back(spec);
                self.held_cv.notify_all();
                return;
            }
        }
        self.deliver(spec);
    }

    /// Waits (up to `timeout`) until the CONNECTED event is held: the
    /// session is connected when the engine's connect returns, but its
    /// socket thread may not have dispatched the event yet.
    fn wait_connected_event(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut g = self.gate.lock();
        while !g.held.iter().any(|s| {
            matches!(
                s.kind,
                xnano_console_event_type::XNANO_CONSOLE_EVENT_CONNECTED
                    | xnano_console_event_type::XNANO_CONSOLE_EVENT_CLOSED
            )
        }) {
            if self.held_cv.wait_until(&mut g, deadline).timed_out() {
                return;
            }
        }
    }

    /// Delivers the held events on the calling thread, then lets the
    /// engine's thread deliver directly.
    fn go_live(&self) {
        loop {
            let batch = {
                let mut g = self.gate.lock();
                if g.held.is_empty() {
                    g.live = true;
                    return;
                }
                std::mem::take(&mut g.held)
            };
            for s in batch {
                self.deliver(s);
            }
        }
    }

    fn deliver(&self, spec: Spec) {
        let closed = spec.kind == xnano_console_event_type::XNANO_CONSOLE_EVENT_CLOSED;
        if closed && self.closed_reported.swap(true, Ordering::AcqRel) {
            return;
        }
        if !closed && self.closed_reported.load(Ordering::Acquire) {
            return;
        }
        if let Some(q) = &self.queue {
            let e = spec.clone().into_owned();
            let mut events = q.events.lock();
            if !closed && events.len() >= q.capacity {
                self.events_dropped.fetch_add(1, Ordering::Relaxed);
            } else {
                events.push_back(e);
            }
            if closed {
                self.closed_queued.store(true, Ordering::Release);
            }
            q.ready.notify_all();
        }
        if let Some(cb) = self.cb {
            let e = spec.into_owned();
            let _g = CallbackGuard::enter(self.id);
            // SAFETY: the user's callback and user data; the event lives
            // until the call returns.
            unsafe { (cb.f)(cb.user_data, &e.ev) };
        }
    }
}

/// Test hook: the id of a console whose trampoline panics at its next
/// text configuration event.
#[cfg(test)]
pub(crate) static PANIC_IN_CONSOLE_TRAMPOLINE: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(0);

/// The id the test hook compares with.
#[cfg(test)]
pub(crate) fn test_console_id(c: *const xnano_console) -> usize {
    // SAFETY: tests pass live handles.
    unsafe { &*c }.id()
}

enum Slot {
    Idle(Option<Cb>),
    Running {
        client: smartglass::Client,
        ctx: Arc<Ctx>,
    },
    Disconnected {
        ctx: Arc<Ctx>,
    },
}

pub(crate) struct ConsoleInner {
    slot: RwLock<Slot>,
    /// The id of the `xnano_client` streaming through this console (0:
    /// none).
    streamer: Mutex<usize>,
    /// `wait_timeout_ms` of the connect config.
    wait_timeout: Mutex<Duration>,
    /// Held for the whole of a connect (until its held-back events are
    /// delivered) and of a disconnect: a disconnect waits for a running
    /// connect or disconnect, so that nothing is delivered after it
    /// returned.
    op: Mutex<()>,
    /// Set by a disconnect waiting for a running connect: the connect then
    /// undoes itself and fails (XNANO_ERR_CLOSED) without calling back.
    cancel_connect: AtomicBool,
}

/// A SmartGlass session with a console. Created by `xnano_console_new`,
/// freed by `xnano_console_free`. Opaque.
pub struct xnano_console {
    inner: Arc<ConsoleInner>,
}

impl xnano_console {
    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }

    /// The session's context, if it ever connected.
    fn ctx(&self) -> Option<Arc<Ctx>> {
        match &*self.inner.slot.read_recursive() {
            Slot::Running { ctx, .. } | Slot::Disconnected { ctx } => Some(ctx.clone()),
            Slot::Idle(_) => None,
        }
    }

    fn with_running<T>(&self, f: impl FnOnce(&smartglass::Client) -> FfiResult<T>) -> FfiResult<T> {
        match &*self.inner.slot.read_recursive() {
            Slot::Running { client, .. } => f(client),
            Slot::Idle(_) => Err(FfiError::state("the console is not connected")),
            Slot::Disconnected { .. } => Err(FfiError::new(
                XNANO_ERR_CLOSED,
                "the console was disconnected",
            )),
        }
    }

    fn disconnect(&self) -> FfiResult<()> {
        if in_callback_of(self.id()) {
            return Err(FfiError::new(
                XNANO_ERR_FROM_CALLBACK,
                "cannot disconnect or free a console from inside its own callback",
            ));
        }
        // Our own reference: a free racing this disconnect waits on `op`
        // and then drops the handle, while this call finishes with `inner`.
        let inner = self.inner.clone();
        // A connect that is running gives up; a disconnect that is running
        // finishes first.
        inner.cancel_connect.store(true, Ordering::Release);
        let _op = inner.op.lock();
        inner.cancel_connect.store(false, Ordering::Release);
        let client = {
            let mut slot = inner.slot.write();
            let ctx = match &*slot {
                Slot::Running { ctx, .. } => ctx.clone(),
                Slot::Idle(_) | Slot::Disconnected { .. } => return Ok(()),
            };
            match std::mem::replace(&mut *slot, Slot::Disconnected { ctx }) {
                Slot::Running { client, .. } => client,
                _ => unreachable!("checked above"),
            }
        };
        // Joins the engine's thread; CLOSED is delivered before it returns.
        client.disconnect()?;
        Ok(())
    }
}

impl Drop for ConsoleInner {
    fn drop(&mut self) {
        // Reached only when not in a callback of this console (see free).
        let slot = std::mem::replace(self.slot.get_mut(), Slot::Idle(None));
        if let Slot::Running { client, .. } = slot {
            let _ = client.disconnect();
        }
    }
}

/// Borrows a console handle argument.
///
/// # Safety
/// `p` is NULL or a live handle from `xnano_console_new`.
pub(crate) unsafe fn console_ref<'a>(p: *const xnano_console) -> FfiResult<&'a xnano_console> {
    // SAFETY: forwarded promise.
    unsafe { try_ref_from_ptr(p) }
}

// SAFETY: the handle is the struct itself.
unsafe impl Castable for xnano_console {
    const NAME: &'static str = "console";
    type RustType = xnano_console;
}

// SAFETY: `OwnedConsoleEvent` is repr(C) with the public event first.
unsafe impl Castable for xnano_console_event {
    const NAME: &'static str = "event";
    type RustType = OwnedConsoleEvent;
}

/// Creates a console handle in XNANO_CONSOLE_STATE_IDLE. Set the event
/// callback next (optional), then connect. Free with `xnano_console_free`.
#[no_mangle]
pub extern "C" fn xnano_console_new(out_console: *mut *mut xnano_console) -> xnano_result {
    boundary(|| {
        let out = out_ptr(out_console, "out_console")?;
        let c = Box::new(xnano_console {
            inner: Arc::new(ConsoleInner {
                slot: RwLock::new(Slot::Idle(None)),
                streamer: Mutex::new(0),
                wait_timeout: Mutex::new(ConnectOptions::default().wait_timeout),
                op: Mutex::new(()),
                cancel_connect: AtomicBool::new(false),
            }),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, box_to_mut_ptr::<xnano_console>(c)) };
        Ok(())
    })
}

/// Sets (NULL: removes) the event callback. Only in
/// XNANO_CONSOLE_STATE_IDLE. It is called on the console's socket thread;
/// the events that arrive while `xnano_console_connect` runs (CONNECTED
/// among them) are delivered on the thread calling it, before it returns;
/// the final CLOSED of `xnano_console_disconnect` on the socket thread or
/// on the thread calling that, before it returns. Calls never overlap.
#[no_mangle]
pub extern "C" fn xnano_console_set_event_callback(
    console: *mut xnano_console,
    callback: xnano_console_event_callback,
    user_data: *mut c_void,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        match &mut *c.inner.slot.write() {
            Slot::Idle(cb) => {
                *cb = callback.map(|f| Cb { f, user_data });
                Ok(())
            }
            _ => Err(FfiError::state(
                "the event callback can only be set before connecting",
            )),
        }
    })
}

/// Connects to the console at `address` ("host" or "host:port", port 5050
/// when absent, e.g. the `address` of an `xnano_console_info`): fetches
/// its certificate by unicast discovery, agrees the keys, connects
/// (anonymously unless `config` has credentials) and waits until the
/// console accepts; the system channels are then opened in the background.
/// `config` NULL: defaults. Blocks up to `discovery_timeout_ms` +
/// `wait_timeout_ms`. Only in XNANO_CONSOLE_STATE_IDLE; on failure the
/// console stays IDLE (no callback was called) and may be connected again.
/// Errors: XNANO_ERR_NOT_FOUND (no answer to discovery), XNANO_ERR_REFUSED
/// (connection refused, or anonymous connections not allowed),
/// XNANO_ERR_TIMEOUT, XNANO_ERR_IO; XNANO_ERR_CLOSED when another thread
/// disconnected or freed the console meanwhile.
#[no_mangle]
pub extern "C" fn xnano_console_connect(
    console: *mut xnano_console,
    address: *const c_char,
    config: *const xnano_console_config,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        // SAFETY: NULL or NUL-terminated.
        let address = unsafe { arg_str(address, "address") }?;
        let cfg = if config.is_null() {
            xnano_console_config::default()
        } else {
            // SAFETY: non-NULL, valid by the caller's promise.
            unsafe { read_growable(config, xnano_console_config::default(), "config") }?
        };
        let opts = to_options(&cfg)?;
        let addr = resolve_console(address)?;
        let wait_timeout = opts.wait_timeout;
        // A disconnect (or another connect) on another thread waits for
        // this one, held-back events included.
        let _op = c.inner.op.lock();
        let ctx = {
            // The write lock is held while connecting: other threads'
            // calls wait; the handler never takes it (events are held
            // back until the session is stored).
            let mut slot = c.inner.slot.write();
            let cb = match &*slot {
                Slot::Idle(cb) => *cb,
                _ => return Err(FfiError::state("the console was already connected")),
            };
            let ctx = Arc::new(Ctx {
                id: c.id(),
                cb,
                gate: Mutex::new(Gate {
                    live: false,
                    held: VecDeque::new(),
                }),
                held_cv: Condvar::new(),
                queue: Queue::with_capacity(cfg.event_queue_capacity as usize),
                events_dropped: AtomicU64::new(0),
                closed_reported: AtomicBool::new(false),
                closed_queued: AtomicBool::new(false),
            });
            let h = ctx.clone();
            let client = smartglass::Client::connect(addr, opts, Box::new(move |ev| h.handle(ev)))?;
            *slot = Slot::Running {
                client,
                ctx: ctx.clone(),
            };
            *c.inner.wait_timeout.lock() = wait_timeout;
            ctx
        };
        ctx.wait_connected_event(wait_timeout);
        if c.inner.cancel_connect.load(Ordering::Acquire) {
            // A disconnect is waiting: undo the connect without calling
            // back (the held events are dropped) and fail.
            ctx.closed_reported.store(true, Ordering::Release);
            let old = std::mem::replace(&mut *c.inner.slot.write(), Slot::Idle(ctx.cb));
            if let Slot::Running { client, .. } = old {
                if let Err(e) = client.disconnect() {
                    log::debug!("undoing a cancelled connect: {e}");
                }
            }
            return Err(FfiError::new(
                XNANO_ERR_CLOSED,
                "disconnected (by another thread) while connecting",
            ));
        }
        let r = catch_unwind(AssertUnwindSafe(|| ctx.go_live()));
        if let Err(p) = r {
            let message = panic_message(p.as_ref());
            let _ = c.with_running(|cl| {
                cl.with_session(|s, _| s.fail(CloseReason::HandlerPanic { message }));
                Ok(())
            });
        }
        Ok(())
    })
}

/// Writes the console's state to `out_state`.
#[no_mangle]
pub extern "C" fn xnano_console_get_state(
    console: *const xnano_console,
    out_state: *mut xnano_console_state,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        let out = out_ptr(out_state, "out_state")?;
        let st = match &*c.inner.slot.read_recursive() {
            Slot::Idle(_) => xnano_console_state::XNANO_CONSOLE_STATE_IDLE,
            Slot::Disconnected { .. } => xnano_console_state::XNANO_CONSOLE_STATE_CLOSED,
            Slot::Running { client, .. } => {
                if client.is_closed() {
                    xnano_console_state::XNANO_CONSOLE_STATE_CLOSED
                } else {
                    xnano_console_state::XNANO_CONSOLE_STATE_CONNECTED
                }
            }
        };
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, st) };
        Ok(())
    })
}

/// Writes what discovery said about the connected console to `out_info`.
/// Needs a connected (or closed) console.
#[no_mangle]
pub extern "C" fn xnano_console_get_info(
    console: *const xnano_console,
    out_info: *mut xnano_console_info,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_info, "out_info") }?;
        let info = c.with_running(|cl| Ok(xnano_console_info::from_core(cl.console())))?;
        // SAFETY: checked non-NULL.
        unsafe { write_growable(out, info) };
        Ok(())
    })
}

/// Takes the next queued event (pull mode; needs `event_queue_capacity` >
/// 0 in the config given to `xnano_console_connect`), waiting up to
/// `timeout_ms` (0: do not wait). On XNANO_OK `*out_event` owns a new
/// event: free it with `xnano_console_event_free`. XNANO_ERR_TIMEOUT:
/// nothing arrived in time. XNANO_ERR_CLOSED: the session is closed and
/// every event (CLOSED included) was taken. XNANO_ERR_WRONG_STATE: not
/// connected, or no queue configured.
#[no_mangle]
pub extern "C" fn xnano_console_next_event(
    console: *mut xnano_console,
    timeout_ms: u32,
    out_event: *mut *mut xnano_console_event,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        let out = out_ptr(out_event, "out_event")?;
        let ctx = match &*c.inner.slot.read_recursive() {
            Slot::Idle(_) => return Err(FfiError::state("the console is not connected")),
            Slot::Running { ctx, .. } | Slot::Disconnected { ctx } => ctx.clone(),
        };
        let q = ctx.queue.as_ref().ok_or_else(|| {
            FfiError::state("no event queue: set event_queue_capacity in the config")
        })?;
        let e = q.pop_wait(timeout_ms, &ctx.closed_queued)?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, box_to_mut_ptr::<xnano_console_event>(e)) };
        Ok(())
    })
}

/// Frees an event from `xnano_console_next_event`. NULL is accepted.
#[no_mangle]
pub extern "C" fn xnano_console_event_free(event: *mut xnano_console_event) {
    let _ = boundary(|| {
        // SAFETY: NULL or an event from `xnano_console_next_event`.
        drop(unsafe { try_box_from_ptr(event) });
        Ok(())
    });
}

/// Writes the number of events dropped because the event queue was full.
#[no_mangle]
pub extern "C" fn xnano_console_events_dropped(
    console: *const xnano_console,
    out_count: *mut u64,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        let out = out_ptr(out_count, "out_count")?;
        let n = match &*c.inner.slot.read_recursive() {
            Slot::Idle(_) => 0,
            Slot::Running { ctx, .. } | Slot::Disconnected { ctx } => {
                ctx.events_dropped.load(Ordering::Relaxed)
            }
        };
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, n) };
        Ok(())
    })
}

/// Disconnects: tells the console goodbye and joins the session's thread.
/// A gamestream started with `xnano_client_connect_console` is not stopped
/// by this (the console usually ends it; the client then reports CLOSED).
/// The CLOSED event (XNANO_OK) is delivered (on the socket thread or on
/// this one) before it returns; no callback of this console runs
/// afterwards. Disconnecting an idle or disconnected console is XNANO_OK.
/// Called while another thread connects, disconnects or frees the same
/// console, it waits for that call; a connect it waited for fails with
/// XNANO_ERR_CLOSED without having called back. XNANO_ERR_FROM_CALLBACK
/// (and nothing done) from inside this console's callback.
#[no_mangle]
pub extern "C" fn xnano_console_disconnect(console: *mut xnano_console) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        c.disconnect()
    })
}

/// Disconnects if needed (see `xnano_console_disconnect`) and frees the
/// console. NULL is accepted. Never fails; the handle is invalid once it
/// returns. A free racing a connect or disconnect of the same console on
/// another thread waits for it. Called from inside this console's
/// callback, it cannot wait for the socket thread (the caller is on it):
/// no callback of this console is called after the running one returns,
/// and the library disconnects and releases the handle on a thread of its
/// own once the callback's thread has ended.
#[no_mangle]
pub extern "C" fn xnano_console_free(console: *mut xnano_console) {
    let _ = boundary(|| {
        // SAFETY: NULL or a live handle; the caller gives it up.
        let Some(c) = (unsafe { try_box_from_ptr(console) }) else {
            return Ok(());
        };
        if in_callback_of(c.id()) {
            // Nothing more reaches the user.
            if let Some(ctx) = c.ctx() {
                ctx.closed_reported.store(true, Ordering::Release);
            }
            reap("console", move || {
                if let Err(e) = c.disconnect() {
                    log::debug!(
                        "disconnecting a console freed in its callback: {}",
                        e.message
                    );
                }
            });
            return Ok(());
        }
        if let Err(e) = c.disconnect() {
            log::debug!("disconnecting a console on free: {}", e.message);
        }
        Ok(())
    });
}

/// Powers the console off (it disconnects us: CLOSED with XNANO_ERR_CLOSED
/// follows). Needs a connected console.
#[no_mangle]
pub extern "C" fn xnano_console_power_off(console: *mut xnano_console) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        c.with_running(|cl| Ok(cl.power_off()?))
    })
}

/// Launches a title or URI (e.g. "ms-xbl-4C3A3D2A://default") at
/// `location` (XNANO_TITLE_LOCATION_*).
#[no_mangle]
pub extern "C" fn xnano_console_launch_title(
    console: *mut xnano_console,
    uri: *const c_char,
    location: u32,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        // SAFETY: NULL or NUL-terminated.
        let uri = unsafe { arg_str(uri, "uri") }?;
        let loc = u16::try_from(location)
            .ok()
            .filter(|l| *l <= 5)
            .ok_or_else(|| FfiError::invalid(format!("location {location}: must be 0..=5")))?;
        c.with_running(|cl| {
            cl.launch_title(uri, ActiveTitleLocation::from_raw(loc))?;
            Ok(())
        })
    })
}

/// Sends a media command (XNANO_MEDIA_*, one of them) to the title
/// `title_id` (from a MEDIA_STATE event) on the SystemMedia channel.
/// `seek_position` is used with XNANO_MEDIA_SEEK only. `out_request_id`
/// (may be NULL) receives the request id that the console's
/// MediaCommandResult (an OTHER event) refers to.
#[no_mangle]
pub extern "C" fn xnano_console_media_command(
    console: *mut xnano_console,
    title_id: u32,
    command: u32,
    seek_position: u64,
    out_request_id: *mut u64,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        if !command.is_power_of_two() || !(XNANO_MEDIA_PLAY..=XNANO_MEDIA_SEEK).contains(&command) {
            return Err(FfiError::invalid(format!(
                "media command 0x{command:x}: must be one XNANO_MEDIA_* value"
            )));
        }
        let cmd = MediaControlCommand(command);
        let seek = (cmd == MediaControlCommand::Seek).then_some(seek_position);
        let id = c.with_running(|cl| Ok(cl.media_command(title_id, cmd, seek)?))?;
        if !out_request_id.is_null() {
            // SAFETY: non-NULL, writable by the caller's promise.
            unsafe { write_out(out_request_id, id) };
        }
        Ok(())
    })
}

/// A SmartGlass gamepad state (`xnano_console_gamepad`): navigation of the
/// console's UI outside a gamestream. In a gamestream use
/// `xnano_client_set_controller_state` instead.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct xnano_gamepad {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// Buttons down: XNANO_GAMEPAD_* bits.
    pub buttons: u16,
    /// Left trigger, 0..1.
    pub left_trigger: f32,
    /// Right trigger, 0..1.
    pub right_trigger: f32,
    /// Left stick X, -1..1.
    pub left_thumb_x: f32,
    /// Left stick Y, -1..1.
    pub left_thumb_y: f32,
    /// Right stick X, -1..1.
    pub right_thumb_x: f32,
    /// Right stick Y, -1..1.
    pub right_thumb_y: f32,
}

super::growable!(xnano_gamepad {
    struct_size,
    buttons,
    left_trigger,
    right_trigger,
    left_thumb_x,
    left_thumb_y,
    right_thumb_x,
    right_thumb_y,
} + zeroed Default);

/// Sends a gamepad state on the SystemInput channel (released buttons are
/// sent as a state without them).
#[no_mangle]
pub extern "C" fn xnano_console_gamepad(
    console: *mut xnano_console,
    state: *const xnano_gamepad,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        // SAFETY: NULL or a valid struct.
        let g = unsafe { read_growable(state, xnano_gamepad::default(), "state") }?;
        for (v, lo, what) in [
            (g.left_trigger, 0.0, "left_trigger"),
            (g.right_trigger, 0.0, "right_trigger"),
            (g.left_thumb_x, -1.0, "left_thumb_x"),
            (g.left_thumb_y, -1.0, "left_thumb_y"),
            (g.right_thumb_x, -1.0, "right_thumb_x"),
            (g.right_thumb_y, -1.0, "right_thumb_y"),
        ] {
            if !(lo..=1.0).contains(&v) {
                return Err(FfiError::invalid(format!("{what} {v}: must be {lo}..=1")));
            }
        }
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let gp = Gamepad {
            timestamp,
            buttons: GamepadButtons(g.buttons),
            left_trigger: g.left_trigger,
            right_trigger: g.right_trigger,
            left_thumbstick_x: g.left_thumb_x,
            left_thumbstick_y: g.left_thumb_y,
            right_thumbstick_x: g.right_thumb_x,
            right_thumbstick_y: g.right_thumb_y,
        };
        c.with_running(|cl| {
            cl.gamepad(gp)?;
            Ok(())
        })
    })
}

/// Replaces the text of the console's active text session (after a
/// TEXT_CONFIGURATION event) with `text`. XNANO_ERR_WRONG_STATE when no
/// text session is active.
#[no_mangle]
pub extern "C" fn xnano_console_send_text(
    console: *mut xnano_console,
    text: *const c_char,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        // SAFETY: NULL or NUL-terminated.
        let text = unsafe { arg_str(text, "text") }?;
        c.with_running(|cl| {
            cl.send_text(text)?;
            Ok(())
        })
    })
}

/// Acknowledges version `version` of the text session `text_session_id`
/// (TEXT_INPUT events are acknowledged automatically; this is for
/// programs that track versions themselves).
#[no_mangle]
pub extern "C" fn xnano_console_text_acknowledge(
    console: *mut xnano_console,
    text_session_id: u32,
    version: u32,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        c.with_running(|cl| {
            cl.text_acknowledge(text_session_id, version)?;
            Ok(())
        })
    })
}

/// Ends the active text session: `result` XNANO_TEXT_RESULT_ACCEPT (keep
/// the text) or XNANO_TEXT_RESULT_CANCEL. XNANO_ERR_WRONG_STATE when no
/// text session is active.
#[no_mangle]
pub extern "C" fn xnano_console_text_done(
    console: *mut xnano_console,
    result: u32,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        let r = match result {
            XNANO_TEXT_RESULT_CANCEL => TextResult::Cancel,
            XNANO_TEXT_RESULT_ACCEPT => TextResult::Accept,
            v => {
                return Err(FfiError::invalid(format!(
                    "text result {v}: must be 0 or 1"
                )))
            }
        };
        c.with_running(|cl| {
            cl.text_done(r)?;
            Ok(())
        })
    })
}

/// Records a game DVR clip from `start_delta_s` to `end_delta_s` seconds
/// relative to now (e.g. -30, 0 for the last 30 seconds).
#[no_mangle]
pub extern "C" fn xnano_console_game_dvr_record(
    console: *mut xnano_console,
    start_delta_s: i32,
    end_delta_s: i32,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        if start_delta_s > end_delta_s {
            return Err(FfiError::invalid(format!(
                "start_delta_s {start_delta_s} is after end_delta_s {end_delta_s}"
            )));
        }
        c.with_running(|cl| {
            cl.game_dvr_record(start_delta_s, end_delta_s)?;
            Ok(())
        })
    })
}

/// Unsnaps the snapped app.
#[no_mangle]
pub extern "C" fn xnano_console_unsnap(console: *mut xnano_console) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { console_ref(console) }?;
        c.with_running(|cl| {
            cl.unsnap()?;
            Ok(())
        })
    })
}

/// The link from a client streaming through a console back to it.
pub(crate) struct StreamLink {
    console: Weak<ConsoleInner>,
    client_id: usize,
}

impl StreamLink {
    /// The stream's client stopped: tell the console (StopGameStream) and
    /// allow the next stream. A console that is gone or disconnected
    /// needs nothing.
    pub(crate) fn stopped(&self) {
        let Some(inner) = self.console.upgrade() else {
            return;
        };
        {
            let mut s = inner.streamer.lock();
            if *s == self.client_id {
                *s = 0;
            }
        }
        let slot = inner.slot.read_recursive();
        if let Slot::Running { client, .. } = &*slot {
            if !client.is_closed() {
                if let Err(e) = client.stop_gamestream() {
                    log::debug!("StopGameStream not sent: {e}");
                }
            }
        }
    }
}

/// Starts a gamestream on `console` for the client `client_id`: sends
/// StartGameStream, waits for the console's Nano host and the Nano
/// connection (made with `nano_cfg` and `handler`), and hands the Nano
/// client over. On failure `mute` is called (the handler must then ignore
/// events) and nothing keeps running.
pub(crate) fn start_gamestream(
    console: &xnano_console,
    client_id: usize,
    gs: &GameStreamConfig,
    nano_cfg: nano::ClientConfig,
    handler: nano::EventHandler,
    mute: &dyn Fn(),
) -> FfiResult<(nano::Client, StreamLink)> {
    if in_callback_of(console.id()) {
        return Err(FfiError::new(
            XNANO_ERR_FROM_CALLBACK,
            "cannot start a gamestream from inside the console's callback (it waits for the console)",
        ));
    }
    {
        let mut s = console.inner.streamer.lock();
        if *s != 0 {
            return Err(FfiError::state(
                "a client already streams through this console: stop it first",
            ));
        }
        *s = client_id;
    }
    let r = console.with_running(|cl| {
        if cl.is_closed() {
            return Err(FfiError::new(
                XNANO_ERR_CLOSED,
                "the console session is closed",
            ));
        }
        let wait = *console.inner.wait_timeout.lock();
        cl.start_gamestream(gs, nano_cfg, handler)?;
        let started = cl
            .wait_gamestream(wait)
            .map_err(FfiError::from)
            .and_then(|_| {
                cl.take_gamestream()
                    .ok_or_else(|| FfiError::new(XNANO_ERR_CLOSED, "the gamestream ended at once"))
            });
        if started.is_err() {
            mute();
            // Stops a Nano client that connected late, and tells the
            // console.
            let _ = cl.stop_gamestream();
        }
        started
    });
    match r {
        Ok(client) => Ok((
            client,
            StreamLink {
                console: Arc::downgrade(&console.inner),
                client_id,
            },
        )),
        Err(e) => {
            let mut s = console.inner.streamer.lock();
            if *s == client_id {
                *s = 0;
            }
            Err(e)
        }
    }
}
