//! The simulated console's SmartGlass side: discovery responder, power-on,
//! the encrypted session (connect, local join, acknowledgements, heartbeat,
//! channels, console status, commands) and the SystemBroadcast gamestream
//! handshake that starts the Nano host of [`crate::nano`].
//!
//! [`HostSession`] is the sans-IO core; [`Host`] runs it on one
//! UDP socket thread:
//!
//! ```no_run
//! use xnano_sim::smartglass::{Host, SimConfig};
//! let sim = Host::start(SimConfig::default()).unwrap();
//! println!("SmartGlass on {}, live id {}", sim.addr(), sim.live_id());
//! ```
//!
//! Threads: one socket thread receives, runs timers and sends. Calls on
//! [`Host`] lock the host briefly and send what they produce from the
//! caller's thread. The Nano host ([`nano::Host`]) is started when a client
//! asks for a gamestream and stopped on StopGameStream, disconnect, timeout,
//! power off or [`Host::stop`]. The host lock and the Nano server
//! lock are never held together.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};
use parking_lot::Mutex;

use super::session::{
    ClientInfo, GameStreamInfo, HostAction, HostEvent, HostSession, HostStats, ReceivedMessage,
    ServiceChannel,
};

use crate::nano;
use xnano_proto::crypto::Curve;
use xnano_proto::wire::sg::common::{
    ClientType, ConnectionResult, Guid, PairedIdentityState, PrimaryDeviceFlags,
};
use xnano_proto::wire::sg::payloads::{
    ActiveTitle, ActiveTitleLocation, ConsoleStatus, DisconnectReason, MediaState, MessagePayload,
    TextConfiguration, TitleDisposition,
};

/// Errors starting the simulated console.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Binding or configuring the socket failed.
    #[error("smartglass socket: {0}")]
    Io(#[from] std::io::Error),
    /// The certificate could not be generated.
    #[error("certificate: {0}")]
    Certificate(String),
    /// A configuration value is unusable.
    #[error("configuration: {0}")]
    Config(String),
}

/// Fault injection for tests; can be changed while running
/// ([`Host::set_faults`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Answer every connect with this result (no session).
    pub reject_connect: Option<ConnectionResult>,
    /// Every encrypted packet the console sends carries a wrong HMAC.
    pub corrupt_hmac: bool,
    /// Never acknowledge client messages (heartbeats included).
    pub drop_acks: bool,
    /// Send nothing at all (input is still handled, counted and logged).
    pub silent: bool,
    /// Do not answer discovery requests.
    pub ignore_discovery: bool,
    /// Do not resend unacknowledged messages.
    pub no_resend: bool,
    /// Refuse channel start requests for these channels (SG_E_FAIL).
    pub reject_channels: Vec<ServiceChannel>,
    /// Answer StartGameStream with GameStreamError {errorType, errorValue}.
    pub gamestream_error: Option<(i64, i64)>,
}

/// What the console says about gamestreaming (SystemBroadcast JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct GameStreamSettings {
    /// GameStreamEnabled.enabled; when false no stream starts.
    pub enabled: bool,
    /// GameStreamEnabled.canBeEnabled.
    pub can_be_enabled: bool,
    /// GameStreamEnabled.majorProtocolVersion.
    pub major_protocol_version: u32,
    /// GameStreamEnabled.minorProtocolVersion.
    pub minor_protocol_version: u32,
    /// PreviewStatus.isPublicPreview.
    pub is_public_preview: bool,
    /// PreviewStatus.isInternalPreview.
    pub is_internal_preview: bool,
    /// State Started: isWirelessConnection.
    pub wireless: bool,
    /// State Started: wirelessChannel.
    pub wireless_channel: u32,
    /// State Started: transmitLinkSpeed (bit/s).
    pub transmit_link_speed: u64,
    /// Send a Telemetry message after Started.
    pub send_telemetry: bool,
}

impl Default for GameStreamSettings {
    /// The captured console's values: enabled, protocol 6.0, wired, 1 Gbit/s.
    fn default() -> Self {
        GameStreamSettings {
            enabled: true,
            can_be_enabled: true,
            major_protocol_version: super::session::NANO_PROTOCOL_MAJOR,
            minor_protocol_version: super::session::NANO_PROTOCOL_MINOR,
            is_public_preview: false,
            is_internal_preview: false,
            wireless: false,
            wireless_channel: 0,
            transmit_link_speed: 1_000_000_000,
            send_telemetry: true,
        }
    }
}

