//! Sans-IO core of the simulated console's SmartGlass side.
//!
//! [`HostSession`] takes datagrams ([`HostSession::handle_datagram`]) and
//! the passing of time ([`HostSession::handle_timeout`]) with an explicit
//! `now`, and produces datagrams to send ([`HostSession::poll_transmit`]),
//! events ([`HostSession::poll_event`]) and actions for its engine
//! ([`HostSession::poll_action`]: start or stop the Nano host). It owns no
//! socket, thread or clock.
//!
//! Behaviour follows the captured session (vectors/smartglass/sg_capture.pcap)
//! where it shows something: the console acks every need-ack message on the
//! ack channel (0x1000000000000000), its acks and its own messages share one
//! sequence counter starting at 1, it sends console status after the local
//! join, answers channel start requests with need-ack responses on channel
//! ids counting up from 148, and fragments payloads longer than 1024 bytes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::host::{Faults, GameStreamSettings, SimConfig, SimError};
use xnano_proto::crypto::{CertificateInfo, Crypto, Curve, KeyPair};
use xnano_proto::wire::sg::common::{
    peek_packet_type, ClientType, ConnectionResult, PacketType, PairedIdentityState,
    PrimaryDeviceFlags,
};
use xnano_proto::wire::sg::json::{split_for_sending, JsonReassembler};
use xnano_proto::wire::sg::message::{FragmentReassembler, Message};
use xnano_proto::wire::sg::payloads::{Acknowledge, Fragment, MessageType};
use xnano_proto::wire::sg::payloads::{
    ChannelStartResponse, ConsoleStatus, Disconnect, DisconnectReason, LocalJoin, MediaCommand,
    MediaCommandResult, MediaControlCommand, MediaPlaybackStatus, MediaState, MessagePayload,
    PairedIdentityStateChanged, SGResultCode, SystemTextAcknowledge, TextConfiguration,
};
use xnano_proto::wire::sg::simple::{
    ConnectRequestProtected, ConnectRequestUnprotected, ConnectResponse, ConnectResponseProtected,
    ConnectResponseUnprotected, DiscoveryResponse, SimpleBody, SimplePacket,
};
use xnano_proto::wire::WireError;

/// Channel id of the core channel.
pub const CHANNEL_CORE: u64 = 0;
/// Channel id acknowledgements are sent on.
pub const CHANNEL_ACK: u64 = 0x1000_0000_0000_0000;
/// The first channel id handed out by channel start responses (as captured).
pub const FIRST_CHANNEL_ID: u64 = 148;
/// Largest fragment data of an outgoing fragmented message (as captured).
pub const FRAGMENT_DATA_LEN: usize = 1024;
/// Protocol versions the console announces in GameStreamEnabled.
pub const NANO_PROTOCOL_MAJOR: u32 = 6;
/// Minor protocol version.
pub const NANO_PROTOCOL_MINOR: u32 = 0;

const MAX_PENDING_CONNECTS: usize = 16;
const MAX_CONNECT_FRAGMENTS: u32 = 16;
const CONNECT_GROUP_TTL: Duration = Duration::from_secs(10);
const MAX_RX_WINDOW: usize = 4096;
const MAX_PENDING_OUT: usize = 1024;

pub use xnano_proto::smartglass::ServiceChannel;

/// A message the console received from a client (acknowledgements are
/// counted in the stats, not logged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReceivedMessage {
    /// The client's address.
    pub peer: SocketAddr,
    /// The client's participant id.
    pub participant_id: u32,
    /// Sequence number (of the last fragment for reassembled messages).
    pub sequence_number: u32,
    /// Channel id of the header.
    pub channel_id: u64,
    /// The service channel that id belongs to, when known.
    pub channel: Option<ServiceChannel>,
    /// Message type.
    pub msg_type: MessageType,
    /// The need-ack flag.
    pub need_ack: bool,
    /// The payload (reassembled when it came in fragments).
    pub payload: MessagePayload,
}

/// Why a datagram was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RejectKind {
    /// The HMAC did not match (wrong key or altered packet).
    BadHmac,
    /// The packet could not be parsed.
    Malformed,
    /// The connect request's public key is on another curve or not a point.
    WrongKey,
    /// A message from an address without a session.
    UnknownPeer,
    /// The console is off.
    PoweredOff,
}

/// Something that happened in the simulated console.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum HostEvent {
    /// A discovery request came in.
    DiscoveryRequest {
        /// Sender.
        from: SocketAddr,
        /// The client type it announced.
        client_type: ClientType,
        /// Whether it was answered.
        answered: bool,
    },
    /// A power-on request came in.
    PowerOnRequest {
        /// Sender.
        from: SocketAddr,
        /// The Live ID it named.
        live_id: String,
        /// Whether that is ours.
        matched: bool,
    },
    /// The console turned on (power-on request or API).
    PoweredOn,
    /// The console turned off (power-off message or API).
    PoweredOff {
        /// A client's power-off message did it.
        by_client: bool,
    },
    /// A client connected.
    Connected {
        /// The client's address.
        peer: SocketAddr,
        /// Its participant id.
        participant_id: u32,
        /// The curve of the key exchange.
        #[serde(serialize_with = "ser_curve")]
        curve: Curve,
        /// It sent a user hash and auth token.
        authenticated: bool,
        /// The user hash (empty when anonymous).
        userhash: String,
        /// Length of the auth token.
        auth_token_len: usize,
        /// How many connect request fragments carried it.
        fragments: u32,
    },
    /// A connect was refused.
    ConnectRejected {
        /// The client's address.
        peer: SocketAddr,
        /// The result sent.
        result: ConnectionResult,
    },
    /// A client sent its local join.
    LocalJoin {
        /// The client's address.
        peer: SocketAddr,
        /// The join.
        join: LocalJoin,
    },
    /// A channel was started.
    ChannelStarted {
        /// The client's address.
        peer: SocketAddr,
        /// Which channel.
        channel: ServiceChannel,
        /// The id given.
        channel_id: u64,
        /// The request id.
        request_id: u32,
        /// Title id (title channels).
        title_id: u32,
    },
    /// A channel start was refused.
    ChannelRejected {
        /// The client's address.
        peer: SocketAddr,
        /// Which channel (`None`: unknown GUID).
        channel: Option<ServiceChannel>,
        /// The request id.
        request_id: u32,
    },
    /// A client stopped a channel.
    ChannelStopped {
        /// The client's address.
        peer: SocketAddr,
        /// The channel id.
        channel_id: u64,
    },
    /// A client message (other than an acknowledgement).
    Message(ReceivedMessage),
    /// A (reassembled) JSON text arrived.
    Json {
        /// The client's address.
        peer: SocketAddr,
        /// The channel.
        channel: Option<ServiceChannel>,
        /// The JSON text.
        text: String,
    },
    /// A client asked for a gamestream.
    GameStreamRequested {
        /// The client's address.
        peer: SocketAddr,
        /// The configuration it sent.
        configuration: serde_json::Value,
    },
    /// The Nano host is running and its ports were announced.
    GameStreamStarted {
        /// The client's address.
        peer: SocketAddr,
        /// Session id announced.
        session_id: String,
        /// Nano TCP port.
        tcp_port: u16,
        /// Nano UDP port.
        udp_port: u16,
    },
    /// The gamestream ended (stop request, disconnect, power off).
    GameStreamStopped {
        /// The client's address.
        peer: SocketAddr,
        /// Its session id.
        session_id: String,
    },
    /// The gamestream could not start.
    GameStreamFailed {
        /// The client's address.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
    /// A client disconnected.
    ClientDisconnected {
        /// The client's address.
        peer: SocketAddr,
        /// Its participant id.
        participant_id: u32,
        /// The reason it gave.
        reason: DisconnectReason,
        /// The error code it gave.
        error_code: u32,
    },
    /// A client went silent longer than the client timeout.
    ClientTimedOut {
        /// The client's address.
        peer: SocketAddr,
        /// Its participant id.
        participant_id: u32,
    },
    /// A need-ack message was never acknowledged.
    ResendsExhausted {
        /// The client's address.
        peer: SocketAddr,
        /// The message's sequence number.
        sequence_number: u32,
        /// Its type.
        msg_type: MessageType,
    },
    /// A datagram was refused.
    PacketRejected {
        /// Sender.
        from: SocketAddr,
        /// Category.
        kind: RejectKind,
        /// Details.
        reason: String,
    },
}

