//! Nano TCP framing: every packet is preceded by its length as a uint32
//! little-endian. Several packets may arrive in one read and one packet may be
//! split across reads; [`TcpDeframer`] handles both.

use crate::wire::WireError;

/// The largest Nano TCP packet accepted by default (1 MiB). Control-socket
/// packets are small; a larger length is treated as hostile.
pub const DEFAULT_MAX_PACKET: usize = 1 << 20;

/// Appends one length-prefixed packet to `out`.
pub fn encode_frame(packet: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(packet.len() as u32).to_le_bytes());
    out.extend_from_slice(packet);
}

/// Incremental splitter for the Nano TCP stream.
#[derive(Debug)]
pub struct TcpDeframer {
    buf: Vec<u8>,
    start: usize,
    max_packet: usize,
    failed: bool,
}

impl Default for TcpDeframer {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_PACKET)
    }
}

impl TcpDeframer {
    /// A deframer that rejects packets longer than `max_packet`.
    pub fn new(max_packet: usize) -> Self {
        TcpDeframer {
            buf: Vec::new(),
            start: 0,
            max_packet,
            failed: false,
        }
    }

    /// Feeds bytes read from the socket.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        } else if self.start > 4096 && self.start * 2 > self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes buffered but not yet returned as packets.
    pub fn pending(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete packet, `Ok(None)` when more bytes are needed, or an
    /// error for a hostile length (after which the stream cannot be resynchronised
    /// and every later call fails too).
    pub fn next_packet(&mut self) -> Result<Option<&[u8]>, WireError> {
        if self.failed {
            return Err(WireError::invalid(
                "TcpFrame",
                "length",
                "stream desynchronised by an earlier bad length",
            ));
        }
        let avail = &self.buf[self.start..];
        if avail.len() < 4 {
            return Ok(None);
        }
        let len = u32::from_le_bytes([avail[0], avail[1], avail[2], avail[3]]) as usize;
        if len > self.max_packet {
            self.failed = true;
            return Err(WireError::invalid(
                "TcpFrame",
                "length",
                format!("{len} exceeds the limit of {}", self.max_packet),
            ));
        }
        if avail.len() < 4 + len {
            return Ok(None);
        }
        let s = self.start + 4;
        self.start = s + len;
        Ok(Some(&self.buf[s..s + len]))
    }
}

/// Splits a whole buffer of length-prefixed packets (e.g. a file) into packets.
pub fn split_all(data: &[u8]) -> Result<Vec<&[u8]>, WireError> {
    let mut out = Vec::new();
    let mut r = crate::wire::Reader::new(data, "TcpFrame");
    while !r.is_empty() {
        let len = r.u32_le("length")? as usize;
        out.push(r.bytes(len, "packet")?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_across_reads_and_stacked() {
        let mut wire = Vec::new();
        encode_frame(b"hello", &mut wire);
        encode_frame(b"", &mut wire);
        encode_frame(&[7u8; 300], &mut wire);
        let mut d = TcpDeframer::default();
        let mut got: Vec<Vec<u8>> = Vec::new();
        for chunk in wire.chunks(3) {
            d.push(chunk);
            while let Some(p) = d.next_packet().unwrap() {
                got.push(p.to_vec());
            }
        }
        assert_eq!(got, vec![b"hello".to_vec(), vec![], vec![7u8; 300]]);
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn hostile_length_rejected() {
        let mut d = TcpDeframer::new(1000);
        d.push(&u32::MAX.to_le_bytes());
        let e = d.next_packet().unwrap_err();
        assert_eq!(e.field(), "length");
        assert!(d.next_packet().is_err());
    }

    #[test]
    fn split_all_truncated() {
        let mut wire = Vec::new();
        encode_frame(b"abc", &mut wire);
        wire.extend_from_slice(&10u32.to_le_bytes());
        wire.push(1);
        assert!(split_all(&wire).is_err());
        assert_eq!(split_all(&wire[..7]).unwrap(), vec![&b"abc"[..]]);
    }
}
