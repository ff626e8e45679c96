//! The packet dissector behind `xnano decode` and `xnano pcap`: turns
//! SmartGlass and Nano packets into JSON values. A packet that does not
//! decode becomes an error object naming the packet and the field.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use serde_json::{json, Value};

use crate::crypto::Crypto;
use crate::pcap::{self, Transport};
use crate::wire::nano::framing::TcpDeframer;
use crate::wire::nano::{ChannelClass, ChannelControl, NanoPacket, NanoPayload};
use crate::wire::sg::decode_any;
use crate::wire::WireError;

/// The SmartGlass UDP port.
pub const SMARTGLASS_PORT: u16 = 5050;

/// The JSON error object for a packet that did not decode.
pub fn error_json(e: &WireError) -> Value {
    json!({
        "error": e.to_string(),
        "packet": e.packet(),
        "field": e.field(),
    })
}

/// True if the bytes start like a SmartGlass packet (its packet types all
/// have the top two bits set; Nano's RTP version 2 has `10`).
pub fn looks_like_smartglass(buf: &[u8]) -> bool {
    buf.first().is_some_and(|b| b & 0xC0 == 0xC0)
}

/// Parses a 64-byte session secret given in hex.
pub fn parse_secret(hex_text: &str) -> Result<Crypto, String> {
    let b = hex::decode(hex_text.trim()).map_err(|e| format!("secret: {e}"))?;
    let arr: [u8; 64] = b
        .try_into()
        .map_err(|b: Vec<u8>| format!("secret: need 64 bytes, got {}", b.len()))?;
    Ok(Crypto::from_shared_secret(&arr))
}

/// Decodes one SmartGlass datagram.
pub fn smartglass_json(buf: &[u8], crypto: Option<&Crypto>) -> Value {
    match decode_any(buf, crypto) {
        Ok(p) => json!({ "protocol": "smartglass", "packet": p }),
        Err(e) => with_protocol("smartglass", error_json(&e)),
    }
}

fn with_protocol(proto: &str, mut v: Value) -> Value {
    if let Value::Object(m) = &mut v {
        m.insert("protocol".into(), Value::String(proto.into()));
    }
    v
}

/// Follows Channel Create packets to learn each channel's class, as the
/// `--channel` option or a capture's control stream tells it.
#[derive(Debug, Default, Clone)]
pub struct ChannelMap {
    classes: HashMap<u16, ChannelClass>,
    /// Class for channels not (yet) created in what was seen.
    pub fallback: Option<ChannelClass>,
}

impl ChannelMap {
    /// The class of a channel id.
    pub fn class_of(&self, id: u16) -> Option<ChannelClass> {
        self.classes
            .get(&id)
            .cloned()
            .or_else(|| self.fallback.clone())
    }

    /// Decodes one Nano packet, learning from Channel Create.
    pub fn nano_json(&mut self, buf: &[u8]) -> Value {
        match NanoPacket::decode_with(buf, |id| self.class_of(id)) {
            Ok(p) => {
                if let NanoPayload::ChannelControl(ChannelControl::Create { name, .. }) = &p.payload
                {
                    self.classes.insert(p.header.channel_id, name.clone());
                }
                json!({ "protocol": "nano", "packet": p })
            }
            Err(e) => with_protocol("nano", error_json(&e)),
        }
    }
}

/// Parses a `--channel` value.
pub fn parse_channel(s: &str) -> Result<ChannelClass, String> {
    Ok(match s {
        "video" => ChannelClass::Video,
        "audio" => ChannelClass::Audio,
        "chat-audio" => ChannelClass::ChatAudio,
        "control" => ChannelClass::Control,
        "input" => ChannelClass::Input,
        "input-feedback" => ChannelClass::InputFeedback,
        other => return Err(format!("unknown channel {other:?}")),
    })
}

