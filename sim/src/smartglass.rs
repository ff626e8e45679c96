//! The simulated console's SmartGlass side: [`HostSession`] is the sans-IO
//! host of a SmartGlass session (discovery, power-on, the encrypted session,
//! channels, the gamestream handshake), [`Host`] runs it on one UDP socket
//! and starts the Nano [`crate::nano::Host`] when a client asks for a
//! gamestream.

mod cert;
mod host;
mod session;

pub use cert::*;
pub use host::*;
pub use session::*;
