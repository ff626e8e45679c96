//! The pcap / pcapng reader, and the dissector over what it reads.
//! Invariant: every record's payload lies within the input's size.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use xnano_proto::crypto::Crypto;
use xnano_fuzz::vector_crypto;

static CRYPTO: OnceLock<Crypto> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    if let Ok(records) = xnano_proto::pcap::read(data) {
        let total: usize = records.iter().map(|r| r.payload.len()).sum();
        assert!(total <= data.len());
        let c = CRYPTO.get_or_init(vector_crypto);
        let out = xnano_proto::dissect::decode_pcap(data, Some(c)).expect("read once, reads again");
        assert!(out.len() <= records.len() * (1 + data.len() / 4));
    }
});