/// `xnano decode`: every packet of a file as JSON values.
pub fn decode_file(
    data: &[u8],
    channel: Option<ChannelClass>,
    tcp: bool,
    crypto: Option<&Crypto>,
) -> Vec<Value> {
    let mut map = ChannelMap {
        fallback: channel,
        ..Default::default()
    };
    if tcp {
        let mut out = Vec::new();
        let mut d = TcpDeframer::default();
        d.push(data);
        loop {
            match d.next_packet() {
                Ok(Some(p)) => out.push(map.nano_json(p)),
                Ok(None) => break,
                Err(e) => {
                    out.push(with_protocol("nano", error_json(&e)));
                    break;
                }
            }
        }
        if d.pending() > 0 {
            let e = WireError::Truncated {
                packet: "TcpFrame",
                field: "packet",
                need: d.pending() + 1,
                have: d.pending(),
            };
            out.push(with_protocol("nano", error_json(&e)));
        }
        return out;
    }
    if looks_like_smartglass(data) {
        vec![smartglass_json(data, crypto)]
    } else {
        vec![map.nano_json(data)]
    }
}

/// `xnano pcap`: every SmartGlass and Nano packet of a capture, one JSON
/// object each, with time and direction.
pub fn decode_pcap(data: &[u8], crypto: Option<&Crypto>) -> Result<Vec<Value>, WireError> {
    let records = pcap::read(data)?;
    // The console is whoever talks from port 5050 or is talked to on it.
    let mut consoles: Vec<IpAddr> = Vec::new();
    for r in &records {
        if r.transport == Transport::Udp {
            if r.dst.port() == SMARTGLASS_PORT && r.src.port() != SMARTGLASS_PORT {
                push_unique(&mut consoles, r.dst.ip());
            } else if r.src.port() == SMARTGLASS_PORT && r.dst.port() != SMARTGLASS_PORT {
                push_unique(&mut consoles, r.src.ip());
            }
        }
    }
    let mut map = ChannelMap::default();
    let mut flows: HashMap<(SocketAddr, SocketAddr), TcpDeframer> = HashMap::new();
    let mut out = Vec::new();
    for r in &records {
        let direction = if consoles.contains(&r.src.ip()) {
            "console_to_client"
        } else if consoles.contains(&r.dst.ip()) {
            "client_to_console"
        } else {
            "unknown"
        };
        let base = |v: Value| -> Value {
            let mut m = serde_json::Map::new();
            m.insert("time".into(), json!(r.timestamp.as_secs_f64()));
            m.insert("src".into(), json!(r.src.to_string()));
            m.insert("dst".into(), json!(r.dst.to_string()));
            m.insert("direction".into(), json!(direction));
            m.insert(
                "transport".into(),
                json!(match r.transport {
                    Transport::Udp => "udp",
                    Transport::Tcp => "tcp",
                }),
            );
            if let Value::Object(o) = v {
                m.extend(o);
            }
            Value::Object(m)
        };
        match r.transport {
            Transport::Udp
                if r.src.port() == SMARTGLASS_PORT || r.dst.port() == SMARTGLASS_PORT =>
            {
                out.push(base(smartglass_json(&r.payload, crypto)));
            }
            Transport::Udp => out.push(base(map.nano_json(&r.payload))),
            Transport::Tcp => {
                if r.payload.is_empty() {
                    continue;
                }
                let d = flows.entry((r.src, r.dst)).or_default();
                d.push(&r.payload);
                loop {
                    match d.next_packet() {
                        Ok(Some(p)) => {
                            let p = p.to_vec();
                            out.push(base(map.nano_json(&p)));
                        }
                        Ok(None) => break,
                        Err(e) => {
                            out.push(base(with_protocol("nano", error_json(&e))));
                            break;
                        }
                    }
                }
            }
        }
    }
    Ok(out)
}

fn push_unique(v: &mut Vec<IpAddr>, ip: IpAddr) {
    if !v.contains(&ip) {
        v.push(ip);
    }
}
