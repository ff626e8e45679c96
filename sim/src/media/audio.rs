//! A sine tone as Opus packets (the pure-Rust `opus-pure` encoder) or raw s16le PCM.

use super::{pts_us, MediaError};

/// The audio codec of an [`AudioSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// Opus (one Opus packet per frame).
    Opus,
    /// Signed 16-bit little-endian PCM, channels interleaved.
    Pcm,
}

/// One encoded audio frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioPacket {
    /// The packet bytes (an Opus packet, or interleaved s16le samples).
    pub data: Vec<u8>,
    /// Presentation time of the first sample in microseconds from the first packet.
    pub pts_us: u64,
    /// Packet number, counting from 0.
    pub index: u64,
    /// Samples per channel in this packet.
    pub samples_per_channel: usize,
}

/// Largest Opus packet we let the encoder write (libopus's documented recommended maximum).
const MAX_OPUS_PACKET: usize = 4000;
/// Tone amplitude, a quarter of full scale.
const AMPLITUDE: f64 = 0.25 * 32767.0;

/// Generates a tone (440 Hz left, 660 Hz right; 440 Hz in mono) and encodes it in frames.
pub struct AudioSource {
    codec: AudioCodec,
    sample_rate: u32,
    channels: u8,
    frame_samples: usize,
    encoder: Option<opus_pure::OpusEncoder>,
    packet_buf: Vec<u8>,
    samples_done: u64,
    index: u64,
    pcm: Vec<i16>,
}

impl AudioSource {
    /// A source of `codec` at `sample_rate` Hz (Opus: 8000, 12000, 16000, 24000 or 48000),
    /// `channels` 1 or 2, `frame_ms` per packet (Opus: 10, 20, 40 or 60; PCM: 1..=1000).
    pub fn new(
        codec: AudioCodec,
        sample_rate: u32,
        channels: u8,
        frame_ms: u32,
    ) -> Result<Self, MediaError> {
        if channels != 1 && channels != 2 {
            return Err(MediaError::Config(format!(
                "{channels} channels: must be 1 or 2"
            )));
        }
        let encoder = match codec {
            AudioCodec::Opus => {
                if ![8000, 12000, 16000, 24000, 48000].contains(&sample_rate) {
                    return Err(MediaError::Config(format!(
                        "Opus sample rate {sample_rate}: must be 8000, 12000, 16000, 24000 or 48000"
                    )));
                }
                if ![10, 20, 40, 60].contains(&frame_ms) {
                    return Err(MediaError::Config(format!(
                        "Opus frame {frame_ms} ms: must be 10, 20, 40 or 60"
                    )));
                }
                let enc = opus_pure::OpusEncoder::new(
                    sample_rate as i32,
                    usize::from(channels),
                    opus_pure::Application::Audio,
                )
                .map_err(|e| MediaError::Encode(format!("creating the Opus encoder: {e}")))?;
                Some(enc)
            }
            AudioCodec::Pcm => {
                if !(8000..=192_000).contains(&sample_rate) {
                    return Err(MediaError::Config(format!(
                        "PCM sample rate {sample_rate}: must be 8000..=192000"
                    )));
                }
                if !(1..=1000).contains(&frame_ms) {
                    return Err(MediaError::Config(format!(
                        "PCM frame {frame_ms} ms: must be 1..=1000"
                    )));
                }
                None
            }
        };
        let frame_samples = (sample_rate as usize * frame_ms as usize) / 1000;
        if frame_samples == 0 {
            return Err(MediaError::Config("frame holds no samples".into()));
        }
        Ok(Self {
            codec,
            sample_rate,
            channels,
            frame_samples,
            packet_buf: if encoder.is_some() {
                vec![0; MAX_OPUS_PACKET]
            } else {
                Vec::new()
            },
            encoder,
            samples_done: 0,
            index: 0,
            pcm: Vec::with_capacity(frame_samples * usize::from(channels)),
        })
    }

    /// The codec.
    pub fn codec(&self) -> AudioCodec {
        self.codec
    }

    /// Sample rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Channel count.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// Samples per channel in each packet.
    pub fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    /// Produces the next packet.
    pub fn next_packet(&mut self) -> Result<AudioPacket, MediaError> {
        self.pcm.clear();
        let rate = f64::from(self.sample_rate);
        for i in 0..self.frame_samples as u64 {
            let t = (self.samples_done + i) as f64 / rate;
            let left = (t * 440.0 * std::f64::consts::TAU).sin() * AMPLITUDE;
            self.pcm.push(left.round() as i16);
            if self.channels == 2 {
                let right = (t * 660.0 * std::f64::consts::TAU).sin() * AMPLITUDE;
                self.pcm.push(right.round() as i16);
            }
        }
        let data = match &mut self.encoder {
            Some(enc) => {
                let n = enc
                    .encode_s16(&self.pcm, self.frame_samples, &mut self.packet_buf)
                    .map_err(|e| MediaError::Encode(format!("Opus packet {}: {e}", self.index)))?;
                self.packet_buf
                    .get(..n)
                    .ok_or_else(|| {
                        MediaError::Encode(format!("Opus packet {}: {n} bytes", self.index))
                    })?
                    .to_vec()
            }
            None => self.pcm.iter().flat_map(|s| s.to_le_bytes()).collect(),
        };
        let packet = AudioPacket {
            data,
            pts_us: pts_us(self.samples_done, u64::from(self.sample_rate)),
            index: self.index,
            samples_per_channel: self.frame_samples,
        };
        self.samples_done += self.frame_samples as u64;
        self.index += 1;
        Ok(packet)
    }
}
