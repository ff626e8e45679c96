//! The client against a simulated console that does what a real console may do
//! (docs/protocol.md#timing-nobody-captured): restart its frame ids, vary the
//! flags of a frame's chunks, go quiet on UDP for seconds while TCP stays up.
//! Real loopback sockets; every delivered frame is checked byte for byte
//! against what the simulator sent under that id. The waits are for conditions
//! with generous bounds, never for a rate.

mod common;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::seen::Seen;
use parking_lot::Mutex;
use xnano::nano::ReassemblyConfig;
use xnano::nano::{Client, ClientConfig, ClientEvent};
use xnano_sim::nano::HostBehaviour;
use xnano_sim::nano::{AudioMode, Host, SimConfig, VideoMode};

fn start(behaviour: HostBehaviour, keyframe_interval: u32) -> (Host, Client, Arc<Mutex<Seen>>) {
    start_with(behaviour, keyframe_interval, 0, 60, DEFRAG)
}

/// The default defrag timeout (videoPacketDefragTimeoutMs).
const DEFRAG: Duration = Duration::from_millis(16);

/// The defrag timeout of the paced runs that check every frame arrives:
/// longer than a loaded test machine's scheduling hiccups (a frame whose
/// sender thread is descheduled for 16 ms between two chunks is given up),
/// and still well below the 240 ms a paced 150 KB keyframe takes at
/// 5 Mbit/s, so the timeout must count from the last chunk for the frame to
/// arrive. The exact 16 ms case runs on virtual time in the reassembler's
/// unit tests (`paced_keyframe_*`).
const PACED_DEFRAG: Duration = Duration::from_millis(100);

fn start_with(
    behaviour: HostBehaviour,
    keyframe_interval: u32,
    pace_bps: u64,
    fps: u32,
    defrag: Duration,
) -> (Host, Client, Arc<Mutex<Seen>>) {
    let sim = Host::start(SimConfig {
        width: 640,
        height: 360,
        fps,
        pace_bps,
        video: VideoMode::Synthetic {
            seed: 5,
            min_len: 2_000,
            max_len: 30_000,
        },
        audio: AudioMode::Pcm,
        keyframe_interval,
        frame_log_len: 4000,
        session_seed: Some(11),
        behaviour,
        ..SimConfig::default()
    })
    .unwrap();
    let (seen, handler) = common::seen::recorder();
    let d = ClientConfig::default();
    let cfg = ClientConfig {
        silence_timeout: Duration::from_secs(30),
        reassembly: ReassemblyConfig {
            defrag_timeout: defrag,
            ..d.reassembly
        },
        ..d
    };
    let client = Client::connect(sim.tcp_addr(), sim.udp_addr(), cfg, handler).expect("connect");
    (sim, client, seen)
}

/// Every delivered frame is what the simulator sent under that id.
fn check_frames(sim: &Host, seen: &Seen) {
    let sent: BTreeMap<u32, _> = sim
        .sent_frames()
        .into_iter()
        .map(|f| (f.frame_id, f))
        .collect();
    for (id, key, data) in &seen.frames {
        let s = sent
            .get(id)
            .unwrap_or_else(|| panic!("frame {id} delivered but not in the sent log"));
        assert_eq!(&s.data, data, "frame {id} differs from what was sent");
        assert_eq!(s.keyframe, *key, "frame {id} keyframe flag");
    }
}

/// Discovers the simulated console and connects to it over SmartGlass.
fn connect_console(sim: &xnano_sim::smartglass::Host) -> xnano::smartglass::Client {
    use xnano::smartglass::{self, ConnectOptions};
    let found = smartglass::discover(Some(sim.addr()), Duration::from_secs(10)).unwrap();
    let info = found
        .into_iter()
        .next()
        .expect("the console answers discovery");
    smartglass::Client::connect(
        info,
        ConnectOptions::default(),
        Box::new(|_: &smartglass::Event| {}),
    )
    .unwrap()
}

