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

use xnano::nano::WireLatency;
use xnano::nano::{Client, ClientConfig, ClientEvent, StreamStats};

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
    stats: Option<StreamStats>,
    wire: Option<WireLatency>,
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
    let wire = client.wire_latency();
    let stats = client.stop().expect("stop");
    let ok = delivered.load(Ordering::Relaxed) == frames
        && stats.frames_lost == 0
        && !bad.load(Ordering::Relaxed);
    Trial {
        ok,
        achieved_pps: count(&d) as f64 / send_time.as_secs_f64(),
        stats: Some(stats),
        wire: Some(wire),
        allocs_per_packet: allocs_used as f64 / count(&d) as f64,
    }
}

/// One bare-drain trial at `pps`: the same sender, a receiver that only
/// counts datagrams on a socket set up as the engine's, with the best drain
/// the kernel offers (`recvmmsg`, 64 datagrams per call).
fn drain_trial(pps: f64, dgrams: &[Vec<Vec<u8>>]) -> Trial {
    let rx = xnano::nano::bind_udp("127.0.0.1:0".parse().unwrap(), client_cfg().udp_recv_buffer)
        .unwrap();
    let to = rx.local_addr().unwrap();
    let n = count(dgrams) as u64;
    let counter = std::thread::spawn(move || drain_batched(&rx, n, Duration::from_millis(300)).0);
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
        wire: None,
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
        wire: None,
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
    let wire = client.wire_latency();
    let stats = client.stop().unwrap();
    drop(d);
    println!(
        "{}",
        serde_json::json!({
            "wire_frames": wire.frames,
            "wire_p50": wire.p50_ns as f64 / 1000.0,
            "wire_p99": wire.p99_ns as f64 / 1000.0,
            "wire_max": wire.max_ns as f64 / 1000.0,
            "peak_rss_kib": peak_rss_kib(),
            "rss_before_stream_kib": rss_before,
            "frames": stats.frames_delivered,
            "sent": frames,
            "p50": stats.latency_p50_ns as f64 / 1000.0,
            "p99": stats.latency_p99_ns as f64 / 1000.0,
        })
    );
}

// ------------------------------------------------------------ rows 5..9

/// Engine threads' CPU against a bare batched drain for the same real-time
/// datagrams: ms of CPU per second of stream.
struct Cpu {
    engine_ms: f64,
    drain_ms: f64,
    delivered: u64,
    frames: u64,
    drained: u64,
    packets: u64,
    mbit: f64,
}

fn cpu_row(scale: usize) -> Cpu {
    let secs = if quick() { 1.0 } else { 5.0 };
    let frames = (60.0 * secs) as u64;
    let blaster = Blaster::bind();
    let delivered = Arc::new(AtomicU64::new(0));
    let d2 = delivered.clone();
    let handler = Box::new(move |e: &ClientEvent| {
        if let ClientEvent::VideoFrame(_) = e {
            d2.fetch_add(1, Ordering::Relaxed);
        }
    });
    let client = Client::connect(blaster.tcp_addr, blaster.udp_addr, client_cfg(), handler)
        .expect("connect");
    let mut s = blaster.accept();
    let d = s.build_scaled(0, frames, scale);
    let packets = count(&d) as u64;
    let bytes: usize = d.iter().flatten().map(Vec::len).sum();
    let pps = packets as f64 / secs;
    std::thread::sleep(Duration::from_millis(50));
    let c0 = threads_cpu_ns(NANO_THREADS);
    s.send(&d, pps);
    let end = Instant::now() + Duration::from_millis(500);
    while delivered.load(Ordering::Relaxed) < frames && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(2));
    }
    let engine_ns = threads_cpu_ns(NANO_THREADS) - c0;
    client.stop().expect("stop");
    drop(s);

    let rx = xnano::nano::bind_udp("127.0.0.1:0".parse().unwrap(), client_cfg().udp_recv_buffer)
        .unwrap();
    let to = rx.local_addr().unwrap();
    let h = std::thread::Builder::new()
        .name("bare-drain".into())
        .spawn(move || {
            let c0 = thread_cpu_ns();
            let (got, _) = drain_batched(&rx, packets, Duration::from_millis(300));
            (got, thread_cpu_ns() - c0)
        })
        .unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let _ = socket2::SockRef::from(&tx).set_send_buffer_size(8 << 20);
    std::thread::sleep(Duration::from_millis(20));
    send_paced(&tx, to, &d, pps);
    let (drained, drain_ns) = h.join().unwrap();
    Cpu {
        engine_ms: engine_ns as f64 / 1e6 / secs,
        drain_ms: drain_ns as f64 / 1e6 / secs,
        delivered: delivered.load(Ordering::Relaxed),
        frames,
        drained,
        packets,
        mbit: bytes as f64 * 8.0 / secs / 1e6,
    }
}

