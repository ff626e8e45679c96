//! The Nano client engine: owns the TCP control socket and the UDP data
//! socket and drives a [`ClientSession`] with them.
//!
//! Threads: one reader per socket (TCP control, UDP data), one TCP writer fed
//! through a crossbeam channel, and one timer thread for the session's
//! deadlines (UDP handshake loop, defrag timeouts, input pacing, silence).
//! User callbacks run on the reader and timer threads, never while the
//! session lock is held, so a callback may call back into the [`Client`].
//! [`Client::stop`] joins every thread; after it returns no callback fires.
//!
//! No thread polls: the UDP reader blocks in `poll(2)` on its socket and a
//! self-pipe (on Linux it then takes every queued datagram with one
//! `recvmmsg` and handles the batch under one session lock and one
//! dispatch), the TCP reader in `read`, the writer on its channel, and the
//! timer until the session's next deadline ([`ClientSession::poll_timeout`])
//! or until a thread that moved that deadline earlier wakes it. Stopping
//! wakes them: the writer gets an end marker, the TCP socket is shut down,
//! the self-pipe is written. (Where `poll` is missing the readers fall back
//! to a 50 ms receive timeout.)

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

mod udp_io;
pub(crate) use udp_io::Ready;
#[cfg(unix)]
pub(crate) use udp_io::{wait_readable, Waker};

#[cfg(not(target_os = "linux"))]
use crossbeam_channel::RecvTimeoutError;
use crossbeam_channel::{bounded, unbounded, Receiver, Sender};
use parking_lot::Mutex;
use udp_io::BatchRx;

use xnano_proto::nano::ControllerState;
use xnano_proto::nano::{
    ClientConfig, ClientEvent, ClientSession, CloseReason, StreamState, StreamStats,
};
use xnano_proto::wire::nano::audio::AudioFormat;
use xnano_proto::wire::nano::video::VideoFormat;

/// Errors of the client engine.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A socket operation failed.
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
    /// The call is not allowed in the current state.
    #[error("wrong state: {0}")]
    State(&'static str),
    /// The call was made from inside one of the client's own callbacks where
    /// it would deadlock (stop / drop).
    #[error("cannot {0} from inside a callback of the same client")]
    FromCallback(&'static str),
}

/// The user's event handler. Called on the engine's threads (the UDP reader
/// for video and audio, the TCP reader for control events, the timer thread
/// for losses and timeouts). The event and any data it borrows are valid only
/// during the call.
pub type EventHandler = Box<dyn FnMut(&ClientEvent) + Send>;

/// An event waiting for dispatch, with the kernel's receive timestamp (ns
/// of `CLOCK_REALTIME`) of the datagram that completed it, when known.
type Pending = (ClientEvent, Option<i64>);

struct Shared {
    session: Mutex<ClientSession>,
    handler: Mutex<EventHandler>,
    pending: Mutex<std::collections::VecDeque<Pending>>,
    /// TCP payloads for the writer; `None` tells it to flush and end.
    tcp_tx: Sender<Option<Vec<u8>>>,
    udp: UdpSocket,
    peer_udp: SocketAddr,
    stop: AtomicBool,
    wake: Sender<()>,
    /// The deadline the timer sleeps until, in ns since `epoch`
    /// (`u64::MAX`: none); written and read under the session lock.
    timer_due: AtomicU64,
    /// Linux: the timer thread sleeps on this timerfd, which the other
    /// threads re-arm (one syscall, no wake-up) when the deadline moves.
    #[cfg(target_os = "linux")]
    timerfd: udp_io::TimerFd,
    epoch: Instant,
    #[cfg(unix)]
    udp_waker: Waker,
    thread_ids: Mutex<Vec<ThreadId>>,
    udp_foreign: AtomicU64,
    closed: AtomicBool,
    wire_latency: Mutex<LatencyRing>,
}

/// Samples of the latency from the kernel's receive timestamp of a frame's
/// last datagram to the start of its video callback (the newest
/// [`LATENCY_SAMPLES`]; allocated once).
struct LatencyRing {
    ns: Vec<u64>,
    next: usize,
    total: u64,
}

const LATENCY_SAMPLES: usize = 1 << 16;

/// The latency from the kernel's receive timestamp (`SO_TIMESTAMPNS`) of a
/// frame's last datagram to the start of its video callback: what a player
/// feels of the receive path, the wake-up of the blocked reader and any
/// queueing in front of the callback included. From [`Client::wire_latency`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WireLatency {
    /// Frames measured (all of them since connect).
    pub frames: u64,
    /// Median over the newest 65536 frames, in ns.
    pub p50_ns: u64,
    /// 99th percentile over the newest 65536 frames, in ns.
    pub p99_ns: u64,
    /// Largest over the newest 65536 frames, in ns.
    pub max_ns: u64,
}

