//! The C ABI (`include/xnano.h`, generated from this module by cbindgen).
//!
//! Glue only: every function checks its pointers, runs its body inside a
//! panic boundary, converts between C structs and the core types and
//! records a thread-local error message. The contract (threads, lifetimes,
//! ownership) is written in the header's preamble (`cbindgen.toml`) and on
//! each item.
//!
//! Names follow C conventions (`xnano_<type>_<verb>`, `XNANO_*` constants)
//! because cbindgen copies them into the header as they are.
#![allow(non_camel_case_types)]
// Every exported function takes raw pointers from C and checks them itself.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use std::cell::RefCell;
use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

// The boundary plumbing, shared with libxnano_sim: written once there.
pub use xnano_ffi_support::xnano_result;
pub(crate) use xnano_ffi_support::{
    arg_str, boundary, growable, growable_out, last_error_ptr, out_ptr, panic_message,
    read_growable, write_growable, write_out, FfiError, FfiResult,
};
#[cfg(test)]
pub(crate) use xnano_ffi_support::{Growable, PANIC_IN_BOUNDARY};

pub mod client;
pub mod console;
pub mod discovery;
pub mod gamestream_config;
pub mod logging;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_abi;
#[cfg(test)]
mod tests_console;

use xnano_result::*;

/// The version of the C ABI this header describes. It changes with every
/// incompatible change (a function removed or changed, a field moved or
/// retyped, a changed meaning); appending a field to a struct under the
/// `struct_size` rule, or adding a function, keeps it. Compare it with
/// `xnano_abi_version()` at run time; the shared library's SONAME is
/// `libxnano.so.<XNANO_ABI_VERSION>`.
pub const XNANO_ABI_VERSION: u32 = 1;

/// The ABI version of the loaded library (`XNANO_ABI_VERSION` of the header
/// it was built with). A program or binding compares it with the
/// `XNANO_ABI_VERSION` it was compiled against and refuses to go on when
/// they differ: structs, results and callbacks would not mean the same.
#[no_mangle]
pub extern "C" fn xnano_abi_version() -> u32 {
    XNANO_ABI_VERSION
}

/// The value meaning "any" in preference fields of `xnano_client_config`.
pub const XNANO_ANY: u32 = 0xFFFF_FFFF;

/// Video codec value: H.264 access units (Annex B).
pub const XNANO_VIDEO_CODEC_H264: u32 = 0;
/// Video codec value: raw YUV.
pub const XNANO_VIDEO_CODEC_YUV: u32 = 1;
/// Video codec value: raw RGB.
pub const XNANO_VIDEO_CODEC_RGB: u32 = 2;

/// Audio codec value: Opus packets.
pub const XNANO_AUDIO_CODEC_OPUS: u32 = 0;
/// Audio codec value: AAC.
pub const XNANO_AUDIO_CODEC_AAC: u32 = 1;
/// Audio codec value: PCM (signed 16-bit little-endian interleaved here).
pub const XNANO_AUDIO_CODEC_PCM: u32 = 2;

impl From<crate::nano::EngineError> for FfiError {
    fn from(e: crate::nano::EngineError) -> Self {
        use crate::nano::EngineError;
        let code = match &e {
            EngineError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => XNANO_ERR_TIMEOUT,
            EngineError::Io(_) => XNANO_ERR_IO,
            EngineError::State(_) => XNANO_ERR_WRONG_STATE,
            EngineError::FromCallback(_) => XNANO_ERR_FROM_CALLBACK,
        };
        FfiError::new(code, e.to_string())
    }
}

