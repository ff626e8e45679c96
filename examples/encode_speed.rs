//! Measures how fast the simulated console's H.264 source encodes (run with --release).
//!
//! `cargo run --release --example encode_speed -- [WIDTH HEIGHT FRAMES]`

use std::time::Instant;

use xnano_sim::media::VideoSource;

fn main() {
    let args: Vec<u32> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric arguments"))
        .collect();
    let (w, h, n) = match args.as_slice() {
        [w, h, n] => (*w, *h, *n),
        [] => (1280, 720, 600),
        _ => panic!("usage: encode_speed [WIDTH HEIGHT FRAMES]"),
    };
    let mut src = VideoSource::new(w, h, 60, 8_000_000, 120).expect("video source");
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..n {
        bytes += src.next_frame().expect("frame").data.len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{w}x{h}: {n} frames in {secs:.2} s = {:.1} fps, {:.2} Mbit/s at 60 fps",
        f64::from(n) / secs,
        bytes as f64 * 8.0 / (f64::from(n) / 60.0) / 1e6
    );
}
