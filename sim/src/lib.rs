//! xnano-sim: a simulated Xbox One for tests, benchmarks and demos: the host
//! side of SmartGlass ([`smartglass::Host`]: discovery, power-on, the
//! encrypted session, service channels, gamestream start) and of Nano
//! ([`nano::Host`] with its [`nano::HostSession`]: the control
//! handshake, channels, video from a real H.264 encoder or synthetic frames,
//! Opus or PCM audio, input, rumble), behaving like a console where it is
//! inconvenient (pacing, frame-id restarts, silences, heartbeats, impaired
//! networks). Built on the sans-IO protocol crate, `xnano-proto`.
//!
//! `libxnano_sim` (this crate's `cdylib`) carries the C ABI of [`ffi`],
//! declared in `sim/include/xnano_sim.h`, which the bindings' tests load
//! beside `libxnano`. The client library never links any of it.

#![warn(unreachable_pub)]

pub mod ffi;
pub mod media;
pub mod nano;
pub mod pair;
pub mod smartglass;
