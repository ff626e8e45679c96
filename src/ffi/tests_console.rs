//! Tests of the SmartGlass part of the C ABI, called the way C calls it,
//! end to end against the simulated console: discovery, power-on, the
//! console session with its commands and events, and a gamestream started
//! over SmartGlass feeding an `xnano_client`.

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::client::*;
use super::console::xnano_console_event_type::*;
use super::console::*;
use super::discovery::*;
use super::gamestream_config::*;
use super::tests::{
    last_error, new_client, ok, set_all_callbacks, sim_stats, start_sim, stats, wait_until, Rec,
};
use super::xnano_result::*;
use super::*;
use ::xnano_sim::ffi::*;

fn text<const N: usize>(a: &[c_char; N]) -> String {
    // SAFETY: the library NUL-terminates every array.
    unsafe { CStr::from_ptr(a.as_ptr()) }
        .to_string_lossy()
        .into_owned()
}

fn cstr(p: *const c_char) -> String {
    assert!(!p.is_null(), "string is NULL");
    // SAFETY: non-NULL and NUL-terminated by the API's contract.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

fn sim_info(sim: *mut xnano_sim) -> xnano_console_info {
    let mut i = xnano_console_info::default();
    ok(xnano_sim_console_info(sim, &mut i));
    i
}

fn sim_address(sim: *mut xnano_sim) -> CString {
    let mut port = 0u16;
    ok(xnano_sim_smartglass_port(sim, &mut port));
    assert_ne!(port, 0);
    CString::new(format!("127.0.0.1:{port}")).unwrap()
}

fn msg_count(sim: *mut xnano_sim, name: &CStr) -> u64 {
    let mut n = 0;
    ok(xnano_sim_smartglass_message_count(
        sim,
        name.as_ptr(),
        &mut n,
    ));
    n
}

fn fast_config() -> xnano_console_config {
    let mut c = xnano_console_config::default();
    ok(xnano_console_config_default(&mut c));
    c.discovery_timeout_ms = 2000;
    c.wait_timeout_ms = 5000;
    c
}

/// One event as the callback saw it (copied: the event is valid only
/// during the call).
#[derive(Debug, Clone)]
struct Seen {
    kind: xnano_console_event_type,
    error: xnano_result,
    message: String,
    json: String,
    text: String,
    participant_id: u32,
    title_id: u32,
    os_major: u32,
    playback_status: u32,
    text_session_id: u32,
    channel: u32,
    gamestream_state: u32,
    tcp_port: u16,
    thread: Option<String>,
}

fn seen(e: &xnano_console_event) -> Seen {
    Seen {
        kind: e.kind,
        error: e.error,
        message: cstr(e.message),
        json: cstr(e.json),
        text: cstr(e.text),
        participant_id: e.participant_id,
        title_id: e.title_id,
        os_major: e.os_major_version,
        playback_status: e.playback_status,
        text_session_id: e.text_session_id,
        channel: e.channel,
        gamestream_state: e.gamestream_state,
        tcp_port: e.tcp_port,
        thread: std::thread::current().name().map(String::from),
    }
}

/// What the console callback saw; passed as user data.
#[derive(Default)]
struct ConRec {
    console: AtomicU64,
    client: AtomicU64,
    events: Mutex<Vec<Seen>>,
    after_closed: AtomicU64,
    launch_from_cb: Mutex<Option<xnano_result>>,
    disconnect_from_cb: Mutex<Option<xnano_result>>,
    stream_from_cb: Mutex<Option<xnano_result>>,
}

impl ConRec {
    fn console(&self) -> *mut xnano_console {
        self.console.load(Ordering::SeqCst) as usize as *mut xnano_console
    }
    fn has(&self, k: xnano_console_event_type) -> bool {
        self.events.lock().iter().any(|e| e.kind == k)
    }
    fn find(&self, f: impl Fn(&Seen) -> bool) -> Option<Seen> {
        self.events.lock().iter().find(|e| f(e)).cloned()
    }
}

unsafe extern "C" fn on_console_event(ud: *mut c_void, e: *const xnano_console_event) {
    // SAFETY: `ud` is the test's ConRec; `e` valid during the call.
    let (r, e) = unsafe { (&*(ud as *const ConRec), &*e) };
    if r.has(XNANO_CONSOLE_EVENT_CLOSED) {
        r.after_closed.fetch_add(1, Ordering::SeqCst);
    }
    r.events.lock().push(seen(e));
    if e.kind == XNANO_CONSOLE_EVENT_CONNECTED {
        // Calls back into the API from inside the callback.
        let c = r.console();
        *r.launch_from_cb.lock() = Some(xnano_console_launch_title(
            c,
            c"ms-xbl-test://callback".as_ptr(),
            XNANO_TITLE_LOCATION_FULL,
        ));
        *r.disconnect_from_cb.lock() = Some(xnano_console_disconnect(c));
        let client = r.client.load(Ordering::SeqCst) as usize as *mut xnano_client;
        *r.stream_from_cb.lock() = Some(xnano_client_connect_console(client, c, ptr::null()));
    }
}

fn new_console(rec: Option<&ConRec>) -> *mut xnano_console {
    let mut c = ptr::null_mut();
    ok(xnano_console_new(&mut c));
    assert!(!c.is_null());
    if let Some(r) = rec {
        r.console.store(c as usize as u64, Ordering::SeqCst);
        ok(xnano_console_set_event_callback(
            c,
            Some(on_console_event),
            r as *const ConRec as *mut c_void,
        ));
    }
    c
}

fn console_state(c: *mut xnano_console) -> xnano_console_state {
    let mut s = xnano_console_state::XNANO_CONSOLE_STATE_IDLE;
    ok(xnano_console_get_state(c, &mut s));
    s
}

fn discover(addr: &CStr, timeout_ms: u32) -> Vec<xnano_console_info> {
    let mut d = ptr::null_mut();
    ok(xnano_discover(addr.as_ptr(), timeout_ms, &mut d));
    let mut n = 0usize;
    ok(xnano_discovery_count(d, &mut n));
    let v = (0..n)
        .map(|i| {
            let mut info = xnano_console_info::default();
            ok(xnano_discovery_get(d, i, &mut info));
            info
        })
        .collect();
    xnano_discovery_free(d);
    v
}

#[test]
fn smartglass_null_arguments_and_outputs_untouched() {
    let nc: *mut xnano_console = ptr::null_mut();
    let d: *mut xnano_discovery = ptr::dangling_mut();
    let mut n = 77usize;
    let mut info = xnano_console_info {
        port: 9,
        ..Default::default()
    };
    let mut st = xnano_console_state::XNANO_CONSOLE_STATE_CLOSED;
    let mut ev: *mut xnano_console_event = ptr::dangling_mut();
    let g = xnano_gamepad::default();
    let mut cnt = 5u64;
    let checks: Vec<(&str, xnano_result)> = vec![
        (
            "discover out",
            xnano_discover(ptr::null(), 10, ptr::null_mut()),
        ),
        ("count", xnano_discovery_count(ptr::null(), &mut n)),
        ("get", xnano_discovery_get(ptr::null(), 0, &mut info)),
        ("power_on", xnano_power_on(ptr::null(), ptr::null(), 1)),
        (
            "config_default",
            xnano_console_config_default(ptr::null_mut()),
        ),
        ("console_new", xnano_console_new(ptr::null_mut())),
        (
            "set_event_callback",
            xnano_console_set_event_callback(nc, None, ptr::null_mut()),
        ),
        (
            "connect",
            xnano_console_connect(nc, c"127.0.0.1".as_ptr(), ptr::null()),
        ),
        ("get_state", xnano_console_get_state(nc, &mut st)),
        ("get_info", xnano_console_get_info(nc, &mut info)),
        ("next_event", xnano_console_next_event(nc, 0, &mut ev)),
        ("events_dropped", xnano_console_events_dropped(nc, &mut cnt)),
        ("disconnect", xnano_console_disconnect(nc)),
        ("power_off", xnano_console_power_off(nc)),
        ("launch", xnano_console_launch_title(nc, c"x".as_ptr(), 0)),
        (
            "media",
            xnano_console_media_command(nc, 1, XNANO_MEDIA_PLAY, 0, ptr::null_mut()),
        ),
        ("gamepad", xnano_console_gamepad(nc, &g)),
        ("send_text", xnano_console_send_text(nc, c"x".as_ptr())),
        ("text_ack", xnano_console_text_acknowledge(nc, 1, 1)),
        ("text_done", xnano_console_text_done(nc, 1)),
        ("dvr", xnano_console_game_dvr_record(nc, -30, 0)),
        ("unsnap", xnano_console_unsnap(nc)),
        ("gs_new", xnano_gamestream_config_new(ptr::null_mut())),
        (
            "gs_set",
            xnano_gamestream_config_set(ptr::null_mut(), c"a".as_ptr(), c"b".as_ptr()),
        ),
        (
            "connect_console",
            xnano_client_connect_console(ptr::null_mut(), nc, ptr::null()),
        ),
        (
            "sim_sg_port",
            xnano_sim_smartglass_port(ptr::null(), ptr::null_mut()),
        ),
        ("sim_info", xnano_sim_console_info(ptr::null(), &mut info)),
        (
            "sim_count",
            xnano_sim_smartglass_message_count(ptr::null(), ptr::null(), &mut cnt),
        ),
        (
            "sim_text",
            xnano_sim_start_text_session(ptr::null_mut(), ptr::null(), ptr::null_mut()),
        ),
    ];
    for (what, r) in checks {
        assert_eq!(r, XNANO_ERR_NULL, "{what}: {}", last_error());
    }
    assert_eq!((d, n, info.port, cnt), (ptr::dangling_mut(), 77, 9, 5));
    assert_eq!(st, xnano_console_state::XNANO_CONSOLE_STATE_CLOSED);
    assert_eq!(ev, ptr::dangling_mut());
    xnano_discovery_free(ptr::null_mut());
    xnano_console_free(ptr::null_mut());
    xnano_console_event_free(ptr::null_mut());
    xnano_gamestream_config_free(ptr::null_mut());

    // NULL inner pointers with live handles.
    let c = new_console(None);
    assert_eq!(
        xnano_console_connect(c, ptr::null(), ptr::null()),
        XNANO_ERR_NULL
    );
    assert!(last_error().contains("address"));
    assert_eq!(xnano_console_gamepad(c, ptr::null()), XNANO_ERR_NULL);
    assert_eq!(
        xnano_console_launch_title(c, ptr::null(), 0),
        XNANO_ERR_NULL
    );
    let client = new_client(None);
    assert_eq!(
        xnano_client_connect_console(client, ptr::null_mut(), ptr::null()),
        XNANO_ERR_NULL
    );
    let mut gs = ptr::null_mut();
    ok(xnano_gamestream_config_new(&mut gs));
    let mut buf = [0 as c_char; 8];
    let mut len = 3usize;
    assert_eq!(
        xnano_gamestream_config_get(
            gs,
            c"videoMaximumWidth".as_ptr(),
            buf.as_mut_ptr(),
            8,
            ptr::null_mut()
        ),
        XNANO_ERR_NULL
    );
    assert_eq!(
        xnano_gamestream_config_get(gs, ptr::null(), buf.as_mut_ptr(), 8, &mut len),
        XNANO_ERR_NULL
    );
    assert_eq!(len, 3);
    xnano_gamestream_config_free(gs);
    xnano_client_free(client);
    xnano_console_free(c);
}

#[test]
fn smartglass_invalid_arguments_and_wrong_states() {
    // Discovery and power-on arguments.
    let mut d = ptr::null_mut();
    assert_eq!(
        xnano_discover(c"127.0.0.1".as_ptr(), 0, &mut d),
        XNANO_ERR_INVALID_ARGUMENT
    );
    assert_eq!(
        xnano_discover(c"".as_ptr(), 100, &mut d),
        XNANO_ERR_INVALID_ARGUMENT
    );
    assert!(d.is_null());
    assert_eq!(
        xnano_power_on(c" ".as_ptr(), ptr::null(), 1),
        XNANO_ERR_INVALID_ARGUMENT
    );
    let bad_utf8 = [0xffu8, 0];
    assert_eq!(
        xnano_power_on(bad_utf8.as_ptr().cast(), ptr::null(), 1),
        XNANO_ERR_INVALID_ARGUMENT
    );

    // Gamestream configuration keys and values.
    let mut gs = ptr::null_mut();
    ok(xnano_gamestream_config_new(&mut gs));
    assert_eq!(
        xnano_gamestream_config_set(gs, c"noSuchKey".as_ptr(), c"1".as_ptr()),
        XNANO_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("noSuchKey"), "{}", last_error());
    assert_eq!(
        xnano_gamestream_config_set(gs, c"videoMaximumWidth".as_ptr(), c"wide".as_ptr()),
        XNANO_ERR_INVALID_ARGUMENT
    );
    ok(xnano_gamestream_config_set(
        gs,
        c"videoMaximumWidth".as_ptr(),
        c"640".as_ptr(),
    ));
    ok(xnano_gamestream_config_set(
        gs,
        c"reQueryPreviewStatus".as_ptr(),
        c"false".as_ptr(),
    ));
    let mut buf = [0 as c_char; 16];
    let mut len = 0usize;
    ok(xnano_gamestream_config_get(
        gs,
        c"videoMaximumWidth".as_ptr(),
        buf.as_mut_ptr(),
        buf.len(),
        &mut len,
    ));
    assert_eq!((text(&buf), len), ("640".to_string(), 3));
    ok(xnano_gamestream_config_get(
        gs,
        c"reQueryPreviewStatus".as_ptr(),
        buf.as_mut_ptr(),
        buf.len(),
        &mut len,
    ));
    assert_eq!(text(&buf), "false");
    let mut small = [7 as c_char; 3];
    len = 99;
    assert_eq!(
        xnano_gamestream_config_get(
            gs,
            c"urcpMaximumRate".as_ptr(),
            small.as_mut_ptr(),
            3,
            &mut len
        ),
        XNANO_ERR_BUFFER_TOO_SMALL
    );
    assert_eq!((small, len), ([7; 3], 99), "written on failure");
    assert_eq!(
        xnano_gamestream_config_get(gs, c"nope".as_ptr(), buf.as_mut_ptr(), 16, &mut len),
        XNANO_ERR_INVALID_ARGUMENT
    );

    // An idle console refuses everything that needs a session.
    let c = new_console(None);
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_IDLE
    );
    let g = xnano_gamepad::default();
    let mut info = xnano_console_info::default();
    let mut ev = ptr::null_mut();
    for (what, r) in [
        ("power_off", xnano_console_power_off(c)),
        ("launch", xnano_console_launch_title(c, c"x".as_ptr(), 0)),
        (
            "media",
            xnano_console_media_command(c, 1, XNANO_MEDIA_PLAY, 0, ptr::null_mut()),
        ),
        ("gamepad", xnano_console_gamepad(c, &g)),
        ("text", xnano_console_send_text(c, c"x".as_ptr())),
        ("dvr", xnano_console_game_dvr_record(c, -1, 0)),
        ("unsnap", xnano_console_unsnap(c)),
        ("info", xnano_console_get_info(c, &mut info)),
        ("next_event", xnano_console_next_event(c, 0, &mut ev)),
    ] {
        assert_eq!(r, XNANO_ERR_WRONG_STATE, "{what}");
    }
    ok(xnano_console_disconnect(c));
    // A client cannot stream through an idle console and stays IDLE.
    let client = new_client(None);
    assert_eq!(
        xnano_client_connect_console(client, c, gs),
        XNANO_ERR_WRONG_STATE
    );
    let mut cst = xnano_state::XNANO_STATE_CLOSED;
    ok(xnano_client_get_state(client, &mut cst));
    assert_eq!(cst, xnano_state::XNANO_STATE_IDLE);

    // Bad connect configuration and addresses.
    let cfg = xnano_console_config {
        wait_timeout_ms: 0,
        ..fast_config()
    };
    assert_eq!(
        xnano_console_connect(c, c"127.0.0.1".as_ptr(), &cfg),
        XNANO_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("wait_timeout_ms"));
    // Nobody answers there: NOT_FOUND, and the console stays IDLE.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = CString::new(silent.local_addr().unwrap().to_string()).unwrap();
    let cfg = xnano_console_config {
        discovery_timeout_ms: 300,
        ..fast_config()
    };
    assert_eq!(
        xnano_console_connect(c, addr.as_ptr(), &cfg),
        XNANO_ERR_NOT_FOUND
    );
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_IDLE
    );

    // A simulated console without SmartGlass.
    let scfg = xnano_sim_config {
        smartglass: false,
        video_source: XNANO_SIM_VIDEO_SYNTHETIC,
        ..Default::default()
    };
    let mut sim = ptr::null_mut();
    ok(xnano_sim_new(&scfg, &mut sim));
    let mut port = 0u16;
    assert_eq!(
        xnano_sim_smartglass_port(sim, &mut port),
        XNANO_ERR_WRONG_STATE
    );
    assert_eq!(
        xnano_sim_console_info(sim, &mut info),
        XNANO_ERR_WRONG_STATE
    );
    assert_eq!(port, 0);
    xnano_sim_free(sim);

    // Connected: argument checks of the commands, and no second connect.
    let sim = start_sim();
    let addr = sim_address(sim);
    ok(xnano_console_connect(c, addr.as_ptr(), &fast_config()));
    assert_eq!(
        xnano_console_connect(c, addr.as_ptr(), &fast_config()),
        XNANO_ERR_WRONG_STATE
    );
    assert_eq!(
        xnano_console_set_event_callback(c, None, ptr::null_mut()),
        XNANO_ERR_WRONG_STATE
    );
    assert_eq!(
        xnano_console_launch_title(c, c"x".as_ptr(), 6),
        XNANO_ERR_INVALID_ARGUMENT
    );
    for bad in [0, 1, 3, XNANO_MEDIA_PLAY | XNANO_MEDIA_PAUSE, 0x10000] {
        assert_eq!(
            xnano_console_media_command(c, 1, bad, 0, ptr::null_mut()),
            XNANO_ERR_INVALID_ARGUMENT,
            "media command {bad:#x}"
        );
    }
    let g = xnano_gamepad {
        left_trigger: 1.5,
        ..Default::default()
    };
    assert_eq!(xnano_console_gamepad(c, &g), XNANO_ERR_INVALID_ARGUMENT);
    assert_eq!(xnano_console_text_done(c, 2), XNANO_ERR_INVALID_ARGUMENT);
    assert_eq!(
        xnano_console_game_dvr_record(c, 5, 0),
        XNANO_ERR_INVALID_ARGUMENT
    );
    // No text session yet: text calls are refused.
    assert_eq!(
        xnano_console_send_text(c, c"hi".as_ptr()),
        XNANO_ERR_WRONG_STATE
    );
    assert!(last_error().contains("text"), "{}", last_error());
    assert_eq!(xnano_console_text_done(c, 1), XNANO_ERR_WRONG_STATE);
    // Pull mode was not configured.
    assert_eq!(
        xnano_console_next_event(c, 0, &mut ev),
        XNANO_ERR_WRONG_STATE
    );
    assert!(last_error().contains("event_queue_capacity"));

    // After disconnect: CLOSED, commands fail with XNANO_ERR_CLOSED.
    ok(xnano_console_disconnect(c));
    ok(xnano_console_disconnect(c));
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_CLOSED
    );
    assert_eq!(xnano_console_unsnap(c), XNANO_ERR_CLOSED);
    assert_eq!(
        xnano_client_connect_console(client, c, ptr::null()),
        XNANO_ERR_CLOSED
    );
    xnano_client_free(client);
    xnano_console_free(c);
    xnano_gamestream_config_free(gs);
    xnano_sim_free(sim);
}

