//! The simulated console's Nano side: [`HostSession`] is the sans-IO host of
//! a Nano session, [`Host`] runs it on real sockets (TCP control, UDP data)
//! and paces media into it.

mod host;
mod session;

pub use host::*;
pub use session::*;
