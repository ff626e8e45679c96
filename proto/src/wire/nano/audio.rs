//! Audio and ChatAudio channel streamer payloads
//! (docs/protocol.md#audio-and-chataudio-payloads), little-endian.

use serde::Serialize;

use crate::wire::{hexbytes, Put, Reader, WireError};

crate::wire_enum! {
    /// Audio codec of an [`AudioFormat`].
    #[allow(clippy::upper_case_acronyms)]
    pub enum AudioCodec: u32 {
        /// Opus.
        Opus = 0,
        /// AAC.
        AAC = 1,
        /// PCM (the format then carries a [`PcmFormat`]).
        PCM = 2,
    }
}

/// Streamer payload type: audio server handshake.
pub const AUDIO_SERVER_HANDSHAKE: u32 = 1;
/// Streamer payload type: audio client handshake.
pub const AUDIO_CLIENT_HANDSHAKE: u32 = 2;
/// Streamer payload type: audio control.
pub const AUDIO_CONTROL: u32 = 3;
/// Streamer payload type: audio data.
pub const AUDIO_DATA: u32 = 4;

/// Audio control flag: reinitialize (first byte read MSB-first, see
/// docs/protocol.md#overrule-video-and-audio-control-flags; the captured
/// start request is 0x10).
pub const AUDIO_CONTROL_REINITIALIZE: u32 = 0x40;
/// Audio control flag: start the stream.
pub const AUDIO_CONTROL_START_STREAM: u32 = 0x10;
/// Audio control flag: stop the stream.
pub const AUDIO_CONTROL_STOP_STREAM: u32 = 0x08;

/// PCM details of a PCM [`AudioFormat`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PcmFormat {
    /// Bits per sample.
    pub bit_depth: u32,
    /// Sample type: 0 integer, 1 float.
    #[serde(rename = "type")]
    pub sample_type: u32,
}

/// An audio format offered or chosen in a handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioFormat {
    /// Channel count.
    pub channels: u32,
    /// Sample rate in Hz.
    pub sample_rate: u32,
    /// Codec.
    pub codec: AudioCodec,
    /// Present exactly when `codec` is PCM (encoded whenever `Some`).
    pub pcm: Option<PcmFormat>,
}

impl AudioFormat {
    /// Minimum encoded size.
    pub const MIN_SIZE: usize = 12;

    /// Decodes a format.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let channels = r.u32_le("channels")?;
        let sample_rate = r.u32_le("sample_rate")?;
        let codec = AudioCodec::from_raw(r.u32_le("codec")?);
        let pcm = if codec == AudioCodec::PCM {
            Some(PcmFormat {
                bit_depth: r.u32_le("bit_depth")?,
                sample_type: r.u32_le("type")?,
            })
        } else {
            None
        };
        Ok(AudioFormat {
            channels,
            sample_rate,
            codec,
            pcm,
        })
    }

    /// Appends the format.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.channels);
        out.put_u32_le(self.sample_rate);
        out.put_u32_le(self.codec.raw());
        if let Some(p) = &self.pcm {
            out.put_u32_le(p.bit_depth);
            out.put_u32_le(p.sample_type);
        }
    }
}

/// Console -> client (or client -> console on ChatAudio): offered formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioServerHandshake {
    /// Streamer protocol version (4 for audio).
    pub protocol_version: u32,
    /// Reference timestamp, milliseconds since the Unix epoch.
    pub reference_timestamp: u64,
    /// Offered formats.
    pub formats: Vec<AudioFormat>,
}

impl AudioServerHandshake {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "AudioServerHandshake");
        let protocol_version = r.u32_le("protocol_version")?;
        let reference_timestamp = r.u64_le("reference_timestamp")?;
        let n = r.u32_le("formats_length")?;
        let n = r.count(u64::from(n), AudioFormat::MIN_SIZE, "formats")?;
        let mut formats = Vec::with_capacity(n);
        for _ in 0..n {
            formats.push(AudioFormat::decode(&mut r)?);
        }
        r.finish()?;
        Ok(AudioServerHandshake {
            protocol_version,
            reference_timestamp,
            formats,
        })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.protocol_version);
        out.put_u64_le(self.reference_timestamp);
        out.put_u32_le(self.formats.len() as u32);
        for f in &self.formats {
            f.encode(out);
        }
    }
}

