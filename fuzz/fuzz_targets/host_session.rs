//! The simulated console's session (sans-IO) driven by arbitrary TCP bytes,
//! UDP datagrams from two addresses, timeouts, media pushes and closes, plus
//! assisted client packets (SYN, channel open, format handshakes, stream
//! start, UDP handshake, controller events) to reach the streaming state.
//!
//! Invariants: every packet the console sends decodes with the class of its
//! channel; after a framing error no more TCP is fed (as the server does);
//! UDP goes only to the learned client address.
#![no_main]

use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use xnano_sim::media::EncodedFrame;
use xnano_sim::nano::{class_of_channel_id, HostConfig, HostSession};
use xnano_proto::wire::nano::audio::{
    AudioClientHandshake, AudioCodec, AudioControl, AudioFormat, AudioPayload,
};
use xnano_proto::wire::nano::control::{ControlMessage, ControlPayload, ControllerEvent, ControllerEventType};
use xnano_proto::wire::nano::framing::{encode_frame, TcpDeframer};
use xnano_proto::wire::nano::{
    ChannelControl, ControlHandshake, ControlHandshakeType, NanoPacket, NanoPayload, UdpHandshake,
};
use xnano_proto::wire::nano::rtp::{PayloadType, RtpHeader};
use xnano_proto::wire::nano::streamer::StreamerBody;
use xnano_proto::wire::nano::video::{
    VideoClientHandshake, VideoCodec, VideoControl, VideoFormat, VideoPayload,
};
use xnano_fuzz::{packet, streamer, tcp_packet, Clock, Input, CHANNEL_IDS};