/// Wake-ups per second of an idle connected Nano session (the simulated
/// console gone silent, sockets open) and of an idle connected SmartGlass
/// session, over the same window.
fn idle_row() -> (f64, f64, f64) {
    use xnano_sim::nano::{Host, SimConfig, VideoMode};
    let secs = if quick() { 2.0 } else { 10.0 };
    let sim = Host::start(SimConfig {
        video: VideoMode::Synthetic {
            seed: 1,
            min_len: 2_000,
            max_len: 4_000,
        },
        ..SimConfig::default()
    })
    .expect("simulator");
    let frames = Arc::new(AtomicU64::new(0));
    let f2 = frames.clone();
    let handler = Box::new(move |e: &ClientEvent| {
        if let ClientEvent::VideoFrame(_) = e {
            f2.fetch_add(1, Ordering::Relaxed);
        }
    });
    let cfg = ClientConfig {
        silence_timeout: Duration::from_secs(120),
        ..client_cfg()
    };
    let client = Client::connect(sim.tcp_addr(), sim.udp_addr(), cfg, handler).expect("connect");
    let end = Instant::now() + Duration::from_secs(10);
    while frames.load(Ordering::Relaxed) == 0 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(5));
    }
    sim.set_silent(true);
    let console = xnano_sim::smartglass::Host::start(Default::default()).expect("console");
    let sg =
        xnano::smartglass::Client::connect(console.addr(), Default::default(), Box::new(|_| {}))
            .expect("smartglass connect");
    std::thread::sleep(Duration::from_millis(500));
    let (n0, s0) = (
        threads_wakeups(NANO_THREADS),
        threads_wakeups(&["xnano-sg-"]),
    );
    let t0 = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    let (n1, s1) = (
        threads_wakeups(NANO_THREADS),
        threads_wakeups(&["xnano-sg-"]),
    );
    let el = t0.elapsed().as_secs_f64();
    let closed = client.is_closed();
    let _ = client.stop();
    let _ = sg.disconnect();
    assert!(!closed, "idle nano session closed");
    (
        (n1 - n0) as f64 / el,
        (s1 - s0) as f64 / el,
        frames.load(Ordering::Relaxed) as f64,
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Time from `Client::connect` to the first video frame against the
/// simulator (ms, median of runs): with synthetic frames (the handshakes
/// alone) and with its OpenH264 test pattern (plus the encoder's start-up
/// and first frame); and SmartGlass `smartglass::Client::connect` (discovery,
/// key exchange, connect).
fn connect_row() -> (f64, f64, f64) {
    use xnano_sim::nano::{Host, SimConfig, VideoMode};
    let runs = if quick() { 2 } else { 5 };
    let first_frame = |video: VideoMode| -> f64 {
        let mut v = Vec::new();
        for _ in 0..runs {
            let sim = Host::start(SimConfig {
                video: video.clone(),
                ..SimConfig::default()
            })
            .expect("simulator");
            let (tx, rx) = crossbeam_channel::bounded::<Instant>(1);
            let handler = Box::new(move |e: &ClientEvent| {
                if let ClientEvent::VideoFrame(_) = e {
                    let _ = tx.try_send(Instant::now());
                }
            });
            let t0 = Instant::now();
            let client =
                Client::connect(sim.tcp_addr(), sim.udp_addr(), client_cfg(), handler).unwrap();
            let t1 = rx
                .recv_timeout(Duration::from_secs(20))
                .expect("first frame");
            v.push((t1 - t0).as_secs_f64() * 1e3);
            let _ = client.stop();
        }
        median(v)
    };
    let synthetic = first_frame(VideoMode::Synthetic {
        seed: 2,
        min_len: 20_000,
        max_len: 40_000,
    });
    let pattern = first_frame(VideoMode::TestPattern);
    let mut sg = Vec::new();
    for _ in 0..runs {
        let console = xnano_sim::smartglass::Host::start(Default::default()).expect("console");
        let t0 = Instant::now();
        let c = xnano::smartglass::Client::connect(
            console.addr(),
            Default::default(),
            Box::new(|_| {}),
        )
        .expect("smartglass connect");
        sg.push(t0.elapsed().as_secs_f64() * 1e3);
        let _ = c.disconnect();
    }
    (synthetic, pattern, median(sg))
}

/// A binding receiving real-time 1080p60 in a child process: (CPU ms per
/// second of stream, frames received, frames sent), or an error text.
/// CPU ms per second of stream, frames received, frames sent; or why not.
type BindingRun = Result<(f64, u64, u64), String>;

fn binding_row(mut cmd: Command) -> BindingRun {
    let secs = if quick() { 1.0 } else { 5.0 };
    let frames = (60.0 * secs) as u64;
    let blaster = Blaster::bind();
    let mut child = cmd
        .arg("127.0.0.1")
        .arg(blaster.tcp_addr.port().to_string())
        .arg(blaster.udp_addr.port().to_string())
        .arg(frames.to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    // `accept` gives up (panics) when no client completes the set-up.
    let accepted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| blaster.accept()));
    let Ok(mut s) = accepted else {
        let _ = child.kill();
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        return Err(String::from_utf8_lossy(&out.stderr)
            .chars()
            .take(300)
            .collect());
    };
    let d = s.build(0, frames);
    std::thread::sleep(Duration::from_millis(50));
    s.send(&d, count(&d) as f64 / secs);
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    drop(s);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).map_err(|_| {
        String::from_utf8_lossy(&out.stderr)
            .chars()
            .take(300)
            .collect::<String>()
    })?;
    let cpu = v["cpu_s"].as_f64().unwrap_or(0.0);
    let wall = v["wall_s"].as_f64().unwrap_or(1.0).max(1e-9);
    Ok((cpu / wall * 1e3, v["frames"].as_u64().unwrap_or(0), frames))
}

