//! Media sources of the simulated console, independent of the wire layer.
//!
//! - [`VideoSource`]: real H.264 (OpenH264) from a moving test pattern,
//! - [`SyntheticVideo`]: self-verifying fake "frames" for byte-exact transport tests,
//! - [`AudioSource`]: a sine tone as Opus packets or raw s16le PCM,
//! - decoding helpers ([`decode_h264_stream`], [`decode_h264_to_rgb`], [`H264Decoder`],
//!   [`decode_opus_packets`], [`decode_opus_to_pcm`]) for tests and examples.

mod audio;
mod decode;
mod pattern;
mod synthetic;
mod video;

pub use audio::{AudioCodec, AudioPacket, AudioSource};
pub use decode::{
    decode_h264_stream, decode_h264_to_rgb, decode_opus_packets, decode_opus_to_pcm,
    h264_nal_types, DecodeSummary, H264Decoder, RgbImage,
};
pub use pattern::pattern_luma;
pub use synthetic::{
    verify_synthetic, verify_synthetic_info, SyntheticInfo, SyntheticVideo, SYNTHETIC_HEADER_LEN,
    SYNTHETIC_MAGIC,
};
pub use video::VideoSource;

/// An error from a media source or decoder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    /// A parameter given to a constructor is out of range.
    #[error("invalid media config: {0}")]
    Config(String),
    /// The encoder failed.
    #[error("encode failed: {0}")]
    Encode(String),
    /// The decoder failed, or the input is not what it claims to be.
    #[error("decode failed: {0}")]
    Decode(String),
}

/// One encoded video frame (an access unit), as handed to the Nano video channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedFrame {
    /// The frame bytes. For H.264: an Annex-B access unit with start codes; keyframes carry
    /// SPS and PPS before the IDR slice.
    pub data: Vec<u8>,
    /// Whether this frame can be decoded on its own (an IDR for H.264).
    pub keyframe: bool,
    /// Frame number, counting from 0.
    pub index: u64,
    /// Presentation time in microseconds from the first frame (`index * 1e6 / fps`).
    pub pts_us: u64,
}

/// Anything that yields video frames: the real encoder or the synthetic generator.
pub trait FrameSource: Send {
    /// Produces the next frame.
    fn next_frame(&mut self) -> Result<EncodedFrame, MediaError>;
    /// Makes the next frame a keyframe (the client asks for one after loss).
    fn force_keyframe(&mut self);
    /// Frame width in pixels.
    fn width(&self) -> u32;
    /// Frame height in pixels.
    fn height(&self) -> u32;
    /// Frames per second.
    fn fps(&self) -> u32;
}

/// `index * 1_000_000 / rate`, without overflow for any realistic index.
pub(crate) fn pts_us(index: u64, per_second: u64) -> u64 {
    if per_second == 0 {
        return 0;
    }
    let t = u128::from(index) * 1_000_000 / u128::from(per_second);
    u64::try_from(t).unwrap_or(u64::MAX)
}