/// Binds a UDP socket the way the engine does: a receive buffer of
/// `recv_buffer` bytes (a whole burst of a frame's chunks must fit). The
/// kernel caps `SO_RCVBUF` at `net.core.rmem_max`; when the process may
/// (CAP_NET_ADMIN), `SO_RCVBUFFORCE` lifts that cap.
pub fn bind_udp(bind: SocketAddr, recv_buffer: usize) -> io::Result<UdpSocket> {
    let sock = socket2::Socket::new(
        socket2::Domain::for_address(bind),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    let _ = sock.set_recv_buffer_size(recv_buffer);
    // The kernel reports twice the size it was asked for.
    if sock.recv_buffer_size().unwrap_or(0) < recv_buffer {
        force_recv_buffer(&sock, recv_buffer);
    }
    sock.bind(&bind.into())?;
    Ok(sock.into())
}

#[cfg(target_os = "linux")]
fn force_recv_buffer(sock: &socket2::Socket, size: usize) {
    use std::os::fd::AsRawFd;
    let v = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
    // SAFETY: a valid socket descriptor, a pointer to a c_int and its size.
    let _ = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(not(target_os = "linux"))]
fn force_recv_buffer(_sock: &socket2::Socket, _size: usize) {}

/// A running Nano client.
pub struct Client {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    tcp: TcpStream,
}

/// The receive timeout where a thread cannot block on a waker.
#[cfg_attr(target_os = "linux", allow(dead_code))]
const POLL: Duration = Duration::from_millis(50);

impl Client {
    /// Connects to a Nano host: `tcp` is the host's control port address,
    /// `udp` its data port address. `handler` receives every event.
    pub fn connect(
        tcp: SocketAddr,
        udp: SocketAddr,
        cfg: ClientConfig,
        handler: EventHandler,
    ) -> Result<Client, EngineError> {
        let stream = TcpStream::connect_timeout(&tcp, cfg.connect_timeout)?;
        stream.set_nodelay(true)?;
        let bind: SocketAddr = if udp.is_ipv4() {
            "0.0.0.0:0".parse().expect("literal")
        } else {
            "[::]:0".parse().expect("literal")
        };
        let udp_sock = bind_udp(bind, cfg.udp_recv_buffer)?;
        // Where the readers cannot wait on a waker, they poll with this
        // timeout; on unix it only bounds a receive after readiness.
        #[cfg(not(target_os = "linux"))]
        udp_sock.set_read_timeout(Some(POLL))?;
        #[cfg(not(unix))]
        stream.set_read_timeout(Some(POLL))?;
        udp_io::enable_rx_timestamps(&udp_sock);
        udp_io::enable_gro(&udp_sock);

        let now = Instant::now();
        let session = ClientSession::new(cfg, now);
        let (tcp_tx, tcp_rx) = unbounded::<Option<Vec<u8>>>();
        let (wake_tx, wake_rx) = bounded::<()>(1);
        let shared = Arc::new(Shared {
            session: Mutex::new(session),
            handler: Mutex::new(handler),
            pending: Mutex::new(std::collections::VecDeque::new()),
            tcp_tx,
            udp: udp_sock,
            peer_udp: udp,
            stop: AtomicBool::new(false),
            wake: wake_tx,
            timer_due: AtomicU64::new(u64::MAX),
            #[cfg(target_os = "linux")]
            timerfd: udp_io::TimerFd::new()?,
            epoch: now,
            #[cfg(unix)]
            udp_waker: Waker::new()?,
            thread_ids: Mutex::new(Vec::new()),
            udp_foreign: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            wire_latency: Mutex::new(LatencyRing {
                ns: Vec::with_capacity(LATENCY_SAMPLES),
                next: 0,
                total: 0,
            }),
        });

        let mut threads = Vec::new();
        // A panic inside an engine thread ends the session with an error
        // instead of leaving a half-dead client (or unwinding into C).
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            let sh = shared.clone();
            let tname = name.to_string();
            thread::Builder::new()
                .name(name.to_string())
                .spawn(move || {
                    if let Err(p) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                        let msg =
                            format!("{tname}: {}", xnano_ffi_support::panic_message(p.as_ref()));
                        log::error!("engine thread panicked: {msg}");
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            fail(&sh, CloseReason::Internal { error: msg })
                        }));
                    }
                })
        };
        {
            let sh = shared.clone();
            let mut w = stream.try_clone()?;
            threads.push(spawn(
                "xnano-tcp-write",
                Box::new(move || tcp_writer(&sh, &mut w, tcp_rx)),
            )?);
        }
        {
            let sh = shared.clone();
            let mut r = stream.try_clone()?;
            threads.push(spawn(
                "xnano-tcp-read",
                Box::new(move || tcp_reader(&sh, &mut r)),
            )?);
        }
        {
            let sh = shared.clone();
            threads.push(spawn("xnano-udp-read", Box::new(move || udp_reader(&sh)))?);
        }
        {
            let sh = shared.clone();
            threads.push(spawn("xnano-timer", Box::new(move || timer(&sh, wake_rx)))?);
        }
        *shared.thread_ids.lock() = threads.iter().map(|t| t.thread().id()).collect();
        // The session queued its control handshake; flush it.
        flush_and_dispatch(&shared);
        Ok(Client {
            shared,
            threads,
            tcp: stream,
        })
    }

    fn in_callback(&self) -> bool {
        let me = thread::current().id();
        self.shared.thread_ids.lock().contains(&me)
    }

    /// Runs `f` on the session, then sends what it queued and dispatches
    /// the events it produced.
    fn with_session<T>(&self, f: impl FnOnce(&mut ClientSession, Instant) -> T) -> T {
        let now = Instant::now();
        let out = {
            let mut s = self.shared.session.lock();
            let out = f(&mut s, now);
            drain(&self.shared, &mut s);
            kick_timer(&self.shared, &s);
            out
        };
        dispatch(&self.shared);
        out
    }

    /// Sets the state of controller `n` (0..=3). The first call for a
    /// controller announces it to the console (which then opens Input).
    pub fn set_controller_state(&self, n: u8, state: ControllerState) -> Result<(), EngineError> {
        self.with_session(|s, now| s.set_controller_state(n, state, now))
            .map_err(EngineError::State)
    }

    /// Announces (`true`) or removes (`false`) controller `n`.
    pub fn set_controller_connected(&self, n: u8, connected: bool) -> Result<(), EngineError> {
        self.with_session(|s, now| s.set_controller_connected(n, connected, now))
            .map_err(EngineError::State)
    }

    /// Asks the console for a keyframe.
    pub fn request_keyframe(&self) -> Result<(), EngineError> {
        self.with_session(|s, now| s.request_keyframe(now))
            .map_err(EngineError::State)
    }

    /// Sends a Change Video Quality control message (six values, meaning
    /// undocumented; see docs/protocol.md#control-protocol-messages).
    pub fn change_video_quality(&self, q: [u32; 6]) -> Result<(), EngineError> {
        self.with_session(|s, _| s.change_video_quality(q))
            .map_err(EngineError::State)
    }

    /// Sends one encoded microphone packet on ChatAudio.
    pub fn send_chat_audio(&self, data: &[u8]) -> Result<(), EngineError> {
        self.with_session(|s, now| s.send_chat_audio(data, now))
            .map_err(EngineError::State)
    }

    /// The statistics so far.
    pub fn stats(&self) -> StreamStats {
        // Copy under the lock, sort outside it: other threads (the readers,
        // the user's own calls) must not wait for the percentiles.
        let (mut st, samples) = {
            let s = self.shared.session.lock();
            (s.stats_without_latency(), s.latency_samples())
        };
        xnano_proto::nano::apply_latency(&mut st, samples);
        st.udp_foreign_packets = self.shared.udp_foreign.load(Ordering::Relaxed);
        st
    }

    /// The latency from the kernel's receive timestamp of each frame's last
    /// datagram to the start of its video callback; `frames` is 0 where the
    /// kernel gives no timestamps (outside Linux).
    pub fn wire_latency(&self) -> WireLatency {
        let (mut v, frames) = {
            let r = self.shared.wire_latency.lock();
            (r.ns.clone(), r.total)
        };
        if v.is_empty() {
            return WireLatency::default();
        }
        v.sort_unstable();
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        WireLatency {
            frames,
            p50_ns: at(0.5),
            p99_ns: at(0.99),
            max_ns: v[v.len() - 1],
        }
    }

    /// Ends the session with `reason` without joining the threads (allowed
    /// from inside a callback): the `Closed` event follows, then only
    /// [`Client::stop`] or drop remain useful.
    pub fn abort(&self, reason: CloseReason) {
        self.with_session(|s, now| s.fail(reason, now));
    }

    /// Where the session is (read from the session itself: a state may be
    /// reached a moment before the handler is given its event).
    pub fn state(&self) -> StreamState {
        self.shared.session.lock().state()
    }

    /// The video format the stream uses, once the video handshake chose it.
    pub fn video_format(&self) -> Option<VideoFormat> {
        self.shared.session.lock().video_format().cloned()
    }

    /// The audio format the stream uses, once the audio handshake chose it.
    pub fn audio_format(&self) -> Option<AudioFormat> {
        self.shared.session.lock().audio_format().cloned()
    }

    /// True once the session has ended and the handler has been given the
    /// `Closed` event (so what the handler recorded about it can be read).
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Stops the stream (video/audio stop, channel close), closes the sockets
    /// and joins every thread. After it returns no callback fires. Calling it
    /// from inside this client's callback is an error (it would deadlock).
    pub fn stop(mut self) -> Result<StreamStats, EngineError> {
        if self.in_callback() {
            return Err(EngineError::FromCallback("stop"));
        }
        Ok(self.shutdown())
    }

    fn shutdown(&mut self) -> StreamStats {
        if self.threads.is_empty() {
            return self.stats();
        }
        {
            let now = Instant::now();
            let mut s = self.shared.session.lock();
            s.stop(now);
            drain(&self.shared, &mut s);
        }
        // Let the writer flush what stop queued, then wake and end
        // everything: the TCP reader by the shutdown, the UDP reader by its
        // waker, the timer by its channel.
        self.shared.stop.store(true, Ordering::Release);
        let _ = self.shared.tcp_tx.send(None);
        let mut threads = self.threads.drain(..);
        if let Some(writer) = threads.next() {
            let _ = writer.join();
        }
        let _ = self.tcp.shutdown(Shutdown::Both);
        wake_all(&self.shared);
        for t in threads {
            let _ = t.join();
        }
        self.stats()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.in_callback() {
            self.shutdown();
        } else {
            // Dropped inside its own callback: signal the threads; they end by
            // themselves (they hold their own references). The writer
            // flushes, then shuts the socket down; the reader wakes now.
            self.shared.stop.store(true, Ordering::Release);
            let _ = self.shared.tcp_tx.send(None);
            let _ = self.tcp.shutdown(Shutdown::Read);
            wake_all(&self.shared);
            self.threads.clear();
        }
    }
}

