//! SmartGlass building blocks shared by simple packets and messages: packet
//! types, `SGString`, GUIDs, flag sets, enumerations, and [`super::decode_any`].
//!
//! All SmartGlass structures are big-endian.
//!
//! `SGString` (reference `utils/adapters.py`): a u16 big-endian byte length,
//! that many UTF-8 bytes, then one NUL terminator that the length does not
//! count.

use serde::Serialize;

use crate::wire::{Put, Reader, WireError};
use crate::wire_enum;

wire_enum! {
    /// The packet type: the first u16 of every SmartGlass packet.
    pub enum PacketType: u16 {
        /// Connect request (client → console), partly encrypted.
        ConnectRequest = 0xCC00,
        /// Connect response (console → client), partly encrypted.
        ConnectResponse = 0xCC01,
        /// Discovery request (broadcast / unicast).
        DiscoveryRequest = 0xDD00,
        /// Discovery response, carries the console certificate.
        DiscoveryResponse = 0xDD01,
        /// Power-on request (wake the console).
        PowerOnRequest = 0xDD02,
        /// An encrypted message.
        Message = 0xD00D,
    }
}

wire_enum! {
    /// Client / device type (discovery, local join).
    #[allow(non_camel_case_types)]
    pub enum ClientType: u16 {
        /// Xbox One.
        XboxOne = 0x1,
        /// Xbox 360.
        Xbox360 = 0x2,
        /// Windows desktop.
        WindowsDesktop = 0x3,
        /// Windows Store app.
        WindowsStore = 0x4,
        /// Windows Phone.
        WindowsPhone = 0x5,
        /// iPhone.
        iPhone = 0x6,
        /// iPad.
        iPad = 0x7,
        /// Android.
        Android = 0x8,
    }
}

wire_enum! {
    /// Public key type (curve) of the connect request.
    #[allow(non_camel_case_types)]
    pub enum PublicKeyType: u16 {
        /// P-256, 64-byte key.
        EC_DH_P256 = 0x0,
        /// P-384, 96-byte key.
        EC_DH_P384 = 0x1,
        /// P-521, 132-byte key.
        EC_DH_P521 = 0x2,
        /// Default (not a valid key type on the wire).
        Default = 0xFFFF,
    }
}

wire_enum! {
    /// Result of a connect request.
    pub enum ConnectionResult: u16 {
        /// Connected.
        Success = 0x0,
        /// Pending.
        Pending = 0x1,
        /// Unknown failure.
        FailureUnknown = 0x2,
        /// Anonymous connections disabled.
        FailureAnonymousConnectionsDisabled = 0x3,
        /// Device limit exceeded.
        FailureDeviceLimitExceeded = 0x4,
        /// SmartGlass disabled.
        FailureSmartGlassDisabled = 0x5,
        /// User authentication failed.
        FailureUserAuthFailed = 0x6,
        /// User sign-in failed.
        FailureUserSignInFailed = 0x7,
        /// User sign-in timed out.
        FailureUserSignInTimeOut = 0x8,
        /// User sign-in required.
        FailureUserSignInRequired = 0x9,
    }
}

wire_enum! {
    /// Paired identity state (connect response, message 0x36).
    pub enum PairedIdentityState: u16 {
        /// Not paired.
        NotPaired = 0x0,
        /// Paired.
        Paired = 0x1,
    }
}

