//! `xnano_sim`: the simulated console (a Nano host, and the SmartGlass
//! console whose gamestreams get Nano hosts of their own), for tests and
//! demos.

#![allow(non_camel_case_types)]
// Every exported function takes raw pointers from C and checks them itself.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::ffi::c_char;
use std::time::Duration;

use parking_lot::Mutex;

use crate::nano::{self, AudioMode, Impairment, SimStats, VideoMode};
use crate::smartglass;
use xnano_ffi_support::{box_to_mut_ptr, try_box_from_ptr, try_ref_from_ptr, Castable};
use xnano_proto::smartglass::ConsoleInfo;
use xnano_proto::wire::sg::common::PrimaryDeviceFlags;
use xnano_proto::wire::sg::payloads::{
    MediaControlCommand, MediaMetadata, MediaPlaybackStatus, MediaState, MediaType, SoundLevel,
    TextConfiguration, TextInputScope, TextOptions,
};

use xnano_ffi_support::{
    arg_str, boundary, growable, growable_out, out_ptr, read_growable, write_growable, write_out,
    xnano_console_info, xnano_result, FfiError, FfiResult,
};

/// The version of this header's ABI (libxnano_sim): bumped with every
/// incompatible change; compare with `xnano_sim_abi_version()`. The
/// library's SONAME is `libxnano_sim.so.<XNANO_SIM_ABI_VERSION>`.
pub const XNANO_SIM_ABI_VERSION: u32 = 1;

/// The ABI version of the loaded libxnano_sim (`XNANO_SIM_ABI_VERSION` of
/// the header it was built with).
#[no_mangle]
pub extern "C" fn xnano_sim_abi_version() -> u32 {
    XNANO_SIM_ABI_VERSION
}

/// The message of the last failed `xnano_sim_*` call on the calling thread
/// ("" when none failed yet). Thread-local, valid until the next failing
/// `xnano_sim_*` call on this thread; never NULL; never free it. (libxnano's
/// `xnano_last_error` describes only libxnano's own calls.)
#[no_mangle]
pub extern "C" fn xnano_sim_last_error() -> *const c_char {
    xnano_ffi_support::last_error_ptr()
}

/// A running simulated console. Created by `xnano_sim_new`, freed by
/// `xnano_sim_free`. Opaque. It listens on loopback only.
pub struct xnano_sim {
    server: Mutex<Option<nano::Host>>,
    last_stats: Mutex<SimStats>,
    tcp_port: u16,
    udp_port: u16,
    console: Mutex<Option<smartglass::Host>>,
    /// What the SmartGlass console announces (None: SmartGlass disabled).
    console_info: Option<ConsoleInfo>,
}

impl xnano_sim {
    /// The SmartGlass console behind the handle (None when disabled or
    /// stopped), for Rust tests that reach past the C ABI (faults).
    pub fn console(&self) -> parking_lot::MutexGuard<'_, Option<smartglass::Host>> {
        self.console.lock()
    }
}

/// `video_source` value: real H.264 of a moving test pattern (OpenH264).
pub const XNANO_SIM_VIDEO_TEST_PATTERN: u32 = 0;
/// `video_source` value: synthetic self-checking frames (not decodable
/// video; cheap to produce).
pub const XNANO_SIM_VIDEO_SYNTHETIC: u32 = 1;

/// `audio_source` value: Opus, 2 channels, 48 kHz, 20 ms packets.
pub const XNANO_SIM_AUDIO_OPUS: u32 = 0;
/// `audio_source` value: PCM s16le, 2 channels, 48 kHz, 20 ms packets.
pub const XNANO_SIM_AUDIO_PCM: u32 = 1;
/// `audio_source` value: no audio packets.
pub const XNANO_SIM_AUDIO_NONE: u32 = 2;

