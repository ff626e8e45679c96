//! [`Host`]: the simulated console's Nano endpoint on real sockets.
//!
//! It binds a TCP listener and a UDP socket (loopback by default, port 0 =
//! ephemeral), serves one client at a time with a [`HostSession`], and paces
//! media into it. Threads: one for the TCP connection (accept, read,
//! telemetry timer), one receiving UDP, one sending UDP (through the seeded
//! impairment stage), and one pacing video and audio. [`Host::stop`]
//! (also run on drop) joins them all.
//!
//! Lock order: the session mutex, then the TCP writer mutex. TCP output is
//! drained and written in that order so packets from different threads never
//! swap places; UDP output goes to the sender thread's channel under the
//! session lock for the same reason.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::session::{HostConfig, HostEvent, HostSession, HostStats, SentFrame};
use crate::media::{AudioSource, FrameSource, MediaError, SyntheticVideo, VideoSource};
use xnano_proto::wire::nano::audio::{AudioCodec, AudioFormat, PcmFormat};

/// Where the video frames come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VideoMode {
    /// Real H.264 (OpenH264) of a moving test pattern.
    TestPattern,
    /// Self-verifying synthetic frames ([`SyntheticVideo`]) of `min_len..=max_len` bytes.
    Synthetic {
        /// Seed of the frame contents and sizes.
        seed: u64,
        /// Smallest frame.
        min_len: usize,
        /// Largest frame (keyframes have this size).
        max_len: usize,
    },
}

/// What audio the server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioMode {
    /// Opus, 2 channels, 48 kHz, 20 ms packets.
    Opus,
    /// s16le PCM, 2 channels, 48 kHz, 20 ms packets.
    Pcm,
    /// No audio data (the Audio channel is still created and handshaken).
    None,
}

/// Impairment of the server's own UDP sending, reproducible from `seed`.
#[derive(Debug, Clone, PartialEq)]
pub struct Impairment {
    /// Percentage of datagrams dropped (0..=100).
    pub loss_pct: f64,
    /// Percentage of datagrams held back and sent after the next one.
    pub reorder_pct: f64,
    /// Percentage of datagrams sent twice.
    pub duplicate_pct: f64,
    /// Fixed delay added to every datagram.
    pub delay_ms: u64,
    /// Uniform jitter of the delay, ± this many milliseconds (never below 0).
    pub jitter_ms: u64,
    /// Seed of the impairment decisions.
    pub seed: u64,
}

impl Default for Impairment {
    fn default() -> Self {
        Impairment {
            loss_pct: 0.0,
            reorder_pct: 0.0,
            duplicate_pct: 0.0,
            delay_ms: 0,
            jitter_ms: 0,
            seed: 1,
        }
    }
}

impl Impairment {
    /// True when it changes nothing.
    pub fn is_none(&self) -> bool {
        self.loss_pct <= 0.0
            && self.reorder_pct <= 0.0
            && self.duplicate_pct <= 0.0
            && self.delay_ms == 0
            && self.jitter_ms == 0
    }
}

/// Configuration of a [`Host`].
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind (default 127.0.0.1).
    pub bind_ip: IpAddr,
    /// TCP port (0: ephemeral).
    pub tcp_port: u16,
    /// UDP port (0: ephemeral).
    pub udp_port: u16,
    /// Video width.
    pub width: u32,
    /// Video height.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// H.264 target bitrate in bits per second.
    pub bitrate_bps: u32,
    /// Video data payload bytes per UDP packet.
    pub chunk_size: usize,
    /// Video source.
    pub video: VideoMode,
    /// Audio source.
    pub audio: AudioMode,
    /// A keyframe every this many frames (0: only the first and requested ones).
    pub keyframe_interval: u32,
    /// Impairment of UDP sending.
    pub impairment: Impairment,
    /// Seed of each session's random numbers (connection id, frame ids); `None`: random.
    pub session_seed: Option<u64>,
    /// Realtime telemetry interval (`None`: never).
    pub telemetry_interval: Option<Duration>,
    /// How many sent frames [`Host::sent_frames`] keeps.
    pub frame_log_len: usize,
    /// What a real console may do (frame-id restarts, UDP silences, varying
    /// chunk flags, realistic frame sizes); all off by default.
    pub behaviour: super::session::HostBehaviour,
    /// Pace UDP sending at this many bits per second, as a console's rate
    /// control spreads a large keyframe over many milliseconds (0: send each
    /// frame in one burst).
    pub pace_bps: u64,
}

