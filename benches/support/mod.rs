//! Shared pieces of the benchmarks: a 1080p60-like stream through an
//! in-memory session pair, and a Nano host on real sockets that blasts
//! pre-built video datagrams at a given rate.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use xnano::nano::{ClientConfig, ClientEvent};
use xnano_sim::media::EncodedFrame;
use xnano_sim::nano::{HostConfig, HostSession};
use xnano_sim::pair::SessionPair;

/// Payload bytes per video datagram (about 1400, as consoles send).
pub const CHUNK: usize = 1400;

/// The host configuration of a 1080p60 stream with 1400-byte chunks.
pub fn host_1080p() -> HostConfig {
    HostConfig {
        width: 1920,
        height: 1080,
        fps: 60,
        chunk_size: CHUNK,
        telemetry_interval: None,
        seed: Some(7),
        frame_log_len: 0,
        ..HostConfig::default()
    }
}

/// The client configuration used by the benchmarks: the defaults.
pub fn client_cfg() -> ClientConfig {
    let mut c = ClientConfig::default();
    // `XNANO_BENCH_RCVBUF=BYTES` measures another UDP receive buffer.
    if let Some(n) = std::env::var("XNANO_BENCH_RCVBUF")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        c.udp_recv_buffer = n;
    }
    c
}

/// Frame `i` of the stream: about 40 KB (36..44 KB), a 120 KB keyframe
/// every 120 frames.
pub fn frame(i: u64) -> EncodedFrame {
    let keyframe = i.is_multiple_of(120);
    let len = frame_len(i);
    let mut data = vec![0u8; len];
    for (k, b) in data.iter_mut().enumerate().step_by(61) {
        *b = (k as u64 ^ i) as u8;
    }
    EncodedFrame {
        data,
        keyframe,
        index: i,
        pts_us: i * 16_667,
    }
}

/// The length of frame `i`.
pub fn frame_len(i: u64) -> usize {
    if i.is_multiple_of(120) {
        120_000
    } else {
        36_000 + ((i * 7919) % 8_000) as usize
    }
}

/// An established in-memory client/host pair streaming 1080p60.
pub fn pair_1080p() -> SessionPair {
    let now = Instant::now();
    let mut p = SessionPair::new(client_cfg(), host_1080p(), now);
    p.establish(now).expect("in-memory set-up");
    while p.client.poll_event().is_some() {}
    p
}

/// Builds the datagrams of frames `first..first + n` from the pair's host.
pub fn datagrams(p: &mut SessionPair, first: u64, n: u64) -> Vec<Vec<u8>> {
    frames_of(p, first, n).into_iter().flatten().collect()
}

/// The datagrams of frames `first..first + n`, grouped by frame.
pub fn frames_of(p: &mut SessionPair, first: u64, n: u64) -> Vec<Vec<Vec<u8>>> {
    host_frames(&mut p.host, first, n)
}

/// Pushes frames `first..first + n` through `host` and takes the datagrams
/// it sends, grouped by frame.
fn host_frames(host: &mut HostSession, first: u64, n: u64) -> Vec<Vec<Vec<u8>>> {
    host_frames_scaled(host, first, n, 1)
}

/// As [`host_frames`] with every frame `scale` times as long (5: a 4K60
/// stream of ~100 Mbit/s).
fn host_frames_scaled(
    host: &mut HostSession,
    first: u64,
    n: u64,
    scale: usize,
) -> Vec<Vec<Vec<u8>>> {
    let now = Instant::now();
    let mut out = Vec::new();
    for i in first..first + n {
        let mut f = frame(i);
        if scale > 1 {
            let len = f.data.len() * scale;
            f.data = f.data.iter().copied().cycle().take(len).collect();
        }
        assert!(host.push_video_frame(&f, now));
        let mut f = Vec::new();
        while let Some((b, _)) = host.poll_udp_transmit() {
            f.push(b);
        }
        out.push(f);
    }
    out
}

/// Feeds datagrams to the client the way the engine does (clock read once
/// per batch of 32), delivering and recycling every frame. Returns the
/// number of frames delivered.
pub fn feed(p: &mut SessionPair, dgrams: &[Vec<u8>], mut on_frame: impl FnMut(u32, &[u8])) -> u64 {
    let mut frames = 0;
    for batch in dgrams.chunks(32) {
        let now = Instant::now();
        for d in batch {
            p.client.handle_udp(d, now);
        }
        while let Some(e) = p.client.poll_event() {
            if let ClientEvent::VideoFrame(f) = e {
                on_frame(f.frame_id, &f.data);
                frames += 1;
                p.client.recycle_frame(f.data);
            }
        }
    }
    frames
}

