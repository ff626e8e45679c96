//! The simulated console's SmartGlass side (src/sim/console):
//! - against the REFERENCE Python client (xbox-smartglass-core/-nano) as an
//!   independent peer, through tests/sim_console_client.py (skipped with a
//!   notice when `import xbox.sg` fails): discovery, power-on, anonymous and
//!   authenticated (fragmented) connect, console status, channels, media,
//!   gamepad, text, DVR, title launch, gamestream states and Nano streaming,
//!   power off, on P-256, P-384 and P-521;
//! - against a minimal packet-level client built from our wire layer:
//!   tampered, malformed and wrong-key packets are dropped and counted and
//!   the console keeps working; acks, resends, timeouts, fragments, JSON
//!   fragmentation, power states and fault injection.

mod common;
use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;
use parking_lot::Mutex;
use serde_json::Value;
use xnano_proto::crypto::{CertificateInfo, Crypto, Curve};
use xnano_proto::wire::sg::common::*;
use xnano_proto::wire::sg::message::*;
use xnano_proto::wire::sg::payloads::*;
use xnano_proto::wire::sg::simple::*;
use xnano_sim::nano::{AudioMode, SimConfig, VideoMode};
use xnano_sim::smartglass::{
    Faults, Host as SgHost, HostEvent as SgHostEvent, RejectKind, ServiceChannel,
    SimConfig as SgSimConfig,
};

// ---------------------------------------------------------------------------
// helpers

fn fast_nano() -> SimConfig {
    SimConfig {
        width: 640,
        height: 360,
        fps: 60,
        video: VideoMode::Synthetic {
            seed: 5,
            min_len: 2000,
            max_len: 6000,
        },
        audio: AudioMode::Pcm,
        keyframe_interval: 30,
        ..SimConfig::default()
    }
}

fn cfg(curve: Curve) -> SgSimConfig {
    SgSimConfig {
        curve,
        name: "SimBox".into(),
        nano: fast_nano(),
        ..SgSimConfig::default()
    }
}

fn reference_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import xbox.sg, xbox.nano.manager"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        common::peer_missing(
            "sim_console reference client tests",
            "the reference implementation (python3 import xbox.sg, xbox.nano)",
        );
    }
    ok
}

