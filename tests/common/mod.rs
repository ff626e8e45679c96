//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

/// The captured test vectors: `$XNANO_VECTORS`, else `../shared/vectors`
/// beside the clone.
pub fn vectors_dir() -> PathBuf {
    if let Ok(p) = std::env::var("XNANO_VECTORS") {
        return PathBuf::from(p);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors")
}

/// Reads a vector file, failing the test with a clear message if missing.
pub fn read_vector(rel: &str) -> Vec<u8> {
    let p = vectors_dir().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("test vector {}: {e}", p.display()))
}

/// Reads and parses an `expected/*.json` file.
pub fn read_expected(rel: &str) -> serde_json::Value {
    let b = read_vector(rel);
    serde_json::from_slice(&b).unwrap_or_else(|e| panic!("expected json {rel}: {e}"))
}

/// Lists the file names in a vectors subdirectory, sorted.
pub fn list_vectors(rel: &str) -> Vec<String> {
    let dir = vectors_dir().join(rel);
    let mut v: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("vectors dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// An independent peer (the reference implementation, FFmpeg) is missing.
/// With `XNANO_REQUIRE_PEERS=1` (which `scripts/test.sh` sets) the test
/// fails, naming the peer; otherwise it says loudly that it skips.
pub fn peer_missing(test: &str, peer: &str) {
    if std::env::var("XNANO_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!(
            "{test}: {peer} is missing and XNANO_REQUIRE_PEERS=1 (scripts/setup.sh installs it)"
        );
    }
    // Straight to the process's stderr: the test harness captures
    // `eprintln!` of passing tests, and a skip must be seen.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {test}: {peer} is missing (scripts/setup.sh installs it)"
    );
}

/// Polls `f` until it holds or `timeout` passes; returns its last answer.
/// Tests wait for conditions with generous bounds, never for a rate.
pub fn wait_until(timeout: std::time::Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    f()
}

/// Whether `tool -version` runs (FFmpeg's `ffmpeg`, `ffprobe`); when not,
/// [`peer_missing`] (a failure under `XNANO_REQUIRE_PEERS=1`).
pub fn ffmpeg_tool(test: &str, tool: &str) -> bool {
    let ok = std::process::Command::new(tool)
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        peer_missing(test, &format!("{tool} (FFmpeg)"));
    }
    ok
}

/// The number of pictures FFmpeg decodes from an H.264 Annex B file
/// (`ffprobe -count_frames`), an independent check of what OpenH264 decodes.
/// `None` when ffprobe is missing and peers are not required.
pub fn ffprobe_h264_frames(test: &str, path: &std::path::Path) -> Option<u64> {
    if !ffmpeg_tool(test, "ffprobe") {
        return None;
    }
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-f",
            "h264",
            "-count_frames",
            "-select_streams",
        ])
        .args([
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "ffprobe {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("ffprobe {}: {text:?}: {e}", path.display())),
    )
}

/// Writes `annexb` to a temporary file and has FFmpeg count its pictures.
pub fn ffprobe_h264_bytes(test: &str, annexb: &[u8]) -> Option<u64> {
    let path = std::env::temp_dir().join(format!(
        "xnano-ffprobe-{}-{}.h264",
        std::process::id(),
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "_")
    ));
    std::fs::write(&path, annexb).unwrap();
    let n = ffprobe_h264_frames(test, &path);
    let _ = std::fs::remove_file(&path);
    n
}

/// Decodes an H.264 Annex B file with FFmpeg into the luma planes of its
/// pictures (`width`x`height` bytes each, as coded: limited range).
pub fn ffmpeg_h264_luma(
    test: &str,
    path: &std::path::Path,
    width: usize,
    height: usize,
) -> Option<Vec<Vec<u8>>> {
    if !ffmpeg_tool(test, "ffmpeg") {
        return None;
    }
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-f", "h264", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let frame = width * height * 3 / 2;
    assert_eq!(
        out.stdout.len() % frame,
        0,
        "ffmpeg output is whole pictures"
    );
    Some(
        out.stdout
            .chunks_exact(frame)
            .map(|f| f[..width * height].to_vec())
            .collect(),
    )
}

/// Peak signal-to-noise ratio of `b` against `a` (8-bit samples), in dB.
pub fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: f64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.len() as f64;
    if mse == 0.0 {
        return f64::INFINITY;
    }
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// The luma plane of test-pattern frame `index` at `w`x`h`, written here from
/// the pattern's description (src/sim/media/pattern.rs): eight colour bars
/// scrolling left 4 px per frame over the top two thirds, a grey ramp
/// scrolling right 6 px per frame below, an orange box bouncing (7 px, 5 px
/// per frame), the frame number white on black at the top left.
pub fn pattern_luma(w: usize, h: usize, index: u64) -> Vec<u8> {
    const DIGITS: [[u8; 7]; 10] = [
        [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
    ];
    // BT.601 limited-range luma.
    let luma = |r: i32, g: i32, b: i32| (16 + ((66 * r + 129 * g + 25 * b + 128) >> 8)) as u8;
    let bars = [
        luma(191, 191, 191),
        luma(191, 191, 0),
        luma(0, 191, 191),
        luma(0, 191, 0),
        luma(191, 0, 191),
        luma(191, 0, 0),
        luma(0, 0, 191),
        luma(40, 40, 40),
    ];
    let bounce = |pos: usize, span: usize| {
        if span == 0 {
            return 0;
        }
        let p = pos % (2 * span);
        if p <= span {
            p
        } else {
            2 * span - p
        }
    };
    let step = index as usize;
    let mut y = vec![16u8; w * h];
    let split = (h * 2 / 3) & !1;
    let bar_shift = (step * 4) % w;
    let ramp_shift = (w - (step * 6) % w) % w;
    for r in 0..h {
        for x in 0..w {
            y[r * w + x] = if r < split {
                bars[((x + bar_shift) % w) * 8 / w]
            } else {
                (16 + ((x + ramp_shift) % w) * 219 / w) as u8
            };
        }
    }
    let mut fill = |x0: usize, y0: usize, rw: usize, rh: usize, v: u8| {
        for r in y0..(y0 + rh).min(h) {
            for x in x0..(x0 + rw).min(w) {
                y[r * w + x] = v;
            }
        }
    };
    let side = ((h / 6).max(2) & !1).min(w & !1).min(h & !1);
    let (bx, by) = (
        bounce(step * 7, w - side) & !1,
        bounce(step * 5, h - side) & !1,
    );
    fill(bx, by, side, side, luma(255, 140, 0));
    let text = index.to_string();
    let scale = (h / 90).max(1);
    let glyph_w = 6 * scale;
    let block_w = (text.len() * glyph_w + 2 * scale + 1) & !1;
    let block_h = (9 * scale + 1) & !1;
    fill(0, 0, block_w, block_h, luma(0, 0, 0));
    for (i, c) in text.bytes().enumerate() {
        for (gy, bits) in DIGITS[usize::from(c - b'0')].iter().enumerate() {
            for gx in 0..5 {
                if bits & (0x10 >> gx) != 0 {
                    let x0 = scale + i * glyph_w + gx * scale;
                    fill(x0, scale + gy * scale, scale, scale, 235);
                }
            }
        }
    }
    y
}

/// The worst frame measured 56.5 dB (320x240 at 1 Mbit/s, OpenH264 encoding,
/// FFmpeg decoding); a few dB below. A wrong frame scores about 22 dB.
pub const PATTERN_PSNR_DB: f64 = 52.0;