impl Default for SimConfig {
    /// 1280x720 at 60 fps, 8 Mbit/s H.264 test pattern, Opus audio, loopback, ephemeral ports.
    fn default() -> Self {
        SimConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            tcp_port: 0,
            udp_port: 0,
            width: 1280,
            height: 720,
            fps: 60,
            bitrate_bps: 8_000_000,
            chunk_size: super::session::DEFAULT_CHUNK_SIZE,
            video: VideoMode::TestPattern,
            audio: AudioMode::Opus,
            keyframe_interval: 120,
            impairment: Impairment::default(),
            session_seed: None,
            telemetry_interval: Some(Duration::from_secs(1)),
            frame_log_len: 256,
            behaviour: Default::default(),
            pace_bps: 0,
        }
    }
}

impl SimConfig {
    /// The session configuration this server config implies.
    pub fn host_config(&self) -> HostConfig {
        let audio = match self.audio {
            AudioMode::Pcm => AudioFormat {
                channels: 2,
                sample_rate: 48000,
                codec: AudioCodec::PCM,
                pcm: Some(PcmFormat {
                    bit_depth: 16,
                    sample_type: 0,
                }),
            },
            AudioMode::Opus | AudioMode::None => AudioFormat {
                channels: 2,
                sample_rate: 48000,
                codec: AudioCodec::Opus,
                pcm: None,
            },
        };
        HostConfig {
            width: self.width,
            height: self.height,
            fps: self.fps,
            video_formats: Vec::new(),
            audio_formats: vec![audio],
            chunk_size: self.chunk_size,
            telemetry_interval: self.telemetry_interval,
            seed: self.session_seed,
            connection_id: None,
            input_initial_frame_id: None,
            reference_timestamp_ms: None,
            frame_log_len: 1,
            behaviour: self.behaviour.clone(),
        }
    }
}

/// An error starting the server.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding or configuring a socket failed.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    /// The media configuration is invalid.
    #[error("media: {0}")]
    Media(#[from] MediaError),
    /// Another configuration value is invalid.
    #[error("invalid config: {0}")]
    Config(String),
}

/// Counters of the UDP impairment stage.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ImpairStats {
    /// Datagrams handed to the stage.
    pub offered: u64,
    /// Datagrams actually sent (duplicates count twice).
    pub sent: u64,
    /// Dropped on purpose.
    pub dropped: u64,
    /// Sent twice on purpose.
    pub duplicated: u64,
    /// Held back behind the next datagram.
    pub reordered: u64,
    /// Delayed (delay or jitter above 0).
    pub delayed: u64,
    /// Send errors from the socket.
    pub send_errors: u64,
    /// Dropped because more than [`PACE_MAX_BACKLOG`] of pacing time was
    /// already queued (the source offers more than `pace_bps`).
    pub pace_dropped: u64,
}

/// Counters of a [`Host`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SimStats {
    /// TCP clients accepted so far.
    pub clients_accepted: u64,
    /// Whether a client is connected now.
    pub client_connected: bool,
    /// Session counters, summed over all clients.
    pub session: HostStats,
    /// UDP impairment counters.
    pub udp: ImpairStats,
    /// Media source errors (frames not produced).
    pub media_errors: u64,
}

struct Shared {
    cfg: SimConfig,
    stop: AtomicBool,
    session: Mutex<Option<HostSession>>,
    tcp_writer: Mutex<Option<TcpStream>>,
    finished: Mutex<HostStats>,
    clients_accepted: Mutex<u64>,
    impair: Mutex<ImpairStats>,
    media_errors: Mutex<u64>,
    force_keyframe: AtomicBool,
    silent: AtomicBool,
    frames: Mutex<VecDeque<SentFrame>>,
    udp_tx: Sender<(Vec<u8>, SocketAddr)>,
    events_tx: Sender<HostEvent>,
}

/// The simulated console's Nano server. See the module docs.
pub struct Host {
    shared: Arc<Shared>,
    tcp_addr: SocketAddr,
    udp_addr: SocketAddr,
    events_rx: Receiver<HostEvent>,
    threads: Vec<JoinHandle<()>>,
}

/// How many events [`Host::events`] buffers before dropping new ones.
pub const EVENT_BUFFER: usize = 65536;

const POLL: Duration = Duration::from_millis(5);