/// Answer to an [`AudioServerHandshake`]: initial frame id and chosen format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioClientHandshake {
    /// Initial frame id.
    pub initial_frame_id: u32,
    /// The chosen format.
    pub requested_format: AudioFormat,
}

impl AudioClientHandshake {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "AudioClientHandshake");
        let initial_frame_id = r.u32_le("initial_frame_id")?;
        let requested_format = AudioFormat::decode(&mut r)?;
        r.finish()?;
        Ok(AudioClientHandshake {
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

/// Client -> console: start / stop / reinitialize.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioControl {
    /// Flags (`AUDIO_CONTROL_*`), kept whole.
    pub flags: u32,
}

impl AudioControl {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "AudioControl");
        let flags = r.u32_le("flags")?;
        r.finish()?;
        Ok(AudioControl { flags })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.flags);
    }
}

/// One encoded audio packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudioData {
    /// Flags (0x04 on every captured packet).
    pub flags: u32,
    /// Frame id (0 in captures).
    pub frame_id: u32,
    /// Timestamp.
    pub timestamp: u64,
    /// Encoded audio.
    #[serde(with = "hexbytes")]
    pub data: Vec<u8>,
}

impl AudioData {
    /// Decodes the whole payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "AudioData");
        let flags = r.u32_le("flags")?;
        let frame_id = r.u32_le("frame_id")?;
        let timestamp = r.u64_le("timestamp")?;
        let len = r.u32_le("data_length")?;
        let data = r.bytes(len as usize, "data")?.to_vec();
        r.finish()?;
        Ok(AudioData {
            flags,
            frame_id,
            timestamp,
            data,
        })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.flags);
        out.put_u32_le(self.frame_id);
        out.put_u64_le(self.timestamp);
        out.put_u32_le(self.data.len() as u32);
        out.put_bytes(&self.data);
    }
}

/// An Audio / ChatAudio channel streamer payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum AudioPayload {
    /// Type 1.
    ServerHandshake(AudioServerHandshake),
    /// Type 2.
    ClientHandshake(AudioClientHandshake),
    /// Type 3.
    Control(AudioControl),
    /// Type 4.
    Data(AudioData),
}

impl AudioPayload {
    /// Decodes a payload of streamer type `ty`; `Ok(None)` for unknown types.
    pub fn decode(ty: u32, buf: &[u8]) -> Result<Option<Self>, WireError> {
        Ok(Some(match ty {
            AUDIO_SERVER_HANDSHAKE => {
                AudioPayload::ServerHandshake(AudioServerHandshake::decode(buf)?)
            }
            AUDIO_CLIENT_HANDSHAKE => {
                AudioPayload::ClientHandshake(AudioClientHandshake::decode(buf)?)
            }
            AUDIO_CONTROL => AudioPayload::Control(AudioControl::decode(buf)?),
            AUDIO_DATA => AudioPayload::Data(AudioData::decode(buf)?),
            _ => return Ok(None),
        }))
    }

    /// The streamer payload type.
    pub fn payload_type(&self) -> u32 {
        match self {
            AudioPayload::ServerHandshake(_) => AUDIO_SERVER_HANDSHAKE,
            AudioPayload::ClientHandshake(_) => AUDIO_CLIENT_HANDSHAKE,
            AudioPayload::Control(_) => AUDIO_CONTROL,
            AudioPayload::Data(_) => AUDIO_DATA,
        }
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            AudioPayload::ServerHandshake(p) => p.encode(out),
            AudioPayload::ClientHandshake(p) => p.encode(out),
            AudioPayload::Control(p) => p.encode(out),
            AudioPayload::Data(p) => p.encode(out),
        }
    }
}
