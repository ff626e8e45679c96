//! Bridge from the `log` crate to one process-wide C log callback.

use std::cell::Cell;
use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use parking_lot::RwLock;

use super::{boundary, xnano_result, FfiError};

/// Severity of a log message (also the `max_level` filter of
/// `xnano_set_log_callback`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum xnano_log_level {
    /// Nothing (as a filter: logging off).
    XNANO_LOG_OFF = 0,
    /// Errors.
    XNANO_LOG_ERROR = 1,
    /// Warnings.
    XNANO_LOG_WARN = 2,
    /// Informational messages.
    XNANO_LOG_INFO = 3,
    /// Debugging details.
    XNANO_LOG_DEBUG = 4,
    /// Very verbose tracing.
    XNANO_LOG_TRACE = 5,
}

/// Receives one log message. `target` is the Rust module that logged (e.g.
/// "xnano::nano::engine") and `message` the text; both are NUL-terminated,
/// never NULL, and valid only during the call. Called on whatever thread
/// logged, possibly while the library holds internal locks: it must return
/// quickly and must not call any `xnano_*` function other than
/// `xnano_version`, `xnano_result_name` and `xnano_last_error`.
pub type xnano_log_callback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        level: xnano_log_level,
        target: *const c_char,
        message: *const c_char,
    ),
>;

#[derive(Clone, Copy)]
struct Sink {
    cb: unsafe extern "C" fn(*mut c_void, xnano_log_level, *const c_char, *const c_char),
    user_data: *mut c_void,
}

// SAFETY: the user data is only handed back to the user's callback, which
// the header documents as called from any thread.
unsafe impl Send for Sink {}
// SAFETY: as above; the sink is never mutated through a shared reference.
unsafe impl Sync for Sink {}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);
static INSTALLED: OnceLock<bool> = OnceLock::new();

thread_local! {
    static IN_LOG: Cell<bool> = const { Cell::new(false) };
}

struct Bridge;

static BRIDGE: Bridge = Bridge;

fn to_c_level(l: log::Level) -> xnano_log_level {
    match l {
        log::Level::Error => xnano_log_level::XNANO_LOG_ERROR,
        log::Level::Warn => xnano_log_level::XNANO_LOG_WARN,
        log::Level::Info => xnano_log_level::XNANO_LOG_INFO,
        log::Level::Debug => xnano_log_level::XNANO_LOG_DEBUG,
        log::Level::Trace => xnano_log_level::XNANO_LOG_TRACE,
    }
}

fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

impl log::Log for Bridge {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // A record logged by code the callback itself calls is dropped
        // (no recursion, no re-locking).
        if IN_LOG.with(|f| f.replace(true)) {
            return;
        }
        let _ = catch_unwind(AssertUnwindSafe(|| {
            let guard = SINK.read();
            if let Some(s) = *guard {
                let target = c_text(record.target());
                let msg = c_text(&record.args().to_string());
                // SAFETY: the callback was registered by the user with this
                // user data; the strings live until it returns.
                unsafe {
                    (s.cb)(
                        s.user_data,
                        to_c_level(record.level()),
                        target.as_ptr(),
                        msg.as_ptr(),
                    )
                };
            }
        }));
        IN_LOG.with(|f| f.set(false));
    }

    fn flush(&self) {}
}

/// Sets (or with `callback` NULL removes) the process-wide log callback and
/// the most verbose level passed to it (`max_level`, one of
/// `xnano_log_level`). When this function returns, the previous callback is
/// not running and will not be called again, so its `user_data` may be
/// freed. Fails with XNANO_ERR_WRONG_STATE when the host program already
/// installed another logger for the Rust `log` crate, and with
/// XNANO_ERR_FROM_CALLBACK when called from inside the log callback.
#[no_mangle]
pub extern "C" fn xnano_set_log_callback(
    callback: xnano_log_callback,
    user_data: *mut c_void,
    max_level: u32,
) -> xnano_result {
    boundary(|| {
        let level = match max_level {
            0 => log::LevelFilter::Off,
            1 => log::LevelFilter::Error,
            2 => log::LevelFilter::Warn,
            3 => log::LevelFilter::Info,
            4 => log::LevelFilter::Debug,
            5 => log::LevelFilter::Trace,
            n => return Err(FfiError::invalid(format!("log level {n}: must be 0..=5"))),
        };
        if IN_LOG.with(|f| f.get()) {
            return Err(FfiError::new(
                xnano_result::XNANO_ERR_FROM_CALLBACK,
                "xnano_set_log_callback called from inside the log callback",
            ));
        }
        if !*INSTALLED.get_or_init(|| log::set_logger(&BRIDGE).is_ok()) {
            return Err(FfiError::state(
                "another logger is installed for the Rust `log` crate",
            ));
        }
        // Waits for callbacks in flight (they hold the read lock).
        let mut sink = SINK.write();
        *sink = callback.map(|cb| Sink { cb, user_data });
        log::set_max_level(if sink.is_some() {
            level
        } else {
            log::LevelFilter::Off
        });
        Ok(())
    })
}
