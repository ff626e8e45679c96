//! The console's side of a Nano session, sans-IO.
//!
//! [`HostSession`] plays the console of
//! docs/protocol.md#nano-session-state-machine: it answers the client's
//! control handshake SYN with its own connection id, creates and opens the
//! Video, Audio, ChatAudio and Control channels, sends the video and audio
//! server handshakes, streams what it is given once the client starts a
//! stream, opens Input and InputFeedback after a controller event, acks input
//! frames and answers them with rumble, and sends realtime telemetry.
//!
//! It owns no socket and no clock: bytes go in through [`HostSession::handle_tcp`]
//! and [`HostSession::handle_udp`], time through `now` arguments and
//! [`HostSession::handle_timeout`]; output comes out of the `poll_*` methods.
//!
//! Choices where the sources leave room (see
//! docs/protocol.md#where-the-captures-overrule-the-published-documentation):
//! - Channel ids are the captured ones: 1024 Video, 1025 Audio, 1026 ChatAudio,
//!   1027 Control, 1028 Input, 1029 InputFeedback.
//! - UDP packets carry the console's connection id in both directions (the
//!   capture shows one id both ways; the reference client puts the console's
//!   id in its UDP handshake). The client's UDP address is learned from the
//!   first UDP handshake carrying that id; other UDP traffic is counted and
//!   dropped.
//! - TCP streamer packets carry flags 0x03 with a per-channel sequence number
//!   starting at 1 (previous 0), as captured; UDP data packets carry flags 0 and
//!   a per-channel RTP sequence number starting at 1.
//! - Video frame ids start at the client's initial frame id and wrap; audio
//!   frame ids are 0 (captures); data packets set flag 0x04, keyframes add 0x02.
//! - Both orders of opening Input are accepted: the console creates and opens
//!   Input after a controller event, and a client that opens channel 1028
//!   first gets it created and opened too. Once the client has opened Input the
//!   console sends the Input server handshake and creates and opens
//!   InputFeedback at once, so no order of the following handshakes can stall.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::media::EncodedFrame;
use xnano_proto::wire::nano::audio::{
    AudioClientHandshake, AudioCodec, AudioControl, AudioData, AudioFormat, AudioPayload,
    AudioServerHandshake, AUDIO_CONTROL_START_STREAM, AUDIO_CONTROL_STOP_STREAM,
};
use xnano_proto::wire::nano::control::{
    ControlMessage, ControlPayload, ControllerEvent, ControllerEventType, RealtimeTelemetry,
    TelemetryField,
};
use xnano_proto::wire::nano::framing::{encode_frame, TcpDeframer};
use xnano_proto::wire::nano::input::{
    FrameAck, InputAnalog, InputButtons, InputClientHandshake, InputExtension, InputFrame,
    InputPayload, InputServerHandshake,
};
use xnano_proto::wire::nano::rtp::{self, PayloadType, RtpHeader};
use xnano_proto::wire::nano::streamer::{StreamerBody, StreamerMessage};
use xnano_proto::wire::nano::streamer_header::{StreamerHeader, STREAMER_FLAG_02};
use xnano_proto::wire::nano::video::{
    VideoClientHandshake, VideoCodec, VideoControl, VideoDataRef, VideoFormat, VideoPayload,
    VideoServerHandshake, VIDEO_CONTROL_REQUEST_KEYFRAME, VIDEO_CONTROL_START_STREAM,
    VIDEO_CONTROL_STOP_STREAM, VIDEO_DATA, VIDEO_DATA_FLAG_04, VIDEO_DATA_KEYFRAME,
};
use xnano_proto::wire::nano::{
    ChannelClass, ChannelControl, ControlHandshake, ControlHandshakeType, NanoPacket, NanoPayload,
};
use xnano_proto::wire::{Put, WireError};

/// Channel id of Video (as captured).
pub const CHANNEL_ID_VIDEO: u16 = 1024;
/// Channel id of Audio.
pub const CHANNEL_ID_AUDIO: u16 = 1025;
/// Channel id of ChatAudio.
pub const CHANNEL_ID_CHAT_AUDIO: u16 = 1026;
/// Channel id of Control.
pub const CHANNEL_ID_CONTROL: u16 = 1027;
/// Channel id of Input.
pub const CHANNEL_ID_INPUT: u16 = 1028;
/// Channel id of InputFeedback.
pub const CHANNEL_ID_INPUT_FEEDBACK: u16 = 1029;

/// Video streamer protocol version.
pub const VIDEO_PROTOCOL_VERSION: u32 = 5;
/// Audio streamer protocol version.
pub const AUDIO_PROTOCOL_VERSION: u32 = 4;
/// Input streamer protocol version.
pub const INPUT_PROTOCOL_VERSION: u32 = 3;

/// Streamer flags the console uses on TCP (0x01 sequence numbers + 0x02), as captured.
pub const TCP_STREAMER_FLAGS: u32 = 0x01 | STREAMER_FLAG_02;
/// Data flag on every captured audio data packet.
pub const AUDIO_DATA_FLAG_04: u32 = 0x04;
/// Flags the console sends in its Channel Open of the Control channel (captured).
pub const CONTROL_OPEN_FLAGS: [u8; 4] = [0x01, 0x00, 0x02, 0x00];
/// Default video chunk payload size in bytes.
pub const DEFAULT_CHUNK_SIZE: usize = 1400;

/// The channel id the console gives a class (`None` for TcpBase / unknown).
pub fn channel_id_of(class: &ChannelClass) -> Option<u16> {
    match class {
        ChannelClass::Video => Some(CHANNEL_ID_VIDEO),
        ChannelClass::Audio => Some(CHANNEL_ID_AUDIO),
        ChannelClass::ChatAudio => Some(CHANNEL_ID_CHAT_AUDIO),
        ChannelClass::Control => Some(CHANNEL_ID_CONTROL),
        ChannelClass::Input => Some(CHANNEL_ID_INPUT),
        ChannelClass::InputFeedback => Some(CHANNEL_ID_INPUT_FEEDBACK),
        _ => None,
    }
}

