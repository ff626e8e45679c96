//! The Control Protocol carried on the Control channel (streamer payload
//! type 0, no length prefix): a [`ControlHeader`] and one of eleven messages.
//!
//! No capture settles most message layouts. As
//! docs/protocol.md#layouts-no-capture-settles records, they follow the
//! reference implementation, not the published notes: a 16-byte GUID comes
//! first in session create, session create response, initiate network test,
//! network information and network test response; the reference's "unknown"
//! fields are float32 where the published notes say uint32 (video statistics,
//! network information, network test response); session destroy is a float32
//! then length-prefixed bytes. Field names are the reference's (`unk3`...).
//! Change video quality and realtime telemetry are confirmed by captures.

use serde::Serialize;

use crate::wire::{hexbytes, Put, Reader, WireError};

crate::wire_enum! {
    /// Control Protocol message type (the header's opcode).
    pub enum ControlOpcode: u16 {
        /// Session init.
        SessionInit = 0x01,
        /// Session create.
        SessionCreate = 0x02,
        /// Session create response.
        SessionCreateResponse = 0x03,
        /// Session destroy.
        SessionDestroy = 0x04,
        /// Video statistics.
        VideoStatistics = 0x05,
        /// Realtime telemetry.
        RealtimeTelemetry = 0x06,
        /// Change video quality.
        ChangeVideoQuality = 0x07,
        /// Initiate network test.
        InitiateNetworkTest = 0x08,
        /// Network information.
        NetworkInformation = 0x09,
        /// Network test response.
        NetworkTestResponse = 0x0A,
        /// Controller event (makes the console open Input channels).
        ControllerEvent = 0x0B,
    }
}

crate::wire_enum! {
    /// Controller event type.
    pub enum ControllerEventType: u8 {
        /// A controller was removed.
        Removed = 0,
        /// A controller was added.
        Added = 1,
    }
}

/// The Control Protocol header (10 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlHeader {
    /// Duplicate of the streamer's previous sequence number.
    pub prev_seq_dup: u32,
    /// Unknown (1 in captures).
    pub unk1: u16,
    /// Unknown (1406 in captures).
    pub unk2: u16,
    /// Message type. For typed payloads the encoder writes the payload's own
    /// opcode; this value is used for [`ControlPayload::Unknown`].
    pub opcode: ControlOpcode,
}

impl ControlHeader {
    /// Encoded size.
    pub const SIZE: usize = 10;

    /// Decodes the header.
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ControlHeader {
            prev_seq_dup: r.u32_le("prev_seq_dup")?,
            unk1: r.u16_le("unk1")?,
            unk2: r.u16_le("unk2")?,
            opcode: ControlOpcode::from_raw(r.u16_le("opcode")?),
        })
    }

    /// Appends the header with the given opcode.
    fn encode_with(&self, opcode: ControlOpcode, out: &mut Vec<u8>) {
        out.put_u32_le(self.prev_seq_dup);
        out.put_u16_le(self.unk1);
        out.put_u16_le(self.unk2);
        out.put_u16_le(opcode.raw());
    }
}

/// Session init: opaque bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInit {
    /// Unknown content.
    #[serde(with = "hexbytes")]
    pub unk3: Vec<u8>,
}

/// Session create: GUID, then length-prefixed bytes (reference layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionCreate {
    /// Session GUID.
    #[serde(with = "hexbytes")]
    pub guid: [u8; 16],
    /// Unknown content (uint32 length prefix).
    #[serde(with = "hexbytes")]
    pub unk3: Vec<u8>,
}

/// Session create response: GUID (reference layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionCreateResponse {
    /// Session GUID.
    #[serde(with = "hexbytes")]
    pub guid: [u8; 16],
}

/// Session destroy: float32, then length-prefixed bytes (reference layout).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionDestroy {
    /// Unknown (float32 in the reference; uint32 in the published notes, see
    /// docs/protocol.md#layouts-no-capture-settles).
    pub unk3: f32,
    /// Unknown content (uint32 length prefix).
    #[serde(with = "hexbytes")]
    pub unk5: Vec<u8>,
}