impl Host {
    /// Binds the sockets, creates the media sources and starts the threads.
    pub fn start(cfg: SimConfig) -> Result<Host, SimError> {
        if cfg.chunk_size == 0 || cfg.chunk_size > 60_000 {
            return Err(SimError::Config(format!(
                "chunk size {}: must be 1..=60000",
                cfg.chunk_size
            )));
        }
        if cfg.fps == 0 || cfg.fps > 240 {
            return Err(SimError::Config(format!(
                "fps {}: must be 1..=240",
                cfg.fps
            )));
        }
        let video: Box<dyn FrameSource> = match &cfg.video {
            VideoMode::TestPattern => Box::new(VideoSource::new(
                cfg.width,
                cfg.height,
                cfg.fps,
                cfg.bitrate_bps,
                cfg.keyframe_interval,
            )?),
            VideoMode::Synthetic {
                seed,
                min_len,
                max_len,
            } => Box::new(
                SyntheticVideo::new(
                    *seed,
                    *min_len,
                    *max_len,
                    u64::from(cfg.keyframe_interval),
                    cfg.fps,
                )?
                .with_dimensions(cfg.width, cfg.height),
            ),
        };
        let audio = match cfg.audio {
            AudioMode::Opus => Some(AudioSource::new(
                crate::media::AudioCodec::Opus,
                48000,
                2,
                20,
            )?),
            AudioMode::Pcm => Some(AudioSource::new(
                crate::media::AudioCodec::Pcm,
                48000,
                2,
                20,
            )?),
            AudioMode::None => None,
        };

        let listener = TcpListener::bind((cfg.bind_ip, cfg.tcp_port))?;
        listener.set_nonblocking(true)?;
        let udp = UdpSocket::bind((cfg.bind_ip, cfg.udp_port))?;
        udp.set_read_timeout(Some(Duration::from_millis(20)))?;
        let udp_send = udp.try_clone()?;
        let tcp_addr = listener.local_addr()?;
        let udp_addr = udp.local_addr()?;

        let (udp_tx, udp_rx) = crossbeam_channel::unbounded();
        let (events_tx, events_rx) = crossbeam_channel::bounded(EVENT_BUFFER);
        let shared = Arc::new(Shared {
            cfg: cfg.clone(),
            stop: AtomicBool::new(false),
            session: Mutex::new(None),
            tcp_writer: Mutex::new(None),
            finished: Mutex::new(HostStats::default()),
            clients_accepted: Mutex::new(0),
            impair: Mutex::new(ImpairStats::default()),
            media_errors: Mutex::new(0),
            force_keyframe: AtomicBool::new(false),
            silent: AtomicBool::new(false),
            frames: Mutex::new(VecDeque::new()),
            udp_tx,
            events_tx,
        });

        let mut threads = Vec::new();
        let spawn = |name: &str, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(format!("xnano-sim-{name}"))
                .spawn(f)
        };
        let s = shared.clone();
        threads.push(spawn("tcp", Box::new(move || tcp_thread(s, listener)))?);
        let s = shared.clone();
        threads.push(spawn(
            "udp-recv",
            Box::new(move || udp_recv_thread(s, udp)),
        )?);
        let s = shared.clone();
        threads.push(spawn(
            "udp-send",
            Box::new(move || udp_send_thread(s, udp_send, udp_rx)),
        )?);
        let s = shared.clone();
        threads.push(spawn(
            "media",
            Box::new(move || media_thread(s, video, audio)),
        )?);