#[test]
fn discovers_the_simulated_console() {
    let sim = start_sim();
    let addr = sim_address(sim);
    let want = sim_info(sim);
    let t0 = Instant::now();
    let found = discover(&addr, 3000);
    // Unicast discovery returns at the first answer.
    assert!(t0.elapsed() < Duration::from_secs(2), "{:?}", t0.elapsed());
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!(text(&f.name), "XboxOne");
    assert_eq!(text(&f.live_id), text(&want.live_id));
    assert!(text(&f.live_id).starts_with("FD00"));
    assert_eq!(text(&f.uuid), text(&want.uuid));
    assert_eq!(text(&f.uuid).len(), 36);
    assert_eq!(text(&f.address), addr.to_str().unwrap());
    assert_eq!(f.port, want.port);
    assert_eq!(f.curve, XNANO_CURVE_P256);
    assert_eq!(f.device_type, XNANO_DEVICE_XBOX_ONE);
    assert_ne!(f.flags & XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS, 0);
    assert!(sim_stats(sim).sg_discovery_requests >= 1);

    // Out of range index: an error, output untouched.
    let mut d = ptr::null_mut();
    ok(xnano_discover(addr.as_ptr(), 3000, &mut d));
    let mut info = xnano_console_info {
        port: 1,
        ..Default::default()
    };
    assert_eq!(
        xnano_discovery_get(d, 1, &mut info),
        XNANO_ERR_INVALID_ARGUMENT
    );
    assert_eq!(info.port, 1);
    xnano_discovery_free(d);

    // A port where nothing answers: found nothing, not an error.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let a = CString::new(silent.local_addr().unwrap().to_string()).unwrap();
    assert!(discover(&a, 300).is_empty());
    xnano_sim_free(sim);
}

