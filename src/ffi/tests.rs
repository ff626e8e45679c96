//! Tests of the C ABI, called the way C calls it (raw pointers, C
//! callbacks with user data), end to end against the simulated console.

use std::ffi::{c_char, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::client::*;
use super::logging::*;
use super::xnano_result::*;
use super::*;
use ::xnano_sim::ffi::*;

pub(super) fn last_error() -> String {
    // SAFETY: never NULL, NUL-terminated.
    unsafe { CStr::from_ptr(xnano_last_error()) }
        .to_string_lossy()
        .into_owned()
}

pub(super) fn ok(r: xnano_result) {
    assert_eq!(r, XNANO_OK, "{}", last_error());
}

/// A small, cheap simulated console: synthetic video, PCM audio.
pub(super) fn start_sim() -> *mut xnano_sim {
    let mut cfg = xnano_sim_config::default();
    ok(xnano_sim_config_default(&mut cfg));
    cfg.video_source = XNANO_SIM_VIDEO_SYNTHETIC;
    cfg.width = 320;
    cfg.height = 240;
    cfg.fps = 60;
    cfg.keyframe_interval = 30;
    cfg.audio_source = XNANO_SIM_AUDIO_PCM;
    let mut sim = ptr::null_mut();
    ok(xnano_sim_new(&cfg, &mut sim));
    assert!(!sim.is_null());
    sim
}

pub(super) fn ports(sim: *mut xnano_sim) -> (u16, u16) {
    let (mut t, mut u) = (0u16, 0u16);
    ok(xnano_sim_nano_ports(sim, &mut t, &mut u));
    assert!(t != 0 && u != 0);
    (t, u)
}

pub(super) fn wait_until(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

pub(super) fn stats(c: *mut xnano_client) -> xnano_client_stats {
    let mut s = xnano_client_stats::default();
    ok(xnano_client_get_stats(c, &mut s));
    s
}

pub(super) fn sim_stats(s: *mut xnano_sim) -> xnano_sim_stats {
    let mut st = xnano_sim_stats::default();
    ok(xnano_sim_get_stats(s, &mut st));
    st
}

/// What the callbacks saw; passed as user data.
#[derive(Default)]
pub(super) struct Rec {
    pub(super) client: AtomicU64, // *mut xnano_client, for calls back in
    pub(super) frames: AtomicU64,
    pub(super) keyframes: AtomicU64,
    pub(super) bytes: AtomicU64,
    pub(super) bad_frames: AtomicU64,
    pub(super) audio: AtomicU64,
    pub(super) rumble: AtomicU64,
    pub(super) last_rumble: Mutex<xnano_rumble>,
    pub(super) states: Mutex<Vec<(xnano_state, xnano_result, String)>>,
    pub(super) after_closed: AtomicU64,
    // Results of calls made from inside callbacks.
    pub(super) stop_from_cb: Mutex<Option<xnano_result>>,
    pub(super) stats_from_cb: Mutex<Option<xnano_result>>,
    pub(super) keyframe_from_cb: Mutex<Option<xnano_result>>,
    pub(super) input_from_cb: Mutex<Option<xnano_result>>,
    pub(super) video_thread: Mutex<Option<String>>,
}

impl Rec {
    pub(super) fn client(&self) -> *mut xnano_client {
        self.client.load(Ordering::SeqCst) as usize as *mut xnano_client
    }
    pub(super) fn closed(&self) -> bool {
        self.states
            .lock()
            .iter()
            .any(|s| s.0 == xnano_state::XNANO_STATE_CLOSED)
    }
}

pub(super) unsafe extern "C" fn on_video(ud: *mut c_void, f: *const xnano_video_frame) {
    // SAFETY: `ud` is the test's Rec; `f` valid during the call.
    let (r, f) = unsafe { (&*(ud as *const Rec), &*f) };
    if r.closed() {
        r.after_closed.fetch_add(1, Ordering::SeqCst);
    }
    // SAFETY: data/len valid during the call.
    let data = unsafe { std::slice::from_raw_parts(f.data, f.len) };
    if f.len == 0 || f.width != 320 || f.height != 240 || f.codec != XNANO_VIDEO_CODEC_H264 {
        r.bad_frames.fetch_add(1, Ordering::SeqCst);
    }
    r.bytes.fetch_add(data.len() as u64, Ordering::SeqCst);
    if f.keyframe {
        r.keyframes.fetch_add(1, Ordering::SeqCst);
    }
    let n = r.frames.fetch_add(1, Ordering::SeqCst);
    if n == 0 {
        *r.video_thread.lock() = std::thread::current().name().map(String::from);
    }
    if n == 5 {
        // Calls back into the API from inside a callback.
        let c = r.client();
        *r.stop_from_cb.lock() = Some(xnano_client_stop(c));
        let mut s = xnano_client_stats::default();
        *r.stats_from_cb.lock() = Some(xnano_client_get_stats(c, &mut s));
        *r.keyframe_from_cb.lock() = Some(xnano_client_request_keyframe(c));
    }
}

pub(super) unsafe extern "C" fn on_audio(ud: *mut c_void, p: *const xnano_audio_packet) {
    // SAFETY: as above.
    let (r, p) = unsafe { (&*(ud as *const Rec), &*p) };
    if p.len > 0 && p.channels == 2 && p.sample_rate == 48000 && p.codec == XNANO_AUDIO_CODEC_PCM {
        r.audio.fetch_add(1, Ordering::SeqCst);
    }
}

pub(super) unsafe extern "C" fn on_rumble(ud: *mut c_void, rb: *const xnano_rumble) {
    // SAFETY: as above.
    let (r, rb) = unsafe { (&*(ud as *const Rec), &*rb) };
    r.rumble.fetch_add(1, Ordering::SeqCst);
    *r.last_rumble.lock() = *rb;
}

pub(super) unsafe extern "C" fn on_state(
    ud: *mut c_void,
    s: xnano_state,
    e: xnano_result,
    m: *const c_char,
) {
    // SAFETY: as above; `m` never NULL.
    let (r, m) = unsafe { (&*(ud as *const Rec), CStr::from_ptr(m)) };
    if r.closed() {
        r.after_closed.fetch_add(1, Ordering::SeqCst);
    }
    r.states
        .lock()
        .push((s, e, m.to_string_lossy().into_owned()));
    if s == xnano_state::XNANO_STATE_CONNECTED {
        // Input from inside a callback: announces controller 0.
        let st = xnano_controller_state {
            buttons: XNANO_BUTTON_A,
            right_trigger: 200,
            left_trigger: 100,
            ..Default::default()
        };
        *r.input_from_cb.lock() = Some(xnano_client_set_controller_state(r.client(), 0, &st));
    }
}

pub(super) fn new_client(cfg: Option<xnano_client_config>) -> *mut xnano_client {
    let mut c = ptr::null_mut();
    let p = cfg.as_ref().map_or(ptr::null(), |c| c as *const _);
    ok(xnano_client_new(p, &mut c));
    assert!(!c.is_null());
    c
}

pub(super) fn set_all_callbacks(c: *mut xnano_client, rec: &Rec) {
    let ud = rec as *const Rec as *mut c_void;
    rec.client.store(c as usize as u64, Ordering::SeqCst);
    ok(xnano_client_set_video_callback(c, Some(on_video), ud));
    ok(xnano_client_set_audio_callback(c, Some(on_audio), ud));
    ok(xnano_client_set_rumble_callback(c, Some(on_rumble), ud));
    ok(xnano_client_set_state_callback(c, Some(on_state), ud));
}

#[test]
fn version_and_result_names() {
    // SAFETY: static strings.
    let v = unsafe { CStr::from_ptr(xnano_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    let name = |r: u32| {
        unsafe { CStr::from_ptr(xnano_result_name(r)) }
            .to_str()
            .unwrap()
    };
    assert_eq!(name(0), "XNANO_OK");
    assert_eq!(
        name(XNANO_ERR_FROM_CALLBACK as u32),
        "XNANO_ERR_FROM_CALLBACK"
    );
    assert_eq!(name(XNANO_ERR_PANIC as u32), "XNANO_ERR_PANIC");
    assert_eq!(name(u32::MAX), "XNANO_ERR_UNKNOWN");
    assert_eq!(name(12345), "XNANO_ERR_UNKNOWN");
}

#[test]
fn null_arguments_are_errors_and_outputs_untouched() {
    let nc: *mut xnano_client = ptr::null_mut();
    let ns: *mut xnano_sim = ptr::null_mut();
    let st = xnano_controller_state::default();
    let q = [0u32; 6];
    let mut state = xnano_state::XNANO_STATE_STREAMING;
    let mut cs = xnano_client_stats {
        frames_delivered: 77,
        ..Default::default()
    };
    let mut ev: *mut xnano_event = ptr::dangling_mut();
    let checks: Vec<(&str, xnano_result)> = vec![
        (
            "config_default",
            xnano_client_config_default(ptr::null_mut()),
        ),
        (
            "client_new out",
            xnano_client_new(ptr::null(), ptr::null_mut()),
        ),
        (
            "set_video",
            xnano_client_set_video_callback(nc, None, ptr::null_mut()),
        ),
        (
            "set_audio",
            xnano_client_set_audio_callback(nc, None, ptr::null_mut()),
        ),
        (
            "set_rumble",
            xnano_client_set_rumble_callback(nc, None, ptr::null_mut()),
        ),
        (
            "set_state",
            xnano_client_set_state_callback(nc, None, ptr::null_mut()),
        ),
        (
            "connect",
            xnano_client_connect_nano(nc, c"127.0.0.1".as_ptr(), 1, 1),
        ),
        ("get_state", xnano_client_get_state(nc, &mut state)),
        ("controller", xnano_client_set_controller_state(nc, 0, &st)),
        (
            "connected",
            xnano_client_set_controller_connected(nc, 0, true),
        ),
        ("keyframe", xnano_client_request_keyframe(nc)),
        (
            "quality",
            xnano_client_change_video_quality(nc, q.as_ptr(), 6),
        ),
        (
            "chat",
            xnano_client_send_chat_audio(nc, q.as_ptr().cast(), 4),
        ),
        ("stats", xnano_client_get_stats(nc, &mut cs)),
        ("next_event", xnano_client_next_event(nc, 0, &mut ev)),
        ("stop", xnano_client_stop(nc)),
        (
            "sim_config_default",
            xnano_sim_config_default(ptr::null_mut()),
        ),
        ("sim_new out", xnano_sim_new(ptr::null(), ptr::null_mut())),
        (
            "sim_ports",
            xnano_sim_nano_ports(ns, ptr::null_mut(), ptr::null_mut()),
        ),
        ("sim_stats", xnano_sim_get_stats(ns, ptr::null_mut())),
        ("sim_close_client", xnano_sim_close_client(ns)),
        ("sim_stop", xnano_sim_stop(ns)),
    ];
    for (what, r) in checks {
        assert_eq!(r, XNANO_ERR_NULL, "{what}");
    }
    assert!(last_error().contains("NULL"), "{}", last_error());
    assert_eq!(state, xnano_state::XNANO_STATE_STREAMING);
    assert_eq!(cs.frames_delivered, 77);
    assert_eq!(ev, ptr::dangling_mut());
    // NULL handles to _free are fine.
    xnano_client_free(ptr::null_mut());
    xnano_sim_free(ptr::null_mut());
    xnano_event_free(ptr::null_mut());

    // NULL inner pointers with a live client.
    let c = new_client(None);
    assert_eq!(
        xnano_client_connect_nano(c, ptr::null(), 1, 1),
        XNANO_ERR_NULL
    );
    assert!(last_error().contains("host"));
    assert_eq!(
        xnano_client_set_controller_state(c, 0, ptr::null()),
        XNANO_ERR_NULL
    );
    assert_eq!(
        xnano_client_change_video_quality(c, ptr::null(), 6),
        XNANO_ERR_NULL
    );
    assert_eq!(
        xnano_client_send_chat_audio(c, ptr::null(), 0),
        XNANO_ERR_NULL
    );
    assert_eq!(xnano_client_get_state(c, ptr::null_mut()), XNANO_ERR_NULL);
    assert_eq!(xnano_client_get_stats(c, ptr::null_mut()), XNANO_ERR_NULL);
    assert_eq!(
        xnano_client_next_event(c, 0, ptr::null_mut()),
        XNANO_ERR_NULL
    );
    xnano_client_free(c);
}

#[test]
fn invalid_arguments() {
    let cfg = xnano_client_config {
        connect_timeout_ms: 0,
        ..Default::default()
    };
    let mut c = ptr::null_mut();
    assert_eq!(xnano_client_new(&cfg, &mut c), XNANO_ERR_INVALID_ARGUMENT);
    assert!(c.is_null(), "output written on failure");
    assert!(last_error().contains("connect_timeout_ms"));

    let mut scfg = xnano_sim_config {
        video_source: 7,
        ..Default::default()
    };
    let mut s = ptr::null_mut();
    assert_eq!(xnano_sim_new(&scfg, &mut s), XNANO_ERR_INVALID_ARGUMENT);
    scfg = xnano_sim_config::default();
    scfg.fps = 0;
    assert_eq!(xnano_sim_new(&scfg, &mut s), XNANO_ERR_INVALID_ARGUMENT);
    scfg = xnano_sim_config::default();
    scfg.loss_pct = 101.0;
    assert_eq!(xnano_sim_new(&scfg, &mut s), XNANO_ERR_INVALID_ARGUMENT);
    assert!(s.is_null());

    assert_eq!(
        xnano_set_log_callback(None, ptr::null_mut(), 9),
        XNANO_ERR_INVALID_ARGUMENT
    );

    let c = new_client(None);
    let bad_utf8 = [0xffu8, 0xfe, 0];
    assert_eq!(
        xnano_client_connect_nano(c, bad_utf8.as_ptr().cast(), 1, 1),
        XNANO_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), 0, 1),
        XNANO_ERR_INVALID_ARGUMENT
    );
    let st = xnano_controller_state::default();
    assert_eq!(
        xnano_client_set_controller_state(c, 4, &st),
        XNANO_ERR_INVALID_ARGUMENT
    );
    let q = [1u32; 6];
    assert_eq!(
        xnano_client_change_video_quality(c, q.as_ptr(), 5),
        XNANO_ERR_INVALID_ARGUMENT
    );
    xnano_client_free(c);
}

#[test]
fn wrong_state_before_connect_and_after_stop() {
    let c = new_client(None);
    let mut state = xnano_state::XNANO_STATE_CLOSED;
    ok(xnano_client_get_state(c, &mut state));
    assert_eq!(state, xnano_state::XNANO_STATE_IDLE);
    let st = xnano_controller_state::default();
    assert_eq!(
        xnano_client_set_controller_state(c, 0, &st),
        XNANO_ERR_WRONG_STATE
    );
    assert_eq!(xnano_client_request_keyframe(c), XNANO_ERR_WRONG_STATE);
    let mut ev = ptr::null_mut();
    assert_eq!(
        xnano_client_next_event(c, 0, &mut ev),
        XNANO_ERR_WRONG_STATE
    );
    assert!(last_error().contains("event_queue_capacity"));
    // Stats before connecting: zeros.
    assert_eq!(stats(c), xnano_client_stats::default());
    // Stop before connecting: nothing to do.
    ok(xnano_client_stop(c));

    // A refused connection leaves the client IDLE; it may connect again.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert_eq!(
        xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), port, port),
        XNANO_ERR_IO
    );
    ok(xnano_client_get_state(c, &mut state));
    assert_eq!(state, xnano_state::XNANO_STATE_IDLE);

    let sim = start_sim();
    let (t, u) = ports(sim);
    let rec = Box::new(Rec::default());
    set_all_callbacks(c, &rec);
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    // Once connected: no callback changes, no second connect.
    assert_eq!(
        xnano_client_set_video_callback(c, None, ptr::null_mut()),
        XNANO_ERR_WRONG_STATE
    );
    assert_eq!(
        xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u),
        XNANO_ERR_WRONG_STATE
    );
    assert!(wait_until(10, || rec.frames.load(Ordering::SeqCst) > 0));
    ok(xnano_client_stop(c));
    ok(xnano_client_stop(c));
    ok(xnano_client_get_state(c, &mut state));
    assert_eq!(state, xnano_state::XNANO_STATE_CLOSED);
    assert_eq!(xnano_client_request_keyframe(c), XNANO_ERR_CLOSED);
    assert_eq!(
        xnano_client_set_controller_state(c, 0, &st),
        XNANO_ERR_CLOSED
    );
    // Final stats stay readable.
    assert!(stats(c).frames_delivered > 0);
    xnano_client_free(c);
    xnano_sim_free(sim);
}

