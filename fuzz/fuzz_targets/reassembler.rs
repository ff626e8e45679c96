//! The video frame reassembler fed fuzz-chosen chunks (any frame id, offset,
//! size, count, flags; duplicates, overlaps, contradictions, far jumps) and
//! timeouts, under fuzz-chosen limits. Chunk bytes are a function of (frame
//! id, position), so a delivered frame can be checked byte by byte.
//!
//! Invariants: frames in flight and bytes held never exceed the caps; a
//! delivered frame is whole and uncorrupted and no larger than the frame
//! cap; frames and loss reports come in strictly increasing id order (so no
//! frame is delivered twice or after being reported lost); after a loss the
//! next delivered frame is a keyframe.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use xnano_proto::nano::reassembly::{Chunk, Event, Reassembler, ReassemblyConfig, FLAG_KEYFRAME};
use xnano_fuzz::{after, byte_at, Clock, Input};

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let cfg = ReassemblyConfig {
        defrag_timeout: Duration::from_millis(u64::from(inp.u8() % 64) + 1),
        max_frames_in_flight: usize::from(inp.u8() % 16) + 1,
        max_frame_size: usize::from(inp.u16()) + 1,
        max_chunks_per_frame: usize::from(inp.u8() % 64) + 1,
        max_total_bytes: (usize::from(inp.u16()) + 1) * 4,
        wait_for_first_keyframe: inp.bool(),
        max_frame_age: Duration::from_millis(u64::from(inp.u8()) * 4 + 1),
        stall_timeout: Duration::from_millis(u64::from(inp.u8()) * 16 + 1),
    };
    let mut restarts = 0u64;
    let first = if inp.bool() { Some(inp.u32()) } else { None };
    let mut r = Reassembler::new(cfg.clone(), first);
    let mut clock = Clock::default();
    let mut cursor = first.unwrap_or(0);
    let mut last_id: Option<u32> = None;
    let mut after_loss = false;
    let mut delivered_any = false;
    let mut buf = Vec::new();

    while !inp.is_empty() {
        match inp.u8() % 8 {
            0..=4 => {
                let frame_id = match inp.u8() {
                    255 => inp.u32(),
                    d => {
                        let id = cursor.wrapping_add(u32::from(d % 24)).wrapping_sub(4);
                        if d & 0x40 != 0 {
                            cursor = id;
                        }
                        id
                    }
                };
                let total_size = u32::from(inp.u16() % 4096);
                let packet_count = u32::from(inp.u8() % 8);
                let offset = u32::from(inp.u16() % 4096);
                let len = usize::from(inp.u16() % 2048);
                let flags = u32::from(inp.u8()) & (FLAG_KEYFRAME | 0x04);
                buf.clear();
                buf.extend((0..len).map(|i| byte_at(frame_id, offset as usize + i)));
                r.handle_chunk(
                    &Chunk {
                        flags,
                        frame_id,
                        timestamp: u64::from(frame_id),
                        total_size,
                        packet_count,
                        offset,
                        data: &buf,
                    },
                    clock.now(),
                );
            }
            5 | 6 => {
                let now = clock.advance_ms(u64::from(inp.u8() % 40));
                r.handle_timeout(now);
            }
            _ => {
                // Feed a whole valid frame in chunks, in a fuzz-chosen order.
                let frame_id = cursor.wrapping_add(u32::from(inp.u8() % 4));
                let size = usize::from(inp.u16() % 3000) + 1;
                let chunk = usize::from(inp.u8()) * 4 + 16;
                let flags = if inp.bool() { FLAG_KEYFRAME } else { 0 };
                let n = size.div_ceil(chunk);
                let rot = usize::from(inp.u8());
                let frame: Vec<u8> = (0..size).map(|i| byte_at(frame_id, i)).collect();
                for k in 0..n {
                    let i = (k + rot) % n;
                    let off = i * chunk;
                    let end = (off + chunk).min(size);
                    r.handle_chunk(
                        &Chunk {
                            flags,
                            frame_id,
                            timestamp: 0,
                            total_size: size as u32,
                            packet_count: n as u32,
                            offset: off as u32,
                            data: &frame[off..end],
                        },
                        clock.now(),
                    );
                }
            }
        }

        assert!(r.frames_in_flight() <= cfg.max_frames_in_flight);
        assert!(r.held_bytes() <= cfg.max_total_bytes);
        // A frame-id restart (or a stall resynchronised) starts a new id
        // sequence: ordering is checked within a sequence, not across the
        // round in which it restarted.
        let restarted = r.stats().frame_id_restarts != restarts;
        restarts = r.stats().frame_id_restarts;
        if restarted {
            last_id = None;
        }
        while let Some(ev) = r.poll_event() {
            match ev {
                Event::Frame(f) => {
                    if let Some(l) = last_id.filter(|_| !restarted) {
                        assert!(after(l, f.frame_id), "frame {} after {l}", f.frame_id);
                    }
                    if !restarted && (after_loss || (cfg.wait_for_first_keyframe && !delivered_any))
                    {
                        assert!(
                            f.is_keyframe(),
                            "frame {} after a loss is not a keyframe",
                            f.frame_id
                        );
                    }
                    assert!(f.data.len() <= cfg.max_frame_size);
                    for (i, b) in f.data.iter().enumerate() {
                        assert_eq!(
                            *b,
                            byte_at(f.frame_id, i),
                            "frame {} corrupt at {i}",
                            f.frame_id
                        );
                    }
                    last_id = Some(f.frame_id);
                    after_loss = false;
                    delivered_any = true;
                    r.recycle(f.data);
                }
                Event::Lost { first, last } => {
                    if let Some(l) = last_id.filter(|_| !restarted) {
                        assert!(after(l, first), "loss {first}..={last} after {l}");
                    }
                    assert!(first == last || after(first, last));
                    last_id = Some(last);
                    after_loss = true;
                }
                Event::NeedKeyframe => {}
            }
        }
        if restarted {
            // That round held both sequences; order the next by the new one.
            last_id = None;
        }
    }
});
