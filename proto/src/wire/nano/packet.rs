//! Whole Nano packets (docs/protocol.md#core-nano-packets): RTP header,
//! padding, and the core payloads (control handshake, channel control, UDP
//! handshake) or a streamer message.
//!
//! Streamer bodies can only be decoded knowing the channel's class (learned
//! from Channel Create), hence [`NanoPacket::decode`] takes it, and
//! [`NanoPacket::decode_with`] looks it up by channel id.

use serde::Serialize;

use super::channel::ChannelClass;
use super::rtp::{self, PayloadType, RtpHeader};
use super::streamer::StreamerMessage;
use crate::wire::{hexbytes, Put, Reader, WireError};

crate::wire_enum! {
    /// Control handshake type.
    pub enum ControlHandshakeType: u8 {
        /// Sent by the client (the reference calls it ClientHandshake).
        Syn = 0,
        /// The console's answer (the reference calls it ServerHandshake).
        Ack = 1,
    }
}

/// TCP control handshake: exchanges connection ids (payload type 0x60).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlHandshake {
    /// SYN (client) or ACK (console).
    #[serde(rename = "type")]
    pub handshake_type: ControlHandshakeType,
    /// The sender's connection id.
    pub connection_id: u16,
}

impl ControlHandshake {
    /// Decodes the whole (unpadded) payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "ControlHandshake");
        let v = ControlHandshake {
            handshake_type: ControlHandshakeType::from_raw(r.u8("type")?),
            connection_id: r.u16_le("connection_id")?,
        };
        r.finish()?;
        Ok(v)
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.handshake_type.raw());
        out.put_u16_le(self.connection_id);
    }
}

/// Channel control type: create.
pub const CHANNEL_CREATE: u32 = 2;
/// Channel control type: open.
pub const CHANNEL_OPEN: u32 = 3;
/// Channel control type: close.
pub const CHANNEL_CLOSE: u32 = 4;

/// Channel control (payload type 0x61).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ChannelControl {
    /// Type 2: the console creates a channel of a class.
    Create {
        /// The channel's class (its name on the wire).
        name: ChannelClass,
        /// Flags.
        flags: u32,
    },
    /// Type 3: open; the client echoes the console's flags.
    Open {
        /// Flags (uint32 length prefix; may be empty).
        #[serde(with = "hexbytes")]
        flags: Vec<u8>,
    },
    /// Type 4: close.
    Close {
        /// Flags (reason?).
        flags: u32,
    },
    /// Another type: the bytes after the type are kept.
    Unknown {
        /// The type.
        #[serde(rename = "type")]
        control_type: u32,
        /// The rest of the payload.
        #[serde(with = "hexbytes")]
        data: Vec<u8>,
    },
}

impl ChannelControl {
    /// Decodes the whole (unpadded) payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "ChannelControl");
        let ty = r.u32_le("type")?;
        let v = match ty {
            CHANNEL_CREATE => {
                r.packet("ChannelCreate");
                let n = r.u16_le("name_length")?;
                let raw = r.bytes(usize::from(n), "name")?;
                let name = std::str::from_utf8(raw)
                    .map_err(|e| r.invalid("name", format!("not UTF-8: {e}")))?;
                ChannelControl::Create {
                    name: ChannelClass::from_wire_name(name),
                    flags: r.u32_le("flags")?,
                }
            }
            CHANNEL_OPEN => {
                r.packet("ChannelOpen");
                let n = r.u32_le("flags_length")?;
                ChannelControl::Open {
                    flags: r.bytes(n as usize, "flags")?.to_vec(),
                }
            }
            CHANNEL_CLOSE => {
                r.packet("ChannelClose");
                ChannelControl::Close {
                    flags: r.u32_le("flags")?,
                }
            }
            other => ChannelControl::Unknown {
                control_type: other,
                data: r.rest().to_vec(),
            },
        };
        r.finish()?;
        Ok(v)
    }

    /// The channel control type.
    pub fn control_type(&self) -> u32 {
        match self {
            ChannelControl::Create { .. } => CHANNEL_CREATE,
            ChannelControl::Open { .. } => CHANNEL_OPEN,
            ChannelControl::Close { .. } => CHANNEL_CLOSE,
            ChannelControl::Unknown { control_type, .. } => *control_type,
        }
    }

    /// Appends the payload. A channel name longer than 65535 bytes is cut.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u32_le(self.control_type());
        match self {
            ChannelControl::Create { name, flags } => {
                let n = name.wire_name().as_bytes();
                let n = &n[..n.len().min(usize::from(u16::MAX))];
                out.put_u16_le(n.len() as u16);
                out.put_bytes(n);
                out.put_u32_le(*flags);
            }
            ChannelControl::Open { flags } => {
                out.put_u32_le(flags.len() as u32);
                out.put_bytes(flags);
            }
            ChannelControl::Close { flags } => out.put_u32_le(*flags),
            ChannelControl::Unknown { data, .. } => out.put_bytes(data),
        }
    }
}

