//! The SmartGlass engine: owns the UDP socket and drives the sans-IO
//! [`Discovery`], [`PowerOn`] and [`ClientSession`] with it; starts the Nano
//! client once the console announces a gamestream.
//!
//! Threads of a [`Client`]: one socket thread, which receives,
//! runs the session's timers (resends, heartbeats, the dead-console check)
//! and calls the user's [`EventHandler`]; and, while a gamestream starts,
//! one short-lived thread that connects the [`nano::Client`] (whose own
//! threads then call the Nano handler). Commands may be called from any
//! thread, the event handler included: they lock the session, which is never
//! held while a handler runs, and send from the calling thread.
//! [`Client::disconnect`] (or dropping the client) stops the stream,
//! says goodbye to the console and joins every thread; it delivers the last
//! events (`Closed`) itself, on the calling thread, and no callback runs after
//! it returns.
//!
//! The socket thread does not poll: it blocks in `poll(2)` on the socket and
//! a self-pipe until a datagram arrives, the session's next deadline
//! ([`ClientSession::poll_timeout`]: resends, heartbeats, the dead-console
//! check) or a wake-up, which every command, the Nano connect thread and
//! stopping send. (Where `poll` is missing it falls back to a 50 ms receive
//! timeout.)

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle, ThreadId};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::nano;
use xnano_proto::smartglass::{
    ClientSession, CloseReason, SessionConfig, SessionError, SessionEvent, SessionState,
    SessionStats,
};
use xnano_proto::smartglass::{ConsoleInfo, ServiceChannel};
use xnano_proto::smartglass::{Discovery, DiscoveryConfig, DiscoveryEvent, PowerOn, PowerOnConfig};
use xnano_proto::smartglass::{
    GameStreamConfig, GameStreamEvent, GameStreamState, GameStreamStatus,
};
use xnano_proto::wire::sg::payloads::*;

/// Errors of the engine's calls.
#[derive(Debug, thiserror::Error)]
pub enum SgError {
    /// A socket operation failed.
    #[error("socket error: {0}")]
    Io(#[from] io::Error),
    /// The session refused the call.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// No console answered a discovery request at this address.
    #[error("no console answered at {0}")]
    NotFound(SocketAddr),
    /// The session ended.
    #[error("session ended: {0}")]
    Closed(CloseReason),
    /// A wait ran out.
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    /// The console refused to open a channel.
    #[error("console refused to open {channel}: {result}")]
    ChannelRefused {
        /// The channel.
        channel: ServiceChannel,
        /// The console's result code name.
        result: &'static str,
    },
    /// The gamestream could not be started.
    #[error("gamestream: {0}")]
    Stream(String),
    /// The call would deadlock from inside this client's callback.
    #[error("cannot {0} from inside a callback of the same client")]
    FromCallback(&'static str),
}

/// What the engine reports to the [`EventHandler`].
#[derive(Debug)]
pub enum Event {
    /// Something the session reported.
    Session(SessionEvent),
    /// The Nano client connected to the announced ports.
    NanoConnected {
        /// The console's Nano TCP address.
        tcp: SocketAddr,
        /// The console's Nano UDP address.
        udp: SocketAddr,
    },
    /// The Nano client could not be started.
    NanoFailed {
        /// Why.
        error: String,
    },
}

/// The user's event handler; runs on the socket thread (one event at a
/// time, in order). The event is valid only during the call.
pub type EventHandler = Box<dyn FnMut(&Event) + Send>;

/// Who to connect to.
#[derive(Debug, Clone)]
pub enum ConsoleTarget {
    /// A console found by discovery (its certificate is known).
    Info(ConsoleInfo),
    /// An address: a unicast discovery request fetches the certificate first.
    Addr(SocketAddr),
}

impl From<ConsoleInfo> for ConsoleTarget {
    fn from(c: ConsoleInfo) -> Self {
        ConsoleTarget::Info(c)
    }
}

impl From<SocketAddr> for ConsoleTarget {
    fn from(a: SocketAddr) -> Self {
        ConsoleTarget::Addr(a)
    }
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// The session's settings (credentials, channels, timers).
    pub session: SessionConfig,
    /// How long [`ConsoleTarget::Addr`] discovery waits for the answer.
    pub discovery_timeout: Duration,
    /// The local address to bind (default: any, port chosen by the system).
    pub bind: Option<SocketAddr>,
    /// How long blocking calls (connect, channel and stream waits) wait.
    pub wait_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            session: SessionConfig::default(),
            discovery_timeout: Duration::from_secs(3),
            bind: None,
            wait_timeout: Duration::from_secs(10),
        }
    }
}

