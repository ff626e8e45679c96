//! The sans-IO SmartGlass client (discovery, power-on, console session)
//! against a console built from our wire layer with real ECDH on every
//! curve, and against the packets of a real console's session.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use xnano_proto::crypto::{Crypto, Curve, KeyPair};
use xnano_proto::smartglass::{ClientSession, ConsoleInfo, ServiceChannel, CHANNEL_ACK};
use xnano_proto::smartglass::{CloseReason, SessionConfig, SessionEvent, SessionState};
use xnano_proto::smartglass::{Discovery, DiscoveryConfig, DiscoveryEvent};
use xnano_proto::smartglass::{
    GameStreamConfig, GameStreamEvent, GameStreamState, StreamStateInfo,
};
use xnano_proto::wire::sg::common::*;
use xnano_proto::wire::sg::json::JsonReassembler;
use xnano_proto::wire::sg::message::*;
use xnano_proto::wire::sg::payloads::*;
use xnano_proto::wire::sg::simple::*;

const PID: u32 = 31;

fn console_addr() -> SocketAddr {
    "10.0.0.22:5050".parse().unwrap()
}

/// A console made of our wire layer.
struct Console {
    kp: KeyPair,
    crypto: Option<Crypto>,
    seq: u32,
    next_channel: u64,
    flags: PrimaryDeviceFlags,
}

impl Console {
    fn new(curve: Curve) -> Console {
        Console {
            kp: KeyPair::generate(curve),
            crypto: None,
            seq: 0,
            next_channel: 148,
            flags: PrimaryDeviceFlags::AllowAnonymousUsers
                | PrimaryDeviceFlags::AllowAuthenticatedUsers,
        }
    }

    fn info(&self) -> ConsoleInfo {
        ConsoleInfo {
            address: console_addr(),
            name: "XboxOne".into(),
            uuid: [0x11; 16],
            live_id: "FD00112233FFEE66".into(),
            flags: self.flags,
            device_type: ClientType::XboxOne,
            last_error: 0,
            certificate: vec![],
            public_key: self.kp.public_key_sec1(),
            curve: self.kp.curve(),
        }
    }

    /// Reads the connect request(s); returns them (decrypted).
    fn read_connect(&mut self, pkts: &[Vec<u8>]) -> Vec<ConnectRequest> {
        let mut out = Vec::new();
        for p in pkts {
            let u = ConnectRequestUnprotected::peek(p).unwrap();
            let c = self.kp.derive(&u.public_key).unwrap();
            let pkt = SimplePacket::decode(p, Some(&c)).unwrap();
            self.crypto = Some(c);
            match pkt.body {
                SimpleBody::ConnectRequest(r) => out.push(r),
                b => panic!("not a connect request: {b:?}"),
            }
        }
        out
    }

    fn connect_response(&self, result: ConnectionResult) -> Vec<u8> {
        SimplePacket::new(SimpleBody::ConnectResponse(ConnectResponse {
            unprotected: ConnectResponseUnprotected {
                iv: Crypto::random_iv(),
            },
            protected: ConnectResponseProtected {
                connect_result: result,
                pairing_state: PairedIdentityState::NotPaired,
                participant_id: PID,
            },
        }))
        .to_bytes(self.crypto.as_ref())
        .unwrap()
    }

    fn crypto(&self) -> &Crypto {
        self.crypto.as_ref().unwrap()
    }

    fn next_seq(&mut self) -> u32 {
        self.seq += 1;
        self.seq
    }

    fn msg(&mut self, payload: MessagePayload, channel_id: u64, need_ack: bool) -> Vec<u8> {
        let seq = self.next_seq();
        Message::new(payload, seq, PID, 0, channel_id, need_ack)
            .to_bytes(self.crypto())
            .unwrap()
    }

    fn ack(&mut self, seqs: Vec<u32>) -> Vec<u8> {
        self.msg(
            MessagePayload::Ack(Acknowledge {
                low_watermark: 0,
                processed_list: seqs,
                rejected_list: vec![],
            }),
            CHANNEL_ACK,
            false,
        )
    }

    fn decode(&self, b: &[u8]) -> Message {
        Message::decode(b, self.crypto()).unwrap()
    }
}

fn transmits(s: &mut ClientSession) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| s.poll_transmit())
        .map(|(b, to)| {
            assert_eq!(to, console_addr());
            b
        })
        .collect()
}

fn events(s: &mut ClientSession) -> Vec<SessionEvent> {
    std::iter::from_fn(|| s.poll_event()).collect()
}

fn quick_cfg() -> SessionConfig {
    SessionConfig {
        ack_timeout: Duration::from_millis(200),
        max_sends: 3,
        heartbeat_interval: Duration::from_secs(3),
        console_timeout: Duration::from_secs(10),
        ..SessionConfig::default()
    }
}

/// Connects, answers the channel start requests; returns the session, the
/// console and the time.
fn connected(curve: Curve, cfg: SessionConfig) -> (ClientSession, Console, Instant) {
    let t0 = Instant::now();
    let mut con = Console::new(curve);
    let mut s = ClientSession::new(&con.info(), cfg, t0).unwrap();
    let reqs = transmits(&mut s);
    con.read_connect(&reqs);
    let resp = con.connect_response(ConnectionResult::Success);
    s.handle_datagram(&resp, console_addr(), t0);
    assert_eq!(s.state(), SessionState::Connected);
    let out = transmits(&mut s);
    let mut acks = Vec::new();
    let mut responses = Vec::new();
    for b in &out {
        let m = con.decode(b);
        acks.push(m.header.sequence_number);
        if let MessagePayload::ChannelStartRequest(r) = m.payload {
            let ch = con.next_channel;
            con.next_channel += 1;
            responses.push(con.msg(
                MessagePayload::ChannelStartResponse(ChannelStartResponse {
                    channel_request_id: r.channel_request_id,
                    target_channel_id: ch,
                    result: SGResultCode::SG_E_SUCCESS,
                }),
                0,
                true,
            ));
        }
    }
    let ack = con.ack(acks);
    s.handle_datagram(&ack, console_addr(), t0);
    for r in responses {
        s.handle_datagram(&r, console_addr(), t0);
    }
    // Our acks of the responses.
    for b in transmits(&mut s) {
        assert!(matches!(con.decode(&b).payload, MessagePayload::Ack(_)));
    }
    assert_eq!(s.unacked(), 0);
    (s, con, t0)
}