fn wake_all(sh: &Shared) {
    #[cfg(unix)]
    sh.udp_waker.wake();
    #[cfg(target_os = "linux")]
    {
        // Under the lock: the timer's own re-arm cannot overwrite this one
        // unseen (it checks the stop flag after arming).
        let _s = sh.session.lock();
        sh.timerfd.arm(Some(Duration::ZERO));
    }
    #[cfg(target_os = "linux")]
    udp_io::shutdown_read(&sh.udp);
    let _ = sh.wake.try_send(());
}

/// Wakes the timer when the session's next deadline moved before the one it
/// sleeps until (call under the session lock, after the session changed).
#[cfg(target_os = "linux")]
fn kick_timer(sh: &Shared, s: &ClientSession) {
    arm_timer(sh, s.poll_timeout(), false);
}

/// Re-arms the timerfd for `next` (under the session lock) when it moved
/// earlier, or later by more than 2 ms (so that the timer does not wake for
/// a deadline that went away, e.g. a frame's defrag timeout once the frame
/// is complete); `force` arms whatever it was.
#[cfg(target_os = "linux")]
fn arm_timer(sh: &Shared, next: Option<Instant>, force: bool) {
    const SLACK_NS: u64 = 2_000_000;
    // Once stopping, the at-once expiry `wake_all` armed must stand: a later
    // re-arm (a closed session has no deadline: disarm) would leave the
    // timer thread asleep for good. Both run under the session lock, and the
    // stop flag is set before `wake_all` takes it.
    if sh.stop.load(Ordering::Acquire) {
        return;
    }
    let due = next.map_or(u64::MAX, |t| since_epoch(sh, t));
    let armed = sh.timer_due.load(Ordering::Relaxed);
    let moved = due < armed || (armed != u64::MAX && due > armed.saturating_add(SLACK_NS));
    if force || moved {
        sh.timer_due.store(due, Ordering::Relaxed);
        sh.timerfd
            .arm(next.map(|t| t.saturating_duration_since(Instant::now())));
    }
}

