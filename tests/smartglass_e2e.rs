//! The SmartGlass client engine against the simulated console on loopback:
//! discovery, power-on, connect (real ECDH on every curve), channels,
//! commands, gamestream start, Nano streaming, stop; and the failures: a
//! wrong key, bad HMACs, refusals, a silent or disconnecting console.

mod common;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use xnano::nano::{self, ClientEvent};
use xnano::smartglass::{self, ConnectOptions, Event, SgError};
use xnano::smartglass::{CloseReason, SessionConfig, SessionEvent, SessionState};
use xnano::smartglass::{ConsoleInfo, ServiceChannel};
use xnano::smartglass::{DiscoveryConfig, PowerOnConfig};
use xnano::smartglass::{GameStreamConfig, GameStreamState};
use xnano_proto::crypto::{Curve, KeyPair};
use xnano_proto::wire::sg::common::{ConnectionResult, PrimaryDeviceFlags};
use xnano_proto::wire::sg::payloads::MessageType;
use xnano_proto::wire::sg::payloads::*;
use xnano_sim::nano::{SimConfig, VideoMode};
use xnano_sim::smartglass::{
    Faults, Host as SgHost, HostEvent as SgHostEvent, SimConfig as SgSimConfig,
};

use common::sg::{sim_cfg, sim_event, WAIT};

fn opts() -> ConnectOptions {
    ConnectOptions {
        session: SessionConfig {
            connect_resend: Duration::from_millis(300),
            connect_attempts: 3,
            ack_timeout: Duration::from_millis(300),
            max_sends: 3,
            heartbeat_interval: Duration::from_millis(500),
            console_timeout: Duration::from_secs(3),
            ..SessionConfig::default()
        },
        discovery_timeout: Duration::from_secs(3),
        wait_timeout: WAIT,
        ..ConnectOptions::default()
    }
}

type Log = Arc<Mutex<Vec<SessionEvent>>>;

fn recorder() -> (Log, smartglass::EventHandler, Arc<Mutex<Vec<String>>>) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let nano_log = Arc::new(Mutex::new(Vec::new()));
    let (l, n) = (log.clone(), nano_log.clone());
    let h: smartglass::EventHandler = Box::new(move |e: &Event| match e {
        Event::Session(s) => l.lock().push(s.clone()),
        Event::NanoConnected { tcp, udp } => n.lock().push(format!("connected {tcp} {udp}")),
        Event::NanoFailed { error } => n.lock().push(format!("failed {error}")),
    });
    (log, h, nano_log)
}

fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn wait_event(log: &Log, what: &str, mut f: impl FnMut(&SessionEvent) -> bool) -> SessionEvent {
    wait_for(what, WAIT, || log.lock().iter().find(|e| f(e)).cloned())
}

fn discover_sim(sim: &SgHost) -> ConsoleInfo {
    let found = smartglass::discover(Some(sim.addr()), Duration::from_secs(3)).unwrap();
    assert_eq!(found.len(), 1);
    found.into_iter().next().unwrap()
}