#[test]
fn connect_on_every_curve_local_join_and_channels() {
    for curve in Curve::ALL {
        let t0 = Instant::now();
        let mut con = Console::new(curve);
        let cfg = quick_cfg();
        let uuid = cfg.client_uuid;
        let mut s = ClientSession::new(&con.info(), cfg, t0).unwrap();
        assert_eq!(s.state(), SessionState::Connecting);
        let reqs = transmits(&mut s);
        assert_eq!(reqs.len(), 1, "{curve:?}: anonymous connect is one request");
        let r = con.read_connect(&reqs);
        assert_eq!(r[0].unprotected.sg_uuid, uuid);
        assert_eq!(
            r[0].unprotected.public_key_type.raw(),
            curve.public_key_type()
        );
        assert_eq!(r[0].protected.userhash, "");
        assert_eq!(r[0].protected.jwt, "");
        // Same secret on both sides.
        assert_eq!(
            con.crypto().shared_secret(),
            s.crypto().shared_secret(),
            "{curve:?}"
        );

        s.handle_datagram(
            &con.connect_response(ConnectionResult::Success),
            console_addr(),
            t0,
        );
        let ev = events(&mut s);
        assert_eq!(
            ev[0],
            SessionEvent::Connected {
                participant_id: PID,
                pairing_state: PairedIdentityState::NotPaired
            }
        );
        assert_eq!(s.participant_id(), PID);
        let out = transmits(&mut s);
        assert_eq!(out.len(), 6, "local join + 5 channel start requests");
        let msgs: Vec<Message> = out.iter().map(|b| con.decode(b)).collect();
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(m.header.sequence_number, i as u32 + 1);
            assert_eq!(m.header.source_participant_id, PID);
            assert_eq!(m.header.target_participant_id, 0);
            assert_eq!(m.header.channel_id, 0);
            assert!(m.header.flags.need_ack);
        }
        match &msgs[0].payload {
            MessagePayload::LocalJoin(j) => {
                assert_eq!(j.display_name, "SmartGlass-PC");
                assert_eq!(j.device_type, ClientType::WindowsStore);
            }
            p => panic!("{p:?}"),
        }
        let services: Vec<ServiceChannel> = msgs[1..]
            .iter()
            .map(|m| match &m.payload {
                MessagePayload::ChannelStartRequest(r) => {
                    ServiceChannel::from_uuid(&r.service).unwrap()
                }
                p => panic!("{p:?}"),
            })
            .collect();
        assert_eq!(services, ServiceChannel::DEFAULT_SET.to_vec());
    }
}

#[test]
fn channels_started_and_commands_go_to_their_channels() {
    let (mut s, con, t0) = connected(Curve::P256, quick_cfg());
    let ev = events(&mut s);
    let started: Vec<(ServiceChannel, u64)> = ev
        .iter()
        .filter_map(|e| match e {
            SessionEvent::ChannelStarted {
                channel,
                channel_id,
            } => Some((*channel, *channel_id)),
            _ => None,
        })
        .collect();
    assert_eq!(started.len(), 5);
    let id = |c| s.channel_id(c).unwrap();
    assert_eq!(id(ServiceChannel::SystemInput), 148);
    assert_eq!(id(ServiceChannel::SystemBroadcast), 152);
    let t = t0;
    let check = |s: &mut ClientSession, ch: u64, ty: MessageType, ack: bool| {
        let out = transmits(s);
        assert_eq!(out.len(), 1, "{ty:?}");
        let m = con.decode(&out[0]);
        assert_eq!(m.header.channel_id, ch, "{ty:?}");
        assert_eq!(m.header.flags.msg_type, ty);
        assert_eq!(m.header.flags.need_ack, ack, "{ty:?}");
        m
    };
    let input = id(ServiceChannel::SystemInput);
    let media = id(ServiceChannel::SystemMedia);
    s.power_off(t).unwrap();
    let m = check(&mut s, 0, MessageType::PowerOff, false);
    assert_eq!(
        m.payload,
        MessagePayload::PowerOff(PowerOff {
            liveid: "FD00112233FFEE66".into()
        })
    );
    s.launch_title("ms-xbl-0D174C79://default/", ActiveTitleLocation::Full, t)
        .unwrap();
    check(&mut s, 0, MessageType::TitleLaunch, false);
    s.game_dvr_record(-30, 0, t).unwrap();
    check(&mut s, 0, MessageType::GameDvrRecord, true);
    s.unsnap(t).unwrap();
    check(&mut s, 0, MessageType::Unsnap, false);
    let rid = s
        .media_command(274278798, MediaControlCommand::Seek, Some(5000), t)
        .unwrap();
    let m = check(&mut s, media, MessageType::MediaCommand, true);
    match m.payload {
        MessagePayload::MediaCommand(c) => {
            assert_eq!(c.request_id, rid);
            assert_eq!(c.seek_position, Some(5000));
        }
        p => panic!("{p:?}"),
    }
    s.gamepad(
        Gamepad {
            timestamp: 1,
            buttons: GamepadButtons::PadA | GamepadButtons::DPadUp,
            left_trigger: 0.0,
            right_trigger: 1.0,
            left_thumbstick_x: 0.0,
            left_thumbstick_y: 0.0,
            right_thumbstick_x: 0.0,
            right_thumbstick_y: 0.0,
        },
        t,
    )
    .unwrap();
    check(&mut s, input, MessageType::Gamepad, false);
    s.touch(
        Touch {
            touch_msg_timestamp: 5,
            touchpoints: vec![Touchpoint {
                touchpoint_id: 1,
                touchpoint_action: TouchAction::Down,
                touchpoint_x: 10,
                touchpoint_y: 20,
            }],
        },
        t,
    )
    .unwrap();
    check(&mut s, input, MessageType::SystemTouch, false);
    s.accelerometer(
        Accelerometer {
            timestamp: 1,
            acceleration_x: 0.1,
            acceleration_y: 0.2,
            acceleration_z: 9.8,
        },
        t,
    )
    .unwrap();
    check(&mut s, input, MessageType::Accelerometer, false);
    s.gyrometer(
        Gyrometer {
            timestamp: 1,
            angular_velocity_x: 1.0,
            angular_velocity_y: 2.0,
            angular_velocity_z: 3.0,
        },
        t,
    )
    .unwrap();
    check(&mut s, input, MessageType::Gyrometer, false);
    s.inclinometer(
        Inclinometer {
            timestamp: 1,
            pitch: 1.0,
            roll: 2.0,
            yaw: 3.0,
        },
        t,
    )
    .unwrap();
    check(&mut s, input, MessageType::Inclinometer, false);
    s.compass(
        Compass {
            timestamp: 1,
            magnetic_north: 1.0,
            true_north: 2.0,
        },
        t,
    )
    .unwrap();
    check(&mut s, input, MessageType::Compass, false);
    s.orientation(
        Orientation {
            timestamp: 1,
            rotation_matrix_value: 1.0,
            w: 1.0,
            x: 0.0,
            y: 0.0,
            z: 0.0,
        },
        t,
    )
    .unwrap();
    check(&mut s, input, MessageType::Orientation, false);
    // Title touch needs the Title channel.
    let touch = Touch {
        touch_msg_timestamp: 0,
        touchpoints: vec![],
    };
    assert_eq!(
        s.title_touch(touch, t),
        Err(xnano_proto::smartglass::SessionError::ChannelNotStarted(
            ServiceChannel::Title
        ))
    );
    s.start_title_channel(714681658, t).unwrap();
    let m = check(&mut s, 0, MessageType::StartChannelRequest, true);
    match m.payload {
        MessagePayload::ChannelStartRequest(r) => {
            assert_eq!(r.title_id, 714681658);
            assert_eq!(r.service, [0; 16]);
        }
        p => panic!("{p:?}"),
    }
    // Stop a channel.
    s.stop_channel(ServiceChannel::SystemInput, t).unwrap();
    let m = check(&mut s, 0, MessageType::StopChannel, false);
    assert_eq!(
        m.payload,
        MessagePayload::ChannelStop(ChannelStop {
            target_channel_id: input
        })
    );
    assert!(s
        .gamepad(
            Gamepad {
                timestamp: 0,
                buttons: GamepadButtons::Clear,
                left_trigger: 0.0,
                right_trigger: 0.0,
                left_thumbstick_x: 0.0,
                left_thumbstick_y: 0.0,
                right_thumbstick_x: 0.0,
                right_thumbstick_y: 0.0,
            },
            t
        )
        .is_err());
    // Disconnect.
    s.disconnect(t);
    let m = check(&mut s, 0, MessageType::Disconnect, false);
    assert!(matches!(m.payload, MessagePayload::Disconnect(_)));
    assert_eq!(s.state(), SessionState::Closed);
    assert!(events(&mut s).contains(&SessionEvent::Closed(CloseReason::Local)));
    assert!(s.power_off(t).is_err());
}