/// The whole SmartGlass path: discover, connect (events, calls back in,
/// disconnect/free from the callback refused), commands reach the console,
/// a gamestream started over SmartGlass delivers frames, audio and rumble
/// to an ordinary client, stop, disconnect, free.
#[test]
fn full_smartglass_path_to_frames_and_back() {
    let sim = start_sim();
    let addr = sim_address(sim);
    let found = discover(&addr, 3000);
    assert_eq!(found.len(), 1);
    let target = CString::new(text(&found[0].address)).unwrap();

    let rec = Box::new(ConRec::default());
    let c = new_console(Some(&rec));
    let client = new_client(None);
    let crec = Box::new(Rec::default());
    set_all_callbacks(client, &crec);
    rec.client.store(client as usize as u64, Ordering::SeqCst);

    ok(xnano_console_connect(c, target.as_ptr(), &fast_config()));
    // CONNECTED was delivered before connect returned, on this thread.
    let connected = rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_CONNECTED)
        .expect("CONNECTED before connect returned");
    assert_eq!(connected.participant_id, 31);
    assert_eq!(
        connected.thread,
        std::thread::current().name().map(String::from)
    );
    assert!(
        connected.json.contains("\"connected\""),
        "{}",
        connected.json
    );
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_CONNECTED
    );
    // Calls made from inside the callback.
    assert_eq!(*rec.launch_from_cb.lock(), Some(XNANO_OK));
    assert_eq!(
        *rec.disconnect_from_cb.lock(),
        Some(XNANO_ERR_FROM_CALLBACK)
    );
    assert_eq!(*rec.stream_from_cb.lock(), Some(XNANO_ERR_FROM_CALLBACK));
    let mut info = xnano_console_info::default();
    ok(xnano_console_get_info(c, &mut info));
    assert_eq!(text(&info.live_id), text(&found[0].live_id));

    // Console status and channels follow (held ones on this thread before
    // connect returned, later ones on the socket thread).
    assert!(wait_until(10, || {
        rec.has(XNANO_CONSOLE_EVENT_CONSOLE_STATUS)
            && rec
                .find(|e| {
                    e.kind == XNANO_CONSOLE_EVENT_CHANNEL_STARTED
                        && e.channel == XNANO_CHANNEL_SYSTEM_MEDIA
                })
                .is_some()
            && rec.has(XNANO_CONSOLE_EVENT_MEDIA_STATE)
    }));
    let status = rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_CONSOLE_STATUS)
        .unwrap();
    assert_eq!(status.os_major, 10);
    assert_eq!(status.title_id, 714681658);
    assert!(status.text.starts_with("Xbox.Home"), "{}", status.text);
    let media = rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_MEDIA_STATE)
        .unwrap();
    assert_eq!(media.playback_status, 3, "playing");
    assert!(media.text.contains("Music"), "{}", media.text);

    // Commands reach the console.
    let mut req = 0u64;
    ok(xnano_console_media_command(
        c,
        media.title_id,
        XNANO_MEDIA_PAUSE,
        0,
        &mut req,
    ));
    assert!(req > 0);
    assert!(wait_until(10, || rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_MEDIA_STATE && e.playback_status == 4)
        .is_some()));
    let paused = rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_MEDIA_STATE && e.playback_status == 4)
        .unwrap();
    // Events after connect returned come on the console's socket thread.
    assert_eq!(paused.thread.as_deref(), Some("xnano-sg-socket"));
    let gp = xnano_gamepad {
        buttons: XNANO_GAMEPAD_A | XNANO_GAMEPAD_DPAD_UP,
        left_trigger: 0.5,
        left_thumb_x: -1.0,
        ..Default::default()
    };
    ok(xnano_console_gamepad(c, &gp));
    ok(xnano_console_game_dvr_record(c, -30, 0));
    ok(xnano_console_unsnap(c));
    // Text entry: the console opens a session, we type and accept.
    let mut reached = 0u32;
    assert!(wait_until(10, || {
        ok(xnano_sim_start_text_session(
            sim,
            c"Gamertag?".as_ptr(),
            &mut reached,
        ));
        reached == 1
    }));
    assert!(wait_until(10, || rec.has(XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION)));
    let tc = rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION)
        .unwrap();
    assert_eq!(tc.text, "Gamertag?");
    ok(xnano_console_send_text(c, c"xnano".as_ptr()));
    ok(xnano_console_text_acknowledge(c, tc.text_session_id, 1));
    ok(xnano_console_text_done(c, XNANO_TEXT_RESULT_ACCEPT));
    for (name, n) in [
        (c"TitleLaunch", 1),
        (c"MediaCommand", 1),
        (c"Gamepad", 1),
        (c"GameDvrRecord", 1),
        (c"Unsnap", 1),
        (c"SystemTextInput", 1),
        (c"SystemTextAck", 1),
        (c"SystemTextDone", 1),
    ] {
        assert!(
            wait_until(10, || msg_count(sim, name) >= n),
            "{name:?}: {}",
            msg_count(sim, name)
        );
    }
    let mut all = 0;
    ok(xnano_sim_smartglass_message_count(
        sim,
        ptr::null(),
        &mut all,
    ));
    assert!(all >= 8);

    // The gamestream: the same client callbacks as with connect_nano.
    let mut gs = ptr::null_mut();
    ok(xnano_gamestream_config_new(&mut gs));
    ok(xnano_gamestream_config_set(
        gs,
        c"videoMaximumFrameRate".as_ptr(),
        c"30".as_ptr(),
    ));
    ok(xnano_client_connect_console(client, c, gs));
    xnano_gamestream_config_free(gs);
    // A second stream through the same console is refused.
    let other = new_client(None);
    assert_eq!(
        xnano_client_connect_console(other, c, ptr::null()),
        XNANO_ERR_WRONG_STATE
    );
    assert!(last_error().contains("already streams"), "{}", last_error());
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
        if crec.states.lock().len() >= 2 {
            ok(xnano_client_set_controller_state(client, 0, &st));
        }
        crec.frames.load(Ordering::SeqCst) >= 30
            && crec.audio.load(Ordering::SeqCst) >= 10
            && crec.rumble.load(Ordering::SeqCst) >= 1
    });
    let s = stats(client);
    assert!(got_all, "client stats {s:?}");
    assert_eq!(crec.bad_frames.load(Ordering::SeqCst), 0);
    assert!(crec.keyframes.load(Ordering::SeqCst) >= 1);
    assert_eq!(s.frames_delivered, crec.frames.load(Ordering::SeqCst));
    // From the client's callbacks: stop/free refused, keyframe works.
    assert_eq!(*crec.stop_from_cb.lock(), Some(XNANO_ERR_FROM_CALLBACK));
    assert_eq!(*crec.keyframe_from_cb.lock(), Some(XNANO_OK));
    let rb = *crec.last_rumble.lock();
    assert_eq!((rb.left_trigger, rb.right_trigger), (100, 200));
    // The console reported the stream's progress.
    assert!(wait_until(5, || rec.has(XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED)));
    let started = rec
        .find(|e| {
            e.kind == XNANO_CONSOLE_EVENT_GAMESTREAM_STATE
                && e.gamestream_state == XNANO_GAMESTREAM_STARTED
        })
        .expect("gamestream Started");
    let init = rec
        .find(|e| {
            e.kind == XNANO_CONSOLE_EVENT_GAMESTREAM_STATE
                && e.gamestream_state == XNANO_GAMESTREAM_INITIALIZING
        })
        .expect("gamestream Initializing");
    assert_ne!(init.tcp_port, 0);
    assert!(!started.message.is_empty());
    let sst = sim_stats(sim);
    assert_eq!(sst.sg_gamestreams_started, 1);
    assert!(
        sst.video_frames_sent >= 30 && sst.rumble_sent >= 1,
        "{sst:?}"
    );
    assert_eq!(sst.sg_connects_accepted, 1);

    // Stopping the client tells the console to stop streaming.
    ok(xnano_client_stop(client));
    let states = crec.states.lock().clone();
    assert_eq!(
        states.last().map(|s| (s.0, s.1)),
        Some((xnano_state::XNANO_STATE_CLOSED, XNANO_OK))
    );
    assert!(stats(client).frames_delivered >= 30);
    assert!(wait_until(10, || sim_stats(sim).sg_gamestreams_stopped == 1));
    assert!(wait_until(10, || rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_GAMESTREAM_STATE
            && e.gamestream_state == XNANO_GAMESTREAM_STOPPED)
        .is_some()));
    // The console may stream again: to the other client.
    let orec = Box::new(Rec::default());
    let other2 = new_client(None);
    set_all_callbacks(other2, &orec);
    ok(xnano_client_connect_console(other2, c, ptr::null()));
    assert!(wait_until(20, || orec.frames.load(Ordering::SeqCst) >= 5));

    // Disconnect while it streams: CLOSED (OK) before it returns, last; the
    // console ends the stream, and the client reports CLOSED with an error.
    ok(xnano_console_disconnect(c));
    let evs = rec.events.lock().clone();
    let last = evs.last().unwrap();
    assert_eq!(last.kind, XNANO_CONSOLE_EVENT_CLOSED);
    assert_eq!(last.error, XNANO_OK);
    assert_eq!(
        evs.iter()
            .filter(|e| e.kind == XNANO_CONSOLE_EVENT_CLOSED)
            .count(),
        1
    );
    assert!(wait_until(10, || orec.closed()));
    let ost = orec.states.lock().clone();
    assert_ne!(ost.last().unwrap().1, XNANO_OK, "{ost:?}");
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(rec.after_closed.load(Ordering::SeqCst), 0);
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_CLOSED
    );
    // The console goes first; the clients still stop and free cleanly.
    xnano_console_free(c);
    xnano_client_free(other2);
    xnano_client_free(other);
    xnano_client_free(client);
    xnano_sim_free(sim);
}

