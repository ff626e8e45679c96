//! `xnano_discovery` and `xnano_power_on`: finding consoles and waking one.

use std::ffi::c_char;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use xnano_ffi_support::{box_to_mut_ptr, try_box_from_ptr, try_ref_from_ptr, Castable};

use super::{
    arg_str, boundary, growable_out, out_ptr, write_growable, write_out, xnano_result, FfiError,
    FfiResult,
};
use crate::smartglass::engine::{self};
use crate::smartglass::PowerOnConfig;
pub use xnano_ffi_support::console_info::*;
use xnano_result::*;

/// The SmartGlass UDP port of a console (used when an address has none).
pub const XNANO_SMARTGLASS_PORT: u16 = 5050;

/// The consoles found by `xnano_discover`. Opaque; free with
/// `xnano_discovery_free`.
pub struct xnano_discovery {
    consoles: Vec<xnano_console_info>,
}

// SAFETY: the handle is the struct itself.
unsafe impl Castable for xnano_discovery {
    const NAME: &'static str = "discovery";
    type RustType = xnano_discovery;
}

/// Resolves "host" or "host:port" (port 5050 when absent; IPv6 in
/// brackets when a port is given).
pub(crate) fn resolve_console(addr: &str) -> FfiResult<SocketAddr> {
    let addr = addr.trim();
    if addr.is_empty() {
        return Err(FfiError::invalid("address is empty"));
    }
    let with_port = addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .or_else(|| {
            // A bare host (or bare IPv6 address): the SmartGlass port.
            let host = addr.trim_start_matches('[').trim_end_matches(']');
            (host, XNANO_SMARTGLASS_PORT)
                .to_socket_addrs()
                .ok()
                .and_then(|mut a| a.next())
        });
    with_port.ok_or_else(|| FfiError::new(XNANO_ERR_IO, format!("cannot resolve {addr}")))
}

fn io_error(what: &str, e: std::io::Error) -> FfiError {
    let code = match e.kind() {
        std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => XNANO_ERR_TIMEOUT,
        std::io::ErrorKind::InvalidInput => XNANO_ERR_INVALID_ARGUMENT,
        _ => XNANO_ERR_IO,
    };
    FfiError::new(code, format!("{what}: {e}"))
}

/// Discovers consoles. With `address` ("host" or "host:port", port 5050
/// when absent) a unicast request goes to that console and the call
/// returns as soon as it answers (or after `timeout_ms`); with NULL,
/// requests are broadcast and multicast on the local network and answers
/// are collected for the whole `timeout_ms`. Finding nothing is XNANO_OK
/// with a count of 0. On XNANO_OK `*out_discovery` is a new list: read it
/// with `xnano_discovery_count` / `xnano_discovery_get`, free it with
/// `xnano_discovery_free`. Blocks the calling thread.
#[no_mangle]
pub extern "C" fn xnano_discover(
    address: *const c_char,
    timeout_ms: u32,
    out_discovery: *mut *mut xnano_discovery,
) -> xnano_result {
    boundary(|| {
        let out = out_ptr(out_discovery, "out_discovery")?;
        let addr = if address.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated by the caller's promise.
            Some(resolve_console(unsafe { arg_str(address, "address") }?)?)
        };
        if timeout_ms == 0 {
            return Err(FfiError::invalid("timeout_ms must be > 0"));
        }
        let found = engine::discover(addr, Duration::from_millis(timeout_ms.into()))
            .map_err(|e| io_error("discovery", e))?;
        let d = Box::new(xnano_discovery {
            consoles: found.iter().map(xnano_console_info::from_core).collect(),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, box_to_mut_ptr::<xnano_discovery>(d)) };
        Ok(())
    })
}

/// Writes the number of consoles found to `out_count`.
#[no_mangle]
pub extern "C" fn xnano_discovery_count(
    discovery: *const xnano_discovery,
    out_count: *mut usize,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live list from `xnano_discover`.
        let d = unsafe { try_ref_from_ptr(discovery) }?;
        let out = out_ptr(out_count, "out_count")?;
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, d.consoles.len()) };
        Ok(())
    })
}

/// Copies console number `index` (0-based, below the count) to `out_info`.
/// XNANO_ERR_INVALID_ARGUMENT when `index` is out of range.
#[no_mangle]
pub extern "C" fn xnano_discovery_get(
    discovery: *const xnano_discovery,
    index: usize,
    out_info: *mut xnano_console_info,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live list from `xnano_discover`.
        let d = unsafe { try_ref_from_ptr(discovery) }?;
        // SAFETY: NULL or the caller's struct of `struct_size` bytes.
        let out = unsafe { growable_out(out_info, "out_info") }?;
        let c = d.consoles.get(index).ok_or_else(|| {
            FfiError::invalid(format!(
                "index {index}: only {} console(s) found",
                d.consoles.len()
            ))
        })?;
        // SAFETY: checked non-NULL.
        unsafe { write_growable(out, *c) };
        Ok(())
    })
}

/// Frees a discovery list. NULL is accepted.
#[no_mangle]
pub extern "C" fn xnano_discovery_free(discovery: *mut xnano_discovery) {
    let _ = boundary(|| {
        // SAFETY: NULL or a list from `xnano_discover`, given up.
        drop(unsafe { try_box_from_ptr(discovery) });
        Ok(())
    });
}

/// Powers a console on by its Live ID: power-on requests go to the local
/// network's broadcast and multicast addresses and, when `address` is not
/// NULL ("host" or "host:port"), to that address; `tries` rounds 100 ms
/// apart (0: the reference's 2). Returns once they are sent (XNANO_ERR_IO
/// when none could be sent); whether the console woke up shows in a later
/// `xnano_discover`. Blocks for about `tries` x 100 ms.
#[no_mangle]
pub extern "C" fn xnano_power_on(
    live_id: *const c_char,
    address: *const c_char,
    tries: u32,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or NUL-terminated.
        let live_id = unsafe { arg_str(live_id, "live_id") }?;
        if live_id.trim().is_empty() {
            return Err(FfiError::invalid("live_id is empty"));
        }
        let addr = if address.is_null() {
            None
        } else {
            // SAFETY: non-NULL, NUL-terminated by the caller's promise.
            Some(resolve_console(unsafe { arg_str(address, "address") }?)?)
        };
        let mut cfg = PowerOnConfig::new(live_id, addr);
        if tries > 0 {
            cfg.tries = tries.min(100);
        }
        engine::power_on_with(cfg).map_err(|e| io_error("power on", e))
    })
}
