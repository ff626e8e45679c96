//! The simulated console's media sources: real H.264 and Opus round trips through real decoders,
//! and the synthetic frames' self-check.

mod common;
use xnano_sim::media::{
    decode_h264_stream, decode_h264_to_rgb, decode_opus_packets, decode_opus_to_pcm,
    h264_nal_types, verify_synthetic, verify_synthetic_info, AudioCodec, AudioSource, FrameSource,
    H264Decoder, MediaError, SyntheticVideo, VideoSource, SYNTHETIC_HEADER_LEN,
};

const NAL_IDR: u8 = 5;
const NAL_SPS: u8 = 7;
const NAL_PPS: u8 = 8;

#[test]
fn h264_720p_120_frames_decode_to_120_pictures() {
    let mut src = VideoSource::new(1280, 720, 60, 6_000_000, 60).unwrap();
    let mut stream = Vec::new();
    let mut keyframes = Vec::new();
    for i in 0..120u64 {
        let f = src.next_frame().unwrap();
        assert_eq!(f.index, i);
        assert_eq!(f.pts_us, i * 1_000_000 / 60);
        assert!(f.data.starts_with(&[0, 0, 0, 1]) || f.data.starts_with(&[0, 0, 1]));
        let types = h264_nal_types(&f.data);
        assert_eq!(f.keyframe, types.contains(&NAL_IDR), "frame {i}: {types:?}");
        if f.keyframe {
            assert!(
                types.contains(&NAL_SPS) && types.contains(&NAL_PPS),
                "{types:?}"
            );
            keyframes.push(i);
        }
        stream.extend_from_slice(&f.data);
    }
    assert_eq!(keyframes, vec![0, 60], "IDR every 60 frames");
    let summary = decode_h264_stream(&stream).unwrap();
    assert_eq!(summary.frames, 120);
    assert_eq!((summary.width, summary.height), (1280, 720));
}

#[test]
fn h264_frames_decode_one_by_one_and_the_pattern_moves() {
    let mut src = VideoSource::new(320, 240, 30, 500_000, 0).unwrap();
    let mut dec = H264Decoder::new().unwrap();
    let mut pictures = Vec::new();
    for _ in 0..10 {
        let f = src.next_frame().unwrap();
        let pic = dec
            .decode_rgb(&f.data)
            .unwrap()
            .expect("one picture per frame");
        assert_eq!((pic.width, pic.height), (320, 240));
        assert_eq!(pic.data.len(), 320 * 240 * 3);
        pictures.push(pic);
    }
    assert_eq!(dec.flush(false).unwrap().0, 0, "nothing held back");
    assert_eq!(dec.summary().frames, 10);
    for pair in pictures.windows(2) {
        assert_ne!(pair[0].data, pair[1].data, "consecutive frames differ");
    }
    // The counter block at the top left is black with white digits.
    let corner = pictures[0].pixel(0, 0).unwrap();
    assert!(corner.iter().all(|&c| c < 40), "{corner:?}");
}

#[test]
fn force_keyframe_makes_the_next_frame_an_idr() {
    let mut src = VideoSource::new(640, 360, 60, 1_000_000, 0).unwrap();
    let first = src.next_frame().unwrap();
    assert!(first.keyframe);
    for _ in 0..5 {
        let f = src.next_frame().unwrap();
        assert!(!f.keyframe, "no periodic IDR with interval 0");
        assert!(!h264_nal_types(&f.data).contains(&NAL_IDR));
    }
    src.force_keyframe();
    let forced = src.next_frame().unwrap();
    assert!(forced.keyframe);
    let types = h264_nal_types(&forced.data);
    assert!(types.contains(&NAL_IDR) && types.contains(&NAL_SPS) && types.contains(&NAL_PPS));
    // The forced IDR decodes on its own, with no earlier frames.
    let img = decode_h264_to_rgb(&forced.data).unwrap();
    assert_eq!((img.width, img.height), (640, 360));
    assert!(!src.next_frame().unwrap().keyframe, "only one forced IDR");
}

