//! The Nano gamestream client: [`Client`] connects to a console's Nano
//! ports (TCP control, UDP data), runs the sans-IO session of
//! `xnano_proto::nano` on its socket threads and calls your
//! [`EventHandler`] with every [`ClientEvent`]: whole H.264 frames in order
//! ([`VideoFrame`]), audio packets, rumble, the stream's formats, and the
//! reason it closed. Controller input goes the other way
//! ([`Client::set_controller_state`]).

pub(crate) mod engine;

pub use engine::{bind_udp, Client, EngineError, EventHandler, WireLatency};
pub use xnano_proto::nano::{
    buttons, reassembly::ReassemblyConfig, AudioPacket, AudioPreference, ClientConfig, ClientEvent,
    CloseReason, ControllerState, Rumble, StreamState, StreamStats, VideoFrame, VideoPreference,
};
pub use xnano_proto::wire::nano::audio::{AudioCodec, AudioFormat, PcmFormat};
pub use xnano_proto::wire::nano::control::TelemetryField;
pub use xnano_proto::wire::nano::video::{VideoCodec, VideoFormat};
pub use xnano_proto::wire::nano::ChannelClass;