/// A Nano host on real loopback sockets for one client: it completes the
/// set-up with the [`HostSession`], then sends pre-built video datagrams at
/// a given rate.
pub struct Blaster {
    /// Host TCP address (give it to the client).
    pub tcp_addr: SocketAddr,
    /// Host UDP address.
    pub udp_addr: SocketAddr,
    listener: TcpListener,
    udp: UdpSocket,
}

/// The host side after set-up.
pub struct Streaming {
    host: HostSession,
    udp: UdpSocket,
    to: SocketAddr,
    stop: Arc<AtomicBool>,
    tcp_thread: Option<JoinHandle<()>>,
}

impl Blaster {
    /// Binds the host sockets.
    pub fn bind() -> Blaster {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        let _ = socket2::SockRef::from(&udp).set_send_buffer_size(8 << 20);
        Blaster {
            tcp_addr: listener.local_addr().unwrap(),
            udp_addr: udp.local_addr().unwrap(),
            listener,
            udp,
        }
    }

    /// Accepts the client and runs the set-up until video streams.
    pub fn accept(self) -> Streaming {
        let (mut tcp, _) = self.listener.accept().unwrap();
        tcp.set_read_timeout(Some(Duration::from_millis(2)))
            .unwrap();
        self.udp
            .set_read_timeout(Some(Duration::from_millis(2)))
            .unwrap();
        let mut host = HostSession::new(host_1080p(), Instant::now());
        let mut buf = vec![0u8; 65536];
        let deadline = Instant::now() + Duration::from_secs(10);
        while !(host.video_streaming() && host.client_udp_addr().is_some()) {
            assert!(Instant::now() < deadline, "client set-up timed out");
            let now = Instant::now();
            if let Ok(n) = tcp.read(&mut buf) {
                assert!(n > 0, "client closed during set-up");
                let _ = host.handle_tcp(&buf[..n], now);
            }
            if let Ok((n, from)) = self.udp.recv_from(&mut buf) {
                host.handle_udp(&buf[..n], from, now);
            }
            host.handle_timeout(now);
            while let Some(b) = host.poll_tcp_transmit() {
                tcp.write_all(&b).unwrap();
            }
            while let Some((b, to)) = host.poll_udp_transmit() {
                let _ = self.udp.send_to(&b, to);
            }
        }
        let to = host.client_udp_addr().unwrap();
        // From here on the client only sends control messages; drain them.
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        let tcp_thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            while !st.load(Ordering::Relaxed) {
                match tcp.read(&mut buf) {
                    Ok(0) => return,
                    _ => continue,
                }
            }
        });
        Streaming {
            host,
            udp: self.udp,
            to,
            stop,
            tcp_thread: Some(tcp_thread),
        }
    }
}

impl Streaming {
    /// Builds `n` frames of datagrams, grouped by frame.
    pub fn build(&mut self, first: u64, n: u64) -> Vec<Vec<Vec<u8>>> {
        host_frames(&mut self.host, first, n)
    }

    /// As [`Streaming::build`] with frames `scale` times as long.
    pub fn build_scaled(&mut self, first: u64, n: u64, scale: usize) -> Vec<Vec<Vec<u8>>> {
        host_frames_scaled(&mut self.host, first, n, scale)
    }

    /// The client's UDP address.
    pub fn client_addr(&self) -> SocketAddr {
        self.to
    }

    /// Sends the frames to the client at `pps` packets per second.
    pub fn send(&self, dgrams: &[Vec<Vec<u8>>], pps: f64) {
        send_paced(&self.udp, self.to, dgrams, pps);
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.tcp_thread.take() {
            let _ = t.join();
        }
    }
}

/// Sends `frames` to `to`, paced to `pps` packets per second on average;
/// each frame's chunks go back to back, as a console sends them.
pub fn send_paced(sock: &UdpSocket, to: SocketAddr, frames: &[Vec<Vec<u8>>], pps: f64) {
    let t0 = Instant::now();
    let mut sent = 0usize;
    for f in frames {
        let due = t0 + Duration::from_secs_f64(sent as f64 / pps);
        loop {
            let now = Instant::now();
            if now >= due {
                break;
            }
            if due - now > Duration::from_micros(200) {
                std::thread::sleep(due - now - Duration::from_micros(100));
            } else {
                std::hint::spin_loop();
            }
        }
        for d in f {
            while let Err(e) = sock.send_to(d, to) {
                if e.kind() != std::io::ErrorKind::WouldBlock {
                    panic!("send: {e}");
                }
            }
        }
        sent += f.len();
    }
}

