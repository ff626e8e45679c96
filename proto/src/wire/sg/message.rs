//! SmartGlass messages (packet type 0xD00D; reference `packet/message.py`).
//!
//! Layout: a 26-byte header, the protected payload encrypted with
//! AES-128-CBC (PKCS#7-padded to 16 bytes, no padding block when aligned),
//! then HMAC-SHA256 over header + ciphertext. The IV is the first 16 header
//! bytes encrypted with the IV key ([`Crypto::message_iv`]), so the header
//! (including the protected payload length) must be final before encrypting.
//!
//! Header flags (u16 BE; the published notes' mask table is reversed, a
//! captured ack reads 0x8001, see
//! docs/protocol.md#overrule-smartglass-header-flags): version = top two
//! bits, need-ack 0x2000, is-fragment 0x1000, message type = low 12 bits.
//!
//! A payload-less message (protected length 0) is sent as header + HMAC
//! (the reference would send the bare header, unsigned; we never accept
//! unsigned messages).

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use super::common::PacketType;
use super::payloads::{Fragment, MessagePayload, MessageType};
use crate::crypto::{padding_len, Crypto, TAG_LEN};
use crate::wire::{Put, Reader, WireError};

const P: &str = "message";

/// Header length in bytes.
pub const HEADER_LEN: usize = 26;

/// The header flags word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MessageFlags {
    /// Version (top two bits; 2 in practice, 0 seen in a local join).
    pub version: u8,
    /// The sender wants an acknowledgement.
    pub need_ack: bool,
    /// The payload is a [`Fragment`].
    pub is_fragment: bool,
    /// Message type (low 12 bits).
    pub msg_type: MessageType,
}

impl MessageFlags {
    /// Unpacks the u16.
    pub fn from_raw(v: u16) -> MessageFlags {
        MessageFlags {
            version: (v >> 14) as u8,
            need_ack: v & 0x2000 != 0,
            is_fragment: v & 0x1000 != 0,
            msg_type: MessageType::from_raw(v & 0x0FFF),
        }
    }

    /// Packs the u16 (version and type are masked to their widths).
    pub fn raw(&self) -> u16 {
        (((self.version & 0x3) as u16) << 14)
            | if self.need_ack { 0x2000 } else { 0 }
            | if self.is_fragment { 0x1000 } else { 0 }
            | (self.msg_type.raw() & 0x0FFF)
    }
}

/// The 26-byte message header.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageHeader {
    /// Always [`PacketType::Message`].
    pub pkt_type: PacketType,
    /// Plaintext payload length (before padding); recomputed on encode.
    pub protected_payload_length: u16,
    /// Sequence number.
    pub sequence_number: u32,
    /// Receiver's participant id (0 = console).
    pub target_participant_id: u32,
    /// Sender's participant id.
    pub source_participant_id: u32,
    /// Flags.
    pub flags: MessageFlags,
    /// Channel id.
    pub channel_id: u64,
}

impl MessageHeader {
    /// A version-2 header.
    pub fn new(
        msg_type: MessageType,
        sequence_number: u32,
        target_participant_id: u32,
        source_participant_id: u32,
        channel_id: u64,
        need_ack: bool,
    ) -> MessageHeader {
        MessageHeader {
            pkt_type: PacketType::Message,
            protected_payload_length: 0,
            sequence_number,
            target_participant_id,
            source_participant_id,
            flags: MessageFlags {
                version: 2,
                need_ack,
                is_fragment: false,
                msg_type,
            },
            channel_id,
        }
    }

    /// Decodes the header.
    pub fn decode(r: &mut Reader<'_>) -> Result<MessageHeader, WireError> {
        let pkt_type = PacketType::from_raw(r.u16_be("pkt_type")?);
        if pkt_type != PacketType::Message {
            return Err(r.invalid(
                "pkt_type",
                format!("0x{:04x} is not 0xD00D", pkt_type.raw()),
            ));
        }
        Ok(MessageHeader {
            pkt_type,
            protected_payload_length: r.u16_be("protected_payload_length")?,
            sequence_number: r.u32_be("sequence_number")?,
            target_participant_id: r.u32_be("target_participant_id")?,
            source_participant_id: r.u32_be("source_participant_id")?,
            flags: MessageFlags::from_raw(r.u16_be("flags")?),
            channel_id: r.u64_be("channel_id")?,
        })
    }

    /// Encodes the header as it stands.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16_be(PacketType::Message.raw());
        out.put_u16_be(self.protected_payload_length);
        out.put_u32_be(self.sequence_number);
        out.put_u32_be(self.target_participant_id);
        out.put_u32_be(self.source_participant_id);
        out.put_u16_be(self.flags.raw());
        out.put_u64_be(self.channel_id);
    }
}

