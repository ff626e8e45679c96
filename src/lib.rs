//! xnano: a client core for Xbox One SmartGlass and Nano gamestreaming.
//!
//! Layers, bottom up:
//! - [`wire`]: sans-IO codecs for every packet,
//! - [`crypto`]: SmartGlass ECDH, key derivation, AES-CBC and HMAC,
//! - `smartglass` / `nano`: session state machines and their socket engines,
//! - `sim`: a simulated console speaking the host side of both protocols,
//! - `ffi`: the C ABI (`include/xnano.h`).
#![warn(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

pub use xnano_proto::{crypto, dissect, pcap, wire};

pub mod ffi;
pub mod nano;
pub mod smartglass;

/// The crate version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The README's code examples, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