const POLL: Duration = Duration::from_millis(50);

fn any_addr_for(target: &SocketAddr) -> SocketAddr {
    if target.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    }
}

fn bind_socket(bind: SocketAddr) -> io::Result<UdpSocket> {
    let s = UdpSocket::bind(bind)?;
    if bind.is_ipv4() {
        let _ = s.set_broadcast(true);
    }
    Ok(s)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut | io::ErrorKind::Interrupted
    )
}

/// Sends a datagram; a failure is logged, not fatal (broadcast may be
/// unroutable while unicast works). Returns whether it went out.
fn send_logged(sock: &UdpSocket, b: &[u8], to: SocketAddr) -> bool {
    match sock.send_to(b, to) {
        Ok(_) => true,
        Err(e) => {
            log::warn!("smartglass: send to {to} failed: {e}");
            false
        }
    }
}

fn run_discovery(
    sock: &UdpSocket,
    cfg: DiscoveryConfig,
    mut on_found: impl FnMut(&ConsoleInfo),
) -> io::Result<Vec<ConsoleInfo>> {
    let mut d = Discovery::new(cfg, Instant::now());
    let mut buf = vec![0u8; 65536];
    let mut sent_any = false;
    let mut last_err = None;
    loop {
        while let Some((b, to)) = d.poll_transmit() {
            match sock.send_to(&b, to) {
                Ok(_) => sent_any = true,
                Err(e) => {
                    log::warn!("discovery: send to {to} failed: {e}");
                    last_err = Some(e);
                }
            }
        }
        while let Some(ev) = d.poll_event() {
            match ev {
                DiscoveryEvent::Found(c) => on_found(&c),
                DiscoveryEvent::Rejected { from, error } => {
                    log::warn!("discovery: response from {from} rejected: {error}")
                }
                DiscoveryEvent::Finished => {}
            }
        }
        if d.is_finished() {
            break;
        }
        let wait = d
            .poll_timeout()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(POLL)
            .clamp(Duration::from_millis(1), POLL);
        sock.set_read_timeout(Some(wait))?;
        match sock.recv_from(&mut buf) {
            Ok((n, from)) => d.handle_datagram(&buf[..n], from, Instant::now()),
            Err(e) if is_timeout(&e) || e.kind() == io::ErrorKind::ConnectionRefused => {}
            Err(e) => return Err(e),
        }
        d.handle_timeout(Instant::now());
    }
    if !sent_any {
        if let Some(e) = last_err {
            return Err(e);
        }
    }
    Ok(d.consoles().to_vec())
}

/// Discovers consoles: with `addr`, a unicast request to that console
/// (returning as soon as it answers); without, broadcast and multicast on
/// port 5050 for the whole `timeout`.
pub fn discover(addr: Option<SocketAddr>, timeout: Duration) -> io::Result<Vec<ConsoleInfo>> {
    let cfg = match addr {
        Some(a) => DiscoveryConfig::unicast(a, timeout),
        None => DiscoveryConfig::network(timeout),
    };
    discover_with(cfg, |_| {})
}

/// Discovers with full control; `on_found` sees each console as it answers.
pub fn discover_with(
    cfg: DiscoveryConfig,
    on_found: impl FnMut(&ConsoleInfo),
) -> io::Result<Vec<ConsoleInfo>> {
    let bind = cfg
        .targets
        .first()
        .map(any_addr_for)
        .unwrap_or_else(|| "0.0.0.0:0".parse().expect("literal"));
    let sock = bind_socket(bind)?;
    run_discovery(&sock, cfg, on_found)
}

/// Powers a console on by Live ID, as the reference does: power-on
/// requests to broadcast, multicast and (when given) `addr`, twice, 100 ms
/// apart.
pub fn power_on(live_id: &str, addr: Option<SocketAddr>) -> io::Result<()> {
    power_on_with(PowerOnConfig::new(live_id, addr))
}

