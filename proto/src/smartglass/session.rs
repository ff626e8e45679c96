//! The sans-IO SmartGlass console session (reference `protocol.py`,
//! `console.py` and the managers of `manager.py`).
//!
//! Drive it with [`ClientSession::handle_datagram`] and
//! [`ClientSession::handle_timeout`]; send what
//! [`ClientSession::poll_transmit`] returns to the console; read
//! [`ClientSession::poll_event`]; call `handle_timeout` at
//! [`ClientSession::poll_timeout`]. Every input takes an explicit `now`.
//!
//! Life of a session:
//! 1. [`ClientSession::new`] agrees an ECDH secret with the public key of the
//!    console's certificate (P-256/384/521) and queues the connect request —
//!    several requests of one group when the user hash and auth token do not
//!    fit in one (the reference's fragmented connect). It is resent every
//!    [`SessionConfig::connect_resend`] until the connect response arrives.
//! 2. The connect response (HMAC checked, decrypted) gives our participant
//!    id; the session sends the local join and the channel start requests of
//!    [`SessionConfig::channels`], and emits [`SessionEvent::Connected`].
//! 3. Every message we send takes the next sequence number (acknowledgements
//!    too, as captured). Messages that want an ack are resent every
//!    [`SessionConfig::ack_timeout`] until acked, at most
//!    [`SessionConfig::max_sends`] times ([`SessionEvent::SendFailed`]
//!    afterwards). Console messages that want an ack are acked on the core
//!    channel; a duplicate is acked again but not delivered twice.
//! 4. A heartbeat (an empty acknowledgement that wants an ack) goes out
//!    [`SessionConfig::heartbeat_interval`] after the previous one was acked.
//!    When a heartbeat is never acked, or nothing authenticated arrives for
//!    [`SessionConfig::console_timeout`], the console is dead:
//!    [`CloseReason::ConsoleSilent`].
//! 5. Fragmented messages and fragmented JSON are reassembled; packets that
//!    fail the HMAC or do not decode are dropped with
//!    [`SessionEvent::Rejected`] naming the packet and field; the session
//!    goes on.

pub use crate::CloseReason;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::Serialize;

use crate::crypto::Crypto;
use crate::smartglass::gamestream::{self, GameStreamConfig, GameStreamEvent, GameStreamStatus};
use crate::smartglass::{ConsoleInfo, ServiceChannel, CHANNEL_ACK, CHANNEL_CORE};
use crate::wire::sg::common::{
    peek_packet_type, ClientType, ConnectionResult, DeviceCapabilities, Guid, PacketType,
    PairedIdentityState, PublicKeyType,
};
use crate::wire::sg::json::{self as sg_json, JsonReassembler};
use crate::wire::sg::message::{FragmentReassembler, Message, MessageHeader};
use crate::wire::sg::payloads::*;
use crate::wire::sg::payloads::{Acknowledge, Fragment, MessageType};
use crate::wire::sg::simple::{ConnectRequest, SimpleBody, SimplePacket};
use crate::wire::WireError;

/// Session settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Our client UUID (random by default).
    pub client_uuid: Guid,
    /// Xbox Live user hash; empty for an anonymous connect.
    pub userhash: String,
    /// Xbox Live XSTS token; empty for an anonymous connect.
    pub auth_token: String,
    /// Connect anonymously even when the console's discovery flags do not
    /// allow anonymous users (the reference refuses then).
    pub ignore_anonymous_flag: bool,
    /// The first connect request number.
    pub request_num: u32,
    /// What the local join says about us (reference: `WindowsClientInfo`).
    pub local_join: LocalJoin,
    /// Channels started right after connecting (reference: the five system
    /// channels).
    pub channels: Vec<ServiceChannel>,
    /// Time between connect request resends.
    pub connect_resend: Duration,
    /// Connect request sends before giving up.
    pub connect_attempts: u32,
    /// Time between resends of a message that wants an ack.
    pub ack_timeout: Duration,
    /// Sends of such a message before [`SessionEvent::SendFailed`].
    pub max_sends: u32,
    /// Time between a heartbeat's ack and the next heartbeat (reference: 3 s).
    pub heartbeat_interval: Duration,
    /// The console is dead when nothing authenticated arrived for this long.
    pub console_timeout: Duration,
    /// Outgoing message payloads longer than this are sent as fragments.
    pub max_message_payload: usize,
    /// Seeds the session's random numbers (our ephemeral key, the connect
    /// requests' IVs) for a reproducible session; None: from the operating
    /// system, as a real client must.
    pub rng_seed: Option<u64>,
}

/// The random number generator of one session (see `rng_seed`).
fn session_rng(cfg: &SessionConfig) -> StdRng {
    match cfg.rng_seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_entropy(),
    }
}

/// The reference's `WindowsClientInfo` local join.
pub fn windows_client_info() -> LocalJoin {
    LocalJoin {
        device_type: ClientType::WindowsStore,
        native_width: 1080,
        native_height: 1920,
        dpi_x: 96,
        dpi_y: 96,
        device_capabilities: DeviceCapabilities::All,
        client_version: 39,
        os_major_version: 6,
        os_minor_version: 2,
        display_name: "SmartGlass-PC".into(),
    }
}

/// The reference's `AndroidClientInfo` local join.
pub fn android_client_info() -> LocalJoin {
    LocalJoin {
        device_type: ClientType::Android,
        native_width: 720,
        native_height: 1280,
        dpi_x: 160,
        dpi_y: 160,
        device_capabilities: DeviceCapabilities::All,
        client_version: 151117100,
        os_major_version: 22,
        os_minor_version: 0,
        display_name: "com.microsoft.xboxone.smartglass.beta".into(),
    }
}

