//! Interop with the reference implementation (xbox-smartglass-core) through
//! tests/sg_interop.py: it parses what we build, we parse what it builds.
//! Skipped with a notice when `import xbox.sg` fails.

mod sg_support;

mod common;
use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::Value;
use sg_support::diff;
use xnano_proto::crypto::Crypto;
use xnano_proto::wire::sg::common::*;
use xnano_proto::wire::sg::message::*;
use xnano_proto::wire::sg::payloads::*;
use xnano_proto::wire::sg::simple::*;
use xnano_proto::wire::sg::{decode_any, SgPacket};

const SECRET: &str = "82bba514e6d19521114940bd65121af234c53654a8e67add7710b3725db44f7730ed8e3da7015a09fe0f08e9bef3853c0506327eb77c9951769d923d863a2f5e";

fn crypto() -> Crypto {
    let mut s = [0u8; 64];
    hex::decode_to_slice(SECRET, &mut s).unwrap();
    Crypto::from_shared_secret(&s)
}

fn script() -> String {
    format!("{}/tests/sg_interop.py", env!("CARGO_MANIFEST_DIR"))
}

fn reference_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import xbox.sg"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        common::peer_missing(
            "smartglass_interop",
            "the reference implementation (python3 import xbox.sg)",
        );
    }
    ok
}

