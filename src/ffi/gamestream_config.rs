//! `xnano_gamestream_config`: the StartGameStream configuration that
//! `xnano_client_connect_console` takes.

use std::ffi::c_char;

use parking_lot::Mutex;

use xnano_ffi_support::{box_to_mut_ptr, try_box_from_ptr, try_ref_from_ptr, Castable};

use super::{arg_str, boundary, out_ptr, write_out, xnano_result, FfiError, FfiResult};
use crate::smartglass::GameStreamConfig;
use xnano_result::*;

/// The StartGameStream configuration of `xnano_client_connect_console`.
/// Created with the console protocol's defaults by
/// `xnano_gamestream_config_new`, changed key by key with
/// `xnano_gamestream_config_set`, freed by `xnano_gamestream_config_free`.
/// Opaque.
pub struct xnano_gamestream_config {
    cfg: Mutex<GameStreamConfig>,
}

// SAFETY: the handle is the struct itself.
unsafe impl Castable for xnano_gamestream_config {
    const NAME: &'static str = "config";
    type RustType = xnano_gamestream_config;
}

/// Creates a gamestream configuration with the defaults (1280x720 at 60
/// fps, AAC audio, chat audio on, ...). Free with
/// `xnano_gamestream_config_free`.
#[no_mangle]
pub extern "C" fn xnano_gamestream_config_new(
    out_config: *mut *mut xnano_gamestream_config,
) -> xnano_result {
    boundary(|| {
        let out = out_ptr(out_config, "out_config")?;
        let c = Box::new(xnano_gamestream_config {
            cfg: Mutex::new(GameStreamConfig::default()),
        });
        // SAFETY: checked non-NULL.
        unsafe { write_out(out, box_to_mut_ptr::<xnano_gamestream_config>(c)) };
        Ok(())
    })
}

const REQUERY_KEY: &str = "reQueryPreviewStatus";

/// Sets one key by its protocol name (as the console's JSON spells it:
/// "videoMaximumWidth", "videoMaximumHeight", "videoMaximumFrameRate",
/// "enableOpusAudio", "enableAudioChat", "urcpMaximumRate",
/// "videoPacketDefragTimeoutMs", "inputReadsPerSecond",
/// "reQueryPreviewStatus"... every key of the StartGameStream
/// configuration) from its text form: integers, numbers, or true/false.
/// XNANO_ERR_INVALID_ARGUMENT for an unknown key or a value of the wrong
/// type (the configuration is then unchanged). The values the Nano client
/// also uses (defrag timeout, input rate, chat audio) override the
/// client's own settings.
#[no_mangle]
pub extern "C" fn xnano_gamestream_config_set(
    config: *mut xnano_gamestream_config,
    key: *const c_char,
    value: *const c_char,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { try_ref_from_ptr(config) }?;
        // SAFETY: NULL or NUL-terminated.
        let key = unsafe { arg_str(key, "key") }?;
        // SAFETY: NULL or NUL-terminated.
        let value = unsafe { arg_str(value, "value") }?;
        let mut cfg = c.cfg.lock();
        if key == REQUERY_KEY {
            cfg.re_query_preview_status = match value.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(FfiError::invalid(format!(
                        "gamestream configuration {key}: {value:?} is not true or false"
                    )))
                }
            };
            return Ok(());
        }
        cfg.set(key, value)
            .map_err(|e| FfiError::invalid(e.to_string()))
    })
}

/// Copies the text form of `key` into `buffer` (`buffer_size` bytes, NUL
/// included) and its length without the NUL to `out_len`.
/// XNANO_ERR_BUFFER_TOO_SMALL (with nothing written) when it does not fit;
/// XNANO_ERR_INVALID_ARGUMENT for an unknown key.
#[no_mangle]
pub extern "C" fn xnano_gamestream_config_get(
    config: *const xnano_gamestream_config,
    key: *const c_char,
    buffer: *mut c_char,
    buffer_size: usize,
    out_len: *mut usize,
) -> xnano_result {
    boundary(|| {
        // SAFETY: NULL or a live handle.
        let c = unsafe { try_ref_from_ptr(config) }?;
        // SAFETY: NULL or NUL-terminated.
        let key = unsafe { arg_str(key, "key") }?;
        let buf = out_ptr(buffer, "buffer")?;
        let out_len = out_ptr(out_len, "out_len")?;
        let cfg = c.cfg.lock();
        let v = if key == REQUERY_KEY {
            cfg.re_query_preview_status.to_string()
        } else {
            cfg.get(key).ok_or_else(|| {
                FfiError::invalid(format!("unknown gamestream configuration key {key:?}"))
            })?
        };
        if v.len() >= buffer_size {
            return Err(FfiError::new(
                XNANO_ERR_BUFFER_TOO_SMALL,
                format!("{key} needs {} bytes", v.len() + 1),
            ));
        }
        // SAFETY: `buf` has `buffer_size` > v.len() writable bytes by the
        // caller's promise; the value has no NUL (numbers and booleans).
        unsafe {
            std::ptr::copy_nonoverlapping(v.as_ptr().cast::<c_char>(), buf, v.len());
            buf.add(v.len()).write(0);
            write_out(out_len, v.len());
        }
        Ok(())
    })
}

/// Frees a gamestream configuration. NULL is accepted. The client that
/// used it does not need it any more.
#[no_mangle]
pub extern "C" fn xnano_gamestream_config_free(config: *mut xnano_gamestream_config) {
    let _ = boundary(|| {
        // SAFETY: NULL or a live handle, given up.
        drop(unsafe { try_box_from_ptr(config) });
        Ok(())
    });
}

/// Reads a gamestream configuration argument (NULL: the defaults).
///
/// # Safety
/// `p` is NULL or a live handle from `xnano_gamestream_config_new`.
pub(crate) unsafe fn gamestream_config_arg(
    p: *const xnano_gamestream_config,
) -> FfiResult<GameStreamConfig> {
    if p.is_null() {
        return Ok(GameStreamConfig::default());
    }
    // SAFETY: forwarded promise.
    let c = unsafe { try_ref_from_ptr(p) }?;
    let cfg = c.cfg.lock().clone();
    Ok(cfg)
}
