//! Decoding threads: H.264 access units to I420 pictures (OpenH264), audio packets to s16 PCM
//! (Opus via the pure-Rust `opus-pure` decoder, or PCM as sent).
//!
//! The engine's callback only copies each event into a channel (it runs on the engine's socket
//! threads, which must not stall); these threads do the work. The newest picture waits in a
//! one-slot mailbox for the window thread, which returns used pictures for reuse.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use openh264::decoder::{Decoder, DecoderConfig};
use openh264::formats::YUVSource;
use openh264::{nal_units, OpenH264API};
use parking_lot::Mutex;
use xnano_proto::wire::nano::audio::{AudioCodec, AudioFormat};

/// Frames queued for the decoder beyond which it skips to the next keyframe (it is behind).
const MAX_VIDEO_BACKLOG: usize = 30;

/// A decoded picture in I420: tightly packed Y (`width` x `height`), then U and V
/// (`chroma_width()` x `chroma_height()` each).
#[derive(Debug, Clone)]
pub struct Picture {
    /// Luma width.
    pub width: u32,
    /// Luma height.
    pub height: u32,
    /// Y plane.
    pub y: Vec<u8>,
    /// U (Cb) plane.
    pub u: Vec<u8>,
    /// V (Cr) plane.
    pub v: Vec<u8>,
    /// The Nano frame id it came from.
    pub frame_id: u32,
    /// When the engine completed the frame (its last chunk arrived).
    pub arrived: Instant,
}

impl Picture {
    /// Width of the U and V planes.
    pub fn chroma_width(&self) -> u32 {
        self.width.div_ceil(2)
    }

    /// Copies a decoder picture in, reusing this picture's buffers.
    fn fill(&mut self, src: &impl YUVSource, frame_id: u32, arrived: Instant) {
        let (w, h) = src.dimensions();
        let (sy, su, sv) = src.strides();
        let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
        copy_plane(&mut self.y, src.y(), sy, w, h);
        copy_plane(&mut self.u, src.u(), su, cw, ch);
        copy_plane(&mut self.v, src.v(), sv, cw, ch);
        self.width = w as u32;
        self.height = h as u32;
        self.frame_id = frame_id;
        self.arrived = arrived;
    }
}

/// Copies `h` rows of `w` bytes from a plane with row stride `stride` into `dst`, packed.
fn copy_plane(dst: &mut Vec<u8>, src: &[u8], stride: usize, w: usize, h: usize) {
    dst.clear();
    dst.reserve(w * h);
    for row in 0..h {
        let start = row * stride;
        match src.get(start..start + w) {
            Some(r) => dst.extend_from_slice(r),
            None => dst.resize(dst.len() + w, 0),
        }
    }
}

impl Default for Picture {
    fn default() -> Self {
        Picture {
            width: 0,
            height: 0,
            y: Vec::new(),
            u: Vec::new(),
            v: Vec::new(),
            frame_id: 0,
            arrived: Instant::now(),
        }
    }
}

/// Counters the decoding threads keep, read by the window for its title and summary.
#[derive(Debug, Default)]
pub struct Counters {
    /// Access units received from the engine.
    pub frames_in: AtomicU64,
    /// Pictures decoded.
    pub decoded: AtomicU64,
    /// Pictures replaced in the mailbox before the window showed them.
    pub overwritten: AtomicU64,
    /// Access units the decoder rejected.
    pub decode_errors: AtomicU64,
    /// Access units skipped while waiting for a keyframe (after loss, an error or a backlog).
    pub skipped: AtomicU64,
    /// Audio packets decoded.
    pub audio_packets: AtomicU64,
    /// Audio packets that failed to decode, or came in a codec the player cannot play.
    pub audio_errors: AtomicU64,
}