/// Settings of the simulated console. Get the defaults with
/// `xnano_sim_config_default`, then change what you need.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct xnano_sim_config {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// TCP (control) port on 127.0.0.1; 0 (default): any free port.
    pub tcp_port: u16,
    /// UDP (data) port on 127.0.0.1; 0 (default): any free port.
    pub udp_port: u16,
    /// Video width (default 1280).
    pub width: u32,
    /// Video height (default 720).
    pub height: u32,
    /// Frames per second, 1..=240 (default 60).
    pub fps: u32,
    /// H.264 target bitrate, bits per second (default 8000000).
    pub bitrate_bps: u32,
    /// A keyframe every this many frames; 0: only the first and requested
    /// ones (default 120).
    pub keyframe_interval: u32,
    /// Video payload bytes per UDP packet, 1..=60000.
    pub chunk_size: u32,
    /// XNANO_SIM_VIDEO_TEST_PATTERN (default) or XNANO_SIM_VIDEO_SYNTHETIC.
    pub video_source: u32,
    /// Synthetic video: smallest frame, bytes.
    pub synthetic_min_len: u32,
    /// Synthetic video: largest frame (keyframes), bytes.
    pub synthetic_max_len: u32,
    /// Synthetic video: seed of the contents.
    pub synthetic_seed: u64,
    /// XNANO_SIM_AUDIO_OPUS (default), XNANO_SIM_AUDIO_PCM or XNANO_SIM_AUDIO_NONE.
    pub audio_source: u32,
    /// Realtime telemetry interval, ms; 0: none (default 1000).
    pub telemetry_interval_ms: u32,
    /// Seed of each session's random numbers; 0 (default): random.
    pub session_seed: u64,
    /// UDP impairment: percentage of datagrams dropped (default 0).
    pub loss_pct: f64,
    /// UDP impairment: percentage reordered (default 0).
    pub reorder_pct: f64,
    /// UDP impairment: percentage duplicated (default 0).
    pub duplicate_pct: f64,
    /// UDP impairment: fixed delay, ms (default 0).
    pub delay_ms: u32,
    /// UDP impairment: jitter, +- ms (default 0).
    pub jitter_ms: u32,
    /// Seed of the impairment decisions (default 1).
    pub impairment_seed: u64,
    /// Also run the SmartGlass console (default true): discovery,
    /// power-on/off, the encrypted session, commands, and gamestreams
    /// started over SmartGlass, each served by a Nano host of its own with
    /// the video/audio settings above on ports of its own.
    pub smartglass: bool,
    /// SmartGlass UDP port on 127.0.0.1; 0 (default): any free port
    /// (consoles use 5050).
    pub smartglass_port: u16,
    /// The SmartGlass console refuses anonymous connections (a user hash
    /// and token are then needed; any non-empty values do). Default false.
    pub smartglass_require_auth: bool,
    /// The SmartGlass console starts powered on (default true); when off it
    /// answers neither discovery nor connects until a power-on request with
    /// its Live ID arrives.
    pub smartglass_powered_on: bool,
}

growable!(xnano_sim_config {
    struct_size,
    tcp_port,
    udp_port,
    width,
    height,
    fps,
    bitrate_bps,
    keyframe_interval,
    chunk_size,
    video_source,
    synthetic_min_len,
    synthetic_max_len,
    synthetic_seed,
    audio_source,
    telemetry_interval_ms,
    session_seed,
    loss_pct,
    reorder_pct,
    duplicate_pct,
    delay_ms,
    jitter_ms,
    impairment_seed,
    smartglass,
    smartglass_port,
    smartglass_require_auth,
    smartglass_powered_on,
});