/// Video statistics: six float32 (reference; the published notes say uint32,
/// see docs/protocol.md#layouts-no-capture-settles).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct VideoStatistics {
    pub unk3: f32,
    pub unk4: f32,
    pub unk5: f32,
    pub unk6: f32,
    pub unk7: f32,
    pub unk8: f32,
}

/// One realtime telemetry entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelemetryField {
    /// Key.
    pub key: u16,
    /// Value.
    pub value: u64,
}

/// Realtime telemetry: uint16 count, then key/value entries (captured).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RealtimeTelemetry {
    /// Entries.
    pub data: Vec<TelemetryField>,
}

/// Change video quality: six uint32 (captured). The reference's presets are
/// bitrate, ?, frame rate numerator, denominator, ?, ?.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[allow(missing_docs)]
pub struct ChangeVideoQuality {
    pub unk3: u32,
    pub unk4: u32,
    pub unk5: u32,
    pub unk6: u32,
    pub unk7: u32,
    pub unk8: u32,
}

/// Initiate network test: GUID (reference layout).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InitiateNetworkTest {
    /// Test GUID.
    #[serde(with = "hexbytes")]
    pub guid: [u8; 16],
}

/// Network information (reference layout: GUID, u64, u8, float32).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct NetworkInformation {
    #[serde(with = "hexbytes")]
    pub guid: [u8; 16],
    pub unk4: u64,
    pub unk5: u8,
    pub unk6: f32,
}

/// Network test response (reference layout: GUID, five float32, two u64,
/// float32).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(missing_docs)]
pub struct NetworkTestResponse {
    #[serde(with = "hexbytes")]
    pub guid: [u8; 16],
    pub unk3: f32,
    pub unk4: f32,
    pub unk5: f32,
    pub unk6: f32,
    pub unk7: f32,
    pub unk8: u64,
    pub unk9: u64,
    pub unk10: f32,
}

/// Controller added / removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControllerEvent {
    /// Added or removed.
    pub event: ControllerEventType,
    /// Controller number.
    pub controller_num: u8,
}

/// The message behind a [`ControlHeader`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ControlPayload {
    /// Opcode 1.
    SessionInit(SessionInit),
    /// Opcode 2.
    SessionCreate(SessionCreate),
    /// Opcode 3.
    SessionCreateResponse(SessionCreateResponse),
    /// Opcode 4.
    SessionDestroy(SessionDestroy),
    /// Opcode 5.
    VideoStatistics(VideoStatistics),
    /// Opcode 6.
    RealtimeTelemetry(RealtimeTelemetry),
    /// Opcode 7.
    ChangeVideoQuality(ChangeVideoQuality),
    /// Opcode 8.
    InitiateNetworkTest(InitiateNetworkTest),
    /// Opcode 9.
    NetworkInformation(NetworkInformation),
    /// Opcode 10.
    NetworkTestResponse(NetworkTestResponse),
    /// Opcode 11.
    ControllerEvent(ControllerEvent),
    /// An unknown opcode: the bytes are kept.
    Unknown(#[serde(serialize_with = "hexbytes::serialize")] Vec<u8>),
}