/// The reference client running tests/sim_console_client.py.
struct PyClient {
    child: Child,
    lines: Receiver<Value>,
    seen: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl PyClient {
    fn spawn(sim: &SgHost, args: &[&str]) -> PyClient {
        let script = format!("{}/tests/sim_console_client.py", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new("python3")
            .arg(script)
            .arg(sim.addr().ip().to_string())
            .arg(sim.addr().port().to_string())
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run python3");
        let (tx, rx) = crossbeam_channel::unbounded();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        {
            let seen = seen.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    match serde_json::from_str::<Value>(&line) {
                        Ok(v) => {
                            seen.lock().push(v.clone());
                            let _ = tx.send(v);
                        }
                        Err(_) => eprintln!("py: {line}"),
                    }
                }
            });
        }
        let stderr_buf = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        {
            let buf = stderr_buf.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let mut b = buf.lock();
                    if b.len() < 200_000 {
                        b.push_str(&line);
                        b.push('\n');
                    }
                }
            });
        }
        PyClient {
            child,
            lines: rx,
            seen,
            stderr: stderr_buf,
        }
    }

    /// Waits for the step named `step`; panics on error/timeout steps.
    fn wait_step(&self, step: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => {
                    let s = v["step"].as_str().unwrap_or("");
                    if s == step {
                        return v;
                    }
                    if s == "timeout" || s == "error" {
                        panic!(
                            "reference client failed while waiting for {step}: {v}\nstderr:\n{}",
                            self.stderr.lock()
                        );
                    }
                }
                Err(_) => panic!(
                    "no {step} from the reference client; seen {:?}\nstderr:\n{}",
                    self.seen.lock(),
                    self.stderr.lock()
                ),
            }
        }
    }

    fn finish(mut self, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                // Let the reader threads drain.
                std::thread::sleep(Duration::from_millis(50));
                let seen = self.seen.lock().clone();
                assert!(
                    st.success(),
                    "reference client exited with {st}: {seen:?}\nstderr:\n{}",
                    self.stderr.lock()
                );
                return seen;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "reference client did not finish: {:?}\nstderr:\n{}",
                    self.seen.lock(),
                    self.stderr.lock()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PyClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn drain(rx: &Receiver<SgHostEvent>) -> Vec<SgHostEvent> {
    rx.try_iter().collect()
}

fn has_msg(sim: &SgHost, f: impl Fn(&MessagePayload) -> bool) -> bool {
    sim.received_messages().iter().any(|m| f(&m.payload))
}

fn media_state() -> MediaState {
    MediaState {
        title_id: 0x12345678,
        aum_id: "Sim.Player_8wekyb3d8bbwe!App".into(),
        asset_id: "".into(),
        media_type: MediaType::Video,
        sound_level: SoundLevel::Full,
        enabled_commands: MediaControlCommand::Play
            | MediaControlCommand::Pause
            | MediaControlCommand::PlayPauseToggle
            | MediaControlCommand::Seek,
        playback_status: MediaPlaybackStatus::Paused,
        rate: 1.0,
        position: 0,
        media_start: 0,
        media_end: 10_000_000,
        min_seek: 0,
        max_seek: 10_000_000,
        metadata: vec![MediaMetadata {
            name: "title".into(),
            value: "Sim Movie".into(),
        }],
    }
}

// ---------------------------------------------------------------------------
// the reference client

#[test]
fn reference_client_full_session_p256() {
    if !reference_available() {
        return;
    }
    let mut c = cfg(Curve::P256);
    c.media_state = Some(media_state());
    let mut sim = SgHost::start(c).unwrap();
    let events = sim.events();
    let py = PyClient::spawn(
        &sim,
        &[
            "--power-on",
            "--media",
            "--expect-media-state",
            "--text",
            "--gamestream",
            "--nano-frames",
            "10",
            "--end",
            "poweroff",
        ],
    );

    let d = py.wait_step("discovered", Duration::from_secs(20));
    assert_eq!(d["name"], "SimBox");
    assert_eq!(d["liveid"], sim.live_id());
    assert_eq!(d["public_key"], hex::encode(sim.public_key()));
    assert_eq!(d["curve"], "secp256r1");
    assert_eq!(d["flags"], 6, "anonymous + authenticated users");
    assert_eq!(
        d["cert_signature_ok"], true,
        "self-signed certificate verifies"
    );
    assert_eq!(d["cert_subject"], format!("CN={}", sim.live_id()));
    assert_eq!(d["cert_issuer"], d["cert_subject"]);

    py.wait_step("waiting_for_text", Duration::from_secs(30));
    let sent = sim.send_text_configuration(TextConfiguration {
        text_session_id: 9,
        text_buffer_version: 0,
        text_options: TextOptions::MultiLine,
        input_scope: TextInputScope::Default,
        max_text_length: 100,
        locale: "en-US".into(),
        prompt: "Name?".into(),
    });
    assert_eq!(sent, 1);
    let seen = py.finish(Duration::from_secs(60));
    let step = |s: &str| {
        seen.iter()
            .find(|v| v["step"] == s)
            .cloned()
            .unwrap_or_else(|| panic!("no {s} step in {seen:?}"))
    };

    // Connect, status, channels.
    let conn = step("connected");
    assert_eq!(conn["state"], "Connected");
    assert_eq!(conn["pairing"], "NotPaired");
    assert_eq!(conn["participant_id"], 31);
    let st = step("console_status");
    assert_eq!(st["build"], 14393);
    assert_eq!(st["titles"][0]["title_id"], 714681658);
    assert_eq!(st["titles"][0]["has_focus"], true);
    let ch = step("channels")["channels"].clone();
    let mut ids: Vec<u64> = ch
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![148, 149, 150, 151, 152]);

    // Media.
    let r = step("media_command_result");
    assert_eq!(r["result"]["request_id"], 77);
    assert_eq!(r["result"]["result"], 0);
    let ms = step("media_state");
    assert_eq!(
        ms["first"]["playback_status"],
        MediaPlaybackStatus::Paused.raw()
    );
    assert_eq!(ms["first"]["aum_id"], "Sim.Player_8wekyb3d8bbwe!App");
    assert_eq!(
        ms["state"]["playback_status"],
        MediaPlaybackStatus::Playing.raw()
    );

    // Text.
    assert_eq!(step("text_configuration")["prompt"], "Name?");
    assert_eq!(step("text_done")["version"], 1);

    // Gamestream.
    let gs = step("gamestream");
    assert_eq!(gs["state"], "Started");
    assert_eq!(gs["enabled"], true);
    assert_eq!(gs["server_major"], 6);
    assert_eq!(gs["wireless"], false);
    assert_eq!(gs["link_speed"], 1_000_000_000u64);
    assert_eq!(gs["telemetry"], true);
    assert!(gs["session_id"].as_str().unwrap().starts_with('{'));
    assert!(step("nano_frames")["frames"].as_u64().unwrap() >= 10);
    assert_eq!(step("gamestream_stopped")["state"], "Stopped");
    step("powered_off");

    // What the console saw.
    let ev = drain(&events);
    let started = ev
        .iter()
        .find_map(|e| match e {
            SgHostEvent::GameStreamStarted {
                tcp_port, udp_port, ..
            } => Some((*tcp_port, *udp_port)),
            _ => None,
        })
        .expect("GameStreamStarted event");
    assert_eq!(gs["tcp_port"], started.0);
    assert_eq!(gs["udp_port"], started.1);
    assert!(ev
        .iter()
        .any(|e| matches!(e, SgHostEvent::PowerOnRequest { matched: true, .. })));
    assert!(ev
        .iter()
        .any(|e| matches!(e, SgHostEvent::GameStreamStopped { .. })));
    assert!(ev
        .iter()
        .any(|e| matches!(e, SgHostEvent::PoweredOff { by_client: true })));
    assert_eq!(
        ev.iter()
            .filter(|e| matches!(e, SgHostEvent::ChannelStarted { .. }))
            .count(),
        5
    );
    assert!(has_msg(
        &sim,
        |p| matches!(p, MessagePayload::LocalJoin(j) if j.display_name == "SmartGlass-PC")
    ));
    assert!(has_msg(
        &sim,
        |p| matches!(p, MessagePayload::MediaCommand(m)
        if m.request_id == 77 && m.command == MediaControlCommand::Play && m.title_id == 0x12345678)
    ));
    assert!(has_msg(&sim, |p| matches!(p, MessagePayload::Gamepad(g)
        if g.buttons == (GamepadButtons::PadA | GamepadButtons::DPadUp) && g.left_trigger == 0.5)));
    assert!(has_msg(
        &sim,
        |p| matches!(p, MessagePayload::GameDvrRecord(g)
        if g.start_time_delta == -30 && g.end_time_delta == 0)
    ));
    assert!(has_msg(
        &sim,
        |p| matches!(p, MessagePayload::TitleLaunch(t)
        if t.uri == "ms-xbl-0D174C79://default/")
    ));
    assert!(has_msg(&sim, |p| matches!(p, MessagePayload::Unsnap(_))));
    assert!(has_msg(
        &sim,
        |p| matches!(p, MessagePayload::SystemTextInput(t)
        if t.text_chunk == "hello sim" && t.text_session_id == 9)
    ));
    assert!(has_msg(
        &sim,
        |p| matches!(p, MessagePayload::SystemTextDone(t)
        if t.text_session_id == 9 && t.result == TextResult::Accept)
    ));
    assert!(has_msg(
        &sim,
        |p| matches!(p, MessagePayload::PowerOff(o) if o.liveid == sim.live_id())
    ));
    let js: Vec<_> = sim
        .received_messages()
        .into_iter()
        .filter(|m| m.channel == Some(ServiceChannel::SystemBroadcast))
        .collect();
    assert!(js.len() >= 2, "start and stop gamestream JSON: {js:?}");
    assert!(!sim.is_powered_on());
    assert!(!sim.streaming());
    let ns = sim.nano_server_stats().expect("a Nano host ran");
    assert_eq!(ns.clients_accepted, 1);
    assert!(ns.session.video_frames_sent >= 10);
    let s = sim.stats();
    assert_eq!(s.bad_hmac, 0);
    assert_eq!(s.malformed, 0);
    assert_eq!(s.connects_accepted, 1);
    assert_eq!(s.gamestreams_started, 1);
    assert_eq!(s.gamestreams_stopped, 1);
    sim.stop();
}

