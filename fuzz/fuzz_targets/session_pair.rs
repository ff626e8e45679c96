//! A client session and a simulated console session wired back to back
//! in-process, with the fuzzer as the network and the clock: TCP bytes
//! arrive intact but in arbitrary pieces and at arbitrary times; UDP
//! datagrams are delivered, dropped, duplicated or reordered; garbage
//! datagrams may be injected; the console pushes self-verifying synthetic
//! frames and audio; the user presses buttons and asks for keyframes.
//!
//! Invariants: every frame the client delivers is byte-identical to the
//! frame the console sent under that id and passes its own checksum (unless
//! injected garbage happened to be a well-formed video chunk of this
//! session, which no receiver could tell apart); frames and losses come in
//! increasing id order; neither side ever sees an undecodable packet from
//! the other; no event follows Closed.
#![no_main]

use std::collections::VecDeque;
use std::net::SocketAddr;

use libfuzzer_sys::fuzz_target;
use xnano_proto::nano::reassembly::ReassemblyConfig;
use xnano_proto::nano::{ClientConfig, ClientEvent, ClientSession, ControllerState};
use xnano_sim::media::{verify_synthetic_info, SyntheticVideo};
use xnano_sim::nano::{HostConfig, HostSession};
use xnano_proto::wire::nano::video::parse_udp_video_data;
use xnano_fuzz::{after, Clock, Input};