#[test]
fn discover_connect_stream_and_stop_on_every_curve() {
    for curve in Curve::ALL {
        let sim = SgHost::start(sim_cfg(curve)).unwrap();
        let info = discover_sim(&sim);
        assert_eq!(info.curve, curve);
        assert_eq!(info.live_id, sim.live_id());
        assert_eq!(info.address, sim.addr());
        assert_eq!(info.certificate, sim.certificate());
        assert_eq!(info.public_key, sim.public_key());
        assert!(info.anonymous_allowed());

        let (log, handler, nano_log) = recorder();
        let client = smartglass::Client::connect(info.clone(), opts(), handler).unwrap();
        assert_eq!(client.state(), SessionState::Connected);
        assert_eq!(client.participant_id(), 31);
        // The key agreement matches the console's.
        let cl = sim.clients();
        assert_eq!(cl.len(), 1);
        for ch in ServiceChannel::DEFAULT_SET {
            client.wait_channel(ch, WAIT).unwrap();
        }
        wait_event(
            &log,
            "console status",
            |e| matches!(e, SessionEvent::ConsoleStatus(s) if s.active_titles.first().map(|t| t.title_id) == Some(714681658)),
        );

        // Gamestream: StartGameStream, Initializing/Started, Nano frames.
        let frames = Arc::new(AtomicU64::new(0));
        let f2 = frames.clone();
        let nano_handler: nano::EventHandler = Box::new(move |e: &ClientEvent| {
            if let ClientEvent::VideoFrame(_) = e {
                f2.fetch_add(1, Ordering::Relaxed);
            }
        });
        client
            .start_gamestream(
                &GameStreamConfig::default(),
                nano::ClientConfig::default(),
                nano_handler,
            )
            .unwrap();
        client.wait_gamestream(WAIT).unwrap();
        assert!(client.stream_connected());
        let st = client.gamestream_status();
        assert_eq!(st.state, GameStreamState::Started);
        assert!(st.streaming);
        assert_eq!(st.enabled, Some(true));
        assert_eq!(st.server_major_version, Some(6));
        let (tcp, udp) = sim.nano_addrs().unwrap();
        assert_eq!(st.nano_ports(), Some((tcp.port(), udp.port())));
        // The engine's events come through the socket thread.
        let first = wait_for("the NanoConnected event", WAIT, || {
            nano_log.lock().first().cloned()
        });
        assert_eq!(first, format!("connected {tcp} {udp}"));
        wait_for("video frames", WAIT, || {
            (frames.load(Ordering::Relaxed) >= 10).then_some(())
        });
        let req = sim_event(&sim, "the gamestream request", |e| {
            matches!(e, SgHostEvent::GameStreamRequested { .. })
        });
        if let SgHostEvent::GameStreamRequested { configuration, .. } = req {
            assert_eq!(configuration["videoMaximumWidth"], "1280");
            assert_eq!(configuration["urcpFixedRate"], "-1");
        }
        let stats = client.stop_gamestream().unwrap().expect("a stream ran");
        assert!(stats.frames_delivered >= 10, "{curve:?}: {stats:?}");
        assert!(!client.stream_connected());
        sim_event(&sim, "the gamestream stop", |e| {
            matches!(e, SgHostEvent::GameStreamStopped { .. })
        });
        wait_event(
            &log,
            "state Stopped",
            |e| matches!(e, SessionEvent::GameStream(xnano::smartglass::GameStreamEvent::State(s)) if s.state == GameStreamState::Stopped),
        );
        // The console's need-ack messages (its status, the gamestream
        // states) were acknowledged: every ack the client sent reached the
        // console (acks there, less the heartbeats, which are acks too).
        let acks_sent = client.stats().acks_sent;
        assert!(acks_sent >= 1, "{curve:?}: {:?}", client.stats());
        let (st, ok) = sim.wait_for_stats(WAIT, |s| s.acks_received - s.heartbeats >= acks_sent);
        assert!(ok, "{curve:?}: {acks_sent} acks sent, console: {st:?}");
        assert!(
            !log.lock().iter().any(|e| matches!(
                e,
                SessionEvent::Rejected { .. } | SessionEvent::SendFailed { .. }
            )),
            "{curve:?}: {:?}",
            log.lock()
        );
        client.disconnect().unwrap();
        sim_event(&sim, "the disconnect", |e| {
            matches!(
                e,
                SgHostEvent::ClientDisconnected {
                    participant_id: 31,
                    ..
                }
            )
        });
    }
}