/// The class behind one of the console's channel ids.
pub fn class_of_channel_id(id: u16) -> Option<ChannelClass> {
    match id {
        CHANNEL_ID_VIDEO => Some(ChannelClass::Video),
        CHANNEL_ID_AUDIO => Some(ChannelClass::Audio),
        CHANNEL_ID_CHAT_AUDIO => Some(ChannelClass::ChatAudio),
        CHANNEL_ID_CONTROL => Some(ChannelClass::Control),
        CHANNEL_ID_INPUT => Some(ChannelClass::Input),
        CHANNEL_ID_INPUT_FEEDBACK => Some(ChannelClass::InputFeedback),
        _ => None,
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
pub fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Configuration of a [`HostSession`].
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// Video width announced in the server handshake (and input desktop width).
    pub width: u32,
    /// Video height.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Offered video formats; empty means one: H.264 at `width`x`height`@`fps`.
    pub video_formats: Vec<VideoFormat>,
    /// Offered audio formats; empty means one: Opus, 2 channels, 48 kHz.
    pub audio_formats: Vec<AudioFormat>,
    /// Largest video data payload per UDP packet, in bytes (at least 1).
    pub chunk_size: usize,
    /// How often realtime telemetry goes out on Control (`None`: never).
    pub telemetry_interval: Option<Duration>,
    /// Seed of the session's random numbers (connection id, frame ids); `None`: from the OS.
    pub seed: Option<u64>,
    /// The console's connection id; `None`: random nonzero.
    pub connection_id: Option<u16>,
    /// Initial frame id in the Input server handshake; `None`: random.
    pub input_initial_frame_id: Option<u32>,
    /// Reference timestamp (ms since the Unix epoch); `None`: the system clock at creation.
    pub reference_timestamp_ms: Option<u64>,
    /// How many sent video frames [`HostSession::sent_frames`] keeps (0: none).
    pub frame_log_len: usize,
    /// The inconvenient things a real console may do (all off by default).
    pub behaviour: HostBehaviour,
}

/// What a real console may do that a kind simulator would not
/// (docs/protocol.md#timing-nobody-captured). Every knob is off by default;
/// random choices come from the session's seeded rng.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostBehaviour {
    /// Restart the frame ids at every `n`-th keyframe (an encoder restart):
    /// that keyframe and what follows are numbered from a new id about a
    /// million below the last. 0: never.
    pub restart_ids_every_keyframes: u32,
    /// Vary the flags between a frame's chunks: the keyframe bit only on the
    /// first chunk, flag 0x04 missing on every odd chunk.
    pub vary_chunk_flags: bool,
    /// Send no UDP at all (video, audio, rumble) for `.1`, starting `.0`
    /// after the session began; TCP stays up. Video resumes with a keyframe.
    pub udp_silence: Option<(Duration, Duration)>,
    /// Grow keyframes to at least this many bytes with H.264 filler-data NAL
    /// units (type 12, which decoders skip), as a real encoder's 50-150 KB
    /// keyframes. 0: as encoded.
    pub pad_keyframes_to: usize,
    /// The same for other frames.
    pub pad_frames_to: usize,
    /// Do not send the AudioControl (start stream) on ChatAudio after the
    /// console's ChatAudio handshake (a real console sends it; a client must
    /// then fall back to sending microphone data without it).
    pub withhold_chat_audio_control: bool,
}

/// Appends one H.264 filler-data NAL unit so that `data` is at least `target`
/// bytes long (Annex B start code, type 12, 0xFF bytes, trailing bits 0x80).
pub fn pad_with_filler(data: &mut Vec<u8>, target: usize) {
    const OVERHEAD: usize = 6; // start code (4) + header (1) + trailing (1)
    if data.len() + OVERHEAD > target {
        return;
    }
    let fill = target - data.len() - OVERHEAD;
    data.extend_from_slice(&[0, 0, 0, 1, 0x0C]);
    data.resize(data.len() + fill, 0xFF);
    data.push(0x80);
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            width: 1280,
            height: 720,
            fps: 60,
            video_formats: Vec::new(),
            audio_formats: Vec::new(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            telemetry_interval: Some(Duration::from_secs(1)),
            seed: None,
            connection_id: None,
            input_initial_frame_id: None,
            reference_timestamp_ms: None,
            frame_log_len: 128,
            behaviour: HostBehaviour::default(),
        }
    }
}

/// Something the session reports to its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum HostEvent {
    /// The client's control handshake SYN arrived (its connection id).
    ClientConnected {
        /// The client's connection id.
        client_connection_id: u16,
    },
    /// The client's UDP address was learned from its UDP handshake.
    UdpAddressLearned(SocketAddr),
    /// The client opened (answered the Open of) a channel.
    ChannelOpened(ChannelClass),
    /// The client closed a channel.
    ChannelClosed(ChannelClass),
    /// The client chose a video format and initial frame id.
    VideoFormatChosen {
        /// Video frames are numbered from this id.
        initial_frame_id: u32,
        /// The chosen format.
        format: VideoFormat,
    },
    /// The client chose an audio format.
    AudioFormatChosen(AudioFormat),
    /// The client started the video stream.
    VideoStarted,
    /// The client stopped the video stream.
    VideoStopped,
    /// The client started the audio stream.
    AudioStarted,
    /// The client stopped the audio stream.
    AudioStopped,
    /// The client asked for a keyframe: the next frame should be one.
    KeyframeRequested,
    /// The client reported lost video frames.
    LostFramesReported {
        /// First lost frame id.
        first: u32,
        /// Last lost frame id.
        last: u32,
    },
    /// A controller event arrived on Control.
    ControllerEvent(ControllerEvent),
    /// Another Control Protocol message arrived (not telemetry or controller events).
    ControlMessage(ControlPayload),
    /// The client answered the Input server handshake.
    InputReady,
    /// The client sent its Input server handshake on InputFeedback (and was answered).
    InputFeedbackReady,
    /// An input frame arrived (already acked and answered with rumble).
    InputFrame(InputFrame),
    /// The client announced its chat audio formats; the console chose this one.
    ChatAudioFormat(AudioFormat),
    /// Chat audio data from the client.
    ChatAudio(Vec<u8>),
    /// A packet could not be decoded or made no sense here (it was dropped).
    BadPacket(String),
    /// The TCP connection ended or the session was closed.
    ClientGone,
}