#[test]
fn channel_refused_is_reported() {
    let t0 = Instant::now();
    let mut con = Console::new(Curve::P384);
    let cfg = SessionConfig {
        channels: vec![ServiceChannel::SystemMedia],
        ..quick_cfg()
    };
    let mut s = ClientSession::new(&con.info(), cfg, t0).unwrap();
    con.read_connect(&transmits(&mut s));
    s.handle_datagram(
        &con.connect_response(ConnectionResult::Success),
        console_addr(),
        t0,
    );
    let out = transmits(&mut s);
    let req = match con.decode(&out[1]).payload {
        MessagePayload::ChannelStartRequest(r) => r,
        p => panic!("{p:?}"),
    };
    let resp = con.msg(
        MessagePayload::ChannelStartResponse(ChannelStartResponse {
            channel_request_id: req.channel_request_id,
            target_channel_id: 0,
            result: SGResultCode::SG_E_MAXIMUM_CHANNELS_STARTED,
        }),
        0,
        true,
    );
    s.handle_datagram(&resp, console_addr(), t0);
    assert!(events(&mut s).contains(&SessionEvent::ChannelFailed {
        channel: ServiceChannel::SystemMedia,
        result: SGResultCode::SG_E_MAXIMUM_CHANNELS_STARTED
    }));
    assert_eq!(
        s.channel_failure(ServiceChannel::SystemMedia),
        Some(SGResultCode::SG_E_MAXIMUM_CHANNELS_STARTED)
    );
    assert_eq!(s.channel_id(ServiceChannel::SystemMedia), None);
}

#[test]
fn anonymous_refused_when_console_disallows_it() {
    let mut con = Console::new(Curve::P256);
    con.flags = PrimaryDeviceFlags::AllowAuthenticatedUsers;
    let t0 = Instant::now();
    assert_eq!(
        ClientSession::new(&con.info(), quick_cfg(), t0).err(),
        Some(xnano_proto::smartglass::SessionError::AnonymousNotAllowed)
    );
    // With a user the session starts and asks to connect as that user; told
    // to ignore the flag, it asks anonymously all the same.
    let with_user = SessionConfig {
        userhash: "deadbeef".into(),
        auth_token: "token".into(),
        ..quick_cfg()
    };
    let flag_ignored = SessionConfig {
        ignore_anonymous_flag: true,
        ..quick_cfg()
    };
    for (cfg, userhash, jwt) in [(with_user, "deadbeef", "token"), (flag_ignored, "", "")] {
        let mut s = ClientSession::new(&con.info(), cfg, t0)
            .unwrap_or_else(|e| panic!("userhash {userhash:?}: {e:?}"));
        assert_eq!(s.state(), SessionState::Connecting);
        let r = con.read_connect(&transmits(&mut s));
        assert_eq!(r.len(), 1, "userhash {userhash:?}");
        assert_eq!(r[0].protected.userhash, userhash);
        assert_eq!(r[0].protected.jwt, jwt);
    }
}

#[test]
fn authenticated_connect_splits_a_long_token() {
    for curve in Curve::ALL {
        let t0 = Instant::now();
        let mut con = Console::new(curve);
        let token: String = (0..3000)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        let cfg = SessionConfig {
            userhash: "2535428504476914".into(),
            auth_token: token.clone(),
            request_num: 7,
            ..quick_cfg()
        };
        let mut s = ClientSession::new(&con.info(), cfg, t0).unwrap();
        let reqs = transmits(&mut s);
        assert!(reqs.len() >= 3, "{curve:?}: {} requests", reqs.len());
        let r = con.read_connect(&reqs);
        let mut jwt = String::new();
        for (i, q) in r.iter().enumerate() {
            let p = &q.protected;
            assert_eq!(p.connect_request_num, 7 + i as u32);
            assert_eq!(p.connect_request_group_start, 7);
            assert_eq!(p.connect_request_group_end, 7 + r.len() as u32);
            assert_eq!(p.userhash, if i == 0 { "2535428504476914" } else { "" });
            assert!(reqs[i].len() < 1024 + 300);
            jwt.push_str(&p.jwt);
        }
        assert_eq!(jwt, token);
        // The whole group is resent until the response comes.
        s.handle_timeout(t0 + Duration::from_secs(1));
        assert_eq!(transmits(&mut s).len(), reqs.len());
        s.handle_datagram(
            &con.connect_response(ConnectionResult::Success),
            console_addr(),
            t0 + Duration::from_secs(1),
        );
        assert_eq!(s.state(), SessionState::Connected);
    }
}