/// A decoded message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    /// Header.
    pub header: MessageHeader,
    /// Payload (decrypted).
    #[serde(rename = "protected_payload")]
    pub payload: MessagePayload,
}

impl Message {
    /// A message with a version-2 header whose type is the payload's.
    /// For [`MessagePayload::Fragment`] / [`MessagePayload::Unknown`] use
    /// [`Message::with_type`].
    pub fn new(
        payload: MessagePayload,
        sequence_number: u32,
        target_participant_id: u32,
        source_participant_id: u32,
        channel_id: u64,
        need_ack: bool,
    ) -> Message {
        let t = payload.msg_type().unwrap_or(MessageType::Null);
        Message::with_type(
            t,
            payload,
            sequence_number,
            target_participant_id,
            source_participant_id,
            channel_id,
            need_ack,
        )
    }

    /// A message with an explicit type (fragments, unknown payloads).
    pub fn with_type(
        msg_type: MessageType,
        payload: MessagePayload,
        sequence_number: u32,
        target_participant_id: u32,
        source_participant_id: u32,
        channel_id: u64,
        need_ack: bool,
    ) -> Message {
        let mut header = MessageHeader::new(
            msg_type,
            sequence_number,
            target_participant_id,
            source_participant_id,
            channel_id,
            need_ack,
        );
        header.flags.is_fragment = matches!(payload, MessagePayload::Fragment(_));
        Message { header, payload }
    }

    /// Checks the HMAC (failure: [`WireError::Crypto`] naming `message`),
    /// decrypts and decodes. Fragments come back as
    /// [`MessagePayload::Fragment`] for a [`FragmentReassembler`].
    pub fn decode(buf: &[u8], crypto: &Crypto) -> Result<Message, WireError> {
        let (header, plain) = Self::open(buf, crypto)?;
        let payload = if header.flags.is_fragment {
            MessagePayload::Fragment(Fragment::decode(&plain)?)
        } else {
            MessagePayload::decode(header.flags.msg_type, &plain)?
        };
        Ok(Message { header, payload })
    }

    /// Checks the HMAC and decrypts; returns the header and the plaintext
    /// payload (exactly `protected_payload_length` bytes).
    pub fn open(buf: &[u8], crypto: &Crypto) -> Result<(MessageHeader, Vec<u8>), WireError> {
        let mut r = Reader::new(buf, P);
        let header = MessageHeader::decode(&mut r)?;
        let plen = header.protected_payload_length as usize;
        let ct = r.bytes(plen + padding_len(plen), "protected_payload")?;
        r.bytes(TAG_LEN, "hmac")?;
        r.finish()?;
        crypto.verify_packet(P, buf)?;
        let mut first = [0u8; 16];
        first.copy_from_slice(&buf[..16]);
        let iv = crypto.message_iv(&first);
        let mut plain = crypto.decrypt(P, &iv, ct)?;
        plain.truncate(plen);
        Ok((header, plain))
    }

    /// Encrypts and signs. The protected payload length is computed; the
    /// fragment flag must match the payload, and a typed payload must match
    /// the header's message type.
    pub fn encode(&self, crypto: &Crypto, out: &mut Vec<u8>) -> Result<(), WireError> {
        let mut plain = Vec::new();
        self.payload.encode(&mut plain)?;
        let is_frag = matches!(self.payload, MessagePayload::Fragment(_));
        if is_frag != self.header.flags.is_fragment {
            return Err(WireError::invalid(
                P,
                "flags",
                "is_fragment does not match the payload",
            ));
        }
        if let Some(t) = self.payload.msg_type() {
            if t != self.header.flags.msg_type {
                return Err(WireError::invalid(
                    P,
                    "flags",
                    format!(
                        "msg_type {} does not match the payload ({})",
                        self.header.flags.msg_type.name(),
                        t.name()
                    ),
                ));
            }
        }
        seal(&self.header, &plain, crypto, out)
    }

    /// Encodes into a new vector.
    pub fn to_bytes(&self, crypto: &Crypto) -> Result<Vec<u8>, WireError> {
        let mut v = Vec::new();
        self.encode(crypto, &mut v)?;
        Ok(v)
    }
}

/// Encrypts and signs a plaintext payload under `header` (its protected
/// length is replaced by the payload's).
pub fn seal(
    header: &MessageHeader,
    plain: &[u8],
    crypto: &Crypto,
    out: &mut Vec<u8>,
) -> Result<(), WireError> {
    let mut h = header.clone();
    h.protected_payload_length = u16::try_from(plain.len())
        .map_err(|_| WireError::invalid(P, "protected_payload", "longer than 65535 bytes"))?;
    let start = out.len();
    h.encode(out);
    let mut first = [0u8; 16];
    first.copy_from_slice(&out[start..start + 16]);
    let iv = crypto.message_iv(&first);
    let ct = crypto.encrypt(&iv, plain);
    out.put_bytes(&ct);
    let tag = crypto.sign(&out[start..]);
    out.put_bytes(&tag);
    Ok(())
}

