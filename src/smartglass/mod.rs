//! The SmartGlass client: find consoles ([`discover`]), wake one
//! ([`power_on`]), connect to it ([`Client`]: the encrypted session on UDP
//! 5050, service channels, media, text and input commands, the console's
//! status) and start a gamestream ([`Client::start_gamestream`]), which
//! starts the Nano client of [`crate::nano`] once the console announces the
//! stream. [`Client`] runs the sans-IO session of `xnano_proto::smartglass`
//! on one socket thread; the message types it takes and reports are
//! re-exported here.

use std::net::SocketAddr;

pub(crate) mod engine;

pub use engine::{
    discover, discover_with, power_on, power_on_with, Client, ConnectOptions, ConsoleTarget, Event,
    EventHandler, SgError,
};
pub use xnano_proto::smartglass::{
    curve_name, error_type_name, CloseReason, ConsoleInfo, DiscoveryConfig, GameStreamConfig,
    GameStreamError, GameStreamEvent, GameStreamState, GameStreamStatus, PowerOnConfig,
    ServiceChannel, SessionConfig, SessionError, SessionEvent, SessionState, SessionStats, PORT,
};
pub use xnano_proto::wire::sg::payloads::{
    Accelerometer, ActiveTitleLocation, Compass, ConsoleStatus, Gamepad, Gyrometer, Inclinometer,
    MediaControlCommand, MediaState, Orientation, TextConfiguration, TextResult, Touch,
};

/// Resolves a console address given as `HOST`, `HOST:PORT`, `IP` or
/// `IP:PORT` (IPv6 literals too); without a port, [`PORT`]. Prefers an
/// IPv4 address when a name resolves to several.
pub fn resolve_addr(s: &str) -> std::io::Result<SocketAddr> {
    use std::net::ToSocketAddrs;
    let with_port = if s.parse::<SocketAddr>().is_ok() {
        s.to_string()
    } else if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        SocketAddr::new(ip, PORT).to_string()
    } else if s
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        s.to_string()
    } else {
        format!("{s}:{PORT}")
    };
    let err = |e: std::io::Error| std::io::Error::new(e.kind(), format!("{s}: {e}"));
    let addrs: Vec<SocketAddr> = with_port.to_socket_addrs().map_err(err)?.collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{s}: did not resolve"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_addr_forms() {
        assert_eq!(
            resolve_addr("127.0.0.1").unwrap(),
            "127.0.0.1:5050".parse().unwrap()
        );
        assert_eq!(
            resolve_addr("127.0.0.1:99").unwrap(),
            "127.0.0.1:99".parse().unwrap()
        );
        assert_eq!(resolve_addr("::1").unwrap(), "[::1]:5050".parse().unwrap());
        assert_eq!(
            resolve_addr("[::1]:99").unwrap(),
            "[::1]:99".parse().unwrap()
        );
        assert_eq!(resolve_addr("localhost:7").unwrap().port(), 7);
        let e = resolve_addr("no-such-host.invalid").unwrap_err();
        assert!(e.to_string().starts_with("no-such-host.invalid: "), "{e}");
    }
}
