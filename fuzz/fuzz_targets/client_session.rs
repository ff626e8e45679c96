//! The Nano client session (sans-IO) driven by an arbitrary interleaving of
//! TCP bytes, UDP datagrams, timeouts with an advancing clock and user
//! commands. Besides raw bytes, "assisted" operations build well-formed
//! packets from a few fuzz bytes (handshake ACK, channel create/open/close,
//! format handshakes, video chunks of test frames) so that deep states are
//! reached quickly.
//!
//! Invariants: every packet the client sends decodes; no event follows
//! `Closed`; video frames and loss reports come in increasing id order
//! (within one video handshake), never exceed the frame cap, and when only
//! assisted chunks carried video, are uncorrupted; right after
//! `handle_timeout(now)` the next deadline is after `now`.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;
use xnano_proto::nano::reassembly::ReassemblyConfig;
use xnano_proto::nano::{ClientConfig, ClientEvent, ClientSession, ControllerState};
use xnano_proto::wire::nano::audio::{AudioCodec, AudioFormat, AudioPayload, AudioServerHandshake};
use xnano_proto::wire::nano::framing::{encode_frame, TcpDeframer};
use xnano_proto::wire::nano::input::{InputPayload, InputServerHandshake};
use xnano_proto::wire::nano::{
    ChannelClass, ChannelControl, ControlHandshake, ControlHandshakeType, NanoPacket, NanoPayload,
};
use xnano_proto::wire::nano::streamer::StreamerBody;
use xnano_proto::wire::nano::video::{
    parse_udp_video_data, VideoCodec, VideoDataRef, VideoFormat, VideoPayload, VideoServerHandshake,
};
use xnano_fuzz::{after, byte_at, packet, streamer, tcp_packet, Clock, Input, CHANNEL_IDS};

const HOST_CONN: u16 = 0x4321;
const MAX_FRAME: usize = 64 * 1024;

fn class_of(k: u8) -> ChannelClass {
    match k % 7 {
        0 => ChannelClass::Video,
        1 => ChannelClass::Audio,
        2 => ChannelClass::ChatAudio,
        3 => ChannelClass::Control,
        4 => ChannelClass::Input,
        5 => ChannelClass::InputFeedback,
        _ => ChannelClass::Unknown("x".into()),
    }
}

fn video_chunk(inp: &mut Input, conn: u16, channel: u16, cursor: u32) -> Vec<u8> {
    let frame_id = cursor.wrapping_add(u32::from(inp.u8() % 8));
    let total = usize::from(inp.u16() % 6000) + 1;
    let chunk = usize::from(inp.u8() % 8) * 200 + 200;
    let n = total.div_ceil(chunk);
    let i = usize::from(inp.u8()) % n;
    let off = i * chunk;
    let end = (off + chunk).min(total);
    let data: Vec<u8> = (off..end).map(|p| byte_at(frame_id, p)).collect();
    let flags = 0x04 | if inp.bool() { 0x02 } else { 0 };
    let d = VideoDataRef {
        flags,
        frame_id,
        timestamp: 0,
        total_size: total as u32,
        packet_count: n as u32,
        offset: off as u32,
        data: &data,
    };
    let body = StreamerBody::Video(VideoPayload::Data(d.to_owned()));
    let msg = xnano_proto::wire::nano::streamer::StreamerMessage::new(0, None, body);
    packet(conn, channel, NanoPayload::Streamer(msg))
}

