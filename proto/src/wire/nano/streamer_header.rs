//! The streamer header (docs/protocol.md#streamer-header): flags, the
//! optional sequence numbers and the payload type, in front of every channel
//! payload. Its own module: the payload codecs read it as well.

use serde::Serialize;

use crate::wire::{Put, Reader, WireError};

/// Streamer flag: sequence and previous sequence numbers follow.
pub const STREAMER_FLAG_SEQ: u32 = 0x01;
/// Streamer flag 0x02 (meaning unknown; set on TCP).
pub const STREAMER_FLAG_02: u32 = 0x02;

/// The streamer header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StreamerHeader {
    /// Flags (the reference calls this field `streamer_version`). On encode,
    /// bit 0x01 is set from the presence of the sequence numbers.
    pub flags: u32,
    /// Sequence number (present iff flag 0x01).
    pub sequence_num: Option<u32>,
    /// Previous sequence number (present iff flag 0x01).
    pub prev_sequence_num: Option<u32>,
    /// Streamer payload type (0 = Control Protocol, no length prefix). For
    /// typed bodies the encoder writes the body's own type.
    #[serde(rename = "type")]
    pub payload_type: u32,
}

impl StreamerHeader {
    /// Decodes the header (without the payload length).
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let prev = r.packet("StreamerHeader");
        let flags = r.u32_le("flags")?;
        let (sequence_num, prev_sequence_num) = if flags & STREAMER_FLAG_SEQ != 0 {
            (
                Some(r.u32_le("sequence_num")?),
                Some(r.u32_le("prev_sequence_num")?),
            )
        } else {
            (None, None)
        };
        let payload_type = r.u32_le("type")?;
        r.packet(prev);
        Ok(StreamerHeader {
            flags,
            sequence_num,
            prev_sequence_num,
            payload_type,
        })
    }

    /// Appends the header with the given payload type. Missing sequence
    /// numbers are written as 0 when the other one is present.
    pub fn encode_with(&self, payload_type: u32, out: &mut Vec<u8>) {
        let has_seq = self.sequence_num.is_some() || self.prev_sequence_num.is_some();
        let flags = (self.flags & !STREAMER_FLAG_SEQ) | u32::from(has_seq);
        out.put_u32_le(flags);
        if has_seq {
            out.put_u32_le(self.sequence_num.unwrap_or(0));
            out.put_u32_le(self.prev_sequence_num.unwrap_or(0));
        }
        out.put_u32_le(payload_type);
    }
}
