//! The SmartGlass client: the sans-IO state machines of
//! [`xnano_proto::smartglass`] (discovery, power-on, the console session,
//! the gamestream JSON), re-exported here, and [`engine`], the socket thread
//! that drives them ([`engine::discover`], [`engine::power_on`],
//! [`engine::ConsoleClient`]) and starts the Nano client of [`crate::nano`]
//! once the console announces the stream.

use std::net::SocketAddr;

pub use xnano_proto::smartglass::*;

pub mod engine;

pub use engine::{ConnectOptions, ConsoleClient, ConsoleTarget, Event, EventHandler, SgError};

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
