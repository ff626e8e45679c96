//! Impairment soak: the client engine streams from the simulated console
//! over loopback while the console's UDP sending loses, reorders,
//! duplicates and delays datagrams; the TCP connection is reset mid-stream;
//! the console goes silent; the console sends garbage.
//!
//! Every delivered frame is checked as it arrives against the frame the
//! console sent under that id and against its own checksum (synthetic
//! frames), so "corrupt" counts frames that differ in any byte.
//!
//! Duration per case: `XNANO_SOAK_SECS` (default 6). The full run is
//! `XNANO_SOAK_SECS=60 cargo test --test soak -- --nocapture`;
//! each case prints one line of figures, and the matrix also writes
//! `soak-report.md` under Cargo's test temp dir.

mod common;
mod reliability_support;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use reliability_support::*;
use xnano::nano::ReassemblyConfig;
use xnano::nano::{ClientConfig, CloseReason, StreamStats};
use xnano_proto::wire::nano::framing::encode_frame;
use xnano_proto::wire::nano::rtp::RtpHeader;
use xnano_proto::wire::nano::streamer::{StreamerBody, StreamerMessage};
use xnano_proto::wire::nano::video::{VideoData, VideoPayload};
use xnano_proto::wire::nano::{NanoPacket, NanoPayload};
use xnano_sim::nano::HostBehaviour;
use xnano_sim::nano::CHANNEL_ID_VIDEO;
use xnano_sim::nano::{AudioMode, Host, Impairment, SimConfig, SimStats};

/// The stream of every soak case: 1280x720 at 60 fps, synthetic frames of
/// 2 to 8 KB (1 to 6 datagrams), 8 KB keyframes every second, PCM audio.
fn stream_config(seed: u64, impairment: Impairment) -> SimConfig {
    SimConfig {
        width: 1280,
        height: 720,
        fps: 60,
        video: synthetic(seed, 2_000, 8_000),
        audio: AudioMode::Pcm,
        keyframe_interval: 60,
        impairment,
        frame_log_len: 600,
        session_seed: Some(seed),
        telemetry_interval: Some(Duration::from_secs(1)),
        ..SimConfig::default()
    }
}

#[derive(Debug, Clone)]
struct Outcome {
    name: &'static str,
    secs: f64,
    sent: u64,
    delivered: u64,
    corrupt: u64,
    unverifiable: u64,
    out_of_order: u64,
    non_key_after_loss: u64,
    after_close: u64,
    reported_lost: u64,
    loss_reports: u64,
    keyframes: u64,
    audio: u64,
    delivered_last_third: u64,
    closed: String,
    stats: StreamStats,
    udp_dropped: u64,
    udp_duplicated: u64,
    udp_reordered: u64,
}

impl Outcome {
    fn line(&self) -> String {
        format!(
            "| {} | {:.0} | {} | {} | {:.1}% | {} | {} | {} | {} | {} | {} | {} | {} |",
            self.name,
            self.secs,
            self.sent,
            self.delivered,
            100.0 * self.delivered as f64 / self.sent.max(1) as f64,
            self.stats.frames_lost,
            self.stats.frames_dropped,
            self.corrupt,
            self.stats.keyframe_requests,
            self.keyframes,
            self.stats.peak_frames_in_flight,
            self.stats.peak_held_bytes / 1024,
            if self.closed.is_empty() {
                "open"
            } else {
                &self.closed
            },
        )
    }

    /// Checks that hold in every case.
    fn check_common(&self) {
        let n = self.name;
        assert_eq!(self.corrupt, 0, "{n}: corrupt frames delivered");
        assert_eq!(self.unverifiable, 0, "{n}: frames not in the sent log");
        assert_eq!(self.out_of_order, 0, "{n}: frames out of order");
        assert_eq!(
            self.non_key_after_loss, 0,
            "{n}: a non-keyframe was delivered right after a loss"
        );
        assert_eq!(self.after_close, 0, "{n}: events after Closed");
        assert_eq!(self.stats.frames_delivered, self.delivered, "{n}");
        let caps = ReassemblyConfig::default();
        assert!(self.stats.peak_frames_in_flight <= caps.max_frames_in_flight as u64);
        assert!(self.stats.peak_held_bytes <= caps.max_total_bytes as u64);
        assert!(self.delivered > 0, "{n}: nothing delivered");
    }
}

