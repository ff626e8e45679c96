//! SmartGlass captured vectors: decode, compare with the reference's decode,
//! re-encode; the session capture; crypto round trips and rejections.

mod common;
mod sg_support;

use sg_support::diff;

use common::{list_vectors, read_expected, read_vector};
use serde_json::Value;
use xnano_proto::crypto::{CertificateInfo, Crypto, Curve, KeyPair};
use xnano_proto::pcap::{self, Transport};
use xnano_proto::wire::sg::json::{JsonFragment, JsonReassembler};
use xnano_proto::wire::sg::message::{FragmentReassembler, Message};
use xnano_proto::wire::sg::payloads::MessagePayload;
use xnano_proto::wire::sg::payloads::MessageType;
use xnano_proto::wire::sg::simple::{SimpleBody, SimplePacket};
use xnano_proto::wire::sg::{decode_any, SgPacket};
use xnano_proto::wire::WireError;

const SECRET: &str = "82bba514e6d19521114940bd65121af234c53654a8e67add7710b3725db44f7730ed8e3da7015a09fe0f08e9bef3853c0506327eb77c9951769d923d863a2f5e";
const CONSOLE_PUBKEY: &str = "041815d5382df79bd792a8d8342fbc717eacef6a258f779279e5463573e06bf84c6a88fac904870bf3a26f856e65f483195c4323eef47a048f23a031da6bd0929d";

fn crypto() -> Crypto {
    let mut s = [0u8; 64];
    hex::decode_to_slice(SECRET, &mut s).unwrap();
    Crypto::from_shared_secret(&s)
}

/// Where our JSON shape honestly differs from the reference's.
fn normalise(name: &str, ours: &mut Value, expected: &mut Value) {
    // The reference parses the JSON text; we keep it as sent.
    if let Some(t) = ours.pointer_mut("/protected_payload/text") {
        if let Value::String(s) = t {
            *t = serde_json::from_str(s).expect("json text parses");
        }
    }
    if name == "discovery_response" {
        // Expected "cert" is a Python repr: compare the Live ID in it and the
        // public key (README) with our parsed certificate, then drop both.
        let repr = expected["unprotected_payload"]["cert"]
            .as_str()
            .unwrap()
            .to_string();
        let cert = &ours["unprotected_payload"]["cert"];
        let liveid = cert["liveid"].as_str().unwrap();
        assert_eq!(liveid, "FFFFFFFFFFF");
        assert!(repr.contains(&format!("liveid={liveid},")), "{repr}");
        assert_eq!(cert["public_key"]["hex"], CONSOLE_PUBKEY);
        assert_eq!(cert["curve"], "EC_DH_P256");
        let der = ours["unprotected_payload"]["certificate"]["hex"]
            .as_str()
            .unwrap();
        assert_eq!(
            hex::decode(der).unwrap(),
            read_vector("smartglass/selfsigned_cert.bin")
        );
        let o = ours["unprotected_payload"].as_object_mut().unwrap();
        o.remove("cert");
        o.remove("certificate");
        expected["unprotected_payload"]
            .as_object_mut()
            .unwrap()
            .remove("cert");
    }
}

fn encode(p: &SgPacket, c: &Crypto) -> Vec<u8> {
    let mut out = Vec::new();
    p.encode(Some(c), &mut out).unwrap();
    out
}