#[test]
fn a_p_frame_alone_yields_no_picture() {
    let mut src = VideoSource::new(160, 120, 30, 200_000, 0).unwrap();
    src.next_frame().unwrap();
    let p = src.next_frame().unwrap();
    assert!(!p.keyframe);
    assert!(decode_h264_to_rgb(&p.data).is_err());
}

#[test]
fn video_source_rejects_bad_config() {
    for (w, h, fps, br) in [
        (0, 720, 60, 1_000_000),
        (1281, 720, 60, 1_000_000),
        (4096, 2304, 60, 1_000_000),
        (1280, 720, 0, 1_000_000),
        (1280, 720, 60, 0),
    ] {
        assert!(
            matches!(
                VideoSource::new(w, h, fps, br, 0),
                Err(MediaError::Config(_))
            ),
            "{w}x{h}@{fps} {br}"
        );
    }
}

#[test]
fn synthetic_frames_verify_and_any_flipped_byte_fails() {
    let mut src = SyntheticVideo::new(42, 100, 5000, 10, 60).unwrap();
    let mut sizes = std::collections::BTreeSet::new();
    for i in 0..50u64 {
        let f = src.next_frame();
        assert_eq!(f.index, i);
        assert_eq!(f.keyframe, i % 10 == 0);
        assert!((100..=5000).contains(&f.data.len()));
        if f.keyframe {
            assert_eq!(f.data.len(), 5000);
        }
        sizes.insert(f.data.len());
        assert_eq!(verify_synthetic(&f.data).unwrap(), i);
        let info = verify_synthetic_info(&f.data).unwrap();
        assert_eq!(
            (info.keyframe, info.seed, info.len),
            (f.keyframe, 42, f.data.len())
        );
    }
    assert!(sizes.len() > 10, "sizes vary: {sizes:?}");

    let f = src.next_frame();
    for at in [
        0,
        5,
        9,
        20,
        27,
        30,
        SYNTHETIC_HEADER_LEN,
        f.data.len() / 2,
        f.data.len() - 1,
    ] {
        let mut bad = f.data.clone();
        bad[at] ^= 0x01;
        assert!(verify_synthetic(&bad).is_err(), "flip at {at} accepted");
    }
    assert!(
        verify_synthetic(&f.data[..f.data.len() - 1]).is_err(),
        "truncated"
    );
    assert!(verify_synthetic(&f.data[..10]).is_err(), "header cut");
    let mut longer = f.data.clone();
    longer.push(0);
    assert!(verify_synthetic(&longer).is_err(), "trailing byte");
    assert!(verify_synthetic(&[]).is_err());
}

#[test]
fn synthetic_is_deterministic_and_forced_keyframes_are_flagged() {
    let mut a = SyntheticVideo::new(7, 36, 2000, 0, 30).unwrap();
    let mut b = SyntheticVideo::new(7, 36, 2000, 0, 30).unwrap();
    let mut c = SyntheticVideo::new(8, 36, 2000, 0, 30).unwrap();
    for _ in 0..5 {
        let (fa, fb, fc) = (a.next_frame(), b.next_frame(), c.next_frame());
        assert_eq!(fa, fb);
        assert_ne!(fa.data, fc.data);
    }
    a.force_keyframe();
    let k = FrameSource::next_frame(&mut a).unwrap();
    assert!(k.keyframe && verify_synthetic_info(&k.data).unwrap().keyframe);
    assert!(!a.next_frame().keyframe);
    assert!(
        SyntheticVideo::new(1, 10, 20, 0, 60).is_err(),
        "min below header"
    );
    assert!(
        SyntheticVideo::new(1, 200, 100, 0, 60).is_err(),
        "min > max"
    );
    // Header-only frames still verify.
    let mut tiny = SyntheticVideo::new(3, 36, 36, 1, 60).unwrap();
    assert_eq!(verify_synthetic(&tiny.next_frame().data).unwrap(), 0);
}

fn rms(samples: impl Iterator<Item = i16>) -> f64 {
    let (mut sum, mut n) = (0f64, 0usize);
    for s in samples {
        sum += f64::from(s) * f64::from(s);
        n += 1;
    }
    (sum / n.max(1) as f64).sqrt()
}