/// Formats a flag value the way the reference's Python `Flag` names it:
/// an exact member name (aliases such as `All` included), else the single-bit
/// members joined by `|` in value order; unknown leftover bits are appended
/// in hex.
pub fn flag_name(value: u64, members: &[(&'static str, u64)]) -> String {
    if let Some((n, _)) = members.iter().find(|(_, v)| *v == value) {
        return (*n).to_string();
    }
    let mut singles: Vec<(&str, u64)> = members
        .iter()
        .filter(|(_, v)| v.count_ones() == 1)
        .copied()
        .collect();
    singles.sort_by_key(|(_, v)| *v);
    let mut parts = Vec::new();
    let mut left = value;
    for (n, v) in singles {
        if value & v != 0 {
            parts.push(n.to_string());
            left &= !v;
        }
    }
    if left != 0 {
        parts.push(format!("0x{left:x}"));
    }
    parts.join("|")
}

/// Defines a bit-flag newtype that serializes as `{"name": "A|B", "value": n}`.
#[macro_export]
macro_rules! wire_flags {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident : $repr:ty {
            $( $(#[$vmeta:meta])* const $flag:ident = $value:expr; )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        $vis struct $name(pub $repr);

        #[allow(non_upper_case_globals)]
        impl $name {
            $( $(#[$vmeta])* pub const $flag: $name = $name($value); )*
            /// Every named value (name, bits).
            pub const MEMBERS: &'static [(&'static str, u64)] = &[ $( (stringify!($flag), $value as u64), )* ];
            /// The raw wire value.
            pub fn raw(self) -> $repr { self.0 }
            /// True when every bit of `other` is set.
            pub fn contains(self, other: $name) -> bool { self.0 & other.0 == other.0 }
            /// The reference's name for this value (`A|B`).
            pub fn name(self) -> String { $crate::wire::sg::common::flag_name(self.0 as u64, Self::MEMBERS) }
        }

        impl ::std::ops::BitOr for $name {
            type Output = $name;
            fn bitor(self, o: $name) -> $name { $name(self.0 | o.0) }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeStruct;
                let mut st = s.serialize_struct(stringify!($name), 2)?;
                st.serialize_field("name", &self.name())?;
                st.serialize_field("value", &self.0)?;
                st.end()
            }
        }
    };
}

wire_flags! {
    /// Discovery response flags (`PrimaryDeviceFlag`).
    pub struct PrimaryDeviceFlags: u32 {
        /// No flag.
        const Null = 0x0;
        /// Console users may connect.
        const AllowConsoleUsers = 0x1;
        /// Authenticated users may connect.
        const AllowAuthenticatedUsers = 0x2;
        /// Anonymous users may connect.
        const AllowAnonymousUsers = 0x4;
        /// Certificate pending.
        const CertificatePending = 0x8;
    }
}

wire_flags! {
    /// Device capabilities of the local join message.
    pub struct DeviceCapabilities: u64 {
        /// None (the reference spells it `Non`).
        const Non = 0;
        /// Streaming.
        const Streaming = 1;
        /// Audio.
        const Audio = 2;
        /// Accelerometer.
        const Accelerometer = 4;
        /// Compass.
        const Compass = 8;
        /// Gyrometer.
        const Gyrometer = 16;
        /// Inclinometer.
        const Inclinometer = 32;
        /// Orientation.
        const Orientation = 64;
        /// All.
        const All = 0xFFFF_FFFF_FFFF_FFFF;
    }
}

/// Reads an `SGString`: u16 BE length, UTF-8 bytes, NUL terminator.
pub fn read_sg_string(r: &mut Reader<'_>, field: &'static str) -> Result<String, WireError> {
    let len = r.u16_be(field)? as usize;
    let b = r.bytes(len, field)?;
    let nul = r.u8(field)?;
    if nul != 0 {
        return Err(r.invalid(field, "string not NUL-terminated"));
    }
    let s = std::str::from_utf8(b).map_err(|_| r.invalid(field, "not valid UTF-8"))?;
    Ok(s.to_string())
}

/// Appends an `SGString`; fails if the text is longer than 65535 bytes.
pub fn put_sg_string(
    out: &mut Vec<u8>,
    s: &str,
    packet: &'static str,
    field: &'static str,
) -> Result<(), WireError> {
    let len = u16::try_from(s.len())
        .map_err(|_| WireError::invalid(packet, field, "string longer than 65535 bytes"))?;
    out.put_u16_be(len);
    out.put_bytes(s.as_bytes());
    out.put_u8(0);
    Ok(())
}

/// Appends u16-length-prefixed bytes; fails above 65535 bytes.
pub fn put_prefixed_bytes(
    out: &mut Vec<u8>,
    b: &[u8],
    packet: &'static str,
    field: &'static str,
) -> Result<(), WireError> {
    let len = u16::try_from(b.len())
        .map_err(|_| WireError::invalid(packet, field, "longer than 65535 bytes"))?;
    out.put_u16_be(len);
    out.put_bytes(b);
    Ok(())
}

/// Reads u16-length-prefixed bytes.
pub fn read_prefixed_bytes(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u8>, WireError> {
    let len = r.u16_be(field)? as usize;
    Ok(r.bytes(len, field)?.to_vec())
}

/// Converts a list length to the u16 prefix; fails above 65535 items.
pub fn u16_count(n: usize, packet: &'static str, field: &'static str) -> Result<u16, WireError> {
    u16::try_from(n).map_err(|_| WireError::invalid(packet, field, "more than 65535 entries"))
}

/// A 16-byte GUID/UUID as SmartGlass sends it (RFC 4122 byte order).
pub type Guid = [u8; 16];

/// Reads a 16-byte GUID.
pub fn read_guid(r: &mut Reader<'_>, field: &'static str) -> Result<Guid, WireError> {
    r.array::<16>(field)
}

/// Parses the canonical text form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
/// (either case) into 16 bytes.
pub fn parse_guid_text(s: &str) -> Option<Guid> {
    let b = s.as_bytes();
    if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
        return None;
    }
    let hexs: String = s.chars().filter(|&c| c != '-').collect();
    let mut g = [0u8; 16];
    hex::decode_to_slice(hexs, &mut g).ok()?;
    Some(g)
}

/// The canonical lowercase text form of a GUID.
pub fn guid_text(g: &Guid) -> String {
    crate::wire::uuid_text::format(g)
}

/// The header of simple (non-message) packets: discovery, power-on, connect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimpleHeader {
    /// Packet type.
    pub pkt_type: PacketType,
    /// Length of the unprotected payload.
    pub unprotected_payload_length: u16,
    /// Length of the protected (encrypted) payload before padding; present
    /// only in connect request/response.
    pub protected_payload_length: Option<u16>,
    /// Protocol version (0 in discovery request and power-on, else 2).
    pub version: u16,
}

impl SimpleHeader {
    /// True for the packet types whose header carries a protected length.
    pub fn has_protected(pkt_type: PacketType) -> bool {
        matches!(
            pkt_type,
            PacketType::ConnectRequest | PacketType::ConnectResponse
        )
    }

    /// Decodes the header (6 or 8 bytes).
    pub fn decode(r: &mut Reader<'_>) -> Result<SimpleHeader, WireError> {
        let pkt_type = PacketType::from_raw(r.u16_be("pkt_type")?);
        let unprotected_payload_length = r.u16_be("unprotected_payload_length")?;
        let protected_payload_length = if Self::has_protected(pkt_type) {
            Some(r.u16_be("protected_payload_length")?)
        } else {
            None
        };
        let version = r.u16_be("version")?;
        Ok(SimpleHeader {
            pkt_type,
            unprotected_payload_length,
            protected_payload_length,
            version,
        })
    }

    /// Appends the header as it stands.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.put_u16_be(self.pkt_type.raw());
        out.put_u16_be(self.unprotected_payload_length);
        if let Some(p) = self.protected_payload_length {
            out.put_u16_be(p);
        }
        out.put_u16_be(self.version);
    }
}

/// The packet type of a datagram, without decoding it.
pub fn peek_packet_type(buf: &[u8]) -> Result<PacketType, WireError> {
    let mut r = Reader::new(buf, "smartglass packet");
    Ok(PacketType::from_raw(r.u16_be("pkt_type")?))
}