/// Powers a console on with full control over targets and repetitions.
pub fn power_on_with(cfg: PowerOnConfig) -> io::Result<()> {
    let bind = cfg
        .targets
        .last()
        .map(any_addr_for)
        .unwrap_or_else(|| "0.0.0.0:0".parse().expect("literal"));
    let sock = bind_socket(bind)?;
    let mut p = PowerOn::new(cfg, Instant::now())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
    let mut sent_any = false;
    loop {
        while let Some((b, to)) = p.poll_transmit() {
            // Targets of the other address family cannot be reached from
            // this socket.
            if to.is_ipv4() == bind.is_ipv4() {
                sent_any |= send_logged(&sock, &b, to);
            }
        }
        match p.poll_timeout() {
            None => break,
            Some(t) => {
                thread::sleep(t.saturating_duration_since(Instant::now()));
                p.handle_timeout(Instant::now());
            }
        }
    }
    if sent_any {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::NetworkUnreachable,
            "no power-on request could be sent",
        ))
    }
}

enum NanoSlot {
    Idle,
    Requested {
        cfg: Box<nano::ClientConfig>,
        handler: nano::EventHandler,
    },
    Connecting,
    Running(nano::Client),
    Failed(String),
}

struct Shared {
    session: Mutex<ClientSession>,
    session_cv: Condvar,
    socket: UdpSocket,
    handler: Mutex<EventHandler>,
    pending: Mutex<VecDeque<Event>>,
    nano: Mutex<NanoSlot>,
    nano_cv: Condvar,
    nano_thread: Mutex<Option<JoinHandle<()>>>,
    stop: AtomicBool,
    socket_thread_id: Mutex<Option<ThreadId>>,
    #[cfg(unix)]
    waker: nano::engine::Waker,
}

impl Shared {
    /// Sends what the session queued and moves its events to `pending`.
    fn drain(&self, s: &mut ClientSession) {
        while let Some((b, to)) = s.poll_transmit() {
            send_logged(&self.socket, &b, to);
        }
        let mut p = self.pending.lock();
        while let Some(e) = s.poll_event() {
            p.push_back(Event::Session(e));
        }
    }

    fn with_session<T>(&self, f: impl FnOnce(&mut ClientSession, Instant) -> T) -> T {
        let mut s = self.session.lock();
        let out = f(&mut s, Instant::now());
        self.drain(&mut s);
        drop(s);
        self.session_cv.notify_all();
        // The socket thread delivers the events and waits for the
        // session's new deadline.
        self.wake();
        out
    }

    /// Wakes the socket thread.
    fn wake(&self) {
        #[cfg(unix)]
        self.waker.wake();
    }
}

/// A connected console.
pub struct Client {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    console: ConsoleInfo,
    wait_timeout: Duration,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("console", &self.console.address)
            .finish()
    }
}

impl Client {
    /// Connects: fetches the console's certificate by unicast discovery
    /// when only an address is given, agrees the keys, sends the connect
    /// request and waits (up to [`ConnectOptions::wait_timeout`]) for the
    /// console to accept. `handler` receives every event from then on.
    pub fn connect(
        target: impl Into<ConsoleTarget>,
        opts: ConnectOptions,
        handler: EventHandler,
    ) -> Result<Client, SgError> {
        let target = target.into();
        let addr = match &target {
            ConsoleTarget::Info(c) => c.address,
            ConsoleTarget::Addr(a) => *a,
        };
        let sock = bind_socket(opts.bind.unwrap_or_else(|| any_addr_for(&addr)))?;
        let console = match target {
            ConsoleTarget::Info(c) => c,
            ConsoleTarget::Addr(a) => run_discovery(
                &sock,
                DiscoveryConfig::unicast(a, opts.discovery_timeout),
                |_| {},
            )?
            .into_iter()
            .next()
            .ok_or(SgError::NotFound(a))?,
        };
        let session = ClientSession::new(&console, opts.session.clone(), Instant::now())?;
        let shared = Arc::new(Shared {
            session: Mutex::new(session),
            session_cv: Condvar::new(),
            socket: sock,
            handler: Mutex::new(handler),
            pending: Mutex::new(VecDeque::new()),
            nano: Mutex::new(NanoSlot::Idle),
            nano_cv: Condvar::new(),
            nano_thread: Mutex::new(None),
            stop: AtomicBool::new(false),
            socket_thread_id: Mutex::new(None),
            #[cfg(unix)]
            waker: nano::engine::Waker::new()?,
        });
        {
            let mut s = shared.session.lock();
            shared.drain(&mut s);
        }
        let sh = shared.clone();
        let thread = thread::Builder::new()
            .name("xnano-sg-socket".into())
            .spawn(move || socket_thread(&sh))?;
        *shared.socket_thread_id.lock() = Some(thread.thread().id());
        let mut client = Client {
            shared,
            thread: Some(thread),
            console,
            wait_timeout: opts.wait_timeout,
        };
        let r = client.wait_session("the connect response", opts.wait_timeout, |s| {
            (s.state() == SessionState::Connected).then_some(())
        });
        if let Err(e) = r {
            client.shutdown(false);
            return Err(e);
        }
        Ok(client)
    }

