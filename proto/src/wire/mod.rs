//! Sans-IO codecs for every packet xnano speaks.
//!
//! One module per protocol ([`nano`], [`sg`]), one file per packet family
//! inside it. Every decoder takes untrusted bytes and returns
//! `Result<T, WireError>`; it never panics, never reads past the end and never
//! allocates more than the input can justify (a count read from the wire is
//! checked against the bytes that remain before anything is allocated).
//! Every encoder appends to a `Vec<u8>`.
//!
//! Byte order: the RTP header and all SmartGlass structures are big-endian;
//! Nano payloads behind the RTP header are little-endian.

use std::fmt;

// Nano (docs/protocol.md#nano): TCP framing, the RTP header and padding,
// core packets, streamer framing and the payloads of each channel class.
pub mod nano;

// SmartGlass (docs/protocol.md#smartglass).
pub mod sg;

/// A decoding error: names the packet and the field where decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// The input ended before a field could be read.
    #[error("{packet}: truncated at {field}: need {need} bytes, {have} left")]
    Truncated {
        /// The packet (structure) being decoded.
        packet: &'static str,
        /// The field being read.
        field: &'static str,
        /// Bytes the field needs.
        need: usize,
        /// Bytes that were left.
        have: usize,
    },
    /// A field holds a value that cannot be accepted.
    #[error("{packet}: invalid {field}: {reason}")]
    Invalid {
        /// The packet (structure) being decoded.
        packet: &'static str,
        /// The offending field.
        field: &'static str,
        /// Why it was rejected.
        reason: String,
    },
    /// Bytes were left over after a fixed-size structure.
    #[error("{packet}: {extra} unexpected trailing bytes")]
    Trailing {
        /// The packet (structure) being decoded.
        packet: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
    /// Authentication (HMAC) or decryption failed.
    #[error("{packet}: {reason}")]
    Crypto {
        /// The packet being decrypted or verified.
        packet: &'static str,
        /// What failed.
        reason: &'static str,
    },
}

impl WireError {
    /// The packet (structure) named by this error.
    pub fn packet(&self) -> &'static str {
        match self {
            WireError::Truncated { packet, .. }
            | WireError::Invalid { packet, .. }
            | WireError::Trailing { packet, .. }
            | WireError::Crypto { packet, .. } => packet,
        }
    }

    /// The field named by this error (`"trailing"` / `"hmac"` where no field applies).
    pub fn field(&self) -> &'static str {
        match self {
            WireError::Truncated { field, .. } | WireError::Invalid { field, .. } => field,
            WireError::Trailing { .. } => "trailing",
            WireError::Crypto { .. } => "protected_payload",
        }
    }

    /// Shorthand for [`WireError::Invalid`].
    pub fn invalid(packet: &'static str, field: &'static str, reason: impl Into<String>) -> Self {
        WireError::Invalid {
            packet,
            field,
            reason: reason.into(),
        }
    }
}

// The serde text helpers (hex, GUIDs) live beside the codecs' users.
pub(crate) use crate::text::{hexbytes, uuid_text};

impl From<crate::crypto::CryptoError> for WireError {
    fn from(e: crate::crypto::CryptoError) -> Self {
        use crate::crypto::CryptoError;
        match e {
            CryptoError::Failed { packet, reason } => WireError::Crypto { packet, reason },
            CryptoError::Truncated {
                packet,
                field,
                need,
                have,
            } => WireError::Truncated {
                packet,
                field,
                need,
                have,
            },
            CryptoError::Certificate { field, reason } => WireError::Invalid {
                packet: "certificate",
                field,
                reason,
            },
        }
    }
}

/// A bounds-checked cursor over untrusted bytes.
///
/// Every read names the packet (set once at construction, changeable with
/// [`Reader::packet`]) and the field, so errors say exactly where input ended.
#[derive(Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    packet: &'static str,
}

macro_rules! read_int {
    ($name:ident, $ty:ty, $from:ident) => {
        #[doc = concat!("Reads a `", stringify!($ty), "` (", stringify!($from), ").")]
        pub fn $name(&mut self, field: &'static str) -> Result<$ty, WireError> {
            const N: usize = std::mem::size_of::<$ty>();
            let b = self.array::<N>(field)?;
            Ok(<$ty>::$from(b))
        }
    };
}

impl<'a> Reader<'a> {
    /// A reader over `buf`; errors will name `packet`.
    pub fn new(buf: &'a [u8], packet: &'static str) -> Self {
        Reader {
            buf,
            pos: 0,
            packet,
        }
    }

    /// Changes the packet name used in errors (for nested structures).
    pub fn packet(&mut self, packet: &'static str) -> &'static str {
        std::mem::replace(&mut self.packet, packet)
    }

    /// The packet name currently used in errors.
    pub fn packet_name(&self) -> &'static str {
        self.packet
    }

    /// Bytes not yet read.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Bytes read so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// True when every byte was read.
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// An error of kind [`WireError::Invalid`] for this reader's packet.
    pub fn invalid(&self, field: &'static str, reason: impl Into<String>) -> WireError {
        WireError::invalid(self.packet, field, reason)
    }

    fn truncated(&self, field: &'static str, need: usize) -> WireError {
        WireError::Truncated {
            packet: self.packet,
            field,
            need,
            have: self.remaining(),
        }
    }

