//! Interop with the reference implementation at the session level: our
//! client engine talks over loopback to a console built from the reference's
//! factory, packet structs, packer and crypto (tests/sg_console_peer.py),
//! with real ECDH on every curve. The reference decodes every message we
//! send (its RX lines are checked field by field) and we decode every
//! console message it builds. The Nano ports it announces belong to our
//! simulated Nano host, so the whole path runs to streamed frames.
//! Skipped with a notice when `import xbox.sg` fails.

mod common;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

use xnano::nano::{self, ClientEvent};
use xnano::smartglass::ServiceChannel;
use xnano::smartglass::{self, ConnectOptions, Event, SgError};
use xnano::smartglass::{CloseReason, SessionConfig, SessionEvent};
use xnano::smartglass::{GameStreamConfig, GameStreamEvent, GameStreamState};
use xnano_proto::crypto::Curve;
use xnano_proto::wire::sg::common::PairedIdentityState;
use xnano_proto::wire::sg::payloads::MessageType;
use xnano_proto::wire::sg::payloads::*;
use xnano_sim::nano::{Host, SimConfig};

const WAIT: Duration = Duration::from_secs(15);

fn reference_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import xbox.sg, cryptography.x509"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        common::peer_missing(
            "smartglass_reference_console",
            "the reference implementation (python3 import xbox.sg)",
        );
    }
    ok
}