/// P-384 and P-521: the reference client discovers (its `cryptography`
/// parses and verifies the certificate), connects with ECDH on that curve,
/// starts the channels and a gamestream, and disconnects.
#[test]
fn reference_client_on_p384_and_p521() {
    if !reference_available() {
        return;
    }
    for (curve, name) in [(Curve::P384, "secp384r1"), (Curve::P521, "secp521r1")] {
        let mut sim = SgHost::start(cfg(curve)).unwrap();
        let events = sim.events();
        let py = PyClient::spawn(&sim, &["--gamestream", "--end", "disconnect"]);
        let seen = py.finish(Duration::from_secs(60));
        let step = |s: &str| seen.iter().find(|v| v["step"] == s).cloned().unwrap();
        let d = step("discovered");
        assert_eq!(d["curve"], name);
        assert_eq!(d["cert_signature_ok"], true);
        assert_eq!(d["public_key"], hex::encode(sim.public_key()));
        assert_eq!(step("connected")["state"], "Connected");
        assert_eq!(step("gamestream")["state"], "Started");
        assert_eq!(step("gamestream_stopped")["state"], "Stopped");
        let ev = drain(&events);
        assert!(
            ev.iter()
                .any(|e| matches!(e, SgHostEvent::Connected { curve: c, authenticated: false, .. } if *c == curve)),
            "{curve:?}: {ev:?}"
        );
        assert!(ev.iter().any(|e| matches!(
            e,
            SgHostEvent::ClientDisconnected {
                reason: DisconnectReason::Unspecified,
                ..
            }
        )));
        assert!(sim.clients().is_empty());
        assert_eq!(sim.stats().bad_hmac, 0);
        sim.stop();
    }
}

/// A user hash plus a long token: the reference fragments its connect
/// request; the console reassembles it and answers Paired.
#[test]
fn reference_client_authenticated_fragmented_connect() {
    if !reference_available() {
        return;
    }
    let mut sim = SgHost::start(cfg(Curve::P256)).unwrap();
    let events = sim.events();
    let py = PyClient::spawn(&sim, &["--userhash", "deadbeefcafe", "--token-len", "3000"]);
    let seen = py.finish(Duration::from_secs(60));
    let conn = seen.iter().find(|v| v["step"] == "connected").unwrap();
    assert_eq!(conn["pairing"], "Paired");
    let ev = drain(&events);
    let (uh, len, frags) = ev
        .iter()
        .find_map(|e| match e {
            SgHostEvent::Connected {
                authenticated: true,
                userhash,
                auth_token_len,
                fragments,
                ..
            } => Some((userhash.clone(), *auth_token_len, *fragments)),
            _ => None,
        })
        .expect("authenticated connect");
    assert_eq!(uh, "deadbeefcafe");
    assert_eq!(len, 3000);
    assert!(
        frags >= 3,
        "3000 bytes of token need several fragments: {frags}"
    );
    assert!(sim.stats().connect_requests >= frags as u64);
    sim.stop();
}

/// An injected connect failure reaches the reference client as its result.
#[test]
fn reference_client_sees_connect_rejection() {
    if !reference_available() {
        return;
    }
    let mut c = cfg(Curve::P256);
    c.faults.reject_connect = Some(ConnectionResult::FailureDeviceLimitExceeded);
    let mut sim = SgHost::start(c).unwrap();
    let py = PyClient::spawn(&sim, &[]);
    let seen = py.finish(Duration::from_secs(30));
    let f = seen
        .iter()
        .find(|v| v["step"] == "connect_failed")
        .expect("connect_failed");
    assert!(
        f["error"]
            .as_str()
            .unwrap()
            .contains("FailureDeviceLimitExceeded"),
        "{f}"
    );
    assert_eq!(sim.stats().connects_rejected, 1);
    assert!(sim.clients().is_empty());
    sim.stop();
}

/// The reference client's heartbeats (empty need-ack acks every 3 s) are
/// answered, so its session stays up.
#[test]
fn reference_client_heartbeat_keeps_session() {
    if !reference_available() {
        return;
    }
    let mut sim = SgHost::start(cfg(Curve::P256)).unwrap();
    let py = PyClient::spawn(&sim, &["--heartbeat-wait", "3.5", "--end", "none"]);
    let seen = py.finish(Duration::from_secs(40));
    let s = seen
        .iter()
        .find(|v| v["step"] == "still_connected")
        .unwrap();
    assert_eq!(s["connected"], true);
    let st = sim.stats();
    assert!(st.heartbeats >= 2, "{st:?}");
    assert_eq!(sim.clients().len(), 1);
    sim.stop();
}

/// A console that is off does not answer the reference's discovery.
#[test]
fn reference_client_finds_no_console_when_off() {
    if !reference_available() {
        return;
    }
    let mut c = cfg(Curve::P256);
    c.powered_on = false;
    let mut sim = SgHost::start(c).unwrap();
    let py = PyClient::spawn(&sim, &["--expect-no-console", "--discover-timeout", "1"]);
    let seen = py.finish(Duration::from_secs(30));
    let n = seen
        .iter()
        .find(|v| v["step"] == "discovered_none")
        .unwrap();
    assert_eq!(n["count"], 0);
    assert!(sim.stats().discovery_requests >= 1);
    assert_eq!(sim.stats().discovery_responses, 0);
    sim.stop();
}

// ---------------------------------------------------------------------------
// a minimal client from our wire layer

/// The bound on every wait for something that must happen (generous: the
/// waits end as soon as it does, and a loaded machine may be slow).
const T: Duration = Duration::from_secs(20);

struct Raw {
    sock: UdpSocket,
    to: SocketAddr,
    crypto: Option<Crypto>,
    seq: u32,
    pid: u32,
    frags: FragmentReassembler,
}

impl Raw {
    fn new(to: SocketAddr) -> Raw {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        Raw {
            sock,
            to,
            crypto: None,
            seq: 0,
            pid: 0,
            frags: FragmentReassembler::default(),
        }
    }

    fn send(&self, b: &[u8]) {
        self.sock.send_to(b, self.to).unwrap();
    }

    fn recv(&self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        while Instant::now() < deadline {
            if let Ok((n, _)) = self.sock.recv_from(&mut buf) {
                return Some(buf[..n].to_vec());
            }
        }
        None
    }

    fn discover(&self) -> Option<DiscoveryResponse> {
        let req = SimplePacket::new(SimpleBody::DiscoveryRequest(DiscoveryRequest {
            flags: 0,
            client_type: ClientType::Android,
            minimum_version: 0,
            maximum_version: 2,
        }));
        self.send(&req.to_bytes(None).unwrap());
        let b = self.recv(Duration::from_millis(500))?;
        match SimplePacket::decode(&b, None).unwrap().body {
            SimpleBody::DiscoveryResponse(d) => Some(d),
            other => panic!("not a discovery response: {other:?}"),
        }
    }

    /// The connect request packets (one unless the token is long).
    fn connect_packets(
        &mut self,
        cert: &CertificateInfo,
        curve: Curve,
        userhash: &str,
        token: &str,
    ) -> Vec<Vec<u8>> {
        let (crypto, ours) = Crypto::new_ecdh(curve, &cert.public_key).unwrap();
        let reqs = ConnectRequest::build_group(
            [7; 16],
            PublicKeyType::from_raw(curve.public_key_type()),
            ours,
            userhash,
            token,
            0,
            Crypto::random_iv,
        );
        let pkts = reqs
            .into_iter()
            .map(|r| {
                SimplePacket::new(SimpleBody::ConnectRequest(r))
                    .to_bytes(Some(&crypto))
                    .unwrap()
            })
            .collect();
        self.crypto = Some(crypto);
        pkts
    }

