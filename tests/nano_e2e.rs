//! End-to-end Nano streaming over real loopback sockets: the client engine
//! (`xnano::nano::Client`) against the simulated console (`Host`).

mod common;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use common::seen::Seen;
use xnano::nano::{Client, ClientConfig, ControllerState, StreamStats};
use xnano_sim::media::{decode_h264_stream, verify_synthetic_info};
use xnano_sim::nano::{AudioMode, Host, Impairment, SimConfig, VideoMode};

fn start_client(sim: &Host, cfg: ClientConfig) -> (Client, Arc<Mutex<Seen>>) {
    let (seen, handler) = common::seen::recorder();
    let c = Client::connect(sim.tcp_addr(), sim.udp_addr(), cfg, handler).expect("connect");
    (c, seen)
}

fn synthetic(seed: u64, min_len: usize, max_len: usize) -> VideoMode {
    VideoMode::Synthetic {
        seed,
        min_len,
        max_len,
    }
}

/// Every delivered frame is exactly what the simulator sent under that id,
/// and carries a valid self-check; ids strictly increase.
fn check_frames_match(sim: &Host, seen: &Seen) {
    let sent: BTreeMap<u32, _> = sim
        .sent_frames()
        .into_iter()
        .map(|f| (f.frame_id, f))
        .collect();
    let mut prev: Option<u32> = None;
    for (id, key, data) in &seen.frames {
        if let Some(p) = prev {
            assert!(id > &p, "frame {id} delivered after {p}");
        }
        prev = Some(*id);
        let s = sent
            .get(id)
            .unwrap_or_else(|| panic!("frame {id} delivered but not in the sent log"));
        assert_eq!(&s.data, data, "frame {id} differs from what was sent");
        assert_eq!(s.keyframe, *key, "frame {id} keyframe flag");
        let info = verify_synthetic_info(data).expect("synthetic self-check");
        assert_eq!(info.keyframe, *key);
    }
}

#[test]
fn ten_seconds_720p60_every_frame_identical_and_in_order() {
    let sim = Host::start(SimConfig {
        width: 1280,
        height: 720,
        fps: 60,
        // Sizes of an 8 Mbit/s 720p60 H.264 stream: ~16 KB frames, 60 KB keyframes.
        video: synthetic(42, 6_000, 60_000),
        audio: AudioMode::Opus,
        keyframe_interval: 120,
        frame_log_len: 2000,
        session_seed: Some(3),
        ..SimConfig::default()
    })
    .unwrap();
    let (client, seen) = start_client(&sim, ClientConfig::default());
    // Ten seconds' worth (600 frames at 60 fps, 500 20-ms Opus packets),
    // however long a loaded machine takes.
    let full = common::wait_until(Duration::from_secs(120), || {
        let s = seen.lock();
        s.frames.len() >= 600 && s.audio.len() >= 500
    });
    let stats = client.stop().unwrap();
    let seen = seen.lock();
    let sim_stats = sim.stats();

    assert_eq!(seen.video_format, Some((1280, 720)));
    check_frames_match(&sim, &seen);
    // Nothing lost on loopback: the delivered ids are consecutive, from the
    // first frame the simulator sent.
    let sent = sim.sent_frames();
    let first_sent = sent.first().unwrap().frame_id;
    assert_eq!(seen.frames.first().unwrap().0, first_sent);
    for w in seen.frames.windows(2) {
        assert_eq!(w[1].0, w[0].0.wrapping_add(1), "gap after frame {}", w[0].0);
    }
    assert!(seen.losses.is_empty(), "losses: {:?}", seen.losses);
    assert_eq!(stats.frames_lost, 0);
    assert_eq!(stats.frames_dropped, 0);
    assert_eq!(stats.frames_delivered as usize, seen.frames.len());
    assert!(
        full,
        "{} frames, {} audio packets in 120 s",
        seen.frames.len(),
        seen.audio.len()
    );
    // Every frame sent before the last delivered one was delivered.
    let last = seen.frames.last().unwrap().0;
    let sent_upto = sent.iter().filter(|f| f.frame_id <= last).count();
    assert_eq!(sent_upto, seen.frames.len());
    assert!(sim_stats.session.video_frames_sent as usize >= seen.frames.len());
    // Latency was measured, and the percentiles are ordered.
    assert!(stats.latency_p50_ns > 0, "{stats:?}");
    assert!(stats.latency_p50_ns <= stats.latency_p99_ns, "{stats:?}");
}