#[test]
fn connect_refused_and_connect_timeout() {
    let t0 = Instant::now();
    let mut con = Console::new(Curve::P521);
    let mut s = ClientSession::new(&con.info(), quick_cfg(), t0).unwrap();
    con.read_connect(&transmits(&mut s));
    s.handle_datagram(
        &con.connect_response(ConnectionResult::FailureDeviceLimitExceeded),
        console_addr(),
        t0,
    );
    assert_eq!(s.state(), SessionState::Closed);
    assert_eq!(
        s.close_reason(),
        Some(&CloseReason::Refused {
            result: ConnectionResult::FailureDeviceLimitExceeded
        })
    );
    assert_eq!(transmits(&mut s).len(), 0);

    // Nobody answers: 5 sends a second apart, then a timeout.
    let mut s = ClientSession::new(&con.info(), quick_cfg(), t0).unwrap();
    let mut sends = transmits(&mut s).len();
    let mut t = t0;
    while s.state() != SessionState::Closed {
        t = s.poll_timeout().unwrap();
        s.handle_timeout(t);
        sends += transmits(&mut s).len();
    }
    assert_eq!(sends, 5);
    assert_eq!(t, t0 + Duration::from_secs(5));
    assert_eq!(
        s.close_reason(),
        Some(&CloseReason::ConnectTimeout { last_error: None })
    );
}

#[test]
fn wrong_key_is_rejected_clearly_then_times_out() {
    let t0 = Instant::now();
    let mut con = Console::new(Curve::P256);
    let mut s = ClientSession::new(&con.info(), quick_cfg(), t0).unwrap();
    con.read_connect(&transmits(&mut s));
    // The console answers with a different key's secret.
    let other = KeyPair::generate(Curve::P256);
    con.crypto = Some(
        other
            .derive(&KeyPair::generate(Curve::P256).public_key_wire())
            .unwrap(),
    );
    s.handle_datagram(
        &con.connect_response(ConnectionResult::Success),
        console_addr(),
        t0,
    );
    assert_eq!(s.state(), SessionState::Connecting);
    let ev = events(&mut s);
    let err = match &ev[..] {
        [SessionEvent::Rejected { error }] => error.clone(),
        e => panic!("{e:?}"),
    };
    assert!(
        err.contains("connect_response") && err.contains("HMAC"),
        "{err}"
    );
    while s.state() != SessionState::Closed {
        let t = s.poll_timeout().unwrap();
        s.handle_timeout(t);
    }
    match s.close_reason() {
        Some(CloseReason::ConnectTimeout {
            last_error: Some(e),
        }) => assert!(e.contains("HMAC")),
        r => panic!("{r:?}"),
    }
    let msg = s.close_reason().unwrap().to_string();
    assert!(msg.contains("no usable connect response"), "{msg}");
}

#[test]
fn tampered_messages_are_rejected_and_the_session_goes_on() {
    let (mut s, mut con, t0) = connected(Curve::P384, quick_cfg());
    events(&mut s);
    let status = MessagePayload::ConsoleStatus(ConsoleStatus {
        live_tv_provider: 0,
        major_version: 10,
        minor_version: 0,
        build_number: 14393,
        locale: "en-US".into(),
        active_titles: vec![],
    });
    let good = con.msg(status.clone(), 0, true);
    // Flip one ciphertext bit, one HMAC bit; truncate; garbage.
    let mut bad_ct = good.clone();
    bad_ct[30] ^= 1;
    let mut bad_mac = good.clone();
    let n = bad_mac.len();
    bad_mac[n - 1] ^= 0x80;
    let mut bad_hdr = good.clone();
    bad_hdr[5] ^= 1; // sequence number: the HMAC covers the header
    for b in [
        &bad_ct,
        &bad_mac,
        &bad_hdr,
        &good[..20].to_vec(),
        &vec![0xde, 0xad],
    ] {
        s.handle_datagram(b, console_addr(), t0);
    }
    let ev = events(&mut s);
    assert_eq!(ev.len(), 5, "{ev:?}");
    for e in &ev {
        match e {
            SessionEvent::Rejected { error } => assert!(
                error.starts_with("message") || error.starts_with("smartglass packet"),
                "{error}"
            ),
            e => panic!("{e:?}"),
        }
    }
    assert!(ev
        .iter()
        .any(|e| matches!(e, SessionEvent::Rejected { error } if error.contains("HMAC"))));
    assert_eq!(transmits(&mut s).len(), 0, "nothing acked");
    s.handle_datagram(&good, console_addr(), t0);
    let ev = events(&mut s);
    assert!(matches!(ev[..], [SessionEvent::ConsoleStatus(_)]), "{ev:?}");
    assert_eq!(s.state(), SessionState::Connected);
    assert_eq!(s.stats().rejected, 5);
    // Datagrams from elsewhere are ignored.
    let other: SocketAddr = "10.0.0.99:5050".parse().unwrap();
    s.handle_datagram(&good, other, t0);
    assert_eq!(s.stats().foreign_datagrams, 1);
    assert!(events(&mut s).is_empty());
    // A message for another participant is refused.
    let seq = con.next_seq();
    let foreign = Message::new(status, seq, PID + 1, 0, 0, false)
        .to_bytes(con.crypto())
        .unwrap();
    s.handle_datagram(&foreign, console_addr(), t0);
    assert!(
        matches!(&events(&mut s)[..], [SessionEvent::Rejected { error }] if error.contains("target_participant_id"))
    );
}