/// Counters of a [`HostSession`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HostStats {
    /// Video frames sent.
    pub video_frames_sent: u64,
    /// Frame-id restarts made ([`HostBehaviour::restart_ids_every_keyframes`]).
    pub frame_id_restarts: u64,
    /// Datagrams held back by the configured UDP silence.
    pub udp_silenced: u64,
    /// Video data packets (chunks) sent.
    pub video_packets_sent: u64,
    /// Video frame bytes sent (payload, without headers).
    pub video_bytes_sent: u64,
    /// Keyframes sent.
    pub keyframes_sent: u64,
    /// Video frames pushed while the video stream was not running (dropped).
    pub video_frames_dropped: u64,
    /// Keyframe requests received.
    pub keyframe_requests: u64,
    /// Lost-frame reports received.
    pub lost_frame_reports: u64,
    /// Audio packets sent.
    pub audio_packets_sent: u64,
    /// Audio bytes sent (payload).
    pub audio_bytes_sent: u64,
    /// Input frames received.
    pub input_frames_received: u64,
    /// Frame acks sent.
    pub input_acks_sent: u64,
    /// Rumble (InputFeedback frames) sent.
    pub rumble_sent: u64,
    /// Chat audio packets received.
    pub chat_audio_received: u64,
    /// Realtime telemetry messages sent.
    pub telemetry_sent: u64,
    /// UDP packets dropped: wrong connection id.
    pub udp_wrong_connection_id: u64,
    /// UDP packets dropped: from an address other than the learned one.
    pub udp_wrong_address: u64,
    /// UDP packets dropped: no UDP handshake seen yet.
    pub udp_before_handshake: u64,
    /// UDP handshakes received (with the right connection id).
    pub udp_handshakes: u64,
    /// Packets that failed to decode or made no sense.
    pub bad_packets: u64,
}

impl HostStats {
    /// Adds every counter of `other` to `self`.
    pub fn add(&mut self, other: &HostStats) {
        macro_rules! add {
            ($($f:ident),*) => { $( self.$f = self.$f.saturating_add(other.$f); )* };
        }
        add!(
            video_frames_sent,
            frame_id_restarts,
            udp_silenced,
            video_packets_sent,
            video_bytes_sent,
            keyframes_sent,
            video_frames_dropped,
            keyframe_requests,
            lost_frame_reports,
            audio_packets_sent,
            audio_bytes_sent,
            input_frames_received,
            input_acks_sent,
            rumble_sent,
            chat_audio_received,
            telemetry_sent,
            udp_wrong_connection_id,
            udp_wrong_address,
            udp_before_handshake,
            udp_handshakes,
            bad_packets
        );
    }
}

/// A video frame as sent, kept for comparison in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentFrame {
    /// The wire frame id.
    pub frame_id: u32,
    /// The source's frame index.
    pub index: u64,
    /// Whether it went out flagged as a keyframe.
    pub keyframe: bool,
    /// Wire timestamp (µs since the reference timestamp).
    pub timestamp: u64,
    /// Number of chunks.
    pub packet_count: u32,
    /// The frame bytes.
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitSyn,
    Connected,
    Closed,
}

#[derive(Debug)]
struct Channel {
    class: ChannelClass,
    host_opened: bool,
    client_opened: bool,
    closed: bool,
    /// Last streamer sequence number sent on TCP (0: none yet).
    tcp_seq: u32,
    /// Last RTP sequence number sent on UDP.
    rtp_seq: u16,
}

/// The console's side of one Nano session (sans-IO). See the module docs.
#[derive(Debug)]
pub struct HostSession {
    cfg: HostConfig,
    rng: StdRng,
    phase: Phase,
    connection_id: u16,
    client_connection_id: Option<u16>,
    client_udp: Option<SocketAddr>,
    reference_ms: u64,
    reference_instant: Instant,
    deframer: TcpDeframer,
    channels: BTreeMap<u16, Channel>,
    tcp_out: VecDeque<Vec<u8>>,
    udp_out: VecDeque<(Vec<u8>, SocketAddr)>,
    events: VecDeque<HostEvent>,
    stats: HostStats,
    // video
    video_format: Option<VideoFormat>,
    video_initial_frame_id: u32,
    next_video_frame_id: u32,
    video_streaming: bool,
    keyframe_pending: bool,
    sent_frames: VecDeque<SentFrame>,
    // audio
    audio_format: Option<AudioFormat>,
    audio_streaming: bool,
    chat_audio_format: Option<AudioFormat>,
    // input
    input_initial_frame_id: u32,
    input_handshake_sent: bool,
    input_ready: bool,
    feedback_ready: bool,
    next_feedback_frame_id: u32,
    // control
    next_telemetry: Option<Instant>,
    // behaviour
    created: Instant,
    keyframes_since_restart: u32,
    in_silence: bool,
}