#[test]
fn commands_reach_the_console_and_answers_come_back() {
    let mut cfg = sim_cfg(Curve::P384);
    cfg.media_state = Some(MediaState {
        title_id: 274278798,
        aum_id: "AIVDE_s9eep9cpjhg6g!App".into(),
        asset_id: String::new(),
        media_type: MediaType::Video,
        sound_level: SoundLevel::Full,
        enabled_commands: MediaControlCommand::Play | MediaControlCommand::Pause,
        playback_status: MediaPlaybackStatus::Playing,
        rate: 1.0,
        position: 0,
        media_start: 0,
        media_end: 100,
        min_seek: 0,
        max_seek: 100,
        metadata: vec![],
    });
    let sim = SgHost::start(cfg).unwrap();
    let (log, handler, _) = recorder();
    // Connect by address: the certificate comes from unicast discovery.
    let client = smartglass::Client::connect(sim.addr(), opts(), handler).unwrap();
    assert_eq!(client.console().live_id, sim.live_id());
    for ch in ServiceChannel::DEFAULT_SET {
        client.wait_channel(ch, WAIT).unwrap();
    }
    wait_event(&log, "media state", |e| {
        matches!(e, SessionEvent::MediaState(_))
    });

    let got = |ty: MessageType| {
        sim.wait_for_message(WAIT, |m| m.msg_type == ty)
            .unwrap_or_else(|| panic!("console never got {ty:?}"))
            .payload
    };
    client
        .launch_title("ms-xbl-0D174C79://default/", ActiveTitleLocation::Full)
        .unwrap();
    assert!(
        matches!(got(MessageType::TitleLaunch), MessagePayload::TitleLaunch(t) if t.uri == "ms-xbl-0D174C79://default/")
    );
    let rid = client
        .media_command(274278798, MediaControlCommand::Pause, None)
        .unwrap();
    assert!(
        matches!(got(MessageType::MediaCommand), MessagePayload::MediaCommand(c) if c.request_id == rid && c.command == MediaControlCommand::Pause)
    );
    client
        .gamepad(Gamepad {
            timestamp: 1,
            buttons: GamepadButtons::PadA | GamepadButtons::PadB,
            left_trigger: 0.5,
            right_trigger: 0.0,
            left_thumbstick_x: 0.0,
            left_thumbstick_y: 0.0,
            right_thumbstick_x: 0.0,
            right_thumbstick_y: 0.0,
        })
        .unwrap();
    assert!(
        matches!(got(MessageType::Gamepad), MessagePayload::Gamepad(g) if g.buttons == GamepadButtons::PadA | GamepadButtons::PadB)
    );
    client.game_dvr_record(-30, 0).unwrap();
    assert!(matches!(
        got(MessageType::GameDvrRecord),
        MessagePayload::GameDvrRecord(GameDvrRecord {
            start_time_delta: -30,
            end_time_delta: 0
        })
    ));
    client.unsnap().unwrap();
    got(MessageType::Unsnap);
    client
        .touch(Touch {
            touch_msg_timestamp: 3,
            touchpoints: vec![Touchpoint {
                touchpoint_id: 1,
                touchpoint_action: TouchAction::Down,
                touchpoint_x: 100,
                touchpoint_y: 200,
            }],
        })
        .unwrap();
    got(MessageType::SystemTouch);
    client
        .accelerometer(Accelerometer {
            timestamp: 1,
            acceleration_x: 0.0,
            acceleration_y: 0.0,
            acceleration_z: 9.81,
        })
        .unwrap();
    got(MessageType::Accelerometer);
    client
        .gyrometer(Gyrometer {
            timestamp: 1,
            angular_velocity_x: 0.1,
            angular_velocity_y: 0.2,
            angular_velocity_z: 0.3,
        })
        .unwrap();
    got(MessageType::Gyrometer);
    client
        .inclinometer(Inclinometer {
            timestamp: 1,
            pitch: 1.0,
            roll: 2.0,
            yaw: 3.0,
        })
        .unwrap();
    got(MessageType::Inclinometer);
    client
        .compass(Compass {
            timestamp: 1,
            magnetic_north: 10.0,
            true_north: 12.0,
        })
        .unwrap();
    got(MessageType::Compass);
    client
        .orientation(Orientation {
            timestamp: 1,
            rotation_matrix_value: 0.0,
            w: 1.0,
            x: 0.0,
            y: 0.0,
            z: 0.0,
        })
        .unwrap();
    got(MessageType::Orientation);

    // Text entry: the console opens a session, we type and finish.
    sim.send_text_configuration(TextConfiguration {
        text_session_id: 7,
        text_buffer_version: 0,
        text_options: TextOptions::Default,
        input_scope: TextInputScope::Search,
        max_text_length: 100,
        locale: "en-US".into(),
        prompt: "Search".into(),
    });
    wait_event(
        &log,
        "text configuration",
        |e| matches!(e, SessionEvent::TextConfiguration(c) if c.text_session_id == 7),
    );
    client.send_text("halo").unwrap();
    assert!(
        matches!(got(MessageType::SystemTextInput), MessagePayload::SystemTextInput(t) if t.text_chunk == "halo" && t.text_session_id == 7)
    );
    client.text_done(TextResult::Accept).unwrap();
    assert!(
        matches!(got(MessageType::SystemTextDone), MessagePayload::SystemTextDone(d) if d.result == TextResult::Accept)
    );

    // Pairing changes are reported.
    sim.send_paired_identity_state(xnano_proto::wire::sg::common::PairedIdentityState::Paired);
    wait_event(&log, "pairing state", |e| {
        matches!(e, SessionEvent::PairingState { .. })
    });

    // Need-ack commands were acknowledged.
    wait_event(&log, "the DVR ack", |e| {
        matches!(
            e,
            SessionEvent::Acked {
                msg_type: MessageType::GameDvrRecord,
                rejected: false,
                ..
            }
        )
    });

    // Power off: the console goes down.
    client.power_off().unwrap();
    wait_for("power off", WAIT, || (!sim.is_powered_on()).then_some(()));
    assert!(
        !log.lock()
            .iter()
            .any(|e| matches!(e, SessionEvent::Rejected { .. })),
        "{:?}",
        log.lock()
    );
    drop(client);
}