/// Pull mode for console events.
#[test]
fn console_pull_mode_events() {
    let sim = start_sim();
    let addr = sim_address(sim);
    let c = new_console(None);
    let cfg = xnano_console_config {
        event_queue_capacity: 64,
        ..fast_config()
    };
    ok(xnano_console_connect(c, addr.as_ptr(), &cfg));
    let mut kinds = Vec::new();
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end && !kinds.contains(&XNANO_CONSOLE_EVENT_CONSOLE_STATUS) {
        let mut e = ptr::null_mut();
        match xnano_console_next_event(c, 100, &mut e) {
            XNANO_OK => {
                // SAFETY: a live event until freed.
                let ev = unsafe { &*e };
                assert!(!cstr(ev.json).is_empty());
                kinds.push(ev.kind);
                xnano_console_event_free(e);
            }
            XNANO_ERR_TIMEOUT => {}
            r => panic!("{r:?}: {}", last_error()),
        }
    }
    assert_eq!(kinds.first(), Some(&XNANO_CONSOLE_EVENT_CONNECTED));
    assert!(kinds.contains(&XNANO_CONSOLE_EVENT_CONSOLE_STATUS));
    ok(xnano_console_disconnect(c));
    // The queue drains up to CLOSED, then says so.
    let mut closed = 0;
    loop {
        let mut e = ptr::null_mut();
        match xnano_console_next_event(c, 0, &mut e) {
            XNANO_OK => {
                // SAFETY: as above.
                if unsafe { &*e }.kind == XNANO_CONSOLE_EVENT_CLOSED {
                    closed += 1;
                }
                xnano_console_event_free(e);
            }
            XNANO_ERR_CLOSED => break,
            r => panic!("{r:?}: {}", last_error()),
        }
    }
    assert_eq!(closed, 1);
    let mut dropped = 9;
    ok(xnano_console_events_dropped(c, &mut dropped));
    assert_eq!(dropped, 0);
    xnano_console_free(c);
    xnano_sim_free(sim);
}

