//! Every captured Nano packet: decode, compare with the reference decode
//! (`expected/NAME.json`) field by field, re-encode byte for byte; and
//! malformed input (truncation, hostile counts, bad padding).

mod common;

use serde_json::{json, Map, Value};
use xnano_proto::wire::nano::framing;
use xnano_proto::wire::nano::streamer::StreamerBody;
use xnano_proto::wire::nano::video::{self, VideoPayload};
use xnano_proto::wire::nano::{ChannelClass, NanoPacket, NanoPayload};
use xnano_proto::wire::WireError;

/// Channel ids of the captures (vectors README).
fn class_of(channel_id: u16) -> Option<ChannelClass> {
    Some(match channel_id {
        1024 => ChannelClass::Video,
        1025 => ChannelClass::Audio,
        1026 => ChannelClass::ChatAudio,
        1027 => ChannelClass::Control,
        1028 => ChannelClass::Input,
        1029 => ChannelClass::InputFeedback,
        _ => return None,
    })
}

/// The one vector that keeps its 4-byte TCP length prefix (vectors README).
const PREFIXED: &str = "tcp_control_msg_with_header_change_video_quality";

/// The packet bytes of a vector, without any TCP length prefix.
fn packet_bytes(name: &str) -> Vec<u8> {
    let raw = common::read_vector(&format!("nano/packets/{name}"));
    if name == PREFIXED {
        let parts = framing::split_all(&raw).expect("length prefix");
        assert_eq!(parts.len(), 1, "{name}: one framed packet");
        parts[0].to_vec()
    } else {
        raw
    }
}

// ---------------------------------------------------------------- normaliser
//
// Maps our serialization onto the reference's shape. Every field of ours is
// taken out of its object with `take`, and `done` asserts nothing was left
// behind, so no field can be silently dropped; the result is then compared
// with the expected JSON as a whole.

fn obj(v: Value, what: &str) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("{what}: expected an object, got {other}"),
    }
}

fn take(m: &mut Map<String, Value>, key: &str) -> Value {
    m.remove(key)
        .unwrap_or_else(|| panic!("our JSON lacks field {key:?} (has {:?})", m.keys()))
}

fn done(m: Map<String, Value>, what: &str) {
    assert!(m.is_empty(), "{what}: fields not mapped: {:?}", m.keys());
}

/// `{"Variant": inner}` -> ("Variant", inner).
fn variant(v: Value, what: &str) -> (String, Value) {
    let m = obj(v, what);
    assert_eq!(m.len(), 1, "{what}: externally tagged enum");
    m.into_iter().next().unwrap()
}

fn enum_value(name: &str, value: u64) -> Value {
    json!({"name": name, "value": value})
}

fn bits(flags: &Value, known: u64, what: &str) -> u64 {
    let f = flags
        .as_u64()
        .unwrap_or_else(|| panic!("{what}: flags not a number"));
    // The reference drops the other bits; none may be set in the captures.
    assert_eq!(f & !known, 0, "{what}: bits the reference cannot show");
    f
}

fn normalise_body_fields(mut m: Map<String, Value>, class: &str, kind: &str) -> Value {
    if let Some(ts) = m.remove("reference_timestamp") {
        m.insert(
            "reference_timestamp".into(),
            json!({ "ms_since_epoch": ts }),
        );
    }
    match (class, kind) {
        ("Video", "Control") => {
            let f = bits(&take(&mut m, "flags"), 0x3f, "video control");
            m.insert(
                "flags".into(),
                json!({
                    "request_keyframe": f & 0x20 != 0,
                    "start_stream": f & 0x10 != 0,
                    "stop_stream": f & 0x08 != 0,
                    "queue_depth": f & 0x04 != 0,
                    "lost_frames": f & 0x02 != 0,
                    "last_displayed_frame": f & 0x01 != 0,
                }),
            );
        }
        ("Audio", "Control") => {
            let f = bits(&take(&mut m, "flags"), 0x58, "audio control");
            m.insert(
                "flags".into(),
                json!({
                    "reinitialize": f & 0x40 != 0,
                    "start_stream": f & 0x10 != 0,
                    "stop_stream": f & 0x08 != 0,
                }),
            );
        }
        _ => {}
    }
    Value::Object(m)
}