const HEADER: &str = "| case | s | frames sent | delivered | % | lost | held back | corrupt | keyframe requests | keyframes | peak frames in flight | peak KiB held | session |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|";

fn run_case(
    name: &'static str,
    seed: u64,
    imp: Impairment,
    cfg: ClientConfig,
    secs: u64,
) -> Outcome {
    run_case_with(name, stream_config(seed, imp), cfg, secs).0
}

/// [`run_case`] on any simulator configuration; also returns the
/// simulator's counters.
fn run_case_with(
    name: &'static str,
    sim_cfg: SimConfig,
    cfg: ClientConfig,
    secs: u64,
) -> (Outcome, SimStats) {
    let sim = Arc::new(Host::start(sim_cfg).expect("sim starts"));
    let (client, checked) = checked_client(&sim, cfg);
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let run = started.elapsed().as_secs_f64();
    let sim_stats = sim.stats();
    let stats = client.stop().expect("stop");
    let c = &checked;
    let closed = c.closed.lock().clone();
    let outcome = Outcome {
        name,
        secs: run,
        sent: sim_stats.session.video_frames_sent,
        delivered: c.delivered.load(Ordering::Relaxed),
        corrupt: c.corrupt.load(Ordering::Relaxed),
        unverifiable: c.unverifiable.load(Ordering::Relaxed),
        out_of_order: c.out_of_order.load(Ordering::Relaxed),
        non_key_after_loss: c.non_key_after_loss.load(Ordering::Relaxed),
        after_close: c.after_close.load(Ordering::Relaxed),
        reported_lost: c.frames_reported_lost.load(Ordering::Relaxed),
        loss_reports: c.losses.load(Ordering::Relaxed),
        keyframes: c.keyframes.load(Ordering::Relaxed),
        audio: c.audio.load(Ordering::Relaxed),
        delivered_last_third: c.delivered_since(run * 2.0 / 3.0),
        // `stop` itself ends the session with CloseReason::Local; anything else
        // closed it before.
        closed: match closed {
            Some(CloseReason::Local) | None => String::new(),
            Some(r) => r.to_string(),
        },
        stats,
        udp_dropped: sim_stats.udp.dropped,
        udp_duplicated: sim_stats.udp.duplicated,
        udp_reordered: sim_stats.udp.reordered,
    };
    (outcome, sim_stats)
}

fn imp(loss: f64, reorder: f64, dup: f64, delay: u64, jitter: u64, seed: u64) -> Impairment {
    Impairment {
        loss_pct: loss,
        reorder_pct: reorder,
        duplicate_pct: dup,
        delay_ms: delay,
        jitter_ms: jitter,
        seed,
    }
}