    fn connect_response(&mut self) -> Result<ConnectResponseProtected, String> {
        let b = self.recv(T).ok_or("no connect response")?;
        match SimplePacket::decode(&b, self.crypto.as_ref())
            .map_err(|e| e.to_string())?
            .body
        {
            SimpleBody::ConnectResponse(r) => {
                self.pid = r.protected.participant_id;
                Ok(r.protected)
            }
            other => Err(format!("not a connect response: {other:?}")),
        }
    }

    fn connect(&mut self, sim: &SgHost, userhash: &str, token: &str) -> ConnectResponseProtected {
        let d = self.discover().expect("discovery response");
        for p in self.connect_packets(&d.cert, sim.curve(), userhash, token) {
            self.send(&p);
        }
        self.connect_response().unwrap()
    }

    fn msg_bytes(
        &mut self,
        payload: MessagePayload,
        channel_id: u64,
        need_ack: bool,
    ) -> (u32, Vec<u8>) {
        self.seq += 1;
        let m = Message::new(payload, self.seq, 0, self.pid, channel_id, need_ack);
        (self.seq, m.to_bytes(self.crypto.as_ref().unwrap()).unwrap())
    }

    fn send_msg(&mut self, payload: MessagePayload, channel_id: u64, need_ack: bool) -> u32 {
        let (seq, b) = self.msg_bytes(payload, channel_id, need_ack);
        self.send(&b);
        seq
    }

    /// The next message that decodes (fragments reassembled).
    fn recv_msg(&mut self, timeout: Duration) -> Option<Message> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let b = self.recv(deadline.saturating_duration_since(Instant::now()))?;
            let Ok(m) = Message::decode(&b, self.crypto.as_ref().unwrap()) else {
                continue;
            };
            if let MessagePayload::Fragment(f) = &m.payload {
                if let Some(p) = self.frags.push_decode(&m.header, f).unwrap() {
                    return Some(Message {
                        header: m.header,
                        payload: p,
                    });
                }
                continue;
            }
            return Some(m);
        }
        None
    }

    fn recv_until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&Message) -> bool,
    ) -> Option<Message> {
        let deadline = Instant::now() + timeout;
        while let Some(m) = self.recv_msg(deadline.saturating_duration_since(Instant::now())) {
            if pred(&m) {
                return Some(m);
            }
        }
        None
    }

    fn ack(&mut self, seqs: Vec<u32>) {
        self.send_msg(
            MessagePayload::Ack(Acknowledge {
                low_watermark: 0,
                processed_list: seqs,
                rejected_list: vec![],
            }),
            0,
            false,
        );
    }

    fn local_join(&mut self) -> u32 {
        self.send_msg(
            MessagePayload::LocalJoin(LocalJoin {
                device_type: ClientType::WindowsStore,
                native_width: 1080,
                native_height: 1920,
                dpi_x: 96,
                dpi_y: 96,
                device_capabilities: DeviceCapabilities::All,
                client_version: 39,
                os_major_version: 6,
                os_minor_version: 2,
                display_name: "raw".into(),
            }),
            0,
            true,
        )
    }

    fn start_channel(&mut self, ch: ServiceChannel, request_id: u32) -> ChannelStartResponse {
        self.send_msg(
            MessagePayload::ChannelStartRequest(ChannelStartRequest {
                channel_request_id: request_id,
                title_id: 0,
                service: ch.uuid().unwrap(),
                activity_id: 0,
            }),
            0,
            true,
        );
        let m = self
            .recv_until(T, |m| matches!(&m.payload, MessagePayload::ChannelStartResponse(r) if r.channel_request_id == request_id))
            .expect("channel start response");
        self.ack(vec![m.header.sequence_number]);
        match m.payload {
            MessagePayload::ChannelStartResponse(r) => r,
            _ => unreachable!(),
        }
    }

    fn json_messages(&mut self, timeout: Duration, want: usize) -> Vec<Value> {
        let mut out = Vec::new();
        let deadline = Instant::now() + timeout;
        let mut re = xnano_proto::wire::sg::json::JsonReassembler::default();
        while out.len() < want {
            let Some(m) = self.recv_msg(deadline.saturating_duration_since(Instant::now())) else {
                break;
            };
            if m.header.flags.need_ack {
                self.ack(vec![m.header.sequence_number]);
            }
            if let MessagePayload::Json(j) = m.payload {
                if let Some(t) = re.accept(&j.text).unwrap() {
                    out.push(serde_json::from_str(&t).unwrap());
                }
            }
        }
        out
    }
}

fn wait_stats(
    sim: &SgHost,
    cond: impl FnMut(&xnano_sim::smartglass::HostStats) -> bool,
) -> xnano_sim::smartglass::HostStats {
    let (st, ok) = sim.wait_for_stats(T, cond);
    assert!(ok, "stats condition not reached: {st:?}");
    st
}

#[test]
fn raw_discovery_certificate_on_every_curve() {
    for curve in Curve::ALL {
        let mut c = cfg(curve);
        c.name = format!("Box-{curve:?}");
        let uuid = c.uuid;
        let mut sim = SgHost::start(c).unwrap();
        let raw = Raw::new(sim.addr());
        let d = raw.discover().expect("discovery response");
        assert_eq!(d.name, format!("Box-{curve:?}"));
        assert_eq!(d.uuid, uuid);
        assert_eq!(d.device_type, ClientType::XboxOne);
        assert!(d.flags.contains(PrimaryDeviceFlags::AllowAnonymousUsers));
        assert_eq!(d.cert.liveid, sim.live_id());
        assert_eq!(d.cert.curve, curve);
        assert_eq!(d.cert.public_key, sim.public_key());
        assert_eq!(d.certificate, sim.certificate());
        // A fresh key and certificate per console.
        let sim2 = SgHost::start(cfg(curve)).unwrap();
        assert_ne!(sim2.public_key(), sim.public_key());
        assert_ne!(sim2.certificate(), sim.certificate());
        let (_, x) = x509_parser::parse_x509_certificate(&d.certificate).unwrap();
        assert_eq!(x.issuer(), x.subject(), "self-signed");
        let alg = x.signature_algorithm.algorithm.to_id_string();
        let want = match curve {
            Curve::P256 => "1.2.840.10045.4.3.2",
            Curve::P384 => "1.2.840.10045.4.3.3",
            Curve::P521 => "1.2.840.10045.4.3.4",
        };
        assert_eq!(alg, want);
        assert_eq!(sim.stats().discovery_responses, 1);
        sim.stop();
    }
}