impl Default for xnano_sim_config {
    fn default() -> Self {
        let d = nano::SimConfig::default();
        let imp = Impairment::default();
        xnano_sim_config {
            struct_size: std::mem::size_of::<xnano_sim_config>() as u32,
            tcp_port: 0,
            udp_port: 0,
            width: d.width,
            height: d.height,
            fps: d.fps,
            bitrate_bps: d.bitrate_bps,
            keyframe_interval: d.keyframe_interval,
            chunk_size: u32::try_from(d.chunk_size).unwrap_or(u32::MAX),
            video_source: XNANO_SIM_VIDEO_TEST_PATTERN,
            synthetic_min_len: 2_000,
            synthetic_max_len: 20_000,
            synthetic_seed: 1,
            audio_source: XNANO_SIM_AUDIO_OPUS,
            telemetry_interval_ms: d
                .telemetry_interval
                .map(|t| u32::try_from(t.as_millis()).unwrap_or(u32::MAX))
                .unwrap_or(0),
            session_seed: 0,
            loss_pct: imp.loss_pct,
            reorder_pct: imp.reorder_pct,
            duplicate_pct: imp.duplicate_pct,
            delay_ms: 0,
            jitter_ms: 0,
            impairment_seed: imp.seed,
            smartglass: true,
            smartglass_port: 0,
            smartglass_require_auth: false,
            smartglass_powered_on: true,
        }
    }
}

fn to_core(c: &xnano_sim_config) -> FfiResult<nano::SimConfig> {
    let video = match c.video_source {
        XNANO_SIM_VIDEO_TEST_PATTERN => VideoMode::TestPattern,
        XNANO_SIM_VIDEO_SYNTHETIC => VideoMode::Synthetic {
            seed: c.synthetic_seed,
            min_len: c.synthetic_min_len as usize,
            max_len: c.synthetic_max_len as usize,
        },
        v => return Err(FfiError::invalid(format!("video_source {v}"))),
    };
    let audio = match c.audio_source {
        XNANO_SIM_AUDIO_OPUS => AudioMode::Opus,
        XNANO_SIM_AUDIO_PCM => AudioMode::Pcm,
        XNANO_SIM_AUDIO_NONE => AudioMode::None,
        v => return Err(FfiError::invalid(format!("audio_source {v}"))),
    };
    for (v, what) in [
        (c.loss_pct, "loss_pct"),
        (c.reorder_pct, "reorder_pct"),
        (c.duplicate_pct, "duplicate_pct"),
    ] {
        if !(0.0..=100.0).contains(&v) {
            return Err(FfiError::invalid(format!("{what} {v}: must be 0..=100")));
        }
    }
    Ok(nano::SimConfig {
        tcp_port: c.tcp_port,
        udp_port: c.udp_port,
        width: c.width,
        height: c.height,
        fps: c.fps,
        bitrate_bps: c.bitrate_bps,
        chunk_size: c.chunk_size as usize,
        video,
        audio,
        keyframe_interval: c.keyframe_interval,
        impairment: Impairment {
            loss_pct: c.loss_pct,
            reorder_pct: c.reorder_pct,
            duplicate_pct: c.duplicate_pct,
            delay_ms: c.delay_ms.into(),
            jitter_ms: c.jitter_ms.into(),
            seed: c.impairment_seed,
        },
        session_seed: (c.session_seed != 0).then_some(c.session_seed),
        telemetry_interval: (c.telemetry_interval_ms != 0)
            .then(|| Duration::from_millis(c.telemetry_interval_ms.into())),
        ..nano::SimConfig::default()
    })
}

/// Counters of the simulated console (`xnano_sim_get_stats`), summed over
/// every client it served.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct xnano_sim_stats {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// Clients accepted.
    pub clients_accepted: u64,
    /// Video frames sent.
    pub video_frames_sent: u64,
    /// Video bytes sent.
    pub video_bytes_sent: u64,
    /// Keyframes sent.
    pub keyframes_sent: u64,
    /// Keyframe requests received.
    pub keyframe_requests: u64,
    /// Audio packets sent.
    pub audio_packets_sent: u64,
    /// Input frames received.
    pub input_frames_received: u64,
    /// Input frame acknowledgements sent.
    pub input_acks_sent: u64,
    /// Rumble commands sent.
    pub rumble_sent: u64,
    /// Chat audio packets received.
    pub chat_audio_received: u64,
    /// UDP datagrams sent (after impairment).
    pub udp_sent: u64,
    /// UDP datagrams dropped on purpose by the impairment.
    pub udp_dropped: u64,
    /// Packets from the client that did not decode.
    pub bad_packets: u64,
    /// True while a client is connected.
    pub client_connected: bool,
    /// SmartGlass: discovery requests received.
    pub sg_discovery_requests: u64,
    /// SmartGlass: power-on requests received.
    pub sg_power_on_requests: u64,
    /// SmartGlass: connections accepted.
    pub sg_connects_accepted: u64,
    /// SmartGlass: connections refused.
    pub sg_connects_rejected: u64,
    /// SmartGlass: messages received (acknowledgements included).
    pub sg_messages_received: u64,
    /// SmartGlass: gamestreams started.
    pub sg_gamestreams_started: u64,
    /// SmartGlass: gamestreams stopped.
    pub sg_gamestreams_stopped: u64,
}

