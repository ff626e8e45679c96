//! The Nano gamestream client: sans-IO session state machines and the
//! socket engine that drives them.

pub mod engine;
pub mod input;
pub mod reassembly;
pub mod session;

pub use engine::{Client, EngineError, EventHandler};
pub use input::{buttons, ControllerState, Rumble};
pub use session::{
    AudioPacket, AudioPreference, ClientConfig, ClientEvent, ClientSession, CloseReason,
    SessionStats, VideoFrame, VideoPreference,
};