#[test]
fn raw_session_acks_heartbeat_and_resend() {
    let mut c = cfg(Curve::P384);
    c.resend_interval = Duration::from_millis(150);
    c.max_resends = 2;
    let mut sim = SgHost::start(c).unwrap();
    let events = sim.events();
    let mut raw = Raw::new(sim.addr());
    let r = raw.connect(&sim, "", "");
    assert_eq!(r.connect_result, ConnectionResult::Success);
    assert_eq!(r.pairing_state, PairedIdentityState::NotPaired);
    assert_eq!(r.participant_id, 31);
    assert_eq!(
        sim.clients()[0].shared_secret,
        raw.crypto.as_ref().unwrap().shared_secret().to_vec()
    );

    // Local join: acked on the ack channel, then console status (need-ack).
    let join_seq = raw.local_join();
    let ack = raw.recv_msg(T).expect("ack");
    assert_eq!(ack.header.channel_id, 0x1000_0000_0000_0000);
    assert_eq!(ack.header.target_participant_id, 31);
    assert_eq!(ack.header.source_participant_id, 0);
    match &ack.payload {
        MessagePayload::Ack(a) => assert_eq!(a.processed_list, vec![join_seq]),
        p => panic!("{p:?}"),
    }
    let st = raw.recv_msg(T).expect("console status");
    assert!(st.header.flags.need_ack);
    assert_eq!(st.header.sequence_number, ack.header.sequence_number + 1);
    let MessagePayload::ConsoleStatus(s) = &st.payload else {
        panic!("{st:?}")
    };
    assert_eq!(s.active_titles[0].title_id, 714681658);

    // Not acked: sent again with the same sequence number, twice, then
    // given up.
    for _ in 0..2 {
        let again = raw.recv_msg(T).expect("resend");
        assert_eq!(again.header.sequence_number, st.header.sequence_number);
        assert_eq!(again.payload, st.payload);
    }
    assert!(raw.recv_msg(Duration::from_millis(400)).is_none());
    let ev = drain(&events);
    assert!(ev.iter().any(|e| matches!(
        e,
        SgHostEvent::ResendsExhausted {
            msg_type: MessageType::ConsoleStatus,
            ..
        }
    )));
    assert_eq!(sim.stats().resends, 2);

    // Heartbeat: an empty need-ack ack is acked.
    let hb = raw.send_msg(
        MessagePayload::Ack(Acknowledge {
            low_watermark: 0,
            processed_list: vec![],
            rejected_list: vec![],
        }),
        0,
        true,
    );
    let a = raw.recv_msg(T).expect("heartbeat ack");
    match &a.payload {
        MessagePayload::Ack(a) => assert_eq!(a.processed_list, vec![hb]),
        p => panic!("{p:?}"),
    }
    // A duplicate is acked again but not handled twice.
    let (dup_seq, bytes) = raw.msg_bytes(
        MessagePayload::Gamepad(Gamepad {
            timestamp: 1,
            buttons: GamepadButtons::PadX,
            left_trigger: 0.0,
            right_trigger: 1.0,
            left_thumbstick_x: 0.0,
            left_thumbstick_y: 0.0,
            right_thumbstick_x: -1.0,
            right_thumbstick_y: 0.5,
        }),
        0,
        true,
    );
    raw.send(&bytes);
    raw.send(&bytes);
    for _ in 0..2 {
        let a = raw.recv_msg(T).expect("ack");
        match &a.payload {
            MessagePayload::Ack(a) => assert_eq!(a.processed_list, vec![dup_seq]),
            p => panic!("{p:?}"),
        }
    }
    let st = wait_stats(&sim, |s| s.duplicates == 1);
    assert_eq!(st.heartbeats, 1);
    let pads = sim
        .received_messages()
        .into_iter()
        .filter(|m| matches!(m.payload, MessagePayload::Gamepad(_)))
        .count();
    assert_eq!(pads, 1);
    sim.stop();
}

#[test]
fn tampered_malformed_and_wrong_key_packets_are_dropped_and_counted() {
    let mut sim = SgHost::start(cfg(Curve::P256)).unwrap();
    let events = sim.events();
    let mut raw = Raw::new(sim.addr());
    let d = raw.discover().unwrap();

    // Garbage and truncated packets.
    for junk in [
        &b""[..],
        &[0xDD][..],
        &[0xDD, 0x00, 0x00, 0x0A, 0x00][..],
        &[0x12, 0x34, 0x56][..],
        &[0xD0, 0x0D, 0x00, 0x10][..],
    ] {
        raw.send(junk);
    }
    let st = wait_stats(&sim, |s| s.malformed + s.unknown_peer >= 5);
    assert_eq!(st.malformed, 4, "{st:?}");
    assert_eq!(st.unknown_peer, 1, "a message before connecting: {st:?}");

    // A connect request with one ciphertext bit flipped: bad HMAC, no answer.
    let mut p = raw.connect_packets(&d.cert, Curve::P256, "", "").remove(0);
    let n = p.len();
    p[n - 40] ^= 1;
    raw.send(&p);
    assert!(raw.recv(Duration::from_millis(300)).is_none());
    wait_stats(&sim, |s| s.bad_hmac == 1);

    // A key on another curve.
    let p = raw.connect_packets(
        &CertificateInfo {
            liveid: d.cert.liveid.clone(),
            public_key: xnano_proto::crypto::KeyPair::generate(Curve::P384).public_key_sec1(),
            curve: Curve::P384,
        },
        Curve::P384,
        "",
        "",
    );
    raw.send(&p[0]);
    assert!(raw.recv(Duration::from_millis(300)).is_none());
    wait_stats(&sim, |s| s.wrong_key == 1);

    // Still answers a proper connect.
    let r = raw.connect(&sim, "", "");
    assert_eq!(r.connect_result, ConnectionResult::Success);

    // A message with a flipped ciphertext byte, and one with a changed
    // header (sequence number): both fail the HMAC and are dropped.
    let (_, mut b) = raw.msg_bytes(MessagePayload::Unsnap(Unsnap { unk: 1 }), 0, true);
    let n = b.len();
    b[n - 33] ^= 0x80;
    raw.send(&b);
    let (_, mut b) = raw.msg_bytes(MessagePayload::Unsnap(Unsnap { unk: 2 }), 0, true);
    b[7] ^= 1;
    raw.send(&b);
    assert!(raw.recv_msg(Duration::from_millis(300)).is_none());
    let st = wait_stats(&sim, |s| s.bad_hmac == 3);
    assert_eq!(st.messages_received, 0);

    // A correctly signed message whose payload does not parse: rejected in
    // the ack, counted as malformed.
    let seq = {
        raw.seq += 1;
        let h = MessageHeader::new(MessageType::LocalJoin, raw.seq, 0, raw.pid, 0, true);
        let mut out = Vec::new();
        seal(&h, &[1, 2, 3], raw.crypto.as_ref().unwrap(), &mut out).unwrap();
        raw.send(&out);
        raw.seq
    };
    let a = raw.recv_msg(T).expect("ack with rejection");
    match &a.payload {
        MessagePayload::Ack(a) => {
            assert_eq!(a.rejected_list, vec![seq]);
            assert!(a.processed_list.is_empty());
        }
        p => panic!("{p:?}"),
    }
    wait_stats(&sim, |s| s.malformed == 5);

    // The session still works.
    let seq = raw.send_msg(MessagePayload::Unsnap(Unsnap { unk: 3 }), 0, true);
    let a = raw.recv_msg(T).expect("ack");
    assert!(matches!(&a.payload, MessagePayload::Ack(a) if a.processed_list == vec![seq]));
    assert!(sim
        .wait_for_message(T, |m| matches!(
            m.payload,
            MessagePayload::Unsnap(Unsnap { unk: 3 })
        ))
        .is_some());
    assert!(!has_msg(&sim, |p| matches!(
        p,
        MessagePayload::Unsnap(Unsnap { unk: 1 | 2 })
    )));

    // A message from another socket has no session.
    let other = Raw::new(sim.addr());
    other.send(&b);
    wait_stats(&sim, |s| s.unknown_peer == 2);

    let ev = drain(&events);
    let kinds: Vec<RejectKind> = ev
        .iter()
        .filter_map(|e| match e {
            SgHostEvent::PacketRejected { kind, .. } => Some(*kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == RejectKind::BadHmac).count(),
        3
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == RejectKind::WrongKey).count(),
        1
    );
    sim.stop();
}