/// The full push path: frames, audio, rumble, input acked, calls back in,
/// stop/free from a callback refused, CLOSED last.
#[test]
fn streams_with_callbacks_and_callbacks_call_back_in() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let c = new_client(None);
    let rec = Box::new(Rec::default());
    set_all_callbacks(c, &rec);
    ok(xnano_client_connect_nano(c, c"localhost".as_ptr(), t, u));

    // Input keeps changing (the console answers each input frame with a
    // rumble once its feedback channel is up).
    let mut i = 0u8;
    let got_all = wait_until(20, || {
        i = i.wrapping_add(1);
        let st = xnano_controller_state {
            left_trigger: 100,
            right_trigger: 200,
            buttons: if i.is_multiple_of(2) {
                XNANO_BUTTON_A
            } else {
                0
            },
            ..Default::default()
        };
        if rec.states.lock().len() >= 2 {
            ok(xnano_client_set_controller_state(c, 0, &st));
        }
        rec.frames.load(Ordering::SeqCst) >= 30
            && rec.audio.load(Ordering::SeqCst) >= 10
            && rec.rumble.load(Ordering::SeqCst) >= 1
            && stats(c).input_frames_acked >= 1
    });
    let s = stats(c);
    assert!(got_all, "stats {s:?}");
    assert_eq!(rec.bad_frames.load(Ordering::SeqCst), 0);
    assert!(rec.keyframes.load(Ordering::SeqCst) >= 1);
    assert_eq!(s.frames_delivered, rec.frames.load(Ordering::SeqCst));
    assert_eq!(s.video_bytes, rec.bytes.load(Ordering::SeqCst));

    // Rumble echoes the triggers we sent from the state callback.
    let rb = *rec.last_rumble.lock();
    assert_eq!(
        (rb.controller, rb.left_trigger, rb.right_trigger),
        (0, 100, 200)
    );
    assert_eq!(*rec.input_from_cb.lock(), Some(XNANO_OK));

    // Calls from inside the video callback.
    assert_eq!(*rec.stop_from_cb.lock(), Some(XNANO_ERR_FROM_CALLBACK));
    assert_eq!(*rec.stats_from_cb.lock(), Some(XNANO_OK));
    assert_eq!(*rec.keyframe_from_cb.lock(), Some(XNANO_OK));
    assert!(stats(c).keyframe_requests >= 1);
    // Video arrives on the library's UDP thread.
    assert_eq!(rec.video_thread.lock().as_deref(), Some("xnano-udp-read"));

    // More input from this thread: a new trigger value comes back as rumble.
    let st = xnano_controller_state {
        left_trigger: 7,
        right_trigger: 9,
        ..Default::default()
    };
    ok(xnano_client_set_controller_state(c, 0, &st));
    assert!(wait_until(10, || {
        let r = *rec.last_rumble.lock();
        (r.left_trigger, r.right_trigger) == (7, 9)
    }));
    ok(xnano_client_change_video_quality(
        c,
        [1, 2, 3, 4, 5, 6].as_ptr(),
        6,
    ));

    let sst = sim_stats(sim);
    assert!(
        sst.input_frames_received >= 2 && sst.rumble_sent >= 2,
        "{sst:?}"
    );
    assert!(sst.client_connected);

    ok(xnano_client_stop(c));
    let states = rec.states.lock().clone();
    let kinds: Vec<xnano_state> = states.iter().map(|s| s.0).collect();
    assert_eq!(
        kinds,
        vec![
            xnano_state::XNANO_STATE_CONNECTED,
            xnano_state::XNANO_STATE_STREAMING,
            xnano_state::XNANO_STATE_CLOSED
        ],
        "{states:?}"
    );
    assert_eq!(states[2].1, XNANO_OK);
    // Nothing after CLOSED, nothing after stop returned.
    let frames = rec.frames.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(rec.frames.load(Ordering::SeqCst), frames);
    assert_eq!(rec.after_closed.load(Ordering::SeqCst), 0);
    xnano_client_free(c);
    xnano_sim_free(sim);
}

