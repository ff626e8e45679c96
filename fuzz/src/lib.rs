//! Helpers shared by the xnano fuzz targets (`fuzz_targets/*.rs`).
//!
//! Targets read their input with [`Input`], a cursor that never fails: past
//! the end it yields zeros / empty slices, so every byte string is a valid
//! program of operations.

use std::time::{Duration, Instant};

use xnano_proto::crypto::Crypto;
use xnano_proto::wire::nano::ChannelClass;

/// A cursor over the fuzzer's bytes that never fails.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    /// A cursor over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }

    /// True when every byte was consumed.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    /// One byte (0 past the end).
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos = self.pos.saturating_add(1);
        b
    }

    /// A little-endian u16.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// A bool.
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// Up to `n` bytes (fewer at the end).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = start.saturating_add(n).min(self.data.len());
        self.pos = self.pos.saturating_add(n);
        &self.data[start..end]
    }

    /// A length-prefixed (u16) slice, the length capped at `max`.
    pub fn blob(&mut self, max: usize) -> &'a [u8] {
        let n = usize::from(self.u16()) % (max + 1);
        self.bytes(n)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        self.pos = self.data.len();
        &self.data[start..]
    }
}

/// Every channel class a decoder can be told about, and "unknown" (`None`).
pub fn all_classes() -> Vec<Option<ChannelClass>> {
    let mut v: Vec<Option<ChannelClass>> = vec![None];
    v.extend(ChannelClass::ALL.iter().cloned().map(Some));
    v.push(Some(ChannelClass::Unknown("fuzz".into())));
    v
}

/// The shared secret of the captured SmartGlass session (vectors README).
pub const VECTOR_SECRET_HEX: &str = "82bba514e6d19521114940bd65121af234c53654a8e67add7710b3725db44f7730ed8e3da7015a09fe0f08e9bef3853c0506327eb77c9951769d923d863a2f5e";

/// The crypto context of the captured SmartGlass session, so the vectors
/// (the seed corpus) decrypt.
pub fn vector_crypto() -> Crypto {
    let b = hex::decode(VECTOR_SECRET_HEX).expect("hex literal");
    let mut s = [0u8; 64];
    s.copy_from_slice(&b);
    Crypto::from_shared_secret(&s)
}

/// A fuzz-controlled clock: starts at a real instant and only moves forward.
pub struct Clock {
    now: Instant,
}

impl Default for Clock {
    fn default() -> Self {
        Clock {
            now: Instant::now(),
        }
    }
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Moves forward by `ms` milliseconds.
    pub fn advance_ms(&mut self, ms: u64) -> Instant {
        self.now += Duration::from_millis(ms);
        self.now
    }

    /// Moves forward by `us` microseconds.
    pub fn advance_us(&mut self, us: u64) -> Instant {
        self.now += Duration::from_micros(us);
        self.now
    }
}

/// True when `b` comes after `a` in wrapping u32 order.
pub fn after(a: u32, b: u32) -> bool {
    (b.wrapping_sub(a) as i32) > 0
}

use xnano_proto::wire::nano::framing::encode_frame;
use xnano_proto::wire::nano::{NanoPacket, NanoPayload};
use xnano_proto::wire::nano::rtp::RtpHeader;
use xnano_proto::wire::nano::streamer::{StreamerBody, StreamerMessage};

/// A whole Nano packet on `channel_id` of connection `connection_id`.
pub fn packet(connection_id: u16, channel_id: u16, payload: NanoPayload) -> Vec<u8> {
    NanoPacket {
        header: RtpHeader {
            connection_id,
            channel_id,
            ..RtpHeader::default()
        },
        payload,
    }
    .to_bytes()
}

/// A length-framed TCP packet (connection id 0).
pub fn tcp_packet(channel_id: u16, payload: NanoPayload) -> Vec<u8> {
    let mut out = Vec::new();
    encode_frame(&packet(0, channel_id, payload), &mut out);
    out
}

/// A streamer payload with TCP-style sequence numbers.
pub fn streamer(seq: u32, body: StreamerBody) -> NanoPayload {
    NanoPayload::Streamer(StreamerMessage::new(
        0x03,
        Some((seq, seq.wrapping_sub(1))),
        body,
    ))
}

/// The channel ids the simulated console gives Video, Audio, ChatAudio,
/// Control, Input and InputFeedback (as captured).
pub const CHANNEL_IDS: [u16; 6] = [1024, 1025, 1026, 1027, 1028, 1029];

/// Bytes of a test frame: a function of (frame id, position).
pub fn byte_at(frame_id: u32, pos: usize) -> u8 {
    (frame_id.wrapping_mul(131) as usize ^ pos.wrapping_mul(7) ^ (pos >> 8)) as u8
}
