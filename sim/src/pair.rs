//! A client session and a host session wired together in memory, without
//! sockets: for benchmarks, fuzzing and tests of the receive path.
//!
//! [`SessionPair::establish`] runs the whole Nano set-up (control handshake,
//! channel opens, UDP handshake, format choice, stream start) by moving the
//! bytes each side queues to the other. Afterwards the caller feeds video or
//! audio through [`HostSession::push_video_frame`] and collects the host's
//! datagrams with [`SessionPair::host_datagrams`] to hand them to the client
//! in any order it likes.

use std::net::SocketAddr;
use std::time::Instant;

use crate::nano::{HostConfig, HostSession};
use xnano_proto::nano::{ClientConfig, ClientEvent, ClientSession};

/// The client's UDP address as the host sees it.
pub const CLIENT_ADDR: &str = "127.0.0.1:50000";

/// A [`ClientSession`] and a [`HostSession`] connected in memory.
pub struct SessionPair {
    /// The client side.
    pub client: ClientSession,
    /// The console side.
    pub host: HostSession,
    client_addr: SocketAddr,
}

impl SessionPair {
    /// Creates both sessions (nothing is exchanged yet).
    pub fn new(client: ClientConfig, host: HostConfig, now: Instant) -> SessionPair {
        SessionPair {
            client: ClientSession::new(client, now),
            host: HostSession::new(host, now),
            client_addr: CLIENT_ADDR.parse().expect("literal address"),
        }
    }

    /// Moves every queued TCP and UDP packet to the other side until neither
    /// has anything left to send. Client events stay queued in the client.
    /// Returns how many packets moved.
    pub fn pump(&mut self, now: Instant) -> usize {
        let mut moved = 0;
        loop {
            let mut any = false;
            while let Some(b) = self.client.poll_tcp_transmit() {
                // The host reports malformed input through its stats; a
                // well-formed client never sends any.
                let _ = self.host.handle_tcp(&b, now);
                any = true;
                moved += 1;
            }
            while let Some(b) = self.client.poll_udp_transmit() {
                self.host.handle_udp(&b, self.client_addr, now);
                self.client.recycle_udp(b);
                any = true;
                moved += 1;
            }
            while let Some(b) = self.host.poll_tcp_transmit() {
                self.client.handle_tcp(&b, now);
                any = true;
                moved += 1;
            }
            while let Some((b, _to)) = self.host.poll_udp_transmit() {
                self.client.handle_udp(&b, now);
                any = true;
                moved += 1;
            }
            if !any {
                return moved;
            }
        }
    }

    /// Runs the set-up until the host streams video to the client's UDP
    /// address. Client events produced on the way are returned.
    pub fn establish(&mut self, now: Instant) -> Result<Vec<ClientEvent>, String> {
        let mut events = Vec::new();
        for _ in 0..64 {
            self.pump(now);
            self.client.handle_timeout(now);
            self.host.handle_timeout(now);
            while let Some(e) = self.client.poll_event() {
                events.push(e);
            }
            if self.host.video_streaming()
                && self.host.client_udp_addr().is_some()
                && self.client.video_format().is_some()
            {
                self.pump(now);
                while let Some(e) = self.client.poll_event() {
                    events.push(e);
                }
                return Ok(events);
            }
            if self.client.is_closed() {
                return Err(format!("client closed during set-up: {events:?}"));
            }
        }
        Err("set-up did not complete".into())
    }

    /// Takes the host's queued UDP datagrams (without delivering them).
    pub fn host_datagrams(&mut self) -> Vec<Vec<u8>> {
        let mut v = Vec::new();
        while let Some((b, _)) = self.host.poll_udp_transmit() {
            v.push(b);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::EncodedFrame;

    #[test]
    fn pair_establishes_and_delivers_a_frame() {
        let now = Instant::now();
        let mut p = SessionPair::new(
            ClientConfig::default(),
            HostConfig {
                seed: Some(1),
                ..HostConfig::default()
            },
            now,
        );
        p.establish(now).unwrap();
        let frame = EncodedFrame {
            data: (0..5000u32).map(|i| i as u8).collect(),
            keyframe: true,
            index: 0,
            pts_us: 0,
        };
        assert!(p.host.push_video_frame(&frame, now));
        let dgrams = p.host_datagrams();
        assert_eq!(dgrams.len(), 5000usize.div_ceil(p.host.config().chunk_size));
        for d in dgrams.iter().rev() {
            p.client.handle_udp(d, now);
        }
        let mut got = None;
        while let Some(e) = p.client.poll_event() {
            if let ClientEvent::VideoFrame(f) = e {
                got = Some(f.data);
            }
        }
        assert_eq!(got.as_deref(), Some(&frame.data[..]));
    }
}
