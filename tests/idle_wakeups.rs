//! An idle connected session must not wake its threads: the engines block
//! until there is work or a protocol deadline instead of polling a flag
//! (which cost ~20 wake-ups per second per thread with a 50 ms poll).
//! Counted as voluntary context switches of the engine's threads
//! (/proc/self/task/*/status) over 2 s of an idle session against the
//! simulator. Linux only (/proc, and `poll` is what the engines wait in).
//! In its own test binary: the thread names must be this process's only
//! engine threads.

#![cfg(target_os = "linux")]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use xnano::nano::{Client, ClientConfig, ClientEvent};
use xnano::smartglass::{self, ConnectOptions, Event};
use xnano_sim::nano::{Host as NanoHost, SimConfig as NanoSimConfig, VideoMode};
use xnano_sim::smartglass::{Host as ConsoleHost, SimConfig as ConsoleSimConfig};

/// Voluntary context switches of this process's threads whose name starts
/// with one of `prefixes`, by thread id.
fn switches(prefixes: &[&str]) -> Vec<(String, u64)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let dir = e.unwrap().path();
        let Ok(name) = std::fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        let name = name.trim().to_string();
        if !prefixes.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let n = status
            .lines()
            .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
            .and_then(|x| x.trim().parse().ok())
            .unwrap_or(0);
        v.push((format!("{name}/{}", dir.display()), n));
    }
    v.sort();
    v
}

fn total(v: &[(String, u64)]) -> u64 {
    v.iter().map(|(_, n)| n).sum()
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The wake-ups of `prefixes` threads during `idle`.
fn wakeups_over(prefixes: &[&str], idle: Duration) -> (u64, Vec<(String, u64)>) {
    let before = switches(prefixes);
    assert!(!before.is_empty(), "no engine thread found");
    std::thread::sleep(idle);
    let after = switches(prefixes);
    let n = total(&after).saturating_sub(total(&before));
    (n, after)
}

#[test]
fn idle_sessions_do_not_wake_their_threads() {
    // Nano: stream until a frame arrived, then the console goes silent
    // (sockets open, nothing sent) well within the silence timeout.
    let sim = NanoHost::start(NanoSimConfig {
        video: VideoMode::Synthetic {
            seed: 3,
            min_len: 2_000,
            max_len: 4_000,
        },
        ..NanoSimConfig::default()
    })
    .unwrap();
    let frames = Arc::new(AtomicU64::new(0));
    let f2 = frames.clone();
    let handler = Box::new(move |e: &ClientEvent| {
        if let ClientEvent::VideoFrame(_) = e {
            f2.fetch_add(1, Ordering::SeqCst);
        }
    });
    let cfg = ClientConfig {
        silence_timeout: Duration::from_secs(60),
        ..ClientConfig::default()
    };
    let client = Client::connect(sim.tcp_addr(), sim.udp_addr(), cfg, handler).unwrap();
    wait_until("the first frame", || frames.load(Ordering::SeqCst) > 0);
    sim.set_silent(true);
    // Let what was in flight arrive and its deadlines (defrag timeouts)
    // pass.
    std::thread::sleep(Duration::from_millis(300));
    let idle = Duration::from_secs(2);
    let (n, per_thread) = wakeups_over(&["xnano-tcp-", "xnano-udp-", "xnano-timer"], idle);
    eprintln!("nano: {n} wake-ups of the engine threads in {idle:?}: {per_thread:?}");
    // A 50 ms poll in each of the four threads gives ~160.
    assert!(
        n < 16,
        "nano engine threads woke {n} times in {idle:?} of an idle session"
    );
    assert!(!client.is_closed());
    client.stop().unwrap();

    // SmartGlass: a connected console that sends nothing between
    // heartbeats (every 3 s, so at most one falls into the 2 s).
    let console = ConsoleHost::start(ConsoleSimConfig::default()).unwrap();
    let handler = Box::new(|_: &Event| {});
    let sg =
        smartglass::Client::connect(console.addr(), ConnectOptions::default(), handler).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (n, per_thread) = wakeups_over(&["xnano-sg-"], idle);
    eprintln!("smartglass: {n} wake-ups of the socket thread in {idle:?}: {per_thread:?}");
    // A 50 ms poll gives ~40.
    assert!(
        n < 10,
        "smartglass socket thread woke {n} times in {idle:?} of an idle session"
    );
    sg.disconnect().unwrap();
}