#[test]
fn frame_id_restart_video_resumes_and_is_counted() {
    let _serial = common::one_at_a_time();
    let (sim, client, seen) = start(
        HostBehaviour {
            restart_ids_every_keyframes: 2,
            ..Default::default()
        },
        30,
    );
    // Two restarts (at the 3rd and 5th keyframe), then 30 frames more.
    let ok = common::wait_until(Duration::from_secs(120), || {
        sim.stats().session.frame_id_restarts >= 2
            && client.stats().frame_id_restarts >= 2
            && client.stats().frames_delivered >= 180
    });
    let closed_before = seen.lock().closed.clone();
    let stats = client.stop().unwrap();
    let seen = seen.lock();
    assert!(
        ok,
        "restarts sim {} client {}, {} frames",
        sim.stats().session.frame_id_restarts,
        stats.frame_id_restarts,
        stats.frames_delivered
    );
    assert_eq!(closed_before, None, "the session closed before the stop");
    check_frames(&sim, &seen);
    // Frames of the newest id range were delivered: find the last downward jump.
    let jumps: Vec<usize> = seen
        .frames
        .windows(2)
        .enumerate()
        .filter(|(_, w)| (w[1].0.wrapping_sub(w[0].0) as i32) < 0)
        .map(|(i, _)| i + 1)
        .collect();
    assert!(
        jumps.len() >= 2,
        "restarts seen in the delivered ids: {jumps:?}"
    );
    for &j in &jumps {
        assert!(
            seen.frames[j].1,
            "the first frame after a restart is the restart keyframe"
        );
    }
    // Within each id range, consecutive ids: nothing lost on loopback.
    for w in seen.frames.windows(2) {
        let d = w[1].0.wrapping_sub(w[0].0) as i32;
        assert!(d == 1 || d < 0, "gap {} -> {}", w[0].0, w[1].0);
    }
    assert_eq!(stats.frames_lost, 0);
}

#[test]
fn chunks_with_varying_flags_lose_nothing() {
    let _serial = common::one_at_a_time();
    let (sim, client, seen) = start(
        HostBehaviour {
            vary_chunk_flags: true,
            ..Default::default()
        },
        60,
    );
    let ok = common::wait_until(Duration::from_secs(120), || {
        client.stats().frames_delivered >= 240
    });
    let stats = client.stop().unwrap();
    let seen = seen.lock();
    assert!(ok, "{} frames", stats.frames_delivered);
    check_frames(&sim, &seen);
    assert_eq!(stats.frames_lost, 0);
    assert_eq!(stats.frames_dropped, 0);
    assert_eq!(stats.chunks_invalid, 0);
    assert!(stats.chunk_flag_mismatches > 0);
    assert!(
        seen.frames.iter().filter(|f| f.1).count() >= 4,
        "keyframes recognised"
    );
}

#[test]
fn eight_seconds_of_udp_silence_session_survives_and_video_resumes() {
    let _serial = common::one_at_a_time();
    let (sim, client, seen) = start(
        HostBehaviour {
            udp_silence: Some((Duration::from_secs(2), Duration::from_secs(8))),
            ..Default::default()
        },
        0,
    );
    // Frames before the silence, then the silence, then frames after it.
    let ok = common::wait_until(Duration::from_secs(120), || {
        let st = sim.stats().session;
        st.udp_silenced > 0
            && st.keyframes_sent >= 2
            && client.stats().keyframes_delivered >= 2
            && seen.lock().frames.len() >= 60
    });
    let before_stop = seen.lock().frames.len();
    let closed_before = seen.lock().closed.clone();
    let stats = client.stop().unwrap();
    let seen = seen.lock();
    assert!(
        ok,
        "silenced {} keyframes sent {} delivered {} frames {before_stop}",
        sim.stats().session.udp_silenced,
        sim.stats().session.keyframes_sent,
        stats.keyframes_delivered
    );
    check_frames(&sim, &seen);
    assert_eq!(closed_before, None, "the session closed before the stop");
}

/// A console that paces its chunks: 150 KB keyframes at 5 Mbit/s take
/// 240 ms on the wire, 2.4 times the defrag timeout used here
/// (`PACED_DEFRAG`). Every frame arrives.
#[test]
fn paced_console_every_frame_delivered_byte_for_byte() {
    let _serial = common::one_at_a_time();
    for (bps, key) in [
        (5_000_000u64, 150_000usize),
        (10_000_000, 100_000),
        (20_000_000, 150_000),
    ] {
        let (sim, client, seen) = start_with(
            HostBehaviour {
                pad_keyframes_to: key,
                ..Default::default()
            },
            30,
            bps,
            30,
            PACED_DEFRAG,
        );
        let ok = common::wait_until(Duration::from_secs(120), || {
            client.stats().keyframes_delivered >= 4 && client.stats().frames_delivered >= 120
        });
        let closed_before = seen.lock().closed.clone();
        let stats = client.stop().unwrap();
        let seen = seen.lock();
        assert!(ok, "{bps} bit/s: {stats:?}");
        assert_eq!(closed_before, None);
        check_frames(&sim, &seen);
        assert!(seen.frames.iter().filter(|f| f.1).all(|f| f.2.len() >= key));
        // Consecutive ids from the first frame: nothing given up.
        for w in seen.frames.windows(2) {
            assert_eq!(
                w[1].0,
                w[0].0.wrapping_add(1),
                "{bps} bit/s: gap after {}",
                w[0].0
            );
        }
        assert_eq!(stats.frames_lost, 0, "{bps} bit/s");
        assert_eq!(stats.frames_dropped, 0, "{bps} bit/s");
    }
}

