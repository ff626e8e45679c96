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
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub mod client;
pub mod console;
pub mod logging;
pub mod sim;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_abi;
#[cfg(test)]
mod tests_console;

/// Result of every fallible `xnano_*` function. `XNANO_OK` is 0; on any
/// other value `xnano_last_error()` describes the failure, and no output
/// argument was written.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum xnano_result {
    /// Success.
    XNANO_OK = 0,
    /// A required pointer argument was NULL.
    XNANO_ERR_NULL = 1,
    /// An argument is out of range or malformed (bad string, bad config value).
    XNANO_ERR_INVALID_ARGUMENT = 2,
    /// The call is not allowed in the handle's current state (e.g. sending
    /// input before connecting, setting a callback after connecting).
    XNANO_ERR_WRONG_STATE = 3,
    /// Stopping or freeing a client from inside one of its own callbacks
    /// (it would deadlock). Do it from another thread after the callback.
    XNANO_ERR_FROM_CALLBACK = 4,
    /// A socket or operating-system error (connection refused, bind failed...).
    XNANO_ERR_IO = 5,
    /// A timeout passed (connect, handshake, `xnano_client_next_event`).
    XNANO_ERR_TIMEOUT = 6,
    /// The console sent something that cannot be used.
    XNANO_ERR_PROTOCOL = 7,
    /// The session is closed (by the console, by an error or by a stop) and
    /// no more events are queued.
    XNANO_ERR_CLOSED = 8,
    /// A caller-provided buffer is too small.
    XNANO_ERR_BUFFER_TOO_SMALL = 9,
    /// Not available in this build or not implemented yet.
    XNANO_ERR_UNSUPPORTED = 10,
    /// A Rust panic was caught at the API boundary (a bug in xnano; the
    /// handle may be unusable, but the process goes on).
    XNANO_ERR_PANIC = 11,
    /// No console answered a discovery request at the address given (e.g.
    /// to `xnano_console_connect`), or the console is off.
    XNANO_ERR_NOT_FOUND = 12,
    /// The console refused: the connection (anonymous connections disabled
    /// and no credentials given, too many devices...), a service channel,
    /// or the gamestream (GameStreamError).
    XNANO_ERR_REFUSED = 13,
}

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

/// An error on its way to C: the code and the message for `xnano_last_error`.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub code: xnano_result,
    pub message: String,
}

impl FfiError {
    pub fn new(code: xnano_result, message: impl Into<String>) -> Self {
        FfiError {
            code,
            message: message.into(),
        }
    }

    pub fn null(what: &str) -> Self {
        Self::new(XNANO_ERR_NULL, format!("{what} is NULL"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(XNANO_ERR_INVALID_ARGUMENT, message)
    }

    pub fn state(message: impl Into<String>) -> Self {
        Self::new(XNANO_ERR_WRONG_STATE, message)
    }
}

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
            // the words it uses (see `ConsoleClient::start_gamestream`).
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

/// The result code that describes why a SmartGlass session ended.
pub(crate) fn close_reason_code(r: &crate::smartglass::CloseReason) -> xnano_result {
    use crate::smartglass::CloseReason;
    match r {
        CloseReason::LocalDisconnect => XNANO_OK,
        CloseReason::ConsoleDisconnected { .. } => XNANO_ERR_CLOSED,
        CloseReason::ConnectRefused { .. } => XNANO_ERR_REFUSED,
        CloseReason::ConnectTimeout { .. } | CloseReason::ConsoleTimeout => XNANO_ERR_TIMEOUT,
        CloseReason::Io { .. } => XNANO_ERR_IO,
        CloseReason::HandlerPanic { .. } => XNANO_ERR_PANIC,
    }
}

pub(crate) type FfiResult<T> = Result<T, FfiError>;

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

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // During thread teardown the slot may be gone: nothing to record then.
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = c);
}

fn record(e: FfiError) -> xnano_result {
    set_last_error(&e.message);
    e.code
}

pub(crate) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

#[cfg(test)]
thread_local! {
    /// Test hook: the next boundary on this thread panics inside its body.
    pub(crate) static PANIC_IN_BOUNDARY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs an exported function's body: converts its error into a result code
/// plus last-error message and catches every panic.
pub(crate) fn boundary(f: impl FnOnce() -> FfiResult<()>) -> xnano_result {
    let r = catch_unwind(AssertUnwindSafe(|| {
        #[cfg(test)]
        if PANIC_IN_BOUNDARY.with(|p| p.replace(false)) {
            panic!("test hook: panic in boundary");
        }
        f()
    }));
    match r {
        Ok(Ok(())) => XNANO_OK,
        Ok(Err(e)) => record(e),
        Err(p) => {
            let msg = panic_message(p.as_ref());
            // Dropping the payload runs foreign Drop code: keep it inside too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(p)));
            record(FfiError::new(
                XNANO_ERR_PANIC,
                format!("internal error (panic): {msg}"),
            ))
        }
    }
}

/// Checks an input pointer and borrows it.
///
/// # Safety
/// `p` is NULL or points to a valid `T` for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, what: &str) -> FfiResult<&'a T> {
    // SAFETY: the caller promises validity when non-NULL.
    unsafe { p.as_ref() }.ok_or_else(|| FfiError::null(what))
}

/// Checks an output pointer (before any work is done).
pub(crate) fn out_ptr<T>(p: *mut T, what: &str) -> FfiResult<*mut T> {
    if p.is_null() {
        Err(FfiError::null(what))
    } else {
        Ok(p)
    }
}

/// Writes a successful output.
///
/// # Safety
/// `p` was checked by [`out_ptr`] and points to writable memory for a `T`.
pub(crate) unsafe fn write_out<T>(p: *mut T, v: T) {
    // SAFETY: the caller promises `p` is valid for writes; `write` does
    // not drop the (possibly uninitialised) old value.
    unsafe { p.write(v) }
}