/// Power off over SmartGlass, then power on by Live ID.
#[test]
fn power_off_then_power_on() {
    let sim = start_sim();
    let addr = sim_address(sim);
    let live_id = CString::new(text(&sim_info(sim).live_id)).unwrap();
    let rec = Box::new(ConRec::default());
    let c = new_console(Some(&rec));
    ok(xnano_console_connect(c, addr.as_ptr(), &fast_config()));
    ok(xnano_console_power_off(c));
    assert!(wait_until(10, || rec.has(XNANO_CONSOLE_EVENT_CLOSED)));
    let closed = rec.find(|e| e.kind == XNANO_CONSOLE_EVENT_CLOSED).unwrap();
    assert_eq!(closed.error, XNANO_ERR_CLOSED, "{closed:?}");
    assert!(closed.message.contains("PowerOff"), "{}", closed.message);
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_CLOSED
    );
    let mut on = true;
    ok(xnano_sim_smartglass_powered_on(sim, &mut on));
    assert!(!on);
    // Off: discovery finds nothing, a connect finds nobody.
    assert!(discover(&addr, 300).is_empty());
    let c2 = new_console(None);
    let cfg = xnano_console_config {
        discovery_timeout_ms: 300,
        ..fast_config()
    };
    assert_eq!(
        xnano_console_connect(c2, addr.as_ptr(), &cfg),
        XNANO_ERR_NOT_FOUND
    );
    // Power on (to the address; broadcast may go nowhere here).
    ok(xnano_power_on(live_id.as_ptr(), addr.as_ptr(), 0));
    assert!(wait_until(5, || {
        ok(xnano_sim_smartglass_powered_on(sim, &mut on));
        on
    }));
    assert!(sim_stats(sim).sg_power_on_requests >= 1);
    assert_eq!(discover(&addr, 3000).len(), 1);
    ok(xnano_console_connect(c2, addr.as_ptr(), &fast_config()));
    xnano_console_free(c2);
    xnano_console_free(c);
    xnano_sim_free(sim);
}