    /// Reads `n` bytes, borrowed from the input.
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(self.truncated(field, n));
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Reads a fixed-size array.
    pub fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], WireError> {
        let s = self.bytes(N, field)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    /// Everything that is left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    /// Looks at the next `n` bytes without consuming them.
    pub fn peek(&self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if n > self.remaining() {
            return Err(self.truncated(field, n));
        }
        Ok(&self.buf[self.pos..self.pos + n])
    }

    /// Checks that `count` elements of at least `min_elem_size` bytes each can
    /// still be present, so a hostile count cannot drive a large allocation.
    /// Returns `count` as `usize`.
    pub fn count(
        &self,
        count: u64,
        min_elem_size: usize,
        field: &'static str,
    ) -> Result<usize, WireError> {
        let need = (count as u128) * (min_elem_size.max(1) as u128);
        if need > self.remaining() as u128 {
            return Err(WireError::Truncated {
                packet: self.packet,
                field,
                need: usize::try_from(need).unwrap_or(usize::MAX),
                have: self.remaining(),
            });
        }
        Ok(count as usize)
    }

    /// Fails with [`WireError::Trailing`] if bytes are left.
    pub fn finish(&self) -> Result<(), WireError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(WireError::Trailing {
                packet: self.packet,
                extra: self.remaining(),
            })
        }
    }

    read_int!(u8, u8, from_le_bytes);
    read_int!(i8, i8, from_le_bytes);
    read_int!(u16_le, u16, from_le_bytes);
    read_int!(u16_be, u16, from_be_bytes);
    read_int!(i16_le, i16, from_le_bytes);
    read_int!(i16_be, i16, from_be_bytes);
    read_int!(u32_le, u32, from_le_bytes);
    read_int!(u32_be, u32, from_be_bytes);
    read_int!(i32_le, i32, from_le_bytes);
    read_int!(i32_be, i32, from_be_bytes);
    read_int!(u64_le, u64, from_le_bytes);
    read_int!(u64_be, u64, from_be_bytes);
    read_int!(i64_be, i64, from_be_bytes);
    read_int!(f32_le, f32, from_le_bytes);
    read_int!(f32_be, f32, from_be_bytes);
}

impl fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("packet", &self.packet)
            .field("pos", &self.pos)
            .field("len", &self.buf.len())
            .finish()
    }
}

/// Appending writers for `Vec<u8>`.
pub trait Put {
    /// Appends a byte.
    fn put_u8(&mut self, v: u8);
    /// Appends a little-endian u16.
    fn put_u16_le(&mut self, v: u16);
    /// Appends a big-endian u16.
    fn put_u16_be(&mut self, v: u16);
    /// Appends a little-endian u32.
    fn put_u32_le(&mut self, v: u32);
    /// Appends a big-endian u32.
    fn put_u32_be(&mut self, v: u32);
    /// Appends a little-endian u64.
    fn put_u64_le(&mut self, v: u64);
    /// Appends a big-endian u64.
    fn put_u64_be(&mut self, v: u64);
    /// Appends a little-endian f32.
    fn put_f32_le(&mut self, v: f32);
    /// Appends a big-endian f32.
    fn put_f32_be(&mut self, v: f32);
    /// Appends raw bytes.
    fn put_bytes(&mut self, v: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v)
    }
    fn put_u16_le(&mut self, v: u16) {
        self.extend_from_slice(&v.to_le_bytes())
    }
    fn put_u16_be(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes())
    }
    fn put_u32_le(&mut self, v: u32) {
        self.extend_from_slice(&v.to_le_bytes())
    }
    fn put_u32_be(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes())
    }
    fn put_u64_le(&mut self, v: u64) {
        self.extend_from_slice(&v.to_le_bytes())
    }
    fn put_u64_be(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes())
    }
    fn put_f32_le(&mut self, v: f32) {
        self.extend_from_slice(&v.to_le_bytes())
    }
    fn put_f32_be(&mut self, v: f32) {
        self.extend_from_slice(&v.to_be_bytes())
    }
    fn put_bytes(&mut self, v: &[u8]) {
        self.extend_from_slice(v)
    }
}

/// Defines a wire enumeration that keeps unknown values.
///
/// ```ignore
/// wire_enum! {
///     /// Doc.
///     pub enum PayloadType: u8 {
///         /// Streamer data.
///         Streamer = 0x23,
///     }
/// }
/// ```
/// generates the enum with an extra `Unknown(u8)` variant, `from_raw`,
/// `raw`, `name` (the documented name) and serialization as
/// `{"name": ..., "value": ...}` (the form of the reference's decodes).
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* $variant:ident = $value:expr ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )*
            /// A value this version does not know; kept so the packet round-trips.
            Unknown($repr),
        }

        impl $name {
            /// Maps a raw wire value, keeping unknown values.
            pub fn from_raw(v: $repr) -> Self {
                #[allow(unreachable_patterns)]
                match v {
                    $( x if x == $value => $name::$variant, )*
                    other => $name::Unknown(other),
                }
            }
            /// The raw wire value.
            pub fn raw(self) -> $repr {
                match self {
                    $( $name::$variant => $value, )*
                    $name::Unknown(v) => v,
                }
            }
            /// The documented name (`"Unknown"` for unknown values).
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => stringify!($variant), )*
                    $name::Unknown(_) => "Unknown",
                }
            }
            /// Every known variant.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )* ];
        }

        impl From<$repr> for $name {
            fn from(v: $repr) -> Self { $name::from_raw(v) }
        }

        impl From<$name> for $repr {
            fn from(v: $name) -> $repr { v.raw() }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeStruct;
                let mut st = s.serialize_struct(stringify!($name), 2)?;
                st.serialize_field("name", self.name())?;
                st.serialize_field("value", &self.raw())?;
                st.end()
            }
        }
    };
}
