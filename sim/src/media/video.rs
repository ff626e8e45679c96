//! Real H.264 from the moving test pattern, encoded by OpenH264.

use openh264::encoder::{
    BitRate, Complexity, Encoder, EncoderConfig, FrameRate, IntraFramePeriod, RateControlMode,
    UsageType,
};
use openh264::formats::YUVSlices;
use openh264::{OpenH264API, Timestamp};

use super::decode::h264_nal_types;
use super::pattern::Pattern;
use super::{pts_us, EncodedFrame, FrameSource, MediaError};

/// H.264 NAL unit type of an IDR slice.
const NAL_IDR: u8 = 5;

/// Encodes a moving test pattern to H.264 (constrained baseline, one slice per frame).
///
/// Every call to [`next_frame`](Self::next_frame) draws and encodes one frame; nothing is
/// skipped, so frame `n` of the source is picture `n` of the stream.
pub struct VideoSource {
    encoder: Encoder,
    pattern: Pattern,
    fps: u32,
    index: u64,
    force_next: bool,
}

impl VideoSource {
    /// A source of `width`x`height` (even, from 16x16 to 3840x2160) at `fps` frames per second,
    /// targeting `bitrate_bps`, with an IDR every `keyframe_interval_frames` frames
    /// (0: only the first frame and forced ones).
    pub fn new(
        width: u32,
        height: u32,
        fps: u32,
        bitrate_bps: u32,
        keyframe_interval_frames: u32,
    ) -> Result<Self, MediaError> {
        if width < 16 || height < 16 || !width.is_multiple_of(2) || !height.is_multiple_of(2) {
            return Err(MediaError::Config(format!(
                "video size {width}x{height}: both must be even and at least 16"
            )));
        }
        if width.max(height) > 3840 || width.min(height) > 2160 {
            return Err(MediaError::Config(format!(
                "video size {width}x{height}: larger than 3840x2160"
            )));
        }
        if fps == 0 || fps > 240 {
            return Err(MediaError::Config(format!("fps {fps}: must be 1..=240")));
        }
        if bitrate_bps < 10_000 {
            return Err(MediaError::Config(format!(
                "bitrate {bitrate_bps} bps: must be at least 10000"
            )));
        }
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bitrate_bps))
            .max_frame_rate(FrameRate::from_hz(fps as f32))
            .rate_control_mode(RateControlMode::Bitrate)
            .skip_frames(false)
            .usage_type(UsageType::CameraVideoRealTime)
            .complexity(Complexity::Low)
            .scene_change_detect(false)
            .intra_frame_period(IntraFramePeriod::from_num_frames(keyframe_interval_frames))
            .num_threads(1);
        let mut encoder = Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|e| MediaError::Encode(format!("creating the H.264 encoder: {e}")))?;
        silence_encoder_log(&mut encoder);
        Ok(Self {
            encoder,
            pattern: Pattern::new(width as usize, height as usize),
            fps,
            index: 0,
            force_next: false,
        })
    }

    /// Draws and encodes the next frame.
    pub fn next_frame(&mut self) -> Result<EncodedFrame, MediaError> {
        let index = self.index;
        self.pattern.draw(index);
        let p = &self.pattern;
        let yuv = YUVSlices::new(
            (&p.y, &p.u, &p.v),
            (p.width, p.height),
            (p.width, p.width / 2, p.width / 2),
        );
        if self.force_next && index > 0 {
            // The encoder is initialised by its first frame, which is an IDR anyway.
            self.encoder.force_intra_frame();
        }
        self.force_next = false;
        let pts = pts_us(index, u64::from(self.fps));
        let stream = self
            .encoder
            .encode_at(&yuv, Timestamp::from_millis(pts / 1000))
            .map_err(|e| MediaError::Encode(format!("frame {index}: {e}")))?;
        let data = stream.to_vec();
        if data.is_empty() {
            return Err(MediaError::Encode(format!(
                "frame {index}: the encoder produced no data ({:?})",
                stream.frame_type()
            )));
        }
        let keyframe = h264_nal_types(&data).contains(&NAL_IDR);
        self.index += 1;
        Ok(EncodedFrame {
            data,
            keyframe,
            index,
            pts_us: pts,
        })
    }

    /// Makes the next frame an IDR (with SPS/PPS).
    pub fn force_keyframe(&mut self) {
        self.force_next = true;
    }

    /// Frame width in pixels.
    pub fn width(&self) -> u32 {
        self.pattern.width as u32
    }

    /// Frame height in pixels.
    pub fn height(&self) -> u32 {
        self.pattern.height as u32
    }

    /// Frames per second.
    pub fn fps(&self) -> u32 {
        self.fps
    }

    /// How many frames have been produced so far (the index of the next one).
    pub fn frames_produced(&self) -> u64 {
        self.index
    }
}

/// Sets OpenH264's trace level to quiet before its (lazy) initialisation, so it does not print
/// its warning about frame skipping being off (we want every frame encoded) to stderr.
fn silence_encoder_log(encoder: &mut Encoder) {
    let mut level: std::os::raw::c_int = openh264_sys2::WELS_LOG_QUIET as std::os::raw::c_int;
    // SAFETY: the encoder was created successfully, so its vtable is valid; OpenH264's
    // SetOption accepts ENCODER_OPTION_TRACE_LEVEL before initialisation and only reads the
    // int behind the pointer during the call. No encoder parameter is changed.
    unsafe {
        encoder.raw_api().set_option(
            openh264_sys2::ENCODER_OPTION_TRACE_LEVEL,
            std::ptr::addr_of_mut!(level).cast(),
        );
    }
}

impl FrameSource for VideoSource {
    fn next_frame(&mut self) -> Result<EncodedFrame, MediaError> {
        VideoSource::next_frame(self)
    }
    fn force_keyframe(&mut self) {
        VideoSource::force_keyframe(self)
    }
    fn width(&self) -> u32 {
        VideoSource::width(self)
    }
    fn height(&self) -> u32 {
        VideoSource::height(self)
    }
    fn fps(&self) -> u32 {
        self.fps
    }
}