impl HostSession {
    /// A session waiting for the client's control handshake; `now` anchors the
    /// reference timestamp.
    pub fn new(cfg: HostConfig, now: Instant) -> Self {
        let mut rng = match cfg.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_entropy(),
        };
        let connection_id = cfg
            .connection_id
            .unwrap_or_else(|| rng.gen_range(1..=u16::MAX));
        let input_initial_frame_id = cfg.input_initial_frame_id.unwrap_or_else(|| rng.gen());
        let reference_ms = cfg.reference_timestamp_ms.unwrap_or_else(unix_ms_now);
        HostSession {
            cfg,
            rng,
            phase: Phase::AwaitSyn,
            connection_id,
            client_connection_id: None,
            client_udp: None,
            reference_ms,
            reference_instant: now,
            deframer: TcpDeframer::default(),
            channels: BTreeMap::new(),
            tcp_out: VecDeque::new(),
            udp_out: VecDeque::new(),
            events: VecDeque::new(),
            stats: HostStats::default(),
            video_format: None,
            video_initial_frame_id: 0,
            next_video_frame_id: 0,
            video_streaming: false,
            keyframe_pending: false,
            sent_frames: VecDeque::new(),
            audio_format: None,
            audio_streaming: false,
            chat_audio_format: None,
            input_initial_frame_id,
            input_handshake_sent: false,
            input_ready: false,
            feedback_ready: false,
            next_feedback_frame_id: 0,
            next_telemetry: None,
            created: now,
            keyframes_since_restart: 0,
            in_silence: false,
        }
    }

    /// True while the configured UDP silence lasts (and notes its end, so
    /// video resumes with a keyframe).
    fn udp_silenced(&mut self, now: Instant) -> bool {
        let Some((at, len)) = self.cfg.behaviour.udp_silence else {
            return false;
        };
        let t = now.saturating_duration_since(self.created);
        let quiet = t >= at && t < at + len;
        if quiet {
            self.stats.udp_silenced += 1;
        } else if self.in_silence {
            // Resume with a keyframe, as after a loading screen.
            self.keyframe_pending = true;
            self.events.push_back(HostEvent::KeyframeRequested);
        }
        self.in_silence = quiet;
        quiet
    }

    // ---------------------------------------------------------------- accessors

    /// The console's connection id (carried by UDP packets both ways).
    pub fn connection_id(&self) -> u16 {
        self.connection_id
    }

    /// The client's connection id from its SYN.
    pub fn client_connection_id(&self) -> Option<u16> {
        self.client_connection_id
    }

    /// The client's UDP address, once learned.
    pub fn client_udp_addr(&self) -> Option<SocketAddr> {
        self.client_udp
    }

    /// The reference timestamp (ms since the Unix epoch) sent in handshakes.
    pub fn reference_timestamp_ms(&self) -> u64 {
        self.reference_ms
    }

    /// The configuration.
    pub fn config(&self) -> &HostConfig {
        &self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> &HostStats {
        &self.stats
    }

    /// True once the client sent its SYN and the session is not closed.
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// True after [`HostSession::close`] or the end of the TCP connection.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// True while the client has the video stream started.
    pub fn video_streaming(&self) -> bool {
        self.video_streaming && self.phase == Phase::Connected
    }

    /// True while the client has the audio stream started.
    pub fn audio_streaming(&self) -> bool {
        self.audio_streaming && self.phase == Phase::Connected
    }

    /// The video format the client chose.
    pub fn video_format(&self) -> Option<&VideoFormat> {
        self.video_format.as_ref()
    }

    /// The audio format the client chose.
    pub fn audio_format(&self) -> Option<&AudioFormat> {
        self.audio_format.as_ref()
    }

    /// The client's initial video frame id.
    pub fn video_initial_frame_id(&self) -> u32 {
        self.video_initial_frame_id
    }

    /// The frame id the next pushed video frame gets.
    pub fn next_video_frame_id(&self) -> u32 {
        self.next_video_frame_id
    }

    /// The initial frame id announced in the Input server handshake.
    pub fn input_initial_frame_id(&self) -> u32 {
        self.input_initial_frame_id
    }

    /// Whether a keyframe was requested and no keyframe has been sent since.
    pub fn keyframe_pending(&self) -> bool {
        self.keyframe_pending
    }

    /// Whether the client has opened a channel of `class`.
    pub fn channel_open(&self, class: &ChannelClass) -> bool {
        channel_id_of(class)
            .and_then(|id| self.channels.get(&id))
            .is_some_and(|c| c.client_opened && !c.closed)
    }

    /// The last sent video frames (oldest first), up to `frame_log_len`.
    pub fn sent_frames(&self) -> &VecDeque<SentFrame> {
        &self.sent_frames
    }

    /// A logged sent frame by wire frame id.
    pub fn sent_frame(&self, frame_id: u32) -> Option<&SentFrame> {
        self.sent_frames.iter().find(|f| f.frame_id == frame_id)
    }

    // ---------------------------------------------------------------- outputs

    /// The next TCP bytes to write (one length-framed packet).
    pub fn poll_tcp_transmit(&mut self) -> Option<Vec<u8>> {
        self.tcp_out.pop_front()
    }

    /// The next UDP datagram to send and its destination.
    pub fn poll_udp_transmit(&mut self) -> Option<(Vec<u8>, SocketAddr)> {
        self.udp_out.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<HostEvent> {
        self.events.pop_front()
    }

    /// When [`HostSession::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase != Phase::Connected {
            return None;
        }
        self.next_telemetry
    }

    // ---------------------------------------------------------------- inputs

    /// Feeds bytes read from the TCP connection (any split). Undecodable
    /// packets are counted and reported as [`HostEvent::BadPacket`]; an error
    /// is returned only when the framing itself is broken (a hostile length),
    /// after which the connection should be dropped.
    pub fn handle_tcp(&mut self, data: &[u8], now: Instant) -> Result<(), WireError> {
        if self.phase == Phase::Closed {
            return Ok(());
        }
        self.deframer.push(data);
        loop {
            let pkt = match self.deframer.next_packet() {
                Ok(Some(p)) => p.to_vec(),
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.bad(format!("TCP framing: {e}"));
                    return Err(e);
                }
            };
            self.handle_packet(&pkt, None, now);
        }
    }

    /// Feeds one UDP datagram received from `from`.
    pub fn handle_udp(&mut self, data: &[u8], from: SocketAddr, now: Instant) {
        if self.phase != Phase::Connected {
            self.stats.udp_before_handshake += 1;
            return;
        }
        let mut r = xnano_proto::wire::Reader::new(data, "RtpHeader");
        let header = match RtpHeader::decode(&mut r) {
            Ok(h) => h,
            Err(e) => return self.bad(format!("UDP: {e}")),
        };
        if header.connection_id != self.connection_id {
            self.stats.udp_wrong_connection_id += 1;
            return;
        }
        if header.payload_type == PayloadType::UDPHandshake {
            match self.client_udp {
                None => {
                    self.stats.udp_handshakes += 1;
                    self.client_udp = Some(from);
                    self.events.push_back(HostEvent::UdpAddressLearned(from));
                }
                Some(a) if a == from => self.stats.udp_handshakes += 1,
                Some(_) => self.stats.udp_wrong_address += 1,
            }
            return;
        }
        match self.client_udp {
            None => {
                self.stats.udp_before_handshake += 1;
                return;
            }
            Some(a) if a != from => {
                self.stats.udp_wrong_address += 1;
                return;
            }
            Some(_) => {}
        }
        self.handle_packet(data, Some(from), now);
    }

    /// Sends telemetry when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase != Phase::Connected {
            return;
        }
        if let (Some(due), Some(every)) = (self.next_telemetry, self.cfg.telemetry_interval) {
            if now >= due {
                self.send_telemetry();
                let next = due + every;
                self.next_telemetry = Some(if next <= now { now + every } else { next });
            }
        }
    }

    /// The TCP connection ended: the session is over.
    pub fn handle_tcp_closed(&mut self, _now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        self.phase = Phase::Closed;
        self.video_streaming = false;
        self.audio_streaming = false;
        self.udp_out.clear();
        self.events.push_back(HostEvent::ClientGone);
    }

    /// Closes the session from the console's side: a Channel Close for every
    /// channel still open, then no more traffic.
    pub fn close(&mut self, _now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        if self.phase == Phase::Connected {
            let ids: Vec<u16> = self
                .channels
                .iter()
                .filter(|(_, c)| c.host_opened && !c.closed)
                .map(|(id, _)| *id)
                .collect();
            for id in ids {
                self.send_channel_control(id, ChannelControl::Close { flags: 0 });
                if let Some(c) = self.channels.get_mut(&id) {
                    c.closed = true;
                }
            }
        }
        self.phase = Phase::Closed;
        self.video_streaming = false;
        self.audio_streaming = false;
        self.events.push_back(HostEvent::ClientGone);
    }

    /// Sends one encoded video frame in chunks over UDP. Returns false (and
    /// sends nothing) unless the client has started the video stream and its
    /// UDP address is known.
    pub fn push_video_frame(&mut self, frame: &EncodedFrame, now: Instant) -> bool {
        if !self.video_streaming() || self.client_udp.is_none() || self.udp_silenced(now) {
            self.stats.video_frames_dropped += 1;
            return false;
        }
        let b = &self.cfg.behaviour;
        let pad_to = if frame.keyframe {
            b.pad_keyframes_to
        } else {
            b.pad_frames_to
        };
        let padded;
        let frame = if pad_to > frame.data.len() {
            let mut data = frame.data.clone();
            pad_with_filler(&mut data, pad_to);
            padded = EncodedFrame {
                data,
                keyframe: frame.keyframe,
                index: frame.index,
                pts_us: frame.pts_us,
            };
            &padded
        } else {
            frame
        };
        if frame.keyframe && self.cfg.behaviour.restart_ids_every_keyframes > 0 {
            self.keyframes_since_restart += 1;
            if self.keyframes_since_restart > self.cfg.behaviour.restart_ids_every_keyframes {
                self.keyframes_since_restart = 1;
                let back = 1_000_000 + self.rng.gen_range(0..1000u32);
                self.next_video_frame_id = self.next_video_frame_id.wrapping_sub(back);
                self.stats.frame_id_restarts += 1;
            }
        }
        let Some(to) = self.client_udp else {
            return false;
        };
        let Ok(total_size) = u32::try_from(frame.data.len()) else {
            self.stats.video_frames_dropped += 1;
            return false;
        };
        let chunk = self.cfg.chunk_size.max(1);
        let packet_count = frame.data.len().div_ceil(chunk).max(1);
        let Ok(packet_count) = u32::try_from(packet_count) else {
            self.stats.video_frames_dropped += 1;
            return false;
        };
        let frame_id = self.next_video_frame_id;
        self.next_video_frame_id = frame_id.wrapping_add(1);
        let timestamp = self.micros_since_reference(now);
        let flags = VIDEO_DATA_FLAG_04
            | if frame.keyframe {
                VIDEO_DATA_KEYFRAME
            } else {
                0
            };
        let mut offset = 0usize;
        let vary = self.cfg.behaviour.vary_chunk_flags;
        for i in 0..packet_count {
            let end = (offset + chunk).min(frame.data.len());
            let mut flags = flags;
            if vary {
                if i > 0 {
                    flags &= !VIDEO_DATA_KEYFRAME;
                }
                if i % 2 == 1 {
                    flags &= !VIDEO_DATA_FLAG_04;
                }
            }
            let part = VideoDataRef {
                flags,
                frame_id,
                timestamp,
                total_size,
                packet_count,
                offset: offset as u32,
                data: &frame.data[offset..end],
            };
            let seq = self.next_rtp_seq(CHANNEL_ID_VIDEO);
            let mut out = Vec::with_capacity(end - offset + 64);
            write_udp_streamer(
                &mut out,
                seq,
                timestamp as u32,
                self.connection_id,
                CHANNEL_ID_VIDEO,
                VIDEO_DATA,
                |o| part.encode(o),
            );
            self.udp_out.push_back((out, to));
            self.stats.video_packets_sent += 1;
            offset = end;
        }
        self.stats.video_frames_sent += 1;
        self.stats.video_bytes_sent += u64::from(total_size);
        if frame.keyframe {
            self.stats.keyframes_sent += 1;
            self.keyframe_pending = false;
        }
        if self.cfg.frame_log_len > 0 {
            while self.sent_frames.len() >= self.cfg.frame_log_len {
                self.sent_frames.pop_front();
            }
            self.sent_frames.push_back(SentFrame {
                frame_id,
                index: frame.index,
                keyframe: frame.keyframe,
                timestamp,
                packet_count,
                data: frame.data.clone(),
            });
        }
        true
    }

    /// Sends one audio packet over UDP (frame id 0, flag 0x04). Returns false
    /// unless the client has started the audio stream and its UDP address is known.
    pub fn push_audio_packet(&mut self, data: &[u8], now: Instant) -> bool {
        if !self.audio_streaming() || self.udp_silenced(now) {
            return false;
        }
        let Some(to) = self.client_udp else {
            return false;
        };
        let timestamp = self.micros_since_reference(now);
        let body = StreamerBody::Audio(AudioPayload::Data(AudioData {
            flags: AUDIO_DATA_FLAG_04,
            frame_id: 0,
            timestamp,
            data: data.to_vec(),
        }));
        let pkt = self.udp_packet(CHANNEL_ID_AUDIO, timestamp as u32, body);
        self.udp_out.push_back((pkt, to));
        self.stats.audio_packets_sent += 1;
        self.stats.audio_bytes_sent += data.len() as u64;
        true
    }

    // ---------------------------------------------------------------- internals

    fn micros_since_reference(&self, now: Instant) -> u64 {
        u64::try_from(
            now.saturating_duration_since(self.reference_instant)
                .as_micros(),
        )
        .unwrap_or(u64::MAX)
    }

    fn bad(&mut self, why: String) {
        self.stats.bad_packets += 1;
        log::debug!("nano host: {why}");
        self.events.push_back(HostEvent::BadPacket(why));
    }

    fn class_of(&self, id: u16) -> Option<ChannelClass> {
        self.channels.get(&id).map(|c| c.class.clone())
    }

    fn next_rtp_seq(&mut self, id: u16) -> u16 {
        match self.channels.get_mut(&id) {
            Some(c) => {
                c.rtp_seq = c.rtp_seq.wrapping_add(1);
                c.rtp_seq
            }
            None => 0,
        }
    }

    fn push_tcp(&mut self, pkt: &NanoPacket) {
        let bytes = pkt.to_bytes();
        let mut framed = Vec::with_capacity(bytes.len() + 4);
        encode_frame(&bytes, &mut framed);
        self.tcp_out.push_back(framed);
    }

    fn send_channel_control(&mut self, id: u16, cc: ChannelControl) {
        let pkt = NanoPacket {
            header: RtpHeader {
                payload_type: PayloadType::ChannelControl,
                channel_id: id,
                ..RtpHeader::default()
            },
            payload: NanoPayload::ChannelControl(cc),
        };
        self.push_tcp(&pkt);
    }

    /// A streamer message on TCP with the channel's next sequence number.
    fn send_tcp_streamer(&mut self, id: u16, body: StreamerBody) {
        let (seq, prev) = match self.channels.get_mut(&id) {
            Some(c) => {
                let prev = c.tcp_seq;
                c.tcp_seq = c.tcp_seq.wrapping_add(1);
                (c.tcp_seq, prev)
            }
            None => (1, 0),
        };
        let pkt = NanoPacket {
            header: RtpHeader {
                payload_type: PayloadType::Streamer,
                channel_id: id,
                ..RtpHeader::default()
            },
            payload: NanoPayload::Streamer(StreamerMessage::new(
                TCP_STREAMER_FLAGS,
                Some((seq, prev)),
                body,
            )),
        };
        self.push_tcp(&pkt);
    }

    /// A UDP streamer packet (flags 0) on channel `id`.
    fn udp_packet(&mut self, id: u16, rtp_ts: u32, body: StreamerBody) -> Vec<u8> {
        let seq = self.next_rtp_seq(id);
        NanoPacket {
            header: RtpHeader {
                payload_type: PayloadType::Streamer,
                sequence_num: seq,
                timestamp: rtp_ts,
                connection_id: self.connection_id,
                channel_id: id,
                ..RtpHeader::default()
            },
            payload: NanoPayload::Streamer(StreamerMessage::new(0, None, body)),
        }
        .to_bytes()
    }

    /// Sends over UDP when the client's address is known, else over TCP.
    fn send_streamer_prefer_udp(&mut self, id: u16, body: StreamerBody, now: Instant) {
        match self.client_udp {
            Some(to) => {
                let ts = self.micros_since_reference(now) as u32;
                let pkt = self.udp_packet(id, ts, body);
                self.udp_out.push_back((pkt, to));
            }
            None => self.send_tcp_streamer(id, body),
        }
    }

    /// Creates (if not yet) and opens a channel of `class`.
    fn create_and_open(&mut self, class: ChannelClass) {
        let Some(id) = channel_id_of(&class) else {
            return;
        };
        if let Some(c) = self.channels.get(&id) {
            if !c.closed {
                return;
            }
        }
        let open_flags = if class == ChannelClass::Control {
            CONTROL_OPEN_FLAGS.to_vec()
        } else {
            Vec::new()
        };
        self.channels.insert(
            id,
            Channel {
                class: class.clone(),
                host_opened: true,
                client_opened: false,
                closed: false,
                tcp_seq: 0,
                rtp_seq: 0,
            },
        );
        self.send_channel_control(
            id,
            ChannelControl::Create {
                name: class,
                flags: 0,
            },
        );
        self.send_channel_control(id, ChannelControl::Open { flags: open_flags });
    }

    fn handle_packet(&mut self, buf: &[u8], via_udp: Option<SocketAddr>, now: Instant) {
        let pkt = match NanoPacket::decode_with(buf, |id| self.class_of(id)) {
            Ok(p) => p,
            Err(e) => return self.bad(e.to_string()),
        };
        let id = pkt.header.channel_id;
        match pkt.payload {
            NanoPayload::ControlHandshake(h) => {
                if via_udp.is_some() {
                    return self.bad("control handshake over UDP".into());
                }
                self.on_control_handshake(h);
            }
            NanoPayload::ChannelControl(cc) => self.on_channel_control(id, cc),
            NanoPayload::UdpHandshake(_) => {
                // Only meaningful over UDP (handled in handle_udp).
            }
            NanoPayload::Streamer(msg) => {
                if self.phase != Phase::Connected {
                    return self.bad("streamer packet before the control handshake".into());
                }
                self.on_streamer(id, msg, now);
            }
            NanoPayload::Unknown(_) => {
                self.bad(format!("unknown RTP payload type on channel {id}"));
            }
        }
    }

    fn on_control_handshake(&mut self, h: ControlHandshake) {
        if h.handshake_type != ControlHandshakeType::Syn {
            return self.bad(format!(
                "unexpected control handshake {:?}",
                h.handshake_type
            ));
        }
        let first = self.phase == Phase::AwaitSyn;
        if self.phase == Phase::Closed {
            return;
        }
        self.client_connection_id = Some(h.connection_id);
        let ack = NanoPacket {
            header: RtpHeader {
                payload_type: PayloadType::Control,
                ..RtpHeader::default()
            },
            payload: NanoPayload::ControlHandshake(ControlHandshake {
                handshake_type: ControlHandshakeType::Ack,
                connection_id: self.connection_id,
            }),
        };
        self.push_tcp(&ack);
        if first {
            self.phase = Phase::Connected;
            self.events.push_back(HostEvent::ClientConnected {
                client_connection_id: h.connection_id,
            });
            for class in [
                ChannelClass::Video,
                ChannelClass::Audio,
                ChannelClass::ChatAudio,
                ChannelClass::Control,
            ] {
                self.create_and_open(class);
            }
        }
    }

    fn on_channel_control(&mut self, id: u16, cc: ChannelControl) {
        if self.phase != Phase::Connected {
            return self.bad("channel control before the control handshake".into());
        }
        match cc {
            ChannelControl::Open { .. } => {
                let known = self.channels.get(&id).is_some_and(|c| !c.closed);
                if !known {
                    // The client may open Input (or InputFeedback) first.
                    match class_of_channel_id(id) {
                        Some(c @ (ChannelClass::Input | ChannelClass::InputFeedback)) => {
                            self.create_and_open(c)
                        }
                        _ => return self.bad(format!("Channel Open of unknown channel {id}")),
                    }
                }
                let Some(ch) = self.channels.get_mut(&id) else {
                    return;
                };
                if ch.client_opened {
                    return;
                }
                ch.client_opened = true;
                let class = ch.class.clone();
                self.events
                    .push_back(HostEvent::ChannelOpened(class.clone()));
                self.on_client_open(class);
            }
            ChannelControl::Close { .. } => {
                let Some(ch) = self.channels.get_mut(&id) else {
                    return self.bad(format!("Channel Close of unknown channel {id}"));
                };
                if ch.closed {
                    return;
                }
                ch.closed = true;
                let class = ch.class.clone();
                match class {
                    ChannelClass::Video => self.video_streaming = false,
                    ChannelClass::Audio => self.audio_streaming = false,
                    ChannelClass::Control => self.next_telemetry = None,
                    ChannelClass::Input => self.input_ready = false,
                    ChannelClass::InputFeedback => self.feedback_ready = false,
                    _ => {}
                }
                self.events.push_back(HostEvent::ChannelClosed(class));
            }
            ChannelControl::Create { .. } => {
                self.bad(format!("Channel Create from the client on {id}"));
            }
            ChannelControl::Unknown { control_type, .. } => {
                self.bad(format!("unknown channel control {control_type} on {id}"));
            }
        }
    }

    fn video_formats(&self) -> Vec<VideoFormat> {
        if self.cfg.video_formats.is_empty() {
            vec![VideoFormat {
                fps: self.cfg.fps,
                width: self.cfg.width,
                height: self.cfg.height,
                codec: VideoCodec::H264,
                rgb: None,
            }]
        } else {
            self.cfg.video_formats.clone()
        }
    }

    fn audio_formats(&self) -> Vec<AudioFormat> {
        if self.cfg.audio_formats.is_empty() {
            vec![AudioFormat {
                channels: 2,
                sample_rate: 48000,
                codec: AudioCodec::Opus,
                pcm: None,
            }]
        } else {
            self.cfg.audio_formats.clone()
        }
    }

    fn on_client_open(&mut self, class: ChannelClass) {
        match class {
            ChannelClass::Video => {
                let hs = VideoServerHandshake {
                    protocol_version: VIDEO_PROTOCOL_VERSION,
                    width: self.cfg.width,
                    height: self.cfg.height,
                    fps: self.cfg.fps,
                    reference_timestamp: self.reference_ms,
                    formats: self.video_formats(),
                };
                self.send_tcp_streamer(
                    CHANNEL_ID_VIDEO,
                    StreamerBody::Video(VideoPayload::ServerHandshake(hs)),
                );
            }
            ChannelClass::Audio => {
                let hs = AudioServerHandshake {
                    protocol_version: AUDIO_PROTOCOL_VERSION,
                    reference_timestamp: self.reference_ms,
                    formats: self.audio_formats(),
                };
                self.send_tcp_streamer(
                    CHANNEL_ID_AUDIO,
                    StreamerBody::Audio(AudioPayload::ServerHandshake(hs)),
                );
            }
            ChannelClass::Control if self.cfg.telemetry_interval.is_some() => {
                // The first telemetry goes out at the next timeout.
                self.next_telemetry = Some(self.reference_instant);
            }
            ChannelClass::Input => {
                if !self.input_handshake_sent {
                    self.input_handshake_sent = true;
                    let hs = InputServerHandshake {
                        protocol_version: INPUT_PROTOCOL_VERSION,
                        desktop_width: self.cfg.width,
                        desktop_height: self.cfg.height,
                        max_touches: 0,
                        initial_frame_id: self.input_initial_frame_id,
                    };
                    self.send_tcp_streamer(
                        CHANNEL_ID_INPUT,
                        StreamerBody::Input(InputPayload::ServerHandshake(hs)),
                    );
                }
                self.create_and_open(ChannelClass::InputFeedback);
            }
            _ => {}
        }
    }

    fn on_streamer(&mut self, id: u16, msg: StreamerMessage, now: Instant) {
        let Some(ch) = self.channels.get(&id) else {
            return self.bad(format!("streamer packet on unknown channel {id}"));
        };
        if ch.closed {
            return self.bad(format!("streamer packet on closed channel {id}"));
        }
        match msg.body {
            StreamerBody::Video(p) => self.on_video(p),
            StreamerBody::Audio(p) if id == CHANNEL_ID_CHAT_AUDIO => self.on_chat_audio(p),
            StreamerBody::Audio(p) => self.on_audio(p),
            StreamerBody::Input(p) if id == CHANNEL_ID_INPUT_FEEDBACK => self.on_feedback(p),
            StreamerBody::Input(p) => self.on_input(p, now),
            StreamerBody::Control(m) => self.on_control(m),
            StreamerBody::Raw(_) => self.bad(format!(
                "unknown streamer type {} on channel {id}",
                msg.header.payload_type
            )),
        }
    }

    fn on_video(&mut self, p: VideoPayload) {
        match p {
            VideoPayload::ClientHandshake(VideoClientHandshake {
                initial_frame_id,
                requested_format,
            }) => {
                self.video_initial_frame_id = initial_frame_id;
                self.next_video_frame_id = initial_frame_id;
                self.video_format = Some(requested_format.clone());
                self.events.push_back(HostEvent::VideoFormatChosen {
                    initial_frame_id,
                    format: requested_format,
                });
            }
            VideoPayload::Control(c) => self.on_video_control(c),
            other => self.bad(format!(
                "unexpected video payload type {} from the client",
                other.payload_type()
            )),
        }
    }

    fn on_video_control(&mut self, c: VideoControl) {
        if c.flags & VIDEO_CONTROL_REQUEST_KEYFRAME != 0 {
            self.stats.keyframe_requests += 1;
            self.keyframe_pending = true;
            self.events.push_back(HostEvent::KeyframeRequested);
        }
        if let Some(l) = &c.lost_frames {
            self.stats.lost_frame_reports += 1;
            self.events.push_back(HostEvent::LostFramesReported {
                first: l.first,
                last: l.last,
            });
        }
        if c.flags & VIDEO_CONTROL_START_STREAM != 0 && !self.video_streaming {
            self.video_streaming = true;
            self.events.push_back(HostEvent::VideoStarted);
        }
        if c.flags & VIDEO_CONTROL_STOP_STREAM != 0 && self.video_streaming {
            self.video_streaming = false;
            self.events.push_back(HostEvent::VideoStopped);
        }
    }

    fn on_audio(&mut self, p: AudioPayload) {
        match p {
            AudioPayload::ClientHandshake(AudioClientHandshake {
                requested_format, ..
            }) => {
                self.audio_format = Some(requested_format.clone());
                self.events
                    .push_back(HostEvent::AudioFormatChosen(requested_format));
            }
            AudioPayload::Control(c) => {
                if c.flags & AUDIO_CONTROL_START_STREAM != 0 && !self.audio_streaming {
                    self.audio_streaming = true;
                    self.events.push_back(HostEvent::AudioStarted);
                }
                if c.flags & AUDIO_CONTROL_STOP_STREAM != 0 && self.audio_streaming {
                    self.audio_streaming = false;
                    self.events.push_back(HostEvent::AudioStopped);
                }
            }
            other => self.bad(format!(
                "unexpected audio payload type {} from the client",
                other.payload_type()
            )),
        }
    }

    fn on_chat_audio(&mut self, p: AudioPayload) {
        match p {
            AudioPayload::ServerHandshake(hs) => {
                let Some(format) = hs.formats.first().cloned() else {
                    return self.bad("chat audio handshake without formats".into());
                };
                let initial_frame_id = self.rng.gen();
                self.chat_audio_format = Some(format.clone());
                self.send_tcp_streamer(
                    CHANNEL_ID_CHAT_AUDIO,
                    StreamerBody::Audio(AudioPayload::ClientHandshake(AudioClientHandshake {
                        initial_frame_id,
                        requested_format: format.clone(),
                    })),
                );
                // A console starts ChatAudio with an AudioControl after its
                // handshake: OpenXbox's C# client waits for exactly that
                // before it sends microphone data.
                if !self.cfg.behaviour.withhold_chat_audio_control {
                    self.send_tcp_streamer(
                        CHANNEL_ID_CHAT_AUDIO,
                        StreamerBody::Audio(AudioPayload::Control(AudioControl {
                            flags: AUDIO_CONTROL_START_STREAM,
                        })),
                    );
                }
                self.events.push_back(HostEvent::ChatAudioFormat(format));
            }
            AudioPayload::Data(d) => {
                self.stats.chat_audio_received += 1;
                self.events.push_back(HostEvent::ChatAudio(d.data));
            }
            AudioPayload::Control(_) => {}
            AudioPayload::ClientHandshake(_) => {
                self.bad("chat audio client handshake from the client".into())
            }
        }
    }

    fn on_input(&mut self, p: InputPayload, now: Instant) {
        match p {
            InputPayload::ClientHandshake(_) => {
                if !self.input_ready {
                    self.input_ready = true;
                    self.events.push_back(HostEvent::InputReady);
                }
            }
            InputPayload::Frame(frame) => self.on_input_frame(frame, now),
            other => self.bad(format!(
                "unexpected input payload type {} from the client",
                other.payload_type()
            )),
        }
    }

    fn on_input_frame(&mut self, frame: InputFrame, now: Instant) {
        self.stats.input_frames_received += 1;
        self.send_streamer_prefer_udp(
            CHANNEL_ID_INPUT,
            StreamerBody::Input(InputPayload::FrameAck(FrameAck {
                acked_frame: frame.frame_id,
            })),
            now,
        );
        self.stats.input_acks_sent += 1;
        if self.feedback_ready {
            let ts = self.micros_since_reference(now);
            let frame_id = self.next_feedback_frame_id;
            self.next_feedback_frame_id = frame_id.wrapping_add(1);
            let rumble = rumble_for(&frame);
            let fb = InputFrame {
                frame_id,
                timestamp: ts,
                created_ts: ts,
                buttons: InputButtons::default(),
                analog: rumble,
                extension: Some(InputExtension {
                    byte_6: 1,
                    ..InputExtension::default()
                }),
            };
            self.send_streamer_prefer_udp(
                CHANNEL_ID_INPUT_FEEDBACK,
                StreamerBody::Input(InputPayload::Frame(fb)),
                now,
            );
            self.stats.rumble_sent += 1;
        }
        self.events.push_back(HostEvent::InputFrame(frame));
    }

    fn on_feedback(&mut self, p: InputPayload) {
        match p {
            InputPayload::ServerHandshake(hs) => {
                self.next_feedback_frame_id = hs.initial_frame_id;
                self.send_tcp_streamer(
                    CHANNEL_ID_INPUT_FEEDBACK,
                    StreamerBody::Input(InputPayload::ClientHandshake(InputClientHandshake {
                        max_touches: 0,
                        reference_timestamp: self.reference_ms,
                    })),
                );
                if !self.feedback_ready {
                    self.feedback_ready = true;
                    self.events.push_back(HostEvent::InputFeedbackReady);
                }
            }
            // The client acks our feedback (rumble) frames, as OpenXbox's C#
            // client does.
            InputPayload::FrameAck(_) => {}
            other => self.bad(format!(
                "unexpected input feedback payload type {} from the client",
                other.payload_type()
            )),
        }
    }

    fn on_control(&mut self, m: ControlMessage) {
        match m.payload {
            ControlPayload::ControllerEvent(ev) => {
                if ev.event == ControllerEventType::Added {
                    self.create_and_open(ChannelClass::Input);
                }
                self.events.push_back(HostEvent::ControllerEvent(ev));
            }
            ControlPayload::RealtimeTelemetry(_) => {}
            other => self.events.push_back(HostEvent::ControlMessage(other)),
        }
    }

    fn send_telemetry(&mut self) {
        if !self.channel_open(&ChannelClass::Control) {
            return;
        }
        let prev = self
            .channels
            .get(&CHANNEL_ID_CONTROL)
            .map_or(0, |c| c.tcp_seq);
        // The keys and values of the captured telemetry message.
        let data = [(12, 0), (7, 0), (11, 1), (6, 0), (1, 0), (5, 52)]
            .into_iter()
            .map(|(key, value)| TelemetryField { key, value })
            .collect();
        let msg = ControlMessage::new(
            prev,
            1,
            1406,
            ControlPayload::RealtimeTelemetry(RealtimeTelemetry { data }),
        );
        self.send_tcp_streamer(CHANNEL_ID_CONTROL, StreamerBody::Control(msg));
        self.stats.telemetry_sent += 1;
    }
}

