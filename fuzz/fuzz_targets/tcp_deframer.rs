//! The Nano TCP deframer fed the stream in fuzz-chosen chunks, with a
//! fuzz-chosen packet limit. Invariants: it yields exactly the packets
//! `split_all` finds in the same bytes (whatever the chunking), rejects a
//! length over the limit and stays failed, and buffers only what it has not
//! yet returned.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xnano_proto::wire::nano::framing::{split_all, TcpDeframer};
use xnano_fuzz::Input;

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let max_packet = usize::from(inp.u16());
    let cuts = inp.bytes(16).to_vec();
    let stream = inp.rest();

    let mut d = TcpDeframer::new(max_packet);
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut failed = false;
    let mut fed = 0usize;
    let mut ci = 0usize;
    while fed < stream.len() {
        let step = usize::from(cuts.get(ci % cuts.len().max(1)).copied().unwrap_or(7)) + 1;
        ci += 1;
        let end = (fed + step).min(stream.len());
        d.push(&stream[fed..end]);
        fed = end;
        loop {
            match d.next_packet() {
                Ok(Some(p)) => got.push(p.to_vec()),
                Ok(None) => break,
                Err(_) => {
                    failed = true;
                    assert!(
                        d.next_packet().is_err(),
                        "deframer recovered after a bad length"
                    );
                    break;
                }
            }
        }
        if failed {
            break;
        }
        let returned: usize = got.iter().map(|p| p.len() + 4).sum();
        assert_eq!(d.pending(), fed - returned);
    }
    // Reference: the packets of the longest complete prefix.
    let mut want: Vec<&[u8]> = Vec::new();
    let mut rest = stream;
    while rest.len() >= 4 {
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if len > max_packet {
            assert!(failed, "a length over the limit was accepted");
            break;
        }
        if rest.len() - 4 < len {
            break;
        }
        want.push(&rest[4..4 + len]);
        rest = &rest[4 + len..];
    }
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g.as_slice(), *w);
    }
    if let Ok(all) = split_all(stream) {
        if !failed {
            assert_eq!(all.len(), got.len());
        }
    }
});