const HOST_CONN: u16 = 0x4321;

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let mut clock = Clock::default();
    let cfg = HostConfig {
        seed: Some(1),
        connection_id: Some(HOST_CONN),
        chunk_size: usize::from(inp.u8()) * 8 + 8,
        reference_timestamp_ms: Some(1_600_000_000_000),
        telemetry_interval: Some(std::time::Duration::from_millis(100)),
        ..HostConfig::default()
    };
    let mut h = HostSession::new(cfg, clock.now());
    let addrs: [SocketAddr; 2] = [
        "127.0.0.1:5000".parse().unwrap(),
        "127.0.0.1:5001".parse().unwrap(),
    ];
    let mut tcp_dead = false;
    let mut out_deframer = TcpDeframer::default();
    let mut seq = 1u32;
    let mut index = 0u64;

    while !inp.is_empty() {
        let now = clock.now();
        let mut tcp_in: Option<Vec<u8>> = None;
        match inp.u8() % 16 {
            0 => tcp_in = Some(inp.blob(2048).to_vec()),
            1 => {
                let mut f = Vec::new();
                encode_frame(inp.blob(2048), &mut f);
                tcp_in = Some(f);
            }
            2 | 3 => {
                let b = inp.blob(1500);
                let from = addrs[usize::from(inp.u8() & 1)];
                h.handle_udp(b, from, now);
            }
            4 => {
                let t = clock.advance_ms(u64::from(inp.u16()));
                h.handle_timeout(t);
            }
            5 => {
                let t = clock.advance_ms(u64::from(inp.u8()));
                h.handle_timeout(t);
            }
            6 => {
                let hs = ControlHandshake {
                    handshake_type: ControlHandshakeType::from_raw(inp.u8() % 3),
                    connection_id: 0x1234,
                };
                tcp_in = Some(tcp_packet(0, NanoPayload::ControlHandshake(hs)));
            }
            7 => {
                let id = CHANNEL_IDS[usize::from(inp.u8() % 6)];
                let cc = match inp.u8() % 4 {
                    0 => ChannelControl::Close { flags: 0 },
                    _ => ChannelControl::Open { flags: Vec::new() },
                };
                tcp_in = Some(tcp_packet(id, NanoPayload::ChannelControl(cc)));
            }
            8 => {
                let fmt = VideoFormat {
                    fps: 60,
                    width: 1280,
                    height: 720,
                    codec: VideoCodec::H264,
                    rgb: None,
                };
                let body = match inp.u8() % 3 {
                    0 => VideoPayload::ClientHandshake(VideoClientHandshake {
                        initial_frame_id: inp.u32(),
                        requested_format: fmt,
                    }),
                    _ => VideoPayload::Control(VideoControl {
                        flags: u32::from(inp.u8()),
                        ..VideoControl::default()
                    }),
                };
                seq = seq.wrapping_add(1);
                tcp_in = Some(tcp_packet(
                    CHANNEL_IDS[0],
                    streamer(seq, StreamerBody::Video(body)),
                ));
            }
            9 => {
                let body = match inp.u8() % 2 {
                    0 => AudioPayload::ClientHandshake(AudioClientHandshake {
                        initial_frame_id: 0,
                        requested_format: AudioFormat {
                            channels: 2,
                            sample_rate: 48000,
                            codec: AudioCodec::Opus,
                            pcm: None,
                        },
                    }),
                    _ => AudioPayload::Control(AudioControl {
                        flags: u32::from(inp.u8()),
                    }),
                };
                seq = seq.wrapping_add(1);
                let id = CHANNEL_IDS[usize::from(inp.u8() % 3)];
                tcp_in = Some(tcp_packet(id, streamer(seq, StreamerBody::Audio(body))));
            }
            10 => {
                let ev = ControllerEvent {
                    event: ControllerEventType::from_raw(inp.u8() % 3),
                    controller_num: inp.u8() % 5,
                };
                let msg = ControlMessage::new(seq, 1, 1406, ControlPayload::ControllerEvent(ev));
                seq = seq.wrapping_add(1);
                tcp_in = Some(tcp_packet(
                    CHANNEL_IDS[3],
                    streamer(seq, StreamerBody::Control(msg)),
                ));
            }
            11 => {
                let conn = if inp.u8() == 0 { 9 } else { HOST_CONN };
                let p = NanoPacket {
                    header: RtpHeader {
                        payload_type: PayloadType::UDPHandshake,
                        connection_id: conn,
                        ..RtpHeader::default()
                    },
                    payload: NanoPayload::UdpHandshake(UdpHandshake { handshake_type: 1 }),
                };
                let from = addrs[usize::from(inp.u8() & 1)];
                h.handle_udp(&p.to_bytes(), from, now);
            }
            12 => {
                let len = usize::from(inp.u16() % 8000) + 1;
                let frame = EncodedFrame {
                    data: vec![index as u8; len],
                    keyframe: inp.bool(),
                    index,
                    pts_us: index * 16_666,
                };
                index += 1;
                h.push_video_frame(&frame, now);
            }
            13 => {
                h.push_audio_packet(inp.blob(400), now);
            }
            14 => {
                // A streamer datagram on a channel, body bytes from the fuzzer.
                let id = CHANNEL_IDS[usize::from(inp.u8() % 6)];
                let class = class_of_channel_id(id);
                let body = inp.blob(200);
                let msg = match xnano_proto::wire::nano::streamer::StreamerMessage::decode(body, class.as_ref())
                {
                    Ok(m) => m,
                    Err(_) => continue,
                };
                let from = addrs[usize::from(inp.u8() & 1)];
                h.handle_udp(
                    &packet(HOST_CONN, id, NanoPayload::Streamer(msg)),
                    from,
                    now,
                );
            }
            _ => match inp.u8() % 4 {
                0 => h.close(now),
                1 => {
                    h.handle_tcp_closed(now);
                    tcp_dead = true;
                }
                _ => {}
            },
        }
        if let Some(b) = tcp_in {
            if !tcp_dead {
                let cut = usize::from(inp.u8()) % (b.len() + 1);
                if h.handle_tcp(&b[..cut], now).is_err() || h.handle_tcp(&b[cut..], now).is_err() {
                    tcp_dead = true;
                }
            }
        }

        while let Some(b) = h.poll_tcp_transmit() {
            out_deframer.push(&b);
            while let Some(p) = out_deframer.next_packet().expect("host framing is valid") {
                let id = NanoPacket::decode(p, None)
                    .expect("decodes")
                    .header
                    .channel_id;
                NanoPacket::decode(p, class_of_channel_id(id))
                    .unwrap_or_else(|e| panic!("host sent an undecodable TCP packet: {e}"));
            }
        }
        while let Some((b, to)) = h.poll_udp_transmit() {
            assert_eq!(
                Some(to),
                h.client_udp_addr(),
                "UDP to an address not learned"
            );
            let id = NanoPacket::decode(&b, None)
                .expect("decodes")
                .header
                .channel_id;
            NanoPacket::decode(&b, class_of_channel_id(id))
                .unwrap_or_else(|e| panic!("host sent an undecodable datagram: {e}"));
        }
        while h.poll_event().is_some() {}
    }
});
