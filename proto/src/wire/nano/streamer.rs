//! Streamer framing (docs/protocol.md#streamer-header): the little-endian
//! header in front of every channel payload, and the payload chosen by channel
//! class.
//!
//! Layout: flags u32; if flag 0x01 (test the bit,
//! docs/protocol.md#overrule-streamer-flags-are-a-bit-set): sequence
//! number u32 and previous sequence number u32; payload type u32; if the type
//! is not 0: payload length u32 and that many bytes. Type 0 (Control Protocol)
//! has no length: its message runs to the end of the (unpadded) packet.

use serde::Serialize;

use super::audio::AudioPayload;
use super::channel::ChannelClass;
use super::control::ControlMessage;
use super::input::InputPayload;
use super::streamer_header::StreamerHeader;
use super::video::VideoPayload;
use crate::wire::{hexbytes, Put, Reader, WireError};

/// The payload of a streamer message, chosen by channel class and type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum StreamerBody {
    /// Video channel.
    Video(VideoPayload),
    /// Audio or ChatAudio channel.
    Audio(AudioPayload),
    /// Input or InputFeedback channel.
    Input(InputPayload),
    /// Control channel, type 0.
    Control(ControlMessage),
    /// Unknown channel class or payload type: the payload bytes, kept.
    Raw(#[serde(serialize_with = "hexbytes::serialize")] Vec<u8>),
}

impl StreamerBody {
    /// Decodes `payload` of streamer type `ty` on a channel of `class`.
    /// Unknown classes and types give [`StreamerBody::Raw`].
    pub fn decode(
        class: Option<&ChannelClass>,
        ty: u32,
        payload: &[u8],
    ) -> Result<Self, WireError> {
        let body = match class {
            Some(ChannelClass::Video) => {
                VideoPayload::decode(ty, payload)?.map(StreamerBody::Video)
            }
            Some(ChannelClass::Audio | ChannelClass::ChatAudio) => {
                AudioPayload::decode(ty, payload)?.map(StreamerBody::Audio)
            }
            Some(ChannelClass::Input | ChannelClass::InputFeedback) => {
                InputPayload::decode(ty, payload)?.map(StreamerBody::Input)
            }
            Some(ChannelClass::Control) if ty == 0 => {
                Some(StreamerBody::Control(ControlMessage::decode(payload)?))
            }
            _ => None,
        };
        Ok(body.unwrap_or_else(|| StreamerBody::Raw(payload.to_vec())))
    }

    /// The streamer type of a typed body (`None` for raw bytes).
    pub fn payload_type(&self) -> Option<u32> {
        match self {
            StreamerBody::Video(p) => Some(p.payload_type()),
            StreamerBody::Audio(p) => Some(p.payload_type()),
            StreamerBody::Input(p) => Some(p.payload_type()),
            StreamerBody::Control(_) => Some(0),
            StreamerBody::Raw(_) => None,
        }
    }

    /// Appends the body (without length prefix).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            StreamerBody::Video(p) => p.encode(out),
            StreamerBody::Audio(p) => p.encode(out),
            StreamerBody::Input(p) => p.encode(out),
            StreamerBody::Control(p) => p.encode(out),
            StreamerBody::Raw(b) => out.put_bytes(b),
        }
    }
}

/// A streamer message: header and body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamerMessage {
    /// Header.
    pub header: StreamerHeader,
    /// Body.
    pub body: StreamerBody,
}

impl StreamerMessage {
    /// Builds a message; the header's type is taken from the body (0 for raw).
    pub fn new(flags: u32, seq: Option<(u32, u32)>, body: StreamerBody) -> Self {
        StreamerMessage {
            header: StreamerHeader {
                flags,
                sequence_num: seq.map(|s| s.0),
                prev_sequence_num: seq.map(|s| s.1),
                payload_type: body.payload_type().unwrap_or(0),
            },
            body,
        }
    }

    /// Decodes a streamer message (the RTP payload with padding stripped).
    /// With `class` `None` the body is kept as raw bytes.
    pub fn decode(buf: &[u8], class: Option<&ChannelClass>) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "StreamerHeader");
        let header = StreamerHeader::decode(&mut r)?;
        let payload = if header.payload_type == 0 {
            r.rest()
        } else {
            let n = r.u32_le("payload_length")?;
            let p = r.bytes(n as usize, "payload")?;
            r.finish()?;
            p
        };
        let body = StreamerBody::decode(class, header.payload_type, payload)?;
        Ok(StreamerMessage { header, body })
    }

    /// The type the encoder writes: the body's own, or the header's for raw.
    pub fn wire_type(&self) -> u32 {
        self.body.payload_type().unwrap_or(self.header.payload_type)
    }

    /// Appends header, length (unless type 0) and body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let ty = self.wire_type();
        self.header.encode_with(ty, out);
        if ty == 0 {
            self.body.encode(out);
        } else {
            let at = out.len();
            out.put_u32_le(0);
            self.body.encode(out);
            let len = (out.len() - at - 4) as u32;
            out[at..at + 4].copy_from_slice(&len.to_le_bytes());
        }
    }
}