/// Configuration of the simulated console.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Address to bind (default 127.0.0.1). The Nano host binds the same.
    pub bind_ip: IpAddr,
    /// UDP port (0: ephemeral; real consoles use 5050). Default 0.
    pub port: u16,
    /// Console name (discovery response).
    pub name: String,
    /// Console UUID (discovery response).
    pub uuid: Guid,
    /// Live ID: the certificate's common name (power-on, power-off).
    pub live_id: String,
    /// Curve of the console key (and thus of every client's key).
    pub curve: Curve,
    /// Device type announced (XboxOne).
    pub device_type: ClientType,
    /// Primary device flags announced (default: anonymous and
    /// authenticated users allowed).
    pub flags: PrimaryDeviceFlags,
    /// Last error announced.
    pub last_error: u32,
    /// The console starts on (default true).
    pub powered_on: bool,
    /// Answer discovery while off (default false).
    pub answer_discovery_when_off: bool,
    /// Console status sent after each local join.
    pub console_status: ConsoleStatus,
    /// Media state sent when SystemMedia opens and after media commands
    /// (`None`: no media).
    pub media_state: Option<MediaState>,
    /// Gamestream announcements.
    pub gamestream: GameStreamSettings,
    /// The Nano host's configuration (`bind_ip` is replaced by `bind_ip`).
    pub nano: nano::SimConfig,
    /// Participant id of the first client (as captured: 31); later
    /// clients count up.
    pub first_participant_id: u32,
    /// At most this many clients at once.
    pub max_clients: usize,
    /// Unacknowledged need-ack messages are sent again after this.
    pub resend_interval: Duration,
    /// ... at most this many times.
    pub max_resends: u32,
    /// A client silent this long is dropped.
    pub client_timeout: Duration,
    /// How many received messages [`Host::received_messages`] keeps.
    pub message_log_len: usize,
    /// Fault injection.
    pub faults: Faults,
    /// The console's own heartbeats: every this long each connected client
    /// gets an empty acknowledgement that sets need-ack (as the reference
    /// client sends its heartbeats), resent like any need-ack message until
    /// acked. `None` (the default): the console never starts one.
    pub heartbeat_interval: Option<Duration>,
    /// Pace the Nano host's UDP at the rate the client's StartGameStream
    /// configuration asks for (`urcpFixedRate`, else `urcpMaximumRate`),
    /// unless `nano.pace_bps` sets a rate of its own. Off by default
    /// (every frame in one burst).
    pub pace_from_gamestream: bool,
}

/// The Home title as in the captured console status.
pub fn home_console_status() -> ConsoleStatus {
    ConsoleStatus {
        live_tv_provider: 0,
        major_version: 10,
        minor_version: 0,
        build_number: 14393,
        locale: "en-US".into(),
        active_titles: vec![ActiveTitle {
            title_id: 714681658,
            disposition: TitleDisposition {
                has_focus: true,
                title_location: ActiveTitleLocation::StartView,
            },
            product_id: [0; 16],
            sandbox_id: [0; 16],
            aum: "Xbox.Home_8wekyb3d8bbwe!Xbox.Home.Application".into(),
        }],
    }
}

/// A random Live ID in the consoles' format (`FD00` + 12 hex digits).
pub fn random_live_id() -> String {
    let b: [u8; 6] = rand::random();
    format!("FD00{}", hex::encode_upper(b))
}

