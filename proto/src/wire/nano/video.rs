//! Video channel streamer payloads (docs/protocol.md#video-payloads),
//! little-endian.
//!
//! Besides the owned types there is a zero-copy path for the hot receive
//! path: [`parse_udp_video_data`] reads a whole UDP video data packet into a
//! [`VideoDataRef`] borrowing its data, without allocating.

use serde::Serialize;

use super::rtp::{self, PayloadType};
use super::streamer_header::STREAMER_FLAG_SEQ;
use crate::wire::{hexbytes, Put, Reader, WireError};

crate::wire_enum! {
    /// Video codec of a [`VideoFormat`].
    #[allow(clippy::upper_case_acronyms)]
    pub enum VideoCodec: u32 {
        /// H.264 access units.
        H264 = 0,
        /// Raw YUV.
        YUV = 1,
        /// Raw RGB (the format then carries an [`RgbFormat`]).
        RGB = 2,
    }
}

/// Streamer payload type: video server handshake.
pub const VIDEO_SERVER_HANDSHAKE: u32 = 1;
/// Streamer payload type: video client handshake.
pub const VIDEO_CLIENT_HANDSHAKE: u32 = 2;
/// Streamer payload type: video control.
pub const VIDEO_CONTROL: u32 = 3;
/// Streamer payload type: video data.
pub const VIDEO_DATA: u32 = 4;

/// Video control flag: request a keyframe (first byte read MSB-first, see
/// docs/protocol.md#overrule-video-and-audio-control-flags; the captured
/// control value 0x30 is keyframe + start).
pub const VIDEO_CONTROL_REQUEST_KEYFRAME: u32 = 0x20;
/// Video control flag: start the stream.
pub const VIDEO_CONTROL_START_STREAM: u32 = 0x10;
/// Video control flag: stop the stream.
pub const VIDEO_CONTROL_STOP_STREAM: u32 = 0x08;
/// Video control flag: a queue depth follows.
pub const VIDEO_CONTROL_QUEUE_DEPTH: u32 = 0x04;
/// Video control flag: a lost frame range follows.
pub const VIDEO_CONTROL_LOST_FRAMES: u32 = 0x02;
/// Video control flag: the last displayed frame follows.
pub const VIDEO_CONTROL_LAST_DISPLAYED_FRAME: u32 = 0x01;

/// Video data flag: keyframe.
pub const VIDEO_DATA_KEYFRAME: u32 = 0x02;
/// Video data flag seen on every captured data packet (meaning unknown).
pub const VIDEO_DATA_FLAG_04: u32 = 0x04;

/// RGB layout of a raw RGB [`VideoFormat`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RgbFormat {
    /// Bits per pixel.
    pub bpp: u32,
    /// Bytes per pixel.
    pub bytes: u32,
    /// Red mask.
    pub red_mask: u64,
    /// Green mask.
    pub green_mask: u64,
    /// Blue mask.
    pub blue_mask: u64,
}

/// A video format offered or chosen in a handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoFormat {
    /// Frames per second.
    pub fps: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Codec.
    pub codec: VideoCodec,
    /// Present exactly when `codec` is RGB (encoded whenever `Some`).
    pub rgb: Option<RgbFormat>,
}

impl VideoFormat {
    /// Minimum encoded size.
    pub const MIN_SIZE: usize = 16;

    /// Decodes a format.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let fps = r.u32_le("fps")?;
        let width = r.u32_le("width")?;
        let height = r.u32_le("height")?;
        let codec = VideoCodec::from_raw(r.u32_le("codec")?);
        let rgb = if codec == VideoCodec::RGB {
            Some(RgbFormat {
                bpp: r.u32_le("bpp")?,
                bytes: r.u32_le("bytes")?,
                red_mask: r.u64_le("red_mask")?,
                green_mask: r.u64_le("green_mask")?,
                blue_mask: r.u64_le("blue_mask")?,
            })
        } else {
            None
        };
        Ok(VideoFormat {
            fps,
            width,
            height,
            codec,
            rgb,
        })
    }

    /// Appends the format.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.fps);
        out.put_u32_le(self.width);
        out.put_u32_le(self.height);
        out.put_u32_le(self.codec.raw());
        if let Some(rgb) = &self.rgb {
            out.put_u32_le(rgb.bpp);
            out.put_u32_le(rgb.bytes);
            out.put_u64_le(rgb.red_mask);
            out.put_u64_le(rgb.green_mask);
            out.put_u64_le(rgb.blue_mask);
        }
    }
}

