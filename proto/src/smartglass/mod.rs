//! The SmartGlass client: discovery, power-on, the encrypted console session
//! with its service channels and commands, and starting a gamestream.
//!
//! Layers:
//! - sans-IO state machines driven with an explicit `now`:
//!   [`Discovery`], [`PowerOn`] and [`ClientSession`] (`handle_datagram` /
//!   `handle_timeout` in, `poll_transmit` / `poll_event` / `poll_timeout`
//!   out);
//! - the SystemBroadcast JSON: [`GameStreamConfig`] (StartGameStream
//!   configuration) and [`GameStreamEvent`] (the console's stream states).
//!
//! The sockets that drive them are the `xnano` crate's
//! (`xnano::smartglass::Client`); a program with its own IO drives them
//! directly.

use std::net::SocketAddr;

use serde::Serialize;

use crate::crypto::{CertificateInfo, Curve};
use crate::wire::sg::common::{ClientType, Guid, PrimaryDeviceFlags};
use crate::wire::sg::simple::DiscoveryResponse;
use crate::wire::{hexbytes, uuid_text};

mod discovery;
mod gamestream;
mod session;

pub use discovery::{Discovery, DiscoveryConfig, DiscoveryEvent, PowerOn, PowerOnConfig};
pub use gamestream::{
    error_type_name, msg_type, GameStreamConfig, GameStreamError, GameStreamEvent, GameStreamState,
    GameStreamStatus, PreviewStatusInfo, StreamEnabledInfo, StreamErrorInfo, StreamStateInfo,
};
pub use session::{
    android_client_info, windows_client_info, ClientSession, CloseReason, SessionConfig,
    SessionError, SessionEvent, SessionState, SessionStats,
};

/// The SmartGlass UDP port of a console.
pub const PORT: u16 = 5050;

/// Where discovery and power-on requests are broadcast.
pub const BROADCAST_ADDR: &str = "255.255.255.255:5050";

/// The SSDP multicast group the reference also sends discovery and power-on
/// requests to.
pub const MULTICAST_ADDR: &str = "239.255.255.250:5050";

/// The channel id of the core channel (connect-level messages).
pub const CHANNEL_CORE: u64 = 0;

/// The channel id a console sends its acknowledgements on (captures).
pub const CHANNEL_ACK: u64 = 0x1000_0000_0000_0000;

/// A SmartGlass service channel. Core (id 0) needs no start; the others are
/// opened with a channel start request naming their UUID and get a channel
/// id from the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[repr(u8)]
pub enum ServiceChannel {
    /// Core: connection-level messages (channel id 0).
    Core = 0,
    /// System input (gamepad, touch, sensors).
    SystemInput = 1,
    /// System input, TV remote.
    SystemInputTVRemote = 2,
    /// System media (media state, media commands).
    SystemMedia = 3,
    /// System text (text entry sessions).
    SystemText = 4,
    /// System broadcast (gamestream JSON).
    SystemBroadcast = 5,
    /// Title channel of a running title (title id in the start request;
    /// UUID all zero).
    Title = 7,
}

impl ServiceChannel {
    /// Every channel that is started with a channel start request.
    pub const STARTABLE: [ServiceChannel; 6] = [
        ServiceChannel::SystemInput,
        ServiceChannel::SystemInputTVRemote,
        ServiceChannel::SystemMedia,
        ServiceChannel::SystemText,
        ServiceChannel::SystemBroadcast,
        ServiceChannel::Title,
    ];

    /// The system channels the reference starts right after connecting.
    pub const DEFAULT_SET: [ServiceChannel; 5] = [
        ServiceChannel::SystemInput,
        ServiceChannel::SystemInputTVRemote,
        ServiceChannel::SystemMedia,
        ServiceChannel::SystemText,
        ServiceChannel::SystemBroadcast,
    ];

    /// The UUID sent in the channel start request (the reference's
    /// `MessageTarget`); `None` for Core.
    pub fn uuid(self) -> Option<Guid> {
        let text = match self {
            ServiceChannel::Core => return None,
            ServiceChannel::SystemInput => "fa20b8ca-66fb-46e0-adb6-0b978a59d35f",
            ServiceChannel::SystemInputTVRemote => "d451e3b3-60bb-4c71-b3db-f994b1aca3a7",
            ServiceChannel::SystemMedia => "48a9ca24-eb6d-4e12-8c43-d57469edd3cd",
            ServiceChannel::SystemText => "7af3e6a2-488b-40cb-a931-79c04b7da3a0",
            ServiceChannel::SystemBroadcast => "b6a117d8-f5e2-45d7-862e-8fd8e3156476",
            ServiceChannel::Title => "00000000-0000-0000-0000-000000000000",
        };
        crate::wire::sg::common::parse_guid_text(text)
    }