#[test]
fn lossy_network_never_corrupts_reports_losses_and_resumes_at_keyframe() {
    let sim = Host::start(SimConfig {
        width: 1280,
        height: 720,
        fps: 60,
        video: synthetic(7, 3_000, 20_000),
        audio: AudioMode::Pcm,
        // Only the first keyframe and the requested ones: recovery must
        // come from the client's keyframe requests.
        keyframe_interval: 0,
        impairment: Impairment {
            loss_pct: 5.0,
            reorder_pct: 5.0,
            duplicate_pct: 5.0,
            seed: 99,
            ..Impairment::default()
        },
        frame_log_len: 2000,
        session_seed: Some(5),
        ..SimConfig::default()
    })
    .unwrap();
    let (client, seen) = start_client(&sim, ClientConfig::default());
    std::thread::sleep(Duration::from_secs(6));
    let stats: StreamStats = client.stop().unwrap();
    let seen = seen.lock();
    let sim_stats = sim.stats();

    check_frames_match(&sim, &seen);
    assert!(sim_stats.udp.dropped > 0 && sim_stats.udp.duplicated > 0);
    assert!(sim_stats.udp.reordered > 0);
    // Losses were reported to the user and to the console.
    assert!(!seen.losses.is_empty(), "no loss reported");
    assert!(stats.frames_lost > 0);
    assert!(stats.lost_reports > 0);
    assert!(sim_stats.session.lost_frame_reports > 0);
    // Keyframes were requested and the console produced them.
    assert!(stats.keyframe_requests > 0);
    assert!(sim_stats.session.keyframe_requests > 0);
    assert!(stats.keyframes_delivered >= 2, "{stats:?}");
    // After every loss, delivery resumes at a keyframe, and no lost frame
    // is ever delivered.
    for &(at, first, last) in &seen.losses {
        if let Some((id, key, _)) = seen.frames.get(at) {
            assert!(
                *key,
                "frame {id} after loss {first}..={last} is not a keyframe"
            );
            assert!(*id > last);
        }
        for (id, _, _) in &seen.frames {
            assert!(!(first..=last).contains(id), "lost frame {id} delivered");
        }
    }
    // Delivery went on after losses: several keyframe recoveries, each
    // followed by frames. (At 5% datagram loss a 10-chunk frame is lost
    // about one time in three, so most frames depend on a lost one.)
    let resumed = seen
        .losses
        .iter()
        .filter(|(at, _, _)| *at < seen.frames.len())
        .count();
    assert!(
        resumed >= 3,
        "delivery resumed only {resumed} times: {stats:?}"
    );
    assert!(seen.frames.len() > 30, "{} frames", seen.frames.len());
    assert_eq!(stats.frames_delivered as usize, seen.frames.len());
}