/// Console -> client: protocol version, desktop size and offered formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoServerHandshake {
    /// Streamer protocol version (5 for video).
    pub protocol_version: u32,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frames per second.
    pub fps: u32,
    /// Reference timestamp, milliseconds since the Unix epoch.
    pub reference_timestamp: u64,
    /// Offered formats.
    pub formats: Vec<VideoFormat>,
}

impl VideoServerHandshake {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "VideoServerHandshake");
        let protocol_version = r.u32_le("protocol_version")?;
        let width = r.u32_le("width")?;
        let height = r.u32_le("height")?;
        let fps = r.u32_le("fps")?;
        let reference_timestamp = r.u64_le("reference_timestamp")?;
        let n = r.u32_le("formats_length")?;
        let n = r.count(u64::from(n), VideoFormat::MIN_SIZE, "formats")?;
        let mut formats = Vec::with_capacity(n);
        for _ in 0..n {
            formats.push(VideoFormat::decode(&mut r)?);
        }
        r.finish()?;
        Ok(VideoServerHandshake {
            protocol_version,
            width,
            height,
            fps,
            reference_timestamp,
            formats,
        })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.protocol_version);
        out.put_u32_le(self.width);
        out.put_u32_le(self.height);
        out.put_u32_le(self.fps);
        out.put_u64_le(self.reference_timestamp);
        out.put_u32_le(self.formats.len() as u32);
        for f in &self.formats {
            f.encode(out);
        }
    }
}

/// Client -> console: initial frame id and the chosen format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoClientHandshake {
    /// The console numbers video frames from this id (full 32-bit, wraps).
    pub initial_frame_id: u32,
    /// The chosen format.
    pub requested_format: VideoFormat,
}

impl VideoClientHandshake {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "VideoClientHandshake");
        let initial_frame_id = r.u32_le("initial_frame_id")?;
        let requested_format = VideoFormat::decode(&mut r)?;
        r.finish()?;
        Ok(VideoClientHandshake {
            initial_frame_id,
            requested_format,
        })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.initial_frame_id);
        self.requested_format.encode(out);
    }
}

/// Last displayed frame report of a [`VideoControl`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LastDisplayedFrame {
    /// Frame id.
    pub frame_id: u32,
    /// When it was displayed (signed, as in the reference).
    pub timestamp: i64,
}

/// Lost frame range of a [`VideoControl`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LostFrames {
    /// First lost frame id.
    pub first: u32,
    /// Last lost frame id.
    pub last: u32,
}

/// Client -> console: start/stop, keyframe request and feedback.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VideoControl {
    /// Flags (`VIDEO_CONTROL_*`). On encode, the three "field follows" bits
    /// are set from the presence of the optional fields.
    pub flags: u32,
    /// Present iff [`VIDEO_CONTROL_LAST_DISPLAYED_FRAME`].
    pub last_displayed_frame: Option<LastDisplayedFrame>,
    /// Present iff [`VIDEO_CONTROL_QUEUE_DEPTH`].
    pub queue_depth: Option<u32>,
    /// Present iff [`VIDEO_CONTROL_LOST_FRAMES`].
    pub lost_frames: Option<LostFrames>,
}