    fn in_callback(&self) -> bool {
        *self.shared.socket_thread_id.lock() == Some(thread::current().id())
    }

    /// Waits until `f` gives a value, the session closes, or `timeout`.
    fn wait_session<T>(
        &self,
        what: &'static str,
        timeout: Duration,
        mut f: impl FnMut(&ClientSession) -> Option<T>,
    ) -> Result<T, SgError> {
        if self.in_callback() {
            return Err(SgError::FromCallback("wait"));
        }
        let deadline = Instant::now() + timeout;
        let mut s = self.shared.session.lock();
        loop {
            if let Some(v) = f(&s) {
                return Ok(v);
            }
            if s.state() == SessionState::Closed {
                let r = s.close_reason().cloned().unwrap_or(CloseReason::Local);
                return Err(SgError::Closed(r));
            }
            if self
                .shared
                .session_cv
                .wait_until(&mut s, deadline)
                .timed_out()
            {
                return f(&s).ok_or(SgError::Timeout(what));
            }
        }
    }

    /// The console.
    pub fn console(&self) -> &ConsoleInfo {
        &self.console
    }

    /// Our participant id.
    pub fn participant_id(&self) -> u32 {
        self.shared.session.lock().participant_id()
    }

    /// The session's state.
    pub fn state(&self) -> SessionState {
        self.shared.session.lock().state()
    }

    /// True once the session ended.
    pub fn is_closed(&self) -> bool {
        self.state() == SessionState::Closed
    }