growable!(xnano_sim_stats {
    struct_size,
    clients_accepted,
    video_frames_sent,
    video_bytes_sent,
    keyframes_sent,
    keyframe_requests,
    audio_packets_sent,
    input_frames_received,
    input_acks_sent,
    rumble_sent,
    chat_audio_received,
    udp_sent,
    udp_dropped,
    bad_packets,
    client_connected,
    sg_discovery_requests,
    sg_power_on_requests,
    sg_connects_accepted,
    sg_connects_rejected,
    sg_messages_received,
    sg_gamestreams_started,
    sg_gamestreams_stopped,
} + zeroed Default);

impl xnano_sim_stats {
    fn from_core(s: &SimStats) -> Self {
        xnano_sim_stats {
            clients_accepted: s.clients_accepted,
            video_frames_sent: s.session.video_frames_sent,
            video_bytes_sent: s.session.video_bytes_sent,
            keyframes_sent: s.session.keyframes_sent,
            keyframe_requests: s.session.keyframe_requests,
            audio_packets_sent: s.session.audio_packets_sent,
            input_frames_received: s.session.input_frames_received,
            input_acks_sent: s.session.input_acks_sent,
            rumble_sent: s.session.rumble_sent,
            chat_audio_received: s.session.chat_audio_received,
            udp_sent: s.udp.sent,
            udp_dropped: s.udp.dropped,
            bad_packets: s.session.bad_packets,
            client_connected: s.client_connected,
            ..Default::default()
        }
    }

    /// Adds the counters of another Nano host.
    fn add(&mut self, o: &xnano_sim_stats) {
        self.clients_accepted += o.clients_accepted;
        self.video_frames_sent += o.video_frames_sent;
        self.video_bytes_sent += o.video_bytes_sent;
        self.keyframes_sent += o.keyframes_sent;
        self.keyframe_requests += o.keyframe_requests;
        self.audio_packets_sent += o.audio_packets_sent;
        self.input_frames_received += o.input_frames_received;
        self.input_acks_sent += o.input_acks_sent;
        self.rumble_sent += o.rumble_sent;
        self.chat_audio_received += o.chat_audio_received;
        self.udp_sent += o.udp_sent;
        self.udp_dropped += o.udp_dropped;
        self.bad_packets += o.bad_packets;
        self.client_connected |= o.client_connected;
    }
}

/// Fills `out_config` with the default simulated console settings.
#[no_mangle]
pub extern "C" fn xnano_sim_config_default(out_config: *mut xnano_sim_config) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_config, "out_config") }?;
        // SAFETY: checked.
        unsafe { write_growable(out, xnano_sim_config::default()) };
        Ok(())
    })
}

