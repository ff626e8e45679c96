//! The `xnano` command line: the dissector on every capture, the pcap of a
//! whole SmartGlass session, error objects, and `sim` + `stream` end to end.

#[path = "../../tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value;

const SECRET: &str = "82bba514e6d19521114940bd65121af234c53654a8e67add7710b3725db44f7730ed8e3da7015a09fe0f08e9bef3853c0506327eb77c9951769d923d863a2f5e";

fn xnano() -> Command {
    Command::new(env!("CARGO_BIN_EXE_xnano"))
}

/// Runs xnano, returns (exit ok, stdout lines parsed as JSON, stderr).
fn run(args: &[&str]) -> (bool, Vec<Value>, String) {
    let out = xnano().args(args).output().expect("run xnano");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn channel_for(name: &str) -> Option<&'static str> {
    let parts: Vec<&str> = name.split('_').collect();
    match parts.get(1).copied() {
        Some("video") => Some("video"),
        Some("audio") => Some("audio"),
        Some("input") if name.contains("frame") => Some("input"),
        Some("input") => Some("input"),
        Some("control") if name.contains("msg") => Some("control"),
        _ => None,
    }
}

/// Compares what the CLI printed with the reference decode: every field the
/// reference names must be somewhere in our output with the same value.
fn contains_leaf(v: &Value, key: &str, want: &Value) -> bool {
    match v {
        Value::Object(m) => {
            m.get(key).is_some_and(|x| x == want) || m.values().any(|x| contains_leaf(x, key, want))
        }
        Value::Array(a) => a.iter().any(|x| contains_leaf(x, key, want)),
        _ => false,
    }
}

#[test]
fn decode_every_nano_capture() {
    let dir = common::vectors_dir().join("nano/packets");
    for name in common::list_vectors("nano/packets") {
        let path = dir.join(&name);
        let path = path.to_str().unwrap();
        let mut args = vec!["decode"];
        if let Some(c) = channel_for(&name) {
            args.extend(["--channel", c]);
        }
        if name == "tcp_control_msg_with_header_change_video_quality" {
            args.push("--tcp");
        }
        args.push(path);
        let (ok, lines, err) = run(&args);
        assert!(ok, "{name}: {err}");
        assert_eq!(lines.len(), 1, "{name}");
        let v = &lines[0];
        assert!(v.get("error").is_none(), "{name}: {v}");
        assert_eq!(v["protocol"], "nano", "{name}");
        // Spot-check the RTP header against the reference decode.
        let exp = common::read_expected(&format!("nano/expected/{name}.json"));
        for key in ["sequence_num", "channel_id", "timestamp"] {
            if let Some(want) = exp.pointer(&format!("/header/{key}")) {
                assert!(contains_leaf(v, key, want), "{name}: {key} = {want} in {v}");
            }
        }
    }
}

#[test]
fn decode_every_smartglass_capture_with_the_secret() {
    let dir = common::vectors_dir().join("smartglass/packets");
    for name in common::list_vectors("smartglass/packets") {
        let path = dir.join(&name);
        let (ok, lines, err) = run(&["decode", "--secret", SECRET, path.to_str().unwrap()]);
        assert!(ok, "{name}: {err}");
        assert_eq!(lines.len(), 1, "{name}");
        let v = &lines[0];
        assert!(v.get("error").is_none(), "{name}: {v}");
        assert_eq!(v["protocol"], "smartglass", "{name}");
    }
    // Without the secret an encrypted message is an error object, not a crash.
    let (ok, lines, _) = run(&["decode", dir.join("media_command").to_str().unwrap()]);
    assert!(ok);
    assert!(lines[0].get("error").is_some(), "{}", lines[0]);
}

