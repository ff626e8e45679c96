//! The RTP-like header in front of every Nano packet, and Nano's ANSI X.923
//! padding (docs/protocol.md#rtp-header and docs/protocol.md#padding).
//!
//! The header is big-endian. Its SSRC is split in two: the high 16 bits are
//! the connection id (0 on TCP), the low 16 bits the channel id (captured
//! `udp_video_data`: SSRC bytes `8b d3 04 00` = connection 35795, channel 1024).

use serde::Serialize;

use crate::wire::{Put, Reader, WireError};

crate::wire_enum! {
    /// RTP payload type: which kind of Nano packet follows the header.
    #[allow(clippy::upper_case_acronyms)]
    pub enum PayloadType: u8 {
        /// Streamer data of a channel (video, audio, input, control protocol).
        Streamer = 0x23,
        /// TCP control handshake (connection ids).
        Control = 0x60,
        /// Channel create / open / close.
        ChannelControl = 0x61,
        /// UDP handshake (tells the console the client's UDP port).
        UDPHandshake = 0x64,
    }
}

/// The fixed part of the header, in bytes.
pub const RTP_HEADER_SIZE: usize = 12;

/// Padding alignment used by Nano.
pub const PAD_ALIGN: usize = 4;

/// The RTP header of a Nano packet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RtpHeader {
    /// Version (2 bits); always 2 in practice, but kept as read.
    pub version: u8,
    /// P bit: the payload ends with ANSI X.923 padding. On encode the packet
    /// encoder ([`crate::wire::nano::packet::NanoPacket::encode`]) sets it itself.
    pub padding: bool,
    /// X bit; Nano does not use header extensions and none is parsed.
    pub extension: bool,
    /// CSRC count (4 bits). On encode the length of `csrc_list` is written.
    pub csrc_count: u8,
    /// M bit.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: PayloadType,
    /// Sequence number, per channel.
    pub sequence_num: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// High 16 bits of the SSRC: connection id (0 on TCP).
    pub connection_id: u16,
    /// Low 16 bits of the SSRC: channel id.
    pub channel_id: u16,
    /// Contributing sources (unused by Nano).
    pub csrc_list: Vec<u32>,
}

impl Default for RtpHeader {
    fn default() -> Self {
        RtpHeader {
            version: 2,
            padding: false,
            extension: false,
            csrc_count: 0,
            marker: false,
            payload_type: PayloadType::Streamer,
            sequence_num: 0,
            timestamp: 0,
            connection_id: 0,
            channel_id: 0,
            csrc_list: Vec::new(),
        }
    }
}

impl RtpHeader {
    /// Decodes a datagram's header and returns it with the payload, padding
    /// removed: the one header decode a receiver makes before it dispatches
    /// the payload by channel.
    pub fn split(buf: &[u8]) -> Result<(RtpHeader, &[u8]), WireError> {
        let mut r = Reader::new(buf, "RtpHeader");
        let header = RtpHeader::decode(&mut r)?;
        let mut body = r.rest();
        if header.padding {
            body = strip_padding(body)?;
        }
        Ok((header, body))
    }

    /// Decodes the header from the reader (big-endian).
    pub fn decode(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let prev = r.packet("RtpHeader");
        let b0 = r.u8("flags")?;
        let b1 = r.u8("payload_type")?;
        let sequence_num = r.u16_be("sequence_num")?;
        let timestamp = r.u32_be("timestamp")?;
        let connection_id = r.u16_be("connection_id")?;
        let channel_id = r.u16_be("channel_id")?;
        let csrc_count = b0 & 0x0f;
        let n = r.count(u64::from(csrc_count), 4, "csrc_list")?;
        let mut csrc_list = Vec::with_capacity(n);
        for _ in 0..n {
            csrc_list.push(r.u32_be("csrc_list")?);
        }
        r.packet(prev);
        Ok(RtpHeader {
            version: b0 >> 6,
            padding: b0 & 0x20 != 0,
            extension: b0 & 0x10 != 0,
            csrc_count,
            marker: b1 & 0x80 != 0,
            payload_type: PayloadType::from_raw(b1 & 0x7f),
            sequence_num,
            timestamp,
            connection_id,
            channel_id,
            csrc_list,
        })
    }