#[test]
fn input_frames_are_acked_and_rumble_reaches_the_callback() {
    let sim = Host::start(SimConfig {
        video: synthetic(1, 1_000, 4_000),
        audio: AudioMode::None,
        ..SimConfig::default()
    })
    .unwrap();
    let (client, seen) = start_client(&sim, ClientConfig::default());
    client.set_controller_connected(0, true).unwrap();
    assert!(
        common::wait_until(Duration::from_secs(5), || seen
            .lock()
            .input_ready
            .contains(&0)),
        "input channel never became ready"
    );
    for i in 0..20u8 {
        let st = ControllerState {
            buttons: if i % 2 == 0 {
                xnano::nano::buttons::A
            } else {
                0
            },
            left_trigger: i * 10,
            right_trigger: 200 - i * 5,
            left_thumb_x: i as i16 * 1000,
            ..Default::default()
        };
        client.set_controller_state(0, st).unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(common::wait_until(Duration::from_secs(5), || {
        let s = client.stats();
        s.input_frames_sent > 0 && s.input_frames_acked == s.input_frames_sent
    }));
    let stats = client.stats();
    assert!(stats.input_frames_sent >= 5, "{stats:?}");
    assert!(common::wait_until(Duration::from_secs(2), || !seen
        .lock()
        .rumble
        .is_empty()));
    let stats = client.stop().unwrap();
    let seen = seen.lock();
    // The simulator answers each input frame with rumble from its triggers.
    let last = seen.rumble.last().unwrap();
    assert_eq!(last.controller, 0);
    assert_eq!(last.left_trigger, 190);
    assert_eq!(last.right_trigger, 105);
    assert_eq!(stats.rumble_events as usize, seen.rumble.len());
    assert_eq!(
        sim.stats().session.input_frames_received,
        stats.input_frames_sent
    );
}

#[test]
fn recorded_h264_decodes_into_the_frames_reported() {
    let test = "recorded_h264_decodes_into_the_frames_reported";
    let (w, h) = (640usize, 360usize);
    let sim = Host::start(SimConfig {
        width: w as u32,
        height: h as u32,
        fps: 30,
        bitrate_bps: 2_000_000,
        video: VideoMode::TestPattern,
        keyframe_interval: 30,
        frame_log_len: 10_000,
        ..SimConfig::default()
    })
    .unwrap();
    let (client, seen) = start_client(&sim, ClientConfig::default());
    // Until 60 frames (two keyframe intervals), however slow the machine.
    assert!(common::wait_until(Duration::from_secs(120), || seen
        .lock()
        .frames
        .len()
        >= 60));
    let stats = client.stop().unwrap();
    let seen = seen.lock();
    let stream: Vec<u8> = seen
        .frames
        .iter()
        .flat_map(|f| f.2.iter().copied())
        .collect();
    assert_eq!(
        stats.frames_delivered,
        seen.frames.len() as u64,
        "{stats:?}"
    );
    assert!(seen.frames[0].1, "the first frame is a keyframe");
    let summary = decode_h264_stream(&stream).expect("decodes");
    assert_eq!(summary.frames, stats.frames_delivered);
    assert_eq!((summary.width, summary.height), (640, 360));

    // An independent decoder (FFmpeg) agrees, and its pictures are the test
    // pattern of the frames the console says it sent under those ids.
    let path = std::env::temp_dir().join(format!("xnano-e2e-rec-{}.h264", std::process::id()));
    std::fs::write(&path, &stream).unwrap();
    let counted = common::ffprobe_h264_frames(test, &path);
    let pictures = common::ffmpeg_h264_luma(test, &path, w, h);
    let _ = std::fs::remove_file(&path);
    let (Some(counted), Some(pictures)) = (counted, pictures) else {
        return;
    };
    assert_eq!(counted, stats.frames_delivered, "ffprobe");
    assert_eq!(pictures.len() as u64, stats.frames_delivered, "ffmpeg");
    let mut worst = f64::INFINITY;
    for (pic, (id, _, _)) in pictures.iter().zip(&seen.frames) {
        let index = sim
            .sent_frame(*id)
            .expect("the console logged the frame")
            .index;
        let p = common::psnr(&common::pattern_luma(w, h, index), pic);
        worst = worst.min(p);
    }
    eprintln!("recorded stream: worst luma PSNR against the pattern {worst:.1} dB");
    assert!(
        worst > common::PATTERN_PSNR_DB,
        "worst luma PSNR {worst:.1} dB"
    );
}

#[test]
fn console_closing_the_connection_ends_the_session_with_an_error() {
    let sim = Host::start(SimConfig {
        video: synthetic(3, 1_000, 2_000),
        ..SimConfig::default()
    })
    .unwrap();
    let (client, seen) = start_client(&sim, ClientConfig::default());
    assert!(common::wait_until(Duration::from_secs(5), || seen
        .lock()
        .frames
        .len()
        > 5));
    sim.close_client();
    assert!(common::wait_until(Duration::from_secs(5), || client.is_closed()));
    let reason = seen.lock().closed.clone().unwrap();
    assert!(reason.contains("closed"), "{reason}");
    client.stop().unwrap();
}

#[test]
fn silent_console_times_out() {
    let mut sim = Host::start(SimConfig {
        video: synthetic(3, 1_000, 2_000),
        ..SimConfig::default()
    })
    .unwrap();
    let cfg = ClientConfig {
        silence_timeout: Duration::from_millis(600),
        ..ClientConfig::default()
    };
    let (client, seen) = start_client(&sim, cfg);
    assert!(common::wait_until(Duration::from_secs(5), || seen
        .lock()
        .frames
        .len()
        > 5));
    // The console stops sending anything but keeps its sockets open.
    sim.set_silent(true);
    assert!(common::wait_until(Duration::from_secs(5), || client.is_closed()));
    let reason = seen.lock().closed.clone().unwrap();
    assert!(reason.contains("stopped answering"), "{reason}");
    client.stop().unwrap();
    sim.stop();
}

/// The engine answers its state and formats from the session, and every
/// frame and packet names the format its handshake chose (what the C ABI
/// copies into each `xnano_video_frame` / `xnano_audio_packet`).
#[test]
fn frames_name_their_format_and_the_engine_answers_its_state() {
    use xnano::nano::{ClientEvent, StreamState};
    let sim = Host::start(SimConfig {
        width: 320,
        height: 240,
        fps: 30,
        video: synthetic(9, 500, 1_000),
        audio: AudioMode::Opus,
        ..SimConfig::default()
    })
    .unwrap();
    #[derive(Default)]
    struct Formats {
        video_event: Option<xnano::nano::VideoFormat>,
        audio_event: Option<xnano::nano::AudioFormat>,
        frames: Vec<xnano::nano::VideoFormat>,
        packets: Vec<xnano::nano::AudioFormat>,
    }
    let seen = Arc::new(Mutex::new(Formats::default()));
    let s2 = seen.clone();
    let handler: xnano::nano::EventHandler = Box::new(move |e| {
        let mut s = s2.lock();
        match e {
            ClientEvent::VideoFormat(f) => s.video_event = Some(f.clone()),
            ClientEvent::AudioFormat(f) => s.audio_event = Some(f.clone()),
            ClientEvent::VideoFrame(f) => s.frames.push(f.format.clone()),
            ClientEvent::Audio(p) => s.packets.push(p.format.clone()),
            _ => {}
        }
    });
    let client = Client::connect(
        sim.tcp_addr(),
        sim.udp_addr(),
        ClientConfig::default(),
        handler,
    )
    .unwrap();
    assert!(common::wait_until(Duration::from_secs(60), || {
        let s = seen.lock();
        s.frames.len() >= 10 && s.packets.len() >= 10
    }));
    assert_eq!(client.state(), StreamState::Streaming);
    {
        let s = seen.lock();
        let v = s.video_event.clone().expect("a VideoFormat event");
        assert_eq!((v.width, v.height, v.fps), (320, 240, 30));
        assert_eq!(client.video_format().as_ref(), Some(&v));
        assert!(
            s.frames.iter().all(|f| f == &v),
            "a frame with another format"
        );
        let a = s.audio_event.clone().expect("an AudioFormat event");
        assert_eq!(client.audio_format().as_ref(), Some(&a));
        assert!(
            s.packets.iter().all(|f| f == &a),
            "a packet with another format"
        );
    }
    sim.close_client();
    assert!(common::wait_until(Duration::from_secs(10), || client
        .state()
        == StreamState::Closed));
    client.stop().unwrap();
}
