//! ABI 1: the version, fixed-width enums, struct growth, frees that never
//! fail and the promises of stop/free under races (issue: the boundary,
//! sound and versioned).

use std::ffi::c_void;
use std::mem::{align_of, offset_of, size_of};
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::client::*;
use super::console::*;
use super::tests::{last_error, new_client, ok, ports, start_sim, wait_until};
use super::xnano_result::*;
use super::*;
use ::xnano_sim::ffi::*;

#[test]
fn abi_version_is_the_headers() {
    assert_eq!(xnano_abi_version(), XNANO_ABI_VERSION);
    assert_eq!(size_of::<xnano_result>(), 4);
    assert_eq!(size_of::<client::xnano_state>(), 4);
    assert_eq!(size_of::<console::xnano_console_state>(), 4);
    assert_eq!(size_of::<logging::xnano_log_level>(), 4);
}

fn check_fields<T: Growable>(name: &str) {
    let f = T::fields();
    assert_eq!(f[0], (0, 4), "{name}: struct_size must come first");
    for w in f.windows(2) {
        assert!(w[1].0 >= w[0].1, "{name}: fields out of order");
        assert!(
            w[1].0 - w[0].1 < align_of::<T>(),
            "{name}: a gap of {} bytes at {}: a field is missing from its growable! list",
            w[1].0 - w[0].1,
            w[0].1
        );
    }
    let end = f.last().unwrap().1;
    assert_eq!(
        end.div_ceil(align_of::<T>()) * align_of::<T>(),
        size_of::<T>(),
        "{name}: its growable! list stops before the end"
    );
}

#[test]
fn every_growable_struct_lists_all_its_fields() {
    check_fields::<xnano_client_config>("xnano_client_config");
    check_fields::<xnano_client_stats>("xnano_client_stats");
    check_fields::<xnano_controller_state>("xnano_controller_state");
    check_fields::<xnano_console_config>("xnano_console_config");
    check_fields::<xnano_console_info>("xnano_console_info");
    check_fields::<xnano_gamepad>("xnano_gamepad");
    check_fields::<xnano_sim_config>("xnano_sim_config");
    check_fields::<xnano_sim_stats>("xnano_sim_stats");
}

/// The first fields of xnano_client_stats, as a caller built against an
/// older header would have them, followed by bytes that must stay as they
/// are.
#[repr(C)]
struct OldStats {
    struct_size: u32,
    frames_delivered: u64,
    frames_dropped: u64,
    tail: [u8; 64],
}

#[repr(C)]
struct OldConfig {
    struct_size: u32,
    video_width: u32,
    video_height: u32,
    tail: [u8; 64],
}

#[test]
fn an_older_caller_with_smaller_structs_keeps_working() {
    // Writing: only the fields inside struct_size, which then says how much
    // was written.
    let mut old = OldConfig {
        struct_size: offset_of!(OldConfig, tail) as u32,
        video_width: 7,
        video_height: 7,
        tail: [0xAA; 64],
    };
    ok(xnano_client_config_default(
        (&mut old as *mut OldConfig).cast(),
    ));
    assert_eq!(old.video_width, XNANO_ANY);
    assert_eq!(old.video_height, XNANO_ANY);
    assert_eq!(old.struct_size as usize, offset_of!(OldConfig, tail));
    assert!(
        old.tail.iter().all(|&b| b == 0xAA),
        "wrote past struct_size"
    );

    // Reading: fields beyond struct_size take their defaults (the tail's
    // 0xAA would be a 2.8 G event queue and a 2.8 s timeout).
    old.video_width = 320;
    let mut c = ptr::null_mut();
    ok(xnano_client_new((&old as *const OldConfig).cast(), &mut c));
    let sim = start_sim();
    let (t, u) = ports(sim);
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    let mut ev = ptr::null_mut();
    assert_eq!(
        xnano_client_next_event(c, 0, &mut ev),
        XNANO_ERR_WRONG_STATE,
        "the queue capacity came from beyond struct_size"
    );
    // Stats into the old, smaller struct.
    assert!(wait_until(30, || {
        let mut s = OldStats {
            struct_size: offset_of!(OldStats, tail) as u32,
            frames_delivered: 0,
            frames_dropped: 0,
            tail: [0x55; 64],
        };
        ok(xnano_client_get_stats(c, (&mut s as *mut OldStats).cast()));
        assert!(
            s.tail.iter().all(|&b| b == 0x55),
            "stats wrote past struct_size"
        );
        assert_eq!(s.struct_size as usize, offset_of!(OldStats, tail));
        s.frames_delivered >= 3
    }));
    // A newer caller's bigger struct: the library writes what it knows and
    // says so.
    #[repr(C)]
    struct Newer {
        stats: xnano_client_stats,
        future: [u8; 16],
    }
    let mut n = Newer {
        stats: xnano_client_stats::default(),
        future: [0x33; 16],
    };
    n.stats.struct_size = size_of::<Newer>() as u32;
    ok(xnano_client_get_stats(c, &mut n.stats));
    assert_eq!(
        n.stats.struct_size as usize,
        size_of::<xnano_client_stats>()
    );
    assert!(n.future.iter().all(|&b| b == 0x33));
    assert!(n.stats.frames_delivered >= 3);
    xnano_client_free(c);
    xnano_sim_free(sim);
}

