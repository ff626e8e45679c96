"""ctypes declarations of the simulated console's C API
(sim/include/xnano_sim.h, libxnano_sim), one to one.

libxnano_sim is a library of its own, not part of libxnano: only
`xnano.sim` imports this module, and `import xnano` never loads it.

Every function, constant and struct of that header is declared here under
its C name (`tests/test_sim.py` compares them with the header). The header
includes xnano.h for `xnano_result` and `xnano_console_info`: those are
libxnano's declarations (`xnano._ffi`), not repeated here.

Where libxnano_sim is loaded from: $XNANO_SIM_LIB when set; else a
libxnano_sim in the directory of the loaded libxnano; else the dev build
directory (cargo's target/<profile>, see `dev_build_dir`). Loading checks
`xnano_sim_abi_version()` against `XNANO_SIM_ABI_VERSION` and refuses any
other library with `AbiMismatchError`. A failed xnano_sim_* call leaves its
message in `xnano_sim_last_error()` (libxnano_sim's own thread-local), not
in libxnano's `xnano_last_error()`.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_uint16,
    c_uint32,
    c_uint64,
)
from pathlib import Path
from typing import List, Optional

from . import _build_info, _ffi
from ._ffi import AbiMismatchError, xnano_console_info, xnano_result

# ---------------------------------------------------------------- constants

# The C ABI of libxnano_sim these declarations describe (the header's
# XNANO_SIM_ABI_VERSION; versioned apart from libxnano's XNANO_ABI_VERSION).
XNANO_SIM_ABI_VERSION = 1
ABI_VERSION = XNANO_SIM_ABI_VERSION

XNANO_SIM_VIDEO_TEST_PATTERN = 0
XNANO_SIM_VIDEO_SYNTHETIC = 1
XNANO_SIM_AUDIO_OPUS = 0
XNANO_SIM_AUDIO_PCM = 1
XNANO_SIM_AUDIO_NONE = 2

# ------------------------------------------------------------------ structs


class xnano_sim_config(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("tcp_port", c_uint16),
        ("udp_port", c_uint16),
        ("width", c_uint32),
        ("height", c_uint32),
        ("fps", c_uint32),
        ("bitrate_bps", c_uint32),
        ("keyframe_interval", c_uint32),
        ("chunk_size", c_uint32),
        ("video_source", c_uint32),
        ("synthetic_min_len", c_uint32),
        ("synthetic_max_len", c_uint32),
        ("synthetic_seed", c_uint64),
        ("audio_source", c_uint32),
        ("telemetry_interval_ms", c_uint32),
        ("session_seed", c_uint64),
        ("loss_pct", c_double),
        ("reorder_pct", c_double),
        ("duplicate_pct", c_double),
        ("delay_ms", c_uint32),
        ("jitter_ms", c_uint32),
        ("impairment_seed", c_uint64),
        ("smartglass", c_bool),
        ("smartglass_port", c_uint16),
        ("smartglass_require_auth", c_bool),
        ("smartglass_powered_on", c_bool),
    ]


class xnano_sim_stats(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("clients_accepted", c_uint64),
        ("video_frames_sent", c_uint64),
        ("video_bytes_sent", c_uint64),
        ("keyframes_sent", c_uint64),
        ("keyframe_requests", c_uint64),
        ("audio_packets_sent", c_uint64),
        ("input_frames_received", c_uint64),
        ("input_acks_sent", c_uint64),
        ("rumble_sent", c_uint64),
        ("chat_audio_received", c_uint64),
        ("udp_sent", c_uint64),
        ("udp_dropped", c_uint64),
        ("bad_packets", c_uint64),
        ("client_connected", c_bool),
        ("sg_discovery_requests", c_uint64),
        ("sg_power_on_requests", c_uint64),
        ("sg_connects_accepted", c_uint64),
        ("sg_connects_rejected", c_uint64),
        ("sg_messages_received", c_uint64),
        ("sg_gamestreams_started", c_uint64),
        ("sg_gamestreams_stopped", c_uint64),
    ]


# Opaque handle.
class xnano_sim(Structure):
    pass


# ---------------------------------------------------------------- functions

_P = POINTER
# name: (restype, argtypes)
FUNCTIONS = {
    "xnano_sim_abi_version": (c_uint32, []),
    "xnano_sim_last_error": (c_char_p, []),
    "xnano_sim_config_default": (xnano_result, [_P(xnano_sim_config)]),
    "xnano_sim_new": (xnano_result, [_P(xnano_sim_config), _P(_P(xnano_sim))]),
    "xnano_sim_nano_ports": (xnano_result, [_P(xnano_sim), _P(c_uint16), _P(c_uint16)]),
    "xnano_sim_get_stats": (xnano_result, [_P(xnano_sim), _P(xnano_sim_stats)]),
    "xnano_sim_close_client": (xnano_result, [_P(xnano_sim)]),
    "xnano_sim_stop": (xnano_result, [_P(xnano_sim)]),
    "xnano_sim_free": (None, [_P(xnano_sim)]),
    "xnano_sim_smartglass_port": (xnano_result, [_P(xnano_sim), _P(c_uint16)]),
    "xnano_sim_console_info": (xnano_result, [_P(xnano_sim), _P(xnano_console_info)]),
    "xnano_sim_smartglass_powered_on": (xnano_result, [_P(xnano_sim), _P(c_bool)]),
    "xnano_sim_smartglass_message_count": (
        xnano_result,
        [_P(xnano_sim), c_char_p, _P(c_uint64)],
    ),
    "xnano_sim_start_text_session": (xnano_result, [_P(xnano_sim), c_char_p, _P(c_uint32)]),
}

# ------------------------------------------------------------------ loading

LIB_NAMES = {"linux": "libxnano_sim.so", "darwin": "libxnano_sim.dylib", "win32": "xnano_sim.dll"}
LIB_NAME = LIB_NAMES.get(sys.platform, "libxnano_sim.so")
ENV = "XNANO_SIM_LIB"


def _profile_dir(profile: str) -> str:
    """cargo's output directory of a profile (setup.py's mapping)."""
    return "debug" if profile == "dev" else profile


def dev_build_dir() -> Optional[Path]:
    """The dev build directory, cargo's target/<profile>, where
    `cargo build -p xnano-sim` puts libxnano_sim next to libxnano:

    - installed package: the directory setup.py copied the bundled libxnano
      from (recorded at build time; target/<profile> of the checkout, as
      chosen by $CARGO_TARGET_DIR and $XNANO_CARGO_PROFILE then);
    - source tree (bindings/python/src, not installed): the checkout's
      target directory as setup.py computes it: $CARGO_TARGET_DIR, default
      <checkout>/target, and the profile $XNANO_CARGO_PROFILE (default
      release; dev is target/debug).

    None when neither applies (a package built elsewhere)."""
    if _build_info.BUILD_DIR:
        return Path(_build_info.BUILD_DIR)
    checkout = Path(__file__).resolve().parents[4]
    if (Path(__file__).resolve().parents[2] / "setup.py").exists() and (checkout / "Cargo.toml").exists():
        target = Path(os.environ.get("CARGO_TARGET_DIR") or checkout / "target")
        return target / _profile_dir(os.environ.get("XNANO_CARGO_PROFILE", "release"))
    return None


def library_candidates() -> List[Path]:
    """Where libxnano_sim is looked for, in order: only $XNANO_SIM_LIB
    when set; else the directory of the loaded libxnano
    (`xnano._ffi.loaded_path`), then `dev_build_dir()`."""
    env = os.environ.get(ENV)
    if env:
        return [Path(env)]
    out = [_ffi.loaded_path.parent / LIB_NAME]
    dev = dev_build_dir()
    if dev is not None and dev / LIB_NAME not in out:
        out.append(dev / LIB_NAME)
    return out


def library_path() -> Path:
    """The first of `library_candidates()` that exists; OSError (naming
    every place looked at) when none does."""
    candidates = library_candidates()
    for p in candidates:
        if p.exists():
            return p
    looked = ", ".join(str(p) for p in candidates)
    raise OSError(
        f"libxnano_sim not found (looked at {looked}): the simulated console is a "
        "library of its own; build it with `cargo build -p xnano-sim --lib` "
        f"(target/<profile>/{LIB_NAME}) and set {ENV} to it, or put it next to libxnano"
    )


def load(path: Optional[Path] = None) -> ctypes.CDLL:
    """Loads libxnano_sim (default: `library_path()`), checks its ABI
    version and declares every function. Raises AbiMismatchError for a
    library of another ABI, OSError when there is none."""
    if path is None:
        path = library_path()
    elif not path.exists():
        raise OSError(f"libxnano_sim not found at {path}")
    lib = ctypes.CDLL(str(path))
    try:
        abi_fn = lib.xnano_sim_abi_version
    except AttributeError:
        raise AbiMismatchError(path, None, ABI_VERSION, **_ABI_ERROR) from None
    abi_fn.restype = c_uint32
    abi_fn.argtypes = []
    found = int(abi_fn())
    if found != ABI_VERSION:
        raise AbiMismatchError(path, found, ABI_VERSION, **_ABI_ERROR)
    for name, (restype, argtypes) in FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


_ABI_ERROR = {
    "library": "libxnano_sim",
    "function": "xnano_sim_abi_version",
    "env": ENV,
    "module": "xnano.sim",
}

#: The file `lib` was loaded from (absolute).
loaded_path = library_path().absolute()
lib = load(loaded_path)
