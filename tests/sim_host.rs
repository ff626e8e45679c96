//! The simulated console's Nano host: the sans-IO session driven by hand-built
//! client packets, and the socket server driven by a minimal client loop.

mod common;
use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use xnano_proto::wire::nano::audio::*;
use xnano_proto::wire::nano::control::*;
use xnano_proto::wire::nano::framing::{encode_frame, TcpDeframer};
use xnano_proto::wire::nano::input::*;
use xnano_proto::wire::nano::rtp::{PayloadType, RtpHeader};
use xnano_proto::wire::nano::streamer::*;
use xnano_proto::wire::nano::video::*;
use xnano_proto::wire::nano::*;
use xnano_sim::media::{verify_synthetic, EncodedFrame, SyntheticVideo};
use xnano_sim::nano::*;
use xnano_sim::nano::{AudioMode, Host, ImpairStats, Impairment, SimConfig, VideoMode};

// ------------------------------------------------------------------ client-side helpers

/// The client's view: channel classes learned from Channel Create, TCP deframing.
#[derive(Default)]
struct Peer {
    classes: HashMap<u16, ChannelClass>,
    deframer: TcpDeframer,
    seq: HashMap<u16, u32>,
}

impl Peer {
    /// Decodes TCP bytes from the host into packets, learning channel classes.
    fn tcp_in(&mut self, bytes: &[u8]) -> Vec<NanoPacket> {
        self.deframer.push(bytes);
        let mut out = Vec::new();
        while let Some(p) = self.deframer.next_packet().unwrap() {
            let p = p.to_vec();
            let classes = &self.classes;
            let pkt = NanoPacket::decode_with(&p, |id| classes.get(&id).cloned()).unwrap();
            if let NanoPayload::ChannelControl(ChannelControl::Create { name, .. }) = &pkt.payload {
                self.classes.insert(pkt.header.channel_id, name.clone());
            }
            out.push(pkt);
        }
        out
    }

    fn udp_in(&self, d: &[u8]) -> NanoPacket {
        NanoPacket::decode_with(d, |id| self.classes.get(&id).cloned()).unwrap()
    }

    /// A framed TCP streamer message from the client on `class`.
    fn streamer(&mut self, class: ChannelClass, body: StreamerBody) -> Vec<u8> {
        let id = channel_id_of(&class).unwrap();
        let s = self.seq.entry(id).or_insert(0);
        let prev = *s;
        *s += 1;
        let pkt = NanoPacket {
            header: RtpHeader {
                channel_id: id,
                ..RtpHeader::default()
            },
            payload: NanoPayload::Streamer(StreamerMessage::new(3, Some((*s, prev)), body)),
        };
        framed(&pkt)
    }
}

fn framed(pkt: &NanoPacket) -> Vec<u8> {
    let mut v = Vec::new();
    encode_frame(&pkt.to_bytes(), &mut v);
    v
}

fn syn(conn: u16) -> Vec<u8> {
    framed(&NanoPacket {
        header: RtpHeader {
            payload_type: PayloadType::Control,
            ..RtpHeader::default()
        },
        payload: NanoPayload::ControlHandshake(ControlHandshake {
            handshake_type: ControlHandshakeType::Syn,
            connection_id: conn,
        }),
    })
}

fn open(id: u16, flags: Vec<u8>) -> Vec<u8> {
    framed(&NanoPacket {
        header: RtpHeader {
            payload_type: PayloadType::ChannelControl,
            channel_id: id,
            ..RtpHeader::default()
        },
        payload: NanoPayload::ChannelControl(ChannelControl::Open { flags }),
    })
}

fn close_ch(id: u16) -> Vec<u8> {
    framed(&NanoPacket {
        header: RtpHeader {
            payload_type: PayloadType::ChannelControl,
            channel_id: id,
            ..RtpHeader::default()
        },
        payload: NanoPayload::ChannelControl(ChannelControl::Close { flags: 0 }),
    })
}

fn udp_handshake(conn: u16) -> Vec<u8> {
    NanoPacket {
        header: RtpHeader {
            payload_type: PayloadType::UDPHandshake,
            connection_id: conn,
            ..RtpHeader::default()
        },
        payload: NanoPayload::UdpHandshake(UdpHandshake { handshake_type: 1 }),
    }
    .to_bytes()
}

fn udp_streamer(conn: u16, class: ChannelClass, seq: u16, body: StreamerBody) -> Vec<u8> {
    NanoPacket {
        header: RtpHeader {
            sequence_num: seq,
            connection_id: conn,
            channel_id: channel_id_of(&class).unwrap(),
            ..RtpHeader::default()
        },
        payload: NanoPayload::Streamer(StreamerMessage::new(0, None, body)),
    }
    .to_bytes()
}

fn video_control(flags: u32, lost: Option<(u32, u32)>) -> StreamerBody {
    StreamerBody::Video(VideoPayload::Control(VideoControl {
        flags,
        last_displayed_frame: None,
        queue_depth: None,
        lost_frames: lost.map(|(first, last)| LostFrames { first, last }),
    }))
}

fn controller_added() -> StreamerBody {
    StreamerBody::Control(ControlMessage::new(
        0,
        1,
        1406,
        ControlPayload::ControllerEvent(ControllerEvent {
            event: ControllerEventType::Added,
            controller_num: 0,
        }),
    ))
}

fn input_frame(frame_id: u32, lt: u8, rt: u8) -> InputFrame {
    InputFrame {
        frame_id,
        timestamp: 1,
        created_ts: 1,
        buttons: InputButtons {
            a: 1,
            ..InputButtons::default()
        },
        analog: InputAnalog {
            left_trigger: lt,
            right_trigger: rt,
            ..InputAnalog::default()
        },
        extension: None,
    }
}

fn drain_tcp(h: &mut HostSession, peer: &mut Peer) -> Vec<NanoPacket> {
    let mut out = Vec::new();
    while let Some(b) = h.poll_tcp_transmit() {
        out.extend(peer.tcp_in(&b));
    }
    out
}

fn drain_udp(h: &mut HostSession) -> Vec<(Vec<u8>, SocketAddr)> {
    std::iter::from_fn(|| h.poll_udp_transmit()).collect()
}

fn drain_events(h: &mut HostSession) -> Vec<HostEvent> {
    std::iter::from_fn(|| h.poll_event()).collect()
}

fn body_of(p: &NanoPacket) -> &StreamerBody {
    match &p.payload {
        NanoPayload::Streamer(m) => &m.body,
        other => panic!("not a streamer packet: {other:?}"),
    }
}