/// The rumble the simulated console answers an input frame with: the left
/// motors follow the left trigger, the right motors the right trigger.
pub fn rumble_for(input: &InputFrame) -> InputAnalog {
    InputAnalog {
        rumble_trigger_l: input.analog.left_trigger,
        rumble_trigger_r: input.analog.right_trigger,
        rumble_handle_l: input.analog.left_trigger,
        rumble_handle_r: input.analog.right_trigger,
        ..InputAnalog::default()
    }
}

/// Writes a UDP streamer packet (flags 0) whose body `body` writes, padding
/// it as [`NanoPacket::encode`] does.
fn write_udp_streamer(
    out: &mut Vec<u8>,
    seq: u16,
    rtp_ts: u32,
    connection_id: u16,
    channel_id: u16,
    streamer_type: u32,
    body: impl FnOnce(&mut Vec<u8>),
) {
    let start = out.len();
    RtpHeader {
        payload_type: PayloadType::Streamer,
        sequence_num: seq,
        timestamp: rtp_ts,
        connection_id,
        channel_id,
        ..RtpHeader::default()
    }
    .encode(out);
    let payload_start = out.len();
    StreamerHeader {
        flags: 0,
        sequence_num: None,
        prev_sequence_num: None,
        payload_type: streamer_type,
    }
    .encode_with(streamer_type, out);
    let at = out.len();
    out.put_u32_le(0);
    body(out);
    let len = (out.len() - at - 4) as u32;
    out[at..at + 4].copy_from_slice(&len.to_le_bytes());
    if rtp::pad(out, payload_start) > 0 {
        out[start] |= 0x20;
    }
}