/// Total datagrams in `frames`.
pub fn count(frames: &[Vec<Vec<u8>>]) -> usize {
    frames.iter().map(Vec::len).sum()
}

/// CPU time (user + sys, ns: the scheduler's run time of
/// /proc/self/task/*/schedstat) of this process's threads whose name starts
/// with one of `prefixes`.
pub fn threads_cpu_ns(prefixes: &[&str]) -> u64 {
    let mut total = 0;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    for e in dir.flatten() {
        let p = e.path();
        let Ok(name) = std::fs::read_to_string(p.join("comm")) else {
            continue;
        };
        if !prefixes.iter().any(|x| name.trim().starts_with(x)) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(p.join("schedstat")) {
            total += s
                .split_whitespace()
                .next()
                .and_then(|x| x.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// Voluntary context switches of this process's threads whose name starts
/// with one of `prefixes`.
pub fn threads_wakeups(prefixes: &[&str]) -> u64 {
    let mut total = 0;
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    for e in dir.flatten() {
        let p = e.path();
        let Ok(name) = std::fs::read_to_string(p.join("comm")) else {
            continue;
        };
        if !prefixes.iter().any(|x| name.trim().starts_with(x)) {
            continue;
        }
        if let Ok(s) = std::fs::read_to_string(p.join("status")) {
            total += s
                .lines()
                .find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"))
                .and_then(|x| x.trim().parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    total
}

/// The best drain the kernel offers: `recvmmsg` of up to 64 datagrams per
/// call, blocking for the first (`MSG_WAITFORONE`). Counts datagrams until
/// `n` arrived or nothing came for `idle`; returns (datagrams, bytes).
#[cfg(target_os = "linux")]
pub fn drain_batched(rx: &UdpSocket, n: u64, idle: Duration) -> (u64, u64) {
    use std::os::fd::AsRawFd;
    const B: usize = 64;
    const SLOT: usize = 65536;
    rx.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut bufs = vec![0u8; B * SLOT];
    let mut iovs: Vec<libc::iovec> = (0..B)
        .map(|i| libc::iovec {
            iov_base: bufs[i * SLOT..].as_mut_ptr().cast(),
            iov_len: SLOT,
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = (0..B)
        .map(|i| {
            // SAFETY: plain data; all zeroes is valid.
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_iov = &mut iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    let (mut got, mut bytes) = (0u64, 0u64);
    let mut last = Instant::now();
    while got < n {
        // SAFETY: headers point into buffers owned by this function.
        let r = unsafe {
            libc::recvmmsg(
                rx.as_raw_fd(),
                hdrs.as_mut_ptr(),
                B as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            )
        };
        if r > 0 {
            got += r as u64;
            bytes += hdrs[..r as usize]
                .iter()
                .map(|h| h.msg_len as u64)
                .sum::<u64>();
            last = Instant::now();
        } else if last.elapsed() > idle {
            break;
        }
    }
    std::hint::black_box(&bufs);
    (got, bytes)
}

/// Elsewhere: one `recv_from` per datagram.
#[cfg(not(target_os = "linux"))]
pub fn drain_batched(rx: &UdpSocket, n: u64, idle: Duration) -> (u64, u64) {
    rx.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut buf = vec![0u8; 65536];
    let (mut got, mut bytes) = (0u64, 0u64);
    let mut last = Instant::now();
    while got < n {
        match rx.recv_from(&mut buf) {
            Ok((k, _)) => {
                got += 1;
                bytes += k as u64;
                last = Instant::now();
            }
            Err(_) if last.elapsed() > idle => break,
            Err(_) => {}
        }
    }
    (got, bytes)
}

/// The names of the Nano engine's threads (the simulator's are
/// `xnano-sim-*`).
pub const NANO_THREADS: &[&str] = &["xnano-tcp-", "xnano-udp-", "xnano-timer"];

/// CPU time of the calling thread, ns.
pub fn thread_cpu_ns() -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut t) };
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}

/// CPU time (user + sys) of this whole process, ns.
pub fn process_cpu_ns() -> u64 {
    // SAFETY: a valid rusage to fill.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    let tv = |t: libc::timeval| t.tv_sec as u64 * 1_000_000_000 + t.tv_usec as u64 * 1000;
    tv(r.ru_utime) + tv(r.ru_stime)
}