impl Counters {
    /// Reads one counter.
    pub fn get(c: &AtomicU64) -> u64 {
        c.load(Ordering::Relaxed)
    }
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Work for the video thread.
pub enum VideoIn {
    /// One access unit.
    Frame {
        /// Nano frame id.
        frame_id: u32,
        /// IDR flag.
        keyframe: bool,
        /// Annex-B bytes.
        data: Vec<u8>,
        /// When the engine completed it.
        arrived: Instant,
    },
    /// Frames were lost: pictures until the next keyframe would be corrupt.
    Lost,
}

/// Work for the audio thread.
pub enum AudioIn {
    /// The stream's format (comes before its packets).
    Format(AudioFormat),
    /// One packet.
    Packet(Vec<u8>),
}

/// What the decoding threads tell the window thread.
pub enum ToWindow {
    /// Ask the console for a keyframe.
    NeedKeyframe,
    /// Open (or reopen) the audio device for this rate and channel count.
    AudioFormat {
        /// Samples per second.
        sample_rate: u32,
        /// Interleaved channels.
        channels: u8,
    },
    /// Interleaved s16 samples to queue.
    Pcm(Vec<i16>),
    /// A message for the user (printed once by the window thread).
    Warn(String),
}

/// The one-slot mailbox between the video thread and the window.
#[derive(Default)]
pub struct Mailbox {
    latest: Mutex<Option<Picture>>,
    spare: Mutex<Vec<Picture>>,
}

impl Mailbox {
    /// Takes the newest picture, if one arrived since the last call.
    pub fn take(&self) -> Option<Picture> {
        self.latest.lock().take()
    }

    /// Gives a shown picture's buffers back for reuse.
    pub fn recycle(&self, p: Picture) {
        let mut spare = self.spare.lock();
        if spare.len() < 3 {
            spare.push(p);
        }
    }

    fn spare(&self) -> Picture {
        self.spare.lock().pop().unwrap_or_default()
    }

    /// Puts a picture in; returns the one it replaced.
    fn put(&self, p: Picture) -> Option<Picture> {
        self.latest.lock().replace(p)
    }
}

/// Starts the video decoding thread; it ends when `rx` disconnects.
pub fn spawn_video(
    rx: Receiver<VideoIn>,
    mailbox: Arc<Mailbox>,
    counters: Arc<Counters>,
    to_window: Sender<ToWindow>,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("player-video".into())
        .spawn(move || video_loop(&rx, &mailbox, &counters, &to_window))
}

fn video_loop(
    rx: &Receiver<VideoIn>,
    mailbox: &Mailbox,
    counters: &Counters,
    to_window: &Sender<ToWindow>,
) {
    let mut decoder =
        match Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new()) {
            Ok(d) => d,
            Err(e) => {
                let _ = to_window.send(ToWindow::Warn(format!("H.264 decoder: {e}")));
                return;
            }
        };
    // Until the first keyframe, and after any loss, P-frames would decode to garbage.
    let mut need_key = true;
    while let Ok(msg) = rx.recv() {
        let (frame_id, keyframe, data, arrived) = match msg {
            VideoIn::Lost => {
                need_key = true;
                continue;
            }
            VideoIn::Frame {
                frame_id,
                keyframe,
                data,
                arrived,
            } => (frame_id, keyframe, data, arrived),
        };
        bump(&counters.frames_in);
        if rx.len() > MAX_VIDEO_BACKLOG && !need_key {
            // Behind by more than the backlog allows: catch up at the next keyframe.
            need_key = true;
            let _ = to_window.send(ToWindow::NeedKeyframe);
        }
        if need_key && !keyframe {
            bump(&counters.skipped);
            continue;
        }
        need_key = false;
        let mut failed = false;
        for nal in nal_units(&data) {
            match decoder.decode(nal) {
                Ok(Some(yuv)) => {
                    let mut pic = mailbox.spare();
                    pic.fill(&yuv, frame_id, arrived);
                    bump(&counters.decoded);
                    if let Some(old) = mailbox.put(pic) {
                        bump(&counters.overwritten);
                        mailbox.recycle(old);
                    }
                }
                Ok(None) => {}
                Err(_) => failed = true,
            }
        }
        if failed {
            bump(&counters.decode_errors);
            need_key = true;
            let _ = to_window.send(ToWindow::NeedKeyframe);
        }
    }
}

/// Starts the audio decoding thread; it ends when `rx` disconnects.
pub fn spawn_audio(
    rx: Receiver<AudioIn>,
    counters: Arc<Counters>,
    to_window: Sender<ToWindow>,
) -> std::io::Result<JoinHandle<()>> {
    thread::Builder::new()
        .name("player-audio".into())
        .spawn(move || audio_loop(&rx, &counters, &to_window))
}

/// How the audio thread turns packets into samples.
enum AudioDecoder {
    Opus {
        /// Boxed: the decoder state is some 10 KB.
        dec: Box<opus_pure::OpusDecoder>,
        channels: usize,
        /// Samples per channel `buf` holds (the longest Opus packet, 120 ms).
        max_frame: usize,
        buf: Vec<i16>,
    },
    Pcm16,
    Unsupported,
}

