//! `include/xnano.h` is generated from `src/ffi/` by cbindgen with
//! `cbindgen.toml`, plus version macros taken from Cargo.toml. This test
//! regenerates it and fails when the committed header differs.
//!
//! Regenerate: `XNANO_BLESS=1 cargo test --test header` (or
//! `bash scripts/gen-header.sh`).

use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn version_macros() -> String {
    let major = env!("CARGO_PKG_VERSION_MAJOR");
    let minor = env!("CARGO_PKG_VERSION_MINOR");
    let patch = env!("CARGO_PKG_VERSION_PATCH");
    let full = env!("CARGO_PKG_VERSION");
    format!(
        "\n/** Major version of this header (Cargo.toml). */\n\
         #define XNANO_VERSION_MAJOR {major}\n\
         /** Minor version of this header. */\n\
         #define XNANO_VERSION_MINOR {minor}\n\
         /** Patch version of this header. */\n\
         #define XNANO_VERSION_PATCH {patch}\n\
         /** Version of this header as text; compare with xnano_version(). */\n\
         #define XNANO_VERSION_STRING \"{full}\"\n"
    )
}

fn generate() -> String {
    let root = root();
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("read cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        // The result type and xnano_console_info live in the boundary crate
        // shared with libxnano_sim.
        .with_src(root.join("ffi-support/src/lib.rs"))
        .with_src(root.join("ffi-support/src/console_info.rs"))
        .with_after_include(version_macros())
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("header is UTF-8")
}

fn header_path() -> PathBuf {
    root().join("include/xnano.h")
}

#[test]
fn header_is_up_to_date() {
    let fresh = generate();
    let path = header_path();
    if std::env::var_os("XNANO_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != fresh {
        let tmp = std::env::temp_dir().join(format!("xnano-{}.h", std::process::id()));
        std::fs::write(&tmp, &fresh).unwrap();
        panic!(
            "include/xnano.h is stale (fresh copy: {}). Regenerate with \
             `XNANO_BLESS=1 cargo test --test header` and commit it.",
            tmp.display()
        );
    }
}

fn header_text() -> String {
    std::fs::read_to_string(header_path()).expect("include/xnano.h exists")
}

/// Names of the functions the header declares (prototypes are one line).
fn declared_functions(h: &str) -> Vec<String> {
    let mut v = Vec::new();
    for line in h.lines() {
        let t = line.trim();
        if t.starts_with('*')
            || t.starts_with("/*")
            || t.starts_with("typedef")
            || !t.ends_with(");")
        {
            continue;
        }
        if let Some(p) = t.find('(') {
            let name = t[..p]
                .rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap_or("");
            if name.starts_with("xnano_") {
                v.push(name.to_string());
            }
        }
    }
    v
}

#[test]
fn version_macros_match_cargo_toml() {
    let h = header_text();
    for (name, value) in [
        (
            "XNANO_VERSION_MAJOR",
            env!("CARGO_PKG_VERSION_MAJOR").to_string(),
        ),
        (
            "XNANO_VERSION_MINOR",
            env!("CARGO_PKG_VERSION_MINOR").to_string(),
        ),
        (
            "XNANO_VERSION_PATCH",
            env!("CARGO_PKG_VERSION_PATCH").to_string(),
        ),
        (
            "XNANO_VERSION_STRING",
            format!("\"{}\"", env!("CARGO_PKG_VERSION")),
        ),
    ] {
        assert!(
            h.contains(&format!("#define {name} {value}\n")),
            "{name} is not {value}"
        );
    }
    // The library answers the same version at run time, called by its C
    // name as a C program would.
    extern "C" {
        fn xnano_version() -> *const std::ffi::c_char;
    }
    // Keeps the library (and its exported symbols) linked into this test.
    assert!(!xnano::VERSION.is_empty());
    let v = unsafe { std::ffi::CStr::from_ptr(xnano_version()) };
    assert_eq!(v.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}

/// Every declaration line (macro, typedef, prototype, struct field, enum
/// variant) directly follows a doc comment.
#[test]
fn every_item_is_documented() {
    let h = header_text();
    let lines: Vec<&str> = h.lines().collect();
    let mut undocumented = Vec::new();
    let mut items = 0;
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let is_item = (t.starts_with("#define XNANO_") && t != "#define XNANO_H")
            || t.starts_with("typedef")
            || (t.ends_with(");") && t.contains("xnano_"))
            || (line.starts_with("  ")
                && (t.ends_with(';') || t.ends_with(','))
                && !t.starts_with('*'));
        if !is_item || is_fixed_width_typedef(&lines, i) {
            continue;
        }
        items += 1;
        let prev = lines[..i]
            .iter()
            .rev()
            .map(|l| l.trim())
            .find(|l| !l.is_empty());
        if !prev.is_some_and(|p| p.ends_with("*/")) {
            undocumented.push(format!("{}: {}", i + 1, line));
        }
    }
    assert!(items > 100, "only {items} items found: parser broken?");
    assert!(
        undocumented.is_empty(),
        "undocumented:\n{}",
        undocumented.join("\n")
    );
}

/// `typedef uint32_t xnano_result;` (and its C23 twin) after the documented
/// `enum xnano_result`: cbindgen's fixed-width form of a `#[repr(u32)]` enum.
fn is_fixed_width_typedef(lines: &[&str], i: usize) -> bool {
    let t = lines[i].trim();
    let name = t
        .strip_prefix("typedef uint32_t ")
        .or_else(|| {
            t.strip_prefix("typedef enum ")
                .and_then(|r| r.split(' ').next_back())
        })
        .and_then(|r| r.strip_suffix(';'));
    name.is_some_and(|n| lines[..i].iter().any(|l| l.trim() == format!("enum {n}")))
}

/// Result and enum types are 32 bits wide wherever they appear: no C `enum`
/// type (whose width is the compiler's choice) in a struct field, a
/// parameter, a return type or a callback.
#[test]
fn enums_are_fixed_width() {
    let h = header_text();
    for (i, line) in h.lines().enumerate() {
        let t = line.trim();
        if t.starts_with("enum xnano_") || t.starts_with("typedef enum xnano_") {
            continue;
        }
        assert!(
            !t.contains("enum xnano_"),
            "line {}: a C enum type in the ABI: {line}",
            i + 1
        );
    }
    for e in [
        "xnano_result",
        "xnano_state",
        "xnano_event_type",
        "xnano_console_event_type",
        "xnano_console_state",
        "xnano_log_level",
    ] {
        assert!(
            h.contains(&format!("typedef uint32_t {e};")),
            "{e} is not a uint32_t"
        );
    }
}

#[test]
fn header_lists_the_abi_sections() {
    let h = header_text();
    for needle in ["THREAD SAFETY", "LIFETIMES", "user_data"] {
        assert!(h.contains(needle), "header lacks {needle}");
    }
    let fns = declared_functions(&h);
    for f in [
        "xnano_version",
        "xnano_last_error",
        "xnano_client_config_default",
        "xnano_client_new",
        "xnano_client_connect_nano",
        "xnano_client_next_event",
        "xnano_client_stop",
        "xnano_client_free",
        "xnano_abi_version",
        "xnano_discover",
        "xnano_power_on",
        "xnano_console_connect",
        "xnano_console_free",
        "xnano_client_connect_console",
        "xnano_gamestream_config_set",
    ] {
        assert!(fns.iter().any(|x| x == f), "{f} not declared");
    }
    // The simulated console has a header and library of its own.
    assert!(
        !fns.iter().any(|x| x.starts_with("xnano_sim_")),
        "xnano.h declares simulator functions"
    );
}