impl From<crate::smartglass::SgError> for FfiError {
    fn from(e: crate::smartglass::SgError) -> Self {
        use crate::smartglass::{SessionError, SgError};
        let code = match &e {
            SgError::Io(io) if is_timeout_kind(io.kind()) => XNANO_ERR_TIMEOUT,
            SgError::Io(_) => XNANO_ERR_IO,
            SgError::Session(SessionError::AnonymousNotAllowed) => XNANO_ERR_REFUSED,
            SgError::Session(SessionError::Closed) => XNANO_ERR_CLOSED,
            SgError::Session(SessionError::Wire(_)) => XNANO_ERR_INVALID_ARGUMENT,
            SgError::Session(_) => XNANO_ERR_WRONG_STATE,
            SgError::NotFound(_) => XNANO_ERR_NOT_FOUND,
            SgError::Closed(r) => match close_reason_code(r) {
                XNANO_OK => XNANO_ERR_CLOSED,
                c => c,
            },
            SgError::Timeout(_) => XNANO_ERR_TIMEOUT,
            SgError::ChannelRefused { .. } => XNANO_ERR_REFUSED,
            // The engine's gamestream errors are text; their origin is in
            // the words it uses (see `smartglass::Client::start_gamestream`).
            SgError::Stream(s) if s.contains("GameStreamError") => XNANO_ERR_REFUSED,
            SgError::Stream(s) if s.contains("already started") => XNANO_ERR_WRONG_STATE,
            SgError::Stream(s) if s.starts_with("nano connect") || s.contains("spawn") => {
                XNANO_ERR_IO
            }
            SgError::Stream(_) => XNANO_ERR_PROTOCOL,
            SgError::FromCallback(_) => XNANO_ERR_FROM_CALLBACK,
        };
        FfiError::new(code, e.to_string())
    }
}

fn is_timeout_kind(k: std::io::ErrorKind) -> bool {
    matches!(
        k,
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
    )
}

/// The result code that describes why a session (Nano or SmartGlass)
/// ended.
pub(crate) fn close_reason_code(r: &xnano_proto::CloseReason) -> xnano_result {
    use xnano_proto::CloseReason;
    match r {
        CloseReason::Local => XNANO_OK,
        CloseReason::ConnectionClosed
        | CloseReason::Disconnected { .. }
        | CloseReason::Aborted { .. } => XNANO_ERR_CLOSED,
        CloseReason::Refused { .. } => XNANO_ERR_REFUSED,
        CloseReason::ConnectTimeout { .. } | CloseReason::ConsoleSilent => XNANO_ERR_TIMEOUT,
        CloseReason::Io { .. } => XNANO_ERR_IO,
        CloseReason::Protocol { .. } => XNANO_ERR_PROTOCOL,
        CloseReason::HandlerPanic { .. } | CloseReason::Internal { .. } => XNANO_ERR_PANIC,
    }
}

/// The bounded queue of owned events behind the pull APIs
/// (`xnano_client_next_event`, `xnano_console_next_event`).
pub(crate) struct EventQueue<T> {
    pub(crate) events: parking_lot::Mutex<std::collections::VecDeque<Box<T>>>,
    pub(crate) ready: parking_lot::Condvar,
    pub(crate) capacity: usize,
}

impl<T> EventQueue<T> {
    /// A queue of at most `capacity` events, or none when it is 0.
    pub(crate) fn with_capacity(capacity: usize) -> Option<EventQueue<T>> {
        (capacity > 0).then(|| EventQueue {
            events: parking_lot::Mutex::new(std::collections::VecDeque::new()),
            ready: parking_lot::Condvar::new(),
            capacity,
        })
    }

    /// The next event, waiting up to `timeout_ms`; `XNANO_ERR_CLOSED` once
    /// the queue is empty and `closed` is set, `XNANO_ERR_TIMEOUT` when
    /// nothing came in time.
    pub(crate) fn pop_wait(
        &self,
        timeout_ms: u32,
        closed: &std::sync::atomic::AtomicBool,
    ) -> FfiResult<Box<T>> {
        let deadline =
            std::time::Instant::now() + std::time::Duration::from_millis(timeout_ms.into());
        let mut events = self.events.lock();
        loop {
            if let Some(e) = events.pop_front() {
                return Ok(e);
            }
            if closed.load(std::sync::atomic::Ordering::Acquire) {
                return Err(FfiError::new(XNANO_ERR_CLOSED, "the session is closed"));
            }
            if self.ready.wait_until(&mut events, deadline).timed_out() && events.is_empty() {
                return Err(FfiError::new(XNANO_ERR_TIMEOUT, "no event in time"));
            }
        }
    }
}

