//! The simulated console: the host side of SmartGlass and Nano, built on the same wire code.

pub mod console;
pub mod media;
pub mod nano_host;
pub mod pair;
pub mod server;