/// Creates and starts a simulated console on 127.0.0.1 (`config` NULL:
/// defaults; it is copied). It serves one client at a time, answers input
/// frames with an acknowledgement and a rumble command (trigger values
/// echoed to the motors). Free with `xnano_sim_free`.
#[no_mangle]
pub extern "C" fn xnano_sim_new(
    config: *const xnano_sim_config,
    out_sim: *mut *mut xnano_sim,
) -> xnano_result {
    boundary(|| {
        let out = out_ptr(out_sim, "out_sim")?;
        let c = if config.is_null() {
            xnano_sim_config::default()
        } else {
            // SAFETY: non-NULL, valid by the caller's promise.
            unsafe { read_growable(config, xnano_sim_config::default(), "config") }?
        };
        let cfg = to_core(&c)?;
        let console = if c.smartglass {
            let mut sg = smartglass::SimConfig {
                port: c.smartglass_port,
                powered_on: c.smartglass_powered_on,
                media_state: Some(demo_media_state()),
                nano: nano::SimConfig {
                    tcp_port: 0,
                    udp_port: 0,
                    ..cfg.clone()
                },
                ..smartglass::SimConfig::default()
            };
            if c.smartglass_require_auth {
                sg.flags = PrimaryDeviceFlags::AllowAuthenticatedUsers;
            }
            let (name, uuid, flags) = (sg.name.clone(), sg.uuid, sg.flags);
            let sim = smartglass::Host::start(sg).map_err(|e| {
                let code = match e {
                    crate::smartglass::SimError::Io(_) => xnano_result::XNANO_ERR_IO,
                    _ => xnano_result::XNANO_ERR_INVALID_ARGUMENT,
                };
                FfiError::new(code, format!("simulated SmartGlass console: {e}"))
            })?;
            let info =
                ConsoleInfo::from_certificate(sim.addr(), &name, uuid, flags, sim.certificate())
                    .map_err(|e| {
                        FfiError::invalid(format!("simulated console certificate: {e}"))
                    })?;
            Some((sim, info))
        } else {
            None
        };
        let (console, console_info) = match console {
            Some((s, i)) => (Some(s), Some(i)),
            None => (None, None),
        };
        let server = nano::Host::start(cfg).map_err(|e| {
            let code = match e {
                crate::nano::SimError::Io(_) => xnano_result::XNANO_ERR_IO,
                _ => xnano_result::XNANO_ERR_INVALID_ARGUMENT,
            };
            FfiError::new(code, format!("simulated console: {e}"))
        })?;
        let sim = Box::new(xnano_sim {
            tcp_port: server.tcp_addr().port(),
            udp_port: server.udp_addr().port(),
            server: Mutex::new(Some(server)),
            last_stats: Mutex::new(SimStats::default()),
            console: Mutex::new(console),
            console_info,
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, box_to_mut_ptr::<xnano_sim>(sim)) };
        Ok(())
    })
}

/// A music app playing, so that SystemMedia has something to report.
fn demo_media_state() -> MediaState {
    MediaState {
        title_id: 0x1234_5678,
        aum_id: "Xnano.Music_8wekyb3d8bbwe!App".into(),
        asset_id: String::new(),
        media_type: MediaType::Music,
        sound_level: SoundLevel::Full,
        enabled_commands: MediaControlCommand::Play
            | MediaControlCommand::Pause
            | MediaControlCommand::PlayPauseToggle
            | MediaControlCommand::Stop
            | MediaControlCommand::Seek,
        playback_status: MediaPlaybackStatus::Playing,
        rate: 1.0,
        position: 0,
        media_start: 0,
        media_end: 1_800_000_000,
        min_seek: 0,
        max_seek: 1_800_000_000,
        metadata: vec![MediaMetadata {
            name: "title".into(),
            value: "Test Tone".into(),
        }],
    }
}

/// Borrows a sim handle argument.
///
/// # Safety
/// `p` is NULL or a live handle from `xnano_sim_new`.
unsafe fn sim_ref<'a>(p: *const xnano_sim) -> FfiResult<&'a xnano_sim> {
    // SAFETY: forwarded promise.
    unsafe { try_ref_from_ptr(p) }
}

// SAFETY: the handle is the struct itself.
unsafe impl Castable for xnano_sim {
    const NAME: &'static str = "sim";
    type RustType = xnano_sim;
}

/// Writes the simulated console's Nano ports (on 127.0.0.1): the TCP
/// control port to `out_tcp_port` and the UDP data port to `out_udp_port`,
/// the values to pass to `xnano_client_connect_nano`.
#[no_mangle]
pub extern "C" fn xnano_sim_nano_ports(
    sim: *const xnano_sim,
    out_tcp_port: *mut u16,
    out_udp_port: *mut u16,
) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        let t = out_ptr(out_tcp_port, "out_tcp_port")?;
        let u = out_ptr(out_udp_port, "out_udp_port")?;
        // SAFETY: both checked non-NULL.
        unsafe {
            write_out(t, s.tcp_port);
            write_out(u, s.udp_port);
        }
        Ok(())
    })
}

