//! Property tests: for every Nano packet type, encode then decode gives the
//! value back; and no input makes the decoder panic.

use proptest::prelude::*;
use xnano_proto::wire::nano::audio::*;
use xnano_proto::wire::nano::control::*;
use xnano_proto::wire::nano::input::*;
use xnano_proto::wire::nano::rtp::{PayloadType, RtpHeader};
use xnano_proto::wire::nano::streamer::{StreamerBody, StreamerMessage};
use xnano_proto::wire::nano::streamer_header::StreamerHeader;
use xnano_proto::wire::nano::video::*;
use xnano_proto::wire::nano::*;

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn float() -> impl Strategy<Value = f32> {
    // NaN != NaN would defeat the equality check; every other value round-trips.
    any::<u32>()
        .prop_map(f32::from_bits)
        .prop_filter("not NaN", |f| !f.is_nan())
}

fn guid() -> impl Strategy<Value = [u8; 16]> {
    any::<[u8; 16]>()
}

// ---------------------------------------------------------------- video

fn video_format() -> impl Strategy<Value = VideoFormat> {
    (
        any::<(u32, u32, u32)>(),
        prop_oneof![Just(0u32), Just(1), Just(2), 3u32..],
        any::<(u32, u32, u64, u64, u64)>(),
    )
        .prop_map(|((fps, width, height), c, (bpp, by, r, g, b))| {
            let codec = VideoCodec::from_raw(c);
            VideoFormat {
                fps,
                width,
                height,
                codec,
                rgb: (codec == VideoCodec::RGB).then_some(RgbFormat {
                    bpp,
                    bytes: by,
                    red_mask: r,
                    green_mask: g,
                    blue_mask: b,
                }),
            }
        })
}

fn video_payload() -> impl Strategy<Value = VideoPayload> {
    prop_oneof![
        (
            any::<(u32, u32, u32, u32, u64)>(),
            proptest::collection::vec(video_format(), 0..5)
        )
            .prop_map(|((v, w, h, fps, ts), formats)| {
                VideoPayload::ServerHandshake(VideoServerHandshake {
                    protocol_version: v,
                    width: w,
                    height: h,
                    fps,
                    reference_timestamp: ts,
                    formats,
                })
            }),
        (any::<u32>(), video_format()).prop_map(|(id, f)| {
            VideoPayload::ClientHandshake(VideoClientHandshake {
                initial_frame_id: id,
                requested_format: f,
            })
        }),
        (
            any::<u32>(),
            proptest::option::of(any::<(u32, i64)>()),
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<(u32, u32)>())
        )
            .prop_map(|(flags, last, q, lost)| {
                let mut v = VideoControl {
                    flags,
                    last_displayed_frame: last.map(|(frame_id, timestamp)| LastDisplayedFrame {
                        frame_id,
                        timestamp,
                    }),
                    queue_depth: q,
                    lost_frames: lost.map(|(first, last)| LostFrames { first, last }),
                };
                v.flags = v.wire_flags();
                VideoPayload::Control(v)
            }),
        (any::<(u32, u32, u64, u32, u32, u32)>(), bytes(64)).prop_map(
            |((flags, frame_id, timestamp, total_size, packet_count, offset), data)| {
                VideoPayload::Data(VideoData {
                    flags,
                    frame_id,
                    timestamp,
                    total_size,
                    packet_count,
                    offset,
                    data,
                })
            }
        ),
    ]
}

// ---------------------------------------------------------------- audio

fn audio_format() -> impl Strategy<Value = AudioFormat> {
    (
        any::<(u32, u32)>(),
        prop_oneof![Just(0u32), Just(1), Just(2), 3u32..],
        any::<(u32, u32)>(),
    )
        .prop_map(|((channels, sample_rate), c, (bit_depth, sample_type))| {
            let codec = AudioCodec::from_raw(c);
            AudioFormat {
                channels,
                sample_rate,
                codec,
                pcm: (codec == AudioCodec::PCM).then_some(PcmFormat {
                    bit_depth,
                    sample_type,
                }),
            }
        })
}