#[test]
fn opus_packets_decode_to_the_expected_samples_with_a_tone() {
    let mut src = AudioSource::new(AudioCodec::Opus, 48000, 2, 20).unwrap();
    assert_eq!(src.frame_samples(), 960);
    let mut packets = Vec::new();
    for i in 0..50u64 {
        let p = src.next_packet().unwrap();
        assert_eq!(p.index, i);
        assert_eq!(p.pts_us, i * 20_000);
        assert_eq!(p.samples_per_channel, 960);
        assert!(
            !p.data.is_empty() && p.data.len() < 1500,
            "{}",
            p.data.len()
        );
        packets.push(p.data);
    }
    assert_eq!(decode_opus_packets(&packets, 48000, 2).unwrap(), 50 * 960);
    let pcm = decode_opus_to_pcm(&packets, 48000, 2).unwrap();
    assert_eq!(pcm.len(), 50 * 960 * 2);
    // Skip the first 100 ms (encoder lookahead and ramp-up); the tone is a quarter of full
    // scale, so its RMS is about 0.25 * 32767 / sqrt(2) = 5792.
    let steady = &pcm[4800 * 2..];
    let left = rms(steady.iter().step_by(2).copied());
    let right = rms(steady.iter().skip(1).step_by(2).copied());
    assert!((3000.0..9000.0).contains(&left), "left rms {left}");
    assert!((3000.0..9000.0).contains(&right), "right rms {right}");
    // 440 Hz: about 2 * 440 zero crossings per second on the left channel.
    let left_samples: Vec<i16> = steady.iter().step_by(2).copied().collect();
    let crossings = left_samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count() as f64;
    let per_second = crossings / (left_samples.len() as f64 / 48000.0);
    assert!(
        (800.0..960.0).contains(&per_second),
        "{per_second} crossings/s"
    );
    assert!(decode_opus_packets(&[vec![0xFFu8; 3]], 48000, 2).is_err());
}

#[test]
fn pcm_packets_are_s16le_sine() {
    let mut src = AudioSource::new(AudioCodec::Pcm, 48000, 2, 20).unwrap();
    let p0 = src.next_packet().unwrap();
    assert_eq!(p0.data.len(), 960 * 2 * 2);
    let samples: Vec<i16> = p0
        .data
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert_eq!(samples[0], 0);
    assert_eq!(samples[1], 0);
    // Left sample 1 is sin(2*pi*440/48000) of the amplitude.
    let expected = ((440.0f64 / 48000.0 * std::f64::consts::TAU).sin() * 0.25 * 32767.0).round();
    assert_eq!(f64::from(samples[2]), expected);
    assert!(rms(samples.iter().copied()) > 3000.0);
    let p1 = src.next_packet().unwrap();
    assert_eq!(p1.pts_us, 20_000);
    assert_ne!(p0.data, p1.data);
    assert!(AudioSource::new(AudioCodec::Opus, 44100, 2, 20).is_err());
    assert!(AudioSource::new(AudioCodec::Opus, 48000, 3, 20).is_err());
    assert!(AudioSource::new(AudioCodec::Opus, 48000, 2, 7).is_err());
}

#[test]
fn small_and_odd_sizes_encode_and_decode() {
    for (w, h) in [(16, 16), (18, 34), (100, 30), (1920, 1080)] {
        let mut src = VideoSource::new(w, h, 30, 100_000, 0).unwrap();
        let mut stream = Vec::new();
        for _ in 0..3 {
            stream.extend_from_slice(&src.next_frame().unwrap().data);
        }
        let s = decode_h264_stream(&stream).unwrap();
        assert_eq!((s.frames, s.width, s.height), (3, w, h), "{w}x{h}");
    }
    for (w, h) in [(2, 2), (64, 2), (2, 64), (14, 16)] {
        assert!(matches!(
            VideoSource::new(w, h, 30, 100_000, 0),
            Err(MediaError::Config(_))
        ));
    }
}