#[test]
fn discovery_misses_and_power_on() {
    let mut cfg = sim_cfg(Curve::P256);
    cfg.powered_on = false;
    let sim = SgHost::start(cfg).unwrap();
    // An off console does not answer discovery.
    let t = Instant::now();
    let found = smartglass::discover(Some(sim.addr()), Duration::from_millis(700)).unwrap();
    assert!(found.is_empty());
    assert!(t.elapsed() >= Duration::from_millis(650));
    match smartglass::Client::connect(
        sim.addr(),
        ConnectOptions {
            discovery_timeout: Duration::from_millis(300),
            ..opts()
        },
        Box::new(|_| {}),
    ) {
        Err(SgError::NotFound(a)) => assert_eq!(a, sim.addr()),
        r => panic!("{r:?}"),
    }
    // Power-on by Live ID, sent to the console's address only.
    smartglass::power_on_with(PowerOnConfig {
        targets: vec![sim.addr()],
        ..PowerOnConfig::new(sim.live_id(), None)
    })
    .unwrap();
    wait_for("power on", WAIT, || sim.is_powered_on().then_some(()));
    let (st, ok) = sim.wait_for_stats(WAIT, |s| s.power_on_requests >= 2);
    assert!(ok, "{st:?}");
    // Several consoles at once.
    let other = SgHost::start(sim_cfg(Curve::P521)).unwrap();
    let mut seen = Vec::new();
    let all = smartglass::discover_with(
        DiscoveryConfig {
            targets: vec![sim.addr(), other.addr()],
            ..DiscoveryConfig::network(Duration::from_secs(1))
        },
        |c| seen.push(c.address),
    )
    .unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(seen.len(), 2);
    let curves: Vec<Curve> = all.iter().map(|c| c.curve).collect();
    assert!(curves.contains(&Curve::P256) && curves.contains(&Curve::P521));
}