#[test]
fn a_struct_size_not_set_is_refused() {
    let mut cfg = xnano_client_config {
        struct_size: 0,
        ..Default::default()
    };
    assert_eq!(
        xnano_client_config_default(&mut cfg),
        XNANO_ERR_INVALID_ARGUMENT
    );
    assert!(last_error().contains("struct_size"), "{}", last_error());
    let mut c = ptr::null_mut();
    assert_eq!(xnano_client_new(&cfg, &mut c), XNANO_ERR_INVALID_ARGUMENT);
    assert!(c.is_null());
    let mut s = xnano_console_info {
        struct_size: 3,
        ..Default::default()
    };
    assert_eq!(
        xnano_sim_console_info(ptr::null(), &mut s),
        XNANO_ERR_NULL,
        "the handle is checked first"
    );
}

/// Callbacks counted, with the moment the promising calls returned.
struct Counter {
    calls: AtomicU64,
    /// Set (after both stops returned): a callback now is a broken promise.
    promised: AtomicBool,
    late: AtomicU64,
}

unsafe extern "C" fn count_frame(ud: *mut c_void, _f: *const xnano_video_frame) {
    // SAFETY: `ud` is the test's Counter, alive until after the stops.
    let c = unsafe { &*(ud as *const Counter) };
    c.calls.fetch_add(1, Ordering::SeqCst);
    if c.promised.load(Ordering::SeqCst) {
        c.late.fetch_add(1, Ordering::SeqCst);
    }
    // A slow callback widens the window in which a stop is joining.
    std::thread::sleep(Duration::from_millis(2));
}

unsafe extern "C" fn count_state(
    ud: *mut c_void,
    _s: xnano_state,
    _e: xnano_result,
    _m: *const std::ffi::c_char,
) {
    // SAFETY: as above.
    let c = unsafe { &*(ud as *const Counter) };
    if c.promised.load(Ordering::SeqCst) {
        c.late.fetch_add(1, Ordering::SeqCst);
    }
}