/// The impairment matrix, all cases at once (each its own console and
/// client), while process memory is sampled.
#[test]
fn impairment_matrix() {
    // One at a time: the matrix measures the whole process's resident
    // memory, which another test's consoles and clients would add to.
    let _serial = common::one_at_a_time();
    let secs = soak_secs(6);
    let dflt = ClientConfig::default;
    // Jitter beyond the 16 ms defrag timeout (videoPacketDefragTimeoutMs)
    // spreads a frame's chunks past it; a longer timeout absorbs it.
    let patient = || ClientConfig {
        reassembly: ReassemblyConfig {
            defrag_timeout: Duration::from_millis(100),
            ..ReassemblyConfig::default()
        },
        ..ClientConfig::default()
    };
    let cases: Vec<(&'static str, Impairment, ClientConfig)> = vec![
        ("loss 0%", imp(0.0, 0.0, 0.0, 0, 0, 1), dflt()),
        ("loss 1%", imp(1.0, 0.0, 0.0, 0, 0, 2), dflt()),
        ("loss 5%", imp(5.0, 0.0, 0.0, 0, 0, 3), dflt()),
        ("loss 10%", imp(10.0, 0.0, 0.0, 0, 0, 4), dflt()),
        ("loss 20%", imp(20.0, 0.0, 0.0, 0, 0, 5), dflt()),
        ("reorder 10%", imp(0.0, 10.0, 0.0, 0, 0, 6), dflt()),
        ("duplicate 10%", imp(0.0, 0.0, 10.0, 0, 0, 7), dflt()),
        ("delay 50 ms", imp(0.0, 0.0, 0.0, 50, 0, 8), dflt()),
        ("delay 30±30 ms", imp(0.0, 0.0, 0.0, 30, 30, 9), dflt()),
        (
            "delay 30±30 ms, defrag 100 ms",
            imp(0.0, 0.0, 0.0, 30, 30, 9),
            patient(),
        ),
        ("all 5% + 20±10 ms", imp(5.0, 5.0, 5.0, 20, 10, 10), dflt()),
    ];
    let rss_start = proc_status_kib("VmRSS").unwrap_or(0);
    let mut samples: Vec<(f64, u64)> = Vec::new();
    let t0 = Instant::now();
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, (name, im, cfg))| {
                let (im, cfg) = (im.clone(), cfg.clone());
                s.spawn(move || run_case(name, 100 + i as u64, im, cfg, secs))
            })
            .collect();
        while !handles.iter().all(|h| h.is_finished()) {
            if let Some(kib) = proc_status_kib("VmRSS") {
                samples.push((t0.elapsed().as_secs_f64(), kib));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("case thread"))
            .collect()
    });
    let hwm = proc_status_kib("VmHWM").unwrap_or(0);
    // Memory: after the first third of the run (set-up done, logs filling),
    // the resident size must not keep growing.
    let third = secs as f64 / 3.0;
    let at_third = samples
        .iter()
        .find(|(t, _)| *t >= third)
        .map(|s| s.1)
        .unwrap_or(rss_start);
    let max_after = samples
        .iter()
        .filter(|(t, _)| *t >= third)
        .map(|s| s.1)
        .max()
        .unwrap_or(at_third);

    let mut report = format!(
        "Impairment matrix: {} cases in parallel, {secs} s each.\n\n{HEADER}\n",
        outcomes.len()
    );
    for o in &outcomes {
        report.push_str(&o.line());
        report.push('\n');
    }
    report.push_str(&format!(
        "\nProcess memory (all cases together): VmRSS {} MiB at start, {} MiB at {:.0} s, max {} MiB after; peak VmHWM {} MiB.\n",
        rss_start / 1024,
        at_third / 1024,
        third,
        max_after / 1024,
        hwm / 1024
    ));
    println!("\n{report}");
    for o in &outcomes {
        println!(
            "{}: udp dropped {} duplicated {} reordered {}; loss reports {} ({} frames); audio {}; delivered in last third {}; stats {:?}",
            o.name, o.udp_dropped, o.udp_duplicated, o.udp_reordered, o.loss_reports,
            o.reported_lost, o.audio, o.delivered_last_third, o.stats
        );
    }
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("soak-report.md");
    let _ = std::fs::write(&path, &report);
    println!("report written to {}", path.display());

    for o in &outcomes {
        o.check_common();
        let n = o.name;
        // The session never ended by itself, and delivery went on to the end.
        assert!(o.closed.is_empty(), "{n}: session closed: {}", o.closed);
        assert!(
            o.delivered_last_third > 0,
            "{n}: nothing delivered in the last third (no recovery)"
        );
        assert!(o.audio > 0, "{n}: no audio");
    }
    let by = |n: &str| outcomes.iter().find(|o| o.name == n).expect("case");
    // Without loss nothing is lost: clean, duplicated and uniformly delayed
    // streams deliver (nearly) every frame sent.
    for n in ["loss 0%", "duplicate 10%", "delay 50 ms"] {
        let o = by(n);
        assert_eq!(o.stats.frames_lost, 0, "{n}: {:?}", o.stats);
        assert!(
            o.delivered as f64 >= 0.95 * o.sent as f64 - 10.0,
            "{n}: {} of {} delivered",
            o.delivered,
            o.sent
        );
    }
    assert!(by("duplicate 10%").stats.chunks_duplicate > 0);
    // A defrag timeout above the jitter turns most of the jitter losses into
    // delivered frames.
    let (j, p) = (by("delay 30±30 ms"), by("delay 30±30 ms, defrag 100 ms"));
    assert!(
        p.delivered > 2 * j.delivered,
        "{} vs {}",
        p.delivered,
        j.delivered
    );
    // Under loss, losses are reported and recovery uses keyframe requests.
    for n in ["loss 5%", "loss 10%", "loss 20%"] {
        let o = by(n);
        assert!(o.loss_reports > 0 && o.stats.keyframe_requests > 0, "{n}");
        assert!(o.keyframes >= 2, "{n}: {} keyframes", o.keyframes);
    }
    let growth = max_after.saturating_sub(at_third);
    assert!(
        growth < 96 * 1024,
        "resident memory grew by {} MiB after the first third",
        growth / 1024
    );
}

