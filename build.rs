//! Build script: gives the shared library its SONAME, `libxnano.so.<ABI>`,
//! where ABI is `XNANO_ABI_VERSION` in `src/ffi/mod.rs` (the one place it is
//! written). A program linked against libxnano records that name, so a
//! library with another ABI version is never picked up by the loader in its
//! place. The C header is produced by cbindgen (`scripts/gen-header.sh`).
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/ffi/mod.rs");
    let src = std::fs::read_to_string("src/ffi/mod.rs").expect("read src/ffi/mod.rs");
    let abi: u32 = src
        .lines()
        .find_map(|l| l.trim().strip_prefix("pub const XNANO_ABI_VERSION: u32 = "))
        .and_then(|v| v.trim_end_matches(';').trim().parse().ok())
        .expect("src/ffi/mod.rs defines `pub const XNANO_ABI_VERSION: u32 = N;`");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libxnano.so.{abi}");
    }
}