/// Two `xnano_client_stop` at once (a UI thread and a C# Dispose): neither
/// may return while a callback can still run. The stop that came second
/// used to see the client already stopped and return at once, while the
/// first was still joining the threads.
#[test]
fn two_stops_at_once_both_wait_for_the_threads() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let mut late_total = 0;
    for round in 0..12 {
        let counter = Arc::new(Counter {
            calls: AtomicU64::new(0),
            promised: AtomicBool::new(false),
            late: AtomicU64::new(0),
        });
        let c = new_client(None);
        let ud = Arc::as_ptr(&counter) as *mut c_void;
        ok(xnano_client_set_video_callback(c, Some(count_frame), ud));
        ok(xnano_client_set_state_callback(c, Some(count_state), ud));
        ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
        assert!(wait_until(30, || counter.calls.load(Ordering::SeqCst) >= 2));
        let addr = c as usize;
        let barrier = Arc::new(std::sync::Barrier::new(2));
        let stops: Vec<_> = (0..2)
            .map(|_| {
                let (b, k) = (barrier.clone(), counter.clone());
                std::thread::spawn(move || {
                    b.wait();
                    let r = xnano_client_stop(addr as *mut xnano_client);
                    // This stop returned: from now on no callback may run.
                    k.promised.store(true, Ordering::SeqCst);
                    r
                })
            })
            .collect();
        for s in stops {
            assert_eq!(s.join().unwrap(), XNANO_OK);
        }
        std::thread::sleep(Duration::from_millis(20));
        late_total += counter.late.load(Ordering::SeqCst);
        xnano_client_free(c);
        assert_eq!(
            counter.late.load(Ordering::SeqCst),
            0,
            "round {round}: a callback ran after a stop returned"
        );
    }
    assert_eq!(late_total, 0);
    xnano_sim_free(sim);
}

unsafe extern "C" fn free_in_frame(ud: *mut c_void, _f: *const xnano_video_frame) {
    // SAFETY: `ud` is the test's FreeRec, alive for the whole test.
    let r = unsafe { &*(ud as *const FreeRec) };
    let n = r.frames.fetch_add(1, Ordering::SeqCst);
    if r.freed.load(Ordering::SeqCst) {
        r.after_free.fetch_add(1, Ordering::SeqCst);
    }
    if n == 3 {
        xnano_client_free(r.client.load(Ordering::SeqCst) as *mut xnano_client);
        r.freed.store(true, Ordering::SeqCst);
    }
}

unsafe extern "C" fn state_after_free(
    ud: *mut c_void,
    _s: xnano_state,
    _e: xnano_result,
    _m: *const std::ffi::c_char,
) {
    // SAFETY: as above.
    let r = unsafe { &*(ud as *const FreeRec) };
    if r.freed.load(Ordering::SeqCst) {
        r.after_free.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Default)]
struct FreeRec {
    client: AtomicU64,
    frames: AtomicU64,
    freed: AtomicBool,
    after_free: AtomicU64,
}

/// Freed inside its own video callback: the call returns (no error to
/// handle), nothing is called back afterwards, and the library releases
/// the client: the console sees the session end.
#[test]
fn free_inside_the_callback_detaches_and_releases() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let rec = Box::new(FreeRec::default());
    let ud = &*rec as *const FreeRec as *mut c_void;
    let c = new_client(None);
    rec.client.store(c as usize as u64, Ordering::SeqCst);
    ok(xnano_client_set_video_callback(c, Some(free_in_frame), ud));
    ok(xnano_client_set_state_callback(
        c,
        Some(state_after_free),
        ud,
    ));
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    assert!(wait_until(30, || rec.freed.load(Ordering::SeqCst)));
    // The session is released: the simulated console sees its client go.
    assert!(
        wait_until(30, || {
            let mut st = xnano_sim_stats::default();
            ok(xnano_sim_get_stats(sim, &mut st));
            st.clients_accepted >= 1 && !st.client_connected
        }),
        "the freed client's session never ended"
    );
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(rec.after_free.load(Ordering::SeqCst), 0);
    xnano_sim_free(sim);
}

unsafe extern "C" fn count_console_event(ud: *mut c_void, _e: *const xnano_console_event) {
    // SAFETY: `ud` is the test's Counter, alive until after the calls.
    let c = unsafe { &*(ud as *const Counter) };
    c.calls.fetch_add(1, Ordering::SeqCst);
    if c.promised.load(Ordering::SeqCst) {
        c.late.fetch_add(1, Ordering::SeqCst);
    }
    // A slow callback: the connecting thread is still delivering what it
    // held back when the disconnect would return.
    std::thread::sleep(Duration::from_millis(10));
}