/// Returns (reference `streamer.type`, reference `payload`).
fn normalise_streamer_body(body: Value, ty: &Value) -> (Value, Value) {
    let (class, inner) = variant(body, "streamer body");
    let ty_num = ty.as_u64().expect("streamer type");
    match class.as_str() {
        "Control" => {
            let mut m = obj(inner, "control message");
            let mut h = obj(take(&mut m, "header"), "control header");
            let (kind, payload) = variant(take(&mut m, "payload"), "control payload");
            done(m, "control message");
            let opcode = take(&mut h, "opcode");
            assert_eq!(opcode["name"], Value::String(kind), "opcode vs payload");
            let out = json!({
                "prev_seq_dup": take(&mut h, "prev_seq_dup"),
                "unk1": take(&mut h, "unk1"),
                "unk2": take(&mut h, "unk2"),
                "opcode": opcode,
                "payload": payload,
            });
            done(h, "control header");
            // The reference shows the control channel's type as a plain 0.
            (ty.clone(), out)
        }
        "Video" | "Audio" | "Input" => {
            let (kind, fields) = variant(inner, "channel payload");
            let out = normalise_body_fields(obj(fields, &kind), &class, &kind);
            (enum_value(&kind, ty_num), out)
        }
        other => panic!("streamer body {other} not decoded to a typed payload"),
    }
}

fn to_reference(ours: Value) -> Value {
    let mut top = obj(ours, "packet");
    let mut h = obj(take(&mut top, "header"), "rtp header");
    let mut header = json!({
        "csrc_list": take(&mut h, "csrc_list"),
        "flags": {
            "csrc_count": take(&mut h, "csrc_count"),
            "extension": take(&mut h, "extension"),
            "marker": take(&mut h, "marker"),
            "padding": take(&mut h, "padding"),
            "payload_type": take(&mut h, "payload_type"),
            "version": take(&mut h, "version"),
        },
        "sequence_num": take(&mut h, "sequence_num"),
        "ssrc": {
            "channel_id": take(&mut h, "channel_id"),
            "connection_id": take(&mut h, "connection_id"),
        },
        "timestamp": take(&mut h, "timestamp"),
        "streamer": Value::Null,
    });
    done(h, "rtp header");

    let (kind, inner) = variant(take(&mut top, "payload"), "payload");
    done(top, "packet");
    let payload = match kind.as_str() {
        "ControlHandshake" => {
            let mut m = obj(inner, "control handshake");
            let mut t = take(&mut m, "type");
            let name = match t["name"].as_str() {
                Some("Syn") => "ClientHandshake",
                Some("Ack") => "ServerHandshake",
                other => panic!("handshake type {other:?}"),
            };
            t["name"] = name.into();
            let out = json!({"type": t, "connection_id": take(&mut m, "connection_id")});
            done(m, "control handshake");
            out
        }
        "ChannelControl" => {
            let (cc, fields) = variant(inner, "channel control");
            let mut m = obj(fields, "channel control");
            let (tname, tval) = match cc.as_str() {
                "Create" => ("ChannelCreate", 2),
                "Open" => ("ChannelOpen", 3),
                "Close" => ("ChannelClose", 4),
                other => panic!("channel control {other}"),
            };
            let name = m.remove("name").unwrap_or(Value::Null);
            let out = json!({
                "type": enum_value(tname, tval),
                "name": name,
                "flags": take(&mut m, "flags"),
            });
            done(m, "channel control");
            out
        }
        "UdpHandshake" => {
            let mut m = obj(inner, "udp handshake");
            let out = json!({"unk": take(&mut m, "type")});
            done(m, "udp handshake");
            out
        }
        "Streamer" => {
            let mut m = obj(inner, "streamer");
            let mut sh = obj(take(&mut m, "header"), "streamer header");
            let ty = take(&mut sh, "type");
            let (ref_ty, payload) = normalise_streamer_body(take(&mut m, "body"), &ty);
            done(m, "streamer");
            header["streamer"] = json!({
                "streamer_version": take(&mut sh, "flags"),
                "sequence_num": take(&mut sh, "sequence_num"),
                "prev_sequence_num": take(&mut sh, "prev_sequence_num"),
                "type": ref_ty,
            });
            done(sh, "streamer header");
            payload
        }
        other => panic!("payload {other} not decoded"),
    };
    json!({"header": header, "payload": payload})
}