const CLIENT_ADDR: &str = "127.0.0.1:40000";
const INITIAL_VIDEO_ID: u32 = 3_715_731_054; // a captured initial frame id

fn host_cfg() -> HostConfig {
    HostConfig {
        seed: Some(7),
        chunk_size: 1000,
        ..HostConfig::default()
    }
}

/// Runs the whole default handshake; returns the host with video and audio started.
fn connected(cfg: HostConfig, t0: Instant) -> (HostSession, Peer, SocketAddr) {
    let mut h = HostSession::new(cfg, t0);
    let mut peer = Peer::default();
    let client: SocketAddr = CLIENT_ADDR.parse().unwrap();
    h.handle_tcp(&syn(40084), t0).unwrap();
    let pkts = drain_tcp(&mut h, &mut peer);
    let conn = h.connection_id();
    for p in &pkts {
        if let NanoPayload::ChannelControl(ChannelControl::Open { flags }) = &p.payload {
            h.handle_tcp(&open(p.header.channel_id, flags.clone()), t0)
                .unwrap();
        }
    }
    h.handle_udp(&udp_handshake(conn), client, t0);
    let vf = h.config().clone();
    let mut b = Vec::new();
    b.extend(peer.streamer(
        ChannelClass::Video,
        StreamerBody::Video(VideoPayload::ClientHandshake(VideoClientHandshake {
            initial_frame_id: INITIAL_VIDEO_ID,
            requested_format: VideoFormat {
                fps: vf.fps,
                width: vf.width,
                height: vf.height,
                codec: VideoCodec::H264,
                rgb: None,
            },
        })),
    ));
    b.extend(peer.streamer(ChannelClass::Video, video_control(0x30, None)));
    b.extend(peer.streamer(
        ChannelClass::Audio,
        StreamerBody::Audio(AudioPayload::ClientHandshake(AudioClientHandshake {
            initial_frame_id: 5,
            requested_format: AudioFormat {
                channels: 2,
                sample_rate: 48000,
                codec: AudioCodec::Opus,
                pcm: None,
            },
        })),
    ));
    b.extend(peer.streamer(
        ChannelClass::Audio,
        StreamerBody::Audio(AudioPayload::Control(AudioControl {
            flags: AUDIO_CONTROL_START_STREAM,
        })),
    ));
    // Deliver in awkward pieces: the host must reassemble TCP packets.
    for piece in b.chunks(7) {
        h.handle_tcp(piece, t0).unwrap();
    }
    drain_tcp(&mut h, &mut peer);
    (h, peer, client)
}

// ------------------------------------------------------------------ sans-IO tests