#[test]
fn console_messages_are_acked_once_and_duplicates_not_redelivered() {
    let (mut s, mut con, t0) = connected(Curve::P256, quick_cfg());
    events(&mut s);
    let m = con.msg(
        MessagePayload::PairedIdentityStateChanged(PairedIdentityStateChanged {
            state: PairedIdentityState::Paired,
        }),
        0,
        true,
    );
    let seq = con.seq;
    s.handle_datagram(&m, console_addr(), t0);
    let out = transmits(&mut s);
    assert_eq!(out.len(), 1);
    let a = con.decode(&out[0]);
    assert_eq!(a.header.channel_id, 0);
    assert!(!a.header.flags.need_ack);
    match a.payload {
        MessagePayload::Ack(a) => {
            assert_eq!(a.processed_list, vec![seq]);
            assert!(a.rejected_list.is_empty());
            assert_eq!(a.low_watermark, seq - 1);
        }
        p => panic!("{p:?}"),
    }
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::PairingState {
            state: PairedIdentityState::Paired
        }]
    );
    // The console resends (our ack got lost): acked again, not delivered.
    s.handle_datagram(&m, console_addr(), t0);
    assert_eq!(transmits(&mut s).len(), 1);
    assert!(events(&mut s).is_empty());
    assert_eq!(s.stats().duplicates, 1);
    // A message that does not want an ack gets none.
    let m = con.msg(
        MessagePayload::MediaControllerRemoved(MediaControllerRemoved { title_id: 5 }),
        s.channel_id(ServiceChannel::SystemMedia).unwrap(),
        false,
    );
    s.handle_datagram(&m, console_addr(), t0);
    assert_eq!(transmits(&mut s).len(), 0);
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::MediaControllerRemoved { title_id: 5 }]
    );
    // An authenticated message whose payload does not decode is acked as
    // rejected and reported.
    let seq = con.next_seq();
    let h = MessageHeader::new(MessageType::ConsoleStatus, seq, PID, 0, 0, true);
    let mut bad = Vec::new();
    seal(&h, &[1, 2, 3], con.crypto(), &mut bad).unwrap();
    s.handle_datagram(&bad, console_addr(), t0);
    let out = transmits(&mut s);
    match con.decode(&out[0]).payload {
        MessagePayload::Ack(a) => {
            assert_eq!(a.rejected_list, vec![seq]);
            assert!(a.processed_list.is_empty());
        }
        p => panic!("{p:?}"),
    }
    assert!(
        matches!(&events(&mut s)[..], [SessionEvent::Rejected { error }] if error.contains("console_status"))
    );
}

#[test]
fn our_messages_are_resent_until_acked_then_fail() {
    let (mut s, mut con, t0) = connected(Curve::P256, quick_cfg());
    events(&mut s);
    let seq = s.game_dvr_record(-10, 0, t0).unwrap();
    let first = transmits(&mut s);
    assert_eq!(first.len(), 1);
    // Resent (same bytes) after the ack timeout, twice more (max_sends 3).
    let mut t;
    let mut copies = 1;
    loop {
        t = s.poll_timeout().unwrap();
        s.handle_timeout(t);
        for b in transmits(&mut s) {
            assert_eq!(b, first[0]);
            copies += 1;
        }
        if s.unacked() == 0 {
            break;
        }
    }
    assert_eq!(copies, 3);
    assert_eq!(t, t0 + Duration::from_millis(600));
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::SendFailed {
            sequence: seq,
            msg_type: MessageType::GameDvrRecord
        }]
    );
    assert_eq!(s.state(), SessionState::Connected);
    // Acked before the timeout: no resend, an Acked event.
    let seq = s.game_dvr_record(-10, 0, t).unwrap();
    transmits(&mut s);
    let ack = con.ack(vec![seq]);
    s.handle_datagram(&ack, console_addr(), t);
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::Acked {
            sequence: seq,
            msg_type: MessageType::GameDvrRecord,
            rejected: false
        }]
    );
    s.handle_timeout(t + Duration::from_secs(1));
    assert!(transmits(&mut s).is_empty());
}

#[test]
fn heartbeat_and_dead_console() {
    let (mut s, mut con, t0) = connected(Curve::P256, quick_cfg());
    events(&mut s);
    // Heartbeat 3 s after connecting: an empty ack that wants an ack.
    assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(3)));
    let t1 = t0 + Duration::from_secs(3);
    s.handle_timeout(t1);
    let out = transmits(&mut s);
    assert_eq!(out.len(), 1);
    let hb = con.decode(&out[0]);
    assert!(hb.header.flags.need_ack);
    assert_eq!(hb.header.channel_id, 0);
    match &hb.payload {
        MessagePayload::Ack(a) => {
            assert!(a.processed_list.is_empty() && a.rejected_list.is_empty())
        }
        p => panic!("{p:?}"),
    }
    // Acked: the next one 3 s after the ack, no event for heartbeats.
    let t2 = t1 + Duration::from_millis(50);
    let ack = con.ack(vec![hb.header.sequence_number]);
    s.handle_datagram(&ack, console_addr(), t2);
    assert!(events(&mut s).is_empty());
    assert_eq!(s.poll_timeout(), Some(t2 + Duration::from_secs(3)));
    // Now the console goes silent: the heartbeat is resent, then the
    // session ends.
    let mut sent = 0;
    while s.state() != SessionState::Closed {
        let t = s.poll_timeout().unwrap();
        s.handle_timeout(t);
        sent += transmits(&mut s).len();
    }
    assert_eq!(sent, 3);
    assert_eq!(s.close_reason(), Some(&CloseReason::ConsoleSilent));
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::Closed(CloseReason::ConsoleSilent)]
    );
    assert_eq!(s.stats().heartbeats_sent, 2);

    // Without heartbeats answered but with acks... a console that sends
    // nothing at all for console_timeout is dead even if heartbeats are
    // far apart.
    let cfg = SessionConfig {
        heartbeat_interval: Duration::from_secs(100),
        console_timeout: Duration::from_secs(4),
        ..quick_cfg()
    };
    let (mut s, _con, t0) = connected(Curve::P256, cfg);
    s.handle_timeout(t0 + Duration::from_secs(4));
    assert_eq!(s.close_reason(), Some(&CloseReason::ConsoleSilent));
}

