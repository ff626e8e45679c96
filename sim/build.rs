//! Build script: the simulator's shared library is `libxnano_sim.so.<ABI>`
//! by SONAME, with ABI = `XNANO_SIM_ABI_VERSION` in `src/ffi.rs`.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/ffi.rs");
    let src = std::fs::read_to_string("src/ffi.rs").expect("read src/ffi.rs");
    let abi: u32 = src
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("pub const XNANO_SIM_ABI_VERSION: u32 = ")
        })
        .and_then(|v| v.trim_end_matches(';').trim().parse().ok())
        .expect("src/ffi.rs defines `pub const XNANO_SIM_ABI_VERSION: u32 = N;`");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" || os.ends_with("bsd") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libxnano_sim.so.{abi}");
    }
}