/// The console behaviours of issue 12 (pacing, frame-id restarts, a UDP
/// silence, varying chunk flags), each under loss, reordering and
/// duplication at once, all cases in parallel. Every delivered frame is
/// checked byte for byte as in the matrix; ids only go backwards at a
/// restart.
#[test]
fn console_behaviours_under_impairment() {
    let _serial = common::one_at_a_time();
    let secs = soak_secs(6).max(6);
    let im = |seed| imp(2.0, 2.0, 2.0, 0, 0, seed);
    let b = HostBehaviour::default;
    let silence_at = Duration::from_secs(secs / 3);
    let silence_len = Duration::from_secs((secs / 3).min(8));
    // (name, pacing bit/s, behaviour)
    let cases: Vec<(&'static str, u64, HostBehaviour)> = vec![
        ("paced 5 Mbit/s + impairment", 5_000_000, b()),
        ("paced 20 Mbit/s + impairment", 20_000_000, b()),
        (
            "id restarts + impairment",
            0,
            HostBehaviour {
                restart_ids_every_keyframes: 2,
                ..b()
            },
        ),
        (
            "udp silence + impairment",
            0,
            HostBehaviour {
                udp_silence: Some((silence_at, silence_len)),
                ..b()
            },
        ),
        (
            "varying chunk flags + impairment",
            0,
            HostBehaviour {
                vary_chunk_flags: true,
                ..b()
            },
        ),
        (
            "all behaviours, paced 10 Mbit/s + impairment",
            10_000_000,
            HostBehaviour {
                restart_ids_every_keyframes: 3,
                vary_chunk_flags: true,
                udp_silence: Some((silence_at, silence_len)),
                ..b()
            },
        ),
    ];
    // Silences are longer than the default silence timeout would allow
    // in a long run; the session must survive them.
    let cfg = ClientConfig {
        silence_timeout: silence_len + Duration::from_secs(20),
        ..ClientConfig::default()
    };
    let results: Vec<(Outcome, SimStats, HostBehaviour)> = std::thread::scope(|s| {
        let handles: Vec<_> = cases
            .iter()
            .enumerate()
            .map(|(i, (name, pace, beh))| {
                let seed = 300 + i as u64;
                let sim_cfg = SimConfig {
                    pace_bps: *pace,
                    behaviour: beh.clone(),
                    ..stream_config(seed, im(seed))
                };
                let cfg = cfg.clone();
                let beh = beh.clone();
                s.spawn(move || {
                    let (o, st) = run_case_with(name, sim_cfg, cfg, secs);
                    (o, st, beh)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("case thread"))
            .collect()
    });
    println!("\nConsole behaviours under 2% loss/reorder/duplication, {secs} s each.\n\n{HEADER}");
    for (o, st, _) in &results {
        println!("{}", o.line());
        println!(
            "  {}: restarts {} (client counted {}), udp silenced {}, out of order {}, stats {:?}",
            o.name,
            st.session.frame_id_restarts,
            o.stats.frame_id_restarts,
            st.session.udp_silenced,
            o.out_of_order,
            o.stats
        );
    }
    for (o, st, beh) in &results {
        let n = o.name;
        assert_eq!(o.corrupt, 0, "{n}: corrupt frames delivered");
        assert_eq!(o.unverifiable, 0, "{n}: frames not in the sent log");
        assert_eq!(o.after_close, 0, "{n}: events after Closed");
        assert_eq!(o.stats.frames_delivered, o.delivered, "{n}");
        assert!(o.closed.is_empty(), "{n}: session closed: {}", o.closed);
        assert!(o.delivered > 0, "{n}: nothing delivered");
        assert!(
            o.delivered_last_third > 0,
            "{n}: nothing delivered in the last third (no recovery)"
        );
        // Ids go backwards only where the console restarted them.
        assert!(
            o.out_of_order <= st.session.frame_id_restarts,
            "{n}: {} frames out of order, {} restarts",
            o.out_of_order,
            st.session.frame_id_restarts
        );
        if beh.restart_ids_every_keyframes > 0 {
            assert!(st.session.frame_id_restarts >= 1, "{n}: no restart made");
            assert!(
                o.stats.frame_id_restarts >= 1,
                "{n}: the client did not count a restart"
            );
        }
        if beh.udp_silence.is_some() {
            assert!(st.session.udp_silenced > 0, "{n}: the silence never came");
        }
    }
}

/// A TCP reset in mid-stream ends the session promptly with a socket error
/// (or "closed"), after only intact frames; stop still joins cleanly.
#[test]
fn tcp_reset_mid_stream_ends_the_session_with_an_error() {
    let _serial = common::one_at_a_time();
    let sim = Arc::new(Host::start(stream_config(21, Impairment::default())).unwrap());
    let mut proxy = ResetProxy::start(sim.tcp_addr());
    let checked = Checked::started();
    let (c2, s2) = (checked.clone(), sim.clone());
    let client = xnano::nano::Client::connect(
        proxy.addr(),
        sim.udp_addr(),
        ClientConfig::default(),
        Box::new(move |e| c2.on_event(&s2, e)),
    )
    .expect("connect through the proxy");
    assert!(wait_until(Duration::from_secs(5), || checked
        .delivered
        .load(Ordering::Relaxed)
        > 60));
    let reset_at = Instant::now();
    proxy.reset();
    assert!(
        wait_until(Duration::from_secs(3), || client.is_closed()),
        "session did not end after the reset"
    );
    let took = reset_at.elapsed();
    let reason = checked.closed.lock().clone().expect("a close reason");
    assert!(
        matches!(
            reason,
            CloseReason::Io { .. } | CloseReason::ConnectionClosed
        ),
        "unexpected close reason {reason:?}"
    );
    let t = Instant::now();
    let stats = client.stop().expect("stop after reset");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "stop took {:?}",
        t.elapsed()
    );
    println!(
        "tcp reset: closed after {took:?} with \"{reason}\"; {} frames delivered, {} corrupt",
        checked.delivered.load(Ordering::Relaxed),
        checked.corrupt.load(Ordering::Relaxed)
    );
    assert_eq!(checked.corrupt.load(Ordering::Relaxed), 0);
    assert_eq!(checked.after_close.load(Ordering::Relaxed), 0);
    assert_eq!(
        stats.frames_delivered,
        checked.delivered.load(Ordering::Relaxed)
    );
}

/// A console that goes silent for less than the silence timeout: the session
/// survives, reports the gap as lost, and resumes at a keyframe. One that
/// stays silent: the session ends with a timeout.
#[test]
fn silent_console_recovers_or_times_out() {
    let _serial = common::one_at_a_time();
    let sim = Arc::new(Host::start(stream_config(31, Impairment::default())).unwrap());
    let cfg = ClientConfig {
        silence_timeout: Duration::from_millis(1500),
        ..ClientConfig::default()
    };
    let (client, checked) = checked_client(&sim, cfg);
    let delivered = || checked.delivered.load(Ordering::Relaxed);
    assert!(wait_until(Duration::from_secs(5), || delivered() > 30));
    sim.set_silent(true);
    std::thread::sleep(Duration::from_millis(800));
    let before = delivered();
    sim.set_silent(false);
    assert!(
        wait_until(Duration::from_secs(3), || delivered() > before + 30),
        "no recovery after a short silence"
    );
    assert!(!client.is_closed());
    assert!(
        checked.losses.load(Ordering::Relaxed) > 0,
        "the gap was not reported"
    );
    // Now for good.
    sim.set_silent(true);
    let t = Instant::now();
    assert!(wait_until(Duration::from_secs(5), || client.is_closed()));
    let waited = t.elapsed();
    let reason = checked.closed.lock().clone().unwrap();
    assert!(
        matches!(
            reason,
            CloseReason::ConnectTimeout { .. } | CloseReason::ConsoleSilent
        ),
        "unexpected close reason {reason:?}"
    );
    assert!(
        waited >= Duration::from_millis(1400),
        "closed after {waited:?}"
    );
    client.stop().unwrap();
    println!(
        "silence: resumed after 0.8 s; timed out after {waited:?} of silence; {} frames, {} corrupt",
        delivered(),
        checked.corrupt.load(Ordering::Relaxed)
    );
    assert_eq!(checked.corrupt.load(Ordering::Relaxed), 0);
    assert_eq!(checked.non_key_after_loss.load(Ordering::Relaxed), 0);
    assert_eq!(checked.after_close.load(Ordering::Relaxed), 0);
}

/// One garbage datagram of a kind chosen by `rng`: random bytes, broken or
/// contradictory Nano packets, wrong connection ids, unknown channels.
fn garbage_datagram(rng: &mut StdRng, conn: u16, next_frame: u32) -> Vec<u8> {
    let video = |conn: u16, channel: u16, d: VideoData| {
        NanoPacket {
            header: RtpHeader {
                connection_id: conn,
                channel_id: channel,
                ..RtpHeader::default()
            },
            payload: NanoPayload::Streamer(StreamerMessage::new(
                0,
                None,
                StreamerBody::Video(VideoPayload::Data(d)),
            )),
        }
        .to_bytes()
    };
    let chunk = |rng: &mut StdRng, frame_id: u32| VideoData {
        flags: 0x04,
        frame_id,
        timestamp: 0,
        total_size: 2_000,
        packet_count: 2,
        offset: 0,
        data: (0..1_000).map(|_| rng.gen()).collect(),
    };
    let frame_id = next_frame.wrapping_add(rng.gen_range(0..4));
    match rng.gen_range(0..9) {
        // Random bytes.
        0 => (0..rng.gen_range(0..1500)).map(|_| rng.gen()).collect(),
        // A real header and random rest.
        1 => {
            let mut b = video(conn, CHANNEL_ID_VIDEO, chunk(rng, frame_id));
            for x in b.iter_mut().skip(12) {
                *x = rng.gen();
            }
            b
        }
        // Truncated.
        2 => {
            let b = video(conn, CHANNEL_ID_VIDEO, chunk(rng, frame_id));
            b[..rng.gen_range(0..b.len())].to_vec()
        }
        // Hostile sizes: over the frame cap, beyond the frame, no chunks, too many chunks.
        3 => {
            let mut d = chunk(rng, frame_id);
            match rng.gen_range(0..4) {
                0 => d.total_size = 64 << 20,
                1 => d.offset = 1_500,
                2 => d.packet_count = 0,
                _ => d.packet_count = 1 << 20,
            }
            video(conn, CHANNEL_ID_VIDEO, d)
        }
        // A data length past the end of the datagram.
        4 => {
            let mut b = video(conn, CHANNEL_ID_VIDEO, chunk(rng, frame_id));
            // data_length sits 40 bytes into the video payload: RTP 12 +
            // streamer 12 + 28.
            b[12 + 12 + 28..12 + 12 + 32].copy_from_slice(&u32::MAX.to_le_bytes());
            b
        }
        // A complete forged frame under a wrong connection id.
        5 => {
            let mut d = chunk(rng, frame_id);
            d.packet_count = 1;
            d.total_size = 1_000;
            video(conn ^ 0x5a5a, CHANNEL_ID_VIDEO, d)
        }
        // A complete forged frame on a channel that does not exist.
        6 => {
            let mut d = chunk(rng, frame_id);
            d.packet_count = 1;
            d.total_size = 1_000;
            video(conn, 4000, d)
        }
        // Contradicts the real frame's size: the frame may be lost, never corrupt.
        7 => video(conn, CHANNEL_ID_VIDEO, chunk(rng, frame_id)),
        // Padding bit with an impossible count.
        _ => {
            let mut b = video(conn, CHANNEL_ID_VIDEO, chunk(rng, frame_id));
            b[0] |= 0x20;
            let last = b.len() - 1;
            b[last] = 0;
            b
        }
    }
}

/// A console that mixes garbage into its stream: the session keeps going,
/// counts what it rejected, delivers only intact frames; a hostile TCP
/// length then ends it with a protocol error.
#[test]
fn garbage_from_the_console_is_rejected_and_counted() {
    let _serial = common::one_at_a_time();
    let secs = soak_secs(6);
    let sim = Arc::new(Host::start(stream_config(41, Impairment::default())).unwrap());
    let (client, checked) = checked_client(&sim, ClientConfig::default());
    assert!(wait_until(Duration::from_secs(5), || checked
        .delivered
        .load(Ordering::Relaxed)
        > 10));
    let conn = sim.connection_id().expect("connected");
    let mut rng = StdRng::seed_from_u64(41);
    let end = Instant::now() + Duration::from_secs(secs);
    let (mut udp_sent, mut tcp_sent) = (0u64, 0u64);
    while Instant::now() < end {
        let next = sim
            .sent_frames()
            .last()
            .map_or(0, |f| f.frame_id.wrapping_add(1));
        for _ in 0..3 {
            assert!(sim.inject_udp(garbage_datagram(&mut rng, conn, next)));
            udp_sent += 1;
        }
        if rng.gen_range(0..10) == 0 {
            // A well-framed TCP packet whose content does not decode: a
            // streamer header on the video channel whose payload length
            // runs past the end.
            let mut p = Vec::new();
            RtpHeader {
                channel_id: CHANNEL_ID_VIDEO,
                ..RtpHeader::default()
            }
            .encode(&mut p);
            p.extend_from_slice(&3u32.to_le_bytes()); // flags: seq
            p.extend_from_slice(&[0u8; 8]);
            p.extend_from_slice(&4u32.to_le_bytes()); // video data
            p.extend_from_slice(&u32::MAX.to_le_bytes()); // payload length
            p.extend((0..rng.gen_range(0..64)).map(|_| rng.gen::<u8>()));
            let mut framed = Vec::new();
            encode_frame(&p, &mut framed);
            assert!(sim.inject_tcp(&framed));
            tcp_sent += 1;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let st = client.stats();
    assert!(!client.is_closed(), "closed: {}", checked.closed_text());
    let delivered = checked.delivered.load(Ordering::Relaxed);
    println!(
        "garbage: {udp_sent} datagrams and {tcp_sent} TCP packets injected over {secs} s; {delivered} frames delivered, {} corrupt; udp_malformed {} udp_rejected {} (wrong connection id {}) chunks_invalid {} tcp_malformed {} frames_lost {}",
        checked.corrupt.load(Ordering::Relaxed),
        st.udp_malformed,
        st.udp_rejected,
        st.udp_wrong_connection_id,
        st.chunks_invalid,
        st.tcp_malformed,
        st.frames_lost
    );
    assert_eq!(checked.corrupt.load(Ordering::Relaxed), 0);
    assert_eq!(checked.unverifiable.load(Ordering::Relaxed), 0);
    assert_eq!(checked.out_of_order.load(Ordering::Relaxed), 0);
    assert!(st.udp_malformed > 0, "{st:?}");
    assert!(st.udp_wrong_connection_id > 0, "{st:?}");
    assert!(st.udp_rejected > st.udp_wrong_connection_id, "{st:?}");
    assert!(st.chunks_invalid > 0, "{st:?}");
    assert!(st.tcp_malformed > 0 || tcp_sent == 0, "{st:?}");
    assert!(
        checked.delivered_since(secs as f64 * 0.6) > 0,
        "delivery stalled"
    );

    // A hostile TCP length cannot be resynchronised: a clear protocol error.
    assert!(sim.inject_tcp(&u32::MAX.to_le_bytes()));
    assert!(wait_until(Duration::from_secs(3), || client.is_closed()));
    let reason = checked.closed.lock().clone().unwrap();
    match &reason {
        CloseReason::Protocol { error: m } => assert!(m.contains("length"), "{m}"),
        other => panic!("unexpected close reason {other:?}"),
    }
    client.stop().unwrap();
}