#[test]
fn anonymous_refused_when_not_allowed_and_authenticated_pairs() {
    let mut c = cfg(Curve::P521);
    c.flags = PrimaryDeviceFlags::AllowAuthenticatedUsers;
    let mut sim = SgHost::start(c).unwrap();
    let mut raw = Raw::new(sim.addr());
    let r = raw.connect(&sim, "", "");
    assert_eq!(
        r.connect_result,
        ConnectionResult::FailureAnonymousConnectionsDisabled
    );
    assert!(sim.clients().is_empty());

    let token = "t".repeat(2500);
    let mut raw = Raw::new(sim.addr());
    let r = raw.connect(&sim, "0123456789", &token);
    assert_eq!(r.connect_result, ConnectionResult::Success);
    assert_eq!(r.pairing_state, PairedIdentityState::Paired);
    raw.local_join();
    let m = raw
        .recv_until(T, |m| {
            matches!(m.payload, MessagePayload::PairedIdentityStateChanged(_))
        })
        .expect("paired identity state");
    assert!(matches!(
        m.payload,
        MessagePayload::PairedIdentityStateChanged(PairedIdentityStateChanged {
            state: PairedIdentityState::Paired
        })
    ));
    assert!(sim.clients()[0].authenticated);
    sim.stop();
}

#[test]
fn silent_client_times_out() {
    let mut c = cfg(Curve::P256);
    c.client_timeout = Duration::from_millis(300);
    let mut sim = SgHost::start(c).unwrap();
    let events = sim.events();
    let mut raw = Raw::new(sim.addr());
    raw.connect(&sim, "", "");
    assert_eq!(sim.clients().len(), 1);
    wait_stats(&sim, |s| s.clients_timed_out == 1);
    assert!(sim.clients().is_empty());
    assert!(drain(&events).iter().any(|e| matches!(
        e,
        SgHostEvent::ClientTimedOut {
            participant_id: 31,
            ..
        }
    )));
    raw.send_msg(MessagePayload::Unsnap(Unsnap { unk: 0 }), 0, true);
    wait_stats(&sim, |s| s.unknown_peer == 1);
    sim.stop();
}

#[test]
fn large_media_state_is_fragmented_and_commands_answered() {
    let mut ms = media_state();
    ms.metadata = (0..40)
        .map(|i| MediaMetadata {
            name: format!("key{i}"),
            value: "v".repeat(60),
        })
        .collect();
    let mut c = cfg(Curve::P256);
    c.media_state = Some(ms.clone());
    let mut sim = SgHost::start(c).unwrap();
    let mut raw = Raw::new(sim.addr());
    raw.connect(&sim, "", "");
    let r = raw.start_channel(ServiceChannel::SystemMedia, 1);
    assert_eq!(r.result, SGResultCode::SG_E_SUCCESS);
    assert_eq!(r.target_channel_id, 148);
    let m = raw
        .recv_until(T, |m| matches!(m.payload, MessagePayload::MediaState(_)))
        .expect("reassembled media state");
    assert_eq!(m.header.channel_id, 148);
    assert_eq!(m.payload, MessagePayload::MediaState(ms.clone()));

    // A seek updates the position: result then the new state.
    raw.send_msg(
        MessagePayload::MediaCommand(MediaCommand {
            request_id: 5,
            title_id: ms.title_id,
            command: MediaControlCommand::Seek,
            seek_position: Some(4242),
        }),
        148,
        false,
    );
    let res = raw
        .recv_until(T, |m| {
            matches!(m.payload, MessagePayload::MediaCommandResult(_))
        })
        .unwrap();
    assert_eq!(
        res.payload,
        MessagePayload::MediaCommandResult(MediaCommandResult {
            request_id: 5,
            result: 0
        })
    );
    let st = raw
        .recv_until(T, |m| matches!(m.payload, MessagePayload::MediaState(_)))
        .unwrap();
    let MessagePayload::MediaState(st) = st.payload else {
        unreachable!()
    };
    assert_eq!(st.position, 4242);

    // A command the title does not take is answered with an error.
    raw.send_msg(
        MessagePayload::MediaCommand(MediaCommand {
            request_id: 6,
            title_id: ms.title_id,
            command: MediaControlCommand::ChannelUp,
            seek_position: None,
        }),
        148,
        false,
    );
    let res = raw
        .recv_until(T, |m| {
            matches!(m.payload, MessagePayload::MediaCommandResult(_))
        })
        .unwrap();
    assert!(
        matches!(res.payload, MessagePayload::MediaCommandResult(MediaCommandResult { request_id: 6, result }) if result != 0)
    );
    sim.stop();
}