fn is_video_data(p: &Result<NanoPacket, xnano_proto::wire::WireError>) -> bool {
    matches!(p, Ok(NanoPacket { payload: NanoPayload::Streamer(m), .. })
        if matches!(m.body, StreamerBody::Video(VideoPayload::Data(_))))
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let mut clock = Clock::default();
    let first_frame = u32::from(inp.u8());
    let cfg = ClientConfig {
        connection_id: Some(0x1234),
        initial_video_frame_id: Some(first_frame),
        wall_clock_ms: Some(1_600_000_000_000),
        reassembly: ReassemblyConfig {
            max_frames_in_flight: 16,
            max_frame_size: MAX_FRAME,
            max_chunks_per_frame: 64,
            max_total_bytes: 256 * 1024,
            ..ReassemblyConfig::default()
        },
        ..ClientConfig::default()
    };
    let mut s = ClientSession::new(cfg, clock.now());
    // What the client learned, mirrored to decode its own output.
    let mut classes: HashMap<u16, ChannelClass> = HashMap::new();
    let mut out_deframer = TcpDeframer::default();
    let mut in_deframer = TcpDeframer::default();
    let mut in_ok = true;
    let mut closed = false;
    let mut last_frame: Option<u32> = None;
    let mut tainted = false;
    let mut seq = 1u32;
    let mut cursor = first_frame;

    while !inp.is_empty() {
        let now = clock.now();
        let op = inp.u8() % 16;
        let mut tcp_in: Vec<Vec<u8>> = Vec::new();
        let timed_out = matches!(op, 4..=6);
        match op {
            0 => {
                let b = inp.blob(2048);
                tainted = true; // raw bytes may carry video chunks
                tcp_in.push(b.to_vec());
            }
            1 => {
                let b = inp.blob(2048);
                let class = classes.get(&u16::from_be_bytes([
                    b.get(10).copied().unwrap_or(0),
                    b.get(11).copied().unwrap_or(0),
                ]));
                if is_video_data(&NanoPacket::decode(b, class.cloned())) {
                    tainted = true;
                }
                let mut f = Vec::new();
                encode_frame(b, &mut f);
                // Split the frame at a fuzz-chosen point.
                let cut = usize::from(inp.u8()) % (f.len() + 1);
                tcp_in.push(f[..cut].to_vec());
                tcp_in.push(f[cut..].to_vec());
            }
            2 | 3 => {
                let b = inp.blob(1500);
                if parse_udp_video_data(b).is_ok() {
                    tainted = true;
                }
                s.handle_udp(b, now);
            }
            4 => {
                let t = clock.advance_ms(u64::from(inp.u16()));
                s.handle_timeout(t);
            }
            5 | 6 => {
                let t = clock.advance_ms(u64::from(inp.u8() % 32));
                s.handle_timeout(t);
            }
            7 => {
                let kind = inp.u8();
                let hs = ControlHandshake {
                    handshake_type: ControlHandshakeType::from_raw(kind & 1),
                    connection_id: HOST_CONN,
                };
                tcp_in.push(tcp_packet(0, NanoPayload::ControlHandshake(hs)));
            }
            8 => {
                let k = inp.u8();
                let id = CHANNEL_IDS[usize::from(k % 6)].wrapping_add(u16::from(k >> 6));
                let class = class_of(inp.u8());
                let cc = ChannelControl::Create {
                    name: class,
                    flags: 0,
                };
                tcp_in.push(tcp_packet(id, NanoPayload::ChannelControl(cc)));
            }
            9 => {
                let id = CHANNEL_IDS[usize::from(inp.u8() % 6)];
                let cc = if inp.u8() % 4 == 0 {
                    ChannelControl::Close { flags: 0 }
                } else {
                    ChannelControl::Open {
                        flags: inp.blob(8).to_vec(),
                    }
                };
                tcp_in.push(tcp_packet(id, NanoPayload::ChannelControl(cc)));
            }
            10 => {
                let id = CHANNEL_IDS[usize::from(inp.u8() % 6)];
                let body = match inp.u8() % 3 {
                    0 => StreamerBody::Video(VideoPayload::ServerHandshake(VideoServerHandshake {
                        protocol_version: 5,
                        width: 1280,
                        height: 720,
                        fps: 60,
                        reference_timestamp: 0,
                        formats: vec![VideoFormat {
                            fps: 60,
                            width: 1280,
                            height: 720,
                            codec: VideoCodec::H264,
                            rgb: None,
                        }],
                    })),
                    1 => StreamerBody::Audio(AudioPayload::ServerHandshake(AudioServerHandshake {
                        protocol_version: 4,
                        reference_timestamp: 0,
                        formats: vec![AudioFormat {
                            channels: 2,
                            sample_rate: 48000,
                            codec: AudioCodec::Opus,
                            pcm: None,
                        }],
                    })),
                    _ => StreamerBody::Input(InputPayload::ServerHandshake(InputServerHandshake {
                        protocol_version: 3,
                        desktop_width: 1280,
                        desktop_height: 720,
                        max_touches: 0,
                        initial_frame_id: 5,
                    })),
                };
                seq = seq.wrapping_add(1);
                tcp_in.push(tcp_packet(id, streamer(seq, body)));
            }
            11..=13 => {
                let conn = if inp.u8() == 0 { 7 } else { HOST_CONN };
                let chunk = video_chunk(&mut inp, conn, CHANNEL_IDS[0], cursor);
                if inp.u8() % 8 == 0 {
                    cursor = cursor.wrapping_add(1);
                }
                s.handle_udp(&chunk, now);
            }
            14 => {
                let n = inp.u8();
                let r = match n % 6 {
                    0 => s.set_controller_state(
                        n >> 4,
                        ControllerState {
                            buttons: inp.u16(),
                            left_trigger: inp.u8(),
                            ..ControllerState::default()
                        },
                        now,
                    ),
                    1 => s.set_controller_connected(n >> 4, inp.bool(), now),
                    2 => s.request_keyframe(now),
                    3 => s.change_video_quality([1, 2, 3, 4, 5, 6]),
                    4 => s.send_chat_audio(inp.blob(64), now),
                    _ => {
                        s.stop(now);
                        Ok(())
                    }
                };
                let _ = r;
            }
            _ => {
                let b = inp.blob(64);
                if parse_udp_video_data(b).is_ok() {
                    tainted = true;
                }
                s.handle_udp(b, now);
            }
        }

        // Feed the TCP bytes, and mirror the channel classes the client
        // learns from the same stream (to decode what it sends; a class
        // replaced in this step may still apply to what it sent before).
        let mut replaced: Vec<(u16, ChannelClass)> = Vec::new();
        for b in tcp_in {
            s.handle_tcp(&b, now);
            if in_ok {
                in_deframer.push(&b);
                loop {
                    match in_deframer.next_packet() {
                        Ok(Some(p)) => {
                            if let Ok(NanoPacket {
                                header,
                                payload:
                                    NanoPayload::ChannelControl(ChannelControl::Create { name, .. }),
                            }) = NanoPacket::decode(p, None)
                            {
                                let id = header.channel_id;
                                if let Some(old) = classes.insert(id, name) {
                                    replaced.push((id, old));
                                }
                            }
                        }
                        Ok(None) => break,
                        Err(_) => {
                            in_ok = false;
                            break;
                        }
                    }
                }
            }
        }

        // Everything the client sends decodes.
        while let Some(b) = s.poll_tcp_transmit() {
            out_deframer.push(&b);
            while let Some(p) = out_deframer.next_packet().expect("client framing is valid") {
                let id = NanoPacket::decode(p, None)
                    .unwrap_or_else(|e| panic!("client sent an undecodable TCP packet: {e}"))
                    .header
                    .channel_id;
                let mut candidates = vec![classes.get(&id).cloned()];
                candidates.extend(
                    replaced
                        .iter()
                        .filter(|r| r.0 == id)
                        .map(|r| Some(r.1.clone())),
                );
                let results: Vec<_> = candidates
                    .into_iter()
                    .map(|c| NanoPacket::decode(p, c))
                    .collect();
                if results.iter().all(|r| r.is_err()) {
                    panic!("client sent an undecodable TCP packet: {:?}", results[0]);
                }
            }
        }
        while let Some(b) = s.poll_udp_transmit() {
            NanoPacket::decode(&b, None)
                .unwrap_or_else(|e| panic!("client sent an undecodable datagram: {e}"));
            s.recycle_udp(b);
        }
        while let Some(ev) = s.poll_event() {
            assert!(!closed, "event after Closed: {ev:?}");
            match ev {
                ClientEvent::Closed(_) => closed = true,
                // A new video handshake starts a new stream at its initial
                // frame id: ordering restarts.
                ClientEvent::VideoFormat(_) => last_frame = None,
                ClientEvent::VideoFrame(f) => {
                    if let Some(l) = last_frame {
                        assert!(after(l, f.frame_id), "frame {} after {l}", f.frame_id);
                    }
                    last_frame = Some(f.frame_id);
                    assert!(f.data.len() <= MAX_FRAME);
                    if !tainted {
                        for (i, b) in f.data.iter().enumerate() {
                            assert_eq!(*b, byte_at(f.frame_id, i), "frame {} corrupt", f.frame_id);
                        }
                    }
                    s.recycle_frame(f.data);
                }
                ClientEvent::FramesLost { first, last } => {
                    if let Some(l) = last_frame {
                        assert!(after(l, first), "loss {first}..={last} after frame {l}");
                    }
                    last_frame = Some(last);
                }
                _ => {}
            }
        }
        assert_eq!(s.is_closed(), closed);
        if timed_out {
            // Right after handle_timeout(now) the next deadline lies in the
            // future; otherwise the engine's timer thread would spin.
            if let Some(t) = s.poll_timeout() {
                assert!(
                    t > clock.now(),
                    "deadline {:?} not after now: {s:#?}",
                    clock.now() - t
                );
            }
        }
    }
});