#[test]
fn pcap_decodes_all_26_packets_of_the_session() {
    let p = common::vectors_dir().join("smartglass/sg_capture.pcap");
    let (ok, lines, err) = run(&["pcap", "--secret", SECRET, p.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert_eq!(lines.len(), 26);
    let mut dirs = std::collections::HashSet::new();
    for v in &lines {
        assert!(v.get("error").is_none(), "{v}");
        assert!(v["time"].is_number(), "{v}");
        dirs.insert(v["direction"].as_str().unwrap().to_string());
    }
    assert_eq!(dirs.len(), 2, "both directions: {dirs:?}");
    // With a wrong secret every message (the capture holds only messages)
    // fails its HMAC, each as an error object naming the HMAC, and the
    // command goes on to the end.
    let wrong = "00".repeat(64);
    let (ok, lines, _) = run(&["pcap", "--secret", &wrong, p.to_str().unwrap()]);
    assert!(ok);
    assert_eq!(lines.len(), 26);
    for v in &lines {
        assert!(v["error"].as_str().unwrap().contains("HMAC"), "{v}");
        assert!(v["time"].is_number(), "{v}");
    }
}

#[test]
fn a_bad_packet_is_an_error_object_and_decoding_goes_on() {
    let dir = std::env::temp_dir().join(format!("xnano-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Two framed packets: a truncated control handshake, then a good one.
    let good = common::read_vector("nano/packets/tcp_control_handshake");
    let mut file = Vec::new();
    file.extend_from_slice(&4u32.to_le_bytes());
    file.extend_from_slice(&good[..4]);
    file.extend_from_slice(&(good.len() as u32).to_le_bytes());
    file.extend_from_slice(&good);
    let p = dir.join("two.bin");
    std::fs::write(&p, &file).unwrap();
    let (ok, lines, _) = run(&["decode", "--tcp", p.to_str().unwrap()]);
    assert!(ok);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0]["error"].is_string(), "{}", lines[0]);
    assert!(
        lines[0]["field"].is_string(),
        "names the field: {}",
        lines[0]
    );
    assert!(lines[1].get("error").is_none(), "{}", lines[1]);
    // A hostile length prefix is an error, not an allocation.
    std::fs::write(&p, [0xff, 0xff, 0xff, 0x7f, 1, 2, 3]).unwrap();
    let (ok, lines, _) = run(&["decode", "--tcp", p.to_str().unwrap()]);
    assert!(ok);
    assert!(lines[0]["error"].is_string());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sim_and_stream_record_a_decodable_h264_file() {
    let dir = std::env::temp_dir().join(format!("xnano-cli-stream-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut sim = xnano()
        .args([
            "sim",
            "--width",
            "640",
            "--height",
            "360",
            "--fps",
            "30",
            "--seconds",
            "90",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut target = None;
    for line in BufReader::new(sim.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(t) = line.strip_prefix("connect with: xnano stream --nano ") {
            target = Some(t.trim().to_string());
            break;
        }
    }
    let target = target.expect("sim printed where it listens");
    let video = dir.join("out.h264");
    let audio = dir.join("out.opus");
    let stats = dir.join("stats.json");
    let out = xnano()
        .args([
            "stream",
            "--nano",
            &target,
            // Until 45 frames and an acknowledged input frame, however slow
            // the machine: 60 s is only the upper bound.
            "--seconds",
            "60",
            "--until-frames",
            "45",
            "--input-demo",
            "--video-out",
            video.to_str().unwrap(),
            "--audio-out",
            audio.to_str().unwrap(),
            "--stats-json",
            stats.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let _ = sim.kill();
    let _ = sim.wait();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let st = common::check_stream_recording(
        "sim_and_stream_record_a_decodable_h264_file",
        &stats,
        &video,
    );
    for key in [
        "frames_dropped",
        "frames_lost",
        "keyframe_requests",
        "input_frames_sent",
        "input_frames_acked",
        "video_bytes",
        "bitrate_bps",
        "latency_p50_us",
        "latency_p99_us",
    ] {
        assert!(st.get(key).is_some(), "stats lack {key}: {st}");
    }
    assert!(st["frames_delivered"].as_u64().unwrap() >= 45, "{st}");
    assert!(st["input_frames_acked"].as_u64().unwrap() > 0, "{st}");
    assert!(std::fs::metadata(&audio).unwrap().len() > 0);
    let _ = std::fs::remove_dir_all(&dir);
}
