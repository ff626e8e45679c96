//! Build script: nothing to generate yet; the C header is produced by cbindgen
//! from `cbindgen.toml` (see `.ci/check-header`).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