        Ok(Host {
            shared,
            tcp_addr,
            udp_addr,
            events_rx,
            threads,
        })
    }

    /// The TCP (control) address clients connect to.
    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The UDP (data) address clients send to.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The configuration.
    pub fn config(&self) -> &SimConfig {
        &self.shared.cfg
    }

    /// Counters (session counters summed over all clients so far).
    pub fn stats(&self) -> SimStats {
        let mut session = self.shared.finished.lock().clone();
        let mut client_connected = false;
        if let Some(s) = self.shared.session.lock().as_ref() {
            session.add(s.stats());
            client_connected = s.is_connected();
        }
        SimStats {
            clients_accepted: *self.shared.clients_accepted.lock(),
            client_connected,
            session,
            udp: self.shared.impair.lock().clone(),
            media_errors: *self.shared.media_errors.lock(),
        }
    }

    /// The session's events (all clients), buffered up to [`EVENT_BUFFER`].
    /// Receivers are clones of one queue: each event goes to one of them.
    pub fn events(&self) -> Receiver<HostEvent> {
        self.events_rx.clone()
    }

    /// The last sent video frames (oldest first), up to `frame_log_len`.
    pub fn sent_frames(&self) -> Vec<SentFrame> {
        self.shared.frames.lock().iter().cloned().collect()
    }

    /// A logged sent frame by wire frame id.
    pub fn sent_frame(&self, frame_id: u32) -> Option<SentFrame> {
        self.shared
            .frames
            .lock()
            .iter()
            .find(|f| f.frame_id == frame_id)
            .cloned()
    }

    /// The current session's connection id (`None` without a client).
    pub fn connection_id(&self) -> Option<u16> {
        self.shared
            .session
            .lock()
            .as_ref()
            .filter(|s| !s.is_closed())
            .map(|s| s.connection_id())
    }

    /// Makes the console go silent (`true`): it keeps its sockets open and
    /// goes on reading, but sends nothing on TCP or UDP until set back.
    pub fn set_silent(&self, silent: bool) {
        self.shared.silent.store(silent, Ordering::SeqCst);
    }

    /// The current client's UDP address, once learned from its UDP handshake.
    pub fn client_udp_addr(&self) -> Option<SocketAddr> {
        self.shared
            .session
            .lock()
            .as_ref()
            .and_then(|s| s.client_udp_addr())
    }

    /// Test hook for hostile-console tests: sends `datagram` as is from the
    /// console's UDP socket to the current client (through the impairment
    /// stage, like any datagram). Returns false when no client UDP address is
    /// known yet.
    pub fn inject_udp(&self, datagram: Vec<u8>) -> bool {
        match self.client_udp_addr() {
            Some(to) => self.shared.udp_tx.send((datagram, to)).is_ok(),
            None => false,
        }
    }

    /// Test hook for hostile-console tests: writes `bytes` as is to the
    /// current client's TCP connection, between two whole packets of the
    /// session. Returns false when there is no connection or the write fails.
    pub fn inject_tcp(&self, bytes: &[u8]) -> bool {
        let mut w = self.shared.tcp_writer.lock();
        match w.as_mut() {
            Some(w) => w.write_all(bytes).is_ok(),
            None => false,
        }
    }

    /// Closes the current client's session from the console's side (Channel
    /// Close for every open channel, then the TCP connection is shut down).
    pub fn close_client(&self) {
        let mut guard = self.shared.session.lock();
        if let Some(s) = guard.as_mut() {
            s.close(Instant::now());
            pump(&self.shared, guard);
        }
        if let Some(w) = self.shared.tcp_writer.lock().as_ref() {
            let _ = w.shutdown(Shutdown::Both);
        }
    }

    /// Closes the client's session, stops and joins every thread.
    pub fn stop(&mut self) {
        if self.threads.is_empty() {
            return;
        }
        self.close_client();
        self.shared.stop.store(true, Ordering::SeqCst);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Drains the session's output and events; consumes the session lock.
fn pump(shared: &Shared, mut guard: parking_lot::MutexGuard<'_, Option<HostSession>>) {
    let Some(s) = guard.as_mut() else {
        return;
    };
    let silent = shared.silent.load(Ordering::SeqCst);
    while let Some(d) = s.poll_udp_transmit() {
        if !silent {
            let _ = shared.udp_tx.send(d);
        }
    }
    let mut tcp = Vec::new();
    while let Some(b) = s.poll_tcp_transmit() {
        if !silent {
            tcp.extend_from_slice(&b);
        }
    }
    while let Some(ev) = s.poll_event() {
        match ev {
            HostEvent::KeyframeRequested | HostEvent::VideoStarted => {
                shared.force_keyframe.store(true, Ordering::SeqCst)
            }
            _ => {}
        }
        let _ = shared.events_tx.try_send(ev);
    }
    if tcp.is_empty() {
        return;
    }
    let mut writer = shared.tcp_writer.lock();
    drop(guard);
    if let Some(w) = writer.as_mut() {
        if let Err(e) = w.write_all(&tcp) {
            log::debug!("sim server: TCP write failed: {e}");
        }
    }
}

fn tcp_thread(shared: Arc<Shared>, listener: TcpListener) {
    while !shared.stop.load(Ordering::SeqCst) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) => {
                log::debug!("sim server: accept failed: {e}");
                std::thread::sleep(POLL);
                continue;
            }
        };
        serve_client(&shared, stream);
    }
}