/// Writes the simulated console's counters to `out_stats` (final values
/// after `xnano_sim_stop`): the Nano counters of the direct Nano host plus
/// those of the SmartGlass gamestreams' Nano host (the running one, else
/// the last one), and the SmartGlass counters.
#[no_mangle]
pub extern "C" fn xnano_sim_get_stats(
    sim: *const xnano_sim,
    out_stats: *mut xnano_sim_stats,
) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_stats, "out_stats") }?;
        let st = match s.server.lock().as_ref() {
            Some(server) => server.stats(),
            None => s.last_stats.lock().clone(),
        };
        let mut total = xnano_sim_stats::from_core(&st);
        if let Some(cs) = s.console.lock().as_ref() {
            if let Some(n) = cs.nano_server_stats() {
                total.add(&xnano_sim_stats::from_core(&n));
            }
            let sg = cs.stats();
            total.sg_discovery_requests = sg.discovery_requests;
            total.sg_power_on_requests = sg.power_on_requests;
            total.sg_connects_accepted = sg.connects_accepted;
            total.sg_connects_rejected = sg.connects_rejected;
            total.sg_messages_received = sg.messages_received;
            total.sg_gamestreams_started = sg.gamestreams_started;
            total.sg_gamestreams_stopped = sg.gamestreams_stopped;
        }
        // SAFETY: checked non-NULL.
        unsafe { write_growable(out, total) };
        Ok(())
    })
}

/// Ends the current Nano client's session from the console's side
/// (channels closed, TCP connection shut down), on the direct Nano host
/// and on a SmartGlass gamestream's: the client then reports
/// XNANO_STATE_CLOSED with an error. The console keeps listening.
#[no_mangle]
pub extern "C" fn xnano_sim_close_client(sim: *mut xnano_sim) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        match s.server.lock().as_ref() {
            Some(server) => {
                server.close_client();
                if let Some(cs) = s.console.lock().as_ref() {
                    cs.with_nano_server(|n| n.close_client());
                }
                Ok(())
            }
            None => Err(FfiError::state("the simulated console is stopped")),
        }
    })
}

/// Stops the simulated console (closes its clients' sessions, SmartGlass
/// included, and joins its threads). Stopping twice is XNANO_OK. Counters
/// stay readable.
#[no_mangle]
pub extern "C" fn xnano_sim_stop(sim: *mut xnano_sim) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        let taken = s.server.lock().take();
        if let Some(mut server) = taken {
            server.stop();
            *s.last_stats.lock() = server.stats();
        }
        if let Some(cs) = s.console.lock().as_mut() {
            cs.stop();
        }
        Ok(())
    })
}

/// Stops (if needed) and frees a simulated console. NULL is accepted.
#[no_mangle]
pub extern "C" fn xnano_sim_free(sim: *mut xnano_sim) {
    let _ = boundary(|| {
        // SAFETY: NULL or a live handle, given up. Dropping stops the server.
        drop(unsafe { try_box_from_ptr(sim) });
        Ok(())
    });
}

/// The SmartGlass console of a sim; WRONG_STATE when disabled.
fn with_console<T>(
    s: &xnano_sim,
    f: impl FnOnce(&smartglass::Host) -> FfiResult<T>,
) -> FfiResult<T> {
    match s.console.lock().as_ref() {
        Some(cs) => f(cs),
        None => Err(FfiError::state(
            "the simulated console runs without SmartGlass (config.smartglass is false)",
        )),
    }
}

/// Writes the SmartGlass UDP port of the simulated console (on 127.0.0.1)
/// to `out_port`: discover and connect to `127.0.0.1:PORT`.
/// XNANO_ERR_WRONG_STATE when `smartglass` was false in the config.
#[no_mangle]
pub extern "C" fn xnano_sim_smartglass_port(
    sim: *const xnano_sim,
    out_port: *mut u16,
) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        let out = out_ptr(out_port, "out_port")?;
        let port = with_console(s, |cs| Ok(cs.addr().port()))?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, port) };
        Ok(())
    })
}