#[test]
fn fragmented_messages_and_json_are_reassembled() {
    let (mut s, mut con, t0) = connected(Curve::P521, quick_cfg());
    events(&mut s);
    let media = s.channel_id(ServiceChannel::SystemMedia).unwrap();
    let state = MediaState {
        title_id: 274278798,
        aum_id: "AIVDE_s9eep9cpjhg6g!App".into(),
        asset_id: "".into(),
        media_type: MediaType::Video,
        sound_level: SoundLevel::Full,
        enabled_commands: MediaControlCommand::Play | MediaControlCommand::Pause,
        playback_status: MediaPlaybackStatus::Playing,
        rate: 1.0,
        position: 1,
        media_start: 0,
        media_end: 100,
        min_seek: 0,
        max_seek: 100,
        metadata: (0..40)
            .map(|i| MediaMetadata {
                name: format!("key{i}"),
                value: "v".repeat(30),
            })
            .collect(),
    };
    let mut plain = Vec::new();
    MessagePayload::MediaState(state.clone())
        .encode(&mut plain)
        .unwrap();
    let first = con.seq + 1;
    let frags = Fragment::split(&plain, first, 600);
    assert!(frags.len() >= 3);
    let mut pkts: Vec<Vec<u8>> = frags
        .into_iter()
        .map(|f| {
            let seq = con.next_seq();
            Message::with_type(
                MessageType::MediaState,
                MessagePayload::Fragment(f),
                seq,
                PID,
                0,
                media,
                true,
            )
            .to_bytes(con.crypto())
            .unwrap()
        })
        .collect();
    pkts.reverse();
    let n = pkts.len();
    for p in &pkts {
        s.handle_datagram(p, console_addr(), t0);
    }
    assert_eq!(transmits(&mut s).len(), n, "every fragment acked");
    assert_eq!(
        events(&mut s),
        vec![SessionEvent::MediaState(state.clone())]
    );
    assert_eq!(s.media_state(), Some(&state));

    // Fragmented JSON on SystemBroadcast (a long telemetry message).
    let bc = s.channel_id(ServiceChannel::SystemBroadcast).unwrap();
    let long = format!(r#"{{"type":6,"blob":"{}"}}"#, "x".repeat(3000));
    let parts = xnano_proto::wire::sg::json::split_for_sending(&long, 9);
    assert!(parts.len() > 1);
    for p in parts.iter().rev() {
        let m = con.msg(MessagePayload::Json(Json { text: p.clone() }), bc, true);
        s.handle_datagram(&m, console_addr(), t0);
    }
    let ev = events(&mut s);
    assert_eq!(
        ev,
        vec![
            SessionEvent::Json {
                channel: Some(ServiceChannel::SystemBroadcast),
                text: long.clone()
            },
            SessionEvent::GameStream(GameStreamEvent::Telemetry { json: long.clone() })
        ]
    );
    assert_eq!(s.gamestream().telemetry.as_deref(), Some(long.as_str()));
}

#[test]
fn long_outgoing_payloads_are_fragmented() {
    let (mut s, mut con, t0) = connected(Curve::P256, quick_cfg());
    events(&mut s);
    // A text session so text input can be sent.
    let text_ch = s.channel_id(ServiceChannel::SystemText).unwrap();
    let cfgmsg = con.msg(
        MessagePayload::SystemTextConfiguration(TextConfiguration {
            text_session_id: 9,
            text_buffer_version: 0,
            text_options: TextOptions::MultiLine,
            input_scope: TextInputScope::Default,
            max_text_length: 5000,
            locale: "en-US".into(),
            prompt: "Say".into(),
        }),
        text_ch,
        true,
    );
    s.handle_datagram(&cfgmsg, console_addr(), t0);
    transmits(&mut s);
    events(&mut s);
    let text = "ü".repeat(1500);
    s.send_text(&text, t0).unwrap();
    let out = transmits(&mut s);
    assert!(out.len() >= 3, "{}", out.len());
    let mut r = FragmentReassembler::default();
    let mut whole = None;
    for b in &out {
        let m = con.decode(b);
        assert!(m.header.flags.is_fragment);
        assert_eq!(m.header.channel_id, text_ch);
        let MessagePayload::Fragment(f) = &m.payload else {
            panic!()
        };
        if let Some(p) = r.push_decode(&m.header, f).unwrap() {
            whole = Some(p);
        }
    }
    match whole {
        Some(MessagePayload::SystemTextInput(t)) => {
            assert_eq!(t.text_chunk, text);
            assert_eq!(t.text_session_id, 9);
            assert_eq!(t.submitted_version, 1);
        }
        p => panic!("{p:?}"),
    }
    assert_eq!(s.unacked(), out.len());
}

#[test]
fn text_session() {
    let (mut s, mut con, t0) = connected(Curve::P256, quick_cfg());
    events(&mut s);
    let text_ch = s.channel_id(ServiceChannel::SystemText).unwrap();
    assert_eq!(
        s.send_text("x", t0),
        Err(xnano_proto::smartglass::SessionError::NoTextSession)
    );
    let conf = TextConfiguration {
        text_session_id: 12,
        text_buffer_version: 0,
        text_options: TextOptions::Default,
        input_scope: TextInputScope::EmailSmtpAddress,
        max_text_length: 64,
        locale: "en-US".into(),
        prompt: "Email".into(),
    };
    let m = con.msg(
        MessagePayload::SystemTextConfiguration(conf.clone()),
        text_ch,
        true,
    );
    s.handle_datagram(&m, console_addr(), t0);
    transmits(&mut s);
    assert_eq!(events(&mut s), vec![SessionEvent::TextConfiguration(conf)]);
    // The console's own text input is acknowledged with a text ack.
    let input = SystemTextInput {
        text_session_id: 12,
        base_version: 0,
        submitted_version: 2,
        total_text_byte_len: 2,
        selection_start: -1,
        selection_length: -1,
        flags: 0,
        text_chunk_byte_start: 0,
        text_chunk: "ab".into(),
        delta: None,
    };
    let m = con.msg(
        MessagePayload::SystemTextInput(input.clone()),
        text_ch,
        false,
    );
    s.handle_datagram(&m, console_addr(), t0);
    let out = transmits(&mut s);
    assert_eq!(out.len(), 1);
    assert_eq!(
        con.decode(&out[0]).payload,
        MessagePayload::SystemTextAcknowledge(SystemTextAcknowledge {
            text_session_id: 12,
            text_version_ack: 2
        })
    );
    assert_eq!(events(&mut s), vec![SessionEvent::TextInput(input)]);
    assert_eq!(s.text_version(), 2);
    s.send_text("hello", t0).unwrap();
    match con.decode(&transmits(&mut s)[0]).payload {
        MessagePayload::SystemTextInput(t) => {
            assert_eq!((t.base_version, t.submitted_version), (2, 3));
            assert_eq!(t.text_chunk, "hello");
            assert_eq!(t.total_text_byte_len, 5);
        }
        p => panic!("{p:?}"),
    }
    s.text_done(TextResult::Accept, t0).unwrap();
    assert_eq!(
        con.decode(&transmits(&mut s)[0]).payload,
        MessagePayload::SystemTextDone(SystemTextDone {
            text_session_id: 12,
            text_version: 3,
            flags: 0,
            result: TextResult::Accept
        })
    );
    // The console ends the session.
    let done = SystemTextDone {
        text_session_id: 12,
        text_version: 3,
        flags: 0,
        result: TextResult::Accept,
    };
    let m = con.msg(MessagePayload::SystemTextDone(done.clone()), text_ch, true);
    s.handle_datagram(&m, console_addr(), t0);
    assert_eq!(events(&mut s), vec![SessionEvent::TextDone(done)]);
    assert!(s.text_configuration().is_none());
}

#[test]
fn gamestream_start_states_and_stop() {
    let (mut s, mut con, t0) = connected(Curve::P384, quick_cfg());
    events(&mut s);
    let bc = s.channel_id(ServiceChannel::SystemBroadcast).unwrap();
    let cfg = GameStreamConfig {
        video_maximum_width: 1920,
        video_maximum_height: 1080,
        ..GameStreamConfig::default()
    };
    let seqs = s.start_gamestream(&cfg, t0).unwrap();
    assert_eq!(seqs.len(), 1);
    let out = transmits(&mut s);
    let m = con.decode(&out[0]);
    assert_eq!(m.header.channel_id, bc);
    assert!(m.header.flags.need_ack);
    let text = match m.payload {
        MessagePayload::Json(j) => j.text,
        p => panic!("{p:?}"),
    };
    match GameStreamEvent::parse(&text).unwrap() {
        GameStreamEvent::Start {
            configuration,
            re_query_preview_status,
        } => {
            assert!(re_query_preview_status);
            assert_eq!(configuration["videoMaximumWidth"], "1920");
            assert_eq!(configuration["audioSyncCompressFactor"], "0.99");
            assert_eq!(configuration.len(), 34);
        }
        e => panic!("{e:?}"),
    }
    for (i, ev) in [
        r#"{"type":4,"enabled":true,"canBeEnabled":true,"majorProtocolVersion":6,"minorProtocolVersion":0}"#,
        r#"{"type":7,"isPublicPreview":false,"isInternalPreview":false}"#,
        r#"{"type":3,"state":1,"sessionId":"{14608F3C-1C4A-4F32-9DA6-179CE1001E4A}","udpPort":49665,"tcpPort":53394}"#,
        r#"{"type":3,"state":2,"sessionId":"{14608F3C-1C4A-4F32-9DA6-179CE1001E4A}","isWirelessConnection":false,"wirelessChannel":0,"transmitLinkSpeed":1000000000}"#,
    ]
    .iter()
    .enumerate()
    {
        let m = con.msg(MessagePayload::Json(Json { text: ev.to_string() }), bc, true);
        s.handle_datagram(&m, console_addr(), t0);
        let evs = events(&mut s);
        assert_eq!(evs.len(), 2, "{i}: {evs:?}");
        assert!(matches!(evs[1], SessionEvent::GameStream(_)));
    }
    let st = s.gamestream();
    assert_eq!(st.state, GameStreamState::Started);
    assert_eq!(st.nano_ports(), Some((53394, 49665)));
    assert_eq!(st.enabled, Some(true));
    assert_eq!(st.server_major_version, Some(6));
    assert_eq!(st.wireless, Some(false));
    assert_eq!(st.transmit_linkspeed, Some(1_000_000_000));
    assert_eq!(
        st.preview_status.as_ref().map(|p| p.is_public_preview),
        Some(false)
    );
    assert_eq!(
        st.session_id.as_deref(),
        Some("{14608F3C-1C4A-4F32-9DA6-179CE1001E4A}")
    );
    // Bad broadcast JSON is reported, not fatal.
    let m = con.msg(
        MessagePayload::Json(Json {
            text: r#"{"type":3,"state":1,"sessionId":"x"}"#.into(),
        }),
        bc,
        true,
    );
    s.handle_datagram(&m, console_addr(), t0);
    assert!(events(&mut s)
        .iter()
        .any(|e| matches!(e, SessionEvent::Rejected { error } if error.contains("udpPort"))));
    transmits(&mut s);
    s.stop_gamestream(t0).unwrap();
    match con.decode(&transmits(&mut s)[0]).payload {
        MessagePayload::Json(j) => assert_eq!(j.text, r#"{"type":2}"#),
        p => panic!("{p:?}"),
    }
    let stopped = GameStreamEvent::State(StreamStateInfo {
        state: GameStreamState::Stopped,
        session_id: "x".into(),
        udp_port: None,
        tcp_port: None,
        is_wireless_connection: None,
        wireless_channel: None,
        transmit_link_speed: None,
    });
    let m = con.msg(
        MessagePayload::Json(Json {
            text: stopped.to_json(),
        }),
        bc,
        true,
    );
    s.handle_datagram(&m, console_addr(), t0);
    assert!(!s.gamestream().streaming);

    // A configuration longer than 1024 bytes goes as JSON fragments that
    // the reassembler puts back together.
    let mut big = GameStreamConfig::default();
    big.extra.insert("padding".into(), "p".repeat(800));
    let seqs = s.start_gamestream(&big, t0).unwrap();
    assert!(seqs.len() >= 2);
    let mut r = JsonReassembler::default();
    let mut got = None;
    for b in transmits(&mut s) {
        if let MessagePayload::Json(j) = con.decode(&b).payload {
            if let Some(t) = r.accept(&j.text).unwrap() {
                got = Some(t);
            }
        }
    }
    assert_eq!(got, Some(big.start_message()));
}

#[test]
fn console_disconnect_ends_the_session() {
    let (mut s, mut con, t0) = connected(Curve::P256, quick_cfg());
    events(&mut s);
    let m = con.msg(
        MessagePayload::Disconnect(Disconnect {
            reason: DisconnectReason::PowerOff,
            error_code: 0,
        }),
        0,
        false,
    );
    s.handle_datagram(&m, console_addr(), t0);
    let r = CloseReason::Disconnected {
        reason: DisconnectReason::PowerOff,
        error_code: 0,
    };
    assert_eq!(events(&mut s), vec![SessionEvent::Closed(r.clone())]);
    assert_eq!(s.poll_timeout(), None);
    assert_eq!(r.to_string(), "console disconnected: PowerOff (error 0x0)");
}

#[test]
fn discovery_of_a_captured_console() {
    let resp = common::read_vector("smartglass/packets/discovery_response");
    let t0 = Instant::now();
    let a: SocketAddr = "10.0.0.22:5050".parse().unwrap();
    let b: SocketAddr = "10.0.0.23:5050".parse().unwrap();
    let mut d = Discovery::new(
        DiscoveryConfig {
            targets: vec![a, b],
            ..DiscoveryConfig::network(Duration::from_secs(2))
        },
        t0,
    );
    assert_eq!(std::iter::from_fn(|| d.poll_transmit()).count(), 2);
    d.handle_datagram(&resp, a, t0);
    d.handle_datagram(&resp, a, t0); // once per address
    d.handle_datagram(&resp, b, t0);
    d.handle_datagram(&[0xdd, 0x01, 0, 5], b, t0); // truncated: rejected
    let ev: Vec<DiscoveryEvent> = std::iter::from_fn(|| d.poll_event()).collect();
    assert_eq!(ev.len(), 3, "{ev:?}");
    let DiscoveryEvent::Found(c) = &ev[0] else {
        panic!("{ev:?}")
    };
    let expected = common::read_expected("smartglass/expected/discovery_response.json");
    let up = &expected["unprotected_payload"];
    assert_eq!(c.name, up["name"].as_str().unwrap());
    assert_eq!(c.address, a);
    assert_eq!(c.curve, Curve::P256);
    assert_eq!(c.public_key.len(), 65);
    assert!(!c.live_id.is_empty());
    assert!(matches!(ev[2], DiscoveryEvent::Rejected { from, .. } if from == b));
    assert_eq!(d.consoles().len(), 2);
    d.handle_timeout(t0 + Duration::from_secs(2));
    assert_eq!(d.poll_event(), Some(DiscoveryEvent::Finished));
    // Unicast discovery finishes at the first answer.
    let mut d = Discovery::new(DiscoveryConfig::unicast(a, Duration::from_secs(5)), t0);
    d.handle_datagram(&resp, a, t0);
    assert!(d.is_finished());
}

/// Replays a real console's side of a captured session: the connect
/// response, acks, channel responses and console status.
#[test]
fn replay_of_a_captured_console() {
    const SECRET: &str = "82bba514e6d19521114940bd65121af234c53654a8e67add7710b3725db44f7730ed8e3da7015a09fe0f08e9bef3853c0506327eb77c9951769d923d863a2f5e";
    let mut secret = [0u8; 64];
    hex::decode_to_slice(SECRET, &mut secret).unwrap();
    let crypto = Crypto::from_shared_secret(&secret);
    let pk = hex::decode("041815d5382df79bd792a8d8342fbc717eacef6a258f779279e5463573e06bf84c6a88fac904870bf3a26f856e65f483195c4323eef47a048f23a031da6bd0929d").unwrap();
    let info = ConsoleInfo {
        address: console_addr(),
        name: "XboxOne".into(),
        uuid: [0; 16],
        live_id: "FD00112233FFEE66".into(),
        flags: PrimaryDeviceFlags::AllowAnonymousUsers,
        device_type: ClientType::XboxOne,
        last_error: 0,
        certificate: vec![],
        public_key: pk,
        curve: Curve::P256,
    };
    // The capture's client asked for these channels in this order.
    let cfg = SessionConfig {
        channels: vec![
            ServiceChannel::SystemInput,
            ServiceChannel::SystemMedia,
            ServiceChannel::SystemText,
            ServiceChannel::SystemInputTVRemote,
        ],
        ..SessionConfig::default()
    };
    let t0 = Instant::now();
    let mut s = ClientSession::with_crypto(&info, cfg, crypto.clone(), vec![0xab; 64], t0).unwrap();
    assert_eq!(transmits(&mut s).len(), 1);
    s.handle_datagram(
        &common::read_vector("smartglass/packets/connect_response"),
        console_addr(),
        t0,
    );
    assert_eq!(s.participant_id(), 31);
    let ours = transmits(&mut s);
    assert_eq!(ours.len(), 5);
    let pcap = xnano_proto::pcap::read(&common::read_vector("smartglass/sg_capture.pcap")).unwrap();
    let mut from_console = 0;
    for rec in pcap {
        if rec.src.port() != 5050 {
            continue;
        }
        from_console += 1;
        s.handle_datagram(&rec.payload, console_addr(), t0);
    }
    assert!(from_console > 10);
    let ev = events(&mut s);
    assert!(
        !ev.iter()
            .any(|e| matches!(e, SessionEvent::Rejected { .. })),
        "{ev:?}"
    );
    let started: Vec<(ServiceChannel, u64)> = ev
        .iter()
        .filter_map(|e| match e {
            SessionEvent::ChannelStarted {
                channel,
                channel_id,
            } => Some((*channel, *channel_id)),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        vec![
            (ServiceChannel::SystemInput, 148),
            (ServiceChannel::SystemMedia, 149),
            (ServiceChannel::SystemText, 150),
            (ServiceChannel::SystemInputTVRemote, 151),
        ]
    );
    let status = ev
        .iter()
        .find_map(|e| match e {
            SessionEvent::ConsoleStatus(c) => Some(c.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(status.active_titles[0].title_id, 714681658);
    // Local join and three channel requests were acked by the console.
    let acked: Vec<MessageType> = ev
        .iter()
        .filter_map(|e| match e {
            SessionEvent::Acked { msg_type, .. } => Some(*msg_type),
            _ => None,
        })
        .collect();
    assert_eq!(acked[0], MessageType::LocalJoin);
    assert!(acked.len() >= 4);
    // Every console message that wanted an ack got one.
    let acks: Vec<u32> = transmits(&mut s)
        .iter()
        .filter_map(|b| match Message::decode(b, &crypto).unwrap().payload {
            MessagePayload::Ack(a) => Some(a.processed_list),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(acks, vec![5, 6, 7, 8, 10]);
}

/// The session takes its randomness from `rng_seed` when given (sans-IO:
/// nothing a caller cannot inject): the same seed gives byte-identical
/// connect requests (ephemeral key and IVs), another seed different ones.
#[test]
fn a_seeded_session_is_reproducible() {
    let con = Console::new(Curve::P256);
    let t0 = Instant::now();
    let first = |seed: u64| {
        let cfg = SessionConfig {
            rng_seed: Some(seed),
            client_uuid: [5; 16],
            ..quick_cfg()
        };
        let mut s = ClientSession::new(&con.info(), cfg, t0).unwrap();
        s.poll_transmit().expect("a connect request").0
    };
    assert_eq!(first(7), first(7));
    assert_ne!(first(7), first(8));
}
