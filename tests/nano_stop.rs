//! Stopping a streaming client: prompt, joins every thread, and no callback
//! fires afterwards. In its own test binary so that the thread count of the
//! process is not disturbed by other tests.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use xnano::nano::{Client, ClientConfig, ClientEvent};
use xnano_sim::nano::{Host, SimConfig, VideoMode};

fn thread_names() -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc/self/task").unwrap() {
        let p = e.unwrap().path().join("comm");
        if let Ok(s) = std::fs::read_to_string(p) {
            v.push(s.trim().to_string());
        }
    }
    v
}

fn engine_threads() -> usize {
    thread_names()
        .iter()
        .filter(|n| {
            ["xnano-tcp-", "xnano-udp-", "xnano-timer"]
                .iter()
                .any(|p| n.starts_with(p))
        })
        .count()
}

#[test]
fn stop_mid_stream_is_prompt_and_leaves_no_thread() {
    let sim = Host::start(SimConfig {
        video: VideoMode::Synthetic {
            seed: 9,
            min_len: 5_000,
            max_len: 40_000,
        },
        ..SimConfig::default()
    })
    .unwrap();
    let before = thread_names().len();
    for round in 0..5 {
        let stopped = Arc::new(AtomicBool::new(false));
        let after_stop = Arc::new(AtomicU64::new(0));
        let frames = Arc::new(AtomicU64::new(0));
        let (s2, a2, f2) = (stopped.clone(), after_stop.clone(), frames.clone());
        let handler = Box::new(move |e: &ClientEvent| {
            if s2.load(Ordering::SeqCst) {
                a2.fetch_add(1, Ordering::SeqCst);
            }
            if let ClientEvent::VideoFrame(_) = e {
                f2.fetch_add(1, Ordering::SeqCst);
                // A slow consumer: stop must not wait for a backlog.
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let client = Client::connect(
            sim.tcp_addr(),
            sim.udp_addr(),
            ClientConfig::default(),
            handler,
        )
        .unwrap();
        // (A new thread sets its name shortly after it starts.)
        let t0 = Instant::now();
        while engine_threads() < 4 && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert_eq!(
            engine_threads(),
            4,
            "tcp read/write, udp read, timer: {:?}",
            thread_names()
        );
        let t0 = Instant::now();
        while frames.load(Ordering::SeqCst) < 20 && t0.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(
            frames.load(Ordering::SeqCst) >= 20,
            "round {round}: stream never ran"
        );
        let t = Instant::now();
        let stats = client.stop().unwrap();
        let took = t.elapsed();
        stopped.store(true, Ordering::SeqCst);
        // Generous bound for a loaded CI machine; the engine polls every 50 ms.
        assert!(took < Duration::from_secs(1), "stop took {took:?}");
        assert!(stats.frames_delivered >= 20);
        assert_eq!(engine_threads(), 0, "threads left: {:?}", thread_names());
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(after_stop.load(Ordering::SeqCst), 0, "callback after stop");
    }
    // Dropping a running client also joins its threads.
    let client = Client::connect(
        sim.tcp_addr(),
        sim.udp_addr(),
        ClientConfig::default(),
        Box::new(|_: &ClientEvent| {}),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    drop(client);
    assert_eq!(engine_threads(), 0);
    // The simulator's threads are the only ones left besides ours.
    assert_eq!(thread_names().len(), before);
}
