//! JSON fragment reassembly. The input is split at 0x00 bytes into texts
//! fed to `accept` (the seeds are the captured fragment set and broadcast
//! messages); a second reassembler is fed fragments built from fuzz numbers
//! directly through `push`. Invariants: the buffer stays within its limits;
//! a completed datagram is valid JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xnano_proto::wire::sg::json::{fragment, JsonFragment, JsonReassembler};
use xnano_fuzz::Input;

const MAX_PENDING: usize = 4;
const MAX_BYTES: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let mut r = JsonReassembler::new(MAX_PENDING, MAX_BYTES);
    for piece in data.split(|&b| b == 0) {
        let Ok(text) = std::str::from_utf8(piece) else {
            continue;
        };
        if let Ok(Some(f)) = JsonFragment::parse(text) {
            // Its text form parses back to the same fragment.
            assert_eq!(JsonFragment::parse(&f.to_json()).unwrap(), Some(f.clone()));
        }
        if let Ok(Some(done)) = r.accept(text) {
            assert!(serde_json::from_str::<serde_json::Value>(&done).is_ok());
            // Fragmenting the result again and reassembling gives it back.
            let mut again = JsonReassembler::new(MAX_PENDING, 1 << 20);
            let mut out = None;
            for f in fragment(&done, 7).into_iter().rev() {
                out = again.push(f).expect("own fragments reassemble");
            }
            assert_eq!(out.as_deref(), Some(done.as_str()));
        }
        assert!(r.pending() <= MAX_PENDING);
        assert!(r.buffered() <= MAX_BYTES);
    }

    // Fragments assembled from raw numbers, pushed without parsing.
    let mut inp = Input::new(data);
    let mut r = JsonReassembler::new(MAX_PENDING, MAX_BYTES);
    for _ in 0..32 {
        if inp.is_empty() {
            break;
        }
        let wide = |inp: &mut Input| {
            if inp.u8() & 0x80 != 0 {
                usize::MAX - usize::from(inp.u8())
            } else {
                usize::from(inp.u16())
            }
        };
        let datagram_size = wide(&mut inp);
        let datagram_id = u64::from(inp.u8() % 6);
        let fragment_offset = wide(&mut inp);
        let fragment_data: String = inp
            .blob(64)
            .iter()
            .map(|b| char::from(b'A' + b % 26))
            .collect();
        let fragment_length = if inp.bool() {
            fragment_data.len()
        } else {
            wide(&mut inp)
        };
        let _ = r.push(JsonFragment {
            datagram_size,
            datagram_id,
            fragment_offset,
            fragment_length,
            fragment_data,
        });
        assert!(r.pending() <= MAX_PENDING);
        assert!(r.buffered() <= MAX_BYTES);
    }
});
