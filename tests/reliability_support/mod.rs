//! Helpers of the reliability tests (`tests/soak.rs`, `tests/hostile.rs`):
//! a client whose event handler checks every delivered frame against what
//! the simulated console sent, process memory readings, and a TCP proxy
//! that can reset the connection.
#![allow(dead_code)]

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use xnano::nano::{Client, ClientConfig, ClientEvent, CloseReason};
use xnano_sim::media::verify_synthetic_info;
use xnano_sim::nano::{Host, VideoMode};

/// A synthetic (self-verifying) video source.
pub fn synthetic(seed: u64, min_len: usize, max_len: usize) -> VideoMode {
    VideoMode::Synthetic {
        seed,
        min_len,
        max_len,
    }
}

/// What the checking handler saw. Every delivered frame is compared with the
/// simulator's log of sent frames and with its own checksum as it arrives, so
/// nothing has to be kept.
#[derive(Default)]
pub struct Checked {
    /// Frames delivered.
    pub delivered: AtomicU64,
    /// Bytes delivered.
    pub bytes: AtomicU64,
    /// Delivered frames that differ from the frame sent under their id, fail
    /// their checksum, or carry the wrong keyframe flag.
    pub corrupt: AtomicU64,
    /// Delivered frames no longer (or never) in the simulator's log.
    pub unverifiable: AtomicU64,
    /// Frames delivered out of id order (or twice).
    pub out_of_order: AtomicU64,
    /// Loss reports.
    pub losses: AtomicU64,
    /// Frames reported lost, summed over the ranges.
    pub frames_reported_lost: AtomicU64,
    /// Frames delivered right after a loss report that were not keyframes.
    pub non_key_after_loss: AtomicU64,
    /// Keyframes delivered.
    pub keyframes: AtomicU64,
    /// Audio packets delivered.
    pub audio: AtomicU64,
    /// Events that came after `Closed`.
    pub after_close: AtomicU64,
    /// Why the session ended, if it did.
    pub closed: Mutex<Option<CloseReason>>,
    /// Frames delivered per 500 ms since the client started.
    pub per_half_second: Mutex<Vec<u64>>,
    state: Mutex<(Option<u32>, bool)>,
    start: Mutex<Option<Instant>>,
}

impl Checked {
    /// Frames delivered at or after `from` seconds into the run.
    pub fn delivered_since(&self, from: f64) -> u64 {
        let v = self.per_half_second.lock();
        let first = (from * 2.0) as usize;
        v.iter().skip(first).sum()
    }

    /// The close reason as text ("" while open).
    pub fn closed_text(&self) -> String {
        self.closed
            .lock()
            .as_ref()
            .map(|r| r.to_string())
            .unwrap_or_default()
    }

    /// A checker whose delivery clock starts now.
    pub fn started() -> Arc<Checked> {
        let c = Arc::new(Checked::default());
        *c.start.lock() = Some(Instant::now());
        c
    }