fn serve_client(shared: &Shared, mut stream: TcpStream) {
    let setup = || -> std::io::Result<TcpStream> {
        stream.set_nonblocking(false)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(POLL))?;
        stream.set_write_timeout(Some(Duration::from_secs(2)))?;
        stream.try_clone()
    };
    let writer = match setup() {
        Ok(w) => w,
        Err(e) => {
            log::debug!("sim server: client setup failed: {e}");
            return;
        }
    };
    *shared.clients_accepted.lock() += 1;
    *shared.tcp_writer.lock() = Some(writer);
    {
        let mut guard = shared.session.lock();
        if let Some(old) = guard.take() {
            shared.finished.lock().add(old.stats());
        }
        *guard = Some(HostSession::new(shared.cfg.host_config(), Instant::now()));
    }
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let now = Instant::now();
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut guard = shared.session.lock();
                let Some(s) = guard.as_mut() else { break };
                let fatal = s.handle_tcp(&buf[..n], now).is_err();
                s.handle_timeout(now);
                let closed = s.is_closed();
                pump(shared, guard);
                if fatal || closed {
                    break;
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                let mut guard = shared.session.lock();
                let Some(s) = guard.as_mut() else { break };
                s.handle_timeout(now);
                let closed = s.is_closed();
                pump(shared, guard);
                if closed {
                    break;
                }
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let mut guard = shared.session.lock();
    if let Some(s) = guard.as_mut() {
        s.handle_tcp_closed(Instant::now());
    }
    pump(shared, guard);
    if let Some(w) = shared.tcp_writer.lock().take() {
        let _ = w.shutdown(Shutdown::Both);
    }
}