/// A struct the caller allocates and the library reads or writes, which may
/// grow in later versions: it is `repr(C)`, starts with `struct_size: u32`,
/// and new fields are only appended. The caller sets `struct_size` to the
/// size it knows (its `sizeof`); the library touches only the fields that
/// lie wholly inside that many bytes.
///
/// # Safety
/// Implementors are `repr(C)`, their first field is `struct_size: u32`, and
/// `fields` lists the place of every field in declaration order
/// (see [`growable!`]).
pub(crate) unsafe trait Growable: Copy {
    /// The offset and end offset (offset + size) of every field, in order.
    fn fields() -> &'static [(usize, usize)];

    /// The bytes `0..n` that hold whole fields: the end of the last field
    /// that fits in `n` bytes.
    fn known_prefix(n: usize) -> usize {
        Self::fields()
            .iter()
            .map(|f| f.1)
            .take_while(|&e| e <= n)
            .last()
            .unwrap_or(0)
    }
}

/// Implements [`Growable`] for a `repr(C)` struct: `growable!(T { f1, f2 })`
/// lists every field in declaration order (a unit test checks that the
/// list covers the whole struct).
macro_rules! growable {
    ($t:ident { $($f:ident),+ $(,)? }) => {
        // SAFETY: `$t` is repr(C), its first field is `struct_size: u32`
        // (checked by `struct_size_first`) and the list names its fields in
        // order (checked by the unit tests).
        unsafe impl $crate::ffi::Growable for $t {
            fn fields() -> &'static [(usize, usize)] {
                const fn size_of_pointee<T>(_: *const T) -> usize {
                    ::core::mem::size_of::<T>()
                }
                const FIELDS: &[(usize, usize)] = &[$({
                    let u = ::core::mem::MaybeUninit::<$t>::uninit();
                    let at = ::core::mem::offset_of!($t, $f);
                    // SAFETY: only the field's address is taken, nothing is read.
                    (at, at + size_of_pointee(unsafe { ::core::ptr::addr_of!((*u.as_ptr()).$f) }))
                }),+];
                const _: () = assert!(::core::mem::offset_of!($t, struct_size) == 0);
                FIELDS
            }
        }
    };
}
pub(crate) use growable;

/// The smallest `struct_size` accepted: the size field itself.
const MIN_STRUCT_SIZE: u32 = 4;

/// The caller's `struct_size` of the struct at `p` (checked: not NULL, at
/// least the size field).
///
/// # Safety
/// `p` is NULL or points to at least `struct_size` readable bytes.
unsafe fn caller_size<T: Growable>(p: *const T, what: &str) -> FfiResult<usize> {
    if p.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: non-NULL; every growable struct starts with a u32 size.
    let n = unsafe { p.cast::<u32>().read_unaligned() };
    if n < MIN_STRUCT_SIZE {
        return Err(FfiError::invalid(format!(
            "{what}.struct_size is {n}: set it to sizeof the struct before the call"
        )));
    }
    Ok(n as usize)
}

/// Reads a growable input struct: the fields inside the caller's
/// `struct_size` come from the caller, the others from `defaults`.
///
/// # Safety
/// `p` is NULL or points to a `T` of at least its `struct_size` bytes.
pub(crate) unsafe fn read_growable<T: Growable>(
    p: *const T,
    defaults: T,
    what: &str,
) -> FfiResult<T> {
    // SAFETY: forwarded promise.
    let n = unsafe { caller_size(p, what) }?;
    let take = T::known_prefix(n.min(std::mem::size_of::<T>()));
    let mut v = defaults;
    // SAFETY: `take` bytes are readable at `p` (within the caller's size)
    // and writable in `v` (within size_of::<T>()); the regions are distinct.
    unsafe { std::ptr::copy_nonoverlapping(p.cast::<u8>(), (&mut v as *mut T).cast::<u8>(), take) };
    // SAFETY: `v` is a valid T: its bytes are the defaults' or the caller's
    // fields, which the caller promises are valid values.
    let sz = u32::try_from(std::mem::size_of::<T>()).unwrap_or(u32::MAX);
    unsafe { (&mut v as *mut T).cast::<u32>().write(sz) };
    Ok(v)
}

/// Checks a growable output struct before any work (as [`out_ptr`]).
///
/// # Safety
/// As [`read_growable`].
pub(crate) unsafe fn growable_out<T: Growable>(p: *mut T, what: &str) -> FfiResult<*mut T> {
    // SAFETY: forwarded promise.
    unsafe { caller_size(p, what) }?;
    Ok(p)
}

/// Writes a growable output: only the fields inside the caller's
/// `struct_size`; `struct_size` becomes the number of bytes the library
/// knows of, `min(caller's, library's)`.
///
/// # Safety
/// `p` was checked by [`growable_out`] and points to at least its
/// `struct_size` writable bytes.
pub(crate) unsafe fn write_growable<T: Growable>(p: *mut T, v: T) {
    // SAFETY: checked before.
    let n = unsafe { p.cast::<u32>().read_unaligned() } as usize;
    let known = n.min(std::mem::size_of::<T>());
    let put = T::known_prefix(known);
    // SAFETY: `put` bytes lie inside both the caller's struct and `v`.
    unsafe {
        std::ptr::copy_nonoverlapping((&v as *const T).cast::<u8>(), p.cast::<u8>(), put);
        p.cast::<u32>().write_unaligned(known as u32);
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

/// Reads a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's promise.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| FfiError::invalid(format!("{what} is not valid UTF-8")))
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
    catch_unwind(|| {
        LAST_ERROR
            .try_with(|e| e.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
    .unwrap_or(c"".as_ptr())
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