impl VideoControl {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "VideoControl");
        let flags = r.u32_le("flags")?;
        let last_displayed_frame = if flags & VIDEO_CONTROL_LAST_DISPLAYED_FRAME != 0 {
            Some(LastDisplayedFrame {
                frame_id: r.u32_le("last_displayed_frame.frame_id")?,
                timestamp: r.u64_le("last_displayed_frame.timestamp")? as i64,
            })
        } else {
            None
        };
        let queue_depth = if flags & VIDEO_CONTROL_QUEUE_DEPTH != 0 {
            Some(r.u32_le("queue_depth")?)
        } else {
            None
        };
        let lost_frames = if flags & VIDEO_CONTROL_LOST_FRAMES != 0 {
            Some(LostFrames {
                first: r.u32_le("lost_frames.first")?,
                last: r.u32_le("lost_frames.last")?,
            })
        } else {
            None
        };
        r.finish()?;
        Ok(VideoControl {
            flags,
            last_displayed_frame,
            queue_depth,
            lost_frames,
        })
    }

    /// The flags as encoded (presence bits follow the optional fields).
    pub fn wire_flags(&self) -> u32 {
        let mut f = self.flags
            & !(VIDEO_CONTROL_LAST_DISPLAYED_FRAME
                | VIDEO_CONTROL_QUEUE_DEPTH
                | VIDEO_CONTROL_LOST_FRAMES);
        if self.last_displayed_frame.is_some() {
            f |= VIDEO_CONTROL_LAST_DISPLAYED_FRAME;
        }
        if self.queue_depth.is_some() {
            f |= VIDEO_CONTROL_QUEUE_DEPTH;
        }
        if self.lost_frames.is_some() {
            f |= VIDEO_CONTROL_LOST_FRAMES;
        }
        f
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.wire_flags());
        if let Some(l) = &self.last_displayed_frame {
            out.put_u32_le(l.frame_id);
            out.put_u64_le(l.timestamp as u64);
        }
        if let Some(q) = self.queue_depth {
            out.put_u32_le(q);
        }
        if let Some(l) = &self.lost_frames {
            out.put_u32_le(l.first);
            out.put_u32_le(l.last);
        }
    }
}

/// One chunk of an encoded video frame (owned).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoData {
    /// Flags (`VIDEO_DATA_*`).
    pub flags: u32,
    /// Frame id.
    pub frame_id: u32,
    /// Timestamp (microseconds relative to the reference timestamp).
    pub timestamp: u64,
    /// Size of the whole frame.
    pub total_size: u32,
    /// Number of chunks of the frame.
    pub packet_count: u32,
    /// Position of this chunk in the frame.
    pub offset: u32,
    /// The chunk.
    #[serde(with = "hexbytes")]
    pub data: Vec<u8>,
}

impl VideoData {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "VideoData");
        let d = VideoDataRef::decode(&mut r)?;
        r.finish()?;
        Ok(d.to_owned())
    }

    /// A borrowed view.
    pub fn as_ref(&self) -> VideoDataRef<'_> {
        VideoDataRef {
            flags: self.flags,
            frame_id: self.frame_id,
            timestamp: self.timestamp,
            total_size: self.total_size,
            packet_count: self.packet_count,
            offset: self.offset,
            data: &self.data,
        }
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        self.as_ref().encode(out)
    }

    /// True when the keyframe flag is set.
    pub fn is_keyframe(&self) -> bool {
        self.flags & VIDEO_DATA_KEYFRAME != 0
    }
}

/// One chunk of an encoded video frame, borrowing its data (zero-copy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoDataRef<'a> {
    /// Flags (`VIDEO_DATA_*`).
    pub flags: u32,
    /// Frame id.
    pub frame_id: u32,
    /// Timestamp.
    pub timestamp: u64,
    /// Size of the whole frame.
    pub total_size: u32,
    /// Number of chunks of the frame.
    pub packet_count: u32,
    /// Position of this chunk in the frame.
    pub offset: u32,
    /// The chunk.
    pub data: &'a [u8],
}

impl<'a> VideoDataRef<'a> {
    /// Reads a video data payload (leaves any following bytes unread).
    pub fn decode(r: &mut Reader<'a>) -> Result<Self, WireError> {
        let prev = r.packet("VideoData");
        let flags = r.u32_le("flags")?;
        let frame_id = r.u32_le("frame_id")?;
        let timestamp = r.u64_le("timestamp")?;
        let total_size = r.u32_le("total_size")?;
        let packet_count = r.u32_le("packet_count")?;
        let offset = r.u32_le("offset")?;
        let len = r.u32_le("data_length")?;
        let data = r.bytes(len as usize, "data")?;
        r.packet(prev);
        Ok(VideoDataRef {
            flags,
            frame_id,
            timestamp,
            total_size,
            packet_count,
            offset,
            data,
        })
    }

    /// Copies into an owned [`VideoData`].
    pub fn to_owned(&self) -> VideoData {
        VideoData {
            flags: self.flags,
            frame_id: self.frame_id,
            timestamp: self.timestamp,
            total_size: self.total_size,
            packet_count: self.packet_count,
            offset: self.offset,
            data: self.data.to_vec(),
        }
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.flags);
        out.put_u32_le(self.frame_id);
        out.put_u64_le(self.timestamp);
        out.put_u32_le(self.total_size);
        out.put_u32_le(self.packet_count);
        out.put_u32_le(self.offset);
        out.put_u32_le(self.data.len() as u32);
        out.put_bytes(self.data);
    }

    /// True when the keyframe flag is set.
    pub fn is_keyframe(&self) -> bool {
        self.flags & VIDEO_DATA_KEYFRAME != 0
    }
}

