//! xnano-proto: the Xbox One SmartGlass and Nano protocols without IO.
//!
//! Wire codecs ([`wire`]), SmartGlass crypto ([`crypto`]), and the session
//! state machines ([`nano::ClientSession`], [`smartglass::ClientSession`],
//! discovery and power-on) that are
//! driven with an explicit `now`: datagrams and timeouts go in
//! (`handle_*`), datagrams to send, events and the next deadline come out
//! (`poll_*`). No sockets, no threads. The `xnano` crate drives them with a
//! thread per socket; a program with its own event loop (tokio, a game
//! engine's frame loop) drives them itself, like this blocking sketch of a
//! Nano session over std sockets:
//!
//! ```no_run
//! use std::io::{Read, Write};
//! use std::net::{TcpStream, UdpSocket};
//! use std::time::{Duration, Instant};
//! use xnano_proto::nano::{ClientConfig, ClientEvent, ClientSession};
//!
//! # fn main() -> std::io::Result<()> {
//! let mut tcp = TcpStream::connect("192.168.1.20:53000")?;
//! let udp = UdpSocket::bind("0.0.0.0:0")?;
//! udp.connect("192.168.1.20:53001")?;
//! tcp.set_read_timeout(Some(Duration::from_millis(5)))?;
//! udp.set_read_timeout(Some(Duration::from_millis(5)))?;
//! let mut s = ClientSession::new(ClientConfig::default(), Instant::now());
//! let mut buf = vec![0u8; 65536];
//! while !s.is_closed() {
//!     // Out: what the session wants sent, and what it has to say.
//!     while let Some(b) = s.poll_tcp_transmit() { tcp.write_all(&b)?; }
//!     while let Some(b) = s.poll_udp_transmit() { udp.send(&b)?; s.recycle_udp(b); }
//!     while let Some(e) = s.poll_event() {
//!         if let ClientEvent::VideoFrame(f) = e {
//!             println!("frame {} ({} bytes)", f.frame_id, f.data.len());
//!             s.recycle_frame(f.data);
//!         }
//!     }
//!     // In: bytes from either socket, and the deadline it asked for.
//!     if let Ok(n) = tcp.read(&mut buf) { s.handle_tcp(&buf[..n], Instant::now()); }
//!     if let Ok(n) = udp.recv(&mut buf) { s.handle_udp(&buf[..n], Instant::now()); }
//!     if s.poll_timeout().is_some_and(|t| t <= Instant::now()) {
//!         s.handle_timeout(Instant::now());
//!     }
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Randomness and the wall clock can be injected (`rng_seed`,
//! `wall_clock_ms` in the configs) for reproducible sessions.
#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![forbid(unsafe_code)]

mod close;
pub mod crypto;
pub mod dissect;
pub mod nano;
pub mod pcap;
pub mod smartglass;
mod text;
pub mod wire;

pub use close::CloseReason;