/// The SmartGlass console sends heartbeats of its own (empty
/// acknowledgements that set need-ack, as the reference client's): the
/// client acknowledges every one and the session stays connected.
#[test]
fn console_heartbeats_are_acked_and_the_session_stays_up() {
    let _serial = common::one_at_a_time();
    use xnano::smartglass::SessionState;
    use xnano_sim::smartglass::{Host as SgHost, SimConfig as SgSimConfig};

    let sim = SgHost::start(SgSimConfig {
        heartbeat_interval: Some(Duration::from_millis(200)),
        resend_interval: Duration::from_millis(300),
        ..SgSimConfig::default()
    })
    .unwrap();
    let client = connect_console(&sim);
    let ok = common::wait_until(Duration::from_secs(60), || {
        let st = sim.stats();
        st.heartbeats_sent >= 5 && st.heartbeats_acked >= 5
    });
    let st = sim.stats();
    assert!(ok, "console heartbeats not acked: {st:?}");
    assert!(st.heartbeats_acked <= st.heartbeats_sent);
    assert_eq!(st.resends_exhausted, 0, "{st:?}");
    assert_eq!(client.state(), SessionState::Connected);
    client.disconnect().unwrap();
}

/// A console started over SmartGlass paces its Nano UDP at the rate the
/// client's StartGameStream asks for (urcpFixedRate here; urcpMaximumRate
/// when there is no fixed rate), and streams every frame through it.
#[test]
fn pacing_follows_the_gamestream_urcp_rate() {
    let _serial = common::one_at_a_time();
    use std::sync::atomic::{AtomicU64, Ordering};
    use xnano::nano;
    use xnano::smartglass::GameStreamConfig;
    use xnano_sim::smartglass::{Host as SgHost, SimConfig as SgSimConfig};

    let sim = SgHost::start(SgSimConfig {
        pace_from_gamestream: true,
        nano: SimConfig {
            width: 640,
            height: 360,
            fps: 30,
            video: VideoMode::Synthetic {
                seed: 9,
                min_len: 2_000,
                max_len: 60_000,
            },
            keyframe_interval: 30,
            audio: AudioMode::Pcm,
            ..SimConfig::default()
        },
        ..SgSimConfig::default()
    })
    .unwrap();
    let client = connect_console(&sim);
    let frames = Arc::new(AtomicU64::new(0));
    let f2 = frames.clone();
    let handler: nano::EventHandler = Box::new(move |e: &ClientEvent| {
        if let ClientEvent::VideoFrame(_) = e {
            f2.fetch_add(1, Ordering::Relaxed);
        }
    });
    let gs = GameStreamConfig {
        urcp_fixed_rate: 6_000_000,
        // See PACED_DEFRAG: robust to a loaded machine's hiccups.
        video_packet_defrag_timeout_ms: PACED_DEFRAG.as_millis() as i64,
        ..GameStreamConfig::default()
    };
    client
        .start_gamestream(&gs, nano::ClientConfig::default(), handler)
        .unwrap();
    client.wait_gamestream(Duration::from_secs(30)).unwrap();
    assert_eq!(
        sim.with_nano_server(|s| s.config().pace_bps),
        Some(6_000_000),
        "the Nano host does not pace at urcpFixedRate"
    );
    assert!(
        common::wait_until(Duration::from_secs(60), || frames.load(Ordering::Relaxed)
            >= 60),
        "{} frames through the paced host",
        frames.load(Ordering::Relaxed)
    );
    let stats = client.stop_gamestream().unwrap().expect("a stream ran");
    assert_eq!(stats.frames_lost, 0, "{stats:?}");
    client.disconnect().unwrap();
}

/// A source that offers more than the pacing rate: the pacer's queue is
/// bounded (datagrams beyond it are dropped and counted), the session stays
/// open, and the simulator still stops.
#[test]
fn pacing_below_the_offered_rate_drops_instead_of_queueing_forever() {
    let _serial = common::one_at_a_time();
    let (mut sim, client, seen) = start_with(
        HostBehaviour {
            pad_keyframes_to: 150_000,
            pad_frames_to: 60_000,
            ..Default::default()
        },
        30,
        1_000_000,
        30,
        DEFRAG,
    );
    let ok = common::wait_until(Duration::from_secs(120), || {
        sim.stats().udp.pace_dropped > 0
    });
    assert!(ok, "nothing dropped at 1 Mbit/s: {:?}", sim.stats().udp);
    assert!(!client.is_closed(), "{:?}", seen.lock().closed);
    client.stop().unwrap();
    sim.stop();
    assert!(sim.stats().udp.pace_dropped > 0);
}