    /// Appends the header. Writes `padding` as given, at most 15 CSRCs (the
    /// count field has 4 bits) with their count, and only the low 7 bits of
    /// the payload type.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let n = self.csrc_list.len().min(15);
        let b0 = ((self.version & 0x03) << 6)
            | (u8::from(self.padding) << 5)
            | (u8::from(self.extension) << 4)
            | n as u8;
        out.put_u8(b0);
        out.put_u8((u8::from(self.marker) << 7) | (self.payload_type.raw() & 0x7f));
        out.put_u16_be(self.sequence_num);
        out.put_u32_be(self.timestamp);
        out.put_u16_be(self.connection_id);
        out.put_u16_be(self.channel_id);
        for c in &self.csrc_list[..n] {
            out.put_u32_be(*c);
        }
    }

    /// The SSRC as one value (connection id in the high 16 bits).
    pub fn ssrc(&self) -> u32 {
        (u32::from(self.connection_id) << 16) | u32::from(self.channel_id)
    }
}

/// Number of padding bytes needed to align `len` to [`PAD_ALIGN`] (0..=3).
pub fn padding_len(len: usize) -> usize {
    (PAD_ALIGN - len % PAD_ALIGN) % PAD_ALIGN
}

/// Appends ANSI X.923 padding so that `out[payload_start..]` becomes a
/// multiple of 4 bytes: zeros, then one byte holding the count. Returns the
/// number of bytes added (0 when already aligned).
pub fn pad(out: &mut Vec<u8>, payload_start: usize) -> usize {
    let n = padding_len(out.len().saturating_sub(payload_start));
    if n > 0 {
        out.resize(out.len() + n - 1, 0);
        out.push(n as u8);
    }
    n
}

/// Strips ANSI X.923 padding from a payload whose header has the P bit set.
///
/// The last byte is the padding count; it must be at least 1 and at most the
/// payload length. The filler bytes are not checked (consoles send zeros).
pub fn strip_padding(payload: &[u8]) -> Result<&[u8], WireError> {
    let Some(&count) = payload.last() else {
        return Err(WireError::invalid(
            "RtpPadding",
            "padding",
            "P bit set but the payload is empty",
        ));
    };
    let count = usize::from(count);
    if count == 0 {
        return Err(WireError::invalid(
            "RtpPadding",
            "padding",
            "P bit set but the padding count is 0",
        ));
    }
    if count > payload.len() {
        return Err(WireError::invalid(
            "RtpPadding",
            "padding",
            format!(
                "padding count {count} exceeds the payload length {}",
                payload.len()
            ),
        ));
    }
    Ok(&payload[..payload.len() - count])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pad_and_strip() {
        let mut v = vec![0xde, 0xad, 0xbe, 0xef, 0xde, 0xad, 0xbe, 0xef, 0xde];
        assert_eq!(pad(&mut v, 0), 3);
        assert_eq!(&v[9..], &[0, 0, 3]);
        assert_eq!(strip_padding(&v).unwrap().len(), 9);
        let mut w = vec![1, 2, 3, 4];
        assert_eq!(pad(&mut w, 0), 0);
        assert_eq!(w.len(), 4);
    }

    #[test]
    fn bad_padding_rejected() {
        assert!(strip_padding(&[]).is_err());
        assert!(strip_padding(&[1, 2, 0]).is_err());
        assert!(strip_padding(&[1, 4]).is_err());
        assert_eq!(strip_padding(&[2, 2]).unwrap(), &[] as &[u8]);
    }

    #[test]
    fn header_round_trip_and_ssrc_split() {
        let b = [0xa0, 0x23, 0x00, 0x01, 0, 0, 0, 0, 0x8b, 0xd3, 0x04, 0x00];
        let h = RtpHeader::decode(&mut Reader::new(&b, "t")).unwrap();
        assert_eq!(h.connection_id, 35795);
        assert_eq!(h.channel_id, 1024);
        assert!(h.padding);
        assert_eq!(h.version, 2);
        assert_eq!(h.payload_type, PayloadType::Streamer);
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out, b);
    }
}
