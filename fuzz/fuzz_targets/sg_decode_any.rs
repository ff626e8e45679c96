//! Any SmartGlass datagram (discovery, power-on, connect request/response,
//! messages), with the captured session's key and without a key.
//! Invariant: what decodes re-encodes to a fixed point.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use xnano_proto::crypto::Crypto;
use xnano_proto::wire::sg::common::{peek_packet_type};
use xnano_proto::wire::sg::{decode_any};
use xnano_fuzz::vector_crypto;

static CRYPTO: OnceLock<Crypto> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let c = CRYPTO.get_or_init(vector_crypto);
    let _ = peek_packet_type(data);
    let _ = decode_any(data, None);
    if let Ok(p) = decode_any(data, Some(c)) {
        let mut b1 = Vec::new();
        p.encode(Some(c), &mut b1)
            .unwrap_or_else(|e| panic!("decoded packet does not encode: {e}\n{p:?}"));
        let p2 = decode_any(&b1, Some(c))
            .unwrap_or_else(|e| panic!("re-encoded packet does not decode: {e}\n{p:?}"));
        let mut b2 = Vec::new();
        p2.encode(Some(c), &mut b2).expect("encodes again");
        assert_eq!(b1, b2, "{p:?}");
    }
});
