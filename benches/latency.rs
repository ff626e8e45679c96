//! Criterion bench behind row 3 of the bench table: the time from the last
//! chunk of a frame entering the client session to the frame reaching the
//! callback (parse, complete, emit, hand over), in process.

mod support;

use std::cell::RefCell;
use std::time::Instant;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use xnano::nano::ClientEvent;

use support::*;

fn last_chunk_to_callback(c: &mut Criterion) {
    let pair = RefCell::new(pair_1080p());
    let next = RefCell::new(0u64);
    let mut delivered = 0u64;
    c.bench_function("latency/last_chunk_to_callback_1080p", |b| {
        b.iter_batched(
            || {
                // All chunks but the last of the next frame go in untimed.
                let mut p = pair.borrow_mut();
                let mut n = next.borrow_mut();
                let mut d = datagrams(&mut p, *n, 1);
                *n += 1;
                let last = d.pop().expect("a chunk");
                let now = Instant::now();
                for x in &d {
                    p.client.handle_udp(x, now);
                }
                last
            },
            |last| {
                let mut p = pair.borrow_mut();
                p.client.handle_udp(&last, Instant::now());
                while let Some(e) = p.client.poll_event() {
                    if let ClientEvent::VideoFrame(f) = e {
                        delivered += std::hint::black_box(f.data.len()) as u64;
                        p.client.recycle_frame(f.data);
                    }
                }
            },
            BatchSize::SmallInput,
        )
    });
    assert!(delivered > 0);
}

criterion_group!(benches, last_chunk_to_callback);
criterion_main!(benches);