fn ser_curve<S: serde::Serializer>(c: &Curve, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match c {
        Curve::P256 => "P-256",
        Curve::P384 => "P-384",
        Curve::P521 => "P-521",
    })
}

/// Something the engine must do for the host.
#[derive(Debug, Clone, PartialEq)]
pub enum HostAction {
    /// Start the Nano host (or reuse the running one), then call
    /// [`HostSession::nano_started`] or [`HostSession::nano_failed`].
    StartNano {
        /// The client that asked.
        peer: SocketAddr,
    },
    /// Stop the Nano host.
    StopNano,
}

/// Counters of the SmartGlass side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HostStats {
    /// Datagrams handled.
    pub datagrams_received: u64,
    /// Datagrams produced for sending.
    pub datagrams_sent: u64,
    /// Datagrams not sent because the console is silent (fault injection).
    pub datagrams_suppressed: u64,
    /// Discovery requests received.
    pub discovery_requests: u64,
    /// Discovery responses sent.
    pub discovery_responses: u64,
    /// Power-on requests received.
    pub power_on_requests: u64,
    /// Connect request packets received (fragments count one each).
    pub connect_requests: u64,
    /// Connects accepted.
    pub connects_accepted: u64,
    /// Connects refused.
    pub connects_rejected: u64,
    /// Messages received (acknowledgements included, duplicates excluded).
    pub messages_received: u64,
    /// Messages received again (same sequence number).
    pub duplicates: u64,
    /// Acknowledgements sent.
    pub acks_sent: u64,
    /// Acknowledgements received.
    pub acks_received: u64,
    /// Heartbeats (empty need-ack acknowledgements) received.
    pub heartbeats: u64,
    /// Heartbeats the console sent on its own ([`SimConfig::heartbeat_interval`]).
    pub heartbeats_sent: u64,
    /// The console's heartbeats the client acknowledged.
    pub heartbeats_acked: u64,
    /// Need-ack messages sent again.
    pub resends: u64,
    /// Need-ack messages given up on.
    pub resends_exhausted: u64,
    /// Packets whose HMAC did not match.
    pub bad_hmac: u64,
    /// Packets that could not be parsed.
    pub malformed: u64,
    /// Connect requests with a key on another curve or not a point.
    pub wrong_key: u64,
    /// Messages from addresses without a session.
    pub unknown_peer: u64,
    /// Channels started.
    pub channels_started: u64,
    /// Gamestreams started.
    pub gamestreams_started: u64,
    /// Gamestreams stopped.
    pub gamestreams_stopped: u64,
    /// Clients dropped for silence.
    pub clients_timed_out: u64,
    /// Events dropped because the event queue was full.
    pub events_dropped: u64,
}

/// The gamestream the console announced (or is starting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GameStreamInfo {
    /// The client it is for.
    pub peer: SocketAddr,
    /// The session id of the State messages.
    pub session_id: String,
    /// Nano TCP port (once the Nano host runs).
    pub tcp_port: Option<u16>,
    /// Nano UDP port (once the Nano host runs).
    pub udp_port: Option<u16>,
}

/// A connected client, as [`HostSession::clients`] reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientInfo {
    /// Address.
    pub peer: SocketAddr,
    /// Participant id.
    pub participant_id: u32,
    /// It connected with a user hash and token.
    pub authenticated: bool,
    /// It sent its local join.
    pub joined: bool,
    /// Started channels: (channel, id).
    pub channels: Vec<(ServiceChannel, u64)>,
    /// The 64-byte session secret (for dissecting captures in tests).
    #[serde(serialize_with = "hex_and_len")]
    pub shared_secret: Vec<u8>,
}

#[derive(Debug)]
struct OpenChannel {
    id: u64,
    kind: ServiceChannel,
}

#[derive(Debug)]
struct PendingOut {
    seq: u32,
    msg_type: MessageType,
    bytes: Vec<u8>,
    last_sent: Instant,
    tries: u32,
}

#[derive(Debug)]
struct Session {
    peer: SocketAddr,
    crypto: Crypto,
    client_key: Vec<u8>,
    participant_id: u32,
    authenticated: bool,
    joined: bool,
    connect_response: Vec<u8>,
    next_seq: u32,
    channels: Vec<OpenChannel>,
    next_channel_id: u64,
    rx_low: u32,
    rx_seen: BTreeSet<u32>,
    pending_out: VecDeque<PendingOut>,
    frags: FragmentReassembler,
    json: JsonReassembler,
    last_heard: Instant,
    /// When the console's next own heartbeat goes out (`None`: off).
    next_heartbeat: Option<Instant>,
    /// Sequence numbers of the console's heartbeats not acked yet.
    heartbeats_out: Vec<u32>,
}

impl Session {
    fn channel_kind(&self, id: u64) -> Option<ServiceChannel> {
        match id {
            CHANNEL_CORE => Some(ServiceChannel::Core),
            _ => self.channels.iter().find(|c| c.id == id).map(|c| c.kind),
        }
    }

    fn channel_id(&self, kind: ServiceChannel) -> Option<u64> {
        match kind {
            ServiceChannel::Core => Some(CHANNEL_CORE),
            _ => self.channels.iter().find(|c| c.kind == kind).map(|c| c.id),
        }
    }

    /// True when `seq` was seen before; records it otherwise.
    fn note_received(&mut self, seq: u32) -> bool {
        if seq <= self.rx_low || !self.rx_seen.insert(seq) {
            return true;
        }
        while self.rx_seen.remove(&(self.rx_low.wrapping_add(1))) {
            self.rx_low = self.rx_low.wrapping_add(1);
        }
        while self.rx_seen.len() > MAX_RX_WINDOW {
            if let Some(first) = self.rx_seen.pop_first() {
                self.rx_low = first;
            }
        }
        false
    }

    fn take_seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        s
    }
}

#[derive(Debug)]
struct PendingConnect {
    peer: SocketAddr,
    client_key: Vec<u8>,
    start: u32,
    end: u32,
    parts: BTreeMap<u32, ConnectRequestProtected>,
    first_seen: Instant,
}

#[derive(Debug, Clone)]
struct Stream {
    owner: SocketAddr,
    session_id: String,
    ports: Option<(u16, u16)>,
}

/// The console's SmartGlass host state machine (sans-IO).
pub struct HostSession {
    cfg: SimConfig,
    key: KeyPair,
    certificate: Vec<u8>,
    cert_info: CertificateInfo,
    faults: Faults,
    powered_on: bool,
    sessions: Vec<Session>,
    pending_connects: Vec<PendingConnect>,
    next_participant_id: u32,
    transmits: VecDeque<(SocketAddr, Vec<u8>)>,
    events: VecDeque<HostEvent>,
    actions: VecDeque<HostAction>,
    log: VecDeque<ReceivedMessage>,
    stats: HostStats,
    console_status: ConsoleStatus,
    media_state: Option<MediaState>,
    stream: Option<Stream>,
    json_datagram_id: u64,
    /// The pacing rate the last StartGameStream asked for (urcp rates).
    requested_pace_bps: Option<u64>,
}

impl std::fmt::Debug for HostSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostSession")
            .field("live_id", &self.cfg.live_id)
            .field("curve", &self.key.curve())
            .field("sessions", &self.sessions.len())
            .finish()
    }
}

/// The pacing rate (bit/s) a StartGameStream configuration asks for: its
/// URCP fixed rate when positive, else its maximum rate when positive. The
/// values are JSON strings (as the client sends them) or numbers. The
/// sub-burst shape (`udpBurstDurationMs`, `udpSubBurstGroups`) is not
/// modelled: the rate is spread evenly.
pub fn pace_from_configuration(configuration: &serde_json::Value) -> Option<u64> {
    let get = |k: &str| -> Option<i64> {
        match configuration.get(k)? {
            serde_json::Value::String(s) => s.trim().parse().ok(),
            v => v.as_i64(),
        }
    };
    [get("urcpFixedRate"), get("urcpMaximumRate")]
        .into_iter()
        .flatten()
        .find(|r| *r > 0)
        .map(|r| r as u64)
}

