//! The dissector (`xnano decode`): a file as one UDP packet of each channel
//! class, as a TCP stream, and without the captured key. Every result must
//! serialise to JSON.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use xnano_proto::crypto::Crypto;
use xnano_proto::dissect::decode_file;
use xnano_fuzz::{all_classes, vector_crypto};

static CRYPTO: OnceLock<Crypto> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let c = CRYPTO.get_or_init(vector_crypto);
    for class in all_classes() {
        for v in decode_file(data, class, false, Some(c)) {
            serde_json::to_string(&v).expect("serialises");
        }
    }
    // As a TCP stream (channel classes come from its Channel Creates), and
    // without the key.
    for (tcp, key) in [(true, Some(c)), (false, None)] {
        for v in decode_file(data, None, tcp, key) {
            serde_json::to_string(&v).expect("serialises");
        }
    }
});