/// A console that refuses anonymous users: credentials are needed.
#[test]
fn credentials_when_anonymous_is_not_allowed() {
    let scfg = xnano_sim_config {
        smartglass_require_auth: true,
        video_source: XNANO_SIM_VIDEO_SYNTHETIC,
        ..Default::default()
    };
    let mut sim = ptr::null_mut();
    ok(xnano_sim_new(&scfg, &mut sim));
    let addr = sim_address(sim);
    assert_eq!(
        sim_info(sim).flags & XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS,
        0
    );
    let c = new_console(None);
    assert_eq!(
        xnano_console_connect(c, addr.as_ptr(), &fast_config()),
        XNANO_ERR_REFUSED
    );
    assert!(last_error().contains("anonymous"), "{}", last_error());
    // Told to ignore the flag, the console itself refuses.
    let cfg = xnano_console_config {
        ignore_anonymous_flag: true,
        ..fast_config()
    };
    assert_eq!(
        xnano_console_connect(c, addr.as_ptr(), &cfg),
        XNANO_ERR_REFUSED
    );
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_IDLE
    );
    let cfg = xnano_console_config {
        userhash: c"1234567890".as_ptr(),
        auth_token: c"eyJ0b2tlbiI6InRlc3QifQ".as_ptr(),
        ..fast_config()
    };
    ok(xnano_console_connect(c, addr.as_ptr(), &cfg));
    assert_eq!(sim_stats(sim).sg_connects_accepted, 1);
    xnano_console_free(c);
    xnano_sim_free(sim);
}