impl Default for SimConfig {
    /// Loopback, ephemeral port, P-256, random UUID and Live ID, anonymous
    /// connects allowed, the Home title running, no media, the default
    /// Nano host.
    fn default() -> Self {
        let mut uuid: Guid = rand::random();
        uuid[6] = (uuid[6] & 0x0F) | 0x40;
        uuid[8] = (uuid[8] & 0x3F) | 0x80;
        SimConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            name: "XboxOne".into(),
            uuid,
            live_id: random_live_id(),
            curve: Curve::P256,
            device_type: ClientType::XboxOne,
            flags: PrimaryDeviceFlags::AllowAnonymousUsers
                | PrimaryDeviceFlags::AllowAuthenticatedUsers,
            last_error: 0,
            powered_on: true,
            answer_discovery_when_off: false,
            console_status: home_console_status(),
            media_state: None,
            gamestream: GameStreamSettings::default(),
            nano: nano::SimConfig::default(),
            first_participant_id: 31,
            max_clients: 8,
            resend_interval: Duration::from_millis(1500),
            max_resends: 3,
            client_timeout: Duration::from_secs(15),
            message_log_len: 4096,
            faults: Faults::default(),
            heartbeat_interval: None,
            pace_from_gamestream: false,
        }
    }
}

/// Capacity of the event channel.
pub const EVENT_BUFFER: usize = 65536;
const MAX_POLL: Duration = Duration::from_millis(25);

struct Shared {
    host: Mutex<HostSession>,
    nano: Mutex<Option<nano::Host>>,
    nano_cfg: nano::SimConfig,
    pace_from_gamestream: bool,
    last_nano_stats: Mutex<Option<nano::SimStats>>,
    socket: UdpSocket,
    events_tx: Sender<HostEvent>,
    send_errors: std::sync::atomic::AtomicU64,
}

impl Shared {
    /// Carries out the host's actions (starting or stopping the Nano host)
    /// until there are none, then sends what the host produced and
    /// forwards its events. Actions go first so that a client told
    /// "Stopped" finds the Nano host already stopped.
    fn pump(&self) {
        loop {
            let actions: Vec<HostAction> = {
                let mut h = self.host.lock();
                let a: Vec<HostAction> = std::iter::from_fn(|| h.poll_action()).collect();
                if a.is_empty() {
                    self.flush_locked(&mut h);
                    return;
                }
                a
            };
            for a in actions {
                match a {
                    HostAction::StartNano { peer } => {
                        let res = self.ensure_nano();
                        let mut h = self.host.lock();
                        match res {
                            Ok((t, u)) => h.nano_started(Instant::now(), peer, t, u),
                            Err(e) => h.nano_failed(Instant::now(), peer, e),
                        }
                    }
                    HostAction::StopNano => self.stop_nano(),
                }
            }
        }
    }

    fn flush_locked(&self, h: &mut HostSession) {
        while let Some((to, bytes)) = h.poll_transmit() {
            if let Err(e) = self.socket.send_to(&bytes, to) {
                self.send_errors.fetch_add(1, Ordering::Relaxed);
                log::debug!("sim console: send to {to}: {e}");
            }
        }
        while let Some(e) = h.poll_event() {
            if self.events_tx.try_send(e).is_err() {
                h.note_event_dropped();
            }
        }
    }

    fn ensure_nano(&self) -> Result<(u16, u16), String> {
        // The host lock is not held while the Nano lock is.
        let requested = if self.pace_from_gamestream {
            self.host.lock().requested_pace_bps()
        } else {
            None
        };
        let mut n = self.nano.lock();
        if let Some(s) = n.as_ref() {
            return Ok((s.tcp_addr().port(), s.udp_addr().port()));
        }
        let mut cfg = self.nano_cfg.clone();
        if cfg.pace_bps == 0 {
            cfg.pace_bps = requested.unwrap_or(0);
        }
        let s = nano::Host::start(cfg).map_err(|e| e.to_string())?;
        let ports = (s.tcp_addr().port(), s.udp_addr().port());
        *n = Some(s);
        Ok(ports)
    }

    fn stop_nano(&self) {
        let server = self.nano.lock().take();
        if let Some(mut s) = server {
            *self.last_nano_stats.lock() = Some(s.stats());
            s.stop();
        }
    }
}

/// The simulated console on a real UDP socket.
pub struct Host {
    shared: Arc<Shared>,
    addr: SocketAddr,
    live_id: String,
    certificate: Vec<u8>,
    curve: Curve,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    events_rx: Receiver<HostEvent>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host")
            .field("addr", &self.addr)
            .field("live_id", &self.live_id)
            .field("curve", &self.curve)
            .finish()
    }
}

