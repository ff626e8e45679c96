//! Encodes the simulated console's test pattern, decodes it back, and writes one picture as PPM.
//!
//! `cargo run --example video_snapshot -- OUT.ppm [FRAME_INDEX]`

use xnano_sim::media::{H264Decoder, VideoSource};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = args
        .next()
        .ok_or("usage: video_snapshot OUT.ppm [FRAME_INDEX]")?;
    let want: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(30);
    let mut src = VideoSource::new(1280, 720, 60, 6_000_000, 60)?;
    let mut dec = H264Decoder::new()?;
    let mut last = None;
    for _ in 0..=want {
        let frame = src.next_frame()?;
        if let Some(img) = dec.decode_rgb(&frame.data)? {
            last = Some(img);
        }
    }
    let img = last.ok_or("no picture decoded")?;
    std::fs::write(&out, img.to_ppm())?;
    println!("frame {want}: {}x{} -> {out}", img.width, img.height);
    Ok(())
}
