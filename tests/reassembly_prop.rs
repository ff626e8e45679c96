//! Property: whatever the network does to chunks (reorder, duplicate, drop),
//! the reassembler delivers only frames identical to what was sent, each at
//! most once, in increasing frame-id order, and holds bounded memory.

use proptest::prelude::*;
use std::time::{Duration, Instant};
use xnano_proto::nano::reassembly::{Chunk, Event, Reassembler, ReassemblyConfig, FLAG_KEYFRAME};

fn frame_bytes(id: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(2654435761).wrapping_add(id) as u8)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn never_corrupt_never_twice_always_ordered(
        first in any::<u32>(),
        sizes in prop::collection::vec(1usize..6000, 1..40),
        key_every in 1usize..8,
        chunk in 200usize..1500,
        ops in prop::collection::vec((0u8..10, any::<u16>()), 0..400),
    ) {
        let cfg = ReassemblyConfig { max_frames_in_flight: 16, ..Default::default() };
        let mut r = Reassembler::new(cfg, Some(first));
        let mut sent: Vec<(u32, u32, Vec<u8>, u32, u32)> = Vec::new();
        for (i, &len) in sizes.iter().enumerate() {
            let id = first.wrapping_add(i as u32);
            let flags = if i % key_every == 0 { FLAG_KEYFRAME | 0x04 } else { 0x04 };
            let data = frame_bytes(id, len);
            let n = len.div_ceil(chunk) as u32;
            for (k, c) in data.chunks(chunk).enumerate() {
                sent.push((id, flags, c.to_vec(), (k * chunk) as u32, n));
            }
        }
        // Impair: each op drops, duplicates or swaps a chunk.
        let mut wire = sent.clone();
        for (op, at) in ops {
            if wire.is_empty() { break; }
            let i = at as usize % wire.len();
            match op {
                0 => { wire.remove(i); }
                1 => { let c = wire[i].clone(); wire.insert((i + 3).min(wire.len()), c); }
                _ => { let j = (i + op as usize) % wire.len(); wire.swap(i, j); }
            }
        }
        let t0 = Instant::now();
        let mut delivered: Vec<(u32, Vec<u8>)> = Vec::new();
        let mut now = t0;
        for (step, (id, flags, data, off, n)) in wire.iter().enumerate() {
            let total = sizes[id.wrapping_sub(first) as usize] as u32;
            r.handle_chunk(&Chunk { flags: *flags, frame_id: *id, timestamp: 0, total_size: total,
                packet_count: *n, offset: *off, data }, now);
            if step % 7 == 0 { now += Duration::from_millis(3); r.handle_timeout(now); }
            prop_assert!(r.frames_in_flight() <= 16);
            while let Some(ev) = r.poll_event() {
                if let Event::Frame(f) = ev { delivered.push((f.frame_id, f.data)); }
            }
        }
        r.handle_timeout(now + Duration::from_secs(1));
        while let Some(ev) = r.poll_event() {
            if let Event::Frame(f) = ev { delivered.push((f.frame_id, f.data)); }
        }
        prop_assert_eq!(r.frames_in_flight(), 0);
        prop_assert_eq!(r.held_bytes(), 0);
        let mut prev: Option<u32> = None;
        for (id, data) in &delivered {
            let idx = id.wrapping_sub(first) as usize;
            prop_assert!(idx < sizes.len());
            prop_assert_eq!(data, &frame_bytes(*id, sizes[idx]));
            if let Some(p) = prev { prop_assert!(id.wrapping_sub(first) > p.wrapping_sub(first)); }
            prev = Some(*id);
        }
        // With no impairment at all, everything arrives.
        if wire == sent {
            prop_assert_eq!(delivered.len(), sizes.len());
        }
    }
}
