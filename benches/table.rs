//! `cargo bench --bench table`: the performance table of the README.
//!
//! 1. Receive path in process (parse, reassemble, deliver a 1080p60 stream
//!    of ~1400-byte chunks and ~40 KB frames): xnano vs the reference Python
//!    implementation (its packer + `VideoChannel.on_data`).
//! 2. End to end over loopback UDP (host → engine → callback): the highest
//!    sustained video rate with no loss, vs a bare UDP drain loop with the
//!    same socket set-up.
//! 3. Frame latency from the last chunk received to the callback, p50 / p99.
//! 4. Memory: peak RSS of a 10 s 1080p60 session, heap allocations per
//!    packet in steady state.
//!
//! Env: `XNANO_BENCH_QUICK=1` shortens every row (for smoke runs),
//! `XNANO_BENCH_PYTHON` names the Python with the reference installed.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::UdpSocket;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use xnano::nano::{Client, ClientEvent, SessionStats};

use support::*;

// ------------------------------------------------------------ allocation counting

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

fn quick() -> bool {
    std::env::var_os("XNANO_BENCH_QUICK").is_some() || !invoked_as_bench()
}

/// `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and
/// then only a short smoke run of row 1 happens.
fn invoked_as_bench() -> bool {
    std::env::args().any(|a| a == "--bench")
}

// ------------------------------------------------------------ row 1

struct Row1 {
    packets: u64,
    ns_per_packet: f64,
    allocs_per_packet: f64,
    py: Option<(u64, f64)>,
}

fn row1() -> Row1 {
    let mut p = pair_1080p();
    let frames_per_batch = if quick() { 120 } else { 600 };
    let batches = if quick() { 3 } else { 10 };
    let mut next = 0u64;
    // Warm-up: buffers reach their steady-state sizes.
    let d = datagrams(&mut p, next, frames_per_batch);
    next += frames_per_batch;
    let mut sink = 0u64;
    feed(&mut p, &d, |_, b| sink += b.len() as u64);
    // Each frame's datagrams are built, then timed through the client while
    // they are in cache, as after `recv` into the engine's buffer. Other
    // processes share the machine: report the fastest batch (each batch is
    // 10 s of stream), as for the reference below.
    let mut best = f64::MAX;
    let mut packets = 0u64;
    let mut alloc_count = 0u64;
    let mut delivered = 0u64;
    for _ in 0..batches {
        let mut batch_time = Duration::ZERO;
        let mut batch_packets = 0u64;
        for _ in 0..frames_per_batch {
            let d = datagrams(&mut p, next, 1);
            next += 1;
            let a0 = allocs();
            let t0 = Instant::now();
            delivered += feed(&mut p, &d, |_, b| sink += b.len() as u64);
            batch_time += t0.elapsed();
            alloc_count += allocs() - a0;
            batch_packets += d.len() as u64;
        }
        best = best.min(batch_time.as_nanos() as f64 / batch_packets as f64);
        packets += batch_packets;
    }
    assert_eq!(
        delivered,
        frames_per_batch * batches,
        "frames lost in process"
    );
    std::hint::black_box(sink);
    let py = reference_row1();
    Row1 {
        packets,
        ns_per_packet: best,
        allocs_per_packet: alloc_count as f64 / packets as f64,
        py,
    }
}