#[cfg(not(target_os = "linux"))]
fn kick_timer(sh: &Shared, s: &ClientSession) {
    if let Some(t) = s.poll_timeout() {
        if since_epoch(sh, t) < sh.timer_due.load(Ordering::Relaxed) {
            // Marks it as handled until the timer sleeps again.
            sh.timer_due.store(0, Ordering::Relaxed);
            let _ = sh.wake.try_send(());
        }
    }
}

fn since_epoch(sh: &Shared, t: Instant) -> u64 {
    u64::try_from(t.saturating_duration_since(sh.epoch).as_nanos()).unwrap_or(u64::MAX - 1)
}

fn drain(sh: &Shared, s: &mut ClientSession) {
    drain_transmits(sh, s);
    drain_events(sh, s, None);
}

fn drain_transmits(sh: &Shared, s: &mut ClientSession) {
    while let Some(b) = s.poll_tcp_transmit() {
        let _ = sh.tcp_tx.send(Some(b));
    }
    while let Some(b) = s.poll_udp_transmit() {
        let _ = sh.udp.send_to(&b, sh.peer_udp);
        s.recycle_udp(b);
    }
}

/// Events go to the shared queue while the session lock is held, so events
/// from different threads are delivered in the order the session produced
/// them (e.g. a loss report before the keyframe that follows it). `rx_ts`
/// is the receive timestamp of the datagram just handled.
fn drain_events(sh: &Shared, s: &mut ClientSession, rx_ts: Option<i64>) {
    if let Some(e) = s.poll_event() {
        let mut q = sh.pending.lock();
        q.push_back((e, rx_ts));
        while let Some(e) = s.poll_event() {
            q.push_back((e, rx_ts));
        }
    }
}