    /// Why the session ended.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.shared.session.lock().close_reason().cloned()
    }

    /// Session counters.
    pub fn stats(&self) -> SessionStats {
        self.shared.session.lock().stats()
    }

    /// What the console said about the gamestream.
    pub fn gamestream_status(&self) -> GameStreamStatus {
        self.shared.session.lock().gamestream().clone()
    }

    /// The last console status.
    pub fn console_status(&self) -> Option<ConsoleStatus> {
        self.shared.session.lock().console_status().cloned()
    }

    /// The last media state.
    pub fn media_state(&self) -> Option<MediaState> {
        self.shared.session.lock().media_state().cloned()
    }

    /// The active text session.
    pub fn text_configuration(&self) -> Option<TextConfiguration> {
        self.shared.session.lock().text_configuration().cloned()
    }

    /// The channel id of a started channel.
    pub fn channel_id(&self, channel: ServiceChannel) -> Option<u64> {
        self.shared.session.lock().channel_id(channel)
    }

    /// Runs any call on the sans-IO session (sends what it queues).
    pub fn with_session<T>(&self, f: impl FnOnce(&mut ClientSession, Instant) -> T) -> T {
        self.shared.with_session(f)
    }

    fn call<T>(
        &self,
        f: impl FnOnce(&mut ClientSession, Instant) -> Result<T, SessionError>,
    ) -> Result<T, SgError> {
        Ok(self.shared.with_session(f)?)
    }

    /// Asks the console to open a system channel (no wait).
    pub fn start_channel(&self, channel: ServiceChannel) -> Result<(), SgError> {
        self.call(|s, now| s.start_channel(channel, now))
            .map(|_| ())
    }

    /// Asks the console to open the Title channel of `title_id` (no wait).
    pub fn start_title_channel(&self, title_id: u32) -> Result<(), SgError> {
        self.call(|s, now| s.start_title_channel(title_id, now))
            .map(|_| ())
    }

    /// Waits until `channel` is open; returns its channel id.
    pub fn wait_channel(&self, channel: ServiceChannel, timeout: Duration) -> Result<u64, SgError> {
        let mut refused = None;
        let r = self.wait_session("a channel start response", timeout, |s| {
            if let Some(code) = s.channel_failure(channel) {
                refused = Some(code.name());
                return Some(None);
            }
            s.channel_id(channel).map(Some)
        })?;
        match r {
            Some(id) => Ok(id),
            None => Err(SgError::ChannelRefused {
                channel,
                result: refused.unwrap_or("Unknown"),
            }),
        }
    }

    /// Stops a channel.
    pub fn stop_channel(&self, channel: ServiceChannel) -> Result<(), SgError> {
        self.call(|s, now| s.stop_channel(channel, now))
    }

    /// Powers the console off.
    pub fn power_off(&self) -> Result<(), SgError> {
        self.call(|s, now| s.power_off(now)).map(|_| ())
    }

    /// Launches a title / URI.
    pub fn launch_title(&self, uri: &str, location: ActiveTitleLocation) -> Result<u32, SgError> {
        self.call(|s, now| s.launch_title(uri, location, now))
    }

    /// Sends a media command; returns its request id.
    pub fn media_command(
        &self,
        title_id: u32,
        command: MediaControlCommand,
        seek_position: Option<u64>,
    ) -> Result<u64, SgError> {
        self.call(|s, now| s.media_command(title_id, command, seek_position, now))
    }

    /// Sends a gamepad state (SmartGlass, not the stream's input).
    pub fn gamepad(&self, g: Gamepad) -> Result<u32, SgError> {
        self.call(|s, now| s.gamepad(g, now))
    }

    /// Replaces the text of the active text session.
    pub fn send_text(&self, text: &str) -> Result<u32, SgError> {
        self.call(|s, now| s.send_text(text, now))
    }

    /// Acknowledges a text version.
    pub fn text_acknowledge(&self, session_id: u32, version: u32) -> Result<u32, SgError> {
        self.call(|s, now| s.text_acknowledge(session_id, version, now))
    }

    /// Ends the active text session.
    pub fn text_done(&self, result: TextResult) -> Result<u32, SgError> {
        self.call(|s, now| s.text_done(result, now))
    }

    /// Records a game DVR clip.
    pub fn game_dvr_record(&self, start_delta: i32, end_delta: i32) -> Result<u32, SgError> {
        self.call(|s, now| s.game_dvr_record(start_delta, end_delta, now))
    }

    /// Unsnaps the snapped app.
    pub fn unsnap(&self) -> Result<u32, SgError> {
        self.call(|s, now| s.unsnap(now))
    }

    /// Sends system touch input.
    pub fn touch(&self, t: Touch) -> Result<u32, SgError> {
        self.call(|s, now| s.touch(t, now))
    }

    /// Sends accelerometer data.
    pub fn accelerometer(&self, v: Accelerometer) -> Result<u32, SgError> {
        self.call(|s, now| s.accelerometer(v, now))
    }

    /// Sends gyrometer data.
    pub fn gyrometer(&self, v: Gyrometer) -> Result<u32, SgError> {
        self.call(|s, now| s.gyrometer(v, now))
    }

    /// Sends inclinometer data.
    pub fn inclinometer(&self, v: Inclinometer) -> Result<u32, SgError> {
        self.call(|s, now| s.inclinometer(v, now))
    }

    /// Sends compass data.
    pub fn compass(&self, v: Compass) -> Result<u32, SgError> {
        self.call(|s, now| s.compass(v, now))
    }

    /// Sends orientation data.
    pub fn orientation(&self, v: Orientation) -> Result<u32, SgError> {
        self.call(|s, now| s.orientation(v, now))
    }

    /// Sends a JSON text on a channel.
    pub fn send_json(&self, channel: ServiceChannel, text: &str) -> Result<(), SgError> {
        self.call(|s, now| s.send_json(channel, text, now))
            .map(|_| ())
    }

    /// Starts a gamestream: opens SystemBroadcast if needed, sends
    /// StartGameStream with `config`, and once the console reports Started
    /// (after Initializing with the ports) connects a [`nano::Client`] to
    /// the console's IP and the announced ports with `nano_cfg` (adjusted by
    /// [`GameStreamConfig::apply_to`]) and `nano_handler`. Returns once the
    /// request is sent; [`Client::wait_gamestream`] waits for the
    /// Nano connection.
    pub fn start_gamestream(
        &self,
        config: &GameStreamConfig,
        mut nano_cfg: nano::ClientConfig,
        nano_handler: nano::EventHandler,
    ) -> Result<(), SgError> {
        if self.channel_id(ServiceChannel::SystemBroadcast).is_none() {
            let pending = self
                .shared
                .session
                .lock()
                .channel_requested(ServiceChannel::SystemBroadcast);
            if !pending {
                self.start_channel(ServiceChannel::SystemBroadcast)?;
            }
            self.wait_channel(ServiceChannel::SystemBroadcast, self.wait_timeout)?;
        }
        config.apply_to(&mut nano_cfg);
        {
            let mut slot = self.shared.nano.lock();
            match &*slot {
                NanoSlot::Running(_) | NanoSlot::Connecting | NanoSlot::Requested { .. } => {
                    return Err(SgError::Stream("a gamestream is already started".into()))
                }
                NanoSlot::Idle | NanoSlot::Failed(_) => {}
            }
            *slot = NanoSlot::Requested {
                cfg: Box::new(nano_cfg),
                handler: nano_handler,
            };
        }
        let r = self.call(|s, now| s.start_gamestream(config, now));
        if r.is_err() {
            *self.shared.nano.lock() = NanoSlot::Idle;
        }
        r.map(|_| ())
    }

    /// Waits until the Nano client is connected (or failed to start).
    pub fn wait_gamestream(&self, timeout: Duration) -> Result<(), SgError> {
        if self.in_callback() {
            return Err(SgError::FromCallback("wait"));
        }
        let deadline = Instant::now() + timeout;
        let mut slot = self.shared.nano.lock();
        loop {
            match &*slot {
                NanoSlot::Running(_) => return Ok(()),
                NanoSlot::Failed(e) => return Err(SgError::Stream(e.clone())),
                NanoSlot::Idle => return Err(SgError::Stream("no gamestream was started".into())),
                NanoSlot::Requested { .. } | NanoSlot::Connecting => {}
            }
            if let Some(r) = self.shared.session.lock().close_reason().cloned() {
                return Err(SgError::Closed(r));
            }
            if self
                .shared
                .nano_cv
                .wait_until(&mut slot, deadline)
                .timed_out()
            {
                return match &*slot {
                    NanoSlot::Running(_) => Ok(()),
                    _ => Err(SgError::Timeout("the gamestream to start")),
                };
            }
        }
    }

    /// True while the Nano client is connected and running.
    pub fn stream_connected(&self) -> bool {
        matches!(&*self.shared.nano.lock(), NanoSlot::Running(c) if !c.is_closed())
    }

    /// Runs `f` with the running Nano client (input, keyframe requests,
    /// statistics); `None` when no stream runs.
    pub fn with_nano<T>(&self, f: impl FnOnce(&nano::Client) -> T) -> Option<T> {
        match &*self.shared.nano.lock() {
            NanoSlot::Running(c) => Some(f(c)),
            _ => None,
        }
    }

    /// Stops the gamestream: stops the Nano client (joining its threads)
    /// and sends StopGameStream. Returns the Nano statistics when a stream
    /// ran. Not callable from a Nano callback of the same stream.
    pub fn stop_gamestream(&self) -> Result<Option<nano::StreamStats>, SgError> {
        let stats = self.take_nano()?;
        if self.state() == SessionState::Connected
            && self.channel_id(ServiceChannel::SystemBroadcast).is_some()
        {
            self.call(|s, now| s.stop_gamestream(now))?;
        }
        Ok(stats)
    }

    /// Takes the running gamestream's Nano client out of this console
    /// client (after [`Client::wait_gamestream`] succeeded): the
    /// caller owns it from then on and stops it with [`nano::Client::stop`];
    /// [`Client::stop_gamestream`] then only sends StopGameStream, and
    /// disconnecting no longer stops it. `None` when no Nano client runs.
    pub fn take_gamestream(&self) -> Option<nano::Client> {
        if let Some(t) = self.shared.nano_thread.lock().take() {
            let _ = t.join();
        }
        let mut slot = self.shared.nano.lock();
        match std::mem::replace(&mut *slot, NanoSlot::Idle) {
            NanoSlot::Running(c) => {
                self.shared.nano_cv.notify_all();
                Some(c)
            }
            other => {
                *slot = other;
                None
            }
        }
    }

    fn take_nano(&self) -> Result<Option<nano::StreamStats>, SgError> {
        if let Some(t) = self.shared.nano_thread.lock().take() {
            let _ = t.join();
        }
        let slot = std::mem::replace(&mut *self.shared.nano.lock(), NanoSlot::Idle);
        self.shared.nano_cv.notify_all();
        match slot {
            NanoSlot::Running(c) => match c.stop() {
                Ok(st) => Ok(Some(st)),
                Err(nano::EngineError::FromCallback(w)) => Err(SgError::FromCallback(w)),
                Err(e) => Err(SgError::Stream(e.to_string())),
            },
            _ => Ok(None),
        }
    }

    /// Stops any gamestream, sends a disconnect and joins every thread.
    pub fn disconnect(mut self) -> Result<(), SgError> {
        if self.in_callback() {
            return Err(SgError::FromCallback("disconnect"));
        }
        self.shutdown(true);
        Ok(())
    }

    fn shutdown(&mut self, say_goodbye: bool) {
        let Some(t) = self.thread.take() else {
            return;
        };
        let _ = self.take_nano();
        if say_goodbye {
            self.shared.with_session(|s, now| s.disconnect(now));
        }
        self.shared.stop.store(true, Ordering::Release);
        self.shared.wake();
        let _ = t.join();
        // The last events (the session's Closed among them) are delivered
        // here, on the calling thread; no callback runs once this returns.
        dispatch(&self.shared);
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if self.in_callback() {
            // Dropped inside its own callback: let the thread end by itself.
            self.shared.stop.store(true, Ordering::Release);
            self.shared.wake();
            self.thread = None;
        } else {
            self.shutdown(true);
        }
    }
}