    /// Checks and counts one event (call it from the client's handler).
    pub fn on_event(&self, sim: &Host, e: &ClientEvent) {
        if self.closed.lock().is_some() {
            self.after_close.fetch_add(1, Ordering::Relaxed);
        }
        match e {
            ClientEvent::VideoFrame(f) => {
                self.delivered.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(f.data.len() as u64, Ordering::Relaxed);
                if f.keyframe {
                    self.keyframes.fetch_add(1, Ordering::Relaxed);
                }
                {
                    let start = *self.start.lock().get_or_insert_with(Instant::now);
                    let slot = (start.elapsed().as_millis() / 500) as usize;
                    let mut v = self.per_half_second.lock();
                    if v.len() <= slot {
                        v.resize(slot + 1, 0);
                    }
                    v[slot] += 1;
                }
                {
                    let mut st = self.state.lock();
                    if let Some(prev) = st.0 {
                        if (f.frame_id.wrapping_sub(prev) as i32) <= 0 {
                            self.out_of_order.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    if st.1 && !f.keyframe {
                        self.non_key_after_loss.fetch_add(1, Ordering::Relaxed);
                    }
                    *st = (Some(f.frame_id), false);
                }
                let ok_self = verify_synthetic_info(&f.data)
                    .map(|i| i.keyframe == f.keyframe)
                    .unwrap_or(false);
                match sim.sent_frame(f.frame_id) {
                    None => {
                        self.unverifiable.fetch_add(1, Ordering::Relaxed);
                        if !ok_self {
                            self.corrupt.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Some(s) => {
                        if !ok_self || s.data != f.data || s.keyframe != f.keyframe {
                            self.corrupt.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
            ClientEvent::FramesLost { first, last } => {
                self.losses.fetch_add(1, Ordering::Relaxed);
                self.frames_reported_lost
                    .fetch_add(u64::from(last.wrapping_sub(*first)) + 1, Ordering::Relaxed);
                self.state.lock().1 = true;
            }
            ClientEvent::Audio(_) => {
                self.audio.fetch_add(1, Ordering::Relaxed);
            }
            ClientEvent::Closed(r) => {
                *self.closed.lock() = Some(r.clone());
            }
            _ => {}
        }
    }
}

/// Connects a client to `sim` whose handler checks every frame (see [`Checked`]).
pub fn checked_client(sim: &Arc<Host>, cfg: ClientConfig) -> (Client, Arc<Checked>) {
    let checked = Checked::started();
    let c2 = checked.clone();
    let s2 = sim.clone();
    let handler = Box::new(move |e: &ClientEvent| c2.on_event(&s2, e));
    let client =
        Client::connect(sim.tcp_addr(), sim.udp_addr(), cfg, handler).expect("client connects");
    (client, checked)
}

/// Polls `f` every 10 ms until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

/// A field of /proc/self/status in KiB (Linux), e.g. "VmRSS" or "VmHWM".
pub fn proc_status_kib(field: &str) -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with(field) && l[field.len()..].starts_with(':'))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

/// Soak duration per case: `XNANO_SOAK_SECS`, default `default`.
pub fn soak_secs(default: u64) -> u64 {
    std::env::var("XNANO_SOAK_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .unwrap_or(default)
}

/// A TCP proxy for one connection between a client and `upstream`, which
/// can end the client's side with a reset (RST), as a crashed console or a
/// middlebox would.
pub struct ResetProxy {
    addr: SocketAddr,
    kill: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ResetProxy {
    /// Listens on an ephemeral loopback port.
    pub fn start(upstream: SocketAddr) -> ResetProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let kill = Arc::new(AtomicBool::new(false));
        let k = kill.clone();
        listener.set_nonblocking(true).expect("nonblocking");
        let thread = std::thread::spawn(move || {
            let down = loop {
                if k.load(Ordering::SeqCst) {
                    return;
                }
                match listener.accept() {
                    Ok((s, _)) => break s,
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            };
            down.set_nonblocking(false).expect("blocking");
            let up = TcpStream::connect(upstream).expect("proxy connects upstream");
            // Closing with linger 0 sends RST instead of FIN.
            socket2::SockRef::from(&down)
                .set_linger(Some(Duration::ZERO))
                .expect("linger");
            for s in [&down, &up] {
                s.set_read_timeout(Some(Duration::from_millis(20))).ok();
                s.set_nodelay(true).ok();
            }
            let pump = |mut from: TcpStream, mut to: TcpStream, kill: Arc<AtomicBool>| {
                std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 * 1024];
                    while !kill.load(Ordering::SeqCst) {
                        match from.read(&mut buf) {
                            Ok(0) => break,
                            Ok(n) => {
                                if to.write_all(&buf[..n]).is_err() {
                                    break;
                                }
                            }
                            Err(e)
                                if matches!(
                                    e.kind(),
                                    ErrorKind::WouldBlock | ErrorKind::TimedOut
                                ) => {}
                            Err(_) => break,
                        }
                    }
                })
            };
            let a = pump(
                down.try_clone().expect("clone"),
                up.try_clone().expect("clone"),
                k.clone(),
            );
            let b = pump(
                up.try_clone().expect("clone"),
                down.try_clone().expect("clone"),
                k.clone(),
            );
            let _ = a.join();
            let _ = b.join();
            let _ = up.shutdown(Shutdown::Both);
            // `down` and its clones are dropped here: RST to the client.
        });
        ResetProxy {
            addr,
            kill,
            thread: Some(thread),
        }
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Resets the client's connection (and closes the upstream one).
    pub fn reset(&mut self) {
        self.kill.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ResetProxy {
    fn drop(&mut self) {
        self.kill.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
