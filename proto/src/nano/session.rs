//! The Nano client session, sans-IO.
//!
//! Inputs: [`ClientSession::handle_tcp`] (raw bytes from the control socket),
//! [`ClientSession::handle_udp`] (one datagram), [`ClientSession::handle_timeout`]
//! and the user's commands, each with an explicit `now`. Outputs:
//! [`ClientSession::poll_tcp_transmit`] (length-framed bytes to write),
//! [`ClientSession::poll_udp_transmit`] (one datagram),
//! [`ClientSession::poll_event`] and [`ClientSession::poll_timeout`].
//!
//! The flow follows docs/protocol.md#nano-session-state-machine: control
//! handshake with a random connection id, the UDP handshake loop until the
//! host's first datagram, Channel Open answers, each channel's handshake in
//! its direction (reversed on ChatAudio and InputFeedback), video/audio
//! control, controller events that make the console open Input, channel close.

pub use crate::CloseReason;
use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::input::{ButtonTracker, ControllerState, Rumble};
use super::reassembly::{self, Chunk, Reassembler, ReassemblyConfig, ReassemblyStats};
use crate::wire::nano::audio::{
    AudioClientHandshake, AudioCodec, AudioControl, AudioData, AudioFormat, AudioPayload,
    AudioServerHandshake, AUDIO_CONTROL_START_STREAM, AUDIO_CONTROL_STOP_STREAM,
};
use crate::wire::nano::control::{
    ChangeVideoQuality, ControlMessage, ControlPayload, ControllerEvent, ControllerEventType,
    TelemetryField,
};
use crate::wire::nano::framing::{encode_frame, TcpDeframer};
use crate::wire::nano::input::{
    FrameAck, InputAnalog, InputButtons, InputClientHandshake, InputExtension, InputFrame,
    InputPayload, InputServerHandshake,
};
use crate::wire::nano::rtp::{PayloadType, RtpHeader};
use crate::wire::nano::streamer::{StreamerBody, StreamerMessage};
use crate::wire::nano::video::{
    self, LostFrames, VideoClientHandshake, VideoCodec, VideoControl, VideoFormat, VideoPayload,
    VIDEO_CONTROL_REQUEST_KEYFRAME, VIDEO_CONTROL_START_STREAM, VIDEO_CONTROL_STOP_STREAM,
};
use crate::wire::nano::{
    ChannelClass, ChannelControl, ControlHandshake, ControlHandshakeType, NanoPacket, NanoPayload,
    UdpHandshake,
};

/// Which offered format to choose. Unset fields match anything; when no
/// offered format matches, the first offered one is taken (as the
/// reference does).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VideoPreference {
    /// Preferred width.
    pub width: Option<u32>,
    /// Preferred height.
    pub height: Option<u32>,
    /// Preferred codec.
    pub codec: Option<VideoCodec>,
}

/// Which offered audio format to choose (see [`VideoPreference`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AudioPreference {
    /// Preferred codec.
    pub codec: Option<AudioCodec>,
    /// Preferred channel count.
    pub channels: Option<u32>,
    /// Preferred sample rate.
    pub sample_rate: Option<u32>,
}

/// Client configuration.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Our connection id (random when `None`).
    pub connection_id: Option<u16>,
    /// Initial video frame id announced in the Video Client Handshake
    /// (random when `None`).
    pub initial_video_frame_id: Option<u32>,
    /// Video format choice.
    pub video: VideoPreference,
    /// Audio format choice.
    pub audio: AudioPreference,
    /// Frame reassembly limits (defrag timeout: videoPacketDefragTimeoutMs).
    pub reassembly: ReassemblyConfig,
    /// The most input frames sent per second (inputReadsPerSecond).
    pub input_reads_per_second: u32,
    /// Interval of the UDP handshake loop.
    pub udp_handshake_interval: Duration,
    /// The session ends when nothing arrives for this long.
    pub silence_timeout: Duration,
    /// The session ends when the control handshake is not answered in time;
    /// also the TCP connect timeout of the engine.
    pub connect_timeout: Duration,
    /// How often a keyframe request is repeated while none arrives.
    pub keyframe_retry: Duration,
    /// Open ChatAudio by sending its (reversed) server handshake.
    pub chat_audio: bool,
    /// Max touches announced in the Input Client Handshake.
    pub max_touches: u32,
    /// Wall clock at `now` for reference timestamps (ms since the epoch);
    /// `None` reads the system clock once at construction.
    pub wall_clock_ms: Option<u64>,
    /// UDP receive buffer the engine asks the kernel for.
    pub udp_recv_buffer: usize,
    /// Seeds the session's random numbers (connection id and initial frame
    /// ids, where not given) for a reproducible session; None: from the
    /// operating system.
    pub rng_seed: Option<u64>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connection_id: None,
            initial_video_frame_id: None,
            video: VideoPreference::default(),
            audio: AudioPreference::default(),
            reassembly: ReassemblyConfig::default(),
            input_reads_per_second: 120,
            udp_handshake_interval: Duration::from_millis(100),
            silence_timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            keyframe_retry: Duration::from_millis(300),
            chat_audio: true,
            max_touches: 10,
            wall_clock_ms: None,
            udp_recv_buffer: 8 << 20,
            rng_seed: None,
        }
    }
}

/// A complete video frame (one H.264 access unit).
#[derive(Debug)]
pub struct VideoFrame {
    /// Frame id.
    pub frame_id: u32,
    /// Timestamp from the console (microseconds relative to its reference).
    pub timestamp: u64,
    /// Keyframe (IDR) flag.
    pub keyframe: bool,
    /// Video data flags as sent.
    pub flags: u32,
    /// The frame's bytes.
    pub data: Vec<u8>,
    /// When the frame's last chunk arrived.
    pub completed_at: Instant,
    /// The stream's video format (the one the `VideoFormat` event named).
    pub format: VideoFormat,
}

/// One audio data packet.
#[derive(Debug, Clone)]
pub struct AudioPacket {
    /// Frame id as sent.
    pub frame_id: u32,
    /// Timestamp as sent.
    pub timestamp: u64,
    /// Flags as sent.
    pub flags: u32,
    /// Encoded audio, in `format`.
    pub data: Vec<u8>,
    /// The stream's audio format (the one the `AudioFormat` event named).
    pub format: AudioFormat,
}

/// Where a session is, as its events told it: the control handshake
/// (`Connecting`), then `Connected`, then `Streaming` once UDP data flows,
/// and `Closed` at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamState {
    /// The control handshake is under way.
    Connecting,
    /// The control handshake completed (`ClientEvent::Connected`).
    Connected,
    /// UDP data arrives too (`ClientEvent::UdpEstablished`).
    Streaming,
    /// The session ended (`ClientEvent::Closed`).
    Closed,
}

/// What the session tells the user.
#[derive(Debug)]
pub enum ClientEvent {
    /// The control handshake completed.
    Connected {
        /// The console's connection id.
        host_connection_id: u16,
    },
    /// The first UDP datagram arrived; the UDP handshake loop stopped.
    UdpEstablished,
    /// A channel was opened.
    ChannelOpened(ChannelClass),
    /// The console closed a channel.
    ChannelClosed(ChannelClass),
    /// The video format chosen.
    VideoFormat(VideoFormat),
    /// The audio format chosen.
    AudioFormat(AudioFormat),
    /// A complete video frame, in frame-id order.
    VideoFrame(VideoFrame),
    /// An audio packet.
    Audio(AudioPacket),
    /// ChatAudio is ready for microphone packets.
    ChatAudioReady(AudioFormat),
    /// Input is ready for controller `n`.
    InputReady(u8),
    /// A rumble command.
    Rumble(Rumble),
    /// Frames that will never be delivered.
    FramesLost {
        /// First lost frame id.
        first: u32,
        /// Last lost frame id.
        last: u32,
    },
    /// Realtime telemetry from the console.
    Telemetry(Vec<TelemetryField>),
    /// The session ended; no event follows.
    Closed(CloseReason),
}