/// Reacts to events that concern the engine (the gamestream's Nano
/// client), then hands them to the user.
fn dispatch(sh: &Arc<Shared>) {
    loop {
        let Some(ev) = sh.pending.lock().pop_front() else {
            return;
        };
        if let Event::Session(se) = &ev {
            engine_hook(sh, se);
        }
        let r = {
            let mut h = sh.handler.lock();
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (h)(&ev)))
        };
        if let Err(p) = r {
            let message = xnano_ffi_support::panic_message(p.as_ref());
            log::error!("smartglass event handler panicked: {message}");
            if !matches!(ev, Event::Session(SessionEvent::Closed(_))) {
                sh.with_session(|s, _| s.fail(CloseReason::HandlerPanic { message }));
            }
        }
    }
}

fn engine_hook(sh: &Arc<Shared>, ev: &SessionEvent) {
    match ev {
        SessionEvent::GameStream(GameStreamEvent::State(st))
            if st.state == GameStreamState::Started =>
        {
            let mut slot = sh.nano.lock();
            if !matches!(&*slot, NanoSlot::Requested { .. }) {
                return;
            }
            let NanoSlot::Requested { cfg, handler } =
                std::mem::replace(&mut *slot, NanoSlot::Connecting)
            else {
                unreachable!("checked above");
            };
            let (ports, ip) = {
                let s = sh.session.lock();
                (s.gamestream().nano_ports(), s.console().address.ip())
            };
            let Some((tcp_port, udp_port)) = ports else {
                let error =
                    "console reported Started without announcing the Nano ports (Initializing)"
                        .to_string();
                *slot = NanoSlot::Failed(error.clone());
                sh.nano_cv.notify_all();
                sh.pending.lock().push_back(Event::NanoFailed { error });
                return;
            };
            drop(slot);
            let tcp = SocketAddr::new(ip, tcp_port);
            let udp = SocketAddr::new(ip, udp_port);
            let sh2 = sh.clone();
            let spawned = thread::Builder::new()
                .name("xnano-sg-nano-connect".into())
                .spawn(move || {
                    let r = nano::Client::connect(tcp, udp, *cfg, handler);
                    let ev = {
                        let mut slot = sh2.nano.lock();
                        let ev = match r {
                            Ok(c) => {
                                *slot = NanoSlot::Running(c);
                                Event::NanoConnected { tcp, udp }
                            }
                            Err(e) => {
                                let error = format!("nano connect to {tcp} / {udp}: {e}");
                                *slot = NanoSlot::Failed(error.clone());
                                Event::NanoFailed { error }
                            }
                        };
                        sh2.nano_cv.notify_all();
                        ev
                    };
                    sh2.pending.lock().push_back(ev);
                    sh2.wake();
                });
            match spawned {
                Ok(t) => *sh.nano_thread.lock() = Some(t),
                Err(e) => {
                    let error = format!("cannot spawn the nano connect thread: {e}");
                    *sh.nano.lock() = NanoSlot::Failed(error.clone());
                    sh.nano_cv.notify_all();
                    sh.pending.lock().push_back(Event::NanoFailed { error });
                }
            }
        }
        SessionEvent::GameStream(GameStreamEvent::Error(e)) => {
            let mut slot = sh.nano.lock();
            if matches!(&*slot, NanoSlot::Requested { .. }) {
                let error = format!(
                    "console reported GameStreamError {} ({}), value {}",
                    xnano_proto::smartglass::error_type_name(e.error_type),
                    e.error_type,
                    e.error_value
                );
                *slot = NanoSlot::Failed(error.clone());
                sh.nano_cv.notify_all();
                sh.pending.lock().push_back(Event::NanoFailed { error });
            }
        }
        SessionEvent::Closed(_) => {
            let _g = sh.nano.lock();
            sh.nano_cv.notify_all();
        }
        _ => {}
    }
}