#[test]
fn handshake_channels_and_server_handshakes() {
    let t0 = Instant::now();
    let mut h = HostSession::new(host_cfg(), t0);
    let mut peer = Peer::default();
    assert!(h.poll_tcp_transmit().is_none());
    h.handle_tcp(&syn(40084), t0).unwrap();
    let pkts = drain_tcp(&mut h, &mut peer);
    // ACK with the host's own id, then Create + Open for four channels.
    match &pkts[0].payload {
        NanoPayload::ControlHandshake(a) => {
            assert_eq!(a.handshake_type, ControlHandshakeType::Ack);
            assert_eq!(a.connection_id, h.connection_id());
            assert_ne!(a.connection_id, 0);
        }
        p => panic!("expected ACK, got {p:?}"),
    }
    assert_eq!(h.client_connection_id(), Some(40084));
    let creates: Vec<(u16, ChannelClass)> = pkts
        .iter()
        .filter_map(|p| match &p.payload {
            NanoPayload::ChannelControl(ChannelControl::Create { name, .. }) => {
                Some((p.header.channel_id, name.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        creates,
        vec![
            (1024, ChannelClass::Video),
            (1025, ChannelClass::Audio),
            (1026, ChannelClass::ChatAudio),
            (1027, ChannelClass::Control)
        ]
    );
    let opens: BTreeMap<u16, Vec<u8>> = pkts
        .iter()
        .filter_map(|p| match &p.payload {
            NanoPayload::ChannelControl(ChannelControl::Open { flags }) => {
                Some((p.header.channel_id, flags.clone()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(opens.len(), 4);
    assert_eq!(opens[&1027], vec![1, 0, 2, 0]);
    assert!(pkts.iter().all(|p| p.header.connection_id == 0));
    assert_eq!(
        drain_events(&mut h),
        vec![HostEvent::ClientConnected {
            client_connection_id: 40084
        }]
    );

    // The client answers the opens; the host sends video and audio server handshakes.
    for (id, flags) in &opens {
        h.handle_tcp(&open(*id, flags.clone()), t0).unwrap();
    }
    let pkts = drain_tcp(&mut h, &mut peer);
    assert_eq!(pkts.len(), 2, "{pkts:?}");
    let vh = match body_of(&pkts[0]) {
        StreamerBody::Video(VideoPayload::ServerHandshake(v)) => v.clone(),
        b => panic!("expected video server handshake, got {b:?}"),
    };
    assert_eq!(pkts[0].header.channel_id, 1024);
    assert_eq!(vh.protocol_version, 5);
    assert_eq!((vh.width, vh.height, vh.fps), (1280, 720, 60));
    assert_eq!(vh.reference_timestamp, h.reference_timestamp_ms());
    assert!(vh
        .formats
        .iter()
        .any(|f| f.codec == VideoCodec::H264 && f.width == 1280 && f.height == 720));
    match &pkts[0].payload {
        NanoPayload::Streamer(m) => {
            assert_eq!(m.header.flags, 3);
            assert_eq!(m.header.sequence_num, Some(1));
            assert_eq!(m.header.prev_sequence_num, Some(0));
        }
        _ => unreachable!(),
    }
    match body_of(&pkts[1]) {
        StreamerBody::Audio(AudioPayload::ServerHandshake(a)) => {
            assert_eq!(a.protocol_version, 4);
            assert!(!a.formats.is_empty());
        }
        b => panic!("expected audio server handshake, got {b:?}"),
    }
    let ev = drain_events(&mut h);
    for c in [
        ChannelClass::Video,
        ChannelClass::Audio,
        ChannelClass::ChatAudio,
        ChannelClass::Control,
    ] {
        assert!(ev.contains(&HostEvent::ChannelOpened(c.clone())), "{c:?}");
        assert!(h.channel_open(&c));
    }

    // UDP: a handshake with the wrong id is ignored; with the host's id it teaches the address.
    let client: SocketAddr = CLIENT_ADDR.parse().unwrap();
    let other: SocketAddr = "127.0.0.1:40001".parse().unwrap();
    h.handle_udp(&udp_handshake(40084), client, t0);
    assert_eq!(h.client_udp_addr(), None);
    assert_eq!(h.stats().udp_wrong_connection_id, 1);
    h.handle_udp(&udp_handshake(h.connection_id()), client, t0);
    assert_eq!(h.client_udp_addr(), Some(client));
    h.handle_udp(&udp_handshake(h.connection_id()), other, t0);
    assert_eq!(h.client_udp_addr(), Some(client));
    assert_eq!(h.stats().udp_wrong_address, 1);
    assert_eq!(
        drain_events(&mut h),
        vec![HostEvent::UdpAddressLearned(client)]
    );
}

#[test]
fn client_handshakes_and_stream_start_stop() {
    let t0 = Instant::now();
    let (mut h, mut peer, _client) = connected(host_cfg(), t0);
    let ev = drain_events(&mut h);
    assert!(ev.contains(&HostEvent::VideoFormatChosen {
        initial_frame_id: INITIAL_VIDEO_ID,
        format: VideoFormat {
            fps: 60,
            width: 1280,
            height: 720,
            codec: VideoCodec::H264,
            rgb: None
        }
    }));
    assert!(ev.contains(&HostEvent::VideoStarted));
    assert!(ev.contains(&HostEvent::KeyframeRequested)); // 0x30 = start + keyframe
    assert!(ev.contains(&HostEvent::AudioStarted));
    assert!(h.video_streaming() && h.audio_streaming());
    assert_eq!(h.next_video_frame_id(), INITIAL_VIDEO_ID);

    let b = peer.streamer(
        ChannelClass::Video,
        video_control(VIDEO_CONTROL_STOP_STREAM, None),
    );
    h.handle_tcp(&b, t0).unwrap();
    assert_eq!(drain_events(&mut h), vec![HostEvent::VideoStopped]);
    assert!(!h.video_streaming());
    let frame = EncodedFrame {
        data: vec![1; 10],
        keyframe: true,
        index: 0,
        pts_us: 0,
    };
    assert!(!h.push_video_frame(&frame, t0));
    assert!(drain_udp(&mut h).is_empty());
}

#[test]
fn video_frames_are_chunked_and_reassemble() {
    let t0 = Instant::now();
    let (mut h, _peer, client) = connected(host_cfg(), t0);
    let mut src = SyntheticVideo::new(99, 2500, 4200, 0, 60).unwrap();
    let mut rtp_seq_expected = 1u16;
    for n in 0..5u32 {
        let frame = src.next_frame();
        let now = t0 + Duration::from_millis(16 * u64::from(n) + 3);
        assert!(h.push_video_frame(&frame, now));
        let dgrams = drain_udp(&mut h);
        let expect_count = frame.data.len().div_ceil(1000);
        assert_eq!(dgrams.len(), expect_count);
        let mut chunks = Vec::new();
        for (d, to) in &dgrams {
            assert_eq!(*to, client);
            let (hdr, v) = parse_udp_video_data(d).unwrap();
            assert_eq!(hdr.connection_id, h.connection_id());
            assert_eq!(hdr.channel_id, 1024);
            assert_eq!(hdr.sequence_num, rtp_seq_expected);
            rtp_seq_expected = rtp_seq_expected.wrapping_add(1);
            assert_eq!(v.frame_id, INITIAL_VIDEO_ID.wrapping_add(n));
            assert_eq!(v.total_size as usize, frame.data.len());
            assert_eq!(v.packet_count as usize, expect_count);
            assert_eq!(v.flags & VIDEO_DATA_FLAG_04, VIDEO_DATA_FLAG_04);
            assert_eq!(v.is_keyframe(), frame.keyframe);
            assert_eq!(v.timestamp, 16_000 * u64::from(n) + 3_000);
            assert!(v.data.len() <= 1000);
            chunks.push((v.offset, v.data.to_vec()));
        }
        // Reassemble out of order.
        chunks.reverse();
        chunks.sort_by_key(|c| c.0);
        let whole: Vec<u8> = chunks.into_iter().flat_map(|c| c.1).collect();
        assert_eq!(whole, frame.data);
        assert_eq!(verify_synthetic(&whole).unwrap(), frame.index);
        let logged = h.sent_frame(INITIAL_VIDEO_ID.wrapping_add(n)).unwrap();
        assert_eq!(logged.data, frame.data);
    }
    assert_eq!(h.stats().video_frames_sent, 5);
    assert_eq!(h.stats().keyframes_sent, 1);
}

#[test]
fn frame_ids_wrap_and_single_chunk_frames() {
    let t0 = Instant::now();
    let mut h = HostSession::new(host_cfg(), t0);
    let mut peer = Peer::default();
    let client: SocketAddr = CLIENT_ADDR.parse().unwrap();
    h.handle_tcp(&syn(1), t0).unwrap();
    drain_tcp(&mut h, &mut peer);
    h.handle_tcp(&open(1024, vec![]), t0).unwrap();
    h.handle_udp(&udp_handshake(h.connection_id()), client, t0);
    let mut b = peer.streamer(
        ChannelClass::Video,
        StreamerBody::Video(VideoPayload::ClientHandshake(VideoClientHandshake {
            initial_frame_id: u32::MAX,
            requested_format: VideoFormat {
                fps: 60,
                width: 1280,
                height: 720,
                codec: VideoCodec::H264,
                rgb: None,
            },
        })),
    );
    b.extend(peer.streamer(
        ChannelClass::Video,
        video_control(VIDEO_CONTROL_START_STREAM, None),
    ));
    h.handle_tcp(&b, t0).unwrap();
    let mut ids = Vec::new();
    for len in [0usize, 1, 1000] {
        let f = EncodedFrame {
            data: vec![0xab; len],
            keyframe: false,
            index: 0,
            pts_us: 0,
        };
        assert!(h.push_video_frame(&f, t0));
        let d = drain_udp(&mut h);
        assert_eq!(d.len(), 1, "a frame of {len} bytes is one chunk");
        let (_, v) = parse_udp_video_data(&d[0].0).unwrap();
        assert_eq!(v.packet_count, 1);
        assert_eq!(v.data.len(), len);
        ids.push(v.frame_id);
    }
    assert_eq!(ids, vec![u32::MAX, 0, 1]);
}

#[test]
fn keyframe_request_and_lost_frames() {
    let t0 = Instant::now();
    let (mut h, mut peer, _) = connected(host_cfg(), t0);
    // The start control (0x30) asked for a keyframe; a keyframe clears it.
    assert!(h.keyframe_pending());
    let k = EncodedFrame {
        data: vec![7; 3000],
        keyframe: true,
        index: 0,
        pts_us: 0,
    };
    h.push_video_frame(&k, t0);
    assert!(!h.keyframe_pending());
    drain_events(&mut h);
    let b = peer.streamer(
        ChannelClass::Video,
        video_control(VIDEO_CONTROL_REQUEST_KEYFRAME, Some((10, 12))),
    );
    h.handle_tcp(&b, t0).unwrap();
    let ev = drain_events(&mut h);
    assert!(ev.contains(&HostEvent::KeyframeRequested));
    assert!(ev.contains(&HostEvent::LostFramesReported {
        first: 10,
        last: 12
    }));
    assert!(h.keyframe_pending());
    assert_eq!(h.stats().keyframe_requests, 2);
    assert_eq!(h.stats().lost_frame_reports, 1);
    // Keyframe data packets carry 0x04 | 0x02.
    h.push_video_frame(&k, t0);
    let d = drain_udp(&mut h);
    let (_, v) = parse_udp_video_data(&d.last().unwrap().0).unwrap();
    assert_eq!(v.flags, 0x06);
}

/// Controller event -> Input, handshakes both ways, input frame -> ack + rumble.
#[test]
fn controller_event_opens_input_and_input_gets_ack_and_rumble() {
    let t0 = Instant::now();
    let (mut h, mut peer, client) = connected(host_cfg(), t0);
    drain_events(&mut h);
    let b = peer.streamer(ChannelClass::Control, controller_added());
    h.handle_tcp(&b, t0).unwrap();
    let pkts = drain_tcp(&mut h, &mut peer);
    assert_eq!(pkts.len(), 2);
    assert!(matches!(
        &pkts[0].payload,
        NanoPayload::ChannelControl(ChannelControl::Create {
            name: ChannelClass::Input,
            ..
        })
    ));
    assert_eq!(pkts[0].header.channel_id, 1028);
    assert!(matches!(
        &pkts[1].payload,
        NanoPayload::ChannelControl(ChannelControl::Open { .. })
    ));
    let ev = drain_events(&mut h);
    assert_eq!(
        ev,
        vec![HostEvent::ControllerEvent(ControllerEvent {
            event: ControllerEventType::Added,
            controller_num: 0
        })]
    );

    // Client opens Input: Input server handshake + InputFeedback create/open.
    h.handle_tcp(&open(1028, vec![]), t0).unwrap();
    let pkts = drain_tcp(&mut h, &mut peer);
    let hs = match body_of(&pkts[0]) {
        StreamerBody::Input(InputPayload::ServerHandshake(s)) => s.clone(),
        b => panic!("expected input server handshake, got {b:?}"),
    };
    assert_eq!(hs.protocol_version, 3);
    assert_eq!((hs.desktop_width, hs.desktop_height), (1280, 720));
    assert_eq!(hs.max_touches, 0);
    assert_eq!(hs.initial_frame_id, h.input_initial_frame_id());
    assert!(pkts[1..].iter().any(|p| matches!(
        &p.payload,
        NanoPayload::ChannelControl(ChannelControl::Create {
            name: ChannelClass::InputFeedback,
            ..
        })
    ) && p.header.channel_id == 1029));

    let b = peer.streamer(
        ChannelClass::Input,
        StreamerBody::Input(InputPayload::ClientHandshake(InputClientHandshake {
            max_touches: 10,
            reference_timestamp: 1,
        })),
    );
    h.handle_tcp(&b, t0).unwrap();
    // InputFeedback: the client opens it and sends an Input *server* handshake.
    h.handle_tcp(&open(1029, vec![]), t0).unwrap();
    let b = peer.streamer(
        ChannelClass::InputFeedback,
        StreamerBody::Input(InputPayload::ServerHandshake(InputServerHandshake {
            protocol_version: 3,
            desktop_width: 1280,
            desktop_height: 720,
            max_touches: 0,
            initial_frame_id: 400,
        })),
    );
    h.handle_tcp(&b, t0).unwrap();
    let pkts = drain_tcp(&mut h, &mut peer);
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].header.channel_id, 1029);
    assert!(matches!(
        body_of(&pkts[0]),
        StreamerBody::Input(InputPayload::ClientHandshake(c)) if c.reference_timestamp == h.reference_timestamp_ms()
    ));
    let ev = drain_events(&mut h);
    assert!(ev.contains(&HostEvent::InputReady));
    assert!(ev.contains(&HostEvent::InputFeedbackReady));
    assert!(ev.contains(&HostEvent::ChannelOpened(ChannelClass::Input)));
    assert!(ev.contains(&HostEvent::ChannelOpened(ChannelClass::InputFeedback)));

    // Input frames over UDP: ack with the frame id, rumble from the triggers.
    for (i, (lt, rt)) in [(100u8, 200u8), (0, 255)].into_iter().enumerate() {
        let fid = hs.initial_frame_id.wrapping_add(i as u32);
        let d = udp_streamer(
            h.connection_id(),
            ChannelClass::Input,
            i as u16 + 1,
            StreamerBody::Input(InputPayload::Frame(input_frame(fid, lt, rt))),
        );
        h.handle_udp(&d, client, t0);
        let out = drain_udp(&mut h);
        assert_eq!(out.len(), 2);
        let ack = peer.udp_in(&out[0].0);
        assert_eq!(ack.header.channel_id, 1028);
        assert_eq!(ack.header.connection_id, h.connection_id());
        assert!(matches!(
            body_of(&ack),
            StreamerBody::Input(InputPayload::FrameAck(FrameAck { acked_frame })) if *acked_frame == fid
        ));
        let fb = peer.udp_in(&out[1].0);
        assert_eq!(fb.header.channel_id, 1029);
        match body_of(&fb) {
            StreamerBody::Input(InputPayload::Frame(f)) => {
                assert_eq!(f.frame_id, 400 + i as u32);
                assert_eq!(
                    (f.analog.rumble_trigger_l, f.analog.rumble_trigger_r),
                    (lt, rt)
                );
                assert_eq!(
                    (f.analog.rumble_handle_l, f.analog.rumble_handle_r),
                    (lt, rt)
                );
                assert!(
                    f.extension.is_some(),
                    "59-byte frames, as the reference parses"
                );
            }
            b => panic!("expected feedback frame, got {b:?}"),
        }
        let ev = drain_events(&mut h);
        assert_eq!(ev, vec![HostEvent::InputFrame(input_frame(fid, lt, rt))]);
    }
    assert_eq!(h.stats().input_frames_received, 2);
    assert_eq!(h.stats().rumble_sent, 2);

    // Input from another address is not accepted.
    let d = udp_streamer(
        h.connection_id(),
        ChannelClass::Input,
        9,
        StreamerBody::Input(InputPayload::Frame(input_frame(1, 1, 1))),
    );
    h.handle_udp(&d, "127.0.0.1:1".parse().unwrap(), t0);
    assert!(drain_udp(&mut h).is_empty());
    assert_eq!(h.stats().input_frames_received, 2);
}

#[test]
fn client_may_open_input_first() {
    let t0 = Instant::now();
    let (mut h, mut peer, _) = connected(host_cfg(), t0);
    drain_events(&mut h);
    h.handle_tcp(&open(1028, vec![]), t0).unwrap();
    let pkts = drain_tcp(&mut h, &mut peer);
    assert!(matches!(
        &pkts[0].payload,
        NanoPayload::ChannelControl(ChannelControl::Create {
            name: ChannelClass::Input,
            ..
        })
    ));
    assert!(matches!(
        &pkts[1].payload,
        NanoPayload::ChannelControl(ChannelControl::Open { .. })
    ));
    assert!(pkts.iter().any(|p| matches!(
        body_of_opt(p),
        Some(StreamerBody::Input(InputPayload::ServerHandshake(_)))
    )));
    assert!(drain_events(&mut h).contains(&HostEvent::ChannelOpened(ChannelClass::Input)));
    // A later controller event does not create Input twice.
    let b = peer.streamer(ChannelClass::Control, controller_added());
    h.handle_tcp(&b, t0).unwrap();
    assert!(drain_tcp(&mut h, &mut peer).is_empty());
}

fn body_of_opt(p: &NanoPacket) -> Option<&StreamerBody> {
    match &p.payload {
        NanoPayload::Streamer(m) => Some(&m.body),
        _ => None,
    }
}

#[test]
fn chat_audio_is_reversed() {
    let t0 = Instant::now();
    let (mut h, mut peer, client) = connected(host_cfg(), t0);
    drain_events(&mut h);
    let fmt = AudioFormat {
        channels: 1,
        sample_rate: 24000,
        codec: AudioCodec::Opus,
        pcm: None,
    };
    let b = peer.streamer(
        ChannelClass::ChatAudio,
        StreamerBody::Audio(AudioPayload::ServerHandshake(AudioServerHandshake {
            protocol_version: 4,
            reference_timestamp: 5,
            formats: vec![fmt.clone()],
        })),
    );
    h.handle_tcp(&b, t0).unwrap();
    let pkts = drain_tcp(&mut h, &mut peer);
    // The client handshake, then the console's start (what OpenXbox's C#
    // client waits for before sending microphone data).
    assert_eq!(pkts.len(), 2);
    assert_eq!(pkts[0].header.channel_id, 1026);
    assert_eq!(pkts[1].header.channel_id, 1026);
    match body_of(&pkts[0]) {
        StreamerBody::Audio(AudioPayload::ClientHandshake(c)) => {
            assert_eq!(c.requested_format, fmt)
        }
        b => panic!("expected audio client handshake, got {b:?}"),
    }
    match body_of(&pkts[1]) {
        StreamerBody::Audio(AudioPayload::Control(c)) => assert_eq!(c.flags, 0x10),
        b => panic!("expected the ChatAudio start control, got {b:?}"),
    }
    let d = udp_streamer(
        h.connection_id(),
        ChannelClass::ChatAudio,
        1,
        StreamerBody::Audio(AudioPayload::Data(AudioData {
            flags: 4,
            frame_id: 0,
            timestamp: 1,
            data: vec![1, 2, 3],
        })),
    );
    h.handle_udp(&d, client, t0);
    let ev = drain_events(&mut h);
    assert_eq!(
        ev,
        vec![
            HostEvent::ChatAudioFormat(fmt),
            HostEvent::ChatAudio(vec![1, 2, 3])
        ]
    );
}

#[test]
fn audio_packets_and_telemetry() {
    let t0 = Instant::now();
    let (mut h, mut peer, client) = connected(host_cfg(), t0);
    assert!(h.push_audio_packet(&[9; 100], t0 + Duration::from_millis(20)));
    let d = drain_udp(&mut h);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].1, client);
    let p = peer.udp_in(&d[0].0);
    assert_eq!(p.header.channel_id, 1025);
    assert_eq!(p.header.sequence_num, 1);
    match body_of(&p) {
        StreamerBody::Audio(AudioPayload::Data(a)) => {
            assert_eq!((a.flags, a.frame_id, a.timestamp), (4, 0, 20_000));
            assert_eq!(a.data, vec![9; 100]);
        }
        b => panic!("{b:?}"),
    }
    // Telemetry: due at once after Control opened, then once per interval.
    let due = h.poll_timeout().expect("telemetry timer");
    assert!(due <= t0);
    h.handle_timeout(t0);
    let pkts = drain_tcp(&mut h, &mut peer);
    assert_eq!(pkts.len(), 1);
    assert_eq!(pkts[0].header.channel_id, 1027);
    match body_of(&pkts[0]) {
        StreamerBody::Control(m) => {
            assert!(matches!(m.payload, ControlPayload::RealtimeTelemetry(_)));
            assert_eq!((m.header.unk1, m.header.unk2), (1, 1406));
        }
        b => panic!("{b:?}"),
    }
    h.handle_timeout(t0 + Duration::from_millis(500));
    assert!(drain_tcp(&mut h, &mut peer).is_empty());
    h.handle_timeout(t0 + Duration::from_millis(1000));
    assert_eq!(drain_tcp(&mut h, &mut peer).len(), 1);
    assert_eq!(h.stats().telemetry_sent, 2);
}

#[test]
fn channel_close_and_teardown() {
    let t0 = Instant::now();
    let (mut h, mut peer, _) = connected(host_cfg(), t0);
    drain_events(&mut h);
    h.handle_tcp(&close_ch(1024), t0).unwrap();
    assert_eq!(
        drain_events(&mut h),
        vec![HostEvent::ChannelClosed(ChannelClass::Video)]
    );
    assert!(!h.video_streaming());
    // The host closes the rest.
    h.close(t0);
    let pkts = drain_tcp(&mut h, &mut peer);
    let closed: Vec<u16> = pkts
        .iter()
        .filter(|p| {
            matches!(
                p.payload,
                NanoPayload::ChannelControl(ChannelControl::Close { .. })
            )
        })
        .map(|p| p.header.channel_id)
        .collect();
    assert_eq!(closed, vec![1025, 1026, 1027]);
    assert!(h.is_closed());
    assert_eq!(drain_events(&mut h), vec![HostEvent::ClientGone]);
    assert!(!h.push_audio_packet(&[1], t0));

    let (mut h, _, _) = connected(host_cfg(), t0);
    drain_events(&mut h);
    h.handle_tcp_closed(t0);
    assert_eq!(drain_events(&mut h), vec![HostEvent::ClientGone]);
    assert!(h.poll_timeout().is_none());
}

#[test]
fn bad_input_is_reported_not_fatal() {
    let t0 = Instant::now();
    let (mut h, _, client) = connected(host_cfg(), t0);
    drain_events(&mut h);
    let mut junk = Vec::new();
    encode_frame(&[0xff, 0x00, 0x01], &mut junk);
    encode_frame(&[], &mut junk);
    h.handle_tcp(&junk, t0).unwrap();
    h.handle_udp(&[1, 2, 3], client, t0);
    h.handle_udp(&[], client, t0);
    let ev = drain_events(&mut h);
    assert_eq!(ev.len(), 4, "{ev:?}");
    assert!(ev.iter().all(|e| matches!(e, HostEvent::BadPacket(_))));
    assert!(h.is_connected());
    // Streamer packet on an unknown channel.
    let d = NanoPacket {
        header: RtpHeader {
            connection_id: h.connection_id(),
            channel_id: 5000,
            ..RtpHeader::default()
        },
        payload: NanoPayload::Streamer(StreamerMessage::new(0, None, StreamerBody::Raw(vec![1]))),
    }
    .to_bytes();
    h.handle_udp(&d, client, t0);
    assert!(matches!(
        drain_events(&mut h)[..],
        [HostEvent::BadPacket(_)]
    ));
    // A hostile length breaks the framing: an error.
    assert!(h.handle_tcp(&u32::MAX.to_le_bytes(), t0).is_err());
}

#[test]
fn udp_before_tcp_handshake_is_dropped() {
    let t0 = Instant::now();
    let mut h = HostSession::new(host_cfg(), t0);
    h.handle_udp(
        &udp_handshake(h.connection_id()),
        CLIENT_ADDR.parse().unwrap(),
        t0,
    );
    assert_eq!(h.client_udp_addr(), None);
    assert_eq!(h.stats().udp_before_handshake, 1);
}

// ------------------------------------------------------------------ loopback server tests

/// A minimal blocking client for [`Host`].
struct MiniClient {
    tcp: TcpStream,
    udp: UdpSocket,
    peer: Peer,
    conn: u16,
    pending: Vec<NanoPacket>,
}

impl MiniClient {
    fn connect(server: &Host) -> MiniClient {
        let tcp = TcpStream::connect(server.tcp_addr()).unwrap();
        tcp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
        udp.connect(server.udp_addr()).unwrap();
        udp.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut c = MiniClient {
            tcp,
            udp,
            peer: Peer::default(),
            conn: 0,
            pending: Vec::new(),
        };
        c.send(&syn(51234));
        let ack = c.wait_tcp(|p| matches!(p.payload, NanoPayload::ControlHandshake(_)));
        if let NanoPayload::ControlHandshake(a) = ack.payload {
            c.conn = a.connection_id;
        }
        c
    }

    fn send(&mut self, b: &[u8]) {
        use std::io::Write;
        self.tcp.write_all(b).unwrap();
    }

    fn read_tcp(&mut self) {
        use std::io::Read;
        let mut buf = [0u8; 8192];
        match self.tcp.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => {
                let pkts = self.peer.tcp_in(&buf[..n]);
                self.pending.extend(pkts);
            }
            Err(_) => {}
        }
    }

    /// Waits (up to 10 s) for a TCP packet matching `f`; earlier ones stay pending.
    fn wait_tcp(&mut self, f: impl Fn(&NanoPacket) -> bool) -> NanoPacket {
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(i) = self.pending.iter().position(&f) {
                return self.pending.remove(i);
            }
            assert!(
                Instant::now() < end,
                "timed out; pending: {:?}",
                self.pending
            );
            self.read_tcp();
        }
    }

    /// Opens every channel the server opened so far (echoing flags).
    fn answer_opens(&mut self) {
        self.read_tcp();
        let opens: Vec<(u16, Vec<u8>)> = self
            .pending
            .iter()
            .filter_map(|p| match &p.payload {
                NanoPayload::ChannelControl(ChannelControl::Open { flags }) => {
                    Some((p.header.channel_id, flags.clone()))
                }
                _ => None,
            })
            .collect();
        self.pending
            .retain(|p| !matches!(p.payload, NanoPayload::ChannelControl(_)));
        for (id, flags) in opens {
            self.send(&open(id, flags));
        }
    }

    fn udp_handshake_until_learned(&mut self, server: &Host) {
        let end = Instant::now() + Duration::from_secs(10);
        let ev = server.events();
        loop {
            self.udp.send(&udp_handshake(self.conn)).unwrap();
            if let Ok(HostEvent::UdpAddressLearned(_)) = ev.recv_timeout(Duration::from_millis(50))
            {
                return;
            }
            assert!(Instant::now() < end, "UDP handshake not acknowledged");
        }
    }

    fn start_video(&mut self, initial: u32, w: u32, h: u32, fps: u32) {
        let mut b = self.peer.streamer(
            ChannelClass::Video,
            StreamerBody::Video(VideoPayload::ClientHandshake(VideoClientHandshake {
                initial_frame_id: initial,
                requested_format: VideoFormat {
                    fps,
                    width: w,
                    height: h,
                    codec: VideoCodec::H264,
                    rgb: None,
                },
            })),
        );
        b.extend(
            self.peer
                .streamer(ChannelClass::Video, video_control(0x30, None)),
        );
        self.send(&b);
    }

    /// Receives video chunks until `n` whole frames are assembled (or 20 s pass).
    fn receive_frames(&mut self, n: usize) -> BTreeMap<u32, Vec<u8>> {
        // frame id -> (total size, packet count, chunks by offset)
        type Partial = (u32, u32, BTreeMap<u32, Vec<u8>>);
        let mut parts: HashMap<u32, Partial> = HashMap::new();
        let mut done = BTreeMap::new();
        let end = Instant::now() + Duration::from_secs(20);
        let mut buf = vec![0u8; 65536];
        while done.len() < n && Instant::now() < end {
            let Ok(len) = self.udp.recv(&mut buf) else {
                continue;
            };
            let Ok((hdr, v)) = parse_udp_video_data(&buf[..len]) else {
                continue;
            };
            assert_eq!(hdr.connection_id, self.conn);
            let e =
                parts
                    .entry(v.frame_id)
                    .or_insert((v.total_size, v.packet_count, BTreeMap::new()));
            e.2.insert(v.offset, v.data.to_vec());
            if e.2.len() as u32 == e.1 {
                let whole: Vec<u8> = e.2.values().flatten().copied().collect();
                assert_eq!(whole.len() as u32, e.0);
                done.insert(v.frame_id, whole);
                parts.remove(&v.frame_id);
            }
        }
        done
    }
}

fn synthetic_cfg() -> SimConfig {
    SimConfig {
        width: 640,
        height: 360,
        fps: 60,
        video: VideoMode::Synthetic {
            seed: 5,
            min_len: 3000,
            max_len: 9000,
        },
        audio: AudioMode::Pcm,
        keyframe_interval: 30,
        session_seed: Some(11),
        ..SimConfig::default()
    }
}

#[test]
fn loopback_server_streams_video_and_answers_input() {
    let mut server = Host::start(synthetic_cfg()).unwrap();
    let mut c = MiniClient::connect(&server);
    assert_eq!(server.connection_id(), Some(c.conn));
    c.udp_handshake_until_learned(&server);
    c.answer_opens();
    c.wait_tcp(|p| {
        matches!(
            body_of_opt(p),
            Some(StreamerBody::Video(VideoPayload::ServerHandshake(_)))
        )
    });
    c.start_video(1000, 640, 360, 60);
    let frames = c.receive_frames(10);
    assert!(frames.len() >= 10, "got {} frames", frames.len());
    for (id, data) in &frames {
        assert!(*id >= 1000);
        let index = verify_synthetic(data).unwrap();
        let sent = server.sent_frame(*id).expect("frame in the server's log");
        assert_eq!(&sent.data, data, "frame {id} byte-for-byte");
        assert_eq!(sent.index, index);
    }
    // The first frame (requested keyframe at start) is a keyframe.
    assert!(server.sent_frame(1000).unwrap().keyframe);

    // Controller -> Input -> input frame -> ack + rumble over UDP.
    let b = c.peer.streamer(ChannelClass::Control, controller_added());
    c.send(&b);
    c.wait_tcp(|p| {
        p.header.channel_id == 1028
            && matches!(
                p.payload,
                NanoPayload::ChannelControl(ChannelControl::Open { .. })
            )
    });
    c.send(&open(1028, vec![]));
    let hs = c.wait_tcp(|p| {
        matches!(
            body_of_opt(p),
            Some(StreamerBody::Input(InputPayload::ServerHandshake(_)))
        )
    });
    let initial = match body_of(&hs) {
        StreamerBody::Input(InputPayload::ServerHandshake(s)) => s.initial_frame_id,
        _ => unreachable!(),
    };
    c.wait_tcp(|p| {
        p.header.channel_id == 1029
            && matches!(
                p.payload,
                NanoPayload::ChannelControl(ChannelControl::Open { .. })
            )
    });
    c.send(&open(1029, vec![]));
    let b = c.peer.streamer(
        ChannelClass::InputFeedback,
        StreamerBody::Input(InputPayload::ServerHandshake(InputServerHandshake {
            protocol_version: 3,
            desktop_width: 1280,
            desktop_height: 720,
            max_touches: 0,
            initial_frame_id: 77,
        })),
    );
    c.send(&b);
    c.wait_tcp(|p| {
        matches!(
            body_of_opt(p),
            Some(StreamerBody::Input(InputPayload::ClientHandshake(_)))
        )
    });
    c.udp
        .send(&udp_streamer(
            c.conn,
            ChannelClass::Input,
            1,
            StreamerBody::Input(InputPayload::Frame(input_frame(initial, 30, 40))),
        ))
        .unwrap();
    let (mut acked, mut rumble) = (false, false);
    let end = Instant::now() + Duration::from_secs(10);
    let mut buf = vec![0u8; 65536];
    while !(acked && rumble) && Instant::now() < end {
        let Ok(n) = c.udp.recv(&mut buf) else {
            continue;
        };
        let Ok(p) = NanoPacket::decode_with(&buf[..n], |id| c.peer.classes.get(&id).cloned())
        else {
            continue;
        };
        match body_of_opt(&p) {
            Some(StreamerBody::Input(InputPayload::FrameAck(a))) => {
                assert_eq!(a.acked_frame, initial);
                acked = true;
            }
            Some(StreamerBody::Input(InputPayload::Frame(f))) => {
                assert_eq!(f.frame_id, 77);
                assert_eq!(
                    (f.analog.rumble_trigger_l, f.analog.rumble_trigger_r),
                    (30, 40)
                );
                rumble = true;
            }
            _ => {}
        }
    }
    assert!(acked && rumble, "ack {acked} rumble {rumble}");
    let st = server.stats();
    assert_eq!(st.clients_accepted, 1);
    assert!(st.client_connected);
    assert_eq!(st.session.input_frames_received, 1);
    assert_eq!(st.session.rumble_sent, 1);
    assert!(st.session.video_frames_sent >= 10);
    assert!(st.udp.sent >= st.session.video_packets_sent);

    // Teardown: the client leaves; the server sees it and can take the next client.
    drop(c);
    let ev = server.events();
    let end = Instant::now() + Duration::from_secs(5);
    let mut gone = false;
    while !gone && Instant::now() < end {
        gone = matches!(
            ev.recv_timeout(Duration::from_millis(100)),
            Ok(HostEvent::ClientGone)
        );
    }
    assert!(gone);
    let c2 = MiniClient::connect(&server);
    assert_eq!(server.stats().clients_accepted, 2);
    drop(c2);
    server.stop();
}

#[test]
fn loopback_h264_keyframe_request_forces_idr() {
    use xnano_sim::media::h264_nal_types;
    let cfg = SimConfig {
        width: 320,
        height: 240,
        fps: 30,
        bitrate_bps: 500_000,
        keyframe_interval: 0,
        audio: AudioMode::None,
        ..SimConfig::default()
    };
    let mut server = Host::start(cfg).unwrap();
    let mut c = MiniClient::connect(&server);
    c.udp_handshake_until_learned(&server);
    c.answer_opens();
    c.start_video(0, 320, 240, 30);
    let frames = c.receive_frames(8);
    assert!(frames.len() >= 8);
    // First frame is an IDR, later ones are not (no periodic keyframes).
    assert!(h264_nal_types(&frames[&0]).contains(&5));
    let before: Vec<u32> = frames.keys().copied().filter(|&id| id > 0).collect();
    assert!(before
        .iter()
        .all(|id| !h264_nal_types(&frames[id]).contains(&5)));
    // Ask for a keyframe: a later frame must be an IDR.
    let b = c.peer.streamer(
        ChannelClass::Video,
        video_control(VIDEO_CONTROL_REQUEST_KEYFRAME, None),
    );
    c.send(&b);
    let more = c.receive_frames(10);
    let idr_after = more
        .iter()
        .filter(|(id, _)| **id > *frames.keys().last().unwrap())
        .any(|(_, d)| h264_nal_types(d).contains(&5));
    assert!(idr_after, "no IDR after the keyframe request");
    let st = server.stats();
    assert_eq!(st.session.keyframe_requests, 2);
    assert!(st.session.keyframes_sent >= 2);
    server.stop();
}

#[test]
fn loopback_udp_impairment_is_seeded() {
    let run = || -> ImpairStats {
        let cfg = SimConfig {
            impairment: Impairment {
                loss_pct: 20.0,
                duplicate_pct: 10.0,
                reorder_pct: 10.0,
                delay_ms: 2,
                jitter_ms: 1,
                seed: 42,
            },
            ..synthetic_cfg()
        };
        let mut server = Host::start(cfg).unwrap();
        let mut c = MiniClient::connect(&server);
        c.udp_handshake_until_learned(&server);
        c.answer_opens();
        c.start_video(0, 640, 360, 60);
        // Stream for a while (frames rarely complete at 20 % loss; only counters matter).
        let end = Instant::now() + Duration::from_millis(800);
        let mut buf = vec![0u8; 65536];
        while Instant::now() < end {
            let _ = c.udp.recv(&mut buf);
        }
        server.stop();
        server.stats().udp
    };
    let a = run();
    assert!(a.offered > 100, "{a:?}");
    assert!(
        a.dropped > 0 && a.duplicated > 0 && a.reordered > 0 && a.delayed > 0,
        "{a:?}"
    );
    let loss = a.dropped as f64 / a.offered as f64;
    assert!((0.1..0.3).contains(&loss), "loss {loss}");
    assert_eq!(a.sent, a.offered - a.dropped + a.duplicated);
}

#[test]
fn sim_config_defaults() {
    let c = SimConfig::default();
    assert_eq!(
        (c.width, c.height, c.fps, c.bitrate_bps),
        (1280, 720, 60, 8_000_000)
    );
    assert_eq!(c.video, VideoMode::TestPattern);
    assert_eq!(c.audio, AudioMode::Opus);
    assert!(c.bind_ip.is_loopback());
    assert!(Host::start(SimConfig {
        chunk_size: 0,
        ..synthetic_cfg()
    })
    .is_err());
}

// ------------------------------------------------------------------ reference client interop

#[test]
fn reference_python_client_streams_from_sim_server() {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/sim_host_reference_client.py"
    );
    let probe = std::process::Command::new("python3")
        .args(["-c", "import xbox.nano.protocol"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            common::peer_missing(
                "reference_python_client_streams_from_sim_server",
                &format!(
                    "the reference implementation (`import xbox.nano` failed: {})",
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                ),
            );
            return;
        }
        Err(e) => {
            common::peer_missing(
                "reference_python_client_streams_from_sim_server",
                &format!("python3 ({e})"),
            );
            return;
        }
    }
    let mut server = Host::start(SimConfig {
        chunk_size: 1000,
        ..synthetic_cfg()
    })
    .unwrap();
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(server.tcp_addr().port().to_string())
        .arg(server.udp_addr().port().to_string())
        .arg("10")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "reference client failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The script prints one line per frame: "FRAME <sha256 hex> <len>"; every
    // frame the reference assembled must be one the server sent, byte for byte.
    use sha2::{Digest, Sha256};
    let sent: HashMap<String, usize> = server
        .sent_frames()
        .iter()
        .map(|f| (hex::encode(Sha256::digest(&f.data)), f.data.len()))
        .collect();
    let mut n = 0;
    for line in stdout.lines().filter(|l| l.starts_with("FRAME ")) {
        let mut it = line.split_whitespace().skip(1);
        let hash = it.next().unwrap();
        let len: usize = it.next().unwrap().parse().unwrap();
        assert_eq!(
            sent.get(hash),
            Some(&len),
            "frame {hash} not sent by the server"
        );
        n += 1;
    }
    assert!(n >= 10, "frames: {n}\n{stdout}\n{stderr}");
    assert!(stdout.contains("RUMBLE 50 60"), "{stdout}");
    assert!(stdout.contains("FORMAT video 640x360"), "{stdout}");
    let st = server.stats();
    assert!(st.session.input_frames_received >= 1, "{st:?}");
    assert!(st.session.rumble_sent >= 1, "{st:?}");
    server.stop();
}

#[test]
fn server_and_session_are_send() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Host>();
    send::<HostSession>();
}

#[test]
fn loopback_default_config_streams_h264_and_opus() {
    let mut server = Host::start(SimConfig::default()).unwrap();
    let mut c = MiniClient::connect(&server);
    c.udp_handshake_until_learned(&server);
    c.answer_opens();
    let b = c.peer.streamer(
        ChannelClass::Audio,
        StreamerBody::Audio(AudioPayload::ClientHandshake(AudioClientHandshake {
            initial_frame_id: 0,
            requested_format: AudioFormat {
                channels: 2,
                sample_rate: 48000,
                codec: AudioCodec::Opus,
                pcm: None,
            },
        })),
    );
    c.send(&b);
    let b = c.peer.streamer(
        ChannelClass::Audio,
        StreamerBody::Audio(AudioPayload::Control(AudioControl {
            flags: AUDIO_CONTROL_START_STREAM,
        })),
    );
    c.send(&b);
    c.start_video(7, 1280, 720, 60);
    let frames = c.receive_frames(3);
    assert!(frames.len() >= 3);
    assert!(xnano_sim::media::h264_nal_types(&frames[&7]).contains(&5));
    let end = Instant::now() + Duration::from_secs(5);
    while server.stats().session.audio_packets_sent < 5 && Instant::now() < end {
        std::thread::sleep(Duration::from_millis(20));
    }
    let st = server.stats();
    assert!(st.session.audio_packets_sent >= 5, "{st:?}");
    assert_eq!(st.media_errors, 0);
    server.stop();
}