fn record_wire_latency(sh: &Shared, ns: u64) {
    let mut r = sh.wire_latency.lock();
    r.total += 1;
    if r.ns.len() < LATENCY_SAMPLES {
        r.ns.push(ns);
    } else {
        let i = r.next;
        r.ns[i] = ns;
        r.next = (i + 1) % LATENCY_SAMPLES;
    }
}

thread_local! {
    static IN_DISPATCH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Hands events to the user's handler, in order. Events produced by a call
/// the handler itself makes (re-entrancy) are queued and delivered by the
/// outer dispatch once the handler returns.
fn dispatch(sh: &Shared) {
    if sh.pending.lock().is_empty() {
        return;
    }
    if IN_DISPATCH.with(|f| f.get()) {
        return;
    }
    IN_DISPATCH.with(|f| f.set(true));
    {
        let mut h = sh.handler.lock();
        loop {
            let Some((e, rx_ts)) = sh.pending.lock().pop_front() else {
                break;
            };
            // Latency: from the frame's last chunk to the callback, and
            // from the kernel's receive timestamp of that chunk.
            let latency = match &e {
                ClientEvent::VideoFrame(f) => {
                    if let Some(ts) = rx_ts {
                        let ns = udp_io::realtime_ns().saturating_sub(ts).max(0);
                        record_wire_latency(sh, ns as u64);
                    }
                    Some(f.completed_at.elapsed())
                }
                _ => None,
            };
            // A panic in the user's handler must not unwind through the
            // engine (or into C): it ends the session with an error.
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (h)(&e)));
            if let Err(p) = r {
                let msg = xnano_ffi_support::panic_message(p.as_ref());
                log::error!("event handler panicked: {msg}");
                if !matches!(e, ClientEvent::Closed(_)) {
                    let mut s = sh.session.lock();
                    s.fail(CloseReason::HandlerPanic { message: msg }, Instant::now());
                    drain(sh, &mut s);
                }
            }
            // `is_closed` turns true only once the handler has seen the
            // Closed event: a caller that waits for it can read whatever
            // the handler recorded about the close.
            if let ClientEvent::Closed(_) = &e {
                sh.closed.store(true, Ordering::Release);
            }
            if let ClientEvent::VideoFrame(f) = e {
                // The frame's buffer goes back to the reassembler: no
                // allocation per frame in steady state.
                let mut s = sh.session.lock();
                s.recycle_frame(f.data);
                if let Some(d) = latency {
                    s.record_latency(d);
                }
            }
        }
    }
    IN_DISPATCH.with(|f| f.set(false));
}