fn audio_payload() -> impl Strategy<Value = AudioPayload> {
    prop_oneof![
        (
            any::<(u32, u64)>(),
            proptest::collection::vec(audio_format(), 0..5)
        )
            .prop_map(|((v, ts), formats)| {
                AudioPayload::ServerHandshake(AudioServerHandshake {
                    protocol_version: v,
                    reference_timestamp: ts,
                    formats,
                })
            }),
        (any::<u32>(), audio_format()).prop_map(|(id, f)| {
            AudioPayload::ClientHandshake(AudioClientHandshake {
                initial_frame_id: id,
                requested_format: f,
            })
        }),
        any::<u32>().prop_map(|flags| AudioPayload::Control(AudioControl { flags })),
        (any::<(u32, u32, u64)>(), bytes(64)).prop_map(|((flags, frame_id, timestamp), data)| {
            AudioPayload::Data(AudioData {
                flags,
                frame_id,
                timestamp,
                data,
            })
        }),
    ]
}

// ---------------------------------------------------------------- input

fn input_analog() -> impl Strategy<Value = InputAnalog> {
    (
        any::<(u8, u8, i16, i16, i16, i16)>(),
        any::<(u8, u8, u8, u8)>(),
    )
        .prop_map(|((lt, rt, lx, ly, rx, ry), (a, b, c, d))| InputAnalog {
            left_trigger: lt,
            right_trigger: rt,
            left_thumb_x: lx,
            left_thumb_y: ly,
            right_thumb_x: rx,
            right_thumb_y: ry,
            rumble_trigger_l: a,
            rumble_trigger_r: b,
            rumble_handle_l: c,
            rumble_handle_r: d,
        })
}

fn input_payload() -> impl Strategy<Value = InputPayload> {
    prop_oneof![
        any::<(u32, u32, u32, u32, u32)>().prop_map(|(a, b, c, d, e)| {
            InputPayload::ServerHandshake(InputServerHandshake {
                protocol_version: a,
                desktop_width: b,
                desktop_height: c,
                max_touches: d,
                initial_frame_id: e,
            })
        }),
        any::<(u32, u64)>().prop_map(|(m, ts)| {
            InputPayload::ClientHandshake(InputClientHandshake {
                max_touches: m,
                reference_timestamp: ts,
            })
        }),
        any::<u32>().prop_map(|a| InputPayload::FrameAck(FrameAck { acked_frame: a })),
        (
            any::<(u32, u64, u64)>(),
            any::<[u8; 16]>(),
            input_analog(),
            proptest::option::of(any::<[u8; 9]>())
        )
            .prop_map(|((frame_id, timestamp, created_ts), b, analog, ext)| {
                InputPayload::Frame(InputFrame {
                    frame_id,
                    timestamp,
                    created_ts,
                    buttons: InputButtons::from_bytes(b),
                    analog,
                    extension: ext.map(InputExtension::from_bytes),
                })
            }),
    ]
}

// ---------------------------------------------------------------- control

fn control_payload() -> impl Strategy<Value = ControlPayload> {
    prop_oneof![
        bytes(32).prop_map(|b| ControlPayload::SessionInit(SessionInit { unk3: b })),
        (guid(), bytes(32)).prop_map(|(guid, unk3)| {
            ControlPayload::SessionCreate(SessionCreate { guid, unk3 })
        }),
        guid().prop_map(|guid| {
            ControlPayload::SessionCreateResponse(SessionCreateResponse { guid })
        }),
        (float(), bytes(32)).prop_map(|(unk3, unk5)| {
            ControlPayload::SessionDestroy(SessionDestroy { unk3, unk5 })
        }),
        proptest::array::uniform6(float()).prop_map(|f| {
            ControlPayload::VideoStatistics(VideoStatistics {
                unk3: f[0],
                unk4: f[1],
                unk5: f[2],
                unk6: f[3],
                unk7: f[4],
                unk8: f[5],
            })
        }),
        proptest::collection::vec(any::<(u16, u64)>(), 0..8).prop_map(|d| {
            ControlPayload::RealtimeTelemetry(RealtimeTelemetry {
                data: d
                    .into_iter()
                    .map(|(key, value)| TelemetryField { key, value })
                    .collect(),
            })
        }),
        any::<[u32; 6]>().prop_map(|u| {
            ControlPayload::ChangeVideoQuality(ChangeVideoQuality {
                unk3: u[0],
                unk4: u[1],
                unk5: u[2],
                unk6: u[3],
                unk7: u[4],
                unk8: u[5],
            })
        }),
        guid().prop_map(|guid| ControlPayload::InitiateNetworkTest(InitiateNetworkTest { guid })),
        (guid(), any::<(u64, u8)>(), float()).prop_map(|(guid, (unk4, unk5), unk6)| {
            ControlPayload::NetworkInformation(NetworkInformation {
                guid,
                unk4,
                unk5,
                unk6,
            })
        }),
        (
            guid(),
            proptest::array::uniform5(float()),
            any::<(u64, u64)>(),
            float()
        )
            .prop_map(|(guid, f, (unk8, unk9), unk10)| {
                ControlPayload::NetworkTestResponse(NetworkTestResponse {
                    guid,
                    unk3: f[0],
                    unk4: f[1],
                    unk5: f[2],
                    unk6: f[3],
                    unk7: f[4],
                    unk8,
                    unk9,
                    unk10,
                })
            }),
        any::<(u8, u8)>().prop_map(|(e, n)| {
            ControlPayload::ControllerEvent(ControllerEvent {
                event: ControllerEventType::from_raw(e),
                controller_num: n,
            })
        }),
    ]
}