/// Statistics of a Nano stream (the SmartGlass session has its own
/// [`crate::smartglass::SessionStats`]).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct StreamStats {
    /// Frames delivered.
    pub frames_delivered: u64,
    /// Complete frames withheld because they depended on a lost one.
    pub frames_dropped: u64,
    /// Frames lost.
    pub frames_lost: u64,
    /// Keyframes delivered.
    pub keyframes_delivered: u64,
    /// Keyframe requests sent.
    pub keyframe_requests: u64,
    /// Lost-frame reports sent.
    pub lost_reports: u64,
    /// Video chunks accepted.
    pub chunks_accepted: u64,
    /// Duplicated chunks ignored.
    pub chunks_duplicate: u64,
    /// Chunks for finished frames.
    pub chunks_late: u64,
    /// Contradictory or over-limit chunks.
    pub chunks_invalid: u64,
    /// Video bytes delivered.
    pub video_bytes: u64,
    /// Audio packets delivered.
    pub audio_packets: u64,
    /// Audio bytes delivered.
    pub audio_bytes: u64,
    /// Input frames sent.
    pub input_frames_sent: u64,
    /// Input frames acked by the console.
    pub input_frames_acked: u64,
    /// Input frames sent again because the console had not acked the latest
    /// state (included in `input_frames_sent`).
    pub input_frames_resent: u64,
    /// Rumble events delivered.
    pub rumble_events: u64,
    /// ChatAudio packets sent.
    pub chat_audio_sent: u64,
    /// UDP datagrams received and accepted.
    pub udp_packets: u64,
    /// UDP bytes received and accepted.
    pub udp_bytes: u64,
    /// UDP datagrams that did not decode.
    pub udp_malformed: u64,
    /// UDP datagrams with a wrong connection id or unknown channel, and
    /// audio data that came before the audio handshake chose a format.
    pub udp_rejected: u64,
    /// Of `udp_rejected`: datagrams carrying a connection id other than the console's.
    pub udp_wrong_connection_id: u64,
    /// UDP datagrams from an address other than the console's (engine).
    pub udp_foreign_packets: u64,
    /// TCP packets received.
    pub tcp_packets: u64,
    /// TCP packets that did not decode.
    pub tcp_malformed: u64,
    /// Most video frames held by the reassembler at once.
    pub peak_frames_in_flight: u64,
    /// Most video bytes held by the reassembler at once.
    pub peak_held_bytes: u64,
    /// Frame-id restarts (an encoder restart, or a stall resynchronised).
    pub frame_id_restarts: u64,
    /// Video chunks whose flags differed from their frame's other chunks.
    pub chunk_flag_mismatches: u64,
    /// Delivery latency (last chunk to callback), median, microseconds.
    pub latency_p50_us: u64,
    /// Delivery latency, 99th percentile, microseconds.
    pub latency_p99_us: u64,
    /// Delivery latency, maximum, microseconds.
    pub latency_max_us: u64,
    /// Delivery latency, median, nanoseconds.
    pub latency_p50_ns: u64,
    /// Delivery latency, 99th percentile, nanoseconds.
    pub latency_p99_ns: u64,
    /// Last telemetry received (key, value).
    pub telemetry: Vec<(u16, u64)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Handshake,
    Connected,
    Closed,
}

#[derive(Debug)]
struct Channel {
    id: u16,
    class: ChannelClass,
    create_flags: u32,
    open: bool,
    we_opened: bool,
    seq: u32,
    rtp_seq: u16,
    udp_rtp_seq: u16,
    /// Controller this Input / InputFeedback channel belongs to.
    controller: Option<u8>,
}

#[derive(Debug)]
struct InputChan {
    channel: u16,
    controller: u8,
    ready: bool,
    next_frame_id: u32,
    ref_ms: u64,
    ref_instant: Instant,
    last_sent: Option<Instant>,
    dirty: bool,
    /// The last frame sent and not yet acknowledged: its state is sent again
    /// until the console acks it, so a lost release cannot leave a button
    /// held on the console.
    unacked: Option<u32>,
    /// Resends of the current state so far (at most `MAX_INPUT_RESENDS`).
    resends: u32,
}

/// Resends of an unacknowledged input state before giving up (the console may
/// not ack at all: some hosts never do).
const MAX_INPUT_RESENDS: u32 = 10;

/// How long ChatAudio waits for the console's start control after its
/// handshake (OpenXbox's C# client waits 3 s).
const CHAT_START_WAIT: Duration = Duration::from_secs(3);

/// The least time between a frame and its resend, however high
/// inputReadsPerSecond is: room for the ack's round trip.
const INPUT_RESEND_MIN: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
struct Controller {
    tracker: ButtonTracker,
    added: bool,
    announced: bool,
}

const LATENCY_RING: usize = 4096;
const TCP_FLAGS: u32 = 0x03;

/// The Nano client session. See the module documentation.
#[derive(Debug)]
pub struct ClientSession {
    cfg: ClientConfig,
    phase: Phase,
    start: Instant,
    wall_ms_at_start: u64,
    /// The RTP timestamp of every packet we send. The captured client sends a
    /// non-zero value shared by its packets (`tcp_input_client_handshake`,
    /// `tcp_channel_close` and `udp_input_frame` all carry 2376737668):
    /// one value per session, taken from the wall clock at the start.
    rtp_timestamp: u32,
    conn_id: u16,
    host_conn_id: u16,
    deframer: TcpDeframer,
    channels: Vec<Channel>,
    tcp_out: VecDeque<Vec<u8>>,
    udp_out: VecDeque<Vec<u8>>,
    udp_pool: Vec<Vec<u8>>,
    events: VecDeque<ClientEvent>,
    udp_established: bool,
    next_udp_handshake: Option<Instant>,
    connect_deadline: Instant,
    last_rx: Instant,
    video_format: Option<VideoFormat>,
    reassembler: Option<Reassembler>,
    last_keyframe_request: Option<Instant>,
    audio_format: Option<AudioFormat>,
    chat_format: Option<AudioFormat>,
    /// The console started ChatAudio (its AudioControl with start stream), or
    /// `CHAT_START_WAIT` passed after its handshake without one.
    chat_started: bool,
    /// When to stop waiting for the console's ChatAudio start.
    chat_start_deadline: Option<Instant>,
    chat_frame_id: u32,
    controllers: [Controller; 4],
    inputs: Vec<InputChan>,
    stats: StreamStats,
    latencies: Vec<u32>,
    latency_pos: usize,
    /// Random numbers of this session (`ClientConfig::rng_seed`).
    rng: StdRng,
}