#[test]
fn damaged_h264_gives_an_error_or_fewer_pictures_never_a_panic() {
    let mut src = VideoSource::new(320, 240, 30, 300_000, 0).unwrap();
    let frames: Vec<_> = (0..4).map(|_| src.next_frame().unwrap().data).collect();
    let whole = frames.concat();
    let mut cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0, 0, 0, 1],
        vec![0xFF; 1000],
        whole[..whole.len() / 3].to_vec(),
        frames[1..].concat(),
    ];
    let mut seed = 0x1234_5678u32;
    for _ in 0..20 {
        let mut bad = whole.clone();
        for _ in 0..5 {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let at = 40 + (seed as usize >> 4) % (bad.len() - 40);
            bad[at] ^= 0x5A;
        }
        cases.push(bad);
    }
    for data in &cases {
        if let Ok(s) = decode_h264_stream(data) {
            assert!(s.frames <= 4);
        }
    }
    assert_eq!(decode_h264_stream(&[]).unwrap().frames, 0);
}

// --- Opus interoperability with an independent decoder and encoder (FFmpeg) ---

/// Whether `ffmpeg` runs here; when not, says so (the Opus interop tests then skip).
/// `scripts/setup.sh` installs it.
fn ffmpeg_available(test: &str) -> bool {
    let ok = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        common::peer_missing(test, "ffmpeg");
    }
    ok
}

/// What `ffmpeg -decoders` / `-encoders` lists (to pick FFmpeg's own Opus codec or libopus).
fn ffmpeg_codecs(kind: &str) -> String {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", kind])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Whether the `ffmpeg -decoders`/`-encoders` listing has a codec named `name`.
fn lists_codec(listing: &str, name: &str) -> bool {
    listing
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some(name))
}

