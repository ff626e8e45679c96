//! PNG screenshots of what the window shows.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

/// Writes packed 8-bit RGB rows (`width * 3` bytes each, top to bottom) as a PNG file.
pub fn write_png(path: &Path, width: u32, height: u32, rgb: &[u8]) -> Result<(), String> {
    let want = width as usize * height as usize * 3;
    if rgb.len() != want || want == 0 {
        return Err(format!(
            "screenshot {width}x{height}: {} bytes of pixels, expected {want}",
            rgb.len()
        ));
    }
    let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut enc = png::Encoder::new(BufWriter::new(file), width, height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc
        .write_header()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    w.write_image_data(rgb)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    w.finish().map_err(|e| format!("{}: {e}", path.display()))
}

/// Counts distinct colours in packed RGB, up to `cap`.
pub fn distinct_colours(rgb: &[u8], cap: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    for p in rgb.chunks_exact(3) {
        seen.insert([p[0], p[1], p[2]]);
        if seen.len() >= cap {
            break;
        }
    }
    seen.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip() {
        let dir = std::env::temp_dir().join(format!("xnano-player-shot-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.png");
        let rgb: Vec<u8> = (0..4 * 3 * 3).map(|i| (i * 7) as u8).collect();
        write_png(&path, 4, 3, &rgb).unwrap();
        let dec = png::Decoder::new(std::io::BufReader::new(File::open(&path).unwrap()));
        let mut r = dec.read_info().unwrap();
        let mut buf = vec![0; r.output_buffer_size().unwrap()];
        let info = r.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (4, 3));
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(&buf[..info.buffer_size()], &rgb[..]);
        assert!(write_png(&path, 5, 3, &rgb).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn colour_count() {
        assert_eq!(distinct_colours(&[0; 30], 100), 1);
        assert_eq!(distinct_colours(&[1, 2, 3, 1, 2, 3, 0, 0, 0], 100), 2);
        let many: Vec<u8> = (0..3000u32).map(|i| (i % 256) as u8).collect();
        assert_eq!(distinct_colours(&many, 5), 5);
    }
}