fn control_message() -> impl Strategy<Value = ControlMessage> {
    let typed = (any::<(u32, u16, u16)>(), control_payload())
        .prop_map(|((p, u1, u2), payload)| ControlMessage::new(p, u1, u2, payload));
    let unknown = (
        any::<(u32, u16, u16)>(),
        prop_oneof![Just(0u16), 12u16..],
        bytes(32),
    )
        .prop_map(|((p, u1, u2), op, b)| ControlMessage {
            header: ControlHeader {
                prev_seq_dup: p,
                unk1: u1,
                unk2: u2,
                opcode: ControlOpcode::from_raw(op),
            },
            payload: ControlPayload::Unknown(b),
        });
    prop_oneof![typed, unknown]
}

// ---------------------------------------------------------------- packets

/// A streamer body with the class it must be decoded with, and the header
/// type to use for raw bodies.
fn streamer_body() -> impl Strategy<Value = (Option<ChannelClass>, u32, StreamerBody)> {
    prop_oneof![
        video_payload().prop_map(|p| (Some(ChannelClass::Video), 0, StreamerBody::Video(p))),
        (audio_payload(), any::<bool>()).prop_map(|(p, chat)| {
            let c = if chat {
                ChannelClass::ChatAudio
            } else {
                ChannelClass::Audio
            };
            (Some(c), 0, StreamerBody::Audio(p))
        }),
        (input_payload(), any::<bool>()).prop_map(|(p, fb)| {
            let c = if fb {
                ChannelClass::InputFeedback
            } else {
                ChannelClass::Input
            };
            (Some(c), 0, StreamerBody::Input(p))
        }),
        control_message().prop_map(|m| (Some(ChannelClass::Control), 0, StreamerBody::Control(m))),
        // Unknown class, or no class: any type, raw bytes.
        (any::<u32>(), bytes(48), any::<bool>()).prop_map(|(t, b, tcp)| {
            let c = tcp.then_some(ChannelClass::TcpBase);
            (c, t, StreamerBody::Raw(b))
        }),
        // Known class, unknown type: raw bytes.
        (5u32.., bytes(48)).prop_map(|(t, b)| (Some(ChannelClass::Video), t, StreamerBody::Raw(b))),
        (1u32.., bytes(48)).prop_map(|(t, b)| (
            Some(ChannelClass::Control),
            t,
            StreamerBody::Raw(b)
        )),
    ]
}

fn channel_class() -> impl Strategy<Value = ChannelClass> {
    prop_oneof![
        proptest::sample::select(ChannelClass::ALL.to_vec()),
        "[A-Za-z: ]{0,48}".prop_map(|s| ChannelClass::from_wire_name(&s)),
    ]
}

fn channel_control() -> impl Strategy<Value = ChannelControl> {
    prop_oneof![
        (channel_class(), any::<u32>())
            .prop_map(|(name, flags)| ChannelControl::Create { name, flags }),
        bytes(16).prop_map(|flags| ChannelControl::Open { flags }),
        any::<u32>().prop_map(|flags| ChannelControl::Close { flags }),
        (prop_oneof![0u32..2, 5u32..], bytes(16)).prop_map(|(t, data)| {
            ChannelControl::Unknown {
                control_type: t,
                data,
            }
        }),
    ]
}