fn prefixed(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u8>, WireError> {
    let n = r.u32_le(field)?;
    Ok(r.bytes(n as usize, field)?.to_vec())
}

fn put_prefixed(out: &mut Vec<u8>, b: &[u8]) {
    out.put_u32_le(b.len() as u32);
    out.put_bytes(b);
}

impl ControlPayload {
    /// Decodes the payload of `opcode` from the rest of the reader.
    pub fn decode(opcode: ControlOpcode, r: &mut Reader<'_>) -> Result<Self, WireError> {
        use ControlOpcode as O;
        let p = match opcode {
            O::SessionInit => ControlPayload::SessionInit(SessionInit {
                unk3: r.rest().to_vec(),
            }),
            O::SessionCreate => ControlPayload::SessionCreate(SessionCreate {
                guid: r.array("guid")?,
                unk3: prefixed(r, "unk3")?,
            }),
            O::SessionCreateResponse => {
                ControlPayload::SessionCreateResponse(SessionCreateResponse {
                    guid: r.array("guid")?,
                })
            }
            O::SessionDestroy => ControlPayload::SessionDestroy(SessionDestroy {
                unk3: r.f32_le("unk3")?,
                unk5: prefixed(r, "unk5")?,
            }),
            O::VideoStatistics => ControlPayload::VideoStatistics(VideoStatistics {
                unk3: r.f32_le("unk3")?,
                unk4: r.f32_le("unk4")?,
                unk5: r.f32_le("unk5")?,
                unk6: r.f32_le("unk6")?,
                unk7: r.f32_le("unk7")?,
                unk8: r.f32_le("unk8")?,
            }),
            O::RealtimeTelemetry => {
                let n = r.u16_le("data_length")?;
                let n = r.count(u64::from(n), 10, "data")?;
                let mut data = Vec::with_capacity(n);
                for _ in 0..n {
                    data.push(TelemetryField {
                        key: r.u16_le("key")?,
                        value: r.u64_le("value")?,
                    });
                }
                ControlPayload::RealtimeTelemetry(RealtimeTelemetry { data })
            }
            O::ChangeVideoQuality => ControlPayload::ChangeVideoQuality(ChangeVideoQuality {
                unk3: r.u32_le("unk3")?,
                unk4: r.u32_le("unk4")?,
                unk5: r.u32_le("unk5")?,
                unk6: r.u32_le("unk6")?,
                unk7: r.u32_le("unk7")?,
                unk8: r.u32_le("unk8")?,
            }),
            O::InitiateNetworkTest => ControlPayload::InitiateNetworkTest(InitiateNetworkTest {
                guid: r.array("guid")?,
            }),
            O::NetworkInformation => ControlPayload::NetworkInformation(NetworkInformation {
                guid: r.array("guid")?,
                unk4: r.u64_le("unk4")?,
                unk5: r.u8("unk5")?,
                unk6: r.f32_le("unk6")?,
            }),
            O::NetworkTestResponse => ControlPayload::NetworkTestResponse(NetworkTestResponse {
                guid: r.array("guid")?,
                unk3: r.f32_le("unk3")?,
                unk4: r.f32_le("unk4")?,
                unk5: r.f32_le("unk5")?,
                unk6: r.f32_le("unk6")?,
                unk7: r.f32_le("unk7")?,
                unk8: r.u64_le("unk8")?,
                unk9: r.u64_le("unk9")?,
                unk10: r.f32_le("unk10")?,
            }),
            O::ControllerEvent => ControlPayload::ControllerEvent(ControllerEvent {
                event: ControllerEventType::from_raw(r.u8("event")?),
                controller_num: r.u8("controller_num")?,
            }),
            O::Unknown(_) => ControlPayload::Unknown(r.rest().to_vec()),
        };
        Ok(p)
    }

    /// The opcode of a typed payload (`None` for [`ControlPayload::Unknown`]).
    pub fn opcode(&self) -> Option<ControlOpcode> {
        use ControlOpcode as O;
        Some(match self {
            ControlPayload::SessionInit(_) => O::SessionInit,
            ControlPayload::SessionCreate(_) => O::SessionCreate,
            ControlPayload::SessionCreateResponse(_) => O::SessionCreateResponse,
            ControlPayload::SessionDestroy(_) => O::SessionDestroy,
            ControlPayload::VideoStatistics(_) => O::VideoStatistics,
            ControlPayload::RealtimeTelemetry(_) => O::RealtimeTelemetry,
            ControlPayload::ChangeVideoQuality(_) => O::ChangeVideoQuality,
            ControlPayload::InitiateNetworkTest(_) => O::InitiateNetworkTest,
            ControlPayload::NetworkInformation(_) => O::NetworkInformation,
            ControlPayload::NetworkTestResponse(_) => O::NetworkTestResponse,
            ControlPayload::ControllerEvent(_) => O::ControllerEvent,
            ControlPayload::Unknown(_) => return None,
        })
    }

    /// Appends the payload (without header).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ControlPayload::SessionInit(p) => out.put_bytes(&p.unk3),
            ControlPayload::SessionCreate(p) => {
                out.put_bytes(&p.guid);
                put_prefixed(out, &p.unk3);
            }
            ControlPayload::SessionCreateResponse(p) => out.put_bytes(&p.guid),
            ControlPayload::SessionDestroy(p) => {
                out.put_f32_le(p.unk3);
                put_prefixed(out, &p.unk5);
            }
            ControlPayload::VideoStatistics(p) => {
                for v in [p.unk3, p.unk4, p.unk5, p.unk6, p.unk7, p.unk8] {
                    out.put_f32_le(v);
                }
            }
            ControlPayload::RealtimeTelemetry(p) => {
                // Entries beyond u16::MAX cannot be expressed; they are dropped.
                let n = p.data.len().min(usize::from(u16::MAX));
                out.put_u16_le(n as u16);
                for f in &p.data[..n] {
                    out.put_u16_le(f.key);
                    out.put_u64_le(f.value);
                }
            }
            ControlPayload::ChangeVideoQuality(p) => {
                for v in [p.unk3, p.unk4, p.unk5, p.unk6, p.unk7, p.unk8] {
                    out.put_u32_le(v);
                }
            }
            ControlPayload::InitiateNetworkTest(p) => out.put_bytes(&p.guid),
            ControlPayload::NetworkInformation(p) => {
                out.put_bytes(&p.guid);
                out.put_u64_le(p.unk4);
                out.put_u8(p.unk5);
                out.put_f32_le(p.unk6);
            }
            ControlPayload::NetworkTestResponse(p) => {
                out.put_bytes(&p.guid);
                for v in [p.unk3, p.unk4, p.unk5, p.unk6, p.unk7] {
                    out.put_f32_le(v);
                }
                out.put_u64_le(p.unk8);
                out.put_u64_le(p.unk9);
                out.put_f32_le(p.unk10);
            }
            ControlPayload::ControllerEvent(p) => {
                out.put_u8(p.event.raw());
                out.put_u8(p.controller_num);
            }
            ControlPayload::Unknown(b) => out.put_bytes(b),
        }
    }
}

