//! What the two C libraries of xnano (`libxnano`, the client, and
//! `libxnano_sim`, the simulated console its tests use) share at their
//! boundary, written once: the result type, the error on its way to C and
//! the thread-local last-error text, the panic boundary every exported
//! function runs in, pointer and string argument checks, the `struct_size`
//! growth scheme of caller-allocated structs, and the console description
//! both hand out. Not an API of its own: each library re-exports what its
//! header declares.
#![allow(non_camel_case_types)]
#![allow(clippy::not_unsafe_ptr_arg_deref)]
#![forbid(unsafe_op_in_unsafe_fn)]
#![warn(unreachable_pub)]

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub mod console_info;
pub use console_info::*;

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

/// An error on its way to C: the code and the message for `xnano_last_error`.
#[derive(Debug)]
pub struct FfiError {
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

/// The result of a boundary body.
pub type FfiResult<T> = Result<T, FfiError>;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

pub fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // During thread teardown the slot may be gone: nothing to record then.
    let _ = LAST_ERROR.try_with(|e| *e.borrow_mut() = c);
}

pub fn record(e: FfiError) -> xnano_result {
    set_last_error(&e.message);
    e.code
}

pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// The calling thread's last error text (never NULL; "" when none).
pub fn last_error_ptr() -> *const c_char {
    // The pointer stays valid after `with` returns: the CString is only
    // replaced by a later failing call on this thread.
    catch_unwind(|| {
        LAST_ERROR
            .try_with(|e| e.borrow().as_ptr())
            .unwrap_or(c"".as_ptr())
    })
    .unwrap_or(c"".as_ptr())
}

#[cfg(feature = "test-hooks")]
thread_local! {
    /// Test hook (feature `test-hooks`, for the libraries' own tests): the
    /// next boundary on this thread panics inside its body.
    pub static PANIC_IN_BOUNDARY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs an exported function's body: converts its error into a result code
/// plus last-error message and catches every panic.
pub fn boundary(f: impl FnOnce() -> FfiResult<()>) -> xnano_result {
    let r = catch_unwind(AssertUnwindSafe(|| {
        #[cfg(feature = "test-hooks")]
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

/// Checks an output pointer (before any work is done).
pub fn out_ptr<T>(p: *mut T, what: &str) -> FfiResult<*mut T> {
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
pub unsafe fn write_out<T>(p: *mut T, v: T) {
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
pub unsafe trait Growable: Copy {
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
#[macro_export]
macro_rules! growable {
    // `+ zeroed Default`: also a Default that is all zero with struct_size
    // set, for structs of integers, bools and arrays of them only.
    ($t:ident { $($f:ident),+ $(,)? } + zeroed Default) => {
        $crate::growable!($t { $($f),+ });
        impl Default for $t {
            /// All zero, with `struct_size` set.
            fn default() -> Self {
                // SAFETY: the invocation promises that every field is an
                // integer, a bool or an array of them: all zero is valid.
                let mut v: Self = unsafe { ::core::mem::zeroed() };
                v.struct_size = ::core::mem::size_of::<Self>() as u32;
                v
            }
        }
    };
    ($t:ident { $($f:ident),+ $(,)? }) => {
        // SAFETY: `$t` is repr(C), its first field is `struct_size: u32`
        // (checked by `struct_size_first`) and the list names its fields in
        // order (checked by the unit tests).
        unsafe impl $crate::Growable for $t {
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
pub unsafe fn read_growable<T: Growable>(p: *const T, defaults: T, what: &str) -> FfiResult<T> {
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
pub unsafe fn growable_out<T: Growable>(p: *mut T, what: &str) -> FfiResult<*mut T> {
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
pub unsafe fn write_growable<T: Growable>(p: *mut T, v: T) {
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

/// Reads a NUL-terminated UTF-8 string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub unsafe fn arg_str<'a>(p: *const c_char, what: &str) -> FfiResult<&'a str> {
    if p.is_null() {
        return Err(FfiError::null(what));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's promise.
    unsafe { CStr::from_ptr(p) }
        .to_str()
        .map_err(|_| FfiError::invalid(format!("{what} is not valid UTF-8")))
}

/// A C handle type and the Rust value behind it: the one place where raw
/// handle pointers become Rust values and back (after rustls-ffi's
/// `Castable`). Every `xnano_*_new` hands out [`to_boxed_mut_ptr`], every
/// call borrows with [`try_ref_from_ptr`], every free takes the box back
/// with [`try_box_from_ptr`].
///
/// # Safety
/// `RustType` is either `Self` or a `repr(C)` type whose first field is a
/// `Self`, so that a pointer to one is a pointer to the other.
pub unsafe trait Castable {
    /// The handle's name in error messages ("client is NULL").
    const NAME: &'static str;
    /// What the library allocates behind the pointer.
    type RustType;
}

/// Moves `v` to the heap and returns the handle C keeps.
pub fn to_boxed_mut_ptr<C: Castable>(v: C::RustType) -> *mut C {
    Box::into_raw(Box::new(v)).cast::<C>()
}

/// Borrows the value behind a handle argument; NULL is `XNANO_ERR_NULL`.
///
/// # Safety
/// `p` is NULL or a live handle from [`to_boxed_mut_ptr`], not freed while
/// the borrow lasts.
pub unsafe fn try_ref_from_ptr<'a, C: Castable>(p: *const C) -> FfiResult<&'a C::RustType> {
    // SAFETY: by the caller's promise `p` came from `to_boxed_mut_ptr`, so
    // it points to a live `RustType`.
    unsafe { p.cast::<C::RustType>().as_ref() }.ok_or_else(|| FfiError::null(C::NAME))
}

/// Takes back the value behind a handle that is being freed (None for
/// NULL). The handle is invalid afterwards.
///
/// # Safety
/// `p` is NULL or a live handle from [`to_boxed_mut_ptr`], freed only once.
pub unsafe fn try_box_from_ptr<C: Castable>(p: *mut C) -> Option<Box<C::RustType>> {
    if p.is_null() {
        None
    } else {
        // SAFETY: allocated by `to_boxed_mut_ptr` as a `Box<RustType>`; the
        // caller gives it up.
        Some(unsafe { Box::from_raw(p.cast::<C::RustType>()) })
    }
}

/// Hands out an allocation the library made (an event) as its handle.
pub fn box_to_mut_ptr<C: Castable>(b: Box<C::RustType>) -> *mut C {
    Box::into_raw(b).cast::<C>()
}