/// Pull mode: events are copied into the queue and owned by the caller.
#[test]
fn pull_mode_events() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let cfg = xnano_client_config {
        event_queue_capacity: 256,
        ..Default::default()
    };
    let c = new_client(Some(cfg));
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    let (mut video, mut audio, mut rumble, mut states) = (0, 0, 0, Vec::new());
    let mut connected = false;
    let mut last_input = Instant::now();
    let mut toggle = false;
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end && !(video >= 20 && audio >= 5 && rumble >= 1) {
        if connected && last_input.elapsed() > Duration::from_millis(30) {
            last_input = Instant::now();
            toggle = !toggle;
            let st = xnano_controller_state {
                right_trigger: 33,
                buttons: if toggle { XNANO_BUTTON_B } else { 0 },
                ..Default::default()
            };
            ok(xnano_client_set_controller_state(c, 0, &st));
        }
        let mut ev: *mut xnano_event = ptr::null_mut();
        match xnano_client_next_event(c, 200, &mut ev) {
            XNANO_OK => {}
            XNANO_ERR_TIMEOUT => continue,
            r => panic!("{r:?}: {}", last_error()),
        }
        // SAFETY: a live event until freed.
        let e = unsafe { &*ev };
        match e.kind {
            xnano_event_type::XNANO_EVENT_VIDEO_FRAME => {
                assert!(e.audio.is_null() && e.rumble.is_null());
                // SAFETY: set for video events, owned by the event.
                let v = unsafe { &*e.video };
                assert!(v.len > 0 && !v.data.is_null());
                assert_eq!((v.width, v.height), (320, 240));
                // SAFETY: owned by the event.
                let d = unsafe { std::slice::from_raw_parts(v.data, v.len) };
                assert_eq!(d.len(), v.len);
                video += 1;
            }
            xnano_event_type::XNANO_EVENT_AUDIO => {
                assert!(e.video.is_null() && e.rumble.is_null());
                // SAFETY: set for audio events.
                let a = unsafe { &*e.audio };
                assert!(a.len > 0);
                assert_eq!(a.codec, XNANO_AUDIO_CODEC_PCM);
                audio += 1;
            }
            xnano_event_type::XNANO_EVENT_RUMBLE => {
                // SAFETY: set for rumble events.
                assert_eq!(unsafe { &*e.rumble }.right_trigger, 33);
                rumble += 1;
            }
            xnano_event_type::XNANO_EVENT_STATE => {
                states.push(e.state);
                connected |= e.state == xnano_state::XNANO_STATE_CONNECTED;
            }
        }
        xnano_event_free(ev);
    }
    assert!(
        video >= 20 && audio >= 5 && rumble >= 1,
        "{video} {audio} {rumble}"
    );
    ok(xnano_client_stop(c));
    // Drain: the final event is CLOSED (XNANO_OK), then XNANO_ERR_CLOSED.
    let mut last = None;
    loop {
        let mut ev: *mut xnano_event = ptr::null_mut();
        let r = xnano_client_next_event(c, 1000, &mut ev);
        if r == XNANO_ERR_CLOSED {
            assert!(ev.is_null());
            break;
        }
        assert_eq!(r, XNANO_OK, "{}", last_error());
        // SAFETY: live event.
        let e = unsafe { &*ev };
        if e.kind == xnano_event_type::XNANO_EVENT_STATE {
            // SAFETY: never NULL.
            let m = unsafe { CStr::from_ptr(e.message) }
                .to_str()
                .unwrap()
                .to_string();
            last = Some((e.state, e.error, m));
        }
        xnano_event_free(ev);
    }
    let (s, err, msg) = last.expect("a state event");
    assert_eq!((s, err), (xnano_state::XNANO_STATE_CLOSED, XNANO_OK));
    assert_eq!(msg, "stopped");
    assert_eq!(states[0], xnano_state::XNANO_STATE_CONNECTED);
    xnano_client_free(c);
    xnano_sim_free(sim);
}

