//! xnano-proto: the Xbox One SmartGlass and Nano protocols without IO.
//!
//! Wire codecs ([`wire`]), SmartGlass crypto ([`crypto`]), and the session
//! state machines ([`nano::session::ClientSession`],
//! [`smartglass::session::ConsoleSession`], discovery and power-on) that are
//! driven with an explicit `now`: datagrams and timeouts go in
//! (`handle_*`), datagrams to send, events and the next deadline come out
//! (`poll_*`). No sockets, no threads. The `xnano` crate drives them with a
//! thread per socket; a program with its own event loop drives them itself.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod crypto;
pub mod dissect;
pub mod nano;
pub mod pcap;
pub mod smartglass;
pub mod text;
pub mod wire;