/// UDP handshake (payload type 0x64): one type byte (1 in captures).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UdpHandshake {
    /// Handshake type (the reference calls it `unk`).
    #[serde(rename = "type")]
    pub handshake_type: u8,
}

impl UdpHandshake {
    /// Decodes the whole (unpadded) payload.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "UdpHandshake");
        let handshake_type = r.u8("type")?;
        r.finish()?;
        Ok(UdpHandshake { handshake_type })
    }

    /// Appends the payload.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u8(self.handshake_type);
    }
}

/// What follows the RTP header, by payload type.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum NanoPayload {
    /// Payload type 0x60.
    ControlHandshake(ControlHandshake),
    /// Payload type 0x61.
    ChannelControl(ChannelControl),
    /// Payload type 0x64.
    UdpHandshake(UdpHandshake),
    /// Payload type 0x23.
    Streamer(StreamerMessage),
    /// Unknown payload type: the (unpadded) bytes, kept.
    Unknown(#[serde(serialize_with = "hexbytes::serialize")] Vec<u8>),
}

impl NanoPayload {
    /// The RTP payload type of a typed payload (`None` for unknown).
    pub fn payload_type(&self) -> Option<PayloadType> {
        match self {
            NanoPayload::ControlHandshake(_) => Some(PayloadType::Control),
            NanoPayload::ChannelControl(_) => Some(PayloadType::ChannelControl),
            NanoPayload::UdpHandshake(_) => Some(PayloadType::UDPHandshake),
            NanoPayload::Streamer(_) => Some(PayloadType::Streamer),
            NanoPayload::Unknown(_) => None,
        }
    }

    /// Appends the payload (without padding).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            NanoPayload::ControlHandshake(p) => p.encode(out),
            NanoPayload::ChannelControl(p) => p.encode(out),
            NanoPayload::UdpHandshake(p) => p.encode(out),
            NanoPayload::Streamer(p) => p.encode(out),
            NanoPayload::Unknown(b) => out.put_bytes(b),
        }
    }
}

/// A whole Nano packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NanoPacket {
    /// RTP header.
    pub header: RtpHeader,
    /// Payload.
    pub payload: NanoPayload,
}

impl NanoPacket {
    /// Decodes a packet (a UDP datagram, or a TCP packet without its length
    /// prefix). `class` is the class of the header's channel; with `None` a
    /// streamer body is kept as raw bytes.
    pub fn decode(buf: &[u8], class: Option<ChannelClass>) -> Result<Self, WireError> {
        Self::decode_with(buf, |_| class)
    }

    /// Like [`NanoPacket::decode`], looking the class up by channel id
    /// (called once, only for streamer packets).
    pub fn decode_with<F>(buf: &[u8], class_of: F) -> Result<Self, WireError>
    where
        F: FnOnce(u16) -> Option<ChannelClass>,
    {
        let (header, body) = RtpHeader::split(buf)?;
        let class = match header.payload_type {
            PayloadType::Streamer => class_of(header.channel_id),
            _ => None,
        };
        Self::decode_payload(header, body, class.as_ref())
    }

    /// Decodes the payload of a datagram whose header [`RtpHeader::split`]
    /// decoded; `class` is the class of the header's channel (used only for
    /// streamer payloads).
    pub fn decode_payload(
        header: RtpHeader,
        body: &[u8],
        class: Option<&ChannelClass>,
    ) -> Result<Self, WireError> {
        let payload = match header.payload_type {
            PayloadType::Control => NanoPayload::ControlHandshake(ControlHandshake::decode(body)?),
            PayloadType::ChannelControl => {
                NanoPayload::ChannelControl(ChannelControl::decode(body)?)
            }
            PayloadType::UDPHandshake => NanoPayload::UdpHandshake(UdpHandshake::decode(body)?),
            PayloadType::Streamer => NanoPayload::Streamer(StreamerMessage::decode(body, class)?),
            PayloadType::Unknown(_) => NanoPayload::Unknown(body.to_vec()),
        };
        Ok(NanoPacket { header, payload })
    }

    /// Appends the packet as the console builds it: a typed payload's own
    /// RTP payload type is written, and the payload is padded (ANSI X.923)
    /// to 4 bytes with the P bit set exactly when it is not already aligned
    /// (`header.padding` is ignored). Returns nothing; cannot fail.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let start = out.len();
        let mut header = self.header.clone();
        header.padding = false;
        if let Some(pt) = self.payload.payload_type() {
            header.payload_type = pt;
        }
        header.encode(out);
        let payload_start = out.len();
        self.payload.encode(out);
        if rtp::pad(out, payload_start) > 0 {
            out[start] |= 0x20;
        }
    }

    /// Encodes into a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}
