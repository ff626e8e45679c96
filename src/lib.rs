//! xnano: the client core for Xbox One SmartGlass and Nano gamestreaming, as
//! a Rust library and as the C library `libxnano` (`include/xnano.h`).
//!
//! - [`smartglass`]: find a console ([`smartglass::discover`]), wake it
//!   ([`smartglass::power_on`]), connect to it ([`smartglass::Client`]: the
//!   encrypted session, service channels, commands) and start a gamestream;
//! - [`nano`]: stream from it ([`nano::Client`]: whole H.264 frames, audio
//!   packets, rumble; controller input out).
//!
//! Each client runs the sans-IO session of the `xnano-proto` crate on its own
//! socket threads. A program with its own IO loop (tokio, a game engine)
//! drives `xnano_proto`'s sessions directly instead; the packet codecs, the
//! crypto and the capture dissector live there too.
//!
//! The C ABI is not part of the Rust API: its functions are exported by
//! symbol from the `cdylib` and `staticlib` builds and documented in the
//! header and `docs/abi.md`.
#![warn(missing_docs)]
#![warn(unreachable_pub)]
#![forbid(unsafe_op_in_unsafe_fn)]

// The C ABI: reached by symbol name, not by Rust path; its constants exist
// for the generated header.
#[allow(unreachable_pub, dead_code)]
mod ffi;
pub mod nano;
pub mod smartglass;

/// The crate version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The README's code examples, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
