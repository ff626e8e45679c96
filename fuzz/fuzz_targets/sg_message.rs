//! SmartGlass messages (0xD00D) under a fixed key. Two paths per input:
//! the bytes as a datagram (HMAC check, decrypt, decode: the seeds are
//! captured messages), and the bytes as the plaintext of a correctly sealed
//! message whose type and flags come from the first three bytes, which
//! reaches every payload decoder behind the HMAC. Invariants: a tampered
//! datagram never decodes; what decodes re-encodes to a fixed point.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use xnano_proto::crypto::Crypto;
use xnano_proto::wire::sg::message::{seal, Message, MessageHeader};
use xnano_proto::wire::sg::payloads::{MessageType};
use xnano_proto::wire::WireError;
use xnano_fuzz::{vector_crypto, Input};

static CRYPTO: OnceLock<Crypto> = OnceLock::new();

fn fixed_point(m: &Message, c: &Crypto) {
    let b1 = m
        .to_bytes(c)
        .unwrap_or_else(|e| panic!("decoded message does not encode: {e}\n{m:?}"));
    let m2 = Message::decode(&b1, c)
        .unwrap_or_else(|e| panic!("re-encoded message does not decode: {e}\n{m:?}"));
    assert_eq!(m2.to_bytes(c).expect("encodes again"), b1, "{m:?}");
}

fuzz_target!(|data: &[u8]| {
    let c = CRYPTO.get_or_init(vector_crypto);
    if let Ok(m) = Message::decode(data, c) {
        fixed_point(&m, c);
        // Any single flipped bit breaks the HMAC.
        if !data.is_empty() {
            let mut t = data.to_vec();
            let i = usize::from(data[0]) * 7 % t.len();
            t[i] ^= 0x01;
            match Message::decode(&t, c) {
                Err(WireError::Crypto { .. })
                | Err(WireError::Truncated { .. })
                | Err(WireError::Invalid { .. })
                | Err(WireError::Trailing { .. }) => {}
                Ok(m) => panic!("tampered datagram decoded: {m:?}"),
            }
        }
    }

    let mut inp = Input::new(data);
    let flags = inp.u16();
    let seq = u32::from(inp.u8());
    let plain = inp.rest();
    let mut h = MessageHeader::new(MessageType::from_raw(flags & 0x0fff), seq, 0, 31, 0, false);
    h.flags.is_fragment = flags & 0x1000 != 0;
    h.flags.need_ack = flags & 0x2000 != 0;
    let mut out = Vec::new();
    if seal(&h, plain, c, &mut out).is_ok() {
        match Message::decode(&out, c) {
            Ok(m) => fixed_point(&m, c),
            Err(WireError::Crypto { .. }) => panic!("a correctly sealed message failed the HMAC"),
            Err(_) => {}
        }
    }
});