impl ClientSession {
    /// A new session; queues the Control Handshake (SYN).
    pub fn new(cfg: ClientConfig, now: Instant) -> Self {
        let mut rng = match cfg.rng_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_entropy(),
        };
        let conn_id = cfg.connection_id.unwrap_or_else(|| rng.gen());
        let wall = cfg.wall_clock_ms.unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0)
        });
        let mut s = ClientSession {
            phase: Phase::Handshake,
            start: now,
            wall_ms_at_start: wall,
            rtp_timestamp: (wall as u32).max(1),
            conn_id,
            host_conn_id: 0,
            deframer: TcpDeframer::default(),
            channels: Vec::new(),
            tcp_out: VecDeque::new(),
            udp_out: VecDeque::new(),
            udp_pool: Vec::new(),
            events: VecDeque::new(),
            udp_established: false,
            next_udp_handshake: None,
            connect_deadline: now + cfg.connect_timeout,
            last_rx: now,
            video_format: None,
            reassembler: None,
            last_keyframe_request: None,
            audio_format: None,
            chat_format: None,
            chat_started: false,
            chat_start_deadline: None,
            chat_frame_id: 0,
            controllers: Default::default(),
            inputs: Vec::new(),
            stats: StreamStats::default(),
            latencies: Vec::with_capacity(LATENCY_RING),
            latency_pos: 0,
            rng,
            cfg,
        };
        let hs = NanoPayload::ControlHandshake(ControlHandshake {
            handshake_type: ControlHandshakeType::Syn,
            connection_id: conn_id,
        });
        s.send_tcp_raw(PayloadType::Control, 0, 0, hs);
        s
    }

    /// Our connection id.
    pub fn connection_id(&self) -> u16 {
        self.conn_id
    }

    /// True once the session has ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Where the session is.
    pub fn state(&self) -> StreamState {
        match self.phase {
            Phase::Handshake => StreamState::Connecting,
            Phase::Connected if self.udp_established => StreamState::Streaming,
            Phase::Connected => StreamState::Connected,
            Phase::Closed => StreamState::Closed,
        }
    }

    /// The chosen video format, once negotiated.
    pub fn video_format(&self) -> Option<&VideoFormat> {
        self.video_format.as_ref()
    }

    /// The chosen audio format, once negotiated.
    pub fn audio_format(&self) -> Option<&AudioFormat> {
        self.audio_format.as_ref()
    }

    fn wall_ms(&self, now: Instant) -> u64 {
        self.wall_ms_at_start + now.saturating_duration_since(self.start).as_millis() as u64
    }

    // ----- outputs -------------------------------------------------------

    /// Length-framed bytes to write to the TCP socket.
    pub fn poll_tcp_transmit(&mut self) -> Option<Vec<u8>> {
        self.tcp_out.pop_front()
    }

    /// One datagram to send to the console's UDP port.
    pub fn poll_udp_transmit(&mut self) -> Option<Vec<u8>> {
        self.udp_out.pop_front()
    }

    /// Returns a sent datagram's buffer for reuse.
    pub fn recycle_udp(&mut self, mut b: Vec<u8>) {
        if self.udp_pool.len() < 64 {
            b.clear();
            self.udp_pool.push(b);
        }
    }

    /// Returns a delivered frame's buffer for reuse.
    pub fn recycle_frame(&mut self, b: Vec<u8>) {
        if let Some(r) = self.reassembler.as_mut() {
            r.recycle(b);
        }
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The next instant at which [`ClientSession::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Closed {
            return None;
        }
        let mut t = self.last_rx + self.cfg.silence_timeout;
        let mut consider = |x: Option<Instant>| {
            if let Some(x) = x {
                t = t.min(x);
            }
        };
        if self.phase == Phase::Handshake {
            consider(Some(self.connect_deadline));
        }
        consider(self.chat_start_deadline);
        consider(self.next_udp_handshake);
        if let Some(r) = &self.reassembler {
            consider(r.poll_timeout());
            // Retried only once UDP flows, and not while a keyframe is
            // arriving (its chunks' deadlines wake the engine), as in
            // `handle_timeout`.
            if r.waiting_for_keyframe() && self.udp_established && !r.keyframe_arriving() {
                consider(
                    self.last_keyframe_request
                        .map(|x| x + self.cfg.keyframe_retry),
                );
            }
        }
        let interval = self.input_interval();
        for ic in &self.inputs {
            if ic.dirty && ic.ready {
                consider(Some(ic.last_sent.map_or(self.start, |l| l + interval)));
            } else if let (true, Some(_), Some(l)) = (ic.ready, ic.unacked, ic.last_sent) {
                if ic.resends < MAX_INPUT_RESENDS {
                    consider(Some(l + interval.max(INPUT_RESEND_MIN)));
                }
            }
        }
        Some(t)
    }

    /// Statistics so far.
    pub fn stats(&self) -> StreamStats {
        let mut st = self.stats_without_latency();
        apply_latency(&mut st, self.latencies.clone());
        st
    }

    /// The statistics without the latency percentiles (cheap: no sorting).
    /// With [`ClientSession::latency_samples`] and [`apply_latency`] a
    /// caller holding a lock can sort outside it.
    pub fn stats_without_latency(&self) -> StreamStats {
        let mut st = self.stats.clone();
        if let Some(r) = &self.reassembler {
            let ReassemblyStats {
                frames_delivered,
                frames_dropped,
                frames_lost,
                keyframes_delivered,
                chunks_accepted,
                chunks_duplicate,
                chunks_late,
                chunks_invalid,
                bytes_delivered,
                peak_frames_in_flight,
                peak_held_bytes,
                frame_id_restarts,
                chunk_flag_mismatches,
            } = r.stats().clone();
            st.frames_delivered = frames_delivered;
            st.frames_dropped = frames_dropped;
            st.frames_lost = frames_lost;
            st.keyframes_delivered = keyframes_delivered;
            st.chunks_accepted = chunks_accepted;
            st.chunks_duplicate = chunks_duplicate;
            st.chunks_late = chunks_late;
            st.chunks_invalid = chunks_invalid;
            st.video_bytes = bytes_delivered;
            st.peak_frames_in_flight = peak_frames_in_flight;
            st.peak_held_bytes = peak_held_bytes;
            st.frame_id_restarts = frame_id_restarts;
            st.chunk_flag_mismatches = chunk_flag_mismatches;
        }
        st
    }

    /// The recent delivery latencies (nanoseconds, unordered).
    pub fn latency_samples(&self) -> Vec<u32> {
        self.latencies.clone()
    }

    /// Records how long a frame took from its last chunk to the user.
    pub fn record_latency(&mut self, d: Duration) {
        // Nanoseconds; anything over 4.29 s is clamped.
        let ns = d.as_nanos().min(u32::MAX as u128) as u32;
        if self.latencies.len() < LATENCY_RING {
            self.latencies.push(ns);
        } else {
            self.latencies[self.latency_pos] = ns;
            self.latency_pos = (self.latency_pos + 1) % LATENCY_RING;
        }
    }

    // ----- sending helpers -----------------------------------------------

    fn send_tcp_raw(&mut self, pt: PayloadType, channel_id: u16, seq: u16, payload: NanoPayload) {
        let pkt = NanoPacket {
            header: RtpHeader {
                payload_type: pt,
                sequence_num: seq,
                timestamp: self.rtp_timestamp,
                channel_id,
                connection_id: 0,
                ..RtpHeader::default()
            },
            payload,
        };
        let bytes = pkt.to_bytes();
        let mut framed = Vec::with_capacity(bytes.len() + 4);
        encode_frame(&bytes, &mut framed);
        self.tcp_out.push_back(framed);
    }

    fn channel_idx(&self, id: u16) -> Option<usize> {
        self.channels.iter().position(|c| c.id == id)
    }

    fn channel_by_class(&self, class: &ChannelClass) -> Option<usize> {
        self.channels
            .iter()
            .position(|c| &c.class == class && c.open)
    }

    fn send_channel_control(&mut self, idx: usize, cc: ChannelControl) {
        // Channel controls do not take a sequence number: the captured client
        // sends Open and Close with 0 and numbers its handshake 0, the control
        // after it 1 (`tcp_channel_open_no_flags`, `tcp_channel_close`,
        // `tcp_video_client_handshake`, `tcp_video_control`).
        let seq = 0;
        let id = self.channels[idx].id;
        self.send_tcp_raw(
            PayloadType::ChannelControl,
            id,
            seq,
            NanoPayload::ChannelControl(cc),
        );
    }

    fn send_streamer_tcp(&mut self, idx: usize, body: StreamerBody) {
        let ch = &mut self.channels[idx];
        let prev = ch.seq;
        ch.seq = ch.seq.wrapping_add(1);
        let msg = StreamerMessage::new(TCP_FLAGS, Some((ch.seq, prev)), body);
        let seq = ch.rtp_seq;
        ch.rtp_seq = ch.rtp_seq.wrapping_add(1);
        let id = ch.id;
        self.send_tcp_raw(PayloadType::Streamer, id, seq, NanoPayload::Streamer(msg));
    }

    fn send_streamer_udp(&mut self, idx: usize, body: StreamerBody) {
        let ch = &mut self.channels[idx];
        let seq = ch.udp_rtp_seq;
        ch.udp_rtp_seq = ch.udp_rtp_seq.wrapping_add(1);
        let pkt = NanoPacket {
            header: RtpHeader {
                payload_type: PayloadType::Streamer,
                sequence_num: seq,
                timestamp: self.rtp_timestamp,
                channel_id: ch.id,
                connection_id: self.host_conn_id,
                ..RtpHeader::default()
            },
            payload: NanoPayload::Streamer(StreamerMessage::new(0, None, body)),
        };
        let mut b = self.udp_pool.pop().unwrap_or_default();
        pkt.encode(&mut b);
        self.udp_out.push_back(b);
    }

    fn send_control_msg(&mut self, payload: ControlPayload) -> Result<(), &'static str> {
        let idx = self
            .channel_by_class(&ChannelClass::Control)
            .ok_or("the Control channel is not open yet")?;
        let prev = self.channels[idx].seq;
        // unk1 / unk2 as the reference and the captures send them.
        let msg = ControlMessage::new(prev, 1, 1406, payload);
        self.send_streamer_tcp(idx, StreamerBody::Control(msg));
        Ok(())
    }

    fn send_video_control(&mut self, vc: VideoControl) -> Result<(), &'static str> {
        let idx = self
            .channel_by_class(&ChannelClass::Video)
            .ok_or("the Video channel is not open")?;
        self.send_streamer_tcp(idx, StreamerBody::Video(VideoPayload::Control(vc)));
        Ok(())
    }

    fn emit(&mut self, e: ClientEvent) {
        if self.phase != Phase::Closed {
            self.events.push_back(e);
        }
    }

    // ----- inputs --------------------------------------------------------

    /// Feeds bytes read from the TCP control socket.
    pub fn handle_tcp(&mut self, data: &[u8], now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        self.last_rx = now;
        self.deframer.push(data);
        loop {
            let pkt = match self.deframer.next_packet() {
                Ok(Some(p)) => {
                    let channels = &self.channels;
                    NanoPacket::decode_with(p, |id| {
                        channels
                            .iter()
                            .find(|c| c.id == id)
                            .map(|c| c.class.clone())
                    })
                }
                Ok(None) => break,
                Err(e) => {
                    self.fail(
                        CloseReason::Protocol {
                            error: e.to_string(),
                        },
                        now,
                    );
                    return;
                }
            };
            self.stats.tcp_packets += 1;
            match pkt {
                Ok(p) => self.on_tcp_packet(p, now),
                Err(e) => {
                    self.stats.tcp_malformed += 1;
                    log::warn!("nano: malformed TCP packet ignored: {e}");
                }
            }
            if self.phase == Phase::Closed {
                return;
            }
        }
    }

    fn on_tcp_packet(&mut self, p: NanoPacket, now: Instant) {
        let cid = p.header.channel_id;
        match p.payload {
            NanoPayload::ControlHandshake(h) => {
                if h.handshake_type == ControlHandshakeType::Ack && self.phase == Phase::Handshake {
                    self.host_conn_id = h.connection_id;
                    self.phase = Phase::Connected;
                    self.emit(ClientEvent::Connected {
                        host_connection_id: h.connection_id,
                    });
                    self.next_udp_handshake = Some(now);
                    self.send_udp_handshake(now);
                }
            }
            NanoPayload::ChannelControl(cc) => self.on_channel_control(cid, cc, now),
            NanoPayload::Streamer(m) => self.on_tcp_streamer(cid, m, now),
            NanoPayload::UdpHandshake(_) | NanoPayload::Unknown(_) => {}
        }
    }

    fn send_udp_handshake(&mut self, now: Instant) {
        let pkt = NanoPacket {
            header: RtpHeader {
                payload_type: PayloadType::UDPHandshake,
                connection_id: self.host_conn_id,
                timestamp: self.rtp_timestamp,
                ..RtpHeader::default()
            },
            payload: NanoPayload::UdpHandshake(UdpHandshake { handshake_type: 1 }),
        };
        let mut b = self.udp_pool.pop().unwrap_or_default();
        pkt.encode(&mut b);
        self.udp_out.push_back(b);
        self.next_udp_handshake = Some(now + self.cfg.udp_handshake_interval);
    }

    fn on_channel_control(&mut self, cid: u16, cc: ChannelControl, now: Instant) {
        match cc {
            ChannelControl::Create { name, flags } => {
                if let Some(i) = self.channel_idx(cid) {
                    self.channels.remove(i);
                }
                let class = name;
                self.channels.push(Channel {
                    id: cid,
                    class: class.clone(),
                    create_flags: flags,
                    open: false,
                    we_opened: false,
                    seq: 0,
                    rtp_seq: 0,
                    udp_rtp_seq: 0,
                    controller: None,
                });
                let idx = self.channels.len() - 1;
                if matches!(class, ChannelClass::Input | ChannelClass::InputFeedback) {
                    self.assign_controller(idx);
                }
                if class == ChannelClass::Input {
                    // The published notes have the client open Input first
                    // after the Create (docs/protocol.md#overrule-opening-input).
                    self.channels[idx].we_opened = true;
                    self.send_channel_control(idx, ChannelControl::Open { flags: Vec::new() });
                }
            }
            ChannelControl::Open { flags } => {
                let Some(idx) = self.channel_idx(cid) else {
                    log::warn!("nano: open for unknown channel {cid}");
                    return;
                };
                if !self.channels[idx].we_opened {
                    self.channels[idx].we_opened = true;
                    self.send_channel_control(idx, ChannelControl::Open { flags });
                }
                if !self.channels[idx].open {
                    self.channels[idx].open = true;
                    let class = self.channels[idx].class.clone();
                    self.on_channel_opened(idx, &class, now);
                    self.emit(ClientEvent::ChannelOpened(class));
                }
            }
            ChannelControl::Close { .. } => {
                if let Some(idx) = self.channel_idx(cid) {
                    let ch = self.channels.remove(idx);
                    self.inputs.retain(|i| i.channel != cid);
                    self.emit(ClientEvent::ChannelClosed(ch.class));
                }
            }
            ChannelControl::Unknown { .. } => {}
        }
    }

    fn assign_controller(&mut self, idx: usize) {
        let class = self.channels[idx].class.clone();
        let taken: Vec<u8> = self
            .channels
            .iter()
            .filter(|c| c.class == class)
            .filter_map(|c| c.controller)
            .collect();
        let n = (0..4u8).find(|n| self.controllers[*n as usize].added && !taken.contains(n));
        self.channels[idx].controller = Some(n.unwrap_or(0));
    }

    fn on_channel_opened(&mut self, idx: usize, class: &ChannelClass, now: Instant) {
        match class {
            ChannelClass::ChatAudio if self.cfg.chat_audio => {
                // Reversed: the client offers its microphone format.
                let hs = AudioServerHandshake {
                    protocol_version: 4,
                    reference_timestamp: self.wall_ms(now),
                    formats: vec![AudioFormat {
                        channels: 1,
                        sample_rate: 24000,
                        codec: AudioCodec::Opus,
                        pcm: None,
                    }],
                };
                self.send_streamer_tcp(idx, StreamerBody::Audio(AudioPayload::ServerHandshake(hs)));
            }
            ChannelClass::InputFeedback => {
                // Reversed: the client sends the Input Server Handshake.
                let (w, h) = self
                    .video_format
                    .as_ref()
                    .map_or((1280, 720), |f| (f.width, f.height));
                let hs = InputServerHandshake {
                    protocol_version: 3,
                    desktop_width: w,
                    desktop_height: h,
                    max_touches: 0,
                    initial_frame_id: self.rng.gen(),
                };
                self.send_streamer_tcp(idx, StreamerBody::Input(InputPayload::ServerHandshake(hs)));
            }
            ChannelClass::Control => {
                // Announce controllers the user added before Control opened.
                for n in 0..4u8 {
                    if self.controllers[n as usize].added && !self.controllers[n as usize].announced
                    {
                        self.announce_controller(n, true);
                    }
                }
            }
            _ => {}
        }
    }

    fn on_tcp_streamer(&mut self, cid: u16, m: StreamerMessage, now: Instant) {
        let Some(idx) = self.channel_idx(cid) else {
            return;
        };
        match m.body {
            StreamerBody::Video(VideoPayload::ServerHandshake(hs)) => {
                let fmt = choose_video(&hs.formats, &self.cfg.video);
                let Some(fmt) = fmt else {
                    self.fail(
                        CloseReason::Protocol {
                            error: "video server handshake offers no format".into(),
                        },
                        now,
                    );
                    return;
                };
                let first = self
                    .cfg
                    .initial_video_frame_id
                    .unwrap_or_else(|| self.rng.gen());
                self.reassembler = Some(Reassembler::new(self.cfg.reassembly.clone(), Some(first)));
                let ch = VideoClientHandshake {
                    initial_frame_id: first,
                    requested_format: fmt.clone(),
                };
                self.send_streamer_tcp(idx, StreamerBody::Video(VideoPayload::ClientHandshake(ch)));
                self.send_streamer_tcp(
                    idx,
                    // Start and request a keyframe in one control, as the
                    // captured client does (`tcp_video_control`: 0x30).
                    StreamerBody::Video(VideoPayload::Control(VideoControl {
                        flags: VIDEO_CONTROL_START_STREAM | VIDEO_CONTROL_REQUEST_KEYFRAME,
                        ..Default::default()
                    })),
                );
                self.video_format = Some(fmt.clone());
                self.emit(ClientEvent::VideoFormat(fmt));
            }
            StreamerBody::Video(VideoPayload::Data(d)) => {
                // Keyframes may come over TCP (sendKeyframesOverTCP).
                let c = Chunk {
                    flags: d.flags,
                    frame_id: d.frame_id,
                    timestamp: d.timestamp,
                    total_size: d.total_size,
                    packet_count: d.packet_count,
                    offset: d.offset,
                    data: &d.data,
                };
                self.feed_chunk(&c, now);
            }
            StreamerBody::Audio(AudioPayload::ServerHandshake(hs))
                if self.channels[idx].class == ChannelClass::Audio =>
            {
                let Some(fmt) = choose_audio(&hs.formats, &self.cfg.audio) else {
                    self.fail(
                        CloseReason::Protocol {
                            error: "audio server handshake offers no format".into(),
                        },
                        now,
                    );
                    return;
                };
                let ch = AudioClientHandshake {
                    initial_frame_id: self.rng.gen(),
                    requested_format: fmt.clone(),
                };
                self.send_streamer_tcp(idx, StreamerBody::Audio(AudioPayload::ClientHandshake(ch)));
                self.send_streamer_tcp(
                    idx,
                    StreamerBody::Audio(AudioPayload::Control(AudioControl {
                        flags: AUDIO_CONTROL_START_STREAM,
                    })),
                );
                self.audio_format = Some(fmt.clone());
                self.emit(ClientEvent::AudioFormat(fmt));
            }
            StreamerBody::Audio(AudioPayload::ClientHandshake(ch))
                if self.channels[idx].class == ChannelClass::ChatAudio =>
            {
                // OpenXbox's C# client opens ChatAudio by waiting for both the
                // console's client handshake and its AudioControl (start), and
                // only then sends microphone data: a console most likely
                // expects no data before it has started the stream. A console
                // that never sends the control (the reference host does not)
                // gets the stream after CHAT_START_WAIT, the C# client's wait.
                self.chat_format = Some(ch.requested_format.clone());
                self.chat_frame_id = ch.initial_frame_id;
                if self.chat_started {
                    self.emit(ClientEvent::ChatAudioReady(ch.requested_format));
                } else {
                    self.chat_start_deadline = Some(now + CHAT_START_WAIT);
                }
            }
            StreamerBody::Audio(AudioPayload::Control(c))
                if self.channels[idx].class == ChannelClass::ChatAudio =>
            {
                if c.flags & AUDIO_CONTROL_START_STREAM != 0 {
                    self.start_chat_audio();
                } else if c.flags & AUDIO_CONTROL_STOP_STREAM != 0 {
                    self.chat_started = false;
                    self.chat_start_deadline = None;
                }
            }
            StreamerBody::Input(InputPayload::ServerHandshake(hs))
                if self.channels[idx].class == ChannelClass::Input =>
            {
                let ref_ms = self.wall_ms(now);
                let ch = InputClientHandshake {
                    max_touches: self.cfg.max_touches,
                    reference_timestamp: ref_ms,
                };
                self.send_streamer_tcp(idx, StreamerBody::Input(InputPayload::ClientHandshake(ch)));
                let controller = self.channels[idx].controller.unwrap_or(0);
                self.inputs.retain(|i| i.channel != cid);
                self.inputs.push(InputChan {
                    channel: cid,
                    controller,
                    ready: true,
                    next_frame_id: hs.initial_frame_id,
                    ref_ms,
                    ref_instant: now,
                    last_sent: None,
                    // Send the current state once so the console knows it.
                    dirty: true,
                    unacked: None,
                    resends: 0,
                });
                self.emit(ClientEvent::InputReady(controller));
                self.flush_input(now);
            }
            StreamerBody::Input(InputPayload::ClientHandshake(_)) => {}
            StreamerBody::Input(InputPayload::FrameAck(a)) => self.on_frame_ack(idx, a),
            StreamerBody::Input(InputPayload::Frame(f)) => self.on_feedback_frame(idx, f),
            StreamerBody::Control(c) => self.on_control(c),
            _ => {}
        }
    }

    fn start_chat_audio(&mut self) {
        self.chat_start_deadline = None;
        if !self.chat_started {
            self.chat_started = true;
            if let Some(f) = self.chat_format.clone() {
                self.emit(ClientEvent::ChatAudioReady(f));
            }
        }
    }

    fn on_frame_ack(&mut self, idx: usize, a: FrameAck) {
        self.stats.input_frames_acked += 1;
        let cid = self.channels[idx].id;
        for ic in self.inputs.iter_mut().filter(|i| i.channel == cid) {
            // An ack of the last frame sent, or of a later one, settles it.
            if let Some(u) = ic.unacked {
                if a.acked_frame.wrapping_sub(u) as i32 >= 0 {
                    ic.unacked = None;
                }
            }
        }
    }

    fn on_feedback_frame(&mut self, idx: usize, f: InputFrame) {
        if self.channels[idx].class != ChannelClass::InputFeedback {
            return;
        }
        let r = Rumble {
            controller: self.channels[idx].controller.unwrap_or(0),
            left_trigger: f.analog.rumble_trigger_l,
            right_trigger: f.analog.rumble_trigger_r,
            left_handle: f.analog.rumble_handle_l,
            right_handle: f.analog.rumble_handle_r,
            extension: f.extension.map(|e| {
                [
                    e.rumble_trigger_l2,
                    e.rumble_trigger_r2,
                    e.rumble_handle_l2,
                    e.rumble_handle_r2,
                ]
            }),
        };
        self.stats.rumble_events += 1;
        self.emit(ClientEvent::Rumble(r));
        // Ack every feedback frame, as OpenXbox's C# client does
        // (InputFeedbackChannel.OnFrame): the console sends InputFeedback the
        // way we send Input, and acks are how either side knows a frame
        // (a rumble stop, say) arrived.
        let ack = FrameAck {
            acked_frame: f.frame_id,
        };
        self.send_streamer_udp(idx, StreamerBody::Input(InputPayload::FrameAck(ack)));
    }

    fn on_control(&mut self, c: ControlMessage) {
        if let ControlPayload::RealtimeTelemetry(t) = c.payload {
            self.stats.telemetry = t.data.iter().map(|f| (f.key, f.value)).collect();
            self.emit(ClientEvent::Telemetry(t.data));
        }
    }

    /// Feeds one datagram from the console's UDP port.
    pub fn handle_udp(&mut self, data: &[u8], now: Instant) {
        if self.phase != Phase::Connected {
            return;
        }
        // The header is decoded once; the payload is dispatched by the class
        // of its channel. Video data, nearly every datagram, is parsed
        // without allocating and without building an error.
        let (header, body) = match RtpHeader::split(data) {
            Ok(x) => x,
            Err(e) => {
                self.stats.udp_malformed += 1;
                log::debug!("nano: malformed UDP packet ignored: {e}");
                return;
            }
        };
        let idx = self.channel_idx(header.channel_id);
        let class = idx.map(|i| &self.channels[i].class);
        if header.payload_type == PayloadType::Streamer && class == Some(&ChannelClass::Video) {
            if header.connection_id != self.host_conn_id {
                self.stats.udp_rejected += 1;
                self.stats.udp_wrong_connection_id += 1;
                return;
            }
            match video::video_data_of_streamer(body) {
                Ok(Some(v)) => {
                    self.on_udp_accepted(data.len(), now);
                    let c = Chunk {
                        flags: v.flags,
                        frame_id: v.frame_id,
                        timestamp: v.timestamp,
                        total_size: v.total_size,
                        packet_count: v.packet_count,
                        offset: v.offset,
                        data: v.data,
                    };
                    self.feed_chunk(&c, now);
                    return;
                }
                // Another video message over UDP: decoded below.
                Ok(None) => {}
                Err(e) => {
                    self.stats.udp_malformed += 1;
                    log::debug!("nano: malformed UDP video packet ignored: {e}");
                    return;
                }
            }
        }
        let class = class.cloned();
        let pkt = match NanoPacket::decode_payload(header, body, class.as_ref()) {
            Ok(p) => p,
            Err(e) => {
                self.stats.udp_malformed += 1;
                log::debug!("nano: malformed UDP packet ignored: {e}");
                return;
            }
        };
        let cid = pkt.header.channel_id;
        if pkt.header.connection_id != self.host_conn_id {
            self.stats.udp_rejected += 1;
            self.stats.udp_wrong_connection_id += 1;
            return;
        }
        let Some(idx) = self.channel_idx(cid) else {
            // The host's UDP handshake answer arrives on channel 0.
            if matches!(pkt.payload, NanoPayload::UdpHandshake(_)) {
                self.on_udp_accepted(data.len(), now);
            } else {
                self.stats.udp_rejected += 1;
            }
            return;
        };
        self.on_udp_accepted(data.len(), now);
        let NanoPayload::Streamer(m) = pkt.payload else {
            return;
        };
        let class = self.channels[idx].class.clone();
        match (class, m.body) {
            (ChannelClass::Audio, StreamerBody::Audio(AudioPayload::Data(d))) => {
                // Data before the handshake chose a format cannot be
                // decoded: the console sent it on a channel not yet open.
                let Some(format) = self.audio_format.clone() else {
                    self.stats.udp_rejected += 1;
                    return;
                };
                self.stats.audio_packets += 1;
                self.stats.audio_bytes += d.data.len() as u64;
                self.emit(ClientEvent::Audio(AudioPacket {
                    frame_id: d.frame_id,
                    timestamp: d.timestamp,
                    flags: d.flags,
                    data: d.data,
                    format,
                }));
            }
            (ChannelClass::Input, StreamerBody::Input(InputPayload::FrameAck(a))) => {
                self.on_frame_ack(idx, a)
            }
            (ChannelClass::InputFeedback, StreamerBody::Input(InputPayload::Frame(f))) => {
                self.on_feedback_frame(idx, f)
            }
            (_, StreamerBody::Control(c)) => self.on_control(c),
            _ => {}
        }
    }

    fn on_udp_accepted(&mut self, len: usize, now: Instant) {
        self.last_rx = now;
        self.stats.udp_packets += 1;
        self.stats.udp_bytes += len as u64;
        if !self.udp_established {
            self.udp_established = true;
            self.next_udp_handshake = None;
            self.emit(ClientEvent::UdpEstablished);
        }
    }

    fn feed_chunk(&mut self, c: &Chunk<'_>, now: Instant) {
        let Some(r) = self.reassembler.as_mut() else {
            return;
        };
        r.handle_chunk(c, now);
        self.drain_reassembler(now);
    }

    fn drain_reassembler(&mut self, now: Instant) {
        loop {
            let Some(ev) = self.reassembler.as_mut().and_then(|r| r.poll_event()) else {
                return;
            };
            match ev {
                reassembly::Event::Frame(f) => {
                    let keyframe = f.is_keyframe();
                    // Set with the reassembler, in the video handshake.
                    let Some(format) = self.video_format.clone() else {
                        continue;
                    };
                    self.emit(ClientEvent::VideoFrame(VideoFrame {
                        frame_id: f.frame_id,
                        timestamp: f.timestamp,
                        keyframe,
                        flags: f.flags,
                        data: f.data,
                        completed_at: f.completed_at,
                        format,
                    }));
                }
                reassembly::Event::Lost { first, last } => {
                    self.stats.lost_reports += 1;
                    let _ = self.send_video_control(VideoControl {
                        flags: 0,
                        lost_frames: Some(LostFrames { first, last }),
                        ..Default::default()
                    });
                    self.emit(ClientEvent::FramesLost { first, last });
                }
                reassembly::Event::NeedKeyframe => {
                    let due = self
                        .last_keyframe_request
                        .is_none_or(|t| now >= t + self.cfg.keyframe_retry / 4);
                    // A keyframe on its way ends the wait: another request
                    // would only queue a second one behind it (a storm of
                    // keyframes at a paced console's rate).
                    let arriving = self
                        .reassembler
                        .as_ref()
                        .is_some_and(|r| r.keyframe_arriving());
                    if due && !arriving {
                        let _ = self.request_keyframe(now);
                    }
                }
            }
        }
    }

    /// Handles deadlines: the UDP handshake loop, defrag timeouts, keyframe
    /// retries, input pacing, the control-handshake and silence timeouts.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        if self.phase == Phase::Handshake && now >= self.connect_deadline {
            self.fail(CloseReason::ConnectTimeout { last_error: None }, now);
            return;
        }
        if now >= self.last_rx + self.cfg.silence_timeout {
            self.fail(CloseReason::ConsoleSilent, now);
            return;
        }
        if self.chat_start_deadline.is_some_and(|d| now >= d) {
            log::info!("nano: no ChatAudio start from the console; starting it anyway");
            self.start_chat_audio();
        }
        if let Some(t) = self.next_udp_handshake {
            if now >= t && !self.udp_established {
                self.send_udp_handshake(now);
            }
        }
        if let Some(r) = self.reassembler.as_mut() {
            r.handle_timeout(now);
            let waiting = r.waiting_for_keyframe() && !r.keyframe_arriving();
            self.drain_reassembler(now);
            if waiting
                && self.udp_established
                && self
                    .last_keyframe_request
                    .is_some_and(|t| now >= t + self.cfg.keyframe_retry)
            {
                let _ = self.request_keyframe(now);
            }
        }
        self.flush_input(now);
    }

    // ----- user commands -------------------------------------------------

    /// Asks the console for a keyframe.
    pub fn request_keyframe(&mut self, now: Instant) -> Result<(), &'static str> {
        self.check_open()?;
        // Retries are paced from the last attempt, sent or not: when the
        // Video channel is gone the attempt fails, and a deadline left in
        // the past would make the engine's timer spin.
        self.last_keyframe_request = Some(now);
        self.send_video_control(VideoControl {
            flags: VIDEO_CONTROL_REQUEST_KEYFRAME,
            ..Default::default()
        })?;
        self.stats.keyframe_requests += 1;
        Ok(())
    }

    /// Sends Change Video Quality (six values whose meaning is undocumented).
    pub fn change_video_quality(&mut self, q: [u32; 6]) -> Result<(), &'static str> {
        self.check_open()?;
        self.send_control_msg(ControlPayload::ChangeVideoQuality(ChangeVideoQuality {
            unk3: q[0],
            unk4: q[1],
            unk5: q[2],
            unk6: q[3],
            unk7: q[4],
            unk8: q[5],
        }))
    }

    fn check_open(&self) -> Result<(), &'static str> {
        match self.phase {
            Phase::Closed => Err("the session is closed"),
            Phase::Handshake => Err("the session is not connected yet"),
            Phase::Connected => Ok(()),
        }
    }

    fn announce_controller(&mut self, n: u8, added: bool) {
        let event = if added {
            ControllerEventType::Added
        } else {
            ControllerEventType::Removed
        };
        let r = self.send_control_msg(ControlPayload::ControllerEvent(ControllerEvent {
            event,
            controller_num: n,
        }));
        if r.is_ok() {
            self.controllers[n as usize].announced = added;
        }
    }

    /// Adds or removes controller `n` (0..=3). Adding makes the console open
    /// the Input channels. Works before the Control channel is open too (the
    /// event is sent once it opens).
    pub fn set_controller_connected(
        &mut self,
        n: u8,
        connected: bool,
        _now: Instant,
    ) -> Result<(), &'static str> {
        if n > 3 {
            return Err("controller number must be 0..=3");
        }
        if self.phase == Phase::Closed {
            return Err("the session is closed");
        }
        let c = &mut self.controllers[n as usize];
        if c.added == connected {
            return Ok(());
        }
        c.added = connected;
        if !connected {
            c.tracker = ButtonTracker::default();
        }
        if self.channel_by_class(&ChannelClass::Control).is_some() {
            self.announce_controller(n, connected);
        }
        Ok(())
    }

    /// Sets controller `n`'s state; adds the controller if needed. State
    /// changes become Input Frames, at most `input_reads_per_second`.
    pub fn set_controller_state(
        &mut self,
        n: u8,
        state: ControllerState,
        now: Instant,
    ) -> Result<(), &'static str> {
        self.set_controller_connected(n, true, now)?;
        if self.controllers[n as usize].tracker.update(state) {
            for ic in self.inputs.iter_mut().filter(|i| i.controller == n) {
                ic.dirty = true;
            }
            self.flush_input(now);
        }
        Ok(())
    }

    fn input_interval(&self) -> Duration {
        Duration::from_secs(1) / self.cfg.input_reads_per_second.max(1)
    }

    fn flush_input(&mut self, now: Instant) {
        let interval = self.input_interval();
        for i in 0..self.inputs.len() {
            let ic = &self.inputs[i];
            if !ic.ready {
                continue;
            }
            let resend = !ic.dirty
                && ic.unacked.is_some()
                && ic.resends < MAX_INPUT_RESENDS
                && ic
                    .last_sent
                    .is_some_and(|l| now >= l + interval.max(INPUT_RESEND_MIN));
            if !resend && (!ic.dirty || ic.last_sent.is_some_and(|l| now < l + interval)) {
                continue;
            }
            let Some(idx) = self.channel_idx(ic.channel) else {
                // The channel is gone: nothing to resend on (and no deadline
                // left in the past for `poll_timeout`).
                self.inputs[i].unacked = None;
                continue;
            };
            let ic = &self.inputs[i];
            let c = &self.controllers[ic.controller as usize];
            let st = *c.tracker.state();
            let counters = c.tracker.counters();
            // Microseconds relative to the reference timestamp
            // (docs/protocol.md#overrule-input-timestamps).
            let ts = now.saturating_duration_since(ic.ref_instant).as_micros() as u64;
            let frame = InputFrame {
                frame_id: ic.next_frame_id,
                timestamp: ts,
                created_ts: ts,
                buttons: InputButtons::from_bytes(counters),
                analog: InputAnalog {
                    left_trigger: st.left_trigger,
                    right_trigger: st.right_trigger,
                    left_thumb_x: st.left_thumb_x,
                    left_thumb_y: st.left_thumb_y,
                    right_thumb_x: st.right_thumb_x,
                    right_thumb_y: st.right_thumb_y,
                    ..Default::default()
                },
                // The captured client's frames carry the extension with
                // byte_6 = 1 ("1 for gamepad"), and the reference cannot parse
                // a frame without it (`udp_input_frame`).
                extension: Some(InputExtension {
                    byte_6: 1,
                    ..Default::default()
                }),
            };
            let _ = ic.ref_ms;
            let ic = &mut self.inputs[i];
            // A resend is a new frame (a new id) with the same state.
            ic.unacked = Some(ic.next_frame_id);
            ic.next_frame_id = ic.next_frame_id.wrapping_add(1);
            ic.last_sent = Some(now);
            if resend {
                ic.resends += 1;
                self.stats.input_frames_resent += 1;
            } else {
                ic.resends = 0;
            }
            ic.dirty = false;
            self.stats.input_frames_sent += 1;
            self.send_streamer_udp(idx, StreamerBody::Input(InputPayload::Frame(frame)));
        }
    }

    /// Sends one encoded microphone packet on ChatAudio.
    pub fn send_chat_audio(&mut self, data: &[u8], now: Instant) -> Result<(), &'static str> {
        self.check_open()?;
        if self.chat_format.is_none() || !self.chat_started {
            return Err("ChatAudio is not ready");
        }
        let idx = self
            .channel_by_class(&ChannelClass::ChatAudio)
            .ok_or("ChatAudio is not open")?;
        let d = AudioData {
            flags: 0x04,
            frame_id: self.chat_frame_id,
            timestamp: now.saturating_duration_since(self.start).as_micros() as u64,
            data: data.to_vec(),
        };
        self.chat_frame_id = self.chat_frame_id.wrapping_add(1);
        self.stats.chat_audio_sent += 1;
        self.send_streamer_udp(idx, StreamerBody::Audio(AudioPayload::Data(d)));
        Ok(())
    }

    /// Stops the stream: video and audio stop, every channel closed; ends the
    /// session with [`CloseReason::Local`].
    pub fn stop(&mut self, now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        if self.phase == Phase::Connected {
            let _ = self.send_video_control(VideoControl {
                flags: VIDEO_CONTROL_STOP_STREAM,
                ..Default::default()
            });
            if let Some(idx) = self.channel_by_class(&ChannelClass::Audio) {
                self.send_streamer_tcp(
                    idx,
                    StreamerBody::Audio(AudioPayload::Control(AudioControl {
                        flags: AUDIO_CONTROL_STOP_STREAM,
                    })),
                );
            }
            for idx in 0..self.channels.len() {
                if self.channels[idx].open {
                    let flags = self.channels[idx].create_flags;
                    self.send_channel_control(idx, ChannelControl::Close { flags });
                }
            }
        }
        self.fail(CloseReason::Local, now);
    }

    /// Ends the session with `reason` (the engine's socket errors).
    pub fn fail(&mut self, reason: CloseReason, _now: Instant) {
        if self.phase == Phase::Closed {
            return;
        }
        self.emit(ClientEvent::Closed(reason));
        self.phase = Phase::Closed;
        self.next_udp_handshake = None;
    }
}

fn choose_video(offered: &[VideoFormat], pref: &VideoPreference) -> Option<VideoFormat> {
    offered
        .iter()
        .find(|f| {
            pref.width.is_none_or(|w| f.width == w)
                && pref.height.is_none_or(|h| f.height == h)
                && pref.codec.is_none_or(|c| f.codec == c)
        })
        .or_else(|| offered.first())
        .cloned()
}

fn choose_audio(offered: &[AudioFormat], pref: &AudioPreference) -> Option<AudioFormat> {
    offered
        .iter()
        .find(|f| {
            pref.codec.is_none_or(|c| f.codec == c)
                && pref.channels.is_none_or(|n| f.channels == n)
                && pref.sample_rate.is_none_or(|r| f.sample_rate == r)
        })
        .or_else(|| offered.first())
        .cloned()
}

/// Fills the latency percentiles of `st` from `samples` (nanoseconds).
pub fn apply_latency(st: &mut StreamStats, mut samples: Vec<u32>) {
    if samples.is_empty() {
        return;
    }
    samples.sort_unstable();
    let pct = |p: usize| u64::from(samples[((samples.len() - 1) * p) / 100]);
    st.latency_p50_ns = pct(50);
    st.latency_p99_ns = pct(99);
    st.latency_p50_us = st.latency_p50_ns / 1000;
    st.latency_p99_us = st.latency_p99_ns / 1000;
    st.latency_max_us = pct(100) / 1000;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(w: u32, h: u32, codec: VideoCodec) -> VideoFormat {
        VideoFormat {
            fps: 60,
            width: w,
            height: h,
            codec,
            rgb: None,
        }
    }

    /// Feeds one packet over TCP, as the console would send it.
    fn tcp_in(s: &mut ClientSession, ch: u16, payload: NanoPayload, now: Instant) {
        let pkt = NanoPacket {
            header: RtpHeader {
                channel_id: ch,
                ..RtpHeader::default()
            },
            payload,
        };
        let mut f = Vec::new();
        encode_frame(&pkt.to_bytes(), &mut f);
        s.handle_tcp(&f, now);
    }

    /// The console's Video Server Handshake offering 64x64 H.264 at 60 fps.
    fn video_server_handshake() -> NanoPayload {
        let fmt = VideoFormat {
            fps: 60,
            width: 64,
            height: 64,
            codec: VideoCodec::H264,
            rgb: None,
        };
        let hs = crate::wire::nano::video::VideoServerHandshake {
            protocol_version: 5,
            width: 64,
            height: 64,
            fps: 60,
            reference_timestamp: 0,
            formats: vec![fmt],
        };
        let body = StreamerBody::Video(VideoPayload::ServerHandshake(hs));
        NanoPayload::Streamer(StreamerMessage::new(3, Some((1, 0)), body))
    }

    #[test]
    fn format_policy() {
        let offered = [
            fmt(1280, 720, VideoCodec::H264),
            fmt(1920, 1080, VideoCodec::H264),
            fmt(640, 360, VideoCodec::YUV),
        ];
        assert_eq!(
            choose_video(&offered, &VideoPreference::default())
                .unwrap()
                .width,
            1280
        );
        let p = VideoPreference {
            height: Some(1080),
            ..Default::default()
        };
        assert_eq!(choose_video(&offered, &p).unwrap().width, 1920);
        let p = VideoPreference {
            codec: Some(VideoCodec::YUV),
            ..Default::default()
        };
        assert_eq!(choose_video(&offered, &p).unwrap().width, 640);
        let p = VideoPreference {
            width: Some(7),
            ..Default::default()
        };
        assert_eq!(choose_video(&offered, &p).unwrap().width, 1280);
        assert!(choose_video(&[], &p).is_none());
    }

    #[test]
    fn starts_with_control_handshake_and_times_out() {
        let t = Instant::now();
        let cfg = ClientConfig {
            connection_id: Some(4242),
            ..Default::default()
        };
        let mut s = ClientSession::new(cfg, t);
        let b = s.poll_tcp_transmit().unwrap();
        let pkt = NanoPacket::decode(&b[4..], None).unwrap();
        match pkt.payload {
            NanoPayload::ControlHandshake(h) => {
                assert_eq!(h.connection_id, 4242);
                assert_eq!(h.handshake_type, ControlHandshakeType::Syn);
            }
            other => panic!("{other:?}"),
        }
        assert!(s.request_keyframe(t).is_err());
        s.handle_timeout(t + Duration::from_secs(6));
        assert!(matches!(
            s.poll_event(),
            Some(ClientEvent::Closed(
                CloseReason::ConnectTimeout { .. } | CloseReason::ConsoleSilent
            ))
        ));
        assert!(s.is_closed());
        assert!(s.poll_timeout().is_none());
    }

    #[test]
    fn hostile_tcp_length_closes_cleanly() {
        let t = Instant::now();
        let mut s = ClientSession::new(ClientConfig::default(), t);
        s.handle_tcp(&u32::MAX.to_le_bytes(), t);
        assert!(matches!(
            s.poll_event(),
            Some(ClientEvent::Closed(CloseReason::Protocol { .. }))
        ));
    }

    /// Regression (fuzz target `client_session`): a keyframe requested
    /// before the first datagram arrived put a retry deadline into
    /// `poll_timeout` that `handle_timeout` does not act on until UDP flows,
    /// so the timer spun (e.g. with UDP blocked).
    /// The state follows the handshakes; audio data that comes before the
    /// audio handshake chose a format is not delivered (it could not be
    /// decoded) but counted; after it, every packet names its format.
    #[test]
    fn state_follows_the_handshakes_and_audio_carries_its_format() {
        use crate::wire::nano::audio::AudioServerHandshake;
        let t0 = Instant::now();
        let cfg = ClientConfig {
            connection_id: Some(1),
            ..Default::default()
        };
        let mut s = ClientSession::new(cfg, t0);
        assert_eq!(s.state(), StreamState::Connecting);
        let ack = ControlHandshake {
            handshake_type: ControlHandshakeType::Ack,
            connection_id: 77,
        };
        tcp_in(&mut s, 0, NanoPayload::ControlHandshake(ack), t0);
        assert_eq!(s.state(), StreamState::Connected);
        let create = ChannelControl::Create {
            name: ChannelClass::Audio,
            flags: 0,
        };
        tcp_in(&mut s, 1025, NanoPayload::ChannelControl(create), t0);
        let open = ChannelControl::Open { flags: vec![] };
        tcp_in(&mut s, 1025, NanoPayload::ChannelControl(open), t0);
        let audio = |seq: u16| {
            let body = StreamerBody::Audio(AudioPayload::Data(AudioData {
                flags: 4,
                frame_id: u32::from(seq),
                timestamp: 1000 + u64::from(seq),
                data: vec![0xfc, seq as u8],
            }));
            NanoPacket {
                header: RtpHeader {
                    payload_type: PayloadType::Streamer,
                    sequence_num: seq,
                    connection_id: 77,
                    channel_id: 1025,
                    ..RtpHeader::default()
                },
                payload: NanoPayload::Streamer(StreamerMessage::new(0, None, body)),
            }
            .to_bytes()
        };
        s.handle_udp(&audio(1), t0);
        assert_eq!(s.state(), StreamState::Streaming);
        let rejected = s.stats().udp_rejected;
        assert_eq!(rejected, 1, "audio before its format");
        assert_eq!(s.stats().audio_packets, 0);
        let offered = AudioFormat {
            channels: 2,
            sample_rate: 48_000,
            codec: AudioCodec::Opus,
            pcm: None,
        };
        let hs = AudioServerHandshake {
            protocol_version: 4,
            reference_timestamp: 0,
            formats: vec![offered.clone()],
        };
        let body = StreamerBody::Audio(AudioPayload::ServerHandshake(hs));
        let msg = StreamerMessage::new(3, Some((1, 0)), body);
        tcp_in(&mut s, 1025, NanoPayload::Streamer(msg), t0);
        s.handle_udp(&audio(2), t0);
        let mut chosen = None;
        let mut packets = Vec::new();
        while let Some(e) = s.poll_event() {
            match e {
                ClientEvent::AudioFormat(f) => chosen = Some(f),
                ClientEvent::Audio(p) => packets.push(p),
                _ => {}
            }
        }
        let chosen = chosen.expect("an AudioFormat event");
        assert_eq!(s.audio_format(), Some(&chosen));
        assert_eq!(packets.len(), 1, "{packets:?}");
        assert_eq!(packets[0].frame_id, 2);
        assert_eq!(packets[0].format, chosen);
        s.stop(t0);
        assert_eq!(s.state(), StreamState::Closed);
    }

    #[test]
    fn no_deadline_in_the_past_before_udp_flows() {
        use crate::wire::nano::video::VideoServerHandshake;
        let t0 = Instant::now();
        let cfg = ClientConfig {
            connection_id: Some(1),
            ..Default::default()
        };
        let mut s = ClientSession::new(cfg, t0);
        let mut feed = |payload: NanoPayload, ch: u16| {
            let pkt = NanoPacket {
                header: RtpHeader {
                    channel_id: ch,
                    ..RtpHeader::default()
                },
                payload,
            };
            let mut f = Vec::new();
            encode_frame(&pkt.to_bytes(), &mut f);
            s.handle_tcp(&f, t0);
        };
        feed(
            NanoPayload::ControlHandshake(ControlHandshake {
                handshake_type: ControlHandshakeType::Ack,
                connection_id: 77,
            }),
            0,
        );
        let create = ChannelControl::Create {
            name: ChannelClass::Video,
            flags: 0,
        };
        feed(NanoPayload::ChannelControl(create), 1024);
        feed(
            NanoPayload::ChannelControl(ChannelControl::Open { flags: vec![] }),
            1024,
        );
        let hs = VideoServerHandshake {
            protocol_version: 5,
            width: 64,
            height: 64,
            fps: 60,
            reference_timestamp: 0,
            formats: vec![VideoFormat {
                fps: 60,
                width: 64,
                height: 64,
                codec: VideoCodec::H264,
                rgb: None,
            }],
        };
        let body = StreamerBody::Video(VideoPayload::ServerHandshake(hs));
        feed(
            NanoPayload::Streamer(StreamerMessage::new(3, Some((1, 0)), body)),
            1024,
        );
        s.request_keyframe(t0).unwrap();
        let mut now = t0;
        for _ in 0..60 {
            now += Duration::from_millis(10);
            s.handle_timeout(now);
            let next = s.poll_timeout().expect("open");
            assert!(next > now, "deadline {:?} not after now", now - next);
        }
    }

    /// Regression (fuzz invariant of `client_session`): the console closed
    /// the Video channel while the client waited for a keyframe; the failed
    /// retry left the keyframe deadline in the past, so `poll_timeout`
    /// returned `now` after every `handle_timeout(now)` (a timer spin).
    #[test]
    fn no_deadline_in_the_past_after_the_video_channel_closes() {
        use crate::wire::nano::video::VideoData;
        let t0 = Instant::now();
        let cfg = ClientConfig {
            connection_id: Some(1),
            initial_video_frame_id: Some(10),
            ..Default::default()
        };
        let mut s = ClientSession::new(cfg, t0);
        let tcp = tcp_in;
        let ack = ControlHandshake {
            handshake_type: ControlHandshakeType::Ack,
            connection_id: 77,
        };
        tcp(&mut s, 0, NanoPayload::ControlHandshake(ack), t0);
        let create = ChannelControl::Create {
            name: ChannelClass::Video,
            flags: 0,
        };
        tcp(&mut s, 1024, NanoPayload::ChannelControl(create), t0);
        let open = ChannelControl::Open { flags: vec![] };
        tcp(&mut s, 1024, NanoPayload::ChannelControl(open), t0);
        tcp(&mut s, 1024, video_server_handshake(), t0);
        // Frame 11 (not a keyframe) arrives, frame 10 never does.
        let chunk = VideoData {
            flags: 0x04,
            frame_id: 11,
            timestamp: 0,
            total_size: 4,
            packet_count: 1,
            offset: 0,
            data: vec![1, 2, 3, 4],
        };
        let msg = StreamerMessage::new(0, None, StreamerBody::Video(VideoPayload::Data(chunk)));
        let pkt = NanoPacket {
            header: RtpHeader {
                connection_id: 77,
                channel_id: 1024,
                ..RtpHeader::default()
            },
            payload: NanoPayload::Streamer(msg),
        };
        s.handle_udp(&pkt.to_bytes(), t0);
        let mut now = t0 + Duration::from_millis(20);
        s.handle_timeout(now);
        assert!(s.stats().keyframe_requests > 0, "{:?}", s.stats());
        tcp(
            &mut s,
            1024,
            NanoPayload::ChannelControl(ChannelControl::Close { flags: 0 }),
            now,
        );
        for _ in 0..100 {
            now += Duration::from_millis(10);
            s.handle_timeout(now);
            let next = s.poll_timeout().expect("open");
            assert!(next > now, "deadline {:?} not after now", now - next);
        }
        assert!(!s.is_closed());
    }

    /// The packets the client sends, as the captured client sends them
    /// (docs/protocol.md#nano-entries), and input that is resent until the
    /// console acks it.
    #[test]
    fn sends_what_the_captured_client_sends_and_resends_unacked_input() {
        use crate::wire::nano::input::InputServerHandshake;
        let t0 = Instant::now();
        let cfg = ClientConfig {
            connection_id: Some(1),
            ..Default::default()
        };
        let mut s = ClientSession::new(cfg, t0);
        let tcp = |s: &mut ClientSession, ch: u16, payload: NanoPayload| tcp_in(s, ch, payload, t0);
        let ack = ControlHandshake {
            handshake_type: ControlHandshakeType::Ack,
            connection_id: 77,
        };
        tcp(&mut s, 0, NanoPayload::ControlHandshake(ack));
        for (id, class) in [(1024, ChannelClass::Video), (1028, ChannelClass::Input)] {
            let create = ChannelControl::Create {
                name: class,
                flags: 0,
            };
            tcp(&mut s, id, NanoPayload::ChannelControl(create));
            let open = ChannelControl::Open { flags: vec![] };
            tcp(&mut s, id, NanoPayload::ChannelControl(open));
        }
        tcp(&mut s, 1024, video_server_handshake());
        let hs = InputServerHandshake {
            protocol_version: 3,
            desktop_width: 1280,
            desktop_height: 720,
            max_touches: 0,
            initial_frame_id: 500,
        };
        let body = StreamerBody::Input(InputPayload::ServerHandshake(hs));
        tcp(
            &mut s,
            1028,
            NanoPayload::Streamer(StreamerMessage::new(3, Some((1, 0)), body)),
        );
        let mut deframer = TcpDeframer::default();
        while let Some(b) = s.poll_tcp_transmit() {
            deframer.push(&b);
        }
        let mut sent = Vec::new();
        while let Some(p) = deframer.next_packet().unwrap() {
            sent.push(p.to_vec());
        }
        let class_of = |id: u16| match id {
            1024 => Some(ChannelClass::Video),
            1028 => Some(ChannelClass::Input),
            _ => None,
        };
        let pkts: Vec<NanoPacket> = sent
            .iter()
            .map(|b| NanoPacket::decode_with(b, class_of).unwrap())
            .collect();
        let ts = pkts[0].header.timestamp;
        assert_ne!(ts, 0);
        let mut video = Vec::new();
        for p in &pkts {
            assert_eq!(p.header.timestamp, ts, "one RTP timestamp per session");
            match &p.payload {
                NanoPayload::ChannelControl(_) => assert_eq!(p.header.sequence_num, 0),
                NanoPayload::Streamer(m) if p.header.channel_id == 1024 => {
                    video.push((p.header.sequence_num, m.body.clone()))
                }
                _ => {}
            }
        }
        // Handshake 0, then one control with start + request keyframe (0x30).
        assert_eq!(video.len(), 2, "{video:?}");
        assert_eq!(video[0].0, 0);
        assert!(matches!(
            video[0].1,
            StreamerBody::Video(VideoPayload::ClientHandshake(_))
        ));
        assert_eq!(video[1].0, 1);
        match &video[1].1 {
            StreamerBody::Video(VideoPayload::Control(c)) => assert_eq!(c.flags, 0x30),
            other => panic!("{other:?}"),
        }

        // Input: a press, then its release is lost; the release is resent
        // (bounded) until acked.
        let udp_frames = |s: &mut ClientSession| {
            let mut v = Vec::new();
            while let Some(b) = s.poll_udp_transmit() {
                let p = NanoPacket::decode_with(&b, class_of).unwrap();
                if let NanoPayload::Streamer(m) = p.payload {
                    if let StreamerBody::Input(InputPayload::Frame(f)) = m.body {
                        assert_eq!(p.header.timestamp, ts);
                        v.push((b.len(), f));
                    }
                }
            }
            v
        };
        udp_frames(&mut s);
        let pressed = ControllerState {
            buttons: crate::nano::input::buttons::A,
            ..Default::default()
        };
        s.set_controller_state(0, pressed, t0).unwrap();
        // Paced by inputReadsPerSecond after the initial state's frame.
        s.handle_timeout(t0 + Duration::from_millis(20));
        let f = udp_frames(&mut s);
        assert!(!f.is_empty());
        let ext = f[0].1.extension.clone().expect("the 9-byte extension");
        assert_eq!(ext.byte_6, 1);
        let mut now = t0 + Duration::from_millis(100);
        s.set_controller_state(0, ControllerState::default(), now)
            .unwrap();
        let release = udp_frames(&mut s);
        assert_eq!(release.len(), 1);
        let mut resent = Vec::new();
        for _ in 0..100 {
            now += Duration::from_millis(10);
            s.handle_timeout(now);
            resent.extend(udp_frames(&mut s));
        }
        assert_eq!(resent.len() as u32, MAX_INPUT_RESENDS);
        assert!(resent
            .iter()
            .all(|(_, f)| f.buttons == release[0].1.buttons));
        assert_eq!(s.stats().input_frames_resent, MAX_INPUT_RESENDS as u64);
        // A new state; the console acks it: no resend.
        s.set_controller_state(0, pressed, now).unwrap();
        let f = udp_frames(&mut s);
        let id = f.last().unwrap().1.frame_id;
        let ack = FrameAck { acked_frame: id };
        let msg = StreamerMessage::new(0, None, StreamerBody::Input(InputPayload::FrameAck(ack)));
        let pkt = NanoPacket {
            header: RtpHeader {
                connection_id: 77,
                channel_id: 1028,
                ..RtpHeader::default()
            },
            payload: NanoPayload::Streamer(msg),
        };
        s.handle_udp(&pkt.to_bytes(), now);
        for _ in 0..20 {
            now += Duration::from_millis(10);
            s.handle_timeout(now);
            assert!(udp_frames(&mut s).is_empty());
        }
    }
}
