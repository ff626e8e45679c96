//! Decoding helpers for tests and examples: H.264 via OpenH264, Opus via the pure-Rust
//! `opus-pure` decoder.

use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig};
use openh264::formats::YUVSource;
use openh264::{nal_units, OpenH264API};

use super::MediaError;

/// What decoding an H.264 stream produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct DecodeSummary {
    /// Pictures decoded.
    pub frames: u64,
    /// Width of the last picture (0 if none).
    pub width: u32,
    /// Height of the last picture (0 if none).
    pub height: u32,
}

/// An 8-bit RGB picture, rows top to bottom, 3 bytes per pixel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// `width * height * 3` bytes.
    pub data: Vec<u8>,
}

impl RgbImage {
    /// The picture as a binary PPM (P6) file.
    pub fn to_ppm(&self) -> Vec<u8> {
        let mut out = format!("P6\n{} {}\n255\n", self.width, self.height).into_bytes();
        out.extend_from_slice(&self.data);
        out
    }

    /// The RGB value at `(x, y)`, if inside the picture.
    pub fn pixel(&self, x: u32, y: u32) -> Option<[u8; 3]> {
        if x >= self.width || y >= self.height {
            return None;
        }
        let at = (y as usize * self.width as usize + x as usize) * 3;
        let p = self.data.get(at..at + 3)?;
        Some([p[0], p[1], p[2]])
    }
}

/// The NAL unit types (low 5 bits of each NAL header) in an Annex-B buffer, in order.
pub fn h264_nal_types(annexb: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut zeros = 0usize;
    let mut i = 0;
    while i < annexb.len() {
        let b = annexb[i];
        if b == 1 && zeros >= 2 {
            if let Some(h) = annexb.get(i + 1) {
                types.push(h & 0x1F);
            }
            zeros = 0;
        } else if b == 0 {
            zeros += 1;
        } else {
            zeros = 0;
        }
        i += 1;
    }
    types
}

fn rgb_of(pic: &DecodedYUV<'_>) -> RgbImage {
    let (w, h) = pic.dimensions();
    let mut data = vec![0u8; w * h * 3];
    pic.write_rgb8(&mut data);
    RgbImage {
        width: w as u32,
        height: h as u32,
        data,
    }
}

/// A stateful H.264 decoder for a stream arriving frame by frame.
pub struct H264Decoder {
    decoder: Decoder,
    frames: u64,
    width: u32,
    height: u32,
}

impl H264Decoder {
    /// A new decoder (OpenH264, built from source).
    pub fn new() -> Result<Self, MediaError> {
        let decoder = Decoder::with_api_config(OpenH264API::from_source(), DecoderConfig::new())
            .map_err(|e| MediaError::Decode(format!("creating the H.264 decoder: {e}")))?;
        Ok(Self {
            decoder,
            frames: 0,
            width: 0,
            height: 0,
        })
    }

    /// Feeds Annex-B data (one or more access units); returns how many pictures came out.
    pub fn decode(&mut self, annexb: &[u8]) -> Result<u64, MediaError> {
        self.decode_inner(annexb, false).map(|(n, _)| n)
    }

    /// Feeds Annex-B data like [`decode`](Self::decode) and returns the last picture that came
    /// out of it, in RGB.
    pub fn decode_rgb(&mut self, annexb: &[u8]) -> Result<Option<RgbImage>, MediaError> {
        self.decode_inner(annexb, true).map(|(_, img)| img)
    }

    fn decode_inner(
        &mut self,
        annexb: &[u8],
        want_rgb: bool,
    ) -> Result<(u64, Option<RgbImage>), MediaError> {
        let mut count = 0u64;
        let mut last = None;
        for nal in nal_units(annexb) {
            let picture = self.decoder.decode(nal).map_err(|e| {
                MediaError::Decode(format!("H.264 after {} pictures: {e}", self.frames))
            })?;
            if let Some(pic) = picture {
                let (w, h) = pic.dimensions();
                self.width = w as u32;
                self.height = h as u32;
                if want_rgb {
                    last = Some(rgb_of(&pic));
                }
                count += 1;
                self.frames += 1;
            }
        }
        Ok((count, last))
    }

