//! The `xnano` binary against the simulated console over SmartGlass:
//! discover, power-on and a stream started through the console; and the
//! console that `xnano sim` runs answers discovery on the port it prints.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use xnano::smartglass;
use xnano_proto::crypto::Curve;
use xnano_sim::smartglass::{Host, HostEvent};

use common::sg::{sim_cfg, sim_event, WAIT};

#[test]
fn cli_discover_power_on_and_stream() {
    let sim = Host::start(sim_cfg(Curve::P384)).unwrap();
    let exe = env!("CARGO_BIN_EXE_xnano");
    let addr = sim.addr().to_string();
    let out = std::process::Command::new(exe)
        .args(["discover", "--addr", &addr, "--timeout", "3000", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8(out.stdout).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    assert_eq!(v["live_id"], sim.live_id());
    assert_eq!(v["curve"], "EC_DH_P384");
    assert_eq!(v["address"], addr);

    let out = std::process::Command::new(exe)
        .args([
            "power-on",
            "--live-id",
            sim.live_id(),
            "--addr",
            &addr,
            "--unicast",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (st, ok) = sim.wait_for_stats(WAIT, |s| s.power_on_requests >= 2);
    assert!(ok, "{st:?}");

    let dir = std::env::temp_dir().join(format!("xnano-sg-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let video = dir.join("v.h264");
    let stats = dir.join("stats.json");
    let out = std::process::Command::new(exe)
        .args([
            "stream",
            "--console",
            &addr,
            "--seconds",
            "2",
            "--gs",
            "videoMaximumWidth=640",
        ])
        .arg("--video-out")
        .arg(&video)
        .arg("--stats-json")
        .arg(&stats)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("gamestream Started"), "{err}");
    common::check_stream_recording("cli_discover_power_on_and_stream", &stats, &video);
    let req = sim_event(&sim, "the gamestream request", |e| {
        matches!(e, HostEvent::GameStreamRequested { .. })
    });
    if let HostEvent::GameStreamRequested { configuration, .. } = req {
        assert_eq!(configuration["videoMaximumWidth"], "640");
    }
    sim_event(&sim, "the disconnect", |e| {
        matches!(e, HostEvent::ClientDisconnected { .. })
    });
    let bad = std::process::Command::new(exe)
        .args([
            "stream",
            "--console",
            &addr,
            "--gs",
            "videoMaximumWidth=wide",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("videoMaximumWidth"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `xnano sim` answers SmartGlass discovery on the port it prints, with the
/// name, curve and Live ID it was given and printed.
#[test]
fn cli_sim_answers_smartglass() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xnano"))
        .args([
            "sim",
            "--sg-port",
            "0",
            "--curve",
            "p384",
            "--name",
            "CliBox",
            "--seconds",
            "60",
            "--width",
            "320",
            "--height",
            "240",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr: SocketAddr = first
        .strip_prefix("smartglass udp ")
        .unwrap_or_else(|| panic!("{first}"))
        .parse()
        .unwrap();
    let live = lines.next().unwrap().unwrap();
    let found = smartglass::discover(Some(addr), WAIT);
    let _ = child.kill();
    let _ = child.wait();
    let found = found.expect("discovery");
    let d = found
        .first()
        .expect("a discovery response from the CLI's console");
    assert_eq!(d.name, "CliBox");
    assert_eq!(d.curve, Curve::P384);
    assert_eq!(live, format!("live id {}", d.live_id));
}
