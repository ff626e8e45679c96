//! SmartGlass's packets (docs/protocol.md#smartglass), bottom up: the
//! building blocks ([`common`]), the unencrypted-header simple packets
//! ([`simple`]: discovery, power-on, connect), the encrypted messages
//! ([`message`]) and their payloads ([`payloads`]), the JSON fragmentation of
//! the broadcast channel ([`json`]); and [`decode_any`], which tells them
//! apart.

pub mod common;
pub mod json;
pub mod message;
pub mod payloads;
pub mod simple;

use serde::Serialize;

use crate::crypto::Crypto;
use crate::wire::WireError;
use common::{peek_packet_type, PacketType};
use message::Message;
use simple::SimplePacket;

/// Any SmartGlass packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SgPacket {
    /// Discovery, power-on, connect request/response.
    Simple(SimplePacket),
    /// An encrypted 0xD00D message.
    Message(Message),
}

/// Decodes any SmartGlass datagram, recognising it by its packet type.
/// Connect packets and messages need `crypto`.
pub fn decode_any(buf: &[u8], crypto: Option<&Crypto>) -> Result<SgPacket, WireError> {
    match peek_packet_type(buf)? {
        PacketType::Message => {
            let c = crypto.ok_or(WireError::Crypto {
                packet: "message",
                reason: "a crypto context is needed to decode messages",
            })?;
            Ok(SgPacket::Message(Message::decode(buf, c)?))
        }
        PacketType::Unknown(v) => Err(WireError::invalid(
            "smartglass packet",
            "pkt_type",
            format!("unknown packet type 0x{v:04x}"),
        )),
        _ => Ok(SgPacket::Simple(SimplePacket::decode(buf, crypto)?)),
    }
}

impl SgPacket {
    /// Encodes the packet (messages and connect packets are encrypted and
    /// signed with `crypto`).
    pub fn encode(&self, crypto: Option<&Crypto>, out: &mut Vec<u8>) -> Result<(), WireError> {
        match self {
            SgPacket::Simple(p) => p.encode(crypto, out),
            SgPacket::Message(m) => {
                let c = crypto.ok_or(WireError::Crypto {
                    packet: "message",
                    reason: "a crypto context is needed to encode messages",
                })?;
                m.encode(c, out)
            }
        }
    }
}
