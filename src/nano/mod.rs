//! The Nano gamestream client: sans-IO session state machines and the
//! socket engine that drives them.

pub mod input;
pub mod reassembly;