fn udp_recv_thread(shared: Arc<Shared>, sock: UdpSocket) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::SeqCst) {
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => {
                let mut guard = shared.session.lock();
                if let Some(s) = guard.as_mut() {
                    s.handle_udp(&buf[..n], from, Instant::now());
                    pump(&shared, guard);
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => {
                // E.g. ICMP port unreachable reported on the next recv (Windows).
                log::debug!("sim server: UDP recv: {e}");
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

/// A datagram waiting for its send time: (deadline, arrival order, bytes, destination).
type Scheduled = (Instant, u64, Vec<u8>, SocketAddr);

/// The seeded impairment stage: decides what happens to each datagram.
struct Impairer {
    cfg: Impairment,
    rng: StdRng,
    held: Option<(Vec<u8>, SocketAddr, Instant)>,
    order: u64,
    queue: BinaryHeap<Reverse<Scheduled>>,
}

/// How long a datagram held back for reordering waits for a successor.
const REORDER_HOLD: Duration = Duration::from_millis(20);

impl Impairer {
    fn new(cfg: Impairment) -> Self {
        let rng = StdRng::seed_from_u64(cfg.seed);
        Impairer {
            cfg,
            rng,
            held: None,
            order: 0,
            queue: BinaryHeap::new(),
        }
    }

    fn chance(&mut self, pct: f64) -> bool {
        pct > 0.0 && self.rng.gen::<f64>() * 100.0 < pct
    }

    fn schedule(&mut self, d: Vec<u8>, to: SocketAddr, now: Instant, st: &mut ImpairStats) {
        let mut delay = self.cfg.delay_ms as i64;
        if self.cfg.jitter_ms > 0 {
            let j = self.cfg.jitter_ms as i64;
            delay += self.rng.gen_range(-j..=j);
        }
        let delay = Duration::from_millis(delay.max(0) as u64);
        if !delay.is_zero() {
            st.delayed += 1;
        }
        self.order += 1;
        self.queue.push(Reverse((now + delay, self.order, d, to)));
    }

    fn offer(&mut self, d: Vec<u8>, to: SocketAddr, now: Instant, st: &mut ImpairStats) {
        st.offered += 1;
        if self.chance(self.cfg.loss_pct) {
            st.dropped += 1;
            return;
        }
        let dup = self.chance(self.cfg.duplicate_pct);
        if dup {
            st.duplicated += 1;
        }
        if self.held.is_none() && self.chance(self.cfg.reorder_pct) {
            st.reordered += 1;
            if dup {
                self.schedule(d.clone(), to, now, st);
            }
            self.held = Some((d, to, now));
            return;
        }
        if dup {
            self.schedule(d.clone(), to, now, st);
        }
        self.schedule(d, to, now, st);
        if let Some((h, hto, _)) = self.held.take() {
            self.schedule(h, hto, now, st);
        }
    }

    fn flush_held(&mut self, now: Instant, force: bool, st: &mut ImpairStats) {
        if let Some((_, _, since)) = &self.held {
            if force || now.duration_since(*since) >= REORDER_HOLD {
                if let Some((h, to, _)) = self.held.take() {
                    self.schedule(h, to, now, st);
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let q = self.queue.peek().map(|Reverse((t, ..))| *t);
        let h = self.held.as_ref().map(|(_, _, s)| *s + REORDER_HOLD);
        match (q, h) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn due(&mut self, now: Instant) -> Option<(Vec<u8>, SocketAddr)> {
        match self.queue.peek() {
            Some(Reverse((t, ..))) if *t <= now => {
                self.queue.pop().map(|Reverse((_, _, d, to))| (d, to))
            }
            _ => None,
        }
    }
}

/// Spaces datagrams so that they leave at `bps` at most, by deadlines: the
/// send loop asks when the next datagram may leave and waits for that (or
/// for new datagrams, or for the stop flag) instead of sleeping per datagram.
struct Pacer {
    bps: u64,
    next: Instant,
}

/// How far a late wake-up may catch up in one burst (keeps the average rate
/// exact without sending a long backlog at once).
const PACE_CATCH_UP: Duration = Duration::from_millis(2);

impl Pacer {
    /// When the next datagram may leave (`None`: no pacing, any time).
    fn ready_at(&self) -> Option<Instant> {
        (self.bps > 0).then_some(self.next)
    }

    /// Whether a datagram may leave at `now`.
    fn may_send(&self, now: Instant) -> bool {
        self.bps == 0 || self.next <= now
    }

    /// Books `len` bytes on the wire, sent at `now`.
    fn book(&mut self, len: usize, now: Instant) {
        if self.bps == 0 {
            return;
        }
        let wire = Duration::from_nanos((len as u64 * 8).saturating_mul(1_000_000_000) / self.bps);
        let base = if self.next + PACE_CATCH_UP < now {
            now
        } else {
            self.next
        };
        self.next = base + wire;
    }
}

/// At most this much sending time waits in the pacer (at least 1 MiB): a
/// source that offers more than the pacing rate loses datagrams instead of
/// growing the queue without bound (a real console's rate control would
/// lower the bitrate).
pub const PACE_MAX_BACKLOG: Duration = Duration::from_secs(2);

fn pace_push(
    q: &mut VecDeque<(Vec<u8>, SocketAddr)>,
    bytes: &mut usize,
    max: usize,
    d: (Vec<u8>, SocketAddr),
    st: &mut ImpairStats,
) {
    if *bytes + d.0.len() > max {
        st.pace_dropped += 1;
        return;
    }
    *bytes += d.0.len();
    q.push_back(d);
}

fn udp_send_thread(shared: Arc<Shared>, sock: UdpSocket, rx: Receiver<(Vec<u8>, SocketAddr)>) {
    let passthrough = shared.cfg.impairment.is_none();
    let mut pacer = Pacer {
        bps: shared.cfg.pace_bps,
        next: Instant::now(),
    };
    // Datagrams through the impairment stage, waiting for the pacer.
    let mut paced: VecDeque<(Vec<u8>, SocketAddr)> = VecDeque::new();
    let mut paced_bytes = 0usize;
    let max_backlog = usize::try_from(
        (u128::from(shared.cfg.pace_bps) * PACE_MAX_BACKLOG.as_millis() / 8000).max(1 << 20),
    )
    .unwrap_or(usize::MAX);
    let mut imp = Impairer::new(shared.cfg.impairment.clone());
    let mut st = ImpairStats::default();
    let mut last_publish = Instant::now();
    loop {
        let stopping = shared.stop.load(Ordering::SeqCst);
        let now = Instant::now();
        let mut wait = imp
            .next_deadline()
            .map(|t| t.saturating_duration_since(now))
            .unwrap_or(Duration::from_millis(20))
            .min(Duration::from_millis(20));
        if !paced.is_empty() {
            if let Some(t) = pacer.ready_at() {
                wait = wait.min(t.saturating_duration_since(now));
            }
        }
        let first = if stopping || wait.is_zero() {
            rx.try_recv().ok()
        } else {
            rx.recv_timeout(wait).ok()
        };
        let mut batch: Vec<(Vec<u8>, SocketAddr)> = first.into_iter().collect();
        batch.extend(rx.try_iter().take(4096));
        let now = Instant::now();
        for (d, to) in batch {
            if passthrough {
                st.offered += 1;
                pace_push(&mut paced, &mut paced_bytes, max_backlog, (d, to), &mut st);
            } else {
                imp.offer(d, to, now, &mut st);
            }
        }
        imp.flush_held(now, stopping, &mut st);
        while let Some(x) = imp.due(if stopping {
            now + Duration::from_secs(3600)
        } else {
            now
        }) {
            pace_push(&mut paced, &mut paced_bytes, max_backlog, x, &mut st);
        }
        // Stopping flushes what is left without pacing.
        let now = Instant::now();
        while !paced.is_empty() && (stopping || pacer.may_send(now)) {
            if let Some((d, to)) = paced.pop_front() {
                paced_bytes -= d.len();
                pacer.book(d.len(), now);
                send_one(&sock, &d, to, &mut st);
            }
        }
        if now.duration_since(last_publish) >= Duration::from_millis(10) || stopping {
            *shared.impair.lock() = st.clone();
            last_publish = now;
        }
        if stopping
            && rx.is_empty()
            && imp.queue.is_empty()
            && imp.held.is_none()
            && paced.is_empty()
        {
            break;
        }
    }
}

fn send_one(sock: &UdpSocket, d: &[u8], to: SocketAddr, st: &mut ImpairStats) {
    match sock.send_to(d, to) {
        Ok(_) => st.sent += 1,
        Err(e) if e.kind() == ErrorKind::WouldBlock => {
            // Loopback buffer full: wait briefly and retry once.
            std::thread::sleep(Duration::from_micros(200));
            match sock.send_to(d, to) {
                Ok(_) => st.sent += 1,
                Err(_) => st.send_errors += 1,
            }
        }
        Err(_) => st.send_errors += 1,
    }
}

fn media_thread(
    shared: Arc<Shared>,
    mut video: Box<dyn FrameSource>,
    mut audio: Option<AudioSource>,
) {
    let fps = shared.cfg.fps.max(1);
    let frame_period = Duration::from_nanos(1_000_000_000 / u64::from(fps));
    let audio_period = Duration::from_millis(20);
    let mut next_video = Instant::now();
    let mut next_audio = Instant::now();
    while !shared.stop.load(Ordering::SeqCst) {
        let now = Instant::now();
        let (video_on, audio_on) = {
            let g = shared.session.lock();
            g.as_ref().map_or((false, false), |s| {
                (s.video_streaming(), s.audio_streaming())
            })
        };
        if now >= next_video {
            next_video += frame_period;
            if next_video < now {
                next_video = now + frame_period; // fell behind: do not burst
            }
            if video_on {
                if shared.force_keyframe.swap(false, Ordering::SeqCst) {
                    video.force_keyframe();
                }
                match video.next_frame() {
                    Ok(frame) => {
                        let mut guard = shared.session.lock();
                        if let Some(s) = guard.as_mut() {
                            if s.push_video_frame(&frame, Instant::now()) {
                                if let Some(f) = s.sent_frames().back() {
                                    let mut log = shared.frames.lock();
                                    while log.len() >= shared.cfg.frame_log_len.max(1) {
                                        log.pop_front();
                                    }
                                    if shared.cfg.frame_log_len > 0 {
                                        log.push_back(f.clone());
                                    }
                                }
                            }
                            pump(&shared, guard);
                        }
                    }
                    Err(e) => {
                        log::warn!("sim server: video source: {e}");
                        *shared.media_errors.lock() += 1;
                    }
                }
            }
        }
        if now >= next_audio {
            next_audio += audio_period;
            if next_audio < now {
                next_audio = now + audio_period;
            }
            if let (true, Some(a)) = (audio_on, audio.as_mut()) {
                match a.next_packet() {
                    Ok(p) => {
                        let mut guard = shared.session.lock();
                        if let Some(s) = guard.as_mut() {
                            s.push_audio_packet(&p.data, Instant::now());
                            pump(&shared, guard);
                        }
                    }
                    Err(e) => {
                        log::warn!("sim server: audio source: {e}");
                        *shared.media_errors.lock() += 1;
                    }
                }
            }
        }
        let next = next_video.min(next_audio);
        let sleep = next
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(10));
        if !sleep.is_zero() {
            std::thread::sleep(sleep);
        }
    }
}