fn ours() -> Vec<SgPacket> {
    let msg =
        |p: MessagePayload, seq: u32| SgPacket::Message(Message::new(p, seq, 0, 31, 148, true));
    vec![
        msg(
            MessagePayload::LocalJoin(LocalJoin {
                device_type: ClientType::Android,
                native_width: 600,
                native_height: 1024,
                dpi_x: 160,
                dpi_y: 160,
                device_capabilities: DeviceCapabilities::All,
                client_version: 133713371,
                os_major_version: 42,
                os_minor_version: 0,
                display_name: "xnano ☃".into(),
            }),
            1,
        ),
        msg(
            MessagePayload::ConsoleStatus(ConsoleStatus {
                live_tv_provider: 0,
                major_version: 10,
                minor_version: 0,
                build_number: 14393,
                locale: "en-US".into(),
                active_titles: vec![ActiveTitle {
                    title_id: 714681658,
                    disposition: TitleDisposition {
                        has_focus: true,
                        title_location: ActiveTitleLocation::StartView,
                    },
                    product_id: [1; 16],
                    sandbox_id: [2; 16],
                    aum: "Xbox.Home_8wekyb3d8bbwe!Xbox.Home.Application".into(),
                }],
            }),
            2,
        ),
        msg(
            MessagePayload::MediaState(MediaState {
                title_id: 274278798,
                aum_id: "AIVDE_s9eep9cpjhg6g!App".into(),
                asset_id: "".into(),
                media_type: MediaType::Video,
                sound_level: SoundLevel::Full,
                enabled_commands: MediaControlCommand::Play
                    | MediaControlCommand::Pause
                    | MediaControlCommand::Seek,
                playback_status: MediaPlaybackStatus::Playing,
                rate: 1.5,
                position: 10,
                media_start: 0,
                media_end: 1000,
                min_seek: 0,
                max_seek: 900,
                metadata: vec![MediaMetadata {
                    name: "title".into(),
                    value: "x".into(),
                }],
            }),
            3,
        ),
        msg(
            MessagePayload::SystemTextInput(SystemTextInput {
                text_session_id: 8,
                base_version: 1,
                submitted_version: 2,
                total_text_byte_len: 1,
                selection_start: -1,
                selection_length: -1,
                flags: 0,
                text_chunk_byte_start: 0,
                text_chunk: "h".into(),
                delta: Some(vec![TextDelta {
                    offset: 0,
                    delete_count: 1,
                    insert_content: "hi".into(),
                }]),
            }),
            4,
        ),
        msg(
            MessagePayload::SystemTextConfiguration(TextConfiguration {
                text_session_id: 9,
                text_buffer_version: 0,
                text_options: TextOptions::AcceptsReturn | TextOptions::MultiLine,
                input_scope: TextInputScope::Url,
                max_text_length: 100,
                locale: "de-DE".into(),
                prompt: "?".into(),
            }),
            5,
        ),
        msg(
            MessagePayload::SystemTouch(Touch {
                touch_msg_timestamp: 182459592,
                touchpoints: vec![Touchpoint {
                    touchpoint_id: 1,
                    touchpoint_action: TouchAction::Down,
                    touchpoint_x: 244,
                    touchpoint_y: 255,
                }],
            }),
            6,
        ),
        msg(
            MessagePayload::AuxiliaryStream(AuxiliaryStream {
                connection_info_flag: 1,
                connection_info: Some(AuxConnectionInfo {
                    crypto_key: vec![1; 16],
                    server_iv: vec![2; 16],
                    client_iv: vec![3; 16],
                    sign_hash: vec![4; 32],
                    endpoints: vec![AuxEndpoint {
                        ip: "192.168.8.104".into(),
                        port: "57344".into(),
                    }],
                }),
            }),
            7,
        ),
        msg(
            MessagePayload::ChannelStartResponse(ChannelStartResponse {
                channel_request_id: 1,
                target_channel_id: 148,
                result: SGResultCode::SG_E_SUCCESS,
            }),
            8,
        ),
        msg(
            MessagePayload::Json(Json {
                text: r#"{"msgid":"2ed6c0fd.2","request":"GetConfiguration"}"#.into(),
            }),
            9,
        ),
        msg(
            MessagePayload::Ack(Acknowledge {
                low_watermark: 3,
                processed_list: vec![1, 2],
                rejected_list: vec![],
            }),
            10,
        ),
        msg(
            MessagePayload::Gamepad(Gamepad {
                timestamp: 77,
                buttons: GamepadButtons::PadB,
                left_trigger: 0.5,
                right_trigger: 1.0,
                left_thumbstick_x: -0.25,
                left_thumbstick_y: 0.0,
                right_thumbstick_x: 0.0,
                right_thumbstick_y: -1.0,
            }),
            11,
        ),
        msg(
            MessagePayload::MediaCommand(MediaCommand {
                request_id: 5,
                title_id: 274278798,
                command: MediaControlCommand::Seek,
                seek_position: Some(123_456_789_012),
            }),
            12,
        ),
        msg(
            MessagePayload::ActiveSurfaceChange(ActiveSurfaceChange {
                surface_type: ActiveSurfaceType::Direct,
                server_tcp_port: 53394,
                server_udp_port: 49665,
                session_id: [7; 16],
                render_width: 1280,
                render_height: 720,
                master_session_key: [9; 32],
            }),
            13,
        ),
        SgPacket::Message(Message::with_type(
            MessageType::MediaState,
            MessagePayload::Fragment(Fragment {
                sequence_begin: 22,
                sequence_end: 25,
                data: vec![0x30; 100],
            }),
            23,
            31,
            0,
            148,
            true,
        )),
        SgPacket::Simple(SimplePacket::new(SimpleBody::ConnectRequest(
            ConnectRequest {
                unprotected: ConnectRequestUnprotected {
                    sg_uuid: [0xde; 16],
                    public_key_type: PublicKeyType::EC_DH_P256,
                    public_key: vec![0xff; 64],
                    iv: [0x29; 16],
                },
                protected: ConnectRequestProtected {
                    userhash: "deadbeefdeadbeefde".into(),
                    jwt: "dummy_token".into(),
                    connect_request_num: 0,
                    connect_request_group_start: 0,
                    connect_request_group_end: 2,
                },
            },
        ))),
        SgPacket::Simple(SimplePacket::new(SimpleBody::ConnectResponse(
            ConnectResponse {
                unprotected: ConnectResponseUnprotected { iv: [0xc6; 16] },
                protected: ConnectResponseProtected {
                    connect_result: ConnectionResult::Success,
                    pairing_state: PairedIdentityState::NotPaired,
                    participant_id: 31,
                },
            },
        ))),
        SgPacket::Simple(SimplePacket::new(SimpleBody::DiscoveryRequest(
            DiscoveryRequest {
                flags: 0,
                client_type: ClientType::Android,
                minimum_version: 0,
                maximum_version: 2,
            },
        ))),
        SgPacket::Simple(SimplePacket::new(SimpleBody::PowerOnRequest(
            PowerOnRequest {
                liveid: "FD00112233FFEE66".into(),
            },
        ))),
    ]
}

