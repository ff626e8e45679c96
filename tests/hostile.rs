//! Hostile peers: datagrams from another address or port, wrong connection
//! ids, unknown channels, oversized or contradictory length fields (at the
//! wire level and in a running session), SmartGlass packets with a bad HMAC.
//! Each is rejected, counted where the session keeps counters, and never
//! reaches the user as data.

mod common;
mod reliability_support;

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reliability_support::*;
use xnano_proto::crypto::Crypto;
use xnano_proto::nano::{ClientConfig, ClientEvent, ClientSession, CloseReason, StreamStats};
use xnano_proto::wire::nano::framing::{encode_frame, split_all, TcpDeframer};
use xnano_proto::wire::nano::rtp::{strip_padding, RtpHeader};
use xnano_proto::wire::nano::streamer::{StreamerBody, StreamerMessage};
use xnano_proto::wire::nano::video::{parse_udp_video_data, VideoData, VideoPayload};
use xnano_proto::wire::nano::{ChannelControl, NanoPacket, NanoPayload};
use xnano_proto::wire::sg::common::{peek_packet_type, PacketType};
use xnano_proto::wire::sg::decode_any;
use xnano_proto::wire::WireError;
use xnano_sim::media::{verify_synthetic_info, SyntheticVideo};
use xnano_sim::nano::{AudioMode, Host, SimConfig};
use xnano_sim::nano::{HostConfig, HostSession, CHANNEL_ID_AUDIO, CHANNEL_ID_VIDEO};

const HOST_CONN: u16 = 0x4321;

// ------------------------------------------------------------ packet makers

fn video_packet(conn: u16, channel: u16, d: VideoData) -> Vec<u8> {
    NanoPacket {
        header: RtpHeader {
            connection_id: conn,
            channel_id: channel,
            ..RtpHeader::default()
        },
        payload: NanoPayload::Streamer(StreamerMessage::new(
            0,
            None,
            StreamerBody::Video(VideoPayload::Data(d)),
        )),
    }
    .to_bytes()
}

/// A complete one-chunk frame `frame_id` of garbage bytes: delivered, it
/// would be a corrupt frame.
fn forged_frame(frame_id: u32, len: usize) -> VideoData {
    VideoData {
        flags: 0x06,
        frame_id,
        timestamp: 0,
        total_size: len as u32,
        packet_count: 1,
        offset: 0,
        data: vec![0xEE; len],
    }
}

/// Offset of a video data packet's `data_length` field (RTP 12, streamer
/// flags/type/length 12, video data header 28).
const DATA_LENGTH_AT: usize = 12 + 12 + 28;
/// Offset of a UDP streamer packet's payload length field.
const PAYLOAD_LENGTH_AT: usize = 12 + 8;

// ------------------------------------------------------------ sans-IO pair

/// A client session and the simulated console's session back to back,
/// in-process, with a manual clock.
struct Pair {
    c: ClientSession,
    h: HostSession,
    now: Instant,
    video: SyntheticVideo,
    client_addr: SocketAddr,
    frames: Vec<(u32, Vec<u8>)>,
    closed: Option<CloseReason>,
}

impl Pair {
    fn new() -> Pair {
        let now = Instant::now();
        let h = HostSession::new(
            HostConfig {
                seed: Some(3),
                connection_id: Some(HOST_CONN),
                ..HostConfig::default()
            },
            now,
        );
        let c = ClientSession::new(
            ClientConfig {
                connection_id: Some(0x1234),
                initial_video_frame_id: Some(100),
                ..ClientConfig::default()
            },
            now,
        );
        Pair {
            c,
            h,
            now,
            video: SyntheticVideo::new(5, 500, 4000, 30, 60).unwrap(),
            client_addr: "127.0.0.1:40000".parse().unwrap(),
            frames: Vec::new(),
            closed: None,
        }
    }

