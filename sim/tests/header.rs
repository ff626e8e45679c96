//! `sim/include/xnano_sim.h` is generated from `sim/src/ffi.rs` by cbindgen
//! with `sim/cbindgen.toml`; this test regenerates it and fails when the
//! committed header differs. Regenerate:
//! `XNANO_BLESS=1 cargo test -p xnano-sim --test header`.

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn generate() -> String {
    let config = cbindgen::Config::from_file(root().join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root().join("src/ffi.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8")
}

#[test]
fn header_is_up_to_date() {
    let fresh = generate();
    let path = root().join("include/xnano_sim.h");
    if std::env::var_os("XNANO_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "sim/include/xnano_sim.h is stale: run `XNANO_BLESS=1 cargo test -p xnano-sim --test header`"
    );
}

/// The simulator header declares only simulator functions and uses
/// libxnano's result and console types from xnano.h instead of copies.
#[test]
fn only_simulator_functions_and_no_copies() {
    let h = generate();
    assert!(h.contains("#include \"xnano.h\""));
    for line in h.lines() {
        let t = line.trim_start();
        if let Some(name) = t
            .split('(')
            .next()
            .and_then(|d| d.split_whitespace().last())
            .filter(|_| t.ends_with(");") && !t.starts_with('*') && !t.starts_with("typedef"))
        {
            let name = name.trim_start_matches('*');
            assert!(name.starts_with("xnano_sim_"), "{name} in xnano_sim.h");
        }
    }
    assert!(!h.contains("typedef struct xnano_console_info"));
    assert!(!h.contains("XNANO_ERR_NULL = "));
    assert!(h.contains("XNANO_SIM_ABI_VERSION"));
}
