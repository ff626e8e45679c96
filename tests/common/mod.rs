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