    fn pump(&mut self) {
        for _ in 0..100 {
            let mut moved = false;
            while let Some(b) = self.c.poll_tcp_transmit() {
                self.h.handle_tcp(&b, self.now).expect("client framing");
                moved = true;
            }
            while let Some(b) = self.c.poll_udp_transmit() {
                self.h.handle_udp(&b, self.client_addr, self.now);
                moved = true;
            }
            while let Some(b) = self.h.poll_tcp_transmit() {
                self.c.handle_tcp(&b, self.now);
                moved = true;
            }
            while let Some((b, _)) = self.h.poll_udp_transmit() {
                self.c.handle_udp(&b, self.now);
                moved = true;
            }
            while self.h.poll_event().is_some() {}
            while let Some(e) = self.c.poll_event() {
                match e {
                    ClientEvent::VideoFrame(f) => self.frames.push((f.frame_id, f.data)),
                    ClientEvent::Closed(r) => self.closed = Some(r),
                    _ => {}
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Advances 16 ms, handles timeouts, sends a frame when streaming.
    fn step(&mut self) {
        self.now += Duration::from_millis(16);
        self.c.handle_timeout(self.now);
        self.h.handle_timeout(self.now);
        if self.h.keyframe_pending() {
            self.video.force_keyframe();
        }
        if self.h.video_streaming() {
            let f = self.video.next_frame();
            self.h.push_video_frame(&f, self.now);
        }
        self.pump();
    }

    /// Streams until `n` more frames were delivered.
    fn stream(&mut self, n: usize) {
        self.pump();
        let want = self.frames.len() + n;
        for _ in 0..2000 {
            if self.frames.len() >= want {
                return;
            }
            self.step();
        }
        panic!("only {} frames delivered", self.frames.len());
    }

    /// Every delivered frame is the one the console sent under its id.
    fn check_frames(&self) {
        for (id, data) in &self.frames {
            let sent = self.h.sent_frame(*id).expect("frame in the log");
            assert_eq!(&sent.data, data, "frame {id}");
            verify_synthetic_info(data).expect("checksum");
        }
    }

    fn next_frame_id(&self) -> u32 {
        self.h.next_video_frame_id()
    }

    fn stats(&self) -> StreamStats {
        self.c.stats()
    }

    fn tcp(&mut self, channel: u16, payload: NanoPayload) {
        let pkt = NanoPacket {
            header: RtpHeader {
                channel_id: channel,
                ..RtpHeader::default()
            },
            payload,
        };
        let mut f = Vec::new();
        encode_frame(&pkt.to_bytes(), &mut f);
        self.c.handle_tcp(&f, self.now);
        self.pump();
    }

    fn tcp_raw(&mut self, packet: &[u8]) {
        let mut f = Vec::new();
        encode_frame(packet, &mut f);
        self.c.handle_tcp(&f, self.now);
        self.pump();
    }
}

// ------------------------------------------------------------ session level

#[test]
fn session_ignores_and_counts_wrong_connection_ids_and_unknown_channels() {
    let mut p = Pair::new();
    p.stream(5);
    let before = p.stats();
    let delivered = p.frames.len();
    let next = p.next_frame_id();
    // Complete forged frames: with a wrong connection id, on a channel that
    // does not exist, on the audio channel. Each would be a corrupt frame.
    for k in 0..10 {
        let wrong = video_packet(
            HOST_CONN ^ 0x00ff,
            CHANNEL_ID_VIDEO,
            forged_frame(next + k, 300),
        );
        p.c.handle_udp(&wrong, p.now);
        let unknown = video_packet(HOST_CONN, 4000, forged_frame(next + k, 300));
        p.c.handle_udp(&unknown, p.now);
        let audio = video_packet(HOST_CONN, CHANNEL_ID_AUDIO, forged_frame(next + k, 300));
        p.c.handle_udp(&audio, p.now);
    }
    // The same through the general decoder (not video data): a wrong id.
    let mut ack = Vec::new();
    RtpHeader {
        connection_id: 7,
        channel_id: CHANNEL_ID_AUDIO,
        ..RtpHeader::default()
    }
    .encode(&mut ack);
    ack.extend_from_slice(&[0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0]);
    p.c.handle_udp(&ack, p.now);
    p.pump();
    let after = p.stats();
    assert_eq!(
        after.udp_wrong_connection_id - before.udp_wrong_connection_id,
        11
    );
    // Wrong id (10 + 1) and unknown channel (10) are rejected; video data on
    // the audio channel is decoded as what that channel carries, audio, and
    // counted malformed (the payload is dispatched by channel class).
    assert_eq!(after.udp_rejected - before.udp_rejected, 21, "{after:?}");
    assert_eq!(after.udp_malformed - before.udp_malformed, 10, "{after:?}");
    assert_eq!(after.audio_packets, before.audio_packets, "{after:?}");
    assert_eq!(p.frames.len(), delivered, "a forged frame was delivered");
    // The stream goes on, intact.
    p.stream(10);
    p.check_frames();
    assert!(p.closed.is_none());
}

#[test]
fn session_rejects_oversized_and_contradictory_lengths() {
    let mut p = Pair::new();
    p.stream(5);
    let base = p.stats();
    let delivered = p.frames.len();
    let next = p.next_frame_id();

    // Datagram-level length fields: each fails to decode.
    let good = video_packet(HOST_CONN, CHANNEL_ID_VIDEO, forged_frame(next, 64));
    let mut bad: Vec<Vec<u8>> = Vec::new();
    let mut b = good.clone();
    b[DATA_LENGTH_AT..DATA_LENGTH_AT + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    bad.push(b);
    let mut b = good.clone();
    b[PAYLOAD_LENGTH_AT..PAYLOAD_LENGTH_AT + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    bad.push(b);
    let mut b = good.clone();
    b[PAYLOAD_LENGTH_AT..PAYLOAD_LENGTH_AT + 4].copy_from_slice(&3u32.to_le_bytes());
    bad.push(b); // shorter than the video data header: trailing bytes
    let mut b = good.clone();
    assert!(b.len() - 12 < 0xFF);
    b[0] |= 0x20; // padding bit, with a count larger than the payload
    let n = b.len();
    b[n - 1] = 0xFF;
    bad.push(b);
    let mut b = good.clone();
    b[0] |= 0x0F; // 15 CSRCs announced
    b.truncate(40);
    bad.push(b);
    for d in &bad {
        assert!(parse_udp_video_data(d).is_err());
        p.c.handle_udp(d, p.now);
    }
    p.pump();
    let st = p.stats();
    assert_eq!(
        st.udp_malformed - base.udp_malformed,
        bad.len() as u64,
        "{st:?}"
    );

    // Chunk-level: well-formed datagrams whose sizes are impossible or
    // contradict each other.
    let max = xnano::nano::ReassemblyConfig::default();
    let chunk = |frame_id: u32, total: u32, count: u32, offset: u32, len: usize| VideoData {
        flags: 0x04,
        frame_id,
        timestamp: 0,
        total_size: total,
        packet_count: count,
        offset,
        data: vec![0xAB; len],
    };
    let invalid = [
        chunk(next, max.max_frame_size as u32 + 1, 2, 0, 100), // over the frame cap
        chunk(next, 100, 2, 50, 100),                          // past the end of the frame
        chunk(next, 100, 0, 0, 50),                            // no chunks
        chunk(next, 100, max.max_chunks_per_frame as u32 + 1, 0, 50), // too many chunks
        chunk(next, 100, 2, 0, 0),                             // empty chunk of a non-empty frame
        chunk(next, 4_000_000, 2, u32::MAX - 10, 100),         // offset + length overflows u32
    ];
    for d in invalid {
        p.c.handle_udp(&video_packet(HOST_CONN, CHANNEL_ID_VIDEO, d), p.now);
    }
    // Start frame next+1 with a first half, then contradict it.
    p.c.handle_udp(
        &video_packet(HOST_CONN, CHANNEL_ID_VIDEO, chunk(next + 1, 200, 2, 0, 100)),
        p.now,
    );
    let contradicting = [
        chunk(next + 1, 300, 2, 100, 100), // another total size
        chunk(next + 1, 200, 3, 100, 100), // another chunk count
        chunk(next + 1, 200, 2, 0, 60),    // same offset, another length
        chunk(next + 1, 200, 2, 50, 100),  // overlaps the first half
    ];
    for d in contradicting {
        p.c.handle_udp(&video_packet(HOST_CONN, CHANNEL_ID_VIDEO, d), p.now);
    }
    p.pump();
    let st = p.stats();
    assert_eq!(st.chunks_invalid - base.chunks_invalid, 10, "{st:?}");
    assert_eq!(p.frames.len(), delivered);

    // TCP: length fields past the end of a packet make it malformed; the
    // session goes on.
    let tcp_base = p.stats().tcp_malformed;
    // A streamer payload length past the end.
    let mut s = Vec::new();
    RtpHeader {
        channel_id: CHANNEL_ID_VIDEO,
        ..RtpHeader::default()
    }
    .encode(&mut s);
    s.extend_from_slice(&3u32.to_le_bytes());
    s.extend_from_slice(&[0u8; 8]);
    s.extend_from_slice(&4u32.to_le_bytes());
    s.extend_from_slice(&u32::MAX.to_le_bytes());
    s.extend_from_slice(&[0u8; 16]);
    p.tcp_raw(&s);
    // A Channel Open whose flags length is 4 GiB.
    let mut o = Vec::new();
    RtpHeader {
        payload_type: xnano_proto::wire::nano::rtp::PayloadType::ChannelControl,
        channel_id: CHANNEL_ID_VIDEO,
        ..RtpHeader::default()
    }
    .encode(&mut o);
    o.extend_from_slice(&3u32.to_le_bytes());
    o.extend_from_slice(&u32::MAX.to_le_bytes());
    o.extend_from_slice(&[1, 2, 3, 4]);
    p.tcp_raw(&o);
    // An audio server handshake announcing 4 billion formats.
    let mut a = Vec::new();
    RtpHeader {
        channel_id: CHANNEL_ID_AUDIO,
        ..RtpHeader::default()
    }
    .encode(&mut a);
    let mut body = Vec::new();
    body.extend_from_slice(&4u32.to_le_bytes());
    body.extend_from_slice(&0u64.to_le_bytes());
    body.extend_from_slice(&u32::MAX.to_le_bytes());
    a.extend_from_slice(&3u32.to_le_bytes());
    a.extend_from_slice(&[0u8; 8]);
    a.extend_from_slice(&1u32.to_le_bytes());
    a.extend_from_slice(&(body.len() as u32).to_le_bytes());
    a.extend_from_slice(&body);
    p.tcp_raw(&a);
    assert_eq!(p.stats().tcp_malformed - tcp_base, 3);
    assert!(p.closed.is_none());

    // The stream is intact afterwards.
    p.stream(10);
    p.check_frames();

    // A TCP length over the limit cannot be resynchronised: protocol error.
    p.c.handle_tcp(&(2u32 << 20).to_le_bytes(), p.now);
    p.pump();
    match &p.closed {
        Some(CloseReason::Protocol { error: m }) => assert!(m.contains("length"), "{m}"),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn console_closing_a_channel_twice_or_unknown_is_harmless() {
    let mut p = Pair::new();
    p.stream(3);
    p.tcp(
        4000,
        NanoPayload::ChannelControl(ChannelControl::Close { flags: 0 }),
    );
    p.tcp(
        4000,
        NanoPayload::ChannelControl(ChannelControl::Open { flags: vec![] }),
    );
    assert!(p.closed.is_none());
    p.stream(3);
    p.check_frames();
}

// ------------------------------------------------------------ wire level

#[test]
fn wire_rejects_oversized_and_contradictory_length_fields() {
    fn err(r: Result<impl std::fmt::Debug, WireError>) -> WireError {
        r.expect_err("must be rejected")
    }
    // RTP: 15 CSRCs in a 12-byte packet; padding longer than the payload;
    // padding count 0.
    let mut h = vec![0x8f, 0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(err(NanoPacket::decode(&h, None)).field(), "csrc_list");
    h[0] = 0xa0;
    h.extend_from_slice(&[1, 2, 3, 9]);
    assert_eq!(err(NanoPacket::decode(&h, None)).field(), "padding");
    *h.last_mut().unwrap() = 0;
    assert_eq!(err(NanoPacket::decode(&h, None)).field(), "padding");
    assert!(strip_padding(&[5, 5, 5]).is_err());

    // Streamer payload length past the end.
    let mut s = Vec::new();
    s.extend_from_slice(&0u32.to_le_bytes());
    s.extend_from_slice(&4u32.to_le_bytes());
    s.extend_from_slice(&u32::MAX.to_le_bytes());
    s.extend_from_slice(&[0; 8]);
    let e = err(StreamerMessage::decode(&s, None));
    assert_eq!(e.field(), "payload");
    // ... and shorter than what follows: trailing bytes.
    s[8..12].copy_from_slice(&2u32.to_le_bytes());
    assert!(matches!(
        err(StreamerMessage::decode(&s, None)),
        WireError::Trailing { .. }
    ));

    // Video data: data_length past the end, and shorter than the rest.
    let d = forged_frame(1, 10);
    let mut v = Vec::new();
    d.encode(&mut v);
    let mut w = v.clone();
    w[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(err(VideoData::decode(&w)).field(), "data");
    w[28..32].copy_from_slice(&5u32.to_le_bytes());
    assert!(matches!(
        err(VideoData::decode(&w)),
        WireError::Trailing { .. }
    ));

    // Counts: formats, telemetry fields, announced as 4 billion in a few bytes.
    let mut vh = Vec::new();
    for x in [5u32, 1280, 720, 60] {
        vh.extend_from_slice(&x.to_le_bytes());
    }
    vh.extend_from_slice(&0u64.to_le_bytes());
    vh.extend_from_slice(&u32::MAX.to_le_bytes());
    let e = err(xnano_proto::wire::nano::video::VideoServerHandshake::decode(&vh));
    assert!(
        matches!(
            e,
            WireError::Truncated {
                field: "formats",
                ..
            }
        ),
        "{e:?}"
    );
    let mut ah = Vec::new();
    ah.extend_from_slice(&4u32.to_le_bytes());
    ah.extend_from_slice(&0u64.to_le_bytes());
    ah.extend_from_slice(&u32::MAX.to_le_bytes());
    let e = err(xnano_proto::wire::nano::audio::AudioServerHandshake::decode(&ah));
    assert!(
        matches!(
            e,
            WireError::Truncated {
                field: "formats",
                ..
            }
        ),
        "{e:?}"
    );
    let mut tm = Vec::new();
    tm.extend_from_slice(&0u32.to_le_bytes()); // prev_seq_dup
    tm.extend_from_slice(&1u16.to_le_bytes());
    tm.extend_from_slice(&1406u16.to_le_bytes());
    tm.extend_from_slice(
        &xnano_proto::wire::nano::control::ControlOpcode::RealtimeTelemetry
            .raw()
            .to_le_bytes(),
    );
    tm.extend_from_slice(&u16::MAX.to_le_bytes());
    let e = err(xnano_proto::wire::nano::control::ControlMessage::decode(
        &tm,
    ));
    assert_eq!(e.field(), "data", "{e:?}");

    // Channel Open flags and Channel Create name lengths past the end.
    let mut co = Vec::new();
    co.extend_from_slice(&3u32.to_le_bytes());
    co.extend_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(err(ChannelControl::decode(&co)).field(), "flags");
    let mut cc = Vec::new();
    cc.extend_from_slice(&2u32.to_le_bytes());
    cc.extend_from_slice(&u16::MAX.to_le_bytes());
    cc.extend_from_slice(b"Microsoft");
    assert_eq!(err(ChannelControl::decode(&cc)).field(), "name");

    // TCP framing: a length over the limit fails for good; a truncated file.
    let mut d = TcpDeframer::new(1 << 20);
    d.push(&((1u32 << 20) + 1).to_le_bytes());
    assert_eq!(d.next_packet().unwrap_err().field(), "length");
    assert!(d.next_packet().is_err());
    let mut f = Vec::new();
    f.extend_from_slice(&u32::MAX.to_le_bytes());
    f.extend_from_slice(&[0; 16]);
    assert!(split_all(&f).is_err());

    // SmartGlass: header lengths past the end.
    let simple = [0xdd, 0x00, 0xff, 0xff, 0x00, 0x00, 1, 2, 3];
    assert!(decode_any(&simple, None).is_err());
    let c = Crypto::from_shared_secret(&[7; 64]);
    let mut msg = vec![0xd0, 0x0d, 0xff, 0xff];
    msg.extend_from_slice(&[0; 22]);
    msg.extend_from_slice(&[0; 48]);
    let e = err(decode_any(&msg, Some(&c)));
    assert_eq!(e.field(), "protected_payload", "{e:?}");
    // An SGString longer than what follows.
    let mut r_buf = vec![0xff, 0xff];
    r_buf.extend_from_slice(b"abc\0");
    let mut r = xnano_proto::wire::Reader::new(&r_buf, "t");
    assert!(xnano_proto::wire::sg::common::read_sg_string(&mut r, "s").is_err());
    // A fragment whose piece is longer than the payload.
    let frag = [0, 0, 0, 1, 0, 0, 0, 3, 0xff, 0xff, 1, 2];
    assert!(xnano_proto::wire::sg::payloads::Fragment::decode(&frag).is_err());
}

// ------------------------------------------------------------ SmartGlass HMAC

fn vector_crypto() -> Crypto {
    let hex_secret = "82bba514e6d19521114940bd65121af234c53654a8e67add7710b3725db44f7730ed8e3da7015a09fe0f08e9bef3853c0506327eb77c9951769d923d863a2f5e";
    let b = hex::decode(hex_secret).unwrap();
    Crypto::from_shared_secret(&b.try_into().unwrap())
}

#[test]
fn smartglass_packets_with_a_bad_hmac_are_dropped() {
    let c = vector_crypto();
    let wrong = Crypto::from_shared_secret(&[0x42; 64]);
    let mut protected = 0;
    for name in common::list_vectors("smartglass/packets") {
        let pkt = common::read_vector(&format!("smartglass/packets/{name}"));
        let t = peek_packet_type(&pkt).unwrap();
        let signed = matches!(
            t,
            PacketType::Message | PacketType::ConnectRequest | PacketType::ConnectResponse
        );
        if !signed {
            continue;
        }
        protected += 1;
        decode_any(&pkt, Some(&c)).unwrap_or_else(|e| panic!("{name}: the capture decodes: {e}"));
        // A flipped bit in the tag, in the encrypted payload, in the header
        // fields after the lengths; the whole packet under another key.
        let n = pkt.len();
        let mut spots = vec![n - 1, n - 32, n - 40];
        spots.push(if t == PacketType::Message { 8 } else { 7 });
        for at in spots {
            let mut bad = pkt.clone();
            bad[at] ^= 0x01;
            match decode_any(&bad, Some(&c)) {
                Err(WireError::Crypto { .. }) => {}
                other => panic!("{name}: bit flipped at {at} of {n}: {other:?}"),
            }
        }
        match decode_any(&pkt, Some(&wrong)) {
            Err(WireError::Crypto { .. }) => {}
            other => panic!("{name} under another key: {other:?}"),
        }
        // A truncated tag is not accepted either.
        assert!(decode_any(&pkt[..n - 1], Some(&c)).is_err(), "{name}");
    }
    assert!(protected >= 20, "only {protected} signed vectors");
}

// ------------------------------------------------------------ engine level

fn stream_sim() -> Arc<Host> {
    Arc::new(
        Host::start(SimConfig {
            video: synthetic(61, 1_000, 4_000),
            audio: AudioMode::None,
            keyframe_interval: 30,
            frame_log_len: 600,
            session_seed: Some(61),
            ..SimConfig::default()
        })
        .expect("sim"),
    )
}

/// Complete forged frames for the next frame ids (each would be corrupt if
/// delivered) with the console's own connection id.
fn forged_batch(sim: &Host, conn: u16, n: u32) -> Vec<Vec<u8>> {
    let next = sim
        .sent_frames()
        .last()
        .map_or(0, |f| f.frame_id.wrapping_add(1));
    (0..n)
        .map(|k| {
            video_packet(
                conn,
                CHANNEL_ID_VIDEO,
                forged_frame(next.wrapping_add(k % 8), 400),
            )
        })
        .collect()
}

#[test]
fn udp_from_another_port_or_address_is_ignored_and_counted() {
    let sim = stream_sim();
    let (client, checked) = checked_client(&sim, ClientConfig::default());
    assert!(wait_until(Duration::from_secs(5), || checked
        .delivered
        .load(Ordering::Relaxed)
        > 20));
    let target = sim.client_udp_addr().expect("client UDP address");
    let conn = sim.connection_id().unwrap();
    // Same host, another port; and another loopback address.
    let other_port = UdpSocket::bind("127.0.0.1:0").unwrap();
    let other_addr = UdpSocket::bind("127.0.0.2:0").ok();
    let mut sent = 0u64;
    for round in 0..20 {
        for d in forged_batch(&sim, conn, 8) {
            other_port.send_to(&d, target).unwrap();
            sent += 1;
            if let Some(s) = &other_addr {
                s.send_to(&d, target).unwrap();
                sent += 1;
            }
        }
        other_port.send_to(&[round as u8; 33], target).unwrap();
        sent += 1;
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        wait_until(Duration::from_secs(3), || client
            .stats()
            .udp_foreign_packets
            >= sent),
        "counted {} of {sent}",
        client.stats().udp_foreign_packets
    );
    std::thread::sleep(Duration::from_millis(200));
    let stats = client.stop().unwrap();
    println!(
        "foreign datagrams: {sent} sent, {} counted; {} frames delivered, {} corrupt",
        stats.udp_foreign_packets,
        checked.delivered.load(Ordering::Relaxed),
        checked.corrupt.load(Ordering::Relaxed)
    );
    assert_eq!(stats.udp_foreign_packets, sent);
    assert_eq!(checked.corrupt.load(Ordering::Relaxed), 0);
    assert_eq!(checked.unverifiable.load(Ordering::Relaxed), 0);
    assert_eq!(
        stats.udp_malformed, 0,
        "a foreign datagram reached the session"
    );
}

#[test]
fn udp_with_a_wrong_connection_id_is_ignored_and_counted() {
    let sim = stream_sim();
    let (client, checked) = checked_client(&sim, ClientConfig::default());
    assert!(wait_until(Duration::from_secs(5), || checked
        .delivered
        .load(Ordering::Relaxed)
        > 20));
    let conn = sim.connection_id().unwrap();
    let mut sent = 0u64;
    for i in 0..20u16 {
        // From the console's own address and port: only the id is wrong.
        for d in forged_batch(&sim, conn ^ (1 + i), 8) {
            assert!(sim.inject_udp(d));
            sent += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(wait_until(Duration::from_secs(3), || client
        .stats()
        .udp_wrong_connection_id
        >= sent));
    let delivered_before = checked.delivered.load(Ordering::Relaxed);
    assert!(wait_until(Duration::from_secs(3), || checked
        .delivered
        .load(Ordering::Relaxed)
        > delivered_before + 10));
    let stats = client.stop().unwrap();
    println!(
        "wrong connection id: {sent} sent, {} counted; {} frames delivered, {} corrupt",
        stats.udp_wrong_connection_id,
        checked.delivered.load(Ordering::Relaxed),
        checked.corrupt.load(Ordering::Relaxed)
    );
    assert_eq!(stats.udp_wrong_connection_id, sent);
    assert_eq!(stats.udp_foreign_packets, 0);
    assert_eq!(checked.corrupt.load(Ordering::Relaxed), 0);
    assert_eq!(checked.unverifiable.load(Ordering::Relaxed), 0);
}