// ---------------------------------------------------------------- tests

/// The vectors tested below; must equal the directory listing.
const VECTORS: &[&str] = &[
    "tcp_audio_client_handshake",
    "tcp_audio_control",
    "tcp_audio_server_handshake",
    "tcp_channel_close",
    "tcp_channel_create",
    "tcp_channel_open_no_flags",
    "tcp_channel_open_with_flags",
    "tcp_control_handshake",
    "tcp_control_msg_with_header",
    "tcp_control_msg_with_header_change_video_quality",
    "tcp_input_client_handshake",
    "tcp_input_server_handshake",
    "tcp_video_client_handshake",
    "tcp_video_control",
    "tcp_video_server_handshake",
    "udp_audio_data",
    "udp_handshake",
    "udp_input_frame",
    "udp_input_frame_ack",
    "udp_video_data",
];

#[test]
fn every_vector_is_tested() {
    let on_disk = common::list_vectors("nano/packets");
    let tested: Vec<String> = VECTORS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        on_disk, tested,
        "vectors/nano/packets changed: update VECTORS"
    );
    let expected: Vec<String> = common::list_vectors("nano/expected")
        .into_iter()
        .map(|n| n.trim_end_matches(".json").to_owned())
        .collect();
    assert_eq!(expected, tested, "every packet has an expected decode");
}

#[test]
fn vectors_decode_like_the_reference_and_reencode_exactly() {
    for name in VECTORS {
        let bytes = packet_bytes(name);
        let pkt = NanoPacket::decode_with(&bytes, class_of)
            .unwrap_or_else(|e| panic!("{name}: decode failed: {e}"));
        let ours = serde_json::to_value(&pkt).unwrap();
        let got = to_reference(ours);
        let want = common::read_expected(&format!("nano/expected/{name}.json"));
        assert_eq!(
            got,
            want,
            "{name}: decode differs from the reference\nours: {}\nref:  {}",
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&want).unwrap()
        );
        assert_eq!(pkt.to_bytes(), bytes, "{name}: re-encode differs");

        // The prefixed vector also re-frames to its file exactly.
        if *name == PREFIXED {
            let mut framed = Vec::new();
            framing::encode_frame(&pkt.to_bytes(), &mut framed);
            assert_eq!(framed, common::read_vector(&format!("nano/packets/{name}")));
        }
    }
}

#[test]
fn decode_without_class_keeps_streamer_bytes() {
    for name in VECTORS {
        let bytes = packet_bytes(name);
        let pkt = NanoPacket::decode(&bytes, None).unwrap();
        if let NanoPayload::Streamer(s) = &pkt.payload {
            assert!(matches!(s.body, StreamerBody::Raw(_)), "{name}");
        }
        assert_eq!(pkt.to_bytes(), bytes, "{name}: raw re-encode differs");
    }
}

#[test]
fn decode_with_explicit_class() {
    let bytes = packet_bytes("udp_video_data");
    let a = NanoPacket::decode(&bytes, Some(ChannelClass::Video)).unwrap();
    let b = NanoPacket::decode_with(&bytes, class_of).unwrap();
    assert_eq!(a, b);
}