    /// The system channel a start request UUID names (`None` for unknown
    /// UUIDs; the all-zero UUID is [`ServiceChannel::Title`]).
    pub fn from_uuid(uuid: &Guid) -> Option<ServiceChannel> {
        ServiceChannel::STARTABLE
            .into_iter()
            .find(|c| c.uuid().as_ref() == Some(uuid))
    }

    /// The channel's name.
    pub fn name(self) -> &'static str {
        match self {
            ServiceChannel::Core => "Core",
            ServiceChannel::SystemInput => "SystemInput",
            ServiceChannel::SystemInputTVRemote => "SystemInputTVRemote",
            ServiceChannel::SystemMedia => "SystemMedia",
            ServiceChannel::SystemText => "SystemText",
            ServiceChannel::SystemBroadcast => "SystemBroadcast",
            ServiceChannel::Title => "Title",
        }
    }
}

impl std::fmt::Display for ServiceChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A console as a discovery response describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsoleInfo {
    /// Where the response came from (the console's SmartGlass address).
    pub address: SocketAddr,
    /// The console's name.
    pub name: String,
    /// The console's UUID.
    #[serde(with = "uuid_text")]
    pub uuid: Guid,
    /// The console's Live ID (the certificate's common name).
    pub live_id: String,
    /// Which users may connect.
    pub flags: PrimaryDeviceFlags,
    /// Device type.
    pub device_type: ClientType,
    /// The console's last error code.
    pub last_error: u32,
    /// The certificate, DER.
    #[serde(with = "hexbytes")]
    pub certificate: Vec<u8>,
    /// The console's public key, uncompressed SEC1 point (with `0x04`).
    #[serde(with = "hexbytes")]
    pub public_key: Vec<u8>,
    /// The curve of the public key.
    #[serde(serialize_with = "ser_curve")]
    pub curve: Curve,
}

fn ser_curve<S: serde::Serializer>(c: &Curve, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(curve_name(*c))
}

/// The reference's name of a curve (`EC_DH_P256` ...).
pub fn curve_name(c: Curve) -> &'static str {
    match c {
        Curve::P256 => "EC_DH_P256",
        Curve::P384 => "EC_DH_P384",
        Curve::P521 => "EC_DH_P521",
    }
}

impl ConsoleInfo {
    /// The record of a discovery response received from `address`.
    pub fn from_response(address: SocketAddr, r: &DiscoveryResponse) -> ConsoleInfo {
        ConsoleInfo {
            address,
            name: r.name.clone(),
            uuid: r.uuid,
            live_id: r.cert.liveid.clone(),
            flags: r.flags,
            device_type: r.device_type,
            last_error: r.last_error,
            certificate: r.certificate.clone(),
            public_key: r.cert.public_key.clone(),
            curve: r.cert.curve,
        }
    }

    /// The record of a console whose certificate is known (no discovery).
    pub fn from_certificate(
        address: SocketAddr,
        name: &str,
        uuid: Guid,
        flags: PrimaryDeviceFlags,
        certificate: &[u8],
    ) -> Result<ConsoleInfo, crate::wire::WireError> {
        let cert = CertificateInfo::from_der(certificate)?;
        Ok(ConsoleInfo {
            address,
            name: name.to_string(),
            uuid,
            live_id: cert.liveid,
            flags,
            device_type: ClientType::XboxOne,
            last_error: 0,
            certificate: certificate.to_vec(),
            public_key: cert.public_key,
            curve: cert.curve,
        })
    }

    /// The console accepts anonymous connections (flag AllowAnonymousUsers).
    pub fn anonymous_allowed(&self) -> bool {
        self.flags.0 & PrimaryDeviceFlags::AllowAnonymousUsers.0 != 0
    }

    /// The console accepts authenticated users (flag AllowAuthenticatedUsers).
    pub fn authenticated_allowed(&self) -> bool {
        self.flags.0 & PrimaryDeviceFlags::AllowAuthenticatedUsers.0 != 0
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn channel_uuids_round_trip() {
        for c in ServiceChannel::STARTABLE {
            let u = c.uuid().unwrap();
            assert_eq!(ServiceChannel::from_uuid(&u), Some(c));
        }
        assert_eq!(ServiceChannel::Core.uuid(), None);
        assert_eq!(
            crate::wire::sg::common::guid_text(&ServiceChannel::SystemBroadcast.uuid().unwrap()),
            "b6a117d8-f5e2-45d7-862e-8fd8e3156476"
        );
    }
}