fn new_session_id() -> String {
    let g: [u8; 16] = rand::random();
    format!(
        "{{{}}}",
        xnano_proto::wire::sg::common::guid_text(&g).to_uppercase()
    )
}

/// Bytes as `{"hex", "len"}`, the form the reference's decodes use.
fn hex_and_len<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeStruct;
    let mut st = s.serialize_struct("Bytes", 2)?;
    st.serialize_field("hex", &hex::encode(v))?;
    st.serialize_field("len", &v.len())?;
    st.end()
}

impl HostSession {
    /// A console with a fresh key on `cfg.curve` and a fresh certificate.
    pub fn new(cfg: &SimConfig) -> Result<HostSession, SimError> {
        let key = KeyPair::generate(cfg.curve);
        let serial: u64 = rand::random::<u64>() >> 1;
        let certificate = super::cert::generate_certificate(&key, &cfg.live_id, serial)
            .map_err(|e| SimError::Certificate(e.to_string()))?;
        let cert_info = CertificateInfo::from_der(&certificate)
            .map_err(|e| SimError::Certificate(e.to_string()))?;
        Ok(HostSession {
            key,
            certificate,
            cert_info,
            faults: cfg.faults.clone(),
            powered_on: cfg.powered_on,
            sessions: Vec::new(),
            pending_connects: Vec::new(),
            next_participant_id: cfg.first_participant_id,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            actions: VecDeque::new(),
            log: VecDeque::new(),
            stats: HostStats::default(),
            console_status: cfg.console_status.clone(),
            media_state: cfg.media_state.clone(),
            stream: None,
            json_datagram_id: 0,
            requested_pace_bps: None,
            cfg: cfg.clone(),
        })
    }

    /// The Live ID (certificate subject).
    pub fn live_id(&self) -> &str {
        &self.cfg.live_id
    }

    /// The DER certificate sent in discovery responses.
    pub fn certificate(&self) -> &[u8] {
        &self.certificate
    }

    /// The console's public key (uncompressed SEC1 point).
    pub fn public_key(&self) -> Vec<u8> {
        self.key.public_key_sec1()
    }

    /// The curve of the console's key.
    pub fn curve(&self) -> Curve {
        self.key.curve()
    }

    /// Counters.
    pub fn stats(&self) -> HostStats {
        self.stats.clone()
    }

    /// Counts an event the engine could not deliver.
    pub fn note_event_dropped(&mut self) {
        self.stats.events_dropped += 1;
    }

    /// The received-message log (oldest first, at most
    /// `message_log_len` entries).
    pub fn received_messages(&self) -> Vec<ReceivedMessage> {
        self.log.iter().cloned().collect()
    }

    /// The connected clients.
    pub fn clients(&self) -> Vec<ClientInfo> {
        self.sessions
            .iter()
            .map(|s| ClientInfo {
                peer: s.peer,
                participant_id: s.participant_id,
                authenticated: s.authenticated,
                joined: s.joined,
                channels: s.channels.iter().map(|c| (c.kind, c.id)).collect(),
                shared_secret: s.crypto.shared_secret().to_vec(),
            })
            .collect()
    }

    /// The fault injection in force.
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Replaces the fault injection.
    pub fn set_faults(&mut self, faults: Faults) {
        self.faults = faults;
    }

    /// Whether the console is on.
    pub fn is_powered_on(&self) -> bool {
        self.powered_on
    }

    /// The console status sent after each local join.
    pub fn console_status(&self) -> &ConsoleStatus {
        &self.console_status
    }

    /// The current media state, if any.
    pub fn media_state(&self) -> Option<&MediaState> {
        self.media_state.as_ref()
    }

    /// The announced or starting gamestream.
    pub fn gamestream(&self) -> Option<GameStreamInfo> {
        self.stream.as_ref().map(|s| GameStreamInfo {
            peer: s.owner,
            session_id: s.session_id.clone(),
            tcp_port: s.ports.map(|p| p.0),
            udp_port: s.ports.map(|p| p.1),
        })
    }

    // ------------------------------------------------------------------
    // outputs

    /// The next datagram to send: (destination, bytes).
    pub fn poll_transmit(&mut self) -> Option<(SocketAddr, Vec<u8>)> {
        self.transmits.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<HostEvent> {
        self.events.pop_front()
    }

    /// The next action for the engine.
    pub fn poll_action(&mut self) -> Option<HostAction> {
        self.actions.pop_front()
    }

    /// The UDP pacing rate (bit/s) the last StartGameStream configuration
    /// implies: `urcpFixedRate` when positive, else `urcpMaximumRate` when
    /// positive (`None`: neither, or no request yet). See
    /// [`pace_from_configuration`].
    pub fn requested_pace_bps(&self) -> Option<u64> {
        self.requested_pace_bps
    }

    /// When [`HostSession::handle_timeout`] next has something to do.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t: Option<Instant> = None;
        let mut upd = |x: Instant| t = Some(t.map_or(x, |t| t.min(x)));
        for s in &self.sessions {
            upd(s.last_heard + self.cfg.client_timeout);
            if let Some(h) = s.next_heartbeat {
                upd(h);
            }
            if !self.faults.silent {
                for p in &s.pending_out {
                    upd(p.last_sent + self.cfg.resend_interval);
                }
            }
        }
        for p in &self.pending_connects {
            upd(p.first_seen + CONNECT_GROUP_TTL);
        }
        t
    }

    fn emit(&mut self, e: HostEvent) {
        if self.events.len() >= 65536 {
            self.events.pop_front();
            self.stats.events_dropped += 1;
        }
        self.events.push_back(e);
    }

    fn send_raw(&mut self, to: SocketAddr, bytes: Vec<u8>) {
        if self.faults.silent {
            self.stats.datagrams_suppressed += 1;
            return;
        }
        self.stats.datagrams_sent += 1;
        self.transmits.push_back((to, bytes));
    }

    fn corrupt(&self, mut bytes: Vec<u8>) -> Vec<u8> {
        if self.faults.corrupt_hmac {
            if let Some(b) = bytes.last_mut() {
                *b ^= 0x5A;
            }
        }
        bytes
    }

    fn reject(&mut self, from: SocketAddr, kind: RejectKind, reason: String) {
        match kind {
            RejectKind::BadHmac => self.stats.bad_hmac += 1,
            RejectKind::Malformed => self.stats.malformed += 1,
            RejectKind::WrongKey => self.stats.wrong_key += 1,
            RejectKind::UnknownPeer => self.stats.unknown_peer += 1,
            RejectKind::PoweredOff => {}
        }
        log::debug!("sim console: {from}: {kind:?}: {reason}");
        self.emit(HostEvent::PacketRejected { from, kind, reason });
    }

    // ------------------------------------------------------------------
    // inputs