#[test]
fn channel_class_names() {
    for c in ChannelClass::ALL {
        assert_eq!(ChannelClass::from_wire_name(c.wire_name()), c);
    }
    assert_eq!(
        ChannelClass::InputFeedback.wire_name(),
        "Microsoft::Rdp::Dct::Channel::Class::Input Feedback"
    );
    let u = ChannelClass::from_wire_name("Microsoft::Rdp::Dct::Channel::Class::Foo");
    assert_eq!(
        u,
        ChannelClass::Unknown("Microsoft::Rdp::Dct::Channel::Class::Foo".into())
    );
    assert_eq!(u.wire_name(), "Microsoft::Rdp::Dct::Channel::Class::Foo");
}

#[test]
fn zero_copy_video_path_matches_full_decode() {
    let bytes = packet_bytes("udp_video_data");
    let (h, d) = video::parse_udp_video_data(&bytes).unwrap();
    assert_eq!(
        (h.connection_id, h.channel_id, h.sequence_num),
        (35795, 1024, 1)
    );
    let pkt = NanoPacket::decode_with(&bytes, class_of).unwrap();
    let NanoPayload::Streamer(s) = pkt.payload else {
        panic!("not streamer")
    };
    let StreamerBody::Video(VideoPayload::Data(full)) = s.body else {
        panic!("not video data")
    };
    assert_eq!(d.to_owned(), full);
    assert_eq!(d.data.len(), 1119);
    assert!(!d.is_keyframe());
    assert_eq!(
        d.flags & video::VIDEO_DATA_FLAG_04,
        video::VIDEO_DATA_FLAG_04
    );
    // Other packets are refused, never misread.
    for name in VECTORS.iter().filter(|n| **n != "udp_video_data") {
        assert!(
            video::parse_udp_video_data(&packet_bytes(name)).is_err(),
            "{name}"
        );
    }
    for n in 0..bytes.len() {
        assert!(
            video::parse_udp_video_data(&bytes[..n]).is_err(),
            "prefix {n}"
        );
    }
}

#[test]
fn every_truncation_is_an_error() {
    for name in VECTORS {
        let bytes = packet_bytes(name);
        for n in 0..bytes.len() {
            let r = NanoPacket::decode_with(&bytes[..n], class_of);
            assert!(r.is_err(), "{name}: prefix of {n} bytes decoded: {r:?}");
        }
    }
}

fn streamer_packet(channel: u16, ty: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0x80, 0x23, 0, 0, 0, 0, 0, 0, 0, 0];
    v.extend_from_slice(&channel.to_be_bytes());
    v.extend_from_slice(&0u32.to_le_bytes()); // streamer flags: no seq
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

#[test]
fn hostile_counts_are_rejected_without_allocating() {
    // Video server handshake claiming 0xFFFFFFFF formats.
    let mut p = Vec::new();
    for v in [5u32, 1280, 720, 30] {
        p.extend_from_slice(&v.to_le_bytes());
    }
    p.extend_from_slice(&0u64.to_le_bytes());
    p.extend_from_slice(&u32::MAX.to_le_bytes());
    let e =
        NanoPacket::decode(&streamer_packet(1024, 1, &p), Some(ChannelClass::Video)).unwrap_err();
    assert!(
        matches!(
            e,
            WireError::Truncated {
                field: "formats",
                ..
            }
        ),
        "{e}"
    );

    // Audio server handshake, same.
    let mut p = Vec::new();
    p.extend_from_slice(&4u32.to_le_bytes());
    p.extend_from_slice(&0u64.to_le_bytes());
    p.extend_from_slice(&u32::MAX.to_le_bytes());
    let e =
        NanoPacket::decode(&streamer_packet(1025, 1, &p), Some(ChannelClass::Audio)).unwrap_err();
    assert!(
        matches!(
            e,
            WireError::Truncated {
                field: "formats",
                ..
            }
        ),
        "{e}"
    );

    // Video data and streamer length of 0xFFFFFFFF.
    let mut p = vec![0u8; 28];
    p.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(NanoPacket::decode(&streamer_packet(1024, 4, &p), Some(ChannelClass::Video)).is_err());
    let mut s = streamer_packet(1024, 4, &p);
    s[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(NanoPacket::decode(&s, Some(ChannelClass::Video)).is_err());

    // Telemetry claiming 0xFFFF entries (control channel, type 0).
    let mut t = vec![0x80, 0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x03];
    t.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]); // flags 0, type 0
    t.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0x7e, 0x05, 6, 0]); // control header
    t.extend_from_slice(&[0xff, 0xff]);
    let e = NanoPacket::decode(&t, Some(ChannelClass::Control)).unwrap_err();
    assert!(
        matches!(e, WireError::Truncated { field: "data", .. }),
        "{e}"
    );

    // Channel open with flags length 0xFFFFFFFF.
    let mut c = vec![0x80, 0x61, 0, 0, 0, 0, 0, 0, 0, 0, 0x04, 0x00];
    c.extend_from_slice(&3u32.to_le_bytes());
    c.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(NanoPacket::decode(&c, None).is_err());
}