/// Runs the reference implementation over the same kind of packets:
/// returns (packets, seconds) or None when it is not installed.
fn reference_row1() -> Option<(u64, f64)> {
    let mut p = pair_1080p();
    let frames = if quick() { 20 } else { 120 };
    let d = datagrams(&mut p, 0, frames);
    let dir = std::env::temp_dir().join(format!("xnano-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).ok()?;
    let file = dir.join("packets.bin");
    let mut buf = Vec::new();
    for x in &d {
        buf.extend_from_slice(&(x.len() as u32).to_le_bytes());
        buf.extend_from_slice(x);
    }
    std::fs::write(&file, &buf).ok()?;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/reference_receive.py");
    let py = std::env::var("XNANO_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(py).arg(script).arg(&file).output().ok()?;
    let _ = std::fs::remove_dir_all(&dir);
    if !out.status.success() {
        eprintln!(
            "reference run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let frames_out = v["frames"].as_u64()?;
    if frames_out != frames {
        eprintln!("reference delivered {frames_out} of {frames} frames");
    }
    Some((v["packets"].as_u64()?, v["seconds"].as_f64()?))
}

// ------------------------------------------------------------ row 2 and 3

struct Trial {
    ok: bool,
    achieved_pps: f64,
    stats: Option<SessionStats>,
    allocs_per_packet: f64,
}

fn trial_packets(pps: f64) -> u64 {
    let secs = if quick() { 0.25 } else { 0.6 };
    ((pps * secs) as u64).clamp(2_000, 150_000)
}

/// One engine trial at `pps`: a fresh session, ~0.6 s of 1080p video.
fn engine_trial(pps: f64) -> Trial {
    let blaster = Blaster::bind();
    let delivered = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicBool::new(false));
    let (d2, b2) = (delivered.clone(), bad.clone());
    let mut first_id = None;
    let handler = Box::new(move |e: &ClientEvent| {
        if let ClientEvent::VideoFrame(f) = e {
            // Frames 0.. are sent; check each arrives whole and in order.
            let first = *first_id.get_or_insert(f.frame_id);
            let i = u64::from(f.frame_id.wrapping_sub(first));
            if f.data.len() != frame_len(i) || i != d2.load(Ordering::Relaxed) {
                b2.store(true, Ordering::Relaxed);
            }
            d2.fetch_add(1, Ordering::Relaxed);
        }
    });
    let client = Client::connect(blaster.tcp_addr, blaster.udp_addr, client_cfg(), handler)
        .expect("connect");
    let mut s = blaster.accept();
    // Let the set-up traffic settle.
    std::thread::sleep(Duration::from_millis(50));
    let frames = (trial_packets(pps) as usize).div_ceil(29) as u64;
    let d = s.build(0, frames);
    let a0 = allocs();
    let t0 = Instant::now();
    s.send(&d, pps);
    let send_time = t0.elapsed();
    let end = Instant::now() + Duration::from_millis(500);
    while delivered.load(Ordering::Relaxed) < frames && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(2));
    }
    let allocs_used = allocs() - a0;
    let stats = client.stop().expect("stop");
    let ok = delivered.load(Ordering::Relaxed) == frames
        && stats.frames_lost == 0
        && !bad.load(Ordering::Relaxed);
    Trial {
        ok,
        achieved_pps: count(&d) as f64 / send_time.as_secs_f64(),
        stats: Some(stats),
        allocs_per_packet: allocs_used as f64 / count(&d) as f64,
    }
}

/// One bare-drain trial at `pps`: the same sender, a receiver that only
/// counts datagrams on a socket set up as the engine's.
fn drain_trial(pps: f64, dgrams: &[Vec<Vec<u8>>]) -> Trial {
    let rx =
        xnano::nano::engine::bind_udp("127.0.0.1:0".parse().unwrap(), client_cfg().udp_recv_buffer)
            .unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let to = rx.local_addr().unwrap();
    let n = count(dgrams) as u64;
    let counter = std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        let mut got = 0u64;
        let mut idle_since = Instant::now();
        loop {
            match rx.recv_from(&mut buf) {
                Ok(_) => {
                    got += 1;
                    idle_since = Instant::now();
                    if got == n {
                        return got;
                    }
                }
                Err(_) => {
                    if idle_since.elapsed() > Duration::from_millis(300) {
                        return got;
                    }
                }
            }
        }
    });
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let _ = socket2::SockRef::from(&tx).set_send_buffer_size(8 << 20);
    let t0 = Instant::now();
    send_paced(&tx, to, dgrams, pps);
    let send_time = t0.elapsed();
    let got = counter.join().unwrap();
    Trial {
        ok: got == n,
        achieved_pps: n as f64 / send_time.as_secs_f64(),
        stats: None,
        allocs_per_packet: 0.0,
    }
}

/// Highest lossless rate: doubling from 20k packets/s, then bisection.
/// Returns (best achieved pps, the best trial).
fn search(mut run_once: impl FnMut(f64) -> Trial) -> (f64, Trial) {
    // Other processes share the machine: a rate passes when one of two
    // trials at it is lossless.
    let mut run = |r: f64| {
        let t = run_once(r);
        if t.ok {
            t
        } else {
            run_once(r)
        }
    };
    let mut lo = 0.0f64;
    let mut best: Option<Trial> = None;
    let mut hi = None;
    let mut r = 20_000.0;
    while r <= 3_200_000.0 {
        let t = run(r);
        if t.ok {
            lo = r;
            let sender_limited = t.achieved_pps < 0.9 * r;
            best = Some(t);
            if sender_limited {
                // The sender cannot go faster: this is the ceiling.
                hi = Some(r);
                break;
            }
            r *= 2.0;
        } else {
            hi = Some(r);
            break;
        }
    }
    if let Some(mut h) = hi {
        let steps = if quick() { 1 } else { 4 };
        for _ in 0..steps {
            if h <= lo * 1.05 {
                break;
            }
            let mid = (lo + h) / 2.0;
            let t = run(mid);
            if t.ok {
                lo = mid;
                best = Some(t);
            } else {
                h = mid;
            }
        }
    }
    let best = best.unwrap_or(Trial {
        ok: false,
        achieved_pps: 0.0,
        stats: None,
        allocs_per_packet: 0.0,
    });
    (best.achieved_pps, best)
}