impl Default for SessionConfig {
    fn default() -> Self {
        let mut uuid = Crypto::random_iv();
        // RFC 4122 version 4.
        uuid[6] = (uuid[6] & 0x0F) | 0x40;
        uuid[8] = (uuid[8] & 0x3F) | 0x80;
        SessionConfig {
            client_uuid: uuid,
            userhash: String::new(),
            auth_token: String::new(),
            ignore_anonymous_flag: false,
            request_num: 0,
            local_join: windows_client_info(),
            channels: ServiceChannel::DEFAULT_SET.to_vec(),
            connect_resend: Duration::from_secs(1),
            connect_attempts: 5,
            ack_timeout: Duration::from_secs(1),
            max_sends: 5,
            heartbeat_interval: Duration::from_secs(3),
            console_timeout: Duration::from_secs(15),
            max_message_payload: 1024,
            rng_seed: None,
        }
    }
}

impl SessionConfig {
    /// True when no user hash / token is set.
    pub fn is_anonymous(&self) -> bool {
        self.userhash.is_empty() || self.auth_token.is_empty()
    }
}

/// Errors of session calls.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SessionError {
    /// The console's discovery flags do not allow anonymous users; give a
    /// user hash and auth token.
    #[error(
        "the console does not allow anonymous connections; a user hash and auth token are needed"
    )]
    AnonymousNotAllowed,
    /// The call needs a connected session.
    #[error("not connected")]
    NotConnected,
    /// The session has ended.
    #[error("the session is closed")]
    Closed,
    /// The message goes on a channel that is not started.
    #[error("service channel {0} is not started")]
    ChannelNotStarted(ServiceChannel),
    /// A text call needs a text session the console opened.
    #[error("no text session is active")]
    NoTextSession,
    /// Encoding failed, or the console's key is unusable.
    #[error(transparent)]
    Wire(#[from] WireError),
}