/// Most fragments one message may be split into.
pub const MAX_FRAGMENTS: u32 = 256;

#[derive(Debug)]
struct FragGroup {
    begin: u32,
    end: u32,
    msg_type: MessageType,
    parts: BTreeMap<u32, Vec<u8>>,
    bytes: usize,
}

/// Reassembles fragmented messages with bounded memory: at most `max_bytes`
/// buffered in all (the oldest incomplete sets are dropped first) and at
/// most [`MAX_FRAGMENTS`] pieces per message.
#[derive(Debug)]
pub struct FragmentReassembler {
    groups: VecDeque<FragGroup>,
    max_bytes: usize,
    buffered: usize,
}

impl Default for FragmentReassembler {
    fn default() -> Self {
        FragmentReassembler::new(1 << 20)
    }
}

impl FragmentReassembler {
    /// A reassembler buffering at most `max_bytes`.
    pub fn new(max_bytes: usize) -> FragmentReassembler {
        FragmentReassembler {
            groups: VecDeque::new(),
            max_bytes,
            buffered: 0,
        }
    }

    /// Bytes currently buffered.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Incomplete messages currently held.
    pub fn pending(&self) -> usize {
        self.groups.len()
    }

    /// Adds a fragment received in a message with `header`. Returns the
    /// message type and whole payload once every piece is in. A duplicate
    /// piece replaces the earlier copy.
    pub fn push(
        &mut self,
        header: &MessageHeader,
        frag: &Fragment,
    ) -> Result<Option<(MessageType, Vec<u8>)>, WireError> {
        const F: &str = "fragment";
        let (b, e, seq) = (
            frag.sequence_begin,
            frag.sequence_end,
            header.sequence_number,
        );
        if e <= b {
            return Err(WireError::invalid(
                F,
                "sequence_end",
                "not after sequence_begin",
            ));
        }
        if e - b > MAX_FRAGMENTS {
            return Err(WireError::invalid(F, "sequence_end", "too many fragments"));
        }
        if seq < b || seq >= e {
            return Err(WireError::invalid(
                F,
                "sequence_number",
                "outside sequence_begin..sequence_end",
            ));
        }
        if frag.data.len() > self.max_bytes {
            return Err(WireError::invalid(
                F,
                "data",
                "larger than the reassembly buffer",
            ));
        }
        let msg_type = header.flags.msg_type;
        let idx = match self
            .groups
            .iter()
            .position(|g| g.begin == b && g.end == e && g.msg_type == msg_type)
        {
            Some(i) => i,
            None => {
                self.groups.push_back(FragGroup {
                    begin: b,
                    end: e,
                    msg_type,
                    parts: BTreeMap::new(),
                    bytes: 0,
                });
                self.groups.len() - 1
            }
        };
        let g = &mut self.groups[idx];
        if let Some(old) = g.parts.insert(seq, frag.data.clone()) {
            g.bytes -= old.len();
            self.buffered -= old.len();
        }
        g.bytes += frag.data.len();
        self.buffered += frag.data.len();
        if g.bytes > self.max_bytes {
            let g = self.groups.remove(idx).expect("index is valid");
            self.buffered -= g.bytes;
            return Err(WireError::invalid(
                F,
                "data",
                "message larger than the reassembly buffer",
            ));
        }
        if g.parts.len() as u32 == e - b {
            let g = self.groups.remove(idx).expect("index is valid");
            self.buffered -= g.bytes;
            let mut out = Vec::with_capacity(g.bytes);
            for (_, p) in g.parts {
                out.extend_from_slice(&p);
            }
            return Ok(Some((msg_type, out)));
        }
        // Evict the oldest other sets while over budget.
        let mut i = 0;
        while self.buffered > self.max_bytes && i < self.groups.len() {
            let g = &self.groups[i];
            if g.begin == b && g.end == e && g.msg_type == msg_type {
                i += 1;
                continue;
            }
            let g = self.groups.remove(i).expect("index is valid");
            self.buffered -= g.bytes;
        }
        Ok(None)
    }

    /// Like [`FragmentReassembler::push`], then decodes the whole payload.
    pub fn push_decode(
        &mut self,
        header: &MessageHeader,
        frag: &Fragment,
    ) -> Result<Option<MessagePayload>, WireError> {
        match self.push(header, frag)? {
            Some((t, data)) => Ok(Some(MessagePayload::decode(t, &data)?)),
            None => Ok(None),
        }
    }
}