/// Writes what the simulated SmartGlass console announces (name, Live ID,
/// address, UUID, curve, flags) to `out_info`, as `xnano_discover` would
/// report it. XNANO_ERR_WRONG_STATE without SmartGlass.
#[no_mangle]
pub extern "C" fn xnano_sim_console_info(
    sim: *const xnano_sim,
    out_info: *mut xnano_console_info,
) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_info, "out_info") }?;
        let info = s
            .console_info
            .as_ref()
            .ok_or_else(|| FfiError::state("the simulated console runs without SmartGlass"))?;
        // SAFETY: checked non-NULL.
        unsafe { write_growable(out, xnano_console_info::from_core(info)) };
        Ok(())
    })
}

/// Writes whether the simulated SmartGlass console is powered on to
/// `out_on` (a SmartGlass power-off turns it off, a power-on request with
/// its Live ID on again). XNANO_ERR_WRONG_STATE without SmartGlass.
#[no_mangle]
pub extern "C" fn xnano_sim_smartglass_powered_on(
    sim: *const xnano_sim,
    out_on: *mut bool,
) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        let out = out_ptr(out_on, "out_on")?;
        let on = with_console(s, |cs| Ok(cs.is_powered_on()))?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, on) };
        Ok(())
    })
}

/// Writes how many SmartGlass messages of type `msg_type` the simulated
/// console received to `out_count`: `msg_type` is the message type's name
/// ("PowerOff", "TitleLaunch", "MediaCommand", "Gamepad",
/// "SystemTextInput", "SystemTextDone", "SystemTextAck",
/// "GameDvrRecord", "Unsnap", "Json", ...), or NULL for every message
/// (acknowledgements excluded). Counts the most recent 4096 messages.
#[no_mangle]
pub extern "C" fn xnano_sim_smartglass_message_count(
    sim: *const xnano_sim,
    msg_type: *const c_char,
    out_count: *mut u64,
) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        let name = if msg_type.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated by the caller's promise.
            Some(unsafe { arg_str(msg_type, "msg_type") }?)
        };
        let out = out_ptr(out_count, "out_count")?;
        let n = with_console(s, |cs| {
            Ok(cs
                .received_messages()
                .iter()
                .filter(|m| name.is_none_or(|n| m.msg_type.name() == n))
                .count() as u64)
        })?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, n) };
        Ok(())
    })
}

/// Opens a text entry session on every connected SmartGlass client that
/// has the SystemText channel open (they get a TEXT_CONFIGURATION event
/// with `prompt`, NULL: "Enter text"); writes how many clients it reached
/// to `out_clients` (may be NULL). XNANO_ERR_WRONG_STATE without
/// SmartGlass.
#[no_mangle]
pub extern "C" fn xnano_sim_start_text_session(
    sim: *mut xnano_sim,
    prompt: *const c_char,
    out_clients: *mut u32,
) -> xnano_result {
    boundary(|| {
        // SAFETY: live handle or NULL.
        let s = unsafe { sim_ref(sim) }?;
        let prompt = if prompt.is_null() {
            "Enter text"
        } else {
            // SAFETY: non-NULL, NUL-terminated by the caller's promise.
            unsafe { arg_str(prompt, "prompt") }?
        };
        let n = with_console(s, |cs| {
            Ok(cs.send_text_configuration(TextConfiguration {
                text_session_id: 1,
                text_buffer_version: 0,
                text_options: TextOptions::Default,
                input_scope: TextInputScope::Default,
                max_text_length: 256,
                locale: "en-US".into(),
                prompt: prompt.to_string(),
            }))
        })?;
        if !out_clients.is_null() {
            // SAFETY: non-NULL, writable by the caller's promise.
            unsafe { write_out(out_clients, u32::try_from(n).unwrap_or(u32::MAX)) };
        }
        Ok(())
    })
}