/// What a session reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum SessionEvent {
    /// The console accepted the connection.
    Connected {
        /// Our participant id.
        participant_id: u32,
        /// Pairing state from the connect response.
        pairing_state: PairedIdentityState,
    },
    /// A service channel is open.
    ChannelStarted {
        /// Which.
        channel: ServiceChannel,
        /// Its channel id.
        channel_id: u64,
    },
    /// The console refused to open a channel.
    ChannelFailed {
        /// Which.
        channel: ServiceChannel,
        /// The console's result.
        result: SGResultCode,
    },
    /// We stopped a channel.
    ChannelStopped {
        /// Which.
        channel: ServiceChannel,
    },
    /// Console status (OS version, active titles).
    ConsoleStatus(ConsoleStatus),
    /// Active surface change.
    ActiveSurface(ActiveSurfaceChange),
    /// Paired identity state changed.
    PairingState {
        /// The new state.
        state: PairedIdentityState,
    },
    /// Media state (SystemMedia).
    MediaState(MediaState),
    /// Media command result (SystemMedia).
    MediaCommandResult(MediaCommandResult),
    /// Media controller removed (SystemMedia).
    MediaControllerRemoved {
        /// Its title.
        title_id: u32,
    },
    /// A text entry session started (SystemText configuration).
    TextConfiguration(TextConfiguration),
    /// The console's text changed (acknowledged automatically).
    TextInput(SystemTextInput),
    /// The console acknowledged a text version.
    TextAcknowledged(SystemTextAcknowledge),
    /// A text session ended.
    TextDone(SystemTextDone),
    /// A JSON message (reassembled when fragmented), on any channel.
    Json {
        /// The channel it came on (`None`: an unknown channel id).
        channel: Option<ServiceChannel>,
        /// The JSON text.
        text: String,
    },
    /// A gamestream message (SystemBroadcast JSON), parsed.
    GameStream(GameStreamEvent),
    /// Any other message (title text, auxiliary stream, ...).
    Message {
        /// The channel it came on (`None`: an unknown channel id).
        channel: Option<ServiceChannel>,
        /// The channel id.
        channel_id: u64,
        /// Its type.
        msg_type: MessageType,
        /// Its payload.
        payload: MessagePayload,
    },
    /// The console acknowledged (processed or rejected) a message of ours.
    Acked {
        /// Its sequence number.
        sequence: u32,
        /// Its type.
        msg_type: MessageType,
        /// The console put it in its rejected list.
        rejected: bool,
    },
    /// A message of ours was never acknowledged.
    SendFailed {
        /// Its sequence number.
        sequence: u32,
        /// Its type.
        msg_type: MessageType,
    },
    /// A packet or message was dropped: failed authentication, did not
    /// decode, or made no sense. The session goes on.
    Rejected {
        /// What was wrong (names the packet and field).
        error: String,
    },
    /// The session ended; nothing follows.
    Closed(CloseReason),
}

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SessionState {
    /// Waiting for the connect response.
    Connecting,
    /// Connected.
    Connected,
    /// Ended.
    Closed,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SessionStats {
    /// Datagrams sent (resends included).
    pub datagrams_sent: u64,
    /// Datagrams received from the console.
    pub datagrams_received: u64,
    /// Datagrams from other addresses (ignored).
    pub foreign_datagrams: u64,
    /// Messages sent (sequence numbers used).
    pub messages_sent: u64,
    /// Resends of unacknowledged messages.
    pub resends: u64,
    /// Acks we sent.
    pub acks_sent: u64,
    /// Console messages delivered (after reassembly).
    pub messages_received: u64,
    /// Duplicates of console messages (acked again, not delivered).
    pub duplicates: u64,
    /// Packets / messages rejected.
    pub rejected: u64,
    /// Heartbeats sent.
    pub heartbeats_sent: u64,
}

#[derive(Debug)]
struct Pending {
    bytes: Vec<u8>,
    msg_type: MessageType,
    sent_at: Instant,
    sends: u32,
    heartbeat: bool,
}

/// The most out-of-order console sequence numbers remembered.
const MAX_RECV_WINDOW: usize = 1024;

/// The SmartGlass session with one console.
#[derive(Debug)]
pub struct ClientSession {
    cfg: SessionConfig,
    console: ConsoleInfo,
    crypto: Crypto,
    state: SessionState,
    close_reason: Option<CloseReason>,
    participant_id: u32,
    pairing_state: PairedIdentityState,
    // connect
    connect_packets: Vec<Vec<u8>>,
    connect_sends: u32,
    connect_next: Instant,
    connect_last_error: Option<String>,
    // sending
    next_seq: u32,
    pending: BTreeMap<u32, Pending>,
    transmit: VecDeque<Vec<u8>>,
    heartbeat_at: Option<Instant>,
    heartbeat_seq: Option<u32>,
    // receiving
    last_rx: Instant,
    recv_low: u32,
    recv_above: BTreeSet<u32>,
    frags: FragmentReassembler,
    json: JsonReassembler,
    json_datagram_id: u64,
    // channels
    next_request_id: u32,
    channel_requests: HashMap<u32, ServiceChannel>,
    channels: BTreeMap<ServiceChannel, u64>,
    channel_failures: BTreeMap<ServiceChannel, SGResultCode>,
    // state the console told us
    console_status: Option<ConsoleStatus>,
    active_surface: Option<ActiveSurfaceChange>,
    media_state: Option<MediaState>,
    text_config: Option<TextConfiguration>,
    text_version: u32,
    gamestream: GameStreamStatus,
    media_request_id: u64,
    events: VecDeque<SessionEvent>,
    stats: SessionStats,
}

impl ClientSession {
    /// Starts a session with `console`: agrees the ECDH secret with its
    /// certificate's key and queues the connect request(s).
    pub fn new(
        console: &ConsoleInfo,
        cfg: SessionConfig,
        now: Instant,
    ) -> Result<ClientSession, SessionError> {
        if cfg.is_anonymous() && !console.anonymous_allowed() && !cfg.ignore_anonymous_flag {
            return Err(SessionError::AnonymousNotAllowed);
        }
        let mut rng = session_rng(&cfg);
        let (crypto, public_key) =
            Crypto::new_ecdh_with(console.curve, &console.public_key, &mut rng)
                .map_err(WireError::from)?;
        Self::with_crypto_rng(console, cfg, crypto, public_key, now, rng)
    }

    /// Like [`ClientSession::new`] with a given crypto context and our
    /// public key as sent (tests with fixed secrets).
    pub fn with_crypto(
        console: &ConsoleInfo,
        cfg: SessionConfig,
        crypto: Crypto,
        public_key: Vec<u8>,
        now: Instant,
    ) -> Result<ClientSession, SessionError> {
        let rng = session_rng(&cfg);
        Self::with_crypto_rng(console, cfg, crypto, public_key, now, rng)
    }

    fn with_crypto_rng(
        console: &ConsoleInfo,
        cfg: SessionConfig,
        crypto: Crypto,
        public_key: Vec<u8>,
        now: Instant,
        mut rng: StdRng,
    ) -> Result<ClientSession, SessionError> {
        let (userhash, token) = if cfg.is_anonymous() {
            ("", "")
        } else {
            (cfg.userhash.as_str(), cfg.auth_token.as_str())
        };
        let requests = ConnectRequest::build_group(
            cfg.client_uuid,
            PublicKeyType::from_raw(console.curve.public_key_type()),
            public_key,
            userhash,
            token,
            cfg.request_num,
            || Crypto::random_iv_with(&mut rng),
        );
        let mut connect_packets = Vec::with_capacity(requests.len());
        for r in requests {
            connect_packets
                .push(SimplePacket::new(SimpleBody::ConnectRequest(r)).to_bytes(Some(&crypto))?);
        }
        let mut s = ClientSession {
            console: console.clone(),
            crypto,
            state: SessionState::Connecting,
            close_reason: None,
            participant_id: 0,
            pairing_state: PairedIdentityState::NotPaired,
            connect_packets,
            connect_sends: 0,
            connect_next: now,
            connect_last_error: None,
            next_seq: 1,
            pending: BTreeMap::new(),
            transmit: VecDeque::new(),
            heartbeat_at: None,
            heartbeat_seq: None,
            last_rx: now,
            recv_low: 0,
            recv_above: BTreeSet::new(),
            frags: FragmentReassembler::default(),
            json: JsonReassembler::default(),
            json_datagram_id: 0,
            next_request_id: 0,
            channel_requests: HashMap::new(),
            channels: BTreeMap::new(),
            channel_failures: BTreeMap::new(),
            console_status: None,
            active_surface: None,
            media_state: None,
            text_config: None,
            text_version: 0,
            gamestream: GameStreamStatus::default(),
            media_request_id: 0,
            events: VecDeque::new(),
            stats: SessionStats::default(),
            cfg,
        };
        s.handle_timeout(now);
        Ok(s)
    }

    // ------------------------------------------------------------------
    // accessors

    /// The console.
    pub fn console(&self) -> &ConsoleInfo {
        &self.console
    }

    /// The session's crypto context.
    pub fn crypto(&self) -> &Crypto {
        &self.crypto
    }

    /// Where the session is.
    pub fn state(&self) -> SessionState {
        self.state
    }

    /// Why it ended.
    pub fn close_reason(&self) -> Option<&CloseReason> {
        self.close_reason.as_ref()
    }

    /// Our participant id (0 before the connect response).
    pub fn participant_id(&self) -> u32 {
        self.participant_id
    }

    /// The pairing state.
    pub fn pairing_state(&self) -> PairedIdentityState {
        self.pairing_state
    }

    /// The channel id of a started channel.
    pub fn channel_id(&self, channel: ServiceChannel) -> Option<u64> {
        if channel == ServiceChannel::Core {
            return Some(CHANNEL_CORE);
        }
        self.channels.get(&channel).copied()
    }

    /// The result code of the console's refusal of the last start request
    /// for `channel` (cleared by a new request).
    pub fn channel_failure(&self, channel: ServiceChannel) -> Option<SGResultCode> {
        self.channel_failures.get(&channel).copied()
    }

    /// True while a start request for `channel` waits for its response.
    pub fn channel_requested(&self, channel: ServiceChannel) -> bool {
        self.channel_requests.values().any(|c| *c == channel)
    }

    /// The started channels and their ids.
    pub fn channels(&self) -> &BTreeMap<ServiceChannel, u64> {
        &self.channels
    }

    /// The last console status.
    pub fn console_status(&self) -> Option<&ConsoleStatus> {
        self.console_status.as_ref()
    }

    /// The last active surface change.
    pub fn active_surface(&self) -> Option<&ActiveSurfaceChange> {
        self.active_surface.as_ref()
    }

    /// The last media state (cleared when its controller is removed).
    pub fn media_state(&self) -> Option<&MediaState> {
        self.media_state.as_ref()
    }

    /// The active text session's configuration.
    pub fn text_configuration(&self) -> Option<&TextConfiguration> {
        self.text_config.as_ref()
    }

    /// The current text version of the active text session.
    pub fn text_version(&self) -> u32 {
        self.text_version
    }

    /// What the console said about the gamestream.
    pub fn gamestream(&self) -> &GameStreamStatus {
        &self.gamestream
    }

    /// Counters.
    pub fn stats(&self) -> SessionStats {
        self.stats.clone()
    }

    /// Messages sent that wait for an ack.
    pub fn unacked(&self) -> usize {
        self.pending.len()
    }

    // ------------------------------------------------------------------
    // sans-IO outputs

    /// The next datagram to send, with the console's address.
    pub fn poll_transmit(&mut self) -> Option<(Vec<u8>, SocketAddr)> {
        let b = self.transmit.pop_front()?;
        self.stats.datagrams_sent += 1;
        Some((b, self.console.address))
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }

    /// When [`ClientSession::handle_timeout`] is due next (`None` once
    /// closed).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            SessionState::Closed => None,
            SessionState::Connecting => Some(self.connect_next),
            SessionState::Connected => {
                let mut t = self.last_rx + self.cfg.console_timeout;
                if let Some(h) = self.heartbeat_at {
                    t = t.min(h);
                }
                for p in self.pending.values() {
                    t = t.min(p.sent_at + self.cfg.ack_timeout);
                }
                Some(t)
            }
        }
    }

    // ------------------------------------------------------------------
    // inputs

    /// Advances time: connect resends, message resends, heartbeats, the
    /// dead-console check.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            SessionState::Closed => {}
            SessionState::Connecting => {
                if now < self.connect_next {
                    return;
                }
                if self.connect_sends >= self.cfg.connect_attempts.max(1) {
                    let last_error = self.connect_last_error.take();
                    self.close(CloseReason::ConnectTimeout { last_error });
                    return;
                }
                self.transmit.extend(self.connect_packets.iter().cloned());
                self.connect_sends += 1;
                self.connect_next = now + self.cfg.connect_resend;
            }
            SessionState::Connected => {
                if now >= self.last_rx + self.cfg.console_timeout {
                    self.close(CloseReason::ConsoleSilent);
                    return;
                }
                let due: Vec<u32> = self
                    .pending
                    .iter()
                    .filter(|(_, p)| now >= p.sent_at + self.cfg.ack_timeout)
                    .map(|(s, _)| *s)
                    .collect();
                for seq in due {
                    let Some(p) = self.pending.get_mut(&seq) else {
                        continue;
                    };
                    if p.sends >= self.cfg.max_sends.max(1) {
                        let p = self.pending.remove(&seq).expect("present");
                        if p.heartbeat {
                            self.close(CloseReason::ConsoleSilent);
                            return;
                        }
                        self.events.push_back(SessionEvent::SendFailed {
                            sequence: seq,
                            msg_type: p.msg_type,
                        });
                    } else {
                        p.sends += 1;
                        p.sent_at = now;
                        self.transmit.push_back(p.bytes.clone());
                        self.stats.resends += 1;
                    }
                }
                if self.heartbeat_at.is_some_and(|t| now >= t) {
                    self.heartbeat_at = None;
                    self.send_heartbeat(now);
                }
            }
        }
    }

    /// Feeds a datagram received from `from`. Datagrams from anyone but
    /// the console are ignored.
    pub fn handle_datagram(&mut self, buf: &[u8], from: SocketAddr, now: Instant) {
        if self.state == SessionState::Closed {
            return;
        }
        if from != self.console.address {
            self.stats.foreign_datagrams += 1;
            return;
        }
        self.stats.datagrams_received += 1;
        match peek_packet_type(buf) {
            Ok(PacketType::ConnectResponse) => self.on_connect_response(buf, now),
            Ok(PacketType::Message) => self.on_message(buf, now),
            Ok(PacketType::Unknown(v)) => self.reject(format!(
                "smartglass packet: invalid pkt_type: unknown packet type 0x{v:04x}"
            )),
            Ok(_) => {} // discovery answers and the like: not for the session
            Err(e) => self.reject(e.to_string()),
        }
    }

    fn reject(&mut self, error: String) {
        self.stats.rejected += 1;
        self.events.push_back(SessionEvent::Rejected { error });
    }

    fn close(&mut self, reason: CloseReason) {
        if self.state == SessionState::Closed {
            return;
        }
        self.state = SessionState::Closed;
        self.pending.clear();
        self.heartbeat_at = None;
        self.close_reason = Some(reason.clone());
        self.events.push_back(SessionEvent::Closed(reason));
    }

    /// Ends the session from outside (the engine's socket failed, a
    /// callback panicked).
    pub fn fail(&mut self, reason: CloseReason) {
        self.close(reason);
    }

    fn on_connect_response(&mut self, buf: &[u8], now: Instant) {
        if self.state != SessionState::Connecting {
            return; // an answer to a resent request
        }
        let resp = match SimplePacket::decode(buf, Some(&self.crypto)) {
            Ok(SimplePacket {
                body: SimpleBody::ConnectResponse(r),
                ..
            }) => r,
            Ok(_) => return,
            Err(e) => {
                let msg = e.to_string();
                self.connect_last_error = Some(msg.clone());
                self.reject(msg);
                return;
            }
        };
        self.last_rx = now;
        let p = resp.protected;
        if p.connect_result != ConnectionResult::Success {
            self.close(CloseReason::Refused {
                result: p.connect_result,
            });
            return;
        }
        self.state = SessionState::Connected;
        self.participant_id = p.participant_id;
        self.pairing_state = p.pairing_state;
        self.events.push_back(SessionEvent::Connected {
            participant_id: p.participant_id,
            pairing_state: p.pairing_state,
        });
        let join = MessagePayload::LocalJoin(self.cfg.local_join.clone());
        if let Err(e) = self.send_on(ServiceChannel::Core, join, true, now) {
            self.reject(format!("local join: {e}"));
        }
        for ch in self.cfg.channels.clone() {
            if ch == ServiceChannel::Core || ch == ServiceChannel::Title {
                continue;
            }
            let _ = self.start_channel_inner(ch, 0, now);
        }
        self.heartbeat_at = Some(now + self.cfg.heartbeat_interval);
    }

    fn channel_of(&self, id: u64) -> Option<ServiceChannel> {
        if id == CHANNEL_CORE || id == CHANNEL_ACK {
            return Some(ServiceChannel::Core);
        }
        self.channels
            .iter()
            .find(|(_, v)| **v == id)
            .map(|(k, _)| *k)
    }

    fn on_message(&mut self, buf: &[u8], now: Instant) {
        if self.state != SessionState::Connected {
            self.reject("message: received before the connect response".into());
            return;
        }
        let (header, plain) = match Message::open(buf, &self.crypto) {
            Ok(x) => x,
            Err(e) => {
                self.reject(e.to_string());
                return;
            }
        };
        if header.target_participant_id != self.participant_id {
            self.reject(format!(
                "message: target_participant_id {} is not ours ({})",
                header.target_participant_id, self.participant_id
            ));
            return;
        }
        // Authenticated: the console is alive.
        self.last_rx = now;
        let seq = header.sequence_number;
        let before = self.recv_low;
        if !self.record_received(seq) {
            self.stats.duplicates += 1;
            if header.flags.need_ack {
                self.send_ack(vec![seq], vec![], now);
            }
            return;
        }
        let payload = if header.flags.is_fragment {
            Fragment::decode(&plain).map(MessagePayload::Fragment)
        } else {
            MessagePayload::decode(header.flags.msg_type, &plain)
        };
        let payload = match payload {
            Ok(p) => p,
            Err(e) => {
                if header.flags.need_ack {
                    self.send_ack_lw(before, vec![], vec![seq], now);
                }
                self.reject(e.to_string());
                return;
            }
        };
        if header.flags.need_ack {
            self.send_ack_lw(before, vec![seq], vec![], now);
        }
        let (msg_type, payload) = match payload {
            MessagePayload::Fragment(f) => match self.frags.push(&header, &f) {
                Ok(Some((t, data))) => match MessagePayload::decode(t, &data) {
                    Ok(p) => (t, p),
                    Err(e) => {
                        self.reject(e.to_string());
                        return;
                    }
                },
                Ok(None) => return,
                Err(e) => {
                    self.reject(e.to_string());
                    return;
                }
            },
            p => (header.flags.msg_type, p),
        };
        self.stats.messages_received += 1;
        self.dispatch(&header, msg_type, payload, now);
    }

    /// Records a console sequence number; false for a duplicate.
    fn record_received(&mut self, seq: u32) -> bool {
        if seq <= self.recv_low || !self.recv_above.insert(seq) {
            return false;
        }
        while self.recv_above.remove(&(self.recv_low.wrapping_add(1))) {
            self.recv_low = self.recv_low.wrapping_add(1);
        }
        while self.recv_above.len() > MAX_RECV_WINDOW {
            // A gap that never fills (e.g. numbering that does not start at
            // 1): move the watermark past it.
            let first = *self.recv_above.iter().next().expect("not empty");
            self.recv_above.remove(&first);
            self.recv_low = first;
            while self.recv_above.remove(&(self.recv_low.wrapping_add(1))) {
                self.recv_low = self.recv_low.wrapping_add(1);
            }
        }
        true
    }

    fn dispatch(
        &mut self,
        header: &MessageHeader,
        msg_type: MessageType,
        payload: MessagePayload,
        now: Instant,
    ) {
        let channel = self.channel_of(header.channel_id);
        match payload {
            MessagePayload::Ack(a) => self.on_ack(a, now),
            MessagePayload::ChannelStartResponse(r) => self.on_channel_response(r),
            MessagePayload::Json(j) => self.on_json(channel, &j.text),
            MessagePayload::ConsoleStatus(s) => {
                self.console_status = Some(s.clone());
                self.events.push_back(SessionEvent::ConsoleStatus(s));
            }
            MessagePayload::ActiveSurfaceChange(a) => {
                self.active_surface = Some(a.clone());
                self.events.push_back(SessionEvent::ActiveSurface(a));
            }
            MessagePayload::PairedIdentityStateChanged(p) => {
                self.pairing_state = p.state;
                self.events
                    .push_back(SessionEvent::PairingState { state: p.state });
            }
            MessagePayload::MediaState(m) => {
                self.media_state = Some(m.clone());
                self.events.push_back(SessionEvent::MediaState(m));
            }
            MessagePayload::MediaCommandResult(r) => {
                self.events.push_back(SessionEvent::MediaCommandResult(r));
            }
            MessagePayload::MediaControllerRemoved(r) => {
                if self
                    .media_state
                    .as_ref()
                    .is_some_and(|m| m.title_id == r.title_id)
                {
                    self.media_state = None;
                }
                self.events.push_back(SessionEvent::MediaControllerRemoved {
                    title_id: r.title_id,
                });
            }
            MessagePayload::SystemTextConfiguration(c) => {
                self.text_config = Some(c.clone());
                self.text_version = 0;
                self.events.push_back(SessionEvent::TextConfiguration(c));
            }
            MessagePayload::SystemTextInput(t) => {
                self.text_version = self.text_version.max(t.submitted_version);
                // The reference's TextManager acknowledges the console's input.
                let ack = MessagePayload::SystemTextAcknowledge(SystemTextAcknowledge {
                    text_session_id: t.text_session_id,
                    text_version_ack: t.submitted_version,
                });
                if let Err(e) = self.send_on(ServiceChannel::SystemText, ack, true, now) {
                    self.reject(format!("system text acknowledge: {e}"));
                }
                self.events.push_back(SessionEvent::TextInput(t));
            }
            MessagePayload::SystemTextAcknowledge(a) => {
                self.text_version = self.text_version.max(a.text_version_ack);
                self.events.push_back(SessionEvent::TextAcknowledged(a));
            }
            MessagePayload::SystemTextDone(d) => {
                if self
                    .text_config
                    .as_ref()
                    .is_some_and(|c| c.text_session_id as u32 == d.text_session_id)
                {
                    self.text_config = None;
                    self.text_version = 0;
                }
                self.events.push_back(SessionEvent::TextDone(d));
            }
            MessagePayload::Disconnect(d) => {
                self.close(CloseReason::Disconnected {
                    reason: d.reason,
                    error_code: d.error_code,
                });
            }
            payload => self.events.push_back(SessionEvent::Message {
                channel,
                channel_id: header.channel_id,
                msg_type,
                payload,
            }),
        }
    }

    fn on_ack(&mut self, a: Acknowledge, now: Instant) {
        for (list, rejected) in [(a.processed_list, false), (a.rejected_list, true)] {
            for seq in list {
                let Some(p) = self.pending.remove(&seq) else {
                    continue;
                };
                if p.heartbeat {
                    if self.heartbeat_seq == Some(seq) {
                        self.heartbeat_seq = None;
                        self.heartbeat_at = Some(now + self.cfg.heartbeat_interval);
                    }
                } else {
                    self.events.push_back(SessionEvent::Acked {
                        sequence: seq,
                        msg_type: p.msg_type,
                        rejected,
                    });
                }
            }
        }
    }

    fn on_channel_response(&mut self, r: ChannelStartResponse) {
        let Some(channel) = self.channel_requests.remove(&r.channel_request_id) else {
            self.reject(format!(
                "start_channel_response: channel_request_id {} was not requested",
                r.channel_request_id
            ));
            return;
        };
        if r.result != SGResultCode::SG_E_SUCCESS {
            self.channel_failures.insert(channel, r.result);
            self.events.push_back(SessionEvent::ChannelFailed {
                channel,
                result: r.result,
            });
            return;
        }
        if r.target_channel_id == CHANNEL_CORE || r.target_channel_id == CHANNEL_ACK {
            self.reject(format!(
                "start_channel_response: target_channel_id 0x{:x} is reserved",
                r.target_channel_id
            ));
            return;
        }
        self.channels.insert(channel, r.target_channel_id);
        self.events.push_back(SessionEvent::ChannelStarted {
            channel,
            channel_id: r.target_channel_id,
        });
    }

    fn on_json(&mut self, channel: Option<ServiceChannel>, text: &str) {
        let text = match self.json.accept(text) {
            Ok(Some(t)) => t,
            Ok(None) => return,
            Err(e) => {
                self.reject(e.to_string());
                return;
            }
        };
        self.events.push_back(SessionEvent::Json {
            channel,
            text: text.clone(),
        });
        if channel == Some(ServiceChannel::SystemBroadcast) {
            match GameStreamEvent::parse(&text) {
                Ok(ev) => {
                    self.gamestream.update(&ev);
                    self.events.push_back(SessionEvent::GameStream(ev));
                }
                Err(e) => self.reject(e.to_string()),
            }
        }
    }

    // ------------------------------------------------------------------
    // sending

    fn take_seq(&mut self) -> u32 {
        let s = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1).max(1);
        self.stats.messages_sent += 1;
        s
    }

    fn seal_and_queue(
        &mut self,
        msg: Message,
        need_ack: bool,
        heartbeat: bool,
        now: Instant,
    ) -> Result<(), SessionError> {
        let bytes = msg.to_bytes(&self.crypto)?;
        if need_ack {
            self.pending.insert(
                msg.header.sequence_number,
                Pending {
                    bytes: bytes.clone(),
                    msg_type: msg.header.flags.msg_type,
                    sent_at: now,
                    sends: 1,
                    heartbeat,
                },
            );
        }
        self.transmit.push_back(bytes);
        Ok(())
    }

    fn send_ack(&mut self, processed: Vec<u32>, rejected: Vec<u32>, now: Instant) {
        let lw = self.recv_low;
        self.send_ack_lw(lw, processed, rejected, now);
    }

    fn send_ack_lw(&mut self, lw: u32, processed: Vec<u32>, rejected: Vec<u32>, now: Instant) {
        let seq = self.take_seq();
        let msg = Message::new(
            MessagePayload::Ack(Acknowledge {
                low_watermark: lw,
                processed_list: processed,
                rejected_list: rejected,
            }),
            seq,
            0,
            self.participant_id,
            CHANNEL_CORE,
            false,
        );
        if self.seal_and_queue(msg, false, false, now).is_ok() {
            self.stats.acks_sent += 1;
        }
    }

    fn send_heartbeat(&mut self, now: Instant) {
        let seq = self.take_seq();
        let msg = Message::new(
            MessagePayload::Ack(Acknowledge {
                low_watermark: self.recv_low,
                processed_list: vec![],
                rejected_list: vec![],
            }),
            seq,
            0,
            self.participant_id,
            CHANNEL_CORE,
            true,
        );
        if self.seal_and_queue(msg, true, true, now).is_ok() {
            self.heartbeat_seq = Some(seq);
            self.stats.heartbeats_sent += 1;
        }
    }

    fn require_connected(&self) -> Result<(), SessionError> {
        match self.state {
            SessionState::Connected => Ok(()),
            SessionState::Connecting => Err(SessionError::NotConnected),
            SessionState::Closed => Err(SessionError::Closed),
        }
    }

    fn send_on(
        &mut self,
        channel: ServiceChannel,
        payload: MessagePayload,
        need_ack: bool,
        now: Instant,
    ) -> Result<u32, SessionError> {
        self.require_connected()?;
        let channel_id = self
            .channel_id(channel)
            .ok_or(SessionError::ChannelNotStarted(channel))?;
        let msg_type = payload
            .msg_type()
            .ok_or_else(|| WireError::invalid("message", "payload", "has no message type"))?;
        self.send_raw(msg_type, channel_id, payload, need_ack, now)
    }

    /// Sends any payload on a channel id; returns the (first) sequence
    /// number. Payloads over [`SessionConfig::max_message_payload`] go as
    /// fragments (one sequence number each).
    pub fn send_raw(
        &mut self,
        msg_type: MessageType,
        channel_id: u64,
        payload: MessagePayload,
        need_ack: bool,
        now: Instant,
    ) -> Result<u32, SessionError> {
        self.require_connected()?;
        let mut plain = Vec::new();
        payload.encode(&mut plain)?;
        if plain.len() <= self.cfg.max_message_payload {
            let seq = self.take_seq();
            let msg = Message::with_type(
                msg_type,
                payload,
                seq,
                0,
                self.participant_id,
                channel_id,
                need_ack,
            );
            self.seal_and_queue(msg, need_ack, false, now)?;
            return Ok(seq);
        }
        // Fragments: sequence numbers first..first+n.
        let chunk = self.cfg.max_message_payload.saturating_sub(10).max(1);
        let first = self.next_seq;
        let frags = Fragment::split(&plain, first, chunk);
        for f in frags {
            let seq = self.take_seq();
            let msg = Message::with_type(
                msg_type,
                MessagePayload::Fragment(f),
                seq,
                0,
                self.participant_id,
                channel_id,
                need_ack,
            );
            self.seal_and_queue(msg, need_ack, false, now)?;
        }
        Ok(first)
    }

    fn start_channel_inner(
        &mut self,
        channel: ServiceChannel,
        title_id: u32,
        now: Instant,
    ) -> Result<u32, SessionError> {
        let service = channel.uuid().ok_or_else(|| {
            WireError::invalid("start_channel_request", "service", "Core is not started")
        })?;
        self.next_request_id = self.next_request_id.wrapping_add(1);
        let id = self.next_request_id;
        // As the reference: a newer request for the channel replaces older ones.
        self.channel_requests.retain(|_, c| *c != channel);
        self.channel_failures.remove(&channel);
        self.channel_requests.insert(id, channel);
        let req = MessagePayload::ChannelStartRequest(ChannelStartRequest {
            channel_request_id: id,
            title_id,
            service,
            activity_id: 0,
        });
        self.send_on(ServiceChannel::Core, req, true, now)?;
        Ok(id)
    }

    /// Asks the console to open a system channel (for the Title channel use
    /// [`ClientSession::start_title_channel`]). Returns the request id.
    pub fn start_channel(
        &mut self,
        channel: ServiceChannel,
        now: Instant,
    ) -> Result<u32, SessionError> {
        self.start_channel_inner(channel, 0, now)
    }

    /// Asks the console to open the Title channel of `title_id`.
    pub fn start_title_channel(
        &mut self,
        title_id: u32,
        now: Instant,
    ) -> Result<u32, SessionError> {
        self.start_channel_inner(ServiceChannel::Title, title_id, now)
    }

    /// Stops a started channel.
    pub fn stop_channel(
        &mut self,
        channel: ServiceChannel,
        now: Instant,
    ) -> Result<(), SessionError> {
        self.require_connected()?;
        let id = *self
            .channels
            .get(&channel)
            .ok_or(SessionError::ChannelNotStarted(channel))?;
        let stop = MessagePayload::ChannelStop(ChannelStop {
            target_channel_id: id,
        });
        self.send_on(ServiceChannel::Core, stop, false, now)?;
        self.channels.remove(&channel);
        self.events
            .push_back(SessionEvent::ChannelStopped { channel });
        Ok(())
    }

    /// Sends a disconnect and ends the session (no ack is awaited).
    pub fn disconnect(&mut self, now: Instant) {
        if self.state == SessionState::Connected {
            let d = MessagePayload::Disconnect(Disconnect {
                reason: DisconnectReason::Unspecified,
                error_code: 0,
            });
            let _ = self.send_on(ServiceChannel::Core, d, false, now);
        }
        self.close(CloseReason::Local);
    }

    /// Powers the console off (core channel; no ack, as the reference).
    pub fn power_off(&mut self, now: Instant) -> Result<u32, SessionError> {
        let p = MessagePayload::PowerOff(PowerOff {
            liveid: self.console.live_id.clone(),
        });
        self.send_on(ServiceChannel::Core, p, false, now)
    }

    /// Launches a title or URI.
    pub fn launch_title(
        &mut self,
        uri: &str,
        location: ActiveTitleLocation,
        now: Instant,
    ) -> Result<u32, SessionError> {
        let p = MessagePayload::TitleLaunch(TitleLaunch {
            location,
            uri: uri.to_string(),
        });
        self.send_on(ServiceChannel::Core, p, false, now)
    }

    /// Records a game DVR clip (seconds relative to now).
    pub fn game_dvr_record(
        &mut self,
        start_time_delta: i32,
        end_time_delta: i32,
        now: Instant,
    ) -> Result<u32, SessionError> {
        let p = MessagePayload::GameDvrRecord(GameDvrRecord {
            start_time_delta,
            end_time_delta,
        });
        self.send_on(ServiceChannel::Core, p, true, now)
    }

    /// Unsnaps the snapped app.
    pub fn unsnap(&mut self, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::Core,
            MessagePayload::Unsnap(Unsnap { unk: 1 }),
            false,
            now,
        )
    }

    /// Sends a media command (SystemMedia); returns its request id.
    /// `seek_position` is required exactly for [`MediaControlCommand::Seek`].
    pub fn media_command(
        &mut self,
        title_id: u32,
        command: MediaControlCommand,
        seek_position: Option<u64>,
        now: Instant,
    ) -> Result<u64, SessionError> {
        self.media_request_id = self.media_request_id.wrapping_add(1);
        let request_id = self.media_request_id;
        let p = MessagePayload::MediaCommand(MediaCommand {
            request_id,
            title_id,
            command,
            seek_position,
        });
        self.send_on(ServiceChannel::SystemMedia, p, true, now)?;
        Ok(request_id)
    }

    /// Sends a gamepad state (SystemInput; not for streaming).
    pub fn gamepad(&mut self, g: Gamepad, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemInput,
            MessagePayload::Gamepad(g),
            false,
            now,
        )
    }

    /// Sends system touch input (SystemInput).
    pub fn touch(&mut self, t: Touch, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemInput,
            MessagePayload::SystemTouch(t),
            false,
            now,
        )
    }

    /// Sends title touch input (Title channel).
    pub fn title_touch(&mut self, t: Touch, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::Title,
            MessagePayload::TitleTouch(t),
            false,
            now,
        )
    }

    /// Sends accelerometer data (SystemInput).
    pub fn accelerometer(&mut self, v: Accelerometer, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemInput,
            MessagePayload::Accelerometer(v),
            false,
            now,
        )
    }

    /// Sends gyrometer data (SystemInput).
    pub fn gyrometer(&mut self, v: Gyrometer, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemInput,
            MessagePayload::Gyrometer(v),
            false,
            now,
        )
    }

    /// Sends inclinometer data (SystemInput).
    pub fn inclinometer(&mut self, v: Inclinometer, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemInput,
            MessagePayload::Inclinometer(v),
            false,
            now,
        )
    }

    /// Sends compass data (SystemInput).
    pub fn compass(&mut self, v: Compass, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemInput,
            MessagePayload::Compass(v),
            false,
            now,
        )
    }

    /// Sends orientation data (SystemInput).
    pub fn orientation(&mut self, v: Orientation, now: Instant) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemInput,
            MessagePayload::Orientation(v),
            false,
            now,
        )
    }

    /// Replaces the text of the active text session (SystemText), as the
    /// reference's `send_systemtext_input`.
    pub fn send_text(&mut self, text: &str, now: Instant) -> Result<u32, SessionError> {
        let cfg = self
            .text_config
            .as_ref()
            .ok_or(SessionError::NoTextSession)?;
        let total = u32::try_from(text.len())
            .map_err(|_| WireError::invalid("system_text_input", "text_chunk", "too long"))?;
        let input = SystemTextInput {
            text_session_id: cfg.text_session_id as u32,
            base_version: self.text_version,
            submitted_version: self.text_version.wrapping_add(1),
            total_text_byte_len: total,
            selection_start: -1,
            selection_length: -1,
            flags: 0,
            text_chunk_byte_start: 0,
            text_chunk: text.to_string(),
            delta: None,
        };
        let seq = self.send_system_text_input(input, now)?;
        self.text_version = self.text_version.wrapping_add(1);
        Ok(seq)
    }

    /// Sends a system text input message as given.
    pub fn send_system_text_input(
        &mut self,
        input: SystemTextInput,
        now: Instant,
    ) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemText,
            MessagePayload::SystemTextInput(input),
            true,
            now,
        )
    }

    /// Acknowledges a text version.
    pub fn text_acknowledge(
        &mut self,
        text_session_id: u32,
        text_version_ack: u32,
        now: Instant,
    ) -> Result<u32, SessionError> {
        let p = MessagePayload::SystemTextAcknowledge(SystemTextAcknowledge {
            text_session_id,
            text_version_ack,
        });
        self.send_on(ServiceChannel::SystemText, p, true, now)
    }

    /// Ends the active text session with `result` (accept or cancel).
    pub fn text_done(&mut self, result: TextResult, now: Instant) -> Result<u32, SessionError> {
        let cfg = self
            .text_config
            .as_ref()
            .ok_or(SessionError::NoTextSession)?;
        let d = SystemTextDone {
            text_session_id: cfg.text_session_id as u32,
            text_version: self.text_version,
            flags: 0,
            result,
        };
        self.send_system_text_done(d, now)
    }

    /// Sends a system text done message as given.
    pub fn send_system_text_done(
        &mut self,
        done: SystemTextDone,
        now: Instant,
    ) -> Result<u32, SessionError> {
        self.send_on(
            ServiceChannel::SystemText,
            MessagePayload::SystemTextDone(done),
            true,
            now,
        )
    }

    /// Sends a JSON text on a channel (fragmented when longer than the
    /// 1024-byte limit of docs/protocol.md#json-fragmentation). Returns the
    /// sequence numbers used.
    pub fn send_json(
        &mut self,
        channel: ServiceChannel,
        text: &str,
        now: Instant,
    ) -> Result<Vec<u32>, SessionError> {
        self.require_connected()?;
        if self.channel_id(channel).is_none() {
            return Err(SessionError::ChannelNotStarted(channel));
        }
        let parts = if sg_json::needs_fragmenting(text) {
            self.json_datagram_id = self.json_datagram_id.wrapping_add(1);
            sg_json::split_for_sending(text, self.json_datagram_id)
        } else {
            vec![text.to_string()]
        };
        let mut seqs = Vec::with_capacity(parts.len());
        for p in parts {
            seqs.push(self.send_on(channel, MessagePayload::Json(Json { text: p }), true, now)?);
        }
        Ok(seqs)
    }

    /// Asks the console to start a gamestream (StartGameStream on
    /// SystemBroadcast). Watch [`SessionEvent::GameStream`] /
    /// [`ClientSession::gamestream`] for Initializing (ports) and Started.
    pub fn start_gamestream(
        &mut self,
        config: &GameStreamConfig,
        now: Instant,
    ) -> Result<Vec<u32>, SessionError> {
        self.send_json(
            ServiceChannel::SystemBroadcast,
            &config.start_message(),
            now,
        )
    }

    /// Asks the console to stop the gamestream (StopGameStream).
    pub fn stop_gamestream(&mut self, now: Instant) -> Result<Vec<u32>, SessionError> {
        self.send_json(
            ServiceChannel::SystemBroadcast,
            &gamestream::stop_message(),
            now,
        )
    }
}