impl Host {
    /// Generates the key and certificate, binds the socket and starts the
    /// socket thread.
    pub fn start(cfg: SimConfig) -> Result<Host, SimError> {
        if cfg.max_clients == 0 {
            return Err(SimError::Config("max_clients must be at least 1".into()));
        }
        let host = HostSession::new(&cfg)?;
        let socket = UdpSocket::bind(SocketAddr::new(cfg.bind_ip, cfg.port))?;
        socket.set_broadcast(true)?;
        socket.set_read_timeout(Some(MAX_POLL))?;
        let addr = socket.local_addr()?;
        let mut nano_cfg = cfg.nano.clone();
        nano_cfg.bind_ip = cfg.bind_ip;
        let (events_tx, events_rx) = crossbeam_channel::bounded(EVENT_BUFFER);
        let live_id = host.live_id().to_string();
        let certificate = host.certificate().to_vec();
        let curve = host.curve();
        let shared = Arc::new(Shared {
            host: Mutex::new(host),
            nano: Mutex::new(None),
            nano_cfg,
            pace_from_gamestream: cfg.pace_from_gamestream,
            last_nano_stats: Mutex::new(None),
            socket,
            events_tx,
            send_errors: Default::default(),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let shared = shared.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("xnano-sim-sg".into())
                .spawn(move || socket_thread(shared, stop))?
        };
        Ok(Host {
            shared,
            addr,
            live_id,
            certificate,
            curve,
            stop,
            thread: Some(thread),
            events_rx,
        })
    }

    /// The SmartGlass address (send discovery and connect here).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Live ID.
    pub fn live_id(&self) -> &str {
        &self.live_id
    }

    /// The DER certificate of the discovery response.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// The curve of the console key.
    pub fn curve(&self) -> Curve {
        self.curve
    }

    /// The console's public key (uncompressed SEC1 point).
    pub fn public_key(&self) -> Vec<u8> {
        self.shared.host.lock().public_key()
    }

    /// The event stream (a clone of one receiver: several clones share
    /// the events, each event goes to one of them).
    pub fn events(&self) -> Receiver<HostEvent> {
        self.events_rx.clone()
    }

    /// Every message received so far (acknowledgements excluded), oldest
    /// first, bounded by `message_log_len`.
    pub fn received_messages(&self) -> Vec<ReceivedMessage> {
        self.shared.host.lock().received_messages()
    }

    /// Waits until a received message matches `pred` (checks the log every
    /// 10 ms); returns it, or `None` after `timeout`.
    pub fn wait_for_message(
        &self,
        timeout: Duration,
        mut pred: impl FnMut(&ReceivedMessage) -> bool,
    ) -> Option<ReceivedMessage> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(m) = self.received_messages().into_iter().find(|m| pred(m)) {
                return Some(m);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits until `cond` holds for the stats; returns the last stats and
    /// whether it held.
    pub fn wait_for_stats(
        &self,
        timeout: Duration,
        mut cond: impl FnMut(&HostStats) -> bool,
    ) -> (HostStats, bool) {
        let deadline = Instant::now() + timeout;
        loop {
            let st = self.stats();
            if cond(&st) {
                return (st, true);
            }
            if Instant::now() >= deadline {
                return (st, false);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SmartGlass counters.
    pub fn stats(&self) -> HostStats {
        self.shared.host.lock().stats()
    }

    /// The connected clients.
    pub fn clients(&self) -> Vec<ClientInfo> {
        self.shared.host.lock().clients()
    }

    /// Whether the console is on.
    pub fn is_powered_on(&self) -> bool {
        self.shared.host.lock().is_powered_on()
    }

    /// Whether a gamestream is announced or starting.
    pub fn streaming(&self) -> bool {
        self.shared.host.lock().streaming()
    }

    /// The announced (or starting) gamestream.
    pub fn gamestream(&self) -> Option<GameStreamInfo> {
        self.shared.host.lock().gamestream()
    }

    /// The running Nano host's stats, or the last ones of a stopped host
    /// (`None` before any gamestream).
    pub fn nano_server_stats(&self) -> Option<nano::SimStats> {
        if let Some(s) = self.shared.nano.lock().as_ref() {
            return Some(s.stats());
        }
        self.shared.last_nano_stats.lock().clone()
    }

    /// The running Nano host's (TCP, UDP) addresses.
    pub fn nano_addrs(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.shared
            .nano
            .lock()
            .as_ref()
            .map(|s| (s.tcp_addr(), s.udp_addr()))
    }

    /// Runs `f` on the running Nano host (e.g. to read its events or sent
    /// frames); `None` when no gamestream runs. `f` runs under the Nano
    /// lock: it must not call back into this `Host`.
    pub fn with_nano_server<R>(&self, f: impl FnOnce(&nano::Host) -> R) -> Option<R> {
        self.shared.nano.lock().as_ref().map(f)
    }

    /// The fault injection in force.
    pub fn faults(&self) -> Faults {
        self.shared.host.lock().faults().clone()
    }

    /// Replaces the fault injection.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.host.lock().set_faults(faults);
    }

    fn with_host<R>(&self, f: impl FnOnce(&mut HostSession, Instant) -> R) -> R {
        let r = {
            let mut h = self.shared.host.lock();
            f(&mut h, Instant::now())
        };
        self.shared.pump();
        r
    }

    /// Replaces the console status and sends it to joined clients; returns
    /// how many.
    pub fn set_console_status(&self, status: ConsoleStatus) -> usize {
        self.with_host(|h, now| h.set_console_status(now, status))
    }

    /// Replaces the media state and sends it on SystemMedia.
    pub fn set_media_state(&self, state: MediaState) -> usize {
        self.with_host(|h, now| h.set_media_state(now, state))
    }

    /// Sends a system text configuration on SystemText.
    pub fn send_text_configuration(&self, cfg: TextConfiguration) -> usize {
        self.with_host(|h, now| h.send_text_configuration(now, cfg))
    }

    /// Sends a paired identity state change.
    pub fn send_paired_identity_state(&self, state: PairedIdentityState) -> usize {
        self.with_host(|h, now| h.send_paired_identity_state(now, state))
    }

    /// Sends any message on `channel` to clients that opened it.
    pub fn send_message(
        &self,
        channel: ServiceChannel,
        payload: MessagePayload,
        need_ack: bool,
    ) -> usize {
        self.with_host(|h, now| h.send_to_clients(now, channel, payload, need_ack))
    }

    /// Sends a JSON value on `channel` (fragmented when long).
    pub fn send_json(&self, channel: ServiceChannel, value: &serde_json::Value) -> usize {
        self.with_host(|h, now| h.send_json(now, channel, value))
    }

    /// Sends every client a Disconnect and ends the sessions.
    pub fn disconnect_clients(&self, reason: DisconnectReason) {
        self.with_host(|h, now| h.disconnect_all(now, reason, 0))
    }

    /// Turns the console off (clients get a Disconnect with reason PowerOff).
    pub fn power_off(&self) {
        self.with_host(|h, now| h.power_off(now))
    }

    /// Turns the console on.
    pub fn power_on(&self) {
        self.with_host(|h, _| h.power_on())
    }

    /// Stops the socket thread and the Nano host; idempotent (also run on
    /// drop).
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.shared.stop_nano();
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.stop();
    }
}

fn socket_thread(shared: Arc<Shared>, stop: Arc<AtomicBool>) {
    let mut buf = vec![0u8; 65536];
    let mut last_timeout = None;
    while !stop.load(Ordering::SeqCst) {
        let wait = {
            let h = shared.host.lock();
            match h.poll_timeout() {
                Some(t) => t
                    .saturating_duration_since(Instant::now())
                    .clamp(Duration::from_millis(1), MAX_POLL),
                None => MAX_POLL,
            }
        };
        if last_timeout != Some(wait) {
            let _ = shared.socket.set_read_timeout(Some(wait));
            last_timeout = Some(wait);
        }
        match shared.socket.recv_from(&mut buf) {
            Ok((n, from)) => {
                let mut h = shared.host.lock();
                h.handle_datagram(Instant::now(), from, &buf[..n]);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                        | std::io::ErrorKind::ConnectionReset
                ) => {}
            Err(e) => {
                log::warn!("sim console: recv: {e}");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        shared.host.lock().handle_timeout(Instant::now());
        shared.pump();
    }
}