/// A full queue drops media events (counted) but never state events.
#[test]
fn pull_mode_queue_overflow_is_counted() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let cfg = xnano_client_config {
        event_queue_capacity: 4,
        ..Default::default()
    };
    let c = new_client(Some(cfg));
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    assert!(wait_until(10, || stats(c).events_dropped > 10));
    ok(stop_and_drain(c));
    xnano_client_free(c);
    xnano_sim_free(sim);
}

/// Stops `c`, then checks the queue still ends with the CLOSED event.
fn stop_and_drain(c: *mut xnano_client) -> xnano_result {
    ok(xnano_client_stop(c));
    let mut saw_closed = false;
    loop {
        let mut ev: *mut xnano_event = ptr::null_mut();
        match xnano_client_next_event(c, 100, &mut ev) {
            XNANO_OK => {
                // SAFETY: live event.
                let e = unsafe { &*ev };
                saw_closed |= e.kind == xnano_event_type::XNANO_EVENT_STATE
                    && e.state == xnano_state::XNANO_STATE_CLOSED;
                xnano_event_free(ev);
            }
            XNANO_ERR_CLOSED => break,
            r => return r,
        }
    }
    assert!(saw_closed);
    XNANO_OK
}

/// The console ends the session: CLOSED with an error code, once.
#[test]
fn console_hangup_reports_closed_with_error() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let c = new_client(None);
    let rec = Box::new(Rec::default());
    set_all_callbacks(c, &rec);
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    assert!(wait_until(10, || rec.frames.load(Ordering::SeqCst) > 2));
    ok(xnano_sim_close_client(sim));
    assert!(wait_until(10, || rec.closed()));
    let closed: Vec<_> = rec
        .states
        .lock()
        .iter()
        .filter(|s| s.0 == xnano_state::XNANO_STATE_CLOSED)
        .cloned()
        .collect();
    assert_eq!(closed.len(), 1);
    assert_ne!(closed[0].1, XNANO_OK, "{closed:?}");
    assert!(!closed[0].2.is_empty());
    // Stop after the console hung up: fine, and no second CLOSED.
    ok(xnano_client_stop(c));
    assert_eq!(
        rec.states
            .lock()
            .iter()
            .filter(|s| s.0 == xnano_state::XNANO_STATE_CLOSED)
            .count(),
        1
    );
    xnano_client_free(c);
    ok(xnano_sim_stop(sim));
    ok(xnano_sim_stop(sim));
    assert!(sim_stats(sim).video_frames_sent > 0);
    assert_eq!(xnano_sim_close_client(sim), XNANO_ERR_WRONG_STATE);
    xnano_sim_free(sim);
}