#[test]
fn bad_padding_is_rejected() {
    let good = packet_bytes("udp_handshake");
    assert!(NanoPacket::decode(&good, None).is_ok());
    let last = good.len() - 1;

    let mut zero = good.clone();
    zero[last] = 0;
    let e = NanoPacket::decode(&zero, None).unwrap_err();
    assert_eq!(e.field(), "padding", "{e}");

    let mut big = good.clone();
    big[last] = 5; // payload is 4 bytes
    let e = NanoPacket::decode(&big, None).unwrap_err();
    assert_eq!(e.field(), "padding", "{e}");
    assert!(e.to_string().contains("exceeds"), "{e}");

    // P bit set with nothing after the header.
    let e = NanoPacket::decode(&good[..12], None).unwrap_err();
    assert_eq!(e.field(), "padding", "{e}");

    // Padding that eats the whole payload: then the payload is missing.
    let mut all = good.clone();
    all[last] = 4;
    assert!(NanoPacket::decode(&all, None).is_err());
}

#[test]
fn trailing_bytes_are_rejected() {
    // An extra aligned word after a fixed-size control handshake payload.
    let mut b = packet_bytes("tcp_channel_close");
    b.extend_from_slice(&[0, 0, 0, 0]);
    let e = NanoPacket::decode(&b, None).unwrap_err();
    assert!(matches!(e, WireError::Trailing { .. }), "{e}");
    // Bytes after a length-prefixed streamer payload.
    let mut b = packet_bytes("udp_input_frame_ack");
    b.extend_from_slice(&[0, 0, 0, 0]);
    let e = NanoPacket::decode_with(&b, class_of).unwrap_err();
    assert!(matches!(e, WireError::Trailing { .. }), "{e}");
}

#[test]
fn input_frame_without_extension_is_valid() {
    let bytes = packet_bytes("udp_input_frame");
    let pkt = NanoPacket::decode_with(&bytes, class_of).unwrap();
    let NanoPayload::Streamer(mut s) = pkt.payload.clone() else {
        panic!()
    };
    let StreamerBody::Input(xnano_proto::wire::nano::input::InputPayload::Frame(f)) = &mut s.body
    else {
        panic!()
    };
    assert!(f.extension.is_some());
    f.extension = None;
    let short = NanoPacket {
        header: pkt.header.clone(),
        payload: NanoPayload::Streamer(s),
    };
    let b = short.to_bytes();
    let back = NanoPacket::decode_with(&b, class_of).unwrap();
    let NanoPayload::Streamer(s2) = &back.payload else {
        panic!()
    };
    let StreamerBody::Input(xnano_proto::wire::nano::input::InputPayload::Frame(f2)) = &s2.body
    else {
        panic!()
    };
    assert!(f2.extension.is_none());
    assert_eq!(back.payload, short.payload);
}