const HOST_CONN: u16 = 0x4321;

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let mut clock = Clock::default();
    let client_addr: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    let host_cfg = HostConfig {
        seed: Some(u64::from(inp.u8())),
        connection_id: Some(HOST_CONN),
        chunk_size: usize::from(inp.u8()) * 4 + 64,
        reference_timestamp_ms: Some(1_600_000_000_000),
        telemetry_interval: Some(std::time::Duration::from_millis(200)),
        frame_log_len: 8192,
        ..HostConfig::default()
    };
    let mut host = HostSession::new(host_cfg, clock.now());
    let ccfg = ClientConfig {
        connection_id: Some(0x1234),
        initial_video_frame_id: Some(inp.u32()),
        wall_clock_ms: Some(1_600_000_000_000),
        reassembly: ReassemblyConfig {
            max_frames_in_flight: 32,
            max_frame_size: 64 * 1024,
            max_total_bytes: 512 * 1024,
            ..ReassemblyConfig::default()
        },
        ..ClientConfig::default()
    };
    let mut client = ClientSession::new(ccfg, clock.now());
    let mut video = SyntheticVideo::new(
        u64::from(inp.u8()),
        36,
        36 + usize::from(inp.u16() % 6000),
        0,
        60,
    )
    .expect("valid sizes");

    let mut to_client_tcp: VecDeque<u8> = VecDeque::new();
    let mut to_host_tcp: VecDeque<u8> = VecDeque::new();
    let mut to_client_udp: VecDeque<Vec<u8>> = VecDeque::new();
    let mut to_host_udp: VecDeque<Vec<u8>> = VecDeque::new();
    let mut client_closed = false;
    let mut host_closed = false;
    let mut tainted = false;
    let mut last: Option<u32> = None;
    let mut delivered = 0u64;

    while !inp.is_empty() {
        let now = clock.now();
        match inp.u8() % 16 {
            0 | 1 => {
                let n = usize::from(inp.u8()) + 1;
                let b: Vec<u8> = to_client_tcp.drain(..n.min(to_client_tcp.len())).collect();
                client.handle_tcp(&b, now);
            }
            2 => {
                let n = usize::from(inp.u8()) + 1;
                let b: Vec<u8> = to_host_tcp.drain(..n.min(to_host_tcp.len())).collect();
                host.handle_tcp(&b, now)
                    .expect("the client's TCP framing is valid");
            }
            3..=5 => {
                if let Some(d) = to_client_udp.pop_front() {
                    client.handle_udp(&d, now);
                }
            }
            6 => {
                // Loss.
                to_client_udp.pop_front();
            }
            7 => {
                // Duplication.
                if let Some(d) = to_client_udp.front().cloned() {
                    client.handle_udp(&d, now);
                }
            }
            8 => {
                // Reordering: the next datagram goes behind a later one.
                let k = usize::from(inp.u8() % 8) + 1;
                if to_client_udp.len() > k {
                    let d = to_client_udp.pop_front().expect("non-empty");
                    to_client_udp.insert(k, d);
                }
            }
            9 => {
                if let Some(d) = to_host_udp.pop_front() {
                    if inp.u8() % 8 != 0 {
                        host.handle_udp(&d, client_addr, now);
                    }
                }
            }
            10 => {
                let t = clock.advance_ms(u64::from(inp.u8() % 64));
                client.handle_timeout(t);
                host.handle_timeout(t);
            }
            11 | 12 => {
                let f = video.next_frame();
                if host.push_video_frame(&f, now) {
                    // Keyframes on request, as the server's media thread does.
                }
                if host.keyframe_pending() {
                    video.force_keyframe();
                }
                host.push_audio_packet(&[inp.u8(); 40], now);
            }
            13 => {
                let g = inp.blob(300).to_vec();
                if let Ok((h, _)) = parse_udp_video_data(&g) {
                    if h.connection_id == HOST_CONN {
                        tainted = true;
                    }
                }
                client.handle_udp(&g, now);
            }
            14 => {
                let n = inp.u8();
                let _ = match n % 4 {
                    0 => client.request_keyframe(now),
                    1 => client.set_controller_connected(n >> 6, true, now),
                    _ => client.set_controller_state(
                        n >> 6,
                        ControllerState {
                            buttons: inp.u16(),
                            left_trigger: inp.u8(),
                            ..ControllerState::default()
                        },
                        now,
                    ),
                };
            }
            _ => match inp.u8() {
                0 => client.stop(now),
                1 => host.close(now),
                _ => {
                    let t = clock.advance_ms(u64::from(inp.u16() % 2000));
                    client.handle_timeout(t);
                    host.handle_timeout(t);
                }
            },
        }

        // The wires.
        while let Some(b) = client.poll_tcp_transmit() {
            to_host_tcp.extend(b);
        }
        while let Some(b) = client.poll_udp_transmit() {
            to_host_udp.push_back(b.clone());
            client.recycle_udp(b);
        }
        while let Some(b) = host.poll_tcp_transmit() {
            to_client_tcp.extend(b);
        }
        while let Some((b, to)) = host.poll_udp_transmit() {
            assert_eq!(to, client_addr);
            to_client_udp.push_back(b);
        }
        if to_client_udp.len() > 4096 {
            to_client_udp.drain(..2048);
        }
        while let Some(e) = host.poll_event() {
            if let xnano_sim::nano::HostEvent::BadPacket(why) = e {
                assert!(
                    client_closed || host_closed,
                    "the console could not use a client packet: {why}"
                );
            }
        }
        host_closed |= host.is_closed();
        while let Some(e) = client.poll_event() {
            assert!(!client_closed, "event after Closed: {e:?}");
            match e {
                ClientEvent::Closed(_) => client_closed = true,
                ClientEvent::VideoFrame(f) => {
                    if let Some(l) = last {
                        assert!(after(l, f.frame_id), "frame {} after {l}", f.frame_id);
                    }
                    last = Some(f.frame_id);
                    delivered += 1;
                    if !tainted {
                        let sent = host
                            .sent_frame(f.frame_id)
                            .unwrap_or_else(|| panic!("frame {} was never sent", f.frame_id));
                        assert!(
                            sent.data == f.data,
                            "frame {} differs from the one sent",
                            f.frame_id
                        );
                        assert_eq!(sent.keyframe, f.keyframe);
                        let info =
                            verify_synthetic_info(&f.data).expect("frame passes its checksum");
                        assert_eq!(info.index, sent.index);
                    }
                    client.recycle_frame(f.data);
                }
                ClientEvent::FramesLost { first, last: l } => {
                    if let Some(p) = last {
                        assert!(after(p, first), "loss {first}..={l} after {p}");
                    }
                    last = Some(l);
                }
                _ => {}
            }
        }
    }
    let st = client.stats();
    assert_eq!(st.frames_delivered, delivered);
});