/// The console refuses the gamestream: XNANO_ERR_REFUSED, the client stays
/// IDLE and can still stream directly.
#[test]
fn refused_gamestream_leaves_the_client_idle() {
    let sim = start_sim();
    let addr = sim_address(sim);
    // SAFETY: a live sim.
    let s = unsafe { &*sim };
    {
        let g = s.console();
        let cs = g.as_ref().unwrap();
        let mut f = cs.faults();
        f.gamestream_error = Some((3, 42));
        cs.set_faults(f);
    }
    let rec = Box::new(ConRec::default());
    let c = new_console(Some(&rec));
    ok(xnano_console_connect(c, addr.as_ptr(), &fast_config()));
    let client = new_client(None);
    let crec = Box::new(Rec::default());
    set_all_callbacks(client, &crec);
    assert_eq!(
        xnano_client_connect_console(client, c, ptr::null()),
        XNANO_ERR_REFUSED
    );
    assert!(last_error().contains("GameStreamError"), "{}", last_error());
    assert!(wait_until(5, || rec.has(XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED)));
    let f = rec
        .find(|e| e.kind == XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED)
        .unwrap();
    assert_eq!(f.error, XNANO_ERR_REFUSED);
    let mut st = xnano_state::XNANO_STATE_CLOSED;
    ok(xnano_client_get_state(client, &mut st));
    assert_eq!(st, xnano_state::XNANO_STATE_IDLE);
    assert!(crec.states.lock().is_empty());
    // Fixed: the same client streams through the console now.
    {
        let g = s.console();
        let cs = g.as_ref().unwrap();
        let mut f = cs.faults();
        f.gamestream_error = None;
        cs.set_faults(f);
    }
    ok(xnano_client_connect_console(client, c, ptr::null()));
    assert!(wait_until(20, || crec.frames.load(Ordering::SeqCst) >= 5));
    xnano_client_free(client);
    xnano_console_free(c);
    xnano_sim_free(sim);
}

