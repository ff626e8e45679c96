//! Input channel payloads (handshakes, frame acks, input frames) of every
//! type. Invariant: decoded payloads re-encode to a fixed point, and a
//! frame's button bytes survive the bit-field model.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xnano_proto::wire::nano::input::{InputButtons, InputFrame, InputPayload};

fuzz_target!(|data: &[u8]| {
    for ty in 0..6u32 {
        if let Ok(Some(p)) = InputPayload::decode(ty, data) {
            let mut b1 = Vec::new();
            p.encode(&mut b1);
            let p2 = InputPayload::decode(ty, &b1)
                .expect("re-encoded payload decodes")
                .expect("same type");
            let mut b2 = Vec::new();
            p2.encode(&mut b2);
            assert_eq!(b1, b2, "{p:?}");
        }
    }
    // A fixed layout: decoding loses nothing.
    if let Ok(f) = InputFrame::decode(data) {
        assert_eq!(InputButtons::from_bytes(f.buttons.to_bytes()), f.buttons);
        let mut b = Vec::new();
        f.encode(&mut b);
        assert_eq!(b, data);
    }
});