/// The directory of the bench's own libxnano.so (the cdylib cargo built
/// beside it).
fn cdylib_dir() -> std::path::PathBuf {
    std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf()
}

fn python_cmd(mode: &str) -> Command {
    let py = std::env::var("XNANO_BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut c = Command::new(py);
    c.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/bindings/python_delivery.py"
    ))
    .env(
        "PYTHONPATH",
        concat!(env!("CARGO_MANIFEST_DIR"), "/bindings/python/src"),
    )
    .env("XNANO_LIB", cdylib_dir().join("libxnano.so"));
    c.env_remove("XNANO_SIM_LIB");
    // The mode goes last but one: the row's arguments follow.
    c.arg(mode);
    c
}

/// Compiles the C# binding and the delivery program with mcs; the command
/// runs it under mono.
fn csharp_cmd() -> Result<Command, String> {
    let dir = std::env::temp_dir().join(format!("xnano-bench-cs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let root = env!("CARGO_MANIFEST_DIR");
    let mut srcs: Vec<_> = std::fs::read_dir(format!("{root}/bindings/csharp/src"))
        .map_err(|e| e.to_string())?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "cs"))
        .collect();
    srcs.sort();
    let dll = dir.join("Xnano.dll");
    let out = Command::new("mcs")
        .args(["-nologo", "-optimize+", "-target:library"])
        .arg(format!("-out:{}", dll.display()))
        .args(&srcs)
        .output()
        .map_err(|e| format!("mcs: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(300)
            .collect());
    }
    let exe = dir.join("CsharpDelivery.exe");
    let out = Command::new("mcs")
        .args(["-nologo", "-optimize+", "-target:exe"])
        .arg(format!("-r:{}", dll.display()))
        .arg(format!("-out:{}", exe.display()))
        .arg(format!("{root}/benches/bindings/CsharpDelivery.cs"))
        .output()
        .map_err(|e| format!("mcs: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stdout)
            .chars()
            .take(300)
            .collect());
    }
    let mut c = Command::new("mono");
    c.arg(exe).env("LD_LIBRARY_PATH", cdylib_dir());
    Ok(c)
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
    eprintln!("row 5: CPU per second of real-time 1080p60 and 4K60 ...");
    let cpu1080 = cpu_row(1);
    let cpu4k = cpu_row(5);
    eprintln!("row 6: wake-ups of idle sessions ...");
    let (idle_nano, idle_sg, _) = idle_row();
    eprintln!("row 7: connect to first frame ...");
    let (conn_syn, conn_pattern, conn_sg) = connect_row();
    eprintln!("row 8: bindings ...");
    let py: Vec<(&str, BindingRun)> = ["callback", "view", "pull"]
        .iter()
        .map(|m| (*m, binding_row(python_cmd(m))))
        .collect();
    let cs = csharp_cmd().and_then(binding_row);

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
        "| 2 | loopback UDP, highest lossless video rate | {:.0} packets/s = {:.0} Mbit/s | bare UDP drain (recvmmsg, 64 per call): {:.0} packets/s = {:.0} Mbit/s | {:.2} (target ≥ 0.95) |",
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
    if let Some(w) = &engine_best.wire {
        println!(
            "| 3 | latency kernel receive timestamp of the last datagram → start of the callback, at the highest lossless rate ({} frames) | p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs | | |",
            w.frames,
            w.p50_ns as f64 / 1000.0,
            w.p99_ns as f64 / 1000.0,
            w.max_ns as f64 / 1000.0
        );
    }
    let p99_rt = c["wire_p99"].as_f64().unwrap_or(f64::NAN);
    println!(
        "| 3 | latency kernel receive timestamp → start of the callback, real-time 1080p60 ({} frames) | p50 {} µs, p99 {} µs, max {} µs | target p99 ≤ 100 µs | {} |",
        c["wire_frames"],
        c["wire_p50"],
        c["wire_p99"],
        c["wire_max"],
        if p99_rt <= 100.0 {
            "met".to_string()
        } else {
            format!("missed by {:.0} µs", p99_rt - 100.0)
        }
    );
    println!(
        "| 4 | memory: peak RSS of a 1080p60 session process (incl. the bench's pre-built packets) | {} KiB | | |",
        c["peak_rss_kib"]
    );
    println!(
        "| 4 | heap allocations per packet, steady state | in process: {:.4}; engine over loopback: {:.4} | | |",
        r1.allocs_per_packet, engine_best.allocs_per_packet
    );
    for (label, r) in [("1080p60 20 Mbit/s", &cpu1080), ("4K60 100 Mbit/s", &cpu4k)] {
        println!(
            "| 5 | CPU (user + sys) per second of a real-time {label} stream ({:.0} Mbit/s, {} datagrams; {} of {} frames, drain {} of {}) | engine threads: {:.1} ms/s | bare drain (recvmmsg) of the same datagrams: {:.1} ms/s | {:.2} (target ≤ 1.3) |",
            r.mbit, r.packets, r.delivered, r.frames, r.drained, r.packets, r.engine_ms, r.drain_ms,
            r.engine_ms / r.drain_ms.max(1e-9)
        );
    }
    println!(
        "| 6 | wake-ups per second of an idle connected session (voluntary context switches over 10 s) | Nano engine threads: {idle_nano:.1}/s; SmartGlass socket thread: {idle_sg:.1}/s | target ≤ 2/s | {} |",
        if idle_nano + idle_sg <= 2.0 { "met" } else { "missed" }
    );
    println!(
        "| 7 | connect call → first video frame, simulator on loopback (median of 5) | {conn_syn:.1} ms (handshakes; synthetic frames) | with the simulator's OpenH264 encoder: {conn_pattern:.1} ms (its start-up and first frame: {:.1} ms); SmartGlass connect (discovery + key exchange + connect): {conn_sg:.1} ms | |",
        conn_pattern - conn_syn
    );
    let show = |r: &BindingRun| match r {
        Ok((ms, got, sent)) => format!("{ms:.1} ms/s ({got} of {sent} frames)"),
        Err(e) => format!("not run: {}", e.replace('|', "/").replace('\n', " ")),
    };
    for (mode, r) in &py {
        let what = match *mode {
            "callback" => "Python, callbacks (`on_video`, bytes copied)",
            "view" => "Python, zero-copy callbacks (`on_video_view`, memoryview)",
            _ => "Python, pull mode (`next_event`)",
        };
        println!(
            "| 8 | bindings: process CPU per second of real-time 1080p60, {what} | {} | Rust engine threads (row 5): {:.1} ms/s | {} |",
            show(r),
            cpu1080.engine_ms,
            r.as_ref().map(|(ms, _, _)| format!("{:.1}x", ms / cpu1080.engine_ms.max(1e-9))).unwrap_or_default()
        );
    }
    println!(
        "| 8 | bindings: process CPU per second of real-time 1080p60, C# (Mono), `VideoFrameReceived` | {} | Rust engine threads (row 5): {:.1} ms/s | {} |",
        show(&cs),
        cpu1080.engine_ms,
        cs.as_ref().map(|(ms, _, _)| format!("{:.1}x", ms / cpu1080.engine_ms.max(1e-9))).unwrap_or_default()
    );
    println!();
    println!(
        "row 1: {} packets timed; row 2: {} packets per trial at most",
        r1.packets, max_pkts
    );
}