    /// Handles one datagram from `from`.
    pub fn handle_datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        self.stats.datagrams_received += 1;
        let t = match peek_packet_type(data) {
            Ok(t) => t,
            Err(e) => return self.reject(from, RejectKind::Malformed, e.to_string()),
        };
        match t {
            PacketType::DiscoveryRequest => self.on_discovery(from, data),
            PacketType::PowerOnRequest => self.on_power_on(from, data),
            PacketType::ConnectRequest => self.on_connect_request(now, from, data),
            PacketType::Message => self.on_message(now, from, data),
            other => self.reject(
                from,
                RejectKind::Malformed,
                format!("unexpected packet type 0x{:04x}", other.raw()),
            ),
        }
    }

    /// Resends unacknowledged messages, drops silent clients and stale
    /// connect groups.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Stale connect fragments.
        self.pending_connects
            .retain(|p| now.duration_since(p.first_seen) < CONNECT_GROUP_TTL);

        // Silent clients.
        let timeout = self.cfg.client_timeout;
        let mut i = 0;
        while i < self.sessions.len() {
            if now.duration_since(self.sessions[i].last_heard) >= timeout {
                let s = self.sessions.remove(i);
                self.stats.clients_timed_out += 1;
                self.emit(HostEvent::ClientTimedOut {
                    peer: s.peer,
                    participant_id: s.participant_id,
                });
                self.end_stream_of(s.peer);
            } else {
                i += 1;
            }
        }

        // The console's own heartbeats.
        if let Some(every) = self.cfg.heartbeat_interval {
            for i in 0..self.sessions.len() {
                let due = self.sessions[i].next_heartbeat.is_some_and(|t| now >= t);
                if !due {
                    continue;
                }
                self.sessions[i].next_heartbeat = Some(now + every);
                self.send_heartbeat(now, i);
            }
        }

        // Resends.
        if self.faults.silent || self.faults.no_resend {
            return;
        }
        let interval = self.cfg.resend_interval;
        let max = self.cfg.max_resends;
        let mut out = Vec::new();
        let mut exhausted = Vec::new();
        for s in &mut self.sessions {
            let peer = s.peer;
            s.pending_out.retain_mut(|p| {
                if now.duration_since(p.last_sent) < interval {
                    return true;
                }
                if p.tries >= max {
                    exhausted.push((peer, p.seq, p.msg_type));
                    return false;
                }
                p.tries += 1;
                p.last_sent = now;
                out.push((peer, p.bytes.clone()));
                true
            });
        }
        for (peer, bytes) in out {
            self.stats.resends += 1;
            self.send_raw(peer, bytes);
        }
        for (peer, sequence_number, msg_type) in exhausted {
            self.stats.resends_exhausted += 1;
            self.emit(HostEvent::ResendsExhausted {
                peer,
                sequence_number,
                msg_type,
            });
        }
    }

    // ------------------------------------------------------------------
    // discovery and power

    fn on_discovery(&mut self, from: SocketAddr, data: &[u8]) {
        let req = match SimplePacket::decode(data, None) {
            Ok(SimplePacket {
                body: SimpleBody::DiscoveryRequest(r),
                ..
            }) => r,
            Ok(_) => {
                return self.reject(
                    from,
                    RejectKind::Malformed,
                    "not a discovery request".into(),
                )
            }
            Err(e) => return self.reject(from, RejectKind::Malformed, e.to_string()),
        };
        self.stats.discovery_requests += 1;
        let answer = !self.faults.ignore_discovery
            && (self.powered_on || self.cfg.answer_discovery_when_off);
        self.emit(HostEvent::DiscoveryRequest {
            from,
            client_type: req.client_type,
            answered: answer,
        });
        if !answer {
            return;
        }
        let resp = SimplePacket::new(SimpleBody::DiscoveryResponse(DiscoveryResponse {
            flags: self.cfg.flags,
            device_type: self.cfg.device_type,
            name: self.cfg.name.clone(),
            uuid: self.cfg.uuid,
            last_error: self.cfg.last_error,
            cert: self.cert_info.clone(),
            certificate: self.certificate.clone(),
        }));
        match resp.to_bytes(None) {
            Ok(b) => {
                self.stats.discovery_responses += 1;
                self.send_raw(from, b);
            }
            Err(e) => log::warn!("sim console: cannot encode discovery response: {e}"),
        }
    }

    fn on_power_on(&mut self, from: SocketAddr, data: &[u8]) {
        let req = match SimplePacket::decode(data, None) {
            Ok(SimplePacket {
                body: SimpleBody::PowerOnRequest(r),
                ..
            }) => r,
            Ok(_) => {
                return self.reject(from, RejectKind::Malformed, "not a power-on request".into())
            }
            Err(e) => return self.reject(from, RejectKind::Malformed, e.to_string()),
        };
        self.stats.power_on_requests += 1;
        let matched = req.liveid.eq_ignore_ascii_case(&self.cfg.live_id);
        self.emit(HostEvent::PowerOnRequest {
            from,
            live_id: req.liveid,
            matched,
        });
        if matched && !self.powered_on {
            self.powered_on = true;
            self.emit(HostEvent::PoweredOn);
        }
    }

    /// Turns the console on (as a matching power-on request does).
    pub fn power_on(&mut self) {
        if !self.powered_on {
            self.powered_on = true;
            self.emit(HostEvent::PoweredOn);
        }
    }

    /// Turns the console off: every client gets a Disconnect (reason
    /// PowerOff), sessions and the gamestream end.
    pub fn power_off(&mut self, now: Instant) {
        self.power_off_inner(now, false);
    }

    fn power_off_inner(&mut self, now: Instant, by_client: bool) {
        if !self.powered_on {
            return;
        }
        self.disconnect_all(now, DisconnectReason::PowerOff, 0);
        self.pending_connects.clear();
        self.powered_on = false;
        self.emit(HostEvent::PoweredOff { by_client });
    }

    /// Sends every client a Disconnect and ends all sessions.
    pub fn disconnect_all(&mut self, now: Instant, reason: DisconnectReason, error_code: u32) {
        let peers: Vec<SocketAddr> = self.sessions.iter().map(|s| s.peer).collect();
        for p in peers {
            if let Some(i) = self.session_index(p) {
                self.send_payload(
                    now,
                    i,
                    CHANNEL_CORE,
                    MessagePayload::Disconnect(Disconnect { reason, error_code }),
                    false,
                );
            }
            self.end_stream_of(p);
        }
        self.sessions.clear();
    }

    // ------------------------------------------------------------------
    // connect

    fn on_connect_request(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        self.stats.connect_requests += 1;
        if !self.powered_on {
            return self.reject(
                from,
                RejectKind::PoweredOff,
                "connect request while off".into(),
            );
        }
        let unprot = match ConnectRequestUnprotected::peek(data) {
            Ok(u) => u,
            Err(e) => return self.reject(from, RejectKind::Malformed, e.to_string()),
        };
        let their_curve = Curve::from_public_key_type(unprot.public_key_type.raw());
        if their_curve != Some(self.key.curve()) {
            return self.reject(
                from,
                RejectKind::WrongKey,
                format!(
                    "public key type {} does not match the console's curve {:?}",
                    unprot.public_key_type.name(),
                    self.key.curve()
                ),
            );
        }
        // A retry of a connect that already succeeded: answer the same.
        if let Some(i) = self.session_index(from) {
            if self.sessions[i].client_key == unprot.public_key {
                let crypto = self.sessions[i].crypto.clone();
                if SimplePacket::decode(data, Some(&crypto)).is_ok() {
                    let resp = self.sessions[i].connect_response.clone();
                    self.sessions[i].last_heard = now;
                    self.send_raw(from, resp);
                    return;
                }
            }
        }
        let crypto = match self.key.derive(&unprot.public_key) {
            Ok(c) => c,
            Err(e) => return self.reject(from, RejectKind::WrongKey, e.to_string()),
        };
        let pkt = match SimplePacket::decode(data, Some(&crypto)) {
            Ok(p) => p,
            Err(e @ WireError::Crypto { .. }) => {
                return self.reject(from, RejectKind::BadHmac, e.to_string())
            }
            Err(e) => return self.reject(from, RejectKind::Malformed, e.to_string()),
        };
        let SimpleBody::ConnectRequest(req) = pkt.body else {
            return self.reject(from, RejectKind::Malformed, "not a connect request".into());
        };
        let p = req.protected;
        let (num, start, end) = (
            p.connect_request_num,
            p.connect_request_group_start,
            p.connect_request_group_end,
        );
        if end <= start || end - start > MAX_CONNECT_FRAGMENTS || num < start || num >= end {
            return self.reject(
                from,
                RejectKind::Malformed,
                format!("connect request group {num} of {start}..{end} is not valid"),
            );
        }
        let (userhash, token, fragments) = if end - start == 1 {
            (p.userhash, p.jwt, 1)
        } else {
            let idx = self.pending_connects.iter().position(|g| {
                g.peer == from
                    && g.client_key == unprot.public_key
                    && g.start == start
                    && g.end == end
            });
            let idx = match idx {
                Some(i) => i,
                None => {
                    if self.pending_connects.len() >= MAX_PENDING_CONNECTS {
                        self.pending_connects.remove(0);
                    }
                    self.pending_connects.push(PendingConnect {
                        peer: from,
                        client_key: unprot.public_key.clone(),
                        start,
                        end,
                        parts: BTreeMap::new(),
                        first_seen: now,
                    });
                    self.pending_connects.len() - 1
                }
            };
            let g = &mut self.pending_connects[idx];
            g.parts.insert(num, p);
            if g.parts.len() as u32 != end - start {
                return;
            }
            let g = self.pending_connects.remove(idx);
            let mut userhash = String::new();
            let mut token = String::new();
            for (n, part) in g.parts {
                if n == start {
                    userhash = part.userhash;
                }
                token.push_str(&part.jwt);
            }
            (userhash, token, end - start)
        };
        self.finish_connect(
            now,
            from,
            unprot.public_key,
            crypto,
            userhash,
            token,
            fragments,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_connect(
        &mut self,
        now: Instant,
        from: SocketAddr,
        client_key: Vec<u8>,
        crypto: Crypto,
        userhash: String,
        token: String,
        fragments: u32,
    ) {
        let authenticated = !userhash.is_empty() && !token.is_empty();
        let result = if let Some(r) = self.faults.reject_connect {
            r
        } else if !authenticated
            && !self
                .cfg
                .flags
                .contains(PrimaryDeviceFlags::AllowAnonymousUsers)
        {
            ConnectionResult::FailureAnonymousConnectionsDisabled
        } else if self.session_index(from).is_none() && self.sessions.len() >= self.cfg.max_clients
        {
            ConnectionResult::FailureDeviceLimitExceeded
        } else {
            ConnectionResult::Success
        };
        let success = result == ConnectionResult::Success;
        let participant_id = if success { self.next_participant_id } else { 0 };
        let pairing_state = if success && authenticated {
            PairedIdentityState::Paired
        } else {
            PairedIdentityState::NotPaired
        };
        let resp = SimplePacket::new(SimpleBody::ConnectResponse(ConnectResponse {
            unprotected: ConnectResponseUnprotected {
                iv: Crypto::random_iv(),
            },
            protected: ConnectResponseProtected {
                connect_result: result,
                pairing_state,
                participant_id,
            },
        }));
        let bytes = match resp.to_bytes(Some(&crypto)) {
            Ok(b) => self.corrupt(b),
            Err(e) => {
                log::warn!("sim console: cannot encode connect response: {e}");
                return;
            }
        };
        self.send_raw(from, bytes.clone());
        if !success {
            self.stats.connects_rejected += 1;
            self.emit(HostEvent::ConnectRejected { peer: from, result });
            return;
        }
        self.stats.connects_accepted += 1;
        self.next_participant_id = self.next_participant_id.wrapping_add(1).max(1);
        // A new connect from the same address replaces its old session.
        if let Some(i) = self.session_index(from) {
            self.sessions.remove(i);
            self.end_stream_of(from);
        }
        self.sessions.push(Session {
            peer: from,
            crypto,
            client_key,
            participant_id,
            authenticated,
            joined: false,
            connect_response: bytes,
            next_seq: 1,
            channels: Vec::new(),
            next_channel_id: FIRST_CHANNEL_ID,
            rx_low: 0,
            rx_seen: BTreeSet::new(),
            pending_out: VecDeque::new(),
            frags: FragmentReassembler::default(),
            json: JsonReassembler::default(),
            last_heard: now,
            next_heartbeat: self.cfg.heartbeat_interval.map(|d| now + d),
            heartbeats_out: Vec::new(),
        });
        self.emit(HostEvent::Connected {
            peer: from,
            participant_id,
            curve: self.key.curve(),
            authenticated,
            auth_token_len: token.len(),
            userhash,
            fragments,
        });
    }

    fn session_index(&self, peer: SocketAddr) -> Option<usize> {
        self.sessions.iter().position(|s| s.peer == peer)
    }

    // ------------------------------------------------------------------
    // messages

    fn on_message(&mut self, now: Instant, from: SocketAddr, data: &[u8]) {
        let Some(i) = self.session_index(from) else {
            return self.reject(
                from,
                RejectKind::UnknownPeer,
                "message from an address without a session".into(),
            );
        };
        let (header, plain) = match Message::open(data, &self.sessions[i].crypto) {
            Ok(x) => x,
            Err(e @ WireError::Crypto { .. }) => {
                return self.reject(from, RejectKind::BadHmac, e.to_string())
            }
            Err(e) => return self.reject(from, RejectKind::Malformed, e.to_string()),
        };
        self.sessions[i].last_heard = now;
        let seq = header.sequence_number;
        let low_before = self.sessions[i].rx_low;
        let duplicate = self.sessions[i].note_received(seq);
        let msg_type = header.flags.msg_type;

        let payload = if header.flags.is_fragment {
            Fragment::decode(&plain).map(MessagePayload::Fragment)
        } else {
            MessagePayload::decode(msg_type, &plain)
        };
        let payload = match payload {
            Ok(p) => p,
            Err(e) => {
                if header.flags.need_ack {
                    self.send_ack(now, i, low_before, vec![], vec![seq]);
                }
                return self.reject(from, RejectKind::Malformed, e.to_string());
            }
        };

        if header.flags.need_ack {
            self.send_ack(now, i, low_before, vec![seq], vec![]);
        }
        if duplicate {
            self.stats.duplicates += 1;
            return;
        }
        self.stats.messages_received += 1;

        // Acknowledgements and heartbeats.
        if let MessagePayload::Ack(a) = &payload {
            self.stats.acks_received += 1;
            if header.flags.need_ack && a.processed_list.is_empty() && a.rejected_list.is_empty() {
                self.stats.heartbeats += 1;
            }
            let s = &mut self.sessions[i];
            s.pending_out.retain(|p| {
                !a.processed_list.contains(&p.seq) && !a.rejected_list.contains(&p.seq)
            });
            let before = s.heartbeats_out.len();
            s.heartbeats_out
                .retain(|q| !a.processed_list.contains(q) && !a.rejected_list.contains(q));
            let acked = (before - s.heartbeats_out.len()) as u64;
            self.stats.heartbeats_acked += acked;
            return;
        }

        // Fragments.
        let (payload, msg_type) = if let MessagePayload::Fragment(f) = &payload {
            match self.sessions[i].frags.push_decode(&header, f) {
                Ok(Some(p)) => (p, msg_type),
                Ok(None) => return,
                Err(e) => return self.reject(from, RejectKind::Malformed, e.to_string()),
            }
        } else {
            (payload, msg_type)
        };

        let channel = self.sessions[i].channel_kind(header.channel_id);
        let rec = ReceivedMessage {
            peer: from,
            participant_id: self.sessions[i].participant_id,
            sequence_number: seq,
            channel_id: header.channel_id,
            channel,
            msg_type,
            need_ack: header.flags.need_ack,
            payload: payload.clone(),
        };
        if self.cfg.message_log_len > 0 {
            if self.log.len() >= self.cfg.message_log_len {
                self.log.pop_front();
            }
            self.log.push_back(rec.clone());
        }
        self.emit(HostEvent::Message(rec));
        self.dispatch(now, i, header.channel_id, channel, payload);
    }

    fn send_ack(
        &mut self,
        now: Instant,
        i: usize,
        low: u32,
        processed: Vec<u32>,
        rejected: Vec<u32>,
    ) {
        if self.faults.drop_acks {
            return;
        }
        let _ = now;
        let s = &mut self.sessions[i];
        let seq = s.take_seq();
        let msg = Message::new(
            MessagePayload::Ack(Acknowledge {
                low_watermark: low,
                processed_list: processed,
                rejected_list: rejected,
            }),
            seq,
            s.participant_id,
            0,
            CHANNEL_ACK,
            false,
        );
        match msg.to_bytes(&s.crypto) {
            Ok(b) => {
                let peer = s.peer;
                let b = self.corrupt(b);
                self.stats.acks_sent += 1;
                self.send_raw(peer, b);
            }
            Err(e) => log::warn!("sim console: cannot encode ack: {e}"),
        }
    }

    /// One heartbeat of the console's own to session `i`: an empty
    /// acknowledgement with need-ack on the core channel (the reference
    /// client's heartbeat), kept for resending until acked.
    fn send_heartbeat(&mut self, now: Instant, i: usize) {
        let s = &mut self.sessions[i];
        let seq = s.next_seq;
        let low = s.rx_low;
        if s.heartbeats_out.len() >= MAX_PENDING_OUT {
            s.heartbeats_out.remove(0);
        }
        s.heartbeats_out.push(seq);
        self.send_payload(
            now,
            i,
            CHANNEL_CORE,
            MessagePayload::Ack(Acknowledge {
                low_watermark: low,
                processed_list: vec![],
                rejected_list: vec![],
            }),
            true,
        );
        self.stats.heartbeats_sent += 1;
    }

    /// Encodes `payload` for session `i` on `channel_id` (fragmenting
    /// payloads over 1024 bytes) and sends it; need-ack messages are kept
    /// for resending until acknowledged.
    fn send_payload(
        &mut self,
        now: Instant,
        i: usize,
        channel_id: u64,
        payload: MessagePayload,
        need_ack: bool,
    ) {
        let Some(msg_type) = payload.msg_type() else {
            return;
        };
        let mut plain = Vec::new();
        if let Err(e) = payload.encode(&mut plain) {
            log::warn!("sim console: cannot encode {}: {e}", msg_type.name());
            return;
        }
        let s = &mut self.sessions[i];
        let parts: Vec<MessagePayload> = if plain.len() > FRAGMENT_DATA_LEN {
            let n = plain.len().div_ceil(FRAGMENT_DATA_LEN) as u32;
            let first = s.next_seq;
            // Fragments need consecutive sequence numbers.
            s.next_seq = s.next_seq.wrapping_add(n);
            if s.next_seq == 0 {
                s.next_seq = 1;
            }
            Fragment::split(&plain, first, FRAGMENT_DATA_LEN)
                .into_iter()
                .map(MessagePayload::Fragment)
                .collect()
        } else {
            vec![payload]
        };
        let fragmented =
            parts.len() > 1 || matches!(parts.first(), Some(MessagePayload::Fragment(_)));
        let mut out = Vec::new();
        for (k, part) in parts.into_iter().enumerate() {
            let seq = if fragmented {
                match &part {
                    MessagePayload::Fragment(f) => f.sequence_begin.wrapping_add(k as u32),
                    _ => continue,
                }
            } else {
                s.take_seq()
            };
            let msg = Message::with_type(
                msg_type,
                part,
                seq,
                s.participant_id,
                0,
                channel_id,
                need_ack,
            );
            match msg.to_bytes(&s.crypto) {
                Ok(b) => out.push((seq, b)),
                Err(e) => {
                    log::warn!("sim console: cannot encode {}: {e}", msg_type.name());
                    return;
                }
            }
        }
        let peer = s.peer;
        for (seq, b) in out {
            let b = self.corrupt(b);
            if need_ack {
                let s = &mut self.sessions[i];
                if s.pending_out.len() >= MAX_PENDING_OUT {
                    s.pending_out.pop_front();
                }
                s.pending_out.push_back(PendingOut {
                    seq,
                    msg_type,
                    bytes: b.clone(),
                    last_sent: now,
                    tries: 0,
                });
            }
            self.send_raw(peer, b);
        }
    }

    fn send_json_to(
        &mut self,
        now: Instant,
        i: usize,
        channel: ServiceChannel,
        value: &serde_json::Value,
    ) {
        let Some(id) = self.sessions[i].channel_id(channel) else {
            log::debug!("sim console: client has no {} channel", channel.name());
            return;
        };
        let text = value.to_string();
        self.json_datagram_id += 1;
        for t in split_for_sending(&text, self.json_datagram_id) {
            self.send_payload(
                now,
                i,
                id,
                MessagePayload::Json(xnano_proto::wire::sg::payloads::Json { text: t }),
                true,
            );
        }
    }

    fn dispatch(
        &mut self,
        now: Instant,
        i: usize,
        channel_id: u64,
        channel: Option<ServiceChannel>,
        payload: MessagePayload,
    ) {
        let peer = self.sessions[i].peer;
        match payload {
            MessagePayload::LocalJoin(join) => {
                self.sessions[i].joined = true;
                self.emit(HostEvent::LocalJoin { peer, join });
                let status = self.console_status.clone();
                self.send_payload(
                    now,
                    i,
                    CHANNEL_CORE,
                    MessagePayload::ConsoleStatus(status),
                    true,
                );
                if self.sessions[i].authenticated {
                    self.send_payload(
                        now,
                        i,
                        CHANNEL_CORE,
                        MessagePayload::PairedIdentityStateChanged(PairedIdentityStateChanged {
                            state: PairedIdentityState::Paired,
                        }),
                        // Need-ack as captured.
                        true,
                    );
                }
            }
            MessagePayload::ChannelStartRequest(req) => {
                let kind = ServiceChannel::from_uuid(&req.service);
                let refused = match kind {
                    None => true,
                    Some(k) => self.faults.reject_channels.contains(&k),
                };
                let s = &mut self.sessions[i];
                let (target, result) = if refused {
                    (0, SGResultCode::SG_E_FAIL)
                } else {
                    let kind = kind.unwrap_or(ServiceChannel::Title);
                    // A channel started again keeps its id.
                    let id = match s
                        .channels
                        .iter()
                        .find(|c| c.kind == kind && kind != ServiceChannel::Title)
                    {
                        Some(c) => c.id,
                        None => {
                            let id = s.next_channel_id;
                            s.next_channel_id += 1;
                            s.channels.push(OpenChannel { id, kind });
                            id
                        }
                    };
                    (id, SGResultCode::SG_E_SUCCESS)
                };
                self.send_payload(
                    now,
                    i,
                    CHANNEL_CORE,
                    MessagePayload::ChannelStartResponse(ChannelStartResponse {
                        channel_request_id: req.channel_request_id,
                        target_channel_id: target,
                        result,
                    }),
                    true,
                );
                match (refused, kind) {
                    (false, Some(k)) => {
                        self.stats.channels_started += 1;
                        self.emit(HostEvent::ChannelStarted {
                            peer,
                            channel: k,
                            channel_id: target,
                            request_id: req.channel_request_id,
                            title_id: req.title_id,
                        });
                        if k == ServiceChannel::SystemMedia {
                            if let Some(ms) = self.media_state.clone() {
                                self.send_payload(
                                    now,
                                    i,
                                    target,
                                    MessagePayload::MediaState(ms),
                                    true,
                                );
                            }
                        }
                    }
                    _ => self.emit(HostEvent::ChannelRejected {
                        peer,
                        channel: kind,
                        request_id: req.channel_request_id,
                    }),
                }
            }
            MessagePayload::ChannelStop(stop) => {
                self.sessions[i]
                    .channels
                    .retain(|c| c.id != stop.target_channel_id);
                self.emit(HostEvent::ChannelStopped {
                    peer,
                    channel_id: stop.target_channel_id,
                });
            }
            MessagePayload::Disconnect(d) => {
                let s = self.sessions.remove(i);
                self.emit(HostEvent::ClientDisconnected {
                    peer,
                    participant_id: s.participant_id,
                    reason: d.reason,
                    error_code: d.error_code,
                });
                self.end_stream_of(peer);
            }
            MessagePayload::PowerOff(p) => {
                if p.liveid.eq_ignore_ascii_case(&self.cfg.live_id) {
                    self.power_off_inner(now, true);
                } else {
                    log::debug!("sim console: power off for {:?} is not ours", p.liveid);
                }
            }
            MessagePayload::MediaCommand(cmd) => self.on_media_command(now, i, channel_id, cmd),
            MessagePayload::SystemTextInput(t) => {
                self.send_payload(
                    now,
                    i,
                    channel_id,
                    MessagePayload::SystemTextAcknowledge(SystemTextAcknowledge {
                        text_session_id: t.text_session_id,
                        text_version_ack: t.submitted_version,
                    }),
                    true,
                );
            }
            MessagePayload::Json(j) => {
                let text = match self.sessions[i].json.accept(&j.text) {
                    Ok(Some(t)) => t,
                    Ok(None) => return,
                    Err(e) => return self.reject(peer, RejectKind::Malformed, e.to_string()),
                };
                self.emit(HostEvent::Json {
                    peer,
                    channel,
                    text: text.clone(),
                });
                if channel == Some(ServiceChannel::SystemBroadcast) {
                    self.on_broadcast_json(now, i, &text);
                }
            }
            _ => {}
        }
    }

    fn on_media_command(&mut self, now: Instant, i: usize, channel_id: u64, cmd: MediaCommand) {
        let mut result = 0u32;
        if let Some(ms) = self.media_state.as_mut() {
            let c = cmd.command;
            if !ms.enabled_commands.contains(c) && c != MediaControlCommand::Null {
                result = SGResultCode::SG_E_NOT_IMPL.raw();
            } else if c == MediaControlCommand::Play {
                ms.playback_status = MediaPlaybackStatus::Playing;
            } else if c == MediaControlCommand::Pause {
                ms.playback_status = MediaPlaybackStatus::Paused;
            } else if c == MediaControlCommand::PlayPauseToggle {
                ms.playback_status = if ms.playback_status == MediaPlaybackStatus::Playing {
                    MediaPlaybackStatus::Paused
                } else {
                    MediaPlaybackStatus::Playing
                };
            } else if c == MediaControlCommand::Stop {
                ms.playback_status = MediaPlaybackStatus::Stopped;
            } else if c == MediaControlCommand::Seek {
                if let Some(p) = cmd.seek_position {
                    ms.position = p;
                }
            }
        }
        self.send_payload(
            now,
            i,
            channel_id,
            MessagePayload::MediaCommandResult(MediaCommandResult {
                request_id: cmd.request_id,
                result,
            }),
            true,
        );
        if let Some(ms) = self.media_state.clone() {
            self.send_payload(now, i, channel_id, MessagePayload::MediaState(ms), true);
        }
    }

    // ------------------------------------------------------------------
    // gamestream

    fn on_broadcast_json(&mut self, now: Instant, i: usize, text: &str) {
        let peer = self.sessions[i].peer;
        let v: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                return self.reject(peer, RejectKind::Malformed, format!("broadcast JSON: {e}"))
            }
        };
        match v.get("type").and_then(|t| t.as_i64()) {
            Some(1) => {
                let configuration = v
                    .get("configuration")
                    .cloned()
                    .unwrap_or(serde_json::Value::Null);
                self.requested_pace_bps = pace_from_configuration(&configuration);
                self.emit(HostEvent::GameStreamRequested {
                    peer,
                    configuration,
                });
                self.start_gamestream(now, i);
            }
            Some(2) => {
                if let Some(st) = self.stream.as_ref() {
                    if st.owner == peer {
                        let sid = st.session_id.clone();
                        self.send_json_to(
                            now,
                            i,
                            ServiceChannel::SystemBroadcast,
                            &serde_json::json!({"type": 3, "state": 3, "sessionId": sid}),
                        );
                    }
                }
                self.end_stream_of(peer);
            }
            _ => {}
        }
    }

    fn gs(&self) -> &GameStreamSettings {
        &self.cfg.gamestream
    }

    fn start_gamestream(&mut self, now: Instant, i: usize) {
        let peer = self.sessions[i].peer;
        let g = self.gs().clone();
        let enabled = serde_json::json!({
            "type": 4,
            "enabled": g.enabled,
            "canBeEnabled": g.can_be_enabled,
            "majorProtocolVersion": g.major_protocol_version,
            "minorProtocolVersion": g.minor_protocol_version,
        });
        self.send_json_to(now, i, ServiceChannel::SystemBroadcast, &enabled);
        if let Some((t, v)) = self.faults.gamestream_error {
            self.send_json_to(
                now,
                i,
                ServiceChannel::SystemBroadcast,
                &serde_json::json!({"type": 5, "errorType": t, "errorValue": v}),
            );
            self.emit(HostEvent::GameStreamFailed {
                peer,
                reason: format!("injected error {t}/{v}"),
            });
            return;
        }
        if !g.enabled {
            self.emit(HostEvent::GameStreamFailed {
                peer,
                reason: "gamestreaming is disabled".into(),
            });
            return;
        }
        self.send_json_to(
            now,
            i,
            ServiceChannel::SystemBroadcast,
            &serde_json::json!({
                "type": 7,
                "isPublicPreview": g.is_public_preview,
                "isInternalPreview": g.is_internal_preview,
            }),
        );
        match &self.stream {
            Some(st) if st.owner != peer => {
                // Another client streams: end that first.
                let owner = st.owner;
                self.end_stream_of(owner);
            }
            _ => {}
        }
        if self.stream.is_none() {
            self.stream = Some(Stream {
                owner: peer,
                session_id: new_session_id(),
                ports: None,
            });
        }
        self.actions.push_back(HostAction::StartNano { peer });
    }

    /// The engine started (or already had) the Nano host for `peer`'s
    /// request: announces Initializing (ports), Started and Telemetry.
    pub fn nano_started(&mut self, now: Instant, peer: SocketAddr, tcp_port: u16, udp_port: u16) {
        let Some(i) = self.session_index(peer) else {
            // The client went away meanwhile.
            self.end_stream_of(peer);
            return;
        };
        let Some(st) = self.stream.as_mut().filter(|s| s.owner == peer) else {
            return;
        };
        let first = st.ports.is_none();
        st.ports = Some((tcp_port, udp_port));
        let sid = st.session_id.clone();
        let g = self.gs().clone();
        self.send_json_to(
            now,
            i,
            ServiceChannel::SystemBroadcast,
            &serde_json::json!({
                "type": 3, "state": 1, "sessionId": sid,
                "udpPort": udp_port, "tcpPort": tcp_port,
            }),
        );
        self.send_json_to(
            now,
            i,
            ServiceChannel::SystemBroadcast,
            &serde_json::json!({
                "type": 3, "state": 2, "sessionId": sid,
                "isWirelessConnection": g.wireless,
                "wirelessChannel": g.wireless_channel,
                "transmitLinkSpeed": g.transmit_link_speed,
            }),
        );
        if g.send_telemetry {
            self.send_json_to(
                now,
                i,
                ServiceChannel::SystemBroadcast,
                &serde_json::json!({"type": 6}),
            );
        }
        if first {
            self.stats.gamestreams_started += 1;
        }
        self.emit(HostEvent::GameStreamStarted {
            peer,
            session_id: sid,
            tcp_port,
            udp_port,
        });
    }

    /// The engine could not start the Nano host: the client gets a
    /// GameStreamError.
    pub fn nano_failed(&mut self, now: Instant, peer: SocketAddr, reason: String) {
        if self.stream.as_ref().is_some_and(|s| s.owner == peer) {
            self.stream = None;
        }
        if let Some(i) = self.session_index(peer) {
            self.send_json_to(
                now,
                i,
                ServiceChannel::SystemBroadcast,
                &serde_json::json!({"type": 5, "errorType": 1, "errorValue": 0}),
            );
        }
        self.emit(HostEvent::GameStreamFailed { peer, reason });
    }

    fn end_stream_of(&mut self, peer: SocketAddr) {
        if let Some(st) = self.stream.take_if(|s| s.owner == peer) {
            self.stats.gamestreams_stopped += 1;
            self.actions.push_back(HostAction::StopNano);
            self.emit(HostEvent::GameStreamStopped {
                peer,
                session_id: st.session_id,
            });
        }
    }

    // ------------------------------------------------------------------
    // console-initiated messages

    /// Sends `payload` on `channel` to every client that has it open;
    /// returns how many clients it went to.
    pub fn send_to_clients(
        &mut self,
        now: Instant,
        channel: ServiceChannel,
        payload: MessagePayload,
        need_ack: bool,
    ) -> usize {
        let mut n = 0;
        for i in 0..self.sessions.len() {
            if let Some(id) = self.sessions[i].channel_id(channel) {
                self.send_payload(now, i, id, payload.clone(), need_ack);
                n += 1;
            }
        }
        n
    }

    /// Sends a JSON value on `channel` to every client that has it open
    /// (fragmented when long); returns how many clients it went to.
    pub fn send_json(
        &mut self,
        now: Instant,
        channel: ServiceChannel,
        value: &serde_json::Value,
    ) -> usize {
        let mut n = 0;
        for i in 0..self.sessions.len() {
            if self.sessions[i].channel_id(channel).is_some() {
                self.send_json_to(now, i, channel, value);
                n += 1;
            }
        }
        n
    }

    /// Replaces the console status and sends it to every joined client.
    pub fn set_console_status(&mut self, now: Instant, status: ConsoleStatus) -> usize {
        self.console_status = status.clone();
        let mut n = 0;
        for i in 0..self.sessions.len() {
            if self.sessions[i].joined {
                self.send_payload(
                    now,
                    i,
                    CHANNEL_CORE,
                    MessagePayload::ConsoleStatus(status.clone()),
                    true,
                );
                n += 1;
            }
        }
        n
    }

    /// Replaces the media state and sends it on SystemMedia.
    pub fn set_media_state(&mut self, now: Instant, state: MediaState) -> usize {
        self.media_state = Some(state.clone());
        self.send_to_clients(
            now,
            ServiceChannel::SystemMedia,
            MessagePayload::MediaState(state),
            true,
        )
    }

    /// Sends a system text configuration (a text entry opened) on SystemText.
    pub fn send_text_configuration(&mut self, now: Instant, cfg: TextConfiguration) -> usize {
        self.send_to_clients(
            now,
            ServiceChannel::SystemText,
            MessagePayload::SystemTextConfiguration(cfg),
            true,
        )
    }

    /// Sends a paired identity state change on the core channel.
    pub fn send_paired_identity_state(
        &mut self,
        now: Instant,
        state: PairedIdentityState,
    ) -> usize {
        self.send_to_clients(
            now,
            ServiceChannel::Core,
            MessagePayload::PairedIdentityStateChanged(PairedIdentityStateChanged { state }),
            false,
        )
    }

    /// The gamestream state as a client would follow it (for the engine's
    /// Nano stop bookkeeping): true while a stream is announced or starting.
    pub fn streaming(&self) -> bool {
        self.stream.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xnano_proto::wire::sg::common::PublicKeyType;
    use xnano_proto::wire::sg::payloads::Unsnap;
    use xnano_proto::wire::sg::simple::ConnectRequest;

    fn peer() -> SocketAddr {
        "127.0.0.1:40000".parse().unwrap()
    }

    #[test]
    fn pace_from_configuration_prefers_the_fixed_rate() {
        let c = |v: serde_json::Value| pace_from_configuration(&v);
        assert_eq!(
            c(serde_json::json!({"urcpFixedRate": "-1", "urcpMaximumRate": "10000000"})),
            Some(10_000_000)
        );
        assert_eq!(
            c(serde_json::json!({"urcpFixedRate": "5000000", "urcpMaximumRate": "10000000"})),
            Some(5_000_000)
        );
        assert_eq!(
            c(serde_json::json!({"urcpMaximumRate": 2000000})),
            Some(2_000_000)
        );
        assert_eq!(c(serde_json::json!({"urcpFixedRate": "x"})), None);
        assert_eq!(c(serde_json::Value::Null), None);
    }

    /// Connects a client to `h` at `now`; returns its crypto.
    fn connect(h: &mut HostSession, now: Instant) -> Crypto {
        let (crypto, ours) = Crypto::new_ecdh(h.curve(), &h.public_key()).unwrap();
        let req = ConnectRequest::build_group(
            [1; 16],
            PublicKeyType::from_raw(h.curve().public_key_type()),
            ours,
            "",
            "",
            0,
            Crypto::random_iv,
        )
        .remove(0);
        let b = SimplePacket::new(SimpleBody::ConnectRequest(req))
            .to_bytes(Some(&crypto))
            .unwrap();
        h.handle_datagram(now, peer(), &b);
        let (to, resp) = h.poll_transmit().expect("connect response");
        assert_eq!(to, peer());
        let SimpleBody::ConnectResponse(r) =
            SimplePacket::decode(&resp, Some(&crypto)).unwrap().body
        else {
            panic!("not a connect response")
        };
        assert_eq!(r.protected.connect_result, ConnectionResult::Success);
        crypto
    }

    fn msg(crypto: &Crypto, seq: u32, payload: MessagePayload, need_ack: bool) -> Vec<u8> {
        Message::new(payload, seq, 0, 31, CHANNEL_CORE, need_ack)
            .to_bytes(crypto)
            .unwrap()
    }

    #[test]
    fn timers_follow_the_given_clock() {
        let cfg = SimConfig {
            resend_interval: Duration::from_millis(100),
            max_resends: 1,
            client_timeout: Duration::from_secs(5),
            ..SimConfig::default()
        };
        let mut h = HostSession::new(&cfg).unwrap();
        let t0 = Instant::now();
        let crypto = connect(&mut h, t0);
        h.handle_datagram(
            t0,
            peer(),
            &msg(
                &crypto,
                1,
                MessagePayload::LocalJoin(LocalJoin {
                    device_type: ClientType::Android,
                    native_width: 1,
                    native_height: 1,
                    dpi_x: 1,
                    dpi_y: 1,
                    device_capabilities: xnano_proto::wire::sg::common::DeviceCapabilities::All,
                    client_version: 1,
                    os_major_version: 1,
                    os_minor_version: 1,
                    display_name: "t".into(),
                }),
                true,
            ),
        );
        let out: Vec<_> = std::iter::from_fn(|| h.poll_transmit()).collect();
        assert_eq!(out.len(), 2, "ack and console status");
        let status = Message::decode(&out[1].1, &crypto).unwrap();
        assert!(matches!(status.payload, MessagePayload::ConsoleStatus(_)));

        // Nothing before the resend interval, one resend at it, then given up.
        assert_eq!(h.poll_timeout(), Some(t0 + Duration::from_millis(100)));
        h.handle_timeout(t0 + Duration::from_millis(99));
        assert!(h.poll_transmit().is_none());
        h.handle_timeout(t0 + Duration::from_millis(100));
        let (_, again) = h.poll_transmit().expect("resend");
        assert_eq!(again, out[1].1);
        h.handle_timeout(t0 + Duration::from_millis(200));
        assert!(h.poll_transmit().is_none());
        assert_eq!(h.stats().resends_exhausted, 1);

        // Traffic keeps the client; five silent seconds drop it.
        let t1 = t0 + Duration::from_secs(3);
        h.handle_datagram(
            t1,
            peer(),
            &msg(&crypto, 2, MessagePayload::Unsnap(Unsnap { unk: 0 }), false),
        );
        h.handle_timeout(t1 + Duration::from_millis(4999));
        assert_eq!(h.clients().len(), 1);
        h.handle_timeout(t1 + Duration::from_secs(5));
        assert!(h.clients().is_empty());
        let events: Vec<_> = std::iter::from_fn(|| h.poll_event()).collect();
        assert!(events.iter().any(|e| matches!(
            e,
            HostEvent::ClientTimedOut {
                participant_id: 31,
                ..
            }
        )));
    }

    #[test]
    fn gamestream_asks_the_engine_for_the_nano_host() {
        let mut h = HostSession::new(&SimConfig::default()).unwrap();
        let now = Instant::now();
        let crypto = connect(&mut h, now);
        let start = MessagePayload::ChannelStartRequest(
            xnano_proto::wire::sg::payloads::ChannelStartRequest {
                channel_request_id: 1,
                title_id: 0,
                service: ServiceChannel::SystemBroadcast.uuid().unwrap(),
                activity_id: 0,
            },
        );
        h.handle_datagram(now, peer(), &msg(&crypto, 1, start, true));
        while h.poll_transmit().is_some() {}
        let json = Message::new(
            MessagePayload::Json(xnano_proto::wire::sg::payloads::Json {
                text: r#"{"type":1,"configuration":{}}"#.into(),
            }),
            2,
            0,
            31,
            FIRST_CHANNEL_ID,
            true,
        )
        .to_bytes(&crypto)
        .unwrap();
        h.handle_datagram(now, peer(), &json);
        assert_eq!(
            h.poll_action(),
            Some(HostAction::StartNano { peer: peer() })
        );
        assert_eq!(h.gamestream().unwrap().tcp_port, None);
        h.nano_started(now, peer(), 1111, 2222);
        let gs = h.gamestream().unwrap();
        assert_eq!((gs.tcp_port, gs.udp_port), (Some(1111), Some(2222)));
        let texts: Vec<String> = std::iter::from_fn(|| h.poll_transmit())
            .filter_map(
                |(_, b)| match Message::decode(&b, &crypto).unwrap().payload {
                    MessagePayload::Json(j) => Some(j.text),
                    _ => None,
                },
            )
            .collect();
        assert_eq!(texts.len(), 5, "{texts:?}");
        assert!(texts[2].contains("\"tcpPort\":1111") && texts[2].contains("\"udpPort\":2222"));
    }
}