/// Decodes an Ogg Opus file with FFmpeg's decoder `decoder` to interleaved s16 stereo at 48 kHz.
fn ffmpeg_decode_ogg(path: &std::path::Path, decoder: &str) -> Vec<i16> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-c:a", decoder, "-i"])
        .arg(path)
        .args(["-f", "s16le", "-ac", "2", "-ar", "48000", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg -c:a {decoder}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// Amplitude of the `freq` Hz component of `x` (Goertzel), in sample units.
fn tone_amplitude(x: &[i16], freq: f64) -> f64 {
    let w = std::f64::consts::TAU * freq / 48000.0;
    let c = 2.0 * w.cos();
    let (mut s1, mut s2) = (0f64, 0f64);
    for &v in x {
        let s = f64::from(v) + c * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    (s1 * s1 + s2 * s2 - c * s1 * s2).sqrt() * 2.0 / x.len() as f64
}

/// Checks interleaved stereo `pcm` holds the sim's tone: 440 Hz left, 660 Hz right, each about
/// a quarter of full scale (8192), and not the other channel's frequency.
fn assert_sim_tone(what: &str, pcm: &[i16]) {
    let left: Vec<i16> = pcm.iter().step_by(2).copied().collect();
    let right: Vec<i16> = pcm.iter().skip(1).step_by(2).copied().collect();
    let (l440, l660) = (tone_amplitude(&left, 440.0), tone_amplitude(&left, 660.0));
    let (r660, r440) = (tone_amplitude(&right, 660.0), tone_amplitude(&right, 440.0));
    eprintln!(
        "{what}: left 440 Hz {l440:.0}, 660 Hz {l660:.0}; right 660 Hz {r660:.0}, 440 Hz {r440:.0}"
    );
    for (amp, name) in [(l440, "left 440 Hz"), (r660, "right 660 Hz")] {
        assert!(
            (7000.0..9400.0).contains(&amp),
            "{what}: {name} amplitude {amp}"
        );
    }
    for (amp, name) in [(l660, "left 660 Hz"), (r440, "right 440 Hz")] {
        assert!(amp < 300.0, "{what}: {name} amplitude {amp}");
    }
}

/// Signal-to-noise ratio in dB of `got` against `reference` (same length used: the shorter).
fn snr_db(reference: &[i16], got: &[i16]) -> f64 {
    let (mut signal, mut noise) = (0f64, 0f64);
    for (r, g) in reference.iter().zip(got) {
        signal += f64::from(*r).powi(2);
        noise += (f64::from(*g) - f64::from(*r)).powi(2);
    }
    10.0 * (signal / noise.max(1e-9)).log10()
}

#[test]
fn sim_opus_packets_decode_with_ffmpeg_to_the_tone_and_match_our_decoder() {
    if !ffmpeg_available("sim_opus_packets_decode_with_ffmpeg_to_the_tone") {
        return;
    }
    // Two seconds of the sim console's audio: 100 packets of 20 ms, 48 kHz stereo.
    let mut src = AudioSource::new(AudioCodec::Opus, 48000, 2, 20).unwrap();
    let packets: Vec<Vec<u8>> = (0..100).map(|_| src.next_packet().unwrap().data).collect();
    // Each is one 20 ms frame (TOC: config with 20 ms, code 0, stereo flag).
    for p in &packets {
        let toc = p[0];
        assert_eq!(toc & 0x03, 0, "one frame per packet: TOC {toc:#04x}");
        assert_ne!(toc & 0x04, 0, "stereo: TOC {toc:#04x}");
        let config = toc >> 3;
        let frame_ms_x10 = match config {
            0..=11 => [100, 200, 400, 600][usize::from(config % 4)],
            12..=15 => [100, 200][usize::from(config % 2)],
            _ => [25, 50, 100, 200][usize::from(config % 4)],
        };
        assert_eq!(frame_ms_x10, 200, "20 ms frames: TOC {toc:#04x}");
    }

    // Into an Ogg Opus file (RFC 7845), pre-skip = the encoder's delay.
    let probe = opus_pure::OpusEncoder::new(48000, 2, opus_pure::Application::Audio).unwrap();
    let head = opus_pure::OpusHead::for_encoder(&probe, 48000);
    let pre_skip = usize::from(head.pre_skip);
    let mut writer = opus_pure::OggOpusWriter::new(Vec::new(), head).unwrap();
    for p in &packets {
        writer.write_packet(p).unwrap();
    }
    let ogg = writer.finish().unwrap();
    let dir = std::env::temp_dir().join(format!("xnano-opus-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("sim.opus");
    std::fs::write(&path, ogg).unwrap();

    // FFmpeg's own Opus decoder (independent of libopus and of opus-pure), and libopus's
    // when this FFmpeg has it.
    let listing = ffmpeg_codecs("-decoders");
    let decoders: Vec<&str> = ["opus", "libopus"]
        .into_iter()
        .filter(|d| lists_codec(&listing, d))
        .collect();
    assert!(!decoders.is_empty(), "this ffmpeg lists no Opus decoder");
    let ours = decode_opus_to_pcm(&packets, 48000, 2).unwrap();
    assert_eq!(ours.len(), 100 * 960 * 2);
    // Skip the first 100 ms (encoder ramp-up) in the tone checks.
    assert_sim_tone("our decoder", &ours[4800 * 2..]);
    for dec in decoders {
        let theirs = ffmpeg_decode_ogg(&path, dec);
        // Two seconds less the pre-skip FFmpeg trims off the front.
        let expected = 100 * 960 - pre_skip;
        eprintln!(
            "ffmpeg -c:a {dec}: {} samples per channel (expected {expected}, pre-skip {pre_skip})",
            theirs.len() / 2
        );
        assert!(
            (theirs.len() / 2).abs_diff(expected) <= 960,
            "ffmpeg -c:a {dec} decoded {} samples per channel, expected {expected}",
            theirs.len() / 2
        );
        assert_sim_tone(&format!("ffmpeg -c:a {dec}"), &theirs[4800 * 2..]);
        // Sample for sample, our decoder agrees with FFmpeg's (ours still has the pre-skip).
        let snr = snr_db(&theirs, &ours[pre_skip * 2..]);
        eprintln!("our decoder vs ffmpeg -c:a {dec}: {snr:.1} dB");
        assert!(snr > 60.0, "our decoder vs ffmpeg -c:a {dec}: {snr:.1} dB");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ffmpeg_encoded_opus_decodes_with_our_decoder() {
    if !ffmpeg_available("ffmpeg_encoded_opus_decodes_with_our_decoder") {
        return;
    }
    let listing = ffmpeg_codecs("-encoders");
    let (encoder, extra): (&str, &[&str]) = if lists_codec(&listing, "libopus") {
        ("libopus", &["-frame_duration", "20", "-b:a", "96k"])
    } else if lists_codec(&listing, "opus") {
        ("opus", &["-strict", "-2", "-b:a", "96k"])
    } else {
        common::peer_missing(
            "ffmpeg_encoded_opus_decodes_with_our_decoder",
            "an Opus encoder in ffmpeg",
        );
        return;
    };
    // The sim's tone as PCM (exactly the samples the Opus source encodes), two seconds.
    let mut pcm_src = AudioSource::new(AudioCodec::Pcm, 48000, 2, 20).unwrap();
    let mut raw = Vec::new();
    for _ in 0..100 {
        raw.extend_from_slice(&pcm_src.next_packet().unwrap().data);
    }
    let dir = std::env::temp_dir().join(format!("xnano-opus-ffenc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (raw_path, ogg_path) = (dir.join("tone.s16le"), dir.join("ffmpeg.opus"));
    std::fs::write(&raw_path, &raw).unwrap();
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-v", "error", "-y", "-f", "s16le", "-ar", "48000", "-ac", "2", "-i",
        ])
        .arg(&raw_path)
        .args(["-c:a", encoder])
        .args(extra)
        .arg(&ogg_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg -c:a {encoder}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The packets out of the Ogg file, decoded by ours.
    let file = std::fs::File::open(&ogg_path).unwrap();
    let mut reader = opus_pure::OggOpusReader::new(std::io::BufReader::new(file)).unwrap();
    assert_eq!(reader.head().channel_count, 2);
    let packets: Vec<Vec<u8>> = reader.packets().map(|p| p.unwrap().data).collect();
    assert!(packets.len() >= 100, "{} packets", packets.len());
    let total = decode_opus_packets(&packets, 48000, 2).unwrap();
    eprintln!(
        "ffmpeg -c:a {encoder}: {} packets, {total} samples per channel",
        packets.len()
    );
    assert!(total >= 96000, "{total} samples per channel");
    let ours = decode_opus_to_pcm(&packets, 48000, 2).unwrap();
    assert_sim_tone(
        &format!("ffmpeg -c:a {encoder}, our decoder"),
        &ours[4800 * 2..96000 * 2],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

// --- The test pattern, decoded by an independent decoder (FFmpeg) ---

#[test]
fn h264_test_pattern_decodes_with_ffmpeg_to_the_known_pictures() {
    let test = "h264_test_pattern_decodes_with_ffmpeg_to_the_known_pictures";
    let (w, h, n) = (320usize, 240usize, 60u64);
    let mut src = VideoSource::new(w as u32, h as u32, 30, 1_000_000, 30).unwrap();
    let mut stream = Vec::new();
    for _ in 0..n {
        stream.extend_from_slice(&src.next_frame().unwrap().data);
    }
    let path = std::env::temp_dir().join(format!("xnano-pattern-{}.h264", std::process::id()));
    std::fs::write(&path, &stream).unwrap();
    let pictures = common::ffmpeg_h264_luma(test, &path, w, h);
    let counted = common::ffprobe_h264_frames(test, &path);
    let _ = std::fs::remove_file(&path);
    let (Some(pictures), Some(counted)) = (pictures, counted) else {
        return;
    };
    assert_eq!(counted, n, "ffprobe counts every frame");
    assert_eq!(pictures.len() as u64, n, "ffmpeg decodes every frame");
    let mut worst = f64::INFINITY;
    let mut worst_shifted = 0.0f64;
    for (i, pic) in pictures.iter().enumerate() {
        let i = i as u64;
        let p = common::psnr(&common::pattern_luma(w, h, i), pic);
        worst = worst.min(p);
        // The comparison tells frames apart: against the next frame's pattern
        // (everything moved by a few pixels) the same picture scores far lower.
        let shifted = common::psnr(&common::pattern_luma(w, h, i + 1), pic);
        worst_shifted = worst_shifted.max(shifted);
    }
    eprintln!("luma PSNR against the pattern: worst {worst:.1} dB; against the next frame's pattern: best {worst_shifted:.1} dB");
    assert!(
        worst > common::PATTERN_PSNR_DB,
        "worst luma PSNR {worst:.1} dB"
    );
    assert!(
        worst_shifted < worst - 5.0,
        "the next frame's pattern scores {worst_shifted:.1} dB, the right one {worst:.1} dB"
    );
}