#[test]
fn fragmented_json_starts_and_stops_gamestream() {
    let mut sim = SgHost::start(cfg(Curve::P256)).unwrap();
    let mut raw = Raw::new(sim.addr());
    raw.connect(&sim, "", "");
    let bc = raw
        .start_channel(ServiceChannel::SystemBroadcast, 1)
        .target_channel_id;
    let mut conf = serde_json::Map::new();
    conf.insert("videoMaximumWidth".into(), "1280".into());
    conf.insert("padding".into(), Value::String("p".repeat(1500)));
    let start = serde_json::json!({"type": 1, "configuration": conf, "reQueryPreviewStatus": true});
    let texts = xnano_proto::wire::sg::json::split_for_sending(&start.to_string(), 9);
    assert!(texts.len() >= 2, "long enough to be fragmented");
    for t in texts {
        raw.send_msg(MessagePayload::Json(Json { text: t }), bc, true);
    }
    let js = raw.json_messages(Duration::from_secs(10), 5);
    let types: Vec<i64> = js.iter().map(|v| v["type"].as_i64().unwrap()).collect();
    assert_eq!(types, vec![4, 7, 3, 3, 6], "{js:?}");
    assert_eq!(js[0]["enabled"], true);
    assert_eq!(js[0]["majorProtocolVersion"], 6);
    assert_eq!(js[2]["state"], 1);
    assert_eq!(js[3]["state"], 2);
    let (tcp, udp) = sim.nano_addrs().expect("Nano host runs");
    assert_eq!(js[2]["tcpPort"], tcp.port());
    assert_eq!(js[2]["udpPort"], udp.port());
    assert_eq!(js[2]["sessionId"], js[3]["sessionId"]);
    let gs = sim.gamestream().unwrap();
    assert_eq!(gs.tcp_port, Some(tcp.port()));
    assert_eq!(Value::String(gs.session_id.clone()), js[2]["sessionId"]);
    // The Nano host accepts a TCP connection on the announced port.
    let nano_tcp = std::net::TcpStream::connect(tcp).expect("the Nano host listens");
    assert_eq!(nano_tcp.peer_addr().unwrap(), tcp);
    assert!(
        common::wait_until(Duration::from_secs(10), || sim
            .nano_server_stats()
            .is_some_and(|st| st.clients_accepted == 1)),
        "{:?}",
        sim.nano_server_stats()
    );
    drop(nano_tcp);

    raw.send_msg(
        MessagePayload::Json(Json {
            text: r#"{"type":2}"#.into(),
        }),
        bc,
        true,
    );
    let js = raw.json_messages(T, 1);
    assert_eq!(js[0]["type"], 3);
    assert_eq!(js[0]["state"], 3);
    assert_eq!(Value::String(gs.session_id), js[0]["sessionId"]);
    assert!(sim.nano_addrs().is_none());
    assert!(!sim.streaming());
    let req = sim
        .received_messages()
        .into_iter()
        .filter(|m| m.channel == Some(ServiceChannel::SystemBroadcast))
        .count();
    assert!(req >= 3);
    sim.stop();
}

#[test]
fn power_on_request_and_power_off() {
    let mut c = cfg(Curve::P256);
    c.powered_on = false;
    let mut sim = SgHost::start(c).unwrap();
    let events = sim.events();
    let raw = Raw::new(sim.addr());
    assert!(raw.discover().is_none(), "off: no discovery answer");
    let pon = |id: &str| {
        SimplePacket::new(SimpleBody::PowerOnRequest(PowerOnRequest {
            liveid: id.into(),
        }))
        .to_bytes(None)
        .unwrap()
    };
    raw.send(&pon("FD00000000000000"));
    wait_stats(&sim, |s| s.power_on_requests == 1);
    assert!(!sim.is_powered_on());
    raw.send(&pon(&sim.live_id().to_lowercase()));
    wait_stats(&sim, |s| s.power_on_requests == 2);
    assert!(sim.is_powered_on());
    assert!(raw.discover().is_some());
    let ev = drain(&events);
    assert!(ev
        .iter()
        .any(|e| matches!(e, SgHostEvent::PowerOnRequest { matched: false, .. })));
    assert!(ev.iter().any(|e| matches!(e, SgHostEvent::PoweredOn)));

    // Power off from the console side: the client is told.
    let mut raw = Raw::new(sim.addr());
    raw.connect(&sim, "", "");
    sim.power_off();
    let m = raw
        .recv_until(T, |m| matches!(m.payload, MessagePayload::Disconnect(_)))
        .expect("disconnect");
    assert_eq!(
        m.payload,
        MessagePayload::Disconnect(Disconnect {
            reason: DisconnectReason::PowerOff,
            error_code: 0
        })
    );
    assert!(!sim.is_powered_on());
    assert!(sim.clients().is_empty());
    sim.stop();
}

#[test]
fn fault_injection() {
    let mut sim = SgHost::start(cfg(Curve::P256)).unwrap();
    let raw = Raw::new(sim.addr());

    sim.set_faults(Faults {
        ignore_discovery: true,
        ..Faults::default()
    });
    assert!(raw.discover().is_none());

    // Wrong HMAC on everything the console signs.
    sim.set_faults(Faults {
        corrupt_hmac: true,
        ..Faults::default()
    });
    let mut raw = Raw::new(sim.addr());
    let err = raw.connect_response_after(&sim).unwrap_err();
    assert!(err.contains("HMAC"), "{err}");

    // Acks dropped; channel refused; gamestream error.
    sim.set_faults(Faults {
        drop_acks: true,
        reject_channels: vec![ServiceChannel::SystemText],
        gamestream_error: Some((3, 17)),
        ..Faults::default()
    });
    let mut raw = Raw::new(sim.addr());
    raw.connect(&sim, "", "");
    raw.send_msg(MessagePayload::Unsnap(Unsnap { unk: 0 }), 0, true);
    assert!(raw
        .recv_until(Duration::from_millis(300), |m| matches!(
            m.payload,
            MessagePayload::Ack(_)
        ))
        .is_none());
    let r = raw.start_channel(ServiceChannel::SystemText, 1);
    assert_eq!(r.result, SGResultCode::SG_E_FAIL);
    let bc = raw.start_channel(ServiceChannel::SystemBroadcast, 2);
    assert_eq!(bc.result, SGResultCode::SG_E_SUCCESS);
    raw.send_msg(
        MessagePayload::Json(Json {
            text: r#"{"type":1,"configuration":{}}"#.into(),
        }),
        bc.target_channel_id,
        true,
    );
    let js = raw.json_messages(T, 2);
    assert_eq!(js[1]["type"], 5);
    assert_eq!(js[1]["errorType"], 3);
    assert_eq!(js[1]["errorValue"], 17);
    assert!(sim.nano_addrs().is_none());

    // Silent: nothing at all.
    sim.set_faults(Faults {
        silent: true,
        ..Faults::default()
    });
    raw.send_msg(MessagePayload::Unsnap(Unsnap { unk: 0 }), 0, true);
    assert!(raw.discover().is_none());
    assert!(raw.recv(Duration::from_millis(300)).is_none());
    assert!(sim.stats().datagrams_suppressed >= 2);

    // Refused connect.
    sim.set_faults(Faults {
        reject_connect: Some(ConnectionResult::FailureSmartGlassDisabled),
        ..Faults::default()
    });
    let mut raw = Raw::new(sim.addr());
    let r = raw.connect(&sim, "", "");
    assert_eq!(
        r.connect_result,
        ConnectionResult::FailureSmartGlassDisabled
    );
    assert_eq!(r.participant_id, 0);
    sim.stop();
}