#[test]
fn wrong_key_and_bad_hmac_fail_cleanly() {
    let sim = SgHost::start(sim_cfg(Curve::P256)).unwrap();
    let info = discover_sim(&sim);

    // Our record of the console carries somebody else's key: the console
    // cannot verify our connect request, we get no response.
    let mut wrong = info.clone();
    wrong.public_key = KeyPair::generate(Curve::P256).public_key_sec1();
    let t = Instant::now();
    match smartglass::Client::connect(wrong, opts(), Box::new(|_| {})) {
        Err(SgError::Closed(CloseReason::ConnectTimeout { .. })) => {}
        r => panic!("{r:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(3));
    let (st, ok) = sim.wait_for_stats(WAIT, |s| s.bad_hmac + s.wrong_key >= 1);
    assert!(ok, "{st:?}");
    assert_eq!(st.connects_accepted, 0);

    // The console signs with a wrong HMAC: every response is rejected with
    // a clear error and the connect times out.
    sim.set_faults(Faults {
        corrupt_hmac: true,
        ..Faults::default()
    });
    let (log, handler, _) = recorder();
    match smartglass::Client::connect(info.clone(), opts(), handler) {
        Err(SgError::Closed(CloseReason::ConnectTimeout {
            last_error: Some(e),
        })) => assert!(e.contains("connect_response") && e.contains("HMAC"), "{e}"),
        r => panic!("{r:?}"),
    }
    assert!(log
        .lock()
        .iter()
        .any(|e| matches!(e, SessionEvent::Rejected { error } if error.contains("HMAC"))));

    // Connected, then the console's packets go bad for a while: they are
    // rejected, the session survives and works once they are good again.
    sim.set_faults(Faults::default());
    let (log, handler, _) = recorder();
    let client = smartglass::Client::connect(info, opts(), handler).unwrap();
    client
        .wait_channel(ServiceChannel::SystemMedia, WAIT)
        .unwrap();
    sim.set_faults(Faults {
        corrupt_hmac: true,
        ..Faults::default()
    });
    client.game_dvr_record(-5, 0).unwrap();
    wait_event(
        &log,
        "a rejected message",
        |e| matches!(e, SessionEvent::Rejected { error } if error.starts_with("message") && error.contains("HMAC")),
    );
    sim.set_faults(Faults::default());
    client.game_dvr_record(-6, 0).unwrap();
    wait_event(&log, "an ack after recovery", |e| {
        matches!(
            e,
            SessionEvent::Acked {
                msg_type: MessageType::GameDvrRecord,
                ..
            }
        )
    });
    assert_eq!(client.state(), SessionState::Connected);
    assert!(client.stats().rejected >= 1);
    client.disconnect().unwrap();
}

#[test]
fn refusals_silence_and_console_disconnect() {
    // Refused connect.
    let sim = SgHost::start(SgSimConfig {
        faults: Faults {
            reject_connect: Some(ConnectionResult::FailureDeviceLimitExceeded),
            ..Faults::default()
        },
        ..sim_cfg(Curve::P384)
    })
    .unwrap();
    match smartglass::Client::connect(sim.addr(), opts(), Box::new(|_| {})) {
        Err(SgError::Closed(CloseReason::Refused { result })) => {
            assert_eq!(result, ConnectionResult::FailureDeviceLimitExceeded)
        }
        r => panic!("{r:?}"),
    }

    // Refused channel, gamestream error.
    sim.set_faults(Faults {
        reject_channels: vec![xnano_sim::smartglass::ServiceChannel::SystemMedia],
        gamestream_error: Some((6, 0)),
        ..Faults::default()
    });
    let (log, handler, nano_log) = recorder();
    let client = smartglass::Client::connect(sim.addr(), opts(), handler).unwrap();
    match client.wait_channel(ServiceChannel::SystemMedia, WAIT) {
        Err(SgError::ChannelRefused { channel, .. }) => {
            assert_eq!(channel, ServiceChannel::SystemMedia)
        }
        r => panic!("{r:?}"),
    }
    assert!(matches!(
        client.media_command(1, MediaControlCommand::Play, None),
        Err(SgError::Session(
            xnano::smartglass::SessionError::ChannelNotStarted(ServiceChannel::SystemMedia)
        ))
    ));
    client
        .start_gamestream(
            &GameStreamConfig::default(),
            nano::ClientConfig::default(),
            Box::new(|_| {}),
        )
        .unwrap();
    match client.wait_gamestream(WAIT) {
        Err(SgError::Stream(e)) => assert!(e.contains("NoController"), "{e}"),
        r => panic!("{r:?}"),
    }
    let first = wait_for("the NanoFailed event", WAIT, || {
        nano_log.lock().first().cloned()
    });
    assert!(first.starts_with("failed"), "{first}");
    assert_eq!(
        client.gamestream_status().last_error.map(|e| e.error_type),
        Some(6)
    );

    // The console goes silent: the heartbeat is never acked, the session
    // ends with a timeout.
    sim.set_faults(Faults {
        silent: true,
        ..Faults::default()
    });
    let t = Instant::now();
    wait_for("the console timeout", WAIT, || client.close_reason());
    assert_eq!(client.close_reason(), Some(CloseReason::ConsoleSilent));
    assert!(t.elapsed() < Duration::from_secs(4));
    wait_event(&log, "Closed", |e| {
        matches!(e, SessionEvent::Closed(CloseReason::ConsoleSilent))
    });
    assert!(matches!(client.power_off(), Err(SgError::Session(_))));
    client.disconnect().unwrap();

    // The console disconnects us.
    sim.set_faults(Faults::default());
    let (log, handler, _) = recorder();
    let client = smartglass::Client::connect(sim.addr(), opts(), handler).unwrap();
    sim.disconnect_clients(DisconnectReason::Reboot);
    wait_event(&log, "the console's disconnect", |e| {
        matches!(
            e,
            SessionEvent::Closed(CloseReason::Disconnected {
                reason: DisconnectReason::Reboot,
                ..
            })
        )
    });
    assert!(client.is_closed());
}

#[test]
fn anonymous_refused_and_authenticated_connect() {
    let sim = SgHost::start(SgSimConfig {
        flags: PrimaryDeviceFlags::AllowAuthenticatedUsers,
        ..sim_cfg(Curve::P521)
    })
    .unwrap();
    let info = discover_sim(&sim);
    assert!(!info.anonymous_allowed());
    match smartglass::Client::connect(info.clone(), opts(), Box::new(|_| {})) {
        Err(SgError::Session(xnano::smartglass::SessionError::AnonymousNotAllowed)) => {}
        r => panic!("{r:?}"),
    }
    let token: String = "eyJhbGciOi".repeat(250);
    let mut o = opts();
    o.session.userhash = "2535428504476914".into();
    o.session.auth_token = token.clone();
    let client = smartglass::Client::connect(info, o, Box::new(|_| {})).unwrap();
    let ev = sim_event(&sim, "the authenticated connect", |e| {
        matches!(e, SgHostEvent::Connected { .. })
    });
    match ev {
        SgHostEvent::Connected {
            authenticated,
            userhash,
            auth_token_len,
            fragments,
            curve,
            ..
        } => {
            assert!(authenticated);
            assert_eq!(userhash, "2535428504476914");
            assert_eq!(auth_token_len, token.len());
            assert!(fragments >= 3, "{fragments}");
            assert_eq!(curve, Curve::P521);
        }
        e => panic!("{e:?}"),
    }
    client.disconnect().unwrap();
}

#[test]
fn nano_connects_to_the_consoles_ip_and_announced_ports() {
    let sim = SgHost::start(SgSimConfig {
        nano: SimConfig {
            video: VideoMode::Synthetic {
                seed: 3,
                min_len: 500,
                max_len: 20_000,
            },
            ..sim_cfg(Curve::P256).nano
        },
        ..sim_cfg(Curve::P256)
    })
    .unwrap();
    let (_log, handler, _) = recorder();
    let client = smartglass::Client::connect(sim.addr(), opts(), handler).unwrap();
    let frames = Arc::new(AtomicU64::new(0));
    let f2 = frames.clone();
    client
        .start_gamestream(
            &GameStreamConfig {
                video_packet_defrag_timeout_ms: 40,
                ..GameStreamConfig::default()
            },
            nano::ClientConfig::default(),
            Box::new(move |e: &ClientEvent| {
                if let ClientEvent::VideoFrame(_) = e {
                    f2.fetch_add(1, Ordering::Relaxed);
                }
            }),
        )
        .unwrap();
    // A second start while one runs is refused.
    assert!(matches!(
        client.start_gamestream(
            &GameStreamConfig::default(),
            nano::ClientConfig::default(),
            Box::new(|_| {})
        ),
        Err(SgError::Stream(_))
    ));
    client.wait_gamestream(WAIT).unwrap();
    wait_for("frames", WAIT, || {
        (frames.load(Ordering::Relaxed) >= 5).then_some(())
    });
    // Input through the running stream.
    let sent = client
        .with_nano(|n| n.set_controller_state(0, nano::ControllerState::default()))
        .unwrap();
    sent.unwrap();
    // The console's Nano host received it.
    assert!(
        common::wait_until(WAIT, || sim
            .nano_server_stats()
            .is_some_and(|st| st.session.input_frames_received >= 1)),
        "{:?}",
        sim.nano_server_stats()
    );
    let (tcp, _) = sim.nano_addrs().unwrap();
    assert_eq!(tcp.ip(), sim.addr().ip());
    // Disconnect stops the stream too.
    let addr: SocketAddr = sim.addr();
    client.disconnect().unwrap();
    sim_event(&sim, "the disconnect", |e| {
        matches!(e, SgHostEvent::ClientDisconnected { .. })
    });
    let _ = addr;
}