/// The RTP header fields the video receive path needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdpVideoHeader {
    /// Connection id (high half of the SSRC).
    pub connection_id: u16,
    /// Channel id (low half of the SSRC).
    pub channel_id: u16,
    /// RTP sequence number.
    pub sequence_num: u16,
    /// RTP timestamp.
    pub timestamp: u32,
}

/// The video data a streamer payload carries (the payload of a UDP datagram
/// on a video channel, as [`rtp::RtpHeader::split`] returns it), borrowed.
/// `Ok(None)`: a streamer message of another type, said without building an
/// error (the receive path asks this of every video datagram).
pub fn video_data_of_streamer(body: &[u8]) -> Result<Option<VideoDataRef<'_>>, WireError> {
    let mut r = Reader::new(body, "StreamerHeader");
    let flags = r.u32_le("flags")?;
    if flags & STREAMER_FLAG_SEQ != 0 {
        r.bytes(8, "sequence_num")?;
    }
    if r.u32_le("type")? != VIDEO_DATA {
        return Ok(None);
    }
    let len = r.u32_le("payload_length")? as usize;
    let payload = r.bytes(len, "payload")?;
    r.finish()?;
    let mut p = Reader::new(payload, "VideoData");
    let data = VideoDataRef::decode(&mut p)?;
    p.finish()?;
    Ok(Some(data))
}

/// Parses a whole UDP video data datagram without allocating: its RTP
/// header (decoded once) and the borrowed video data. Fails on any other
/// datagram.
pub fn parse_udp_video_data(buf: &[u8]) -> Result<(UdpVideoHeader, VideoDataRef<'_>), WireError> {
    let (h, body) = rtp::RtpHeader::split(buf)?;
    if h.payload_type != PayloadType::Streamer {
        return Err(WireError::invalid(
            "RtpHeader",
            "payload_type",
            "not a streamer packet",
        ));
    }
    let Some(data) = video_data_of_streamer(body)? else {
        return Err(WireError::invalid(
            "StreamerHeader",
            "type",
            "not video data",
        ));
    };
    Ok((
        UdpVideoHeader {
            connection_id: h.connection_id,
            channel_id: h.channel_id,
            sequence_num: h.sequence_num,
            timestamp: h.timestamp,
        },
        data,
    ))
}

/// A video channel streamer payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum VideoPayload {
    /// Type 1.
    ServerHandshake(VideoServerHandshake),
    /// Type 2.
    ClientHandshake(VideoClientHandshake),
    /// Type 3.
    Control(VideoControl),
    /// Type 4.
    Data(VideoData),
}

impl VideoPayload {
    /// Decodes a payload of streamer type `ty`; `Ok(None)` for unknown types.
    pub fn decode(ty: u32, buf: &[u8]) -> Result<Option<Self>, WireError> {
        Ok(Some(match ty {
            VIDEO_SERVER_HANDSHAKE => {
                VideoPayload::ServerHandshake(VideoServerHandshake::decode(buf)?)
            }
            VIDEO_CLIENT_HANDSHAKE => {
                VideoPayload::ClientHandshake(VideoClientHandshake::decode(buf)?)
            }
            VIDEO_CONTROL => VideoPayload::Control(VideoControl::decode(buf)?),
            VIDEO_DATA => VideoPayload::Data(VideoData::decode(buf)?),
            _ => return Ok(None),
        }))
    }

    /// The streamer payload type.
    pub fn payload_type(&self) -> u32 {
        match self {
            VideoPayload::ServerHandshake(_) => VIDEO_SERVER_HANDSHAKE,
            VideoPayload::ClientHandshake(_) => VIDEO_CLIENT_HANDSHAKE,
            VideoPayload::Control(_) => VIDEO_CONTROL,
            VideoPayload::Data(_) => VIDEO_DATA,
        }
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            VideoPayload::ServerHandshake(p) => p.encode(out),
            VideoPayload::ClientHandshake(p) => p.encode(out),
            VideoPayload::Control(p) => p.encode(out),
            VideoPayload::Data(p) => p.encode(out),
        }
    }
}