impl Raw {
    fn connect_response_after(&mut self, sim: &SgHost) -> Result<ConnectResponseProtected, String> {
        // Discovery is not signed; take the key from the console directly.
        let cert = CertificateInfo::from_der(sim.certificate()).unwrap();
        for p in self.connect_packets(&cert, sim.curve(), "", "") {
            self.send(&p);
        }
        self.connect_response()
    }
}

#[test]
fn console_sim_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<SgHost>();
}

/// Clients get distinct participant ids; the client limit is enforced; a
/// gamestream belongs to one client and ends when it disconnects.
#[test]
fn several_clients() {
    let mut c = cfg(Curve::P256);
    c.max_clients = 2;
    let mut sim = SgHost::start(c).unwrap();
    let mut a = Raw::new(sim.addr());
    let mut b = Raw::new(sim.addr());
    let mut third = Raw::new(sim.addr());
    assert_eq!(a.connect(&sim, "", "").participant_id, 31);
    assert_eq!(b.connect(&sim, "", "").participant_id, 32);
    assert_eq!(
        third.connect(&sim, "", "").connect_result,
        ConnectionResult::FailureDeviceLimitExceeded
    );
    let ch = b
        .start_channel(ServiceChannel::SystemBroadcast, 1)
        .target_channel_id;
    assert_eq!(ch, 148, "channel ids are per client");
    b.send_msg(
        MessagePayload::Json(Json {
            text: r#"{"type":1,"configuration":{}}"#.into(),
        }),
        ch,
        true,
    );
    let js = b.json_messages(Duration::from_secs(10), 5);
    assert_eq!(js[3]["state"], 2);
    assert_eq!(sim.gamestream().unwrap().peer, b.sock.local_addr().unwrap());
    // The other client's disconnect leaves the stream alone.
    a.send_msg(
        MessagePayload::Disconnect(Disconnect {
            reason: DisconnectReason::AppClose,
            error_code: 0,
        }),
        0,
        false,
    );
    let (st, _) = sim.wait_for_stats(T, |_| sim.clients().len() == 1);
    assert_eq!(st.gamestreams_stopped, 0);
    assert!(sim.nano_addrs().is_some());
    b.send_msg(
        MessagePayload::Disconnect(Disconnect {
            reason: DisconnectReason::Unspecified,
            error_code: 0,
        }),
        0,
        false,
    );
    wait_stats(&sim, |s| s.gamestreams_stopped == 1);
    assert!(sim.clients().is_empty());
    assert!(
        common::wait_until(T, || sim.nano_addrs().is_none()),
        "Nano host stopped"
    );
    sim.stop();
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;
    use xnano_sim::smartglass::HostSession as SgHostSession;

    fn peer() -> SocketAddr {
        "127.0.0.1:41000".parse().unwrap()
    }

    /// A host with one connected client; returns the client's crypto and
    /// a valid message of each kind to mutate.
    fn setup() -> (SgHostSession, Crypto, Vec<Vec<u8>>) {
        let mut h = SgHostSession::new(&SgSimConfig::default()).unwrap();
        let now = Instant::now();
        let (crypto, ours) = Crypto::new_ecdh(h.curve(), &h.public_key()).unwrap();
        let mut reqs: Vec<Vec<u8>> = ConnectRequest::build_group(
            [3; 16],
            PublicKeyType::EC_DH_P256,
            ours,
            "hash",
            &"k".repeat(1500),
            0,
            Crypto::random_iv,
        )
        .into_iter()
        .map(|r| {
            SimplePacket::new(SimpleBody::ConnectRequest(r))
                .to_bytes(Some(&crypto))
                .unwrap()
        })
        .collect();
        for r in &reqs {
            h.handle_datagram(now, peer(), r);
        }
        assert_eq!(h.clients().len(), 1);
        let m = |p: MessagePayload, seq: u32, frag: bool| {
            let mut msg = Message::new(p, seq, 0, 31, 0, true);
            if frag {
                msg = Message::with_type(
                    MessageType::MediaCommand,
                    MessagePayload::Fragment(Fragment {
                        sequence_begin: seq,
                        sequence_end: seq + 2,
                        data: vec![1; 20],
                    }),
                    seq,
                    0,
                    31,
                    0,
                    true,
                );
            }
            msg.to_bytes(&crypto).unwrap()
        };
        let mut samples = vec![
            m(MessagePayload::Unsnap(Unsnap { unk: 1 }), 10, false),
            m(
                MessagePayload::Json(Json {
                    text: r#"{"type":1,"configuration":{}}"#.into(),
                }),
                11,
                false,
            ),
            m(MessagePayload::Unsnap(Unsnap { unk: 1 }), 12, true),
            SimplePacket::new(SimpleBody::PowerOnRequest(PowerOnRequest {
                liveid: "x".into(),
            }))
            .to_bytes(None)
            .unwrap(),
        ];
        samples.append(&mut reqs);
        (h, crypto, samples)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn arbitrary_and_mutated_datagrams_never_panic(
            junk in proptest::collection::vec(any::<u8>(), 0..300),
            which in 0usize..8,
            pos in any::<usize>(),
            bit in 0u8..8,
            cut in any::<usize>(),
        ) {
            let (mut h, crypto, samples) = setup();
            let now = Instant::now();
            h.handle_datagram(now, peer(), &junk);
            let mut s = samples[which % samples.len()].clone();
            let i = pos % s.len();
            s[i] ^= 1 << bit;
            h.handle_datagram(now, peer(), &s);
            let t = cut % (s.len() + 1);
            h.handle_datagram(now, peer(), &s[..t]);
            h.handle_timeout(now + Duration::from_secs(1));
            while h.poll_transmit().is_some() {}
            while h.poll_action().is_some() {}
            // The session still takes a good message.
            let before = h.stats().messages_received;
            let good = Message::new(MessagePayload::Unsnap(Unsnap { unk: 9 }), 1000, 0, 31, 0, false)
                .to_bytes(&crypto)
                .unwrap();
            h.handle_datagram(now, peer(), &good);
            prop_assert_eq!(h.stats().messages_received, before + 1);
        }
    }
}