// ------------------------------------------------------------ row 4

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// Child mode: a 10 s real-time 1080p60 session; prints peak RSS (KiB),
/// frames, p50 and p99 latency (µs) as JSON.
fn child_session() {
    let secs = if quick() { 2.0 } else { 10.0 };
    let blaster = Blaster::bind();
    let handler = Box::new(|_: &ClientEvent| {});
    let client =
        Client::connect(blaster.tcp_addr, blaster.udp_addr, client_cfg(), handler).unwrap();
    let mut s = blaster.accept();
    let frames = (60.0 * secs) as u64;
    let d = s.build(0, frames);
    let pps = count(&d) as f64 / secs;
    let rss_before = peak_rss_kib().unwrap_or(0);
    s.send(&d, pps);
    std::thread::sleep(Duration::from_millis(200));
    let stats = client.stop().unwrap();
    drop(d);
    println!(
        "{}",
        serde_json::json!({
            "peak_rss_kib": peak_rss_kib(),
            "rss_before_stream_kib": rss_before,
            "frames": stats.frames_delivered,
            "sent": frames,
            "p50": stats.latency_p50_ns as f64 / 1000.0,
            "p99": stats.latency_p99_ns as f64 / 1000.0,
        })
    );
}

fn main() {
    if std::env::var_os("XNANO_BENCH_CHILD").is_some() {
        child_session();
        return;
    }
    eprintln!("row 1: receive path in process ...");
    let r1 = row1();
    if std::env::var_os("XNANO_BENCH_ROW1_ONLY").is_some() || !invoked_as_bench() {
        println!("row 1: {:.1} ns/packet", r1.ns_per_packet);
        return;
    }
    eprintln!("row 2: engine over loopback ...");
    let (engine_pps, engine_best) = search(engine_trial);
    eprintln!("row 2: bare UDP drain ...");
    let mut p = pair_1080p();
    let max_pkts = trial_packets(3_200_000.0);
    let dgrams = frames_of(&mut p, 0, max_pkts.div_ceil(29));
    let (drain_pps, _) = search(|pps| {
        let n = (trial_packets(pps) as usize).div_ceil(29);
        drain_trial(pps, &dgrams[..n.min(dgrams.len())])
    });
    drop(dgrams);
    drop(p);
    eprintln!("row 3/4: 1080p60 real-time session in a child process ...");
    let exe = std::env::current_exe().unwrap();
    let child = Command::new(exe)
        .arg("--bench")
        .env("XNANO_BENCH_CHILD", "1")
        .output()
        .expect("child");
    let c: serde_json::Value = serde_json::from_slice(&child.stdout).unwrap_or_default();

    let mbit = |pps: f64| pps * CHUNK as f64 * 8.0 / 1e6;
    println!();
    println!("| # | measure | xnano | baseline | ratio |");
    println!("|---|---|---|---|---|");
    let ours_pps = 1e9 / r1.ns_per_packet;
    match r1.py {
        Some((n, secs)) => {
            let py_pps = n as f64 / secs;
            println!(
                "| 1 | receive path in process, 1080p60 (1400 B chunks, ~40 KB frames) | {:.0} packets/s ({:.0} ns/packet) | reference Python: {:.0} packets/s ({:.0} ns/packet) | {:.0}x |",
                ours_pps, r1.ns_per_packet, py_pps, secs * 1e9 / n as f64, ours_pps / py_pps
            );
        }
        None => println!(
            "| 1 | receive path in process, 1080p60 | {:.0} packets/s ({:.0} ns/packet) | reference Python not available | - |",
            ours_pps, r1.ns_per_packet
        ),
    }
    println!(
        "| 2 | loopback UDP, highest lossless video rate | {:.0} packets/s = {:.0} Mbit/s | bare UDP drain: {:.0} packets/s = {:.0} Mbit/s | {:.2} |",
        engine_pps,
        mbit(engine_pps),
        drain_pps,
        mbit(drain_pps),
        engine_pps / drain_pps.max(1.0)
    );
    if let Some(st) = &engine_best.stats {
        println!(
            "| 3 | latency last chunk → callback, at the highest lossless rate | p50 {:.1} µs, p99 {:.1} µs | | |",
            st.latency_p50_ns as f64 / 1000.0,
            st.latency_p99_ns as f64 / 1000.0
        );
    }
    println!(
        "| 3 | latency last chunk → callback, real-time 1080p60 ({} of {} frames) | p50 {} µs, p99 {} µs | | |",
        c["frames"], c["sent"], c["p50"], c["p99"]
    );
    println!(
        "| 4 | memory: peak RSS of a 1080p60 session process (incl. the bench's pre-built packets) | {} KiB | | |",
        c["peak_rss_kib"]
    );
    println!(
        "| 4 | heap allocations per packet, steady state | in process: {:.4}; engine over loopback: {:.4} | | |",
        r1.allocs_per_packet, engine_best.allocs_per_packet
    );
    println!();
    println!(
        "row 1: {} packets timed; row 2: {} packets per trial at most",
        r1.packets, max_pkts
    );
}