/// A panic inside the callback trampoline does not unwind into C: the
/// session ends with XNANO_ERR_PANIC and no callback runs after CLOSED.
#[test]
fn panic_in_trampoline_ends_session_with_error() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let c = new_client(None);
    let rec = Box::new(Rec::default());
    set_all_callbacks(c, &rec);
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    assert!(wait_until(10, || rec.frames.load(Ordering::SeqCst) > 10));
    PANIC_IN_TRAMPOLINE.store(test_id(c), Ordering::SeqCst);
    assert!(wait_until(10, || rec.closed()));
    let states = rec.states.lock().clone();
    let last = states.last().unwrap();
    assert_eq!(last.0, xnano_state::XNANO_STATE_CLOSED);
    assert_eq!(last.1, XNANO_ERR_PANIC, "{states:?}");
    assert!(last.2.contains("panic"), "{}", last.2);
    let frames = rec.frames.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(rec.frames.load(Ordering::SeqCst), frames);
    assert_eq!(rec.after_closed.load(Ordering::SeqCst), 0);
    ok(xnano_client_stop(c));
    xnano_client_free(c);
    xnano_sim_free(sim);
}

#[test]
fn panic_on_the_way_in_becomes_a_result() {
    PANIC_IN_BOUNDARY.with(|p| p.set(true));
    let mut cfg = xnano_client_config::default();
    assert_eq!(xnano_client_config_default(&mut cfg), XNANO_ERR_PANIC);
    assert!(last_error().contains("panic"), "{}", last_error());
    // The next call works again.
    ok(xnano_client_config_default(&mut cfg));
}