/// Real H.264 (the test pattern) grown to a real console's frame sizes with
/// filler-data NAL units: keyframes of 120 KB and other frames of 25 KB
/// (about 6 Mbit/s at 30 fps), paced at 10 Mbit/s. Every frame arrives as
/// sent and the stream still decodes, one picture per frame.
#[test]
fn padded_h264_frames_arrive_and_still_decode() {
    let _serial = common::one_at_a_time();
    let sim = Host::start(SimConfig {
        width: 320,
        height: 180,
        fps: 30,
        bitrate_bps: 500_000,
        pace_bps: 10_000_000,
        video: VideoMode::TestPattern,
        audio: AudioMode::None,
        keyframe_interval: 15,
        frame_log_len: 4000,
        session_seed: Some(3),
        behaviour: HostBehaviour {
            pad_keyframes_to: 120_000,
            pad_frames_to: 25_000,
            ..Default::default()
        },
        ..SimConfig::default()
    })
    .unwrap();
    let (seen, handler) = common::seen::recorder();
    let client = Client::connect(
        sim.tcp_addr(),
        sim.udp_addr(),
        ClientConfig::default(),
        handler,
    )
    .expect("connect");
    let ok = common::wait_until(Duration::from_secs(120), || {
        client.stats().keyframes_delivered >= 3 && client.stats().frames_delivered >= 45
    });
    let stats = client.stop().unwrap();
    assert!(ok, "{stats:?}");
    let seen = seen.lock();
    check_frames(&sim, &seen);
    let first_key = seen
        .frames
        .iter()
        .position(|f| f.1)
        .expect("a keyframe delivered");
    let mut stream = Vec::new();
    for (id, key, data) in &seen.frames[first_key..] {
        let want = if *key { 120_000 } else { 25_000 };
        assert!(data.len() >= want, "frame {id}: {} bytes", data.len());
        assert!(
            xnano_sim::media::h264_nal_types(data).contains(&12),
            "frame {id} carries no filler NAL"
        );
        stream.extend_from_slice(data);
    }
    let n = (seen.frames.len() - first_key) as u64;
    let summary = xnano_sim::media::decode_h264_stream(&stream).expect("padded H.264 decodes");
    assert_eq!(summary.frames, n, "one picture per delivered frame");
    assert_eq!((summary.width, summary.height), (320, 180));
}

/// The console starts ChatAudio with an AudioControl after its handshake
/// (as a real console does), or withholds it: either way the client's
/// microphone packets reach the console (without it, after the client's
/// fallback wait).
#[test]
fn chat_audio_reaches_the_console_with_or_without_its_audio_control() {
    let _serial = common::one_at_a_time();
    use std::sync::atomic::{AtomicBool, Ordering};
    for withhold in [false, true] {
        let sim = Host::start(SimConfig {
            width: 320,
            height: 180,
            fps: 30,
            video: VideoMode::Synthetic {
                seed: 2,
                min_len: 1_000,
                max_len: 4_000,
            },
            audio: AudioMode::Pcm,
            session_seed: Some(4),
            behaviour: HostBehaviour {
                withhold_chat_audio_control: withhold,
                ..Default::default()
            },
            ..SimConfig::default()
        })
        .unwrap();
        let ready = Arc::new(AtomicBool::new(false));
        let r2 = ready.clone();
        let handler = Box::new(move |e: &ClientEvent| {
            if let ClientEvent::ChatAudioReady(_) = e {
                r2.store(true, Ordering::SeqCst);
            }
        });
        let client = Client::connect(
            sim.tcp_addr(),
            sim.udp_addr(),
            ClientConfig::default(),
            handler,
        )
        .expect("connect");
        let got = common::wait_until(Duration::from_secs(60), || {
            let _ = client.send_chat_audio(&[0x55; 40]);
            std::thread::sleep(Duration::from_millis(20));
            sim.stats().session.chat_audio_received > 0
        });
        let ready = ready.load(Ordering::SeqCst);
        let stats = client.stop().unwrap();
        assert!(ready, "withhold {withhold}: ChatAudio never became ready");
        assert!(
            got,
            "withhold {withhold}: no microphone packet arrived: {stats:?}"
        );
    }
}