#[test]
fn reference_parses_what_we_build() {
    if !reference_available() {
        return;
    }
    let c = crypto();
    let packets = ours();
    let mut input = String::new();
    for p in &packets {
        let mut b = Vec::new();
        p.encode(Some(&c), &mut b).unwrap();
        input.push_str(&hex::encode(&b));
        input.push('\n');
    }
    let mut child = Command::new("python3")
        .args([script().as_str(), "parse"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().lines().collect();
    assert_eq!(lines.len(), packets.len());
    for (p, line) in packets.iter().zip(lines) {
        let theirs: Value = serde_json::from_str(line).unwrap();
        // Decode our own bytes so header lengths are filled in.
        let mut b = Vec::new();
        p.encode(Some(&c), &mut b).unwrap();
        let back = decode_any(&b, Some(&c)).unwrap();
        let mut mine = serde_json::to_value(&back).unwrap();
        if let Some(t) = mine.pointer_mut("/protected_payload/text") {
            if let Value::String(s) = t {
                *t = serde_json::from_str(s).unwrap();
            }
        }
        let mut d = Vec::new();
        diff("", &mine, &theirs, &mut d);
        assert!(
            d.is_empty(),
            "reference reads our packet differently:\n{}",
            d.join("\n")
        );
    }
}

#[test]
fn we_parse_what_the_reference_builds() {
    if !reference_available() {
        return;
    }
    let c = crypto();
    let out = Command::new("python3")
        .args([script().as_str(), "build"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut seen = 0;
    for line in text.lines() {
        let (name, hx) = line.split_once(' ').unwrap();
        let bytes = hex::decode(hx).unwrap();
        let p = decode_any(&bytes, Some(&c)).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Same bytes when we encode it again (padding, IV and HMAC agree).
        let mut again = Vec::new();
        p.encode(Some(&c), &mut again).unwrap();
        assert_eq!(hex::encode(&again), hx, "{name}");
        let v = serde_json::to_value(&p).unwrap();
        let pp = &v["protected_payload"];
        match name {
            "ack" => {
                assert_eq!(pp["processed_list"], serde_json::json!([5, 6, 7]));
                assert_eq!(pp["rejected_list"], serde_json::json!([9]));
            }
            "json" => assert_eq!(
                pp["text"],
                r#"{"msgid":"ab.1","request":"GetConfiguration"}"#
            ),
            "disconnect" => assert_eq!(pp["reason"]["name"], "Reboot"),
            "power_off" => assert_eq!(pp["liveid"], "FD00112233FFEE66"),
            "title_launch" => assert_eq!(pp["uri"], "ms-xbl-0D174C79://default/"),
            "start_channel" => {
                assert_eq!(pp["service"], "fa20b8ca-66fb-46e0-adb6-0b978a59d35f")
            }
            "gamepad" => {
                assert_eq!(pp["buttons"]["name"], "PadA");
                assert_eq!(pp["right_thumbstick_y"], -1.0);
            }
            "game_dvr_record" => assert_eq!(pp["start_time_delta"], -60),
            "media_seek" => assert_eq!(pp["seek_position"], 123456789012u64),
            "media_play" => assert_eq!(pp["seek_position"], Value::Null),
            "system_text_input" => {
                assert_eq!(pp["text_chunk"], "h");
                assert_eq!(pp["delta"], Value::Null);
            }
            "system_text_done" => assert_eq!(pp["result"]["name"], "Accept"),
            "fragment" => assert_eq!(pp["data"]["len"], 150),
            "power_on" => assert_eq!(v["unprotected_payload"]["liveid"], "FD00112233FFEE66"),
            "discovery" => assert_eq!(v["unprotected_payload"]["client_type"]["name"], "Android"),
            "connect" => {
                assert_eq!(pp["userhash"], "deadbeef");
                assert_eq!(pp["jwt"], "token");
            }
            other => panic!("unexpected {other}"),
        }
        seen += 1;
    }
    assert_eq!(seen, 16);
}