/// `xnano_console_disconnect` while `xnano_console_connect` runs on another
/// thread: the events the connect held back (CLOSED among them) used to be
/// delivered on the connecting thread after disconnect had returned. Now
/// the disconnect waits, and a connect it cancelled called nothing back.
#[test]
fn disconnect_during_connect_calls_nothing_back_after_it_returns() {
    let sim = start_sim();
    let mut port = 0u16;
    ok(xnano_sim_smartglass_port(sim, &mut port));
    let addr = std::ffi::CString::new(format!("127.0.0.1:{port}")).unwrap();
    // (connect won, connect cancelled, disconnect before the connect)
    let mut outcomes = (0, 0, 0);
    for round in 0..16u64 {
        let counter = Arc::new(Counter {
            calls: AtomicU64::new(0),
            promised: AtomicBool::new(false),
            late: AtomicU64::new(0),
        });
        let mut con = ptr::null_mut();
        ok(xnano_console_new(&mut con));
        let ud = Arc::as_ptr(&counter) as *mut c_void;
        ok(xnano_console_set_event_callback(
            con,
            Some(count_console_event),
            ud,
        ));
        let (h, a) = (con as usize, addr.clone());
        let connect = std::thread::spawn(move || {
            xnano_console_connect(h as *mut xnano_console, a.as_ptr(), ptr::null())
        });
        let k = counter.clone();
        let disconnect = std::thread::spawn(move || {
            // From "before the connect got anywhere" to "after it returned".
            std::thread::sleep(Duration::from_millis(round * 4));
            let r = xnano_console_disconnect(h as *mut xnano_console);
            k.promised.store(true, Ordering::SeqCst);
            r
        });
        let rc = connect.join().unwrap();
        assert_eq!(disconnect.join().unwrap(), XNANO_OK);
        match rc {
            XNANO_OK => outcomes.0 += 1,
            XNANO_ERR_CLOSED => {
                outcomes.1 += 1;
                assert_eq!(
                    counter.calls.load(Ordering::SeqCst),
                    0,
                    "round {round}: a cancelled connect called back"
                );
            }
            r => panic!("round {round}: connect gave {r:?}: {}", last_error()),
        }
        std::thread::sleep(Duration::from_millis(30));
        let mut state = xnano_console_state::XNANO_CONSOLE_STATE_IDLE;
        ok(xnano_console_get_state(con, &mut state));
        if state == xnano_console_state::XNANO_CONSOLE_STATE_CONNECTED {
            // The disconnect came first (it found nothing to do) and the
            // connect after it: that session is new, its events are not
            // late.
            assert_eq!(rc, XNANO_OK);
            outcomes.2 += 1;
        } else {
            assert_eq!(
                counter.late.load(Ordering::SeqCst),
                0,
                "round {round}: an event was delivered after disconnect returned"
            );
        }
        xnano_console_free(con);
    }
    println!(
        "connect first: {}, cancelled: {}, disconnect first: {}",
        outcomes.0, outcomes.1, outcomes.2
    );
    assert!(outcomes.0 + outcomes.1 > 0, "no round raced the two calls");
    xnano_sim_free(sim);
}

/// A stop with nothing to do (the client is already stopped) leaves other
/// threads' calls alone: stats stay readable throughout (a binding's
/// Dispose racing a Stop read WRONG_STATE here).
#[test]
fn a_stop_with_nothing_to_do_disturbs_no_other_call() {
    let sim = start_sim();
    let (t, u) = ports(sim);
    let c = new_client(None);
    ok(xnano_client_connect_nano(c, c"127.0.0.1".as_ptr(), t, u));
    ok(xnano_client_stop(c));
    let addr = c as usize;
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let stopper = std::thread::spawn(move || {
        for _ in 0..50_000 {
            ok(xnano_client_stop(addr as *mut xnano_client));
        }
        d.store(true, Ordering::SeqCst);
    });
    let mut reads = 0u64;
    while !done.load(Ordering::SeqCst) {
        let mut s = xnano_client_stats::default();
        let r = xnano_client_get_stats(c, &mut s);
        assert_eq!(r, XNANO_OK, "stats during a no-op stop: {}", last_error());
        reads += 1;
    }
    stopper.join().unwrap();
    assert!(reads > 0);
    xnano_client_free(c);
    xnano_sim_free(sim);
}
