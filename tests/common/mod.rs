//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod seen;
pub mod sg;

/// The captured test vectors: `$XNANO_VECTORS`, else `../shared/vectors`
/// beside the clone.
pub fn vectors_dir() -> PathBuf {
    if let Ok(p) = std::env::var("XNANO_VECTORS") {
        return PathBuf::from(p);
    }
    repo_root().join("../shared/vectors")
}

/// The repository's root (these helpers serve the root crate's tests and the
/// CLI crate's, one directory below it).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if here.join("include/xnano.h").exists() {
        here
    } else {
        here.parent().map(PathBuf::from).unwrap_or(here)
    }
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

/// Checks what `xnano stream --stats-json STATS --video-out VIDEO` wrote,
/// without counting on a rate: frames came, a keyframe among them, the
/// recording holds exactly the delivered bytes, and OpenH264 and FFmpeg
/// (when there) each decode one picture per delivered frame. Returns the
/// statistics.
pub fn check_stream_recording(
    test: &str,
    stats: &std::path::Path,
    video: &std::path::Path,
) -> serde_json::Value {
    let st: serde_json::Value = serde_json::from_slice(&std::fs::read(stats).unwrap()).unwrap();
    let delivered = st["frames_delivered"].as_u64().unwrap();
    assert!(delivered > 0, "{test}: {st}");
    assert!(
        st["keyframes_delivered"].as_u64().unwrap() >= 1,
        "{test}: {st}"
    );
    let h264 = std::fs::read(video).unwrap();
    assert_eq!(
        h264.len() as u64,
        st["video_bytes"].as_u64().unwrap(),
        "{test}: {st}"
    );
    let summary = xnano_sim::media::decode_h264_stream(&h264).unwrap();
    assert_eq!(
        summary.frames, delivered,
        "{test}: OpenH264 decodes every delivered frame"
    );
    if let Some(n) = ffprobe_h264_frames(test, video) {
        assert_eq!(
            n, delivered,
            "{test}: ffprobe decodes every delivered frame"
        );
    }
    st
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

/// The luma plane of test-pattern frame `index` at `w`x`h`, as the
/// simulator draws it before encoding.
pub fn pattern_luma(w: usize, h: usize, index: u64) -> Vec<u8> {
    xnano_sim::media::pattern_luma(w, h, index).expect("even, nonzero size")
}

/// The worst frame measured 56.5 dB (320x240 at 1 Mbit/s, OpenH264 encoding,
/// FFmpeg decoding); a few dB below. A wrong frame scores about 22 dB.
pub const PATTERN_PSNR_DB: f64 = 52.0;

/// A test binary's real-time tests take this to run one at a time: each
/// streams at a console's pace (paced keyframes, timeouts of 16 ms), which a
/// binary running all its tests at once on a small machine cannot give them
/// (CI saw a paced 5 Mbit/s stream lose most of its frames to its
/// neighbours' encoders). A failed test poisons the lock; the next still
/// runs.
pub fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}