/// A panic inside the console's callback trampoline ends the session with
/// CLOSED / XNANO_ERR_PANIC; nothing unwinds into C and the handle stays
/// usable (disconnect, free).
#[test]
fn panic_in_console_trampoline_ends_session_with_error() {
    let sim = start_sim();
    let addr = sim_address(sim);
    let rec = Box::new(ConRec::default());
    let c = new_console(Some(&rec));
    ok(xnano_console_connect(c, addr.as_ptr(), &fast_config()));
    PANIC_IN_CONSOLE_TRAMPOLINE.store(test_console_id(c), Ordering::SeqCst);
    let mut reached = 0u32;
    assert!(wait_until(10, || {
        ok(xnano_sim_start_text_session(sim, ptr::null(), &mut reached));
        reached == 1
    }));
    assert!(wait_until(10, || rec.has(XNANO_CONSOLE_EVENT_CLOSED)));
    let closed = rec.find(|e| e.kind == XNANO_CONSOLE_EVENT_CLOSED).unwrap();
    assert_eq!(closed.error, XNANO_ERR_PANIC, "{closed:?}");
    assert!(closed.message.contains("test hook"), "{}", closed.message);
    assert!(!rec.has(XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION));
    assert_eq!(
        console_state(c),
        xnano_console_state::XNANO_CONSOLE_STATE_CLOSED
    );
    assert_eq!(xnano_console_unsnap(c), XNANO_ERR_CLOSED);
    ok(xnano_console_disconnect(c));
    assert_eq!(rec.after_closed.load(Ordering::SeqCst), 0);
    xnano_console_free(c);
    xnano_sim_free(sim);
}