struct Peer {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Peer {
    fn start(curve: &str, nano: Option<&Host>, extra: &[&str]) -> Peer {
        let script = format!("{}/tests/sg_console_peer.py", env!("CARGO_MANIFEST_DIR"));
        let mut cmd = Command::new("python3");
        cmd.arg(script).args(["--curve", curve]);
        if let Some(n) = nano {
            cmd.args(["--nano-tcp", &n.tcp_addr().port().to_string()]);
            cmd.args(["--nano-udp", &n.udp_addr().port().to_string()]);
        }
        let mut child = cmd
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut rd = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        rd.read_line(&mut first).unwrap();
        let port = first
            .trim()
            .strip_prefix("PORT ")
            .unwrap_or_else(|| panic!("peer said {first:?}"))
            .parse()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in rd.lines() {
                let Ok(line) = line else { return };
                l2.lock().push(line);
            }
        });
        Peer { child, port, lines }
    }

    fn addr(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Payloads of the RX lines of one type.
    fn rx(&self, name: &str) -> Vec<Value> {
        let prefix = format!("RX {name} ");
        self.lines
            .lock()
            .iter()
            .filter_map(|l| l.strip_prefix(&prefix))
            .map(|j| serde_json::from_str(j).unwrap())
            .collect()
    }

    fn wait_rx(&self, name: &str, mut f: impl FnMut(&Value) -> bool) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(v) = self.rx(name).into_iter().find(|v| f(v)) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "the reference console never decoded a matching {name}; it saw:\n{}",
                self.lines.lock().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn errors(&self) -> Vec<String> {
        self.lines
            .lock()
            .iter()
            .filter(|l| l.starts_with("ERR"))
            .cloned()
            .collect()
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn opts() -> ConnectOptions {
    ConnectOptions {
        session: SessionConfig {
            connect_resend: Duration::from_millis(500),
            connect_attempts: 4,
            ack_timeout: Duration::from_millis(500),
            heartbeat_interval: Duration::from_millis(700),
            ..SessionConfig::default()
        },
        wait_timeout: WAIT,
        ..ConnectOptions::default()
    }
}

type Log = Arc<Mutex<Vec<SessionEvent>>>;

fn recorder() -> (Log, smartglass::EventHandler) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    (
        log,
        Box::new(move |e: &Event| {
            if let Event::Session(s) = e {
                l.lock().push(s.clone());
            }
        }),
    )
}

fn wait_event(log: &Log, what: &str, mut f: impl FnMut(&SessionEvent) -> bool) -> SessionEvent {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(e) = log.lock().iter().find(|e| f(e)).cloned() {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "never got {what}; events: {:?}",
            log.lock()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn pl<'a>(v: &'a Value, field: &str) -> &'a Value {
    &v["payload"][field]
}

#[test]
fn whole_session_against_the_reference_console_on_every_curve() {
    if !reference_available() {
        return;
    }
    for (curve, name) in [
        (Curve::P256, "P256"),
        (Curve::P384, "P384"),
        (Curve::P521, "P521"),
    ] {
        let nano_host = Host::start(SimConfig {
            width: 320,
            height: 240,
            fps: 30,
            bitrate_bps: 1_000_000,
            ..SimConfig::default()
        })
        .unwrap();
        let peer = Peer::start(name, Some(&nano_host), &[]);

        // Discovery: the reference builds the response (its certificate).
        let found = smartglass::discover(Some(peer.addr()), Duration::from_secs(5)).unwrap();
        assert_eq!(found.len(), 1, "{name}");
        let info = found[0].clone();
        assert_eq!(info.name, "RefConsole");
        assert_eq!(info.live_id, "FD00112233FFEE66");
        assert_eq!(info.curve, curve);
        assert_eq!(
            xnano_proto::wire::sg::common::guid_text(&info.uuid),
            "de305d54-75b4-431b-adb2-eb6b9e546014"
        );
        let d = peer.wait_rx("DiscoveryRequest", |_| true);
        assert_eq!(d["client_type"]["name"], "Android");
        assert_eq!(d["maximum_version"], 2);

        let (log, handler) = recorder();
        let client = smartglass::Client::connect(info, opts(), handler).unwrap();
        assert_eq!(client.participant_id(), 31);
        let c = peer.wait_rx("ConnectRequest", |_| true);
        assert_eq!(c["public_key_type"], format!("EC_DH_{name}"));
        assert_eq!(c["userhash"], "");

        // Console -> client messages the reference built.
        wait_event(
            &log,
            "console status",
            |e| matches!(e, SessionEvent::ConsoleStatus(s) if s.active_titles[0].aum.starts_with("Xbox.Home") && s.active_titles[0].disposition.has_focus),
        );
        wait_event(&log, "pairing state", |e| {
            matches!(
                e,
                SessionEvent::PairingState {
                    state: PairedIdentityState::Paired
                }
            )
        });
        wait_event(
            &log,
            "active surface",
            |e| matches!(e, SessionEvent::ActiveSurface(a) if a.server_tcp_port == 53394 && a.master_session_key == [9; 32]),
        );
        wait_event(
            &log,
            "media state (3 fragments)",
            |e| matches!(e, SessionEvent::MediaState(m) if m.metadata.len() == 2 && m.title_id == 274278798),
        );
        wait_event(
            &log,
            "text configuration",
            |e| matches!(e, SessionEvent::TextConfiguration(t) if t.prompt == "Search" && t.input_scope == TextInputScope::Search),
        );
        wait_event(
            &log,
            "console text input",
            |e| matches!(e, SessionEvent::TextInput(t) if t.text_chunk == "hi"),
        );
        wait_event(
            &log,
            "gamestream enabled",
            |e| matches!(e, SessionEvent::GameStream(GameStreamEvent::Enabled(en)) if en.major_protocol_version == 6),
        );
        for ch in ServiceChannel::DEFAULT_SET {
            client.wait_channel(ch, WAIT).unwrap();
        }
        client.start_title_channel(714681658).unwrap();
        client.wait_channel(ServiceChannel::Title, WAIT).unwrap();
        for ty in [
            MessageType::AuxilaryStream,
            MessageType::TitleTextConfiguration,
            MessageType::TitleTextInput,
            MessageType::TitleTextSelection,
        ] {
            wait_event(
                &log,
                ty.name(),
                |e| matches!(e, SessionEvent::Message { msg_type, channel: Some(ServiceChannel::Title), .. } if *msg_type == ty),
            );
        }

        // Client -> console: the reference decodes each.
        let lj = peer.wait_rx("LocalJoin", |_| true);
        assert_eq!(pl(&lj, "display_name"), "SmartGlass-PC");
        assert_eq!(pl(&lj, "device_type")["name"], "WindowsStore");
        let starts = peer.rx("StartChannelRequest");
        assert!(starts.len() >= 6);
        assert!(starts.iter().any(|s| pl(s, "title_id") == 714681658));
        for uuid in [
            "fa20b8ca-66fb-46e0-adb6-0b978a59d35f",
            "d451e3b3-60bb-4c71-b3db-f994b1aca3a7",
            "48a9ca24-eb6d-4e12-8c43-d57469edd3cd",
            "7af3e6a2-488b-40cb-a931-79c04b7da3a0",
            "b6a117d8-f5e2-45d7-862e-8fd8e3156476",
        ] {
            assert!(starts.iter().any(|s| pl(s, "service") == uuid), "{uuid}");
        }
        // Our ack of the console's text input, and our acks of its
        // need-ack messages.
        let ta = peer.wait_rx("SystemTextAck", |v| pl(v, "text_version_ack") == 1);
        assert_eq!(pl(&ta, "text_session_id"), 9);
        let acks = peer.rx("Ack");
        assert!(acks
            .iter()
            .any(|a| !pl(a, "processed_list").as_array().unwrap().is_empty()));
        assert!(acks
            .iter()
            .all(|a| a["channel_id"] == 0 && a["source"] == 31));

        client
            .launch_title("ms-xbl-0D174C79://default/", ActiveTitleLocation::Full)
            .unwrap();
        let v = peer.wait_rx("TitleLaunch", |_| true);
        assert_eq!(pl(&v, "uri"), "ms-xbl-0D174C79://default/");
        let rid = client
            .media_command(274278798, MediaControlCommand::Seek, Some(123_456_789_012))
            .unwrap();
        let v = peer.wait_rx("MediaCommand", |_| true);
        assert_eq!(pl(&v, "request_id"), rid);
        assert_eq!(pl(&v, "seek_position"), 123_456_789_012u64);
        assert_eq!(pl(&v, "command")["name"], "Seek");
        wait_event(
            &log,
            "media command result",
            |e| matches!(e, SessionEvent::MediaCommandResult(r) if r.request_id == rid),
        );
        wait_event(&log, "media controller removed", |e| {
            matches!(
                e,
                SessionEvent::MediaControllerRemoved {
                    title_id: 274278798
                }
            )
        });
        client
            .gamepad(Gamepad {
                timestamp: 99,
                buttons: GamepadButtons::PadA,
                left_trigger: 0.5,
                right_trigger: 1.0,
                left_thumbstick_x: -0.25,
                left_thumbstick_y: 0.75,
                right_thumbstick_x: 0.0,
                right_thumbstick_y: -1.0,
            })
            .unwrap();
        let v = peer.wait_rx("Gamepad", |_| true);
        assert_eq!(pl(&v, "buttons")["name"], "PadA");
        assert_eq!(pl(&v, "left_thumbstick_y"), 0.75);
        client.send_text("hello").unwrap();
        let v = peer.wait_rx("SystemTextInput", |_| true);
        assert_eq!(pl(&v, "text_chunk"), "hello");
        assert_eq!(pl(&v, "base_version"), 1);
        assert_eq!(pl(&v, "submitted_version"), 2);
        wait_event(
            &log,
            "text acknowledged",
            |e| matches!(e, SessionEvent::TextAcknowledged(a) if a.text_version_ack == 2),
        );
        client.text_done(TextResult::Accept).unwrap();
        let v = peer.wait_rx("SystemTextDone", |_| true);
        assert_eq!(pl(&v, "result")["name"], "Accept");
        wait_event(&log, "text done", |e| {
            matches!(e, SessionEvent::TextDone(_))
        });
        client.game_dvr_record(-60, 0).unwrap();
        assert_eq!(
            pl(&peer.wait_rx("GameDvrRecord", |_| true), "start_time_delta"),
            -60
        );
        client.unsnap().unwrap();
        peer.wait_rx("Unsnap", |_| true);
        let tp = Touch {
            touch_msg_timestamp: 182459592,
            touchpoints: vec![Touchpoint {
                touchpoint_id: 1,
                touchpoint_action: TouchAction::Move,
                touchpoint_x: 244,
                touchpoint_y: 255,
            }],
        };
        client.touch(tp.clone()).unwrap();
        let v = peer.wait_rx("SystemTouch", |_| true);
        assert_eq!(
            pl(&v, "touchpoints")[0]["touchpoint_action"]["name"],
            "Move"
        );
        client
            .with_session(|s, now| s.title_touch(tp, now))
            .unwrap();
        peer.wait_rx("TitleTouch", |_| true);
        client
            .accelerometer(Accelerometer {
                timestamp: 1,
                acceleration_x: 0.5,
                acceleration_y: 0.25,
                acceleration_z: 9.75,
            })
            .unwrap();
        assert_eq!(
            pl(&peer.wait_rx("Accelerometer", |_| true), "acceleration_z"),
            9.75
        );
        client
            .gyrometer(Gyrometer {
                timestamp: 1,
                angular_velocity_x: 1.5,
                angular_velocity_y: 0.0,
                angular_velocity_z: 0.0,
            })
            .unwrap();
        assert_eq!(
            pl(&peer.wait_rx("Gyrometer", |_| true), "angular_velocity_x"),
            1.5
        );
        client
            .inclinometer(Inclinometer {
                timestamp: 1,
                pitch: 1.0,
                roll: 2.0,
                yaw: 3.0,
            })
            .unwrap();
        assert_eq!(pl(&peer.wait_rx("Inclinometer", |_| true), "yaw"), 3.0);
        client
            .compass(Compass {
                timestamp: 1,
                magnetic_north: 10.0,
                true_north: 12.5,
            })
            .unwrap();
        assert_eq!(pl(&peer.wait_rx("Compass", |_| true), "true_north"), 12.5);
        client
            .orientation(Orientation {
                timestamp: 1,
                rotation_matrix_value: 0.5,
                w: 1.0,
                x: 0.0,
                y: 0.0,
                z: 0.0,
            })
            .unwrap();
        assert_eq!(
            pl(
                &peer.wait_rx("Orientation", |_| true),
                "rotation_matrix_value"
            ),
            0.5
        );

        // Gamestream with a configuration over 1024 bytes: JSON fragments
        // the reference reassembles; the states it sends start the Nano
        // client against the announced ports.
        let mut cfg = GameStreamConfig::default();
        cfg.set("videoMaximumWidth", "640").unwrap();
        cfg.extra.insert("xnanoPadding".into(), "p".repeat(400));
        let frames = Arc::new(AtomicU64::new(0));
        let f2 = frames.clone();
        client
            .start_gamestream(
                &cfg,
                nano::ClientConfig::default(),
                Box::new(move |e: &ClientEvent| {
                    if let ClientEvent::VideoFrame(_) = e {
                        f2.fetch_add(1, Ordering::Relaxed);
                    }
                }),
            )
            .unwrap();
        let start = peer.wait_rx("JsonAssembled", |v| v["type"] == 1);
        assert_eq!(start["configuration"]["videoMaximumWidth"], "640");
        assert_eq!(start["configuration"]["audioSyncCompressFactor"], "0.99");
        assert_eq!(start["reQueryPreviewStatus"], true);
        client.wait_gamestream(WAIT).unwrap();
        let deadline = Instant::now() + WAIT;
        while frames.load(Ordering::Relaxed) < 10 {
            assert!(Instant::now() < deadline, "no frames");
            std::thread::sleep(Duration::from_millis(10));
        }
        let st = client.gamestream_status();
        assert_eq!(st.state, GameStreamState::Started);
        assert_eq!(
            st.nano_ports(),
            Some((nano_host.tcp_addr().port(), nano_host.udp_addr().port()))
        );
        assert_eq!(st.preview_status.map(|p| p.is_public_preview), Some(false));
        let tele = st.telemetry.expect("fragmented telemetry reassembled");
        assert!(tele.contains(&"t".repeat(900)));
        let stats = client.stop_gamestream().unwrap().unwrap();
        assert!(stats.frames_delivered >= 10);
        peer.wait_rx("Json", |v| pl(v, "text")["type"] == 2);
        wait_event(
            &log,
            "state Stopped",
            |e| matches!(e, SessionEvent::GameStream(GameStreamEvent::State(s)) if s.state == GameStreamState::Stopped),
        );

        client
            .stop_channel(ServiceChannel::SystemInputTVRemote)
            .unwrap();
        peer.wait_rx("StopChannel", |_| true);
        assert!(
            !log.lock().iter().any(|e| matches!(
                e,
                SessionEvent::Rejected { .. } | SessionEvent::SendFailed { .. }
            )),
            "{name}: {:?}",
            log.lock()
        );
        // Heartbeats (empty acks that want an ack) reached the reference,
        // and its acks of them kept the session alive.
        if client.stats().heartbeats_sent > 0 {
            peer.wait_rx("Ack", |a| {
                a["need_ack"] == true
                    && pl(a, "processed_list")
                        .as_array()
                        .is_some_and(|l| l.is_empty())
            });
        }

        if curve == Curve::P521 {
            // Power off: the console says goodbye.
            client.power_off().unwrap();
            let v = peer.wait_rx("PowerOff", |_| true);
            assert_eq!(pl(&v, "liveid"), "FD00112233FFEE66");
            wait_event(&log, "the console's disconnect", |e| {
                matches!(
                    e,
                    SessionEvent::Closed(CloseReason::Disconnected {
                        reason: DisconnectReason::PowerOff,
                        ..
                    })
                )
            });
        } else {
            client.disconnect().unwrap();
            let v = peer.wait_rx("Disconnect", |_| true);
            assert_eq!(pl(&v, "reason")["name"], "Unspecified");
        }
        assert_eq!(peer.errors(), Vec::<String>::new(), "{name}");
        // Every message type the reference saw from us.
        let mut kinds: HashMap<String, usize> = HashMap::new();
        for l in peer.lines.lock().iter() {
            if let Some(rest) = l.strip_prefix("RX ") {
                *kinds
                    .entry(rest.split(' ').next().unwrap().to_string())
                    .or_default() += 1;
            }
        }
        println!("{name}: reference decoded {kinds:?}");
    }
}

#[test]
fn tampered_packets_and_a_wrong_key_from_the_reference_console() {
    if !reference_available() {
        return;
    }
    // The console status comes after three bad copies (HMAC, ciphertext,
    // truncated): each is rejected with a reason, the real one arrives.
    let peer = Peer::start("P384", None, &["--tamper"]);
    let (log, handler) = recorder();
    let client = smartglass::Client::connect(peer.addr(), opts(), handler).unwrap();
    wait_event(&log, "console status", |e| {
        matches!(e, SessionEvent::ConsoleStatus(_))
    });
    let rejected: Vec<String> = log
        .lock()
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Rejected { error } => Some(error.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(rejected.len(), 3, "{rejected:?}");
    assert!(rejected.iter().filter(|e| e.contains("HMAC")).count() >= 2);
    assert!(rejected.iter().any(|e| e.contains("truncated")));
    client.disconnect().unwrap();
    drop(peer);

    // The connect response is sealed with another key.
    let peer = Peer::start("P256", None, &["--wrong-key"]);
    match smartglass::Client::connect(peer.addr(), opts(), Box::new(|_| {})) {
        Err(SgError::Closed(CloseReason::ConnectTimeout {
            last_error: Some(e),
        })) => assert!(e.contains("connect_response") && e.contains("HMAC"), "{e}"),
        r => panic!("{r:?}"),
    }
}

#[test]
fn authenticated_connect_fragments_read_by_the_reference() {
    if !reference_available() {
        return;
    }
    let peer = Peer::start("P256", None, &[]);
    let mut o = opts();
    o.session.userhash = "2535428504476914".into();
    o.session.auth_token = "eyJ0eXAiOi".repeat(300);
    let client = smartglass::Client::connect(peer.addr(), o, Box::new(|_| {})).unwrap();
    // The reference's log is read from its stdout by another thread, which
    // may still be behind the UDP answer the connect returned on.
    peer.wait_rx("ConnectRequest", |r| {
        r["num"].as_u64().map(|n| n + 1) == r["group_end"].as_u64()
    });
    let reqs = peer.rx("ConnectRequest");
    assert!(reqs.len() >= 3, "{reqs:?}");
    let total: u64 = reqs.iter().map(|r| r["jwt_len"].as_u64().unwrap()).sum();
    assert_eq!(total, 3000);
    assert_eq!(reqs[0]["userhash"], "2535428504476914");
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(r["num"], i as u64);
        assert_eq!(r["group_end"], reqs.len() as u64);
    }
    client.disconnect().unwrap();
    assert_eq!(peer.errors(), Vec::<String>::new());
}