fn socket_thread(sh: &Arc<Shared>) {
    let mut buf = vec![0u8; 65536];
    // On unix the timeout only bounds a receive after readiness.
    if let Err(e) = sh.socket.set_read_timeout(Some(POLL)) {
        sh.with_session(|s, _| {
            s.fail(CloseReason::Io {
                error: e.to_string(),
            })
        });
    }
    loop {
        dispatch(sh);
        if sh.stop.load(Ordering::Acquire) {
            return;
        }
        let (closed, deadline) = {
            let s = sh.session.lock();
            (s.state() == SessionState::Closed, s.poll_timeout())
        };
        // Closed: nothing more will happen on this session; wait until
        // stopped, delivering the events of late calls.
        let wait = if closed {
            None
        } else {
            deadline.map(|t| t.saturating_duration_since(Instant::now()))
        };
        let r = match wait_socket(sh, wait) {
            Ok(true) => Some(sh.socket.recv_from(&mut buf)),
            Ok(false) => None,
            Err(e) => Some(Err(e)),
        };
        let now = Instant::now();
        {
            let mut s = sh.session.lock();
            match r {
                Some(Ok((n, from))) => s.handle_datagram(&buf[..n], from, now),
                None => {}
                Some(Err(e)) if is_timeout(&e) => {}
                // ICMP port unreachable (the console is not listening yet).
                Some(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {}
                Some(Err(e)) => s.fail(CloseReason::Io {
                    error: e.to_string(),
                }),
            }
            s.handle_timeout(now);
            sh.drain(&mut s);
        }
        sh.session_cv.notify_all();
    }
}

/// Waits for a datagram (true), a wake-up or the timeout (false).
#[cfg(unix)]
fn wait_socket(sh: &Shared, wait: Option<Duration>) -> io::Result<bool> {
    match nano::engine::wait_readable(&sh.socket, &sh.waker, wait)? {
        nano::engine::Ready::Readable => Ok(true),
        nano::engine::Ready::Woken => {
            sh.waker.drain();
            Ok(false)
        }
        nano::engine::Ready::Timeout => Ok(false),
    }
}

/// Without `poll`: the receive itself waits, at most [`POLL`].
#[cfg(not(unix))]
fn wait_socket(sh: &Shared, wait: Option<Duration>) -> io::Result<bool> {
    let w = wait.unwrap_or(POLL).clamp(Duration::from_millis(1), POLL);
    sh.socket.set_read_timeout(Some(w))?;
    Ok(true)
}
