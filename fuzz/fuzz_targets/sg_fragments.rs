//! The SmartGlass fragment reassembler fed fuzz-chosen fragments (sequence
//! ranges, duplicates, conflicting pieces, oversize sets). Invariants: the
//! buffer never exceeds its limit, empties when nothing is pending, and a
//! completed message has as many bytes as its pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xnano_proto::wire::sg::message::{FragmentReassembler, MessageHeader};
use xnano_proto::wire::sg::payloads::{Fragment, MessageType};
use xnano_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let max = usize::from(inp.u16()) + 1;
    let mut r = FragmentReassembler::new(max);
    let base = inp.u32();
    while !inp.is_empty() {
        let b = base.wrapping_add(u32::from(inp.u8() % 16));
        let e = b.wrapping_add(u32::from(inp.u8() % 20));
        let seq = b.wrapping_add(u32::from(inp.u8() % 24));
        let t = MessageType::from_raw(u16::from(inp.u8() % 4) + 0x1e);
        let piece = inp.blob(600).to_vec();
        let mut h = MessageHeader::new(t, seq, 0, 0, 0, false);
        h.flags.is_fragment = true;
        let f = Fragment {
            sequence_begin: b,
            sequence_end: e,
            data: piece,
        };
        // The wire form of the piece decodes back to it.
        let mut w = Vec::new();
        if f.encode(&mut w).is_ok() {
            assert_eq!(Fragment::decode(&w).expect("decodes"), f);
        }
        match r.push(&h, &f) {
            Ok(Some((mt, payload))) => {
                assert_eq!(mt, t);
                assert!(payload.len() <= max);
            }
            Ok(None) | Err(_) => {}
        }
        let _ = r.push_decode(&h, &f);
        assert!(
            r.buffered() <= max,
            "{} buffered, limit {max}",
            r.buffered()
        );
        if r.pending() == 0 {
            assert_eq!(r.buffered(), 0);
        }
    }
});