/// A Control Protocol message: header and payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlMessage {
    /// Header.
    pub header: ControlHeader,
    /// Payload.
    pub payload: ControlPayload,
}

impl ControlMessage {
    /// Builds a message whose header opcode matches the payload.
    pub fn new(prev_seq_dup: u32, unk1: u16, unk2: u16, payload: ControlPayload) -> Self {
        let opcode = payload.opcode().unwrap_or(ControlOpcode::Unknown(0));
        ControlMessage {
            header: ControlHeader {
                prev_seq_dup,
                unk1,
                unk2,
                opcode,
            },
            payload,
        }
    }

    /// Decodes a whole message (padding already stripped). Trailing bytes
    /// after a fixed-layout payload are an error.
    pub fn decode(buf: &[u8]) -> Result<Self, WireError> {
        let mut r = Reader::new(buf, "ControlHeader");
        let header = ControlHeader::decode(&mut r)?;
        r.packet(match header.opcode {
            ControlOpcode::Unknown(_) => "ControlMessage",
            o => o.name(),
        });
        let payload = ControlPayload::decode(header.opcode, &mut r)?;
        r.finish()?;
        Ok(ControlMessage { header, payload })
    }

    /// Appends the message. A typed payload's own opcode is written.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let opcode = self.payload.opcode().unwrap_or(self.header.opcode);
        self.header.encode_with(opcode, out);
        self.payload.encode(out);
    }
}
