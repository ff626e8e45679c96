//! Control Protocol messages (the Control channel's streamer type 0).
//! Invariant: decoded messages re-encode to a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xnano_proto::wire::nano::control::ControlMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = ControlMessage::decode(data) {
        let mut b1 = Vec::new();
        m.encode(&mut b1);
        let m2 = ControlMessage::decode(&b1)
            .unwrap_or_else(|e| panic!("re-encoded message does not decode: {e}\n{m:?}"));
        let mut b2 = Vec::new();
        m2.encode(&mut b2);
        assert_eq!(b1, b2, "{m:?}");
    }
});
