//! The Nano gamestream client as sans-IO state machines: the session
//! ([`session::ClientSession`]: `handle_*` in with an explicit `now`,
//! `poll_*` out), video reassembly and controller input. The socket engine
//! that drives them is the `xnano` crate's `nano::engine`.

mod input;
pub mod reassembly;
mod session;

pub use input::{buttons, ControllerState, Rumble};
pub use session::{
    apply_latency, AudioPacket, AudioPreference, ClientConfig, ClientEvent, ClientSession,
    CloseReason, StreamState, StreamStats, VideoFrame, VideoPreference,
};
