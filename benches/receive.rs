//! Criterion benches behind row 1 of the bench table: the receive path in
//! process (parse, reassemble, deliver) for a 1080p60 stream.

mod support;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::cell::RefCell;

use support::*;
use xnano_proto::wire::nano::video::parse_udp_video_data;

fn receive(c: &mut Criterion) {
    let pair = RefCell::new(pair_1080p());
    let next = RefCell::new(0u64);
    let sample = datagrams(&mut pair.borrow_mut(), 0, 1);
    *next.borrow_mut() = 1;
    // The first frame went nowhere; deliver it so the client is in sync.
    feed(&mut pair.borrow_mut(), &sample, |_, _| {});

    let mut g = c.benchmark_group("receive");
    g.throughput(Throughput::Elements(1));
    let one = sample[1].clone();
    g.bench_function("parse_video_datagram", |b| {
        b.iter(|| {
            parse_udp_video_data(std::hint::black_box(&one)).map(|(h, v)| (h.channel_id, v.offset))
        })
    });
    // One ~40 KB frame (29 datagrams of 1400 bytes) per iteration.
    g.throughput(Throughput::Elements(29));
    g.bench_function("frame_1080p_29_datagrams", |b| {
        b.iter_batched(
            || {
                let mut n = next.borrow_mut();
                // Frames of exactly 29 chunks (skip the keyframes' 86).
                loop {
                    let i = *n;
                    *n += 1;
                    let d = datagrams(&mut pair.borrow_mut(), i, 1);
                    if d.len() == 29 {
                        return d;
                    }
                    feed(&mut pair.borrow_mut(), &d, |_, _| {});
                }
            },
            |d| {
                let mut delivered = 0u32;
                feed(&mut pair.borrow_mut(), &d, |_, f| {
                    delivered += f.len() as u32
                });
                delivered
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, receive);
criterion_main!(benches);