#[test]
fn every_vector_decodes_matches_reference_and_reencodes() {
    let c = crypto();
    let names = list_vectors("smartglass/packets");
    let expected_names = list_vectors("smartglass/expected");
    assert_eq!(names.len(), 32, "vector count changed: {names:?}");
    let mut checked = 0;
    for name in &names {
        assert!(
            expected_names.contains(&format!("{name}.json")),
            "no expected decode for {name}"
        );
        let buf = read_vector(&format!("smartglass/packets/{name}"));
        let pkt = decode_any(&buf, Some(&c)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut ours = serde_json::to_value(&pkt).unwrap();
        let mut exp = read_expected(&format!("smartglass/expected/{name}.json"));
        normalise(name, &mut ours, &mut exp);
        let mut d = Vec::new();
        diff("", &ours, &exp, &mut d);
        assert!(
            d.is_empty(),
            "{name} differs from the reference:\n{}",
            d.join("\n")
        );

        // Re-encode: identical bytes (messages derive their IV from the
        // header, connect packets carry theirs).
        let again = encode(&pkt, &c);
        assert_eq!(
            hex::encode(&again),
            hex::encode(&buf),
            "{name}: re-encode differs"
        );
        if let SgPacket::Message(m) = &pkt {
            let (_, plain) = Message::open(&buf, &c).unwrap();
            let mut ours_plain = Vec::new();
            m.payload.encode(&mut ours_plain).unwrap();
            assert_eq!(plain, ours_plain, "{name}: plaintext differs");
            assert!(c.verify(&again[..again.len() - 32], &again[again.len() - 32..]));
        }
        checked += 1;
    }
    assert_eq!(checked, names.len());
}

#[test]
fn every_prefix_is_an_error() {
    let c = crypto();
    for name in list_vectors("smartglass/packets") {
        let buf = read_vector(&format!("smartglass/packets/{name}"));
        for n in 0..buf.len() {
            assert!(
                decode_any(&buf[..n], Some(&c)).is_err(),
                "{name}: prefix of {n} bytes decoded"
            );
        }
        // And one byte too many.
        let mut longer = buf.clone();
        longer.push(0);
        assert!(
            decode_any(&longer, Some(&c)).is_err(),
            "{name}: trailing byte accepted"
        );
    }
}

#[test]
fn tampering_is_detected_with_crypto_error() {
    let c = crypto();
    for name in list_vectors("smartglass/packets") {
        let buf = read_vector(&format!("smartglass/packets/{name}"));
        let encrypted = matches!(
            decode_any(&buf, Some(&c)).unwrap(),
            SgPacket::Message(_)
                | SgPacket::Simple(SimplePacket {
                    body: SimpleBody::ConnectRequest(_) | SimpleBody::ConnectResponse(_),
                    ..
                })
        );
        if !encrypted {
            continue;
        }
        // A flipped byte anywhere that keeps the lengths (after the header's
        // length fields) is caught by the HMAC.
        for i in [8, 20, buf.len() / 2, buf.len() - 40, buf.len() - 1] {
            let mut t = buf.clone();
            t[i] ^= 0x01;
            match decode_any(&t, Some(&c)) {
                Err(WireError::Crypto { packet, .. }) => {
                    assert!(
                        packet == "message" || packet.starts_with("connect_"),
                        "{packet}"
                    )
                }
                other => panic!("{name}: byte {i} flipped: {other:?}"),
            }
        }
        // The wrong key.
        let wrong = Crypto::from_shared_secret(&[7u8; 64]);
        assert!(matches!(
            decode_any(&buf, Some(&wrong)),
            Err(WireError::Crypto { .. })
        ));
        // No key at all.
        assert!(matches!(
            decode_any(&buf, None),
            Err(WireError::Crypto { .. })
        ));
    }
}

#[test]
fn fragmented_media_state_reassembles() {
    let c = crypto();
    let mut r = FragmentReassembler::new(1 << 16);
    let mut done = None;
    for i in [2, 0, 1] {
        let buf = read_vector(&format!("smartglass/packets/fragment_media_state_{i}"));
        let m = Message::decode(&buf, &c).unwrap();
        let MessagePayload::Fragment(f) = &m.payload else {
            panic!("not a fragment")
        };
        if let Some(p) = r.push_decode(&m.header, f).unwrap() {
            done = Some(p);
        }
    }
    assert_eq!(r.pending(), 0);
    let Some(MessagePayload::MediaState(ms)) = done else {
        panic!("not reassembled: {done:?}")
    };
    assert_eq!(
        ms.aum_id,
        "Microsoft.BlurayPlayer_8wekyb3d8bbwe!Xbox.BlurayPlayer.Application"
    );
    assert_eq!(ms.metadata.len(), 2);
    assert_eq!(ms.metadata[0].name, "title");
    assert_eq!(ms.metadata[0].value, "Blu-ray & DVD Player");
}

#[test]
fn fragment_reassembler_is_bounded_and_validates() {
    use xnano_proto::wire::sg::message::MessageHeader;
    use xnano_proto::wire::sg::payloads::Fragment;
    let mut r = FragmentReassembler::new(4096);
    for s in 0..200u32 {
        let mut h = MessageHeader::new(MessageType::MediaState, s * 10, 0, 0, 0, true);
        h.flags.is_fragment = true;
        let f = Fragment {
            sequence_begin: s * 10,
            sequence_end: s * 10 + 3,
            data: vec![0u8; 1000],
        };
        assert_eq!(r.push(&h, &f).unwrap(), None);
        assert!(r.buffered() <= 4096, "{}", r.buffered());
    }
    let h = MessageHeader::new(MessageType::MediaState, 5, 0, 0, 0, true);
    let bad = [(5, 5), (6, 9), (0, 100_000)];
    for (b, e) in bad {
        let f = Fragment {
            sequence_begin: b,
            sequence_end: e,
            data: vec![1],
        };
        assert!(r.push(&h, &f).is_err(), "{b}..{e} accepted");
    }
}

#[test]
fn json_fragments_vector_reassembles() {
    let v: Value = serde_json::from_slice(&read_vector("smartglass/json_fragments.json")).unwrap();
    let frags = v["fragments"].as_array().unwrap();
    assert_eq!(frags.len(), 4);
    let mut r = JsonReassembler::default();
    let mut out = None;
    // Out of order, with a duplicate.
    for i in [3, 1, 1, 0, 2] {
        let text = serde_json::to_string(&frags[i]).unwrap();
        if let Some(t) = r.accept(&text).unwrap() {
            assert!(out.is_none());
            out = Some(t);
        }
    }
    let text = out.expect("complete");
    let j: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(j["response"], "GetConfiguration");
    assert_eq!(j["msgid"], "xV5X1YCB.13");
    // Our own fragmentation of the same text reproduces the captured pieces.
    let ours = xnano_proto::wire::sg::json::fragment(&text, 13);
    let theirs: Vec<JsonFragment> = frags
        .iter()
        .map(|f| JsonFragment::from_value(f).unwrap())
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn session_capture_decodes() {
    let c = crypto();
    let recs = pcap::read(&read_vector("smartglass/sg_capture.pcap")).unwrap();
    assert_eq!(recs.len(), 26);
    let mut types = Vec::new();
    for (i, r) in recs.iter().enumerate() {
        assert_eq!(r.transport, Transport::Udp);
        assert!(r.src.port() == 5050 || r.dst.port() == 5050, "record {i}");
        let p = decode_any(&r.payload, Some(&c)).unwrap_or_else(|e| panic!("record {i}: {e}"));
        // Everything re-encodes to the captured bytes.
        assert_eq!(encode(&p, &c), r.payload, "record {i}");
        types.push(match &p {
            SgPacket::Simple(s) => s.header.pkt_type.name().to_string(),
            SgPacket::Message(m) => m.header.flags.msg_type.name().to_string(),
        });
    }
    // The capture is the session after connecting: all messages.
    let want = "LocalJoin Ack StartChannelRequest Ack StartChannelRequest StartChannelRequest Ack Ack \
                ConsoleStatus StartChannelResponse Ack Ack StartChannelResponse StartChannelResponse Ack \
                StartChannelRequest Ack Ack StartChannelResponse Ack Json Json Json Ack Ack Ack";
    assert_eq!(
        types.join(" "),
        want.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

#[test]
fn ecdh_round_trip_all_curves() {
    for curve in Curve::ALL {
        let console = KeyPair::generate(curve);
        let (client, ours) = Crypto::new_ecdh(curve, &console.public_key_sec1()).unwrap();
        assert_eq!(ours.len(), curve.wire_key_len());
        let sim = console.derive(&ours).unwrap();
        assert_eq!(client.shared_secret(), sim.shared_secret(), "{curve:?}");
        // And with the 0x04-prefixed form.
        let mut pre = vec![4u8];
        pre.extend_from_slice(&ours);
        assert_eq!(
            console.derive(&pre).unwrap().shared_secret(),
            sim.shared_secret()
        );
        // A different console key gives a different secret.
        let other = KeyPair::generate(curve);
        assert_ne!(
            other.derive(&ours).unwrap().shared_secret(),
            client.shared_secret()
        );
        // Wrong length / not a point.
        assert!(matches!(
            console.derive(&ours[1..]),
            Err(xnano_proto::crypto::CryptoError::Failed { .. })
        ));
        let mut bad = ours.clone();
        bad[0] ^= 0xff;
        bad[1] ^= 0x55;
        assert!(matches!(
            console.derive(&bad),
            Err(xnano_proto::crypto::CryptoError::Failed { .. })
        ));
    }
    // Against the captured console key (client side only).
    let key = hex::decode(CONSOLE_PUBKEY).unwrap();
    let (c, ours) = Crypto::new_ecdh(Curve::P256, &key).unwrap();
    assert_eq!(ours.len(), 64);
    assert_ne!(c.shared_secret(), &[0u8; 64]);
    // A P-256 key on the wrong curve is refused.
    assert!(Crypto::new_ecdh(Curve::P384, &key).is_err());
}

#[test]
fn connect_handshake_between_client_and_simulated_console() {
    use xnano_proto::wire::sg::common::{ConnectionResult, PairedIdentityState, PublicKeyType};
    use xnano_proto::wire::sg::simple::*;
    let console = KeyPair::generate(Curve::P384);
    let (client, pubkey) = Crypto::new_ecdh(Curve::P384, &console.public_key_sec1()).unwrap();
    let token = "t".repeat(3000);
    let group = ConnectRequest::build_group(
        [9; 16],
        PublicKeyType::EC_DH_P384,
        pubkey,
        "userhash",
        &token,
        0,
        Crypto::random_iv,
    );
    assert!(group.len() > 1);
    let mut joined = String::new();
    let mut console_ctx = None;
    for (i, req) in group.into_iter().enumerate() {
        let bytes = SimplePacket::new(SimpleBody::ConnectRequest(req))
            .to_bytes(Some(&client))
            .unwrap();
        assert!(bytes.len() < 1400);
        // The console reads the clear part, derives, then decrypts.
        let clear = ConnectRequestUnprotected::peek(&bytes).unwrap();
        let sim = console.derive(&clear.public_key).unwrap();
        let SimpleBody::ConnectRequest(r) = SimplePacket::decode(&bytes, Some(&sim)).unwrap().body
        else {
            panic!()
        };
        assert_eq!(r.protected.connect_request_num, i as u32);
        joined.push_str(&r.protected.jwt);
        console_ctx = Some(sim);
    }
    assert_eq!(joined, token);
    let resp = SimplePacket::new(SimpleBody::ConnectResponse(ConnectResponse {
        unprotected: ConnectResponseUnprotected {
            iv: Crypto::random_iv(),
        },
        protected: ConnectResponseProtected {
            connect_result: ConnectionResult::Success,
            pairing_state: PairedIdentityState::Paired,
            participant_id: 31,
        },
    }));
    // The console answers with its derived context; the client decodes it.
    let sim = console_ctx.expect("derived");
    let bytes = resp.to_bytes(Some(&sim)).unwrap();
    let back = SimplePacket::decode(&bytes, Some(&client)).unwrap();
    assert_eq!(back.body, resp.body);
    assert_eq!(back.header.unprotected_payload_length, 16);
    assert_eq!(back.header.protected_payload_length, Some(8));
}

#[test]
fn certificate_parses() {
    let info = CertificateInfo::from_der(&read_vector("smartglass/selfsigned_cert.bin")).unwrap();
    assert_eq!(info.liveid, "FFFFFFFFFFF");
    assert_eq!(hex::encode(&info.public_key), CONSOLE_PUBKEY);
    assert_eq!(info.curve, Curve::P256);
    let der = read_vector("smartglass/selfsigned_cert.bin");
    for n in 0..der.len() {
        assert!(CertificateInfo::from_der(&der[..n]).is_err());
    }
}