thread_local! {
    /// Ids of the handles (clients, consoles) whose callback is running on this thread.
    static IN_CALLBACK: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

pub(crate) fn in_callback_of(id: usize) -> bool {
    IN_CALLBACK
        .try_with(|v| v.borrow().contains(&id))
        .unwrap_or(false)
}

/// Marks this thread as running a callback of handle `id` while alive.
pub(crate) struct CallbackGuard;

impl CallbackGuard {
    pub(crate) fn enter(id: usize) -> CallbackGuard {
        let _ = IN_CALLBACK.try_with(|v| v.borrow_mut().push(id));
        CallbackGuard
    }
}

impl Drop for CallbackGuard {
    fn drop(&mut self) {
        let _ = IN_CALLBACK.try_with(|v| {
            v.borrow_mut().pop();
        });
    }
}

/// Runs `f` on a thread of its own, for a handle freed inside its own
/// callback: that thread can wait for the callback's thread to end. When no
/// thread can be started, `f` is dropped here, which must release what it
/// holds without waiting (the engines detach themselves when dropped inside
/// their own callback).
pub(crate) fn reap(name: &str, f: impl FnOnce() + Send + 'static) {
    let spawned = std::thread::Builder::new()
        .name(format!("xnano-reap-{name}"))
        .spawn(move || {
            let _ = catch_unwind(AssertUnwindSafe(f));
        });
    if let Err(e) = spawned {
        log::error!("cannot start a thread to release a {name}: {e}");
    }
}

static VERSION: &CStr =
    match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(v) => v,
        Err(_) => panic!("version contains NUL"),
    };

/// The library's version, "MAJOR.MINOR.PATCH" as in Cargo.toml (the same
/// text as `XNANO_VERSION_STRING` of the header it was built with). Static
/// storage: never free it.
#[no_mangle]
pub extern "C" fn xnano_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The message of the last failed `xnano_*` call on the calling thread
/// ("" when none failed yet). Thread-local; valid until the next failing
/// call on this thread. Never NULL; never free it.
#[no_mangle]
pub extern "C" fn xnano_last_error() -> *const c_char {
    // The pointer stays valid after `with` returns: the CString is only
    // replaced by a later failing call on this thread.
    last_error_ptr()
}

/// The name of a result code ("XNANO_OK", "XNANO_ERR_NULL"...); static
/// storage. Unknown values give "XNANO_ERR_UNKNOWN".
#[no_mangle]
pub extern "C" fn xnano_result_name(result: u32) -> *const c_char {
    let s: &CStr = match result {
        0 => c"XNANO_OK",
        1 => c"XNANO_ERR_NULL",
        2 => c"XNANO_ERR_INVALID_ARGUMENT",
        3 => c"XNANO_ERR_WRONG_STATE",
        4 => c"XNANO_ERR_FROM_CALLBACK",
        5 => c"XNANO_ERR_IO",
        6 => c"XNANO_ERR_TIMEOUT",
        7 => c"XNANO_ERR_PROTOCOL",
        8 => c"XNANO_ERR_CLOSED",
        9 => c"XNANO_ERR_BUFFER_TOO_SMALL",
        10 => c"XNANO_ERR_UNSUPPORTED",
        11 => c"XNANO_ERR_PANIC",
        12 => c"XNANO_ERR_NOT_FOUND",
        13 => c"XNANO_ERR_REFUSED",
        _ => c"XNANO_ERR_UNKNOWN",
    };
    s.as_ptr()
}
