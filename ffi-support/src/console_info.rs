//! `xnano_console_info`: a console as its discovery response describes it,
//! written by `libxnano` (discovery, a connected console) and by
//! `libxnano_sim` (the simulated console's own description).

use std::ffi::c_char;

use xnano_proto::crypto::Curve;
use xnano_proto::smartglass::ConsoleInfo;
use xnano_proto::wire::sg::common::guid_text;

/// Size of `xnano_console_info.name` (bytes, with the terminating NUL).
pub const XNANO_CONSOLE_NAME_SIZE: usize = 64;
/// Size of `xnano_console_info.live_id` (bytes, with the terminating NUL).
pub const XNANO_LIVE_ID_SIZE: usize = 32;
/// Size of `xnano_console_info.address` (bytes, with the terminating NUL).
pub const XNANO_ADDRESS_SIZE: usize = 64;
/// Size of `xnano_console_info.uuid` (bytes, with the terminating NUL).
pub const XNANO_UUID_SIZE: usize = 40;

/// `xnano_console_info.curve` value: NIST P-256.
pub const XNANO_CURVE_P256: u32 = 0;
/// `xnano_console_info.curve` value: NIST P-384.
pub const XNANO_CURVE_P384: u32 = 1;
/// `xnano_console_info.curve` value: NIST P-521.
pub const XNANO_CURVE_P521: u32 = 2;

/// `xnano_console_info.flags` bit: console users may connect.
pub const XNANO_CONSOLE_FLAG_ALLOW_CONSOLE_USERS: u32 = 0x1;
/// `xnano_console_info.flags` bit: authenticated users may connect.
pub const XNANO_CONSOLE_FLAG_ALLOW_AUTHENTICATED_USERS: u32 = 0x2;
/// `xnano_console_info.flags` bit: anonymous users may connect.
pub const XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS: u32 = 0x4;
/// `xnano_console_info.flags` bit: certificate pending.
pub const XNANO_CONSOLE_FLAG_CERTIFICATE_PENDING: u32 = 0x8;

/// `xnano_console_info.device_type` value: Xbox One.
pub const XNANO_DEVICE_XBOX_ONE: u32 = 1;

/// A console as its discovery response describes it. Text fields are
/// NUL-terminated UTF-8, cut (at a character boundary) when longer than
/// their array.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct xnano_console_info {
    /// Set by the caller to `sizeof` this struct before every call that
    /// takes it (see STRUCT GROWTH in the header); on return from a call
    /// that writes the struct, the number of bytes the library knew of.
    pub struct_size: u32,
    /// The console's name.
    pub name: [c_char; XNANO_CONSOLE_NAME_SIZE],
    /// The console's Live ID (for `xnano_power_on`).
    pub live_id: [c_char; XNANO_LIVE_ID_SIZE],
    /// The console's SmartGlass address, `IP:PORT` (`[IPv6]:PORT`), as
    /// `xnano_console_connect` takes it.
    pub address: [c_char; XNANO_ADDRESS_SIZE],
    /// The console's UUID, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
    pub uuid: [c_char; XNANO_UUID_SIZE],
    /// Curve of the console's key (XNANO_CURVE_*).
    pub curve: u32,
    /// Who may connect: XNANO_CONSOLE_FLAG_* bits.
    pub flags: u32,
    /// Device type (XNANO_DEVICE_XBOX_ONE for consoles).
    pub device_type: u32,
    /// The console's last error code.
    pub last_error: u32,
    /// The SmartGlass UDP port (also in `address`).
    pub port: u16,
}

crate::growable!(xnano_console_info {
    struct_size,
    name,
    live_id,
    address,
    uuid,
    curve,
    flags,
    device_type,
    last_error,
    port,
});

impl Default for xnano_console_info {
    fn default() -> Self {
        xnano_console_info {
            struct_size: std::mem::size_of::<xnano_console_info>() as u32,
            name: [0; XNANO_CONSOLE_NAME_SIZE],
            live_id: [0; XNANO_LIVE_ID_SIZE],
            address: [0; XNANO_ADDRESS_SIZE],
            uuid: [0; XNANO_UUID_SIZE],
            curve: 0,
            flags: 0,
            device_type: 0,
            last_error: 0,
            port: 0,
        }
    }
}

/// Copies `s` into a C char array, cut at a UTF-8 boundary so that the
/// terminating NUL fits; NUL bytes inside become spaces.
fn fill<const N: usize>(dst: &mut [c_char; N], s: &str) {
    let mut end = s.len().min(N.saturating_sub(1));
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    for (d, b) in dst.iter_mut().zip(s.as_bytes()[..end].iter()) {
        *d = if *b == 0 { b' ' } else { *b } as c_char;
    }
    for d in dst.iter_mut().skip(end) {
        *d = 0;
    }
}

fn curve_value(c: Curve) -> u32 {
    match c {
        Curve::P256 => XNANO_CURVE_P256,
        Curve::P384 => XNANO_CURVE_P384,
        Curve::P521 => XNANO_CURVE_P521,
    }
}

impl xnano_console_info {
    pub fn from_core(c: &ConsoleInfo) -> Self {
        let mut i = xnano_console_info::default();
        fill(&mut i.name, &c.name);
        fill(&mut i.live_id, &c.live_id);
        fill(&mut i.address, &c.address.to_string());
        fill(&mut i.uuid, &guid_text(&c.uuid));
        i.curve = curve_value(c.curve);
        i.flags = c.flags.0;
        i.device_type = c.device_type.raw().into();
        i.last_error = c.last_error;
        i.port = c.address.port();
        i
    }
}