    /// Drains pictures the decoder still holds; returns how many, and the last one in RGB if
    /// `want_rgb`.
    pub fn flush(&mut self, want_rgb: bool) -> Result<(u64, Option<RgbImage>), MediaError> {
        let pics = self
            .decoder
            .flush_remaining()
            .map_err(|e| MediaError::Decode(format!("H.264 flush: {e}")))?;
        let count = pics.len() as u64;
        let mut last = None;
        if let Some(pic) = pics.last() {
            let (w, h) = pic.dimensions();
            self.width = w as u32;
            self.height = h as u32;
            if want_rgb {
                last = Some(rgb_of(pic));
            }
        }
        self.frames += count;
        Ok((count, last))
    }

    /// Pictures decoded so far and the size of the last one.
    pub fn summary(&self) -> DecodeSummary {
        DecodeSummary {
            frames: self.frames,
            width: self.width,
            height: self.height,
        }
    }
}

/// Decodes a whole Annex-B stream (concatenated access units) and counts its pictures,
/// including any the decoder held back until the end.
pub fn decode_h264_stream(annexb: &[u8]) -> Result<DecodeSummary, MediaError> {
    let mut dec = H264Decoder::new()?;
    dec.decode(annexb)?;
    dec.flush(false)?;
    Ok(dec.summary())
}

/// Decodes Annex-B data that starts with a keyframe (one access unit or several) and returns
/// the last picture in RGB.
pub fn decode_h264_to_rgb(annexb: &[u8]) -> Result<RgbImage, MediaError> {
    let mut dec = H264Decoder::new()?;
    let shown = dec.decode_rgb(annexb)?;
    let (_, flushed) = dec.flush(true)?;
    flushed
        .or(shown)
        .ok_or_else(|| MediaError::Decode("H.264: no picture decoded".into()))
}

/// Decodes Opus packets in order to interleaved s16 samples.
pub fn decode_opus_to_pcm<P: AsRef<[u8]>>(
    packets: &[P],
    sample_rate: u32,
    channels: u8,
) -> Result<Vec<i16>, MediaError> {
    if channels != 1 && channels != 2 {
        return Err(MediaError::Config(format!(
            "{channels} channels: must be 1 or 2"
        )));
    }
    let rate = i32::try_from(sample_rate)
        .map_err(|_| MediaError::Config(format!("Opus sample rate {sample_rate}")))?;
    let mut dec = opus_pure::OpusDecoder::new(rate, usize::from(channels))
        .map_err(|e| MediaError::Decode(format!("creating the Opus decoder: {e}")))?;
    // 120 ms is the longest Opus packet.
    let max_frame = sample_rate as usize * 120 / 1000;
    let mut buf = vec![0i16; max_frame * usize::from(channels)];
    let mut out = Vec::new();
    for (i, p) in packets.iter().enumerate() {
        let n = dec
            .decode_s16(p.as_ref(), max_frame, &mut buf)
            .map_err(|e| MediaError::Decode(format!("Opus packet {i}: {e}")))?;
        let take = (n * usize::from(channels)).min(buf.len());
        out.extend_from_slice(&buf[..take]);
    }
    Ok(out)
}

/// Decodes Opus packets in order and returns the number of samples per channel decoded.
pub fn decode_opus_packets<P: AsRef<[u8]>>(
    packets: &[P],
    sample_rate: u32,
    channels: u8,
) -> Result<usize, MediaError> {
    let pcm = decode_opus_to_pcm(packets, sample_rate, channels)?;
    Ok(pcm.len() / usize::from(channels.max(1)))
}