fn flush_and_dispatch(sh: &Shared) {
    {
        let mut s = sh.session.lock();
        drain(sh, &mut s);
    }
    dispatch(sh);
}

fn fail(sh: &Shared, reason: CloseReason) {
    let now = Instant::now();
    {
        let mut s = sh.session.lock();
        s.fail(reason, now);
        drain(sh, &mut s);
    }
    dispatch(sh);
}

/// Ends the session with a socket error, unless it is stopping (the stop's
/// own shutdown makes the blocked calls fail).
fn fail_io(sh: &Shared, e: &io::Error) {
    if !sh.stop.load(Ordering::Acquire) {
        fail(
            sh,
            CloseReason::Io {
                error: e.to_string(),
            },
        );
    }
}

fn tcp_writer(sh: &Shared, w: &mut TcpStream, rx: Receiver<Option<Vec<u8>>>) {
    loop {
        match rx.recv() {
            Ok(Some(b)) => {
                if let Err(e) = w.write_all(&b) {
                    fail_io(sh, &e);
                    return;
                }
            }
            // Stop: everything queued before the marker is written.
            Ok(None) => {
                let _ = w.flush();
                let _ = w.shutdown(Shutdown::Both);
                return;
            }
            Err(_) => return,
        }
    }
}

fn tcp_reader(sh: &Shared, r: &mut TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    while !sh.stop.load(Ordering::Acquire) {
        match r.read(&mut buf) {
            Ok(0) => {
                if !sh.stop.load(Ordering::Acquire) {
                    fail(sh, CloseReason::ConnectionClosed);
                }
                return;
            }
            Ok(n) => {
                let now = Instant::now();
                {
                    let mut s = sh.session.lock();
                    s.handle_tcp(&buf[..n], now);
                    drain(sh, &mut s);
                    kick_timer(sh, &s);
                }
                dispatch(sh);
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => {
                fail_io(sh, &e);
                return;
            }
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Linux: one blocking `recvmmsg` per batch (it returns as soon as one
/// datagram is there, with whatever else is queued); stop wakes it by
/// shutting the socket's receive side down.
#[cfg(target_os = "linux")]
fn udp_reader(sh: &Shared) {
    let mut rx = BatchRx::new();
    while !sh.stop.load(Ordering::Acquire) {
        {
            let n = match rx.recv_wait(&sh.udp) {
                Ok(n) => n,
                Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::ConnectionRefused => 0,
                Err(e) => {
                    fail_io(sh, &e);
                    return;
                }
            };
            // After the shutdown the receive returns an empty "datagram"
            // without a sender: not one the peer sent.
            if sh.stop.load(Ordering::Acquire) {
                return;
            }
            if n > 0 {
                handle_batch(sh, &rx, n);
                dispatch(sh);
            }
        }
    }
}

/// Elsewhere: wait for readiness (unix: `poll` on the socket and the
/// waker; otherwise the receive timeout), then one datagram per batch.
#[cfg(not(target_os = "linux"))]
fn udp_reader(sh: &Shared) {
    let mut rx = BatchRx::new();
    while !sh.stop.load(Ordering::Acquire) {
        #[cfg(unix)]
        match wait_readable(&sh.udp, &sh.udp_waker, None) {
            Ok(Ready::Readable) => {}
            Ok(Ready::Woken) => {
                sh.udp_waker.drain();
                continue;
            }
            Ok(Ready::Timeout) => continue,
            Err(e) => {
                fail_io(sh, &e);
                return;
            }
        }
        // Everything queued, a batch at a time, each batch under one
        // session lock and one dispatch.
        loop {
            let n = match rx.recv(&sh.udp) {
                Ok(n) => n,
                Err(e) if is_timeout(&e) => 0,
                // ICMP port unreachable shows up as ConnectionRefused on
                // Linux before the host's socket exists; keep listening.
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => 0,
                Err(e) => {
                    fail_io(sh, &e);
                    return;
                }
            };
            if n == 0 {
                break;
            }
            handle_batch(sh, &rx, n);
            dispatch(sh);
            if n < udp_io::BATCH {
                break;
            }
        }
    }
}

fn handle_batch(sh: &Shared, rx: &BatchRx, n: usize) {
    let now = Instant::now();
    let mut s = sh.session.lock();
    for i in 0..n {
        let (data, from, ts, seg) = rx.get(i);
        if from.is_none() && data.is_empty() {
            continue;
        }
        if from != Some(sh.peer_udp) {
            let n = if seg == 0 {
                1
            } else {
                data.len().div_ceil(seg)
            };
            sh.udp_foreign.fetch_add(n as u64, Ordering::Relaxed);
            continue;
        }
        if seg == 0 {
            s.handle_udp(data, now);
            drain_events(sh, &mut s, ts);
        } else {
            // Datagrams the kernel coalesced (GRO).
            for d in data.chunks(seg) {
                s.handle_udp(d, now);
                drain_events(sh, &mut s, ts);
            }
        }
    }
    drain_transmits(sh, &mut s);
    kick_timer(sh, &s);
}

/// Linux: sleeps on the timerfd, which every thread re-arms when the
/// session's deadline moves (see [`arm_timer`]).
#[cfg(target_os = "linux")]
fn timer(sh: &Shared, _wake: Receiver<()>) {
    loop {
        let now = Instant::now();
        {
            let mut s = sh.session.lock();
            s.handle_timeout(now);
            drain(sh, &mut s);
            arm_timer(sh, s.poll_timeout(), true);
        }
        dispatch(sh);
        if sh.stop.load(Ordering::Acquire) {
            return;
        }
        sh.timerfd.wait();
    }
}

#[cfg(not(target_os = "linux"))]
fn timer(sh: &Shared, wake: Receiver<()>) {
    while !sh.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        let next = {
            let mut s = sh.session.lock();
            s.handle_timeout(now);
            drain(sh, &mut s);
            let next = s.poll_timeout();
            let due = next.map_or(u64::MAX, |t| since_epoch(sh, t));
            sh.timer_due.store(due, Ordering::Relaxed);
            next
        };
        dispatch(sh);
        let r = match next {
            Some(t) => wake
                .recv_timeout(t.saturating_duration_since(Instant::now()))
                .or_else(|e| match e {
                    RecvTimeoutError::Timeout => Ok(()),
                    RecvTimeoutError::Disconnected => Err(()),
                }),
            None => wake.recv().map_err(|_| ()),
        };
        if r.is_err() {
            return;
        }
    }
}
