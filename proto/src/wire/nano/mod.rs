//! Nano's packets (docs/protocol.md#nano), bottom up: TCP [`framing`], the
//! [`rtp`] header and padding, the channel classes ([`channel`]), the core
//! packets ([`packet`]: control handshake, channel control, UDP handshake),
//! the [`streamer`] header and the payloads of each channel class
//! ([`video`], [`audio`], [`input`], [`control`]).

pub mod audio;
pub mod channel;
pub mod control;
pub mod framing;
pub mod input;
pub mod packet;
pub mod rtp;
pub mod streamer;
pub mod streamer_header;
pub mod video;

pub use channel::ChannelClass;
pub use packet::*;
