//! The Nano client engine: owns the TCP control socket and the UDP data
//! socket and drives a [`ClientSession`] with them.
//!
//! Threads: one reader per socket (TCP control, UDP data), one TCP writer fed
//! through a crossbeam channel, and one timer thread for the session's
//! deadlines (UDP handshake loop, defrag timeouts, input pacing, silence).
//! User callbacks run on the reader and timer threads, never while the
//! session lock is held, so a callback may call back into the [`Client`].
//! [`Client::stop`] joins every thread; after it returns no callback fires.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use super::input::ControllerState;
use super::session::{ClientConfig, ClientEvent, ClientSession, CloseReason, SessionStats};

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

struct Shared {
    session: Mutex<ClientSession>,
    handler: Mutex<EventHandler>,
    pending: Mutex<std::collections::VecDeque<ClientEvent>>,
    tcp_tx: Sender<Vec<u8>>,
    udp: UdpSocket,
    peer_udp: SocketAddr,
    stop: AtomicBool,
    wake: Sender<()>,
    thread_ids: Mutex<Vec<ThreadId>>,
    udp_foreign: AtomicU64,
    closed: AtomicBool,
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
        udp_sock.set_read_timeout(Some(POLL))?;
        stream.set_read_timeout(Some(POLL))?;

        let now = Instant::now();
        let session = ClientSession::new(cfg, now);
        let (tcp_tx, tcp_rx) = unbounded::<Vec<u8>>();
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
            thread_ids: Mutex::new(Vec::new()),
            udp_foreign: AtomicU64::new(0),
            closed: AtomicBool::new(false),
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
                            fail(&sh, CloseReason::Internal(msg))
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
            out
        };
        dispatch(&self.shared);
        let _ = self.shared.wake.try_send(());
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
    pub fn stats(&self) -> SessionStats {
        // Copy under the lock, sort outside it: other threads (the readers,
        // the user's own calls) must not wait for the percentiles.
        let (mut st, samples) = {
            let s = self.shared.session.lock();
            (s.stats_without_latency(), s.latency_samples())
        };
        super::session::apply_latency(&mut st, samples);
        st.udp_foreign_packets = self.shared.udp_foreign.load(Ordering::Relaxed);
        st
    }

    /// Ends the session with `reason` without joining the threads (allowed
    /// from inside a callback): the `Closed` event follows, then only
    /// [`Client::stop`] or drop remain useful.
    pub fn abort(&self, reason: CloseReason) {
        self.with_session(|s, now| s.fail(reason, now));
    }

    /// True once the session has ended and the handler has been given the
    /// `Closed` event (so what the handler recorded about it can be read).
    pub fn is_closed(&self) -> bool {
        self.shared.closed.load(Ordering::Acquire)
    }

    /// Stops the stream (video/audio stop, channel close), closes the sockets
    /// and joins every thread. After it returns no callback fires. Calling it
    /// from inside this client's callback is an error (it would deadlock).
    pub fn stop(mut self) -> Result<SessionStats, EngineError> {
        if self.in_callback() {
            return Err(EngineError::FromCallback("stop"));
        }
        Ok(self.shutdown())
    }

    fn shutdown(&mut self) -> SessionStats {
        if self.threads.is_empty() {
            return self.stats();
        }
        {
            let now = Instant::now();
            let mut s = self.shared.session.lock();
            s.stop(now);
            drain(&self.shared, &mut s);
        }
        // Let the writer flush what stop queued, then end everything.
        self.shared.stop.store(true, Ordering::Release);
        let _ = self.shared.wake.try_send(());
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        let _ = self.tcp.shutdown(Shutdown::Both);
        self.stats()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.in_callback() {
            self.shutdown();
        } else {
            // Dropped inside its own callback: signal the threads; they end by
            // themselves (they hold their own references).
            self.shared.stop.store(true, Ordering::Release);
            self.threads.clear();
        }
    }
}

fn drain(sh: &Shared, s: &mut ClientSession) {
    while let Some(b) = s.poll_tcp_transmit() {
        let _ = sh.tcp_tx.send(b);
    }
    while let Some(b) = s.poll_udp_transmit() {
        let _ = sh.udp.send_to(&b, sh.peer_udp);
        s.recycle_udp(b);
    }
    // Events go to the shared queue while the session lock is held, so
    // events from different threads are delivered in the order the session
    // produced them (e.g. a loss report before the keyframe that follows it).
    if let Some(e) = s.poll_event() {
        let mut q = sh.pending.lock();
        q.push_back(e);
        while let Some(e) = s.poll_event() {
            q.push_back(e);
        }
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
            let Some(e) = sh.pending.lock().pop_front() else {
                break;
            };
            // Latency: from the frame's last chunk to the callback.
            let latency = match &e {
                ClientEvent::VideoFrame(f) => Some(f.completed_at.elapsed()),
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
                    s.fail(CloseReason::HandlerPanic(msg), Instant::now());
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

fn tcp_writer(sh: &Shared, w: &mut TcpStream, rx: Receiver<Vec<u8>>) {
    loop {
        match rx.recv_timeout(POLL) {
            Ok(b) => {
                if let Err(e) = w.write_all(&b) {
                    if !sh.stop.load(Ordering::Acquire) {
                        fail(sh, CloseReason::Io(e.to_string()));
                    }
                    return;
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if sh.stop.load(Ordering::Acquire) && rx.is_empty() {
                    let _ = w.flush();
                    return;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

fn tcp_reader(sh: &Shared, r: &mut TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    while !sh.stop.load(Ordering::Acquire) {
        match r.read(&mut buf) {
            Ok(0) => {
                if !sh.stop.load(Ordering::Acquire) {
                    fail(sh, CloseReason::TcpClosed);
                }
                return;
            }
            Ok(n) => {
                let now = Instant::now();
                {
                    let mut s = sh.session.lock();
                    s.handle_tcp(&buf[..n], now);
                    drain(sh, &mut s);
                }
                dispatch(sh);
                let _ = sh.wake.try_send(());
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => {
                if !sh.stop.load(Ordering::Acquire) {
                    fail(sh, CloseReason::Io(e.to_string()));
                }
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

fn udp_reader(sh: &Shared) {
    let mut buf = vec![0u8; 65536];
    while !sh.stop.load(Ordering::Acquire) {
        match sh.udp.recv_from(&mut buf) {
            Ok((n, from)) => {
                if from != sh.peer_udp {
                    sh.udp_foreign.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let now = Instant::now();
                {
                    let mut s = sh.session.lock();
                    s.handle_udp(&buf[..n], now);
                    drain(sh, &mut s);
                }
                dispatch(sh);
            }
            Err(e) if is_timeout(&e) => {}
            Err(e) => {
                // ICMP port unreachable shows up as ConnectionRefused on Linux
                // before the host's socket exists; keep listening.
                if e.kind() == io::ErrorKind::ConnectionRefused {
                    continue;
                }
                if !sh.stop.load(Ordering::Acquire) {
                    fail(sh, CloseReason::Io(e.to_string()));
                }
                return;
            }
        }
    }
}

fn timer(sh: &Shared, wake: Receiver<()>) {
    while !sh.stop.load(Ordering::Acquire) {
        let now = Instant::now();
        let next = {
            let mut s = sh.session.lock();
            s.handle_timeout(now);
            drain(sh, &mut s);
            s.poll_timeout()
        };
        dispatch(sh);
        let wait = next
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(POLL)
            .min(POLL);
        match wake.recv_timeout(wait) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}