impl AudioDecoder {
    fn new(fmt: &AudioFormat) -> Result<(AudioDecoder, u32, u8), String> {
        let channels = u8::try_from(fmt.channels)
            .ok()
            .filter(|c| (1..=2).contains(c))
            .ok_or_else(|| format!("{} audio channels: the player plays 1 or 2", fmt.channels))?;
        let rate = fmt.sample_rate;
        if fmt.codec == AudioCodec::Opus {
            let dec = i32::try_from(rate)
                .map_err(|_| "out of range".to_string())
                .and_then(|r| {
                    opus_pure::OpusDecoder::new(r, usize::from(channels))
                        .map(Box::new)
                        .map_err(|e| e.to_string())
                })
                .map_err(|e| format!("Opus decoder for {rate} Hz: {e}"))?;
            // 120 ms is the longest Opus packet.
            let max_frame = rate as usize * 120 / 1000;
            let buf = vec![0i16; max_frame * usize::from(channels)];
            Ok((
                AudioDecoder::Opus {
                    dec,
                    channels: usize::from(channels),
                    max_frame,
                    buf,
                },
                rate,
                channels,
            ))
        } else if fmt.codec == AudioCodec::PCM {
            match &fmt.pcm {
                Some(p) if p.bit_depth == 16 => Ok((AudioDecoder::Pcm16, rate, channels)),
                other => Err(format!("PCM {other:?}: the player plays 16-bit PCM")),
            }
        } else {
            Err(format!(
                "audio codec {}: the player plays Opus and PCM",
                fmt.codec.name()
            ))
        }
    }

    fn decode(&mut self, data: &[u8]) -> Result<Vec<i16>, String> {
        match self {
            AudioDecoder::Opus {
                dec,
                channels,
                max_frame,
                buf,
            } => {
                let n = dec
                    .decode_s16(data, *max_frame, buf)
                    .map_err(|e| format!("Opus: {e}"))?;
                Ok(buf[..(n * *channels).min(buf.len())].to_vec())
            }
            AudioDecoder::Pcm16 => Ok(data
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect()),
            AudioDecoder::Unsupported => Err("no playable audio format".into()),
        }
    }
}

