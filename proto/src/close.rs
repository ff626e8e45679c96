//! Why a session ended: one type for both protocols' sessions.

use serde::Serialize;

use crate::wire::sg::common::ConnectionResult;
use crate::wire::sg::payloads::DisconnectReason;

/// Why a Nano or SmartGlass session ended. Both sessions report it (in
/// their `Closed` event and `close_reason`); which variants each can
/// produce is said on each.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CloseReason {
    /// This side ended it: `stop` (Nano) or `disconnect` (SmartGlass).
    Local,
    /// Nano: the console closed the TCP control connection.
    ConnectionClosed,
    /// SmartGlass: the console sent a disconnect.
    Disconnected {
        /// Its reason.
        reason: DisconnectReason,
        /// Its error code.
        error_code: u32,
    },
    /// SmartGlass: the console refused the connect request.
    Refused {
        /// The result it gave.
        result: ConnectionResult,
    },
    /// The handshake was not answered in time: the Nano control handshake,
    /// or no usable SmartGlass connect response.
    ConnectTimeout {
        /// The last answer that was rejected (e.g. a bad HMAC: the wrong
        /// key), if any.
        last_error: Option<String>,
    },
    /// Nothing arrived from the console for too long (or, SmartGlass, a
    /// heartbeat was never acknowledged).
    ConsoleSilent,
    /// A socket error (the engines).
    Io {
        /// The error.
        error: String,
    },
    /// Nano: the console sent something that cannot be recovered from.
    Protocol {
        /// What was wrong.
        error: String,
    },
    /// A user callback panicked (the panic was caught).
    HandlerPanic {
        /// The panic message.
        message: String,
    },
    /// An engine thread failed unexpectedly (a bug; the panic was caught).
    Internal {
        /// The panic message.
        error: String,
    },
    /// The application ended the session with a reason (Nano: the engine's
    /// `abort`).
    Aborted {
        /// The application's reason.
        reason: String,
    },
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::Local => write!(f, "stopped"),
            CloseReason::ConnectionClosed => write!(f, "console closed the control connection"),
            CloseReason::Disconnected { reason, error_code } => write!(
                f,
                "console disconnected: {} (error 0x{error_code:x})",
                reason.name()
            ),
            CloseReason::Refused { result } => {
                write!(f, "console refused the connection: {}", result.name())
            }
            CloseReason::ConnectTimeout { last_error: None } => {
                write!(f, "the console did not answer the connect handshake")
            }
            CloseReason::ConnectTimeout {
                last_error: Some(e),
            } => write!(f, "no usable connect response from the console (last: {e})"),
            CloseReason::ConsoleSilent => write!(f, "console stopped answering"),
            CloseReason::Io { error } => write!(f, "socket error: {error}"),
            CloseReason::Protocol { error } => write!(f, "protocol error: {error}"),
            CloseReason::HandlerPanic { message } => {
                write!(f, "event handler panicked: {message}")
            }
            CloseReason::Internal { error } => write!(f, "internal error: {error}"),
            CloseReason::Aborted { reason } => write!(f, "aborted: {reason}"),
        }
    }
}
