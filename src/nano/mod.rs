//! The Nano gamestream client: the sans-IO session of [`xnano_proto::nano`]
//! (re-exported here) and [`engine`], the socket threads that drive it.

pub use xnano_proto::nano::*;

pub mod engine;

pub use engine::{Client, EngineError, EventHandler};