fn audio_loop(rx: &Receiver<AudioIn>, counters: &Counters, to_window: &Sender<ToWindow>) {
    let mut dec = AudioDecoder::Unsupported;
    let mut warned = false;
    while let Ok(msg) = rx.recv() {
        match msg {
            AudioIn::Format(fmt) => match AudioDecoder::new(&fmt) {
                Ok((d, sample_rate, channels)) => {
                    dec = d;
                    warned = false;
                    let _ = to_window.send(ToWindow::AudioFormat {
                        sample_rate,
                        channels,
                    });
                }
                Err(e) => {
                    dec = AudioDecoder::Unsupported;
                    let _ = to_window.send(ToWindow::Warn(format!("audio muted: {e}")));
                    warned = true;
                }
            },
            AudioIn::Packet(data) => match dec.decode(&data) {
                Ok(pcm) => {
                    bump(&counters.audio_packets);
                    let _ = to_window.send(ToWindow::Pcm(pcm));
                }
                Err(e) => {
                    bump(&counters.audio_errors);
                    if !warned {
                        warned = true;
                        let _ = to_window.send(ToWindow::Warn(format!("audio: {e}")));
                    }
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xnano_proto::wire::nano::audio::PcmFormat;
    use xnano_sim::media::{AudioCodec as SimCodec, AudioSource, VideoSource};

    #[test]
    fn plane_copy_drops_stride_padding() {
        let src = [1, 2, 9, 9, 3, 4, 9, 9];
        let mut dst = vec![7; 100];
        copy_plane(&mut dst, &src, 4, 2, 2);
        assert_eq!(dst, [1, 2, 3, 4]);
        // A short source is padded, never read out of bounds.
        copy_plane(&mut dst, &src[..5], 4, 2, 2);
        assert_eq!(dst, [1, 2, 0, 0]);
    }

    #[test]
    fn decodes_the_sim_pattern_and_skips_to_keyframes() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (wtx, _wrx) = crossbeam_channel::unbounded();
        let mailbox = Arc::new(Mailbox::default());
        let counters = Arc::new(Counters::default());
        let t = spawn_video(rx, mailbox.clone(), counters.clone(), wtx).unwrap();
        let mut src = VideoSource::new(320, 240, 30, 1_000_000, 10).unwrap();
        for i in 0..20u32 {
            let f = src.next_frame().unwrap();
            if i == 3 {
                tx.send(VideoIn::Lost).unwrap();
            }
            tx.send(VideoIn::Frame {
                frame_id: i,
                keyframe: f.keyframe,
                data: f.data,
                arrived: Instant::now(),
            })
            .unwrap();
        }
        drop(tx);
        t.join().unwrap();
        // Frames 0..=2 decode, 3..=9 wait for the keyframe at 10, 10..=19 decode.
        assert_eq!(Counters::get(&counters.frames_in), 20);
        assert_eq!(Counters::get(&counters.skipped), 7);
        assert_eq!(Counters::get(&counters.decoded), 13);
        assert_eq!(Counters::get(&counters.decode_errors), 0);
        let pic = mailbox.take().expect("a picture");
        assert_eq!((pic.width, pic.height), (320, 240));
        assert_eq!(pic.frame_id, 19);
        assert_eq!(pic.y.len(), 320 * 240);
        assert_eq!(pic.u.len(), 160 * 120);
        assert!(
            pic.y.iter().any(|&v| v != pic.y[0]),
            "the picture has content"
        );
    }

    #[test]
    fn garbage_counts_as_a_decode_error() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (wtx, wrx) = crossbeam_channel::unbounded();
        let counters = Arc::new(Counters::default());
        let t = spawn_video(rx, Arc::new(Mailbox::default()), counters.clone(), wtx).unwrap();
        let mut junk = vec![0, 0, 0, 1, 0x65];
        junk.extend((0..500u32).map(|i| (i * 37 % 251) as u8));
        tx.send(VideoIn::Frame {
            frame_id: 0,
            keyframe: true,
            data: junk,
            arrived: Instant::now(),
        })
        .unwrap();
        drop(tx);
        t.join().unwrap();
        assert_eq!(Counters::get(&counters.decoded), 0);
        if Counters::get(&counters.decode_errors) == 1 {
            assert!(wrx.try_iter().any(|m| matches!(m, ToWindow::NeedKeyframe)));
        }
    }

    fn run_audio(fmt: AudioFormat, packets: Vec<Vec<u8>>) -> (Vec<ToWindow>, Arc<Counters>) {
        let (tx, rx) = crossbeam_channel::unbounded();
        let (wtx, wrx) = crossbeam_channel::unbounded();
        let counters = Arc::new(Counters::default());
        let t = spawn_audio(rx, counters.clone(), wtx).unwrap();
        tx.send(AudioIn::Format(fmt)).unwrap();
        for p in packets {
            tx.send(AudioIn::Packet(p)).unwrap();
        }
        drop(tx);
        t.join().unwrap();
        (wrx.try_iter().collect(), counters)
    }

    #[test]
    fn opus_and_pcm_decode() {
        let mut src = AudioSource::new(SimCodec::Opus, 48000, 2, 20).unwrap();
        let packets: Vec<Vec<u8>> = (0..5).map(|_| src.next_packet().unwrap().data).collect();
        let fmt = AudioFormat {
            channels: 2,
            sample_rate: 48000,
            codec: AudioCodec::Opus,
            pcm: None,
        };
        let (out, counters) = run_audio(fmt, packets);
        assert!(matches!(
            out.first(),
            Some(ToWindow::AudioFormat {
                sample_rate: 48000,
                channels: 2
            })
        ));
        let samples: usize = out
            .iter()
            .map(|m| match m {
                ToWindow::Pcm(p) => p.len(),
                _ => 0,
            })
            .sum();
        assert_eq!(samples, 5 * 960 * 2);
        assert_eq!(Counters::get(&counters.audio_packets), 5);

        let fmt = AudioFormat {
            channels: 1,
            sample_rate: 16000,
            codec: AudioCodec::PCM,
            pcm: Some(PcmFormat {
                bit_depth: 16,
                sample_type: 0,
            }),
        };
        let (out, _) = run_audio(fmt, vec![vec![1, 0, 0xff, 0xff, 7]]);
        assert!(matches!(out.get(1), Some(ToWindow::Pcm(p)) if p == &[1, -1]));
    }

    #[test]
    fn unsupported_codec_warns_once() {
        let fmt = AudioFormat {
            channels: 2,
            sample_rate: 48000,
            codec: AudioCodec::AAC,
            pcm: None,
        };
        let (out, counters) = run_audio(fmt, vec![vec![1, 2, 3]; 3]);
        let warnings = out
            .iter()
            .filter(|m| matches!(m, ToWindow::Warn(_)))
            .count();
        assert_eq!(warnings, 1);
        assert_eq!(Counters::get(&counters.audio_errors), 3);
    }
}