/// A payload, the class to decode it with, and its RTP payload type.
fn payload() -> impl Strategy<Value = (NanoPayload, Option<ChannelClass>, PayloadType)> {
    let streamer = (
        any::<u32>(),
        proptest::option::of(any::<(u32, u32)>()),
        streamer_body(),
    )
        .prop_map(|(flags, seq, (class, raw_type, body))| {
            let mut m = StreamerMessage::new(flags, seq, body);
            if matches!(m.body, StreamerBody::Raw(_)) {
                m.header.payload_type = raw_type;
            }
            // The encoder sets the sequence bit from the sequence numbers.
            m.header.flags = (flags & !1) | u32::from(seq.is_some());
            (NanoPayload::Streamer(m), class, PayloadType::Streamer)
        });
    prop_oneof![
        any::<(u8, u16)>().prop_map(|(t, id)| {
            (
                NanoPayload::ControlHandshake(ControlHandshake {
                    handshake_type: ControlHandshakeType::from_raw(t),
                    connection_id: id,
                }),
                None,
                PayloadType::Control,
            )
        }),
        channel_control().prop_map(|c| (
            NanoPayload::ChannelControl(c),
            None,
            PayloadType::ChannelControl
        )),
        any::<u8>().prop_map(|t| {
            (
                NanoPayload::UdpHandshake(UdpHandshake { handshake_type: t }),
                None,
                PayloadType::UDPHandshake,
            )
        }),
        streamer,
        (
            (0u8..0x80).prop_filter("unknown payload type", |t| {
                matches!(PayloadType::from_raw(*t), PayloadType::Unknown(_))
            }),
            bytes(32)
        )
            .prop_map(|(t, b)| (NanoPayload::Unknown(b), None, PayloadType::from_raw(t))),
    ]
}

fn packet() -> impl Strategy<Value = (NanoPacket, Option<ChannelClass>)> {
    (
        (0u8..4, any::<bool>(), any::<bool>()),
        any::<(u16, u32, u16, u16)>(),
        proptest::collection::vec(any::<u32>(), 0..16),
        payload(),
    )
        .prop_map(
            |((version, extension, marker), (seq, ts, conn, chan), csrc, (payload, class, pt))| {
                let mut unpadded = Vec::new();
                payload.encode(&mut unpadded);
                let header = RtpHeader {
                    version,
                    padding: unpadded.len() % 4 != 0,
                    extension,
                    csrc_count: csrc.len() as u8,
                    marker,
                    payload_type: pt,
                    sequence_num: seq,
                    timestamp: ts,
                    connection_id: conn,
                    channel_id: chan,
                    csrc_list: csrc,
                };
                (NanoPacket { header, payload }, class)
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn packet_round_trips((pkt, class) in packet()) {
        let bytes = pkt.to_bytes();
        let hdr_len = 12 + 4 * pkt.header.csrc_list.len();
        prop_assert_eq!((bytes.len() - hdr_len) % 4, 0, "payload padded to 4 bytes");
        let back = NanoPacket::decode(&bytes, class.clone());
        prop_assert!(back.is_ok(), "decode failed: {:?}", back);
        let back = back.unwrap();
        prop_assert_eq!(&back, &pkt);
        prop_assert_eq!(back.to_bytes(), bytes);
    }

    #[test]
    fn streamer_header_round_trips(flags in any::<u32>(), seq in proptest::option::of(any::<(u32, u32)>()), ty in any::<u32>()) {
        let h = StreamerHeader {
            flags: (flags & !1) | u32::from(seq.is_some()),
            sequence_num: seq.map(|s| s.0),
            prev_sequence_num: seq.map(|s| s.1),
            payload_type: ty,
        };
        let mut out = Vec::new();
        h.encode_with(ty, &mut out);
        let mut r = xnano_proto::wire::Reader::new(&out, "t");
        prop_assert_eq!(StreamerHeader::decode(&mut r).unwrap(), h);
        prop_assert!(r.is_empty());
    }

    #[test]
    fn decoder_never_panics(buf in bytes(200), class in proptest::option::of(channel_class())) {
        let _ = NanoPacket::decode(&buf, class);
        let _ = parse_udp_video_data(&buf);
    }

    #[test]
    fn mutated_packets_never_panic((pkt, class) in packet(), idx in any::<usize>(), val in any::<u8>()) {
        let mut bytes = pkt.to_bytes();
        let i = idx % bytes.len();
        bytes[i] = val;
        let _ = NanoPacket::decode(&bytes, class);
    }
}