static LOG_LINES: AtomicU32 = AtomicU32::new(0);
static LOG_BAD: AtomicBool = AtomicBool::new(false);

unsafe extern "C" fn on_log(
    ud: *mut c_void,
    level: xnano_log_level,
    target: *const c_char,
    msg: *const c_char,
) {
    // SAFETY: never NULL, valid during the call.
    let (t, m) = unsafe { (CStr::from_ptr(target), CStr::from_ptr(msg)) };
    if ud as usize != 42 || t.to_bytes().is_empty() || m.to_bytes().is_empty() {
        LOG_BAD.store(true, Ordering::SeqCst);
    }
    if level == xnano_log_level::XNANO_LOG_DEBUG {
        LOG_LINES.fetch_add(1, Ordering::SeqCst);
    }
    // Calling the log setter from inside the log callback is refused.
    if xnano_set_log_callback(None, ptr::null_mut(), 0) != XNANO_ERR_FROM_CALLBACK {
        LOG_BAD.store(true, Ordering::SeqCst);
    }
}

#[test]
fn log_messages_reach_the_c_callback() {
    ok(xnano_set_log_callback(Some(on_log), 42 as *mut c_void, 4));
    let sim = start_sim();
    let (t, u) = ports(sim);
    let c = new_client(None);
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    // "channel opened" etc. are logged at debug level by the ffi layer.
    let seen = wait_until(10, || LOG_LINES.load(Ordering::SeqCst) > 0);
    xnano_client_free(c);
    xnano_sim_free(sim);
    ok(xnano_set_log_callback(None, ptr::null_mut(), 0));
    assert!(seen);
    assert!(!LOG_BAD.load(Ordering::SeqCst));
    let n = LOG_LINES.load(Ordering::SeqCst);
    log::debug!(target: "xnano::test", "not delivered any more");
    assert_eq!(LOG_LINES.load(Ordering::SeqCst), n);
}
