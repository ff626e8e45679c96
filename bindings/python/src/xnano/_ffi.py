"""ctypes declarations of the xnano C API (include/xnano.h), one to one.

The simulated console is not part of libxnano: its C API
(sim/include/xnano_sim.h, libxnano_sim) is declared by `xnano._sim_ffi`,
which only `xnano.sim` imports.

Every function, constant, enum value and struct of the header is declared
here under its C name; `tests/test_header.py` (and the repository's binding
drift check) compare this module with the header.

Loading checks the library's ABI version (`xnano_abi_version()`) against
`ABI_VERSION`, the version these declarations describe, and refuses any
other library with `AbiMismatchError`.
"""

from __future__ import annotations

import ctypes
import os
import sys
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_float,
    c_int16,
    c_int32,
    c_size_t,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Optional

# ---------------------------------------------------------------- constants

# The C ABI these declarations describe (the header's XNANO_ABI_VERSION).
XNANO_ABI_VERSION = 1
ABI_VERSION = XNANO_ABI_VERSION

XNANO_ANY = 0xFFFFFFFF

XNANO_VIDEO_CODEC_H264 = 0
XNANO_VIDEO_CODEC_YUV = 1
XNANO_VIDEO_CODEC_RGB = 2

XNANO_AUDIO_CODEC_OPUS = 0
XNANO_AUDIO_CODEC_AAC = 1
XNANO_AUDIO_CODEC_PCM = 2

XNANO_BUTTON_DPAD_UP = 0x0001
XNANO_BUTTON_DPAD_DOWN = 0x0002
XNANO_BUTTON_DPAD_LEFT = 0x0004
XNANO_BUTTON_DPAD_RIGHT = 0x0008
XNANO_BUTTON_START = 0x0010
XNANO_BUTTON_BACK = 0x0020
XNANO_BUTTON_LEFT_THUMB = 0x0040
XNANO_BUTTON_RIGHT_THUMB = 0x0080
XNANO_BUTTON_LEFT_SHOULDER = 0x0100
XNANO_BUTTON_RIGHT_SHOULDER = 0x0200
XNANO_BUTTON_GUIDE = 0x0400
XNANO_BUTTON_A = 0x1000
XNANO_BUTTON_B = 0x2000
XNANO_BUTTON_X = 0x4000
XNANO_BUTTON_Y = 0x8000

XNANO_CONSOLE_NAME_SIZE = 64
XNANO_LIVE_ID_SIZE = 32
XNANO_ADDRESS_SIZE = 64
XNANO_UUID_SIZE = 40
XNANO_SMARTGLASS_PORT = 5050

XNANO_CURVE_P256 = 0
XNANO_CURVE_P384 = 1
XNANO_CURVE_P521 = 2

XNANO_CONSOLE_FLAG_ALLOW_CONSOLE_USERS = 0x1
XNANO_CONSOLE_FLAG_ALLOW_AUTHENTICATED_USERS = 0x2
XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS = 0x4
XNANO_CONSOLE_FLAG_CERTIFICATE_PENDING = 0x8

XNANO_DEVICE_XBOX_ONE = 1

XNANO_TITLE_LOCATION_FULL = 0
XNANO_TITLE_LOCATION_FILL = 1
XNANO_TITLE_LOCATION_SNAPPED = 2
XNANO_TITLE_LOCATION_START_VIEW = 3
XNANO_TITLE_LOCATION_SYSTEM_UI = 4
XNANO_TITLE_LOCATION_DEFAULT = 5

XNANO_MEDIA_PLAY = 0x2
XNANO_MEDIA_PAUSE = 0x4
XNANO_MEDIA_PLAY_PAUSE_TOGGLE = 0x8
XNANO_MEDIA_STOP = 0x10
XNANO_MEDIA_RECORD = 0x20
XNANO_MEDIA_NEXT_TRACK = 0x40
XNANO_MEDIA_PREVIOUS_TRACK = 0x80
XNANO_MEDIA_FAST_FORWARD = 0x100
XNANO_MEDIA_REWIND = 0x200
XNANO_MEDIA_CHANNEL_UP = 0x400
XNANO_MEDIA_CHANNEL_DOWN = 0x800
XNANO_MEDIA_BACK = 0x1000
XNANO_MEDIA_VIEW = 0x2000
XNANO_MEDIA_MENU = 0x4000
XNANO_MEDIA_SEEK = 0x8000

XNANO_GAMEPAD_ENROLL = 0x1
XNANO_GAMEPAD_NEXUS = 0x2
XNANO_GAMEPAD_MENU = 0x4
XNANO_GAMEPAD_VIEW = 0x8
XNANO_GAMEPAD_A = 0x10
XNANO_GAMEPAD_B = 0x20
XNANO_GAMEPAD_X = 0x40
XNANO_GAMEPAD_Y = 0x80
XNANO_GAMEPAD_DPAD_UP = 0x100
XNANO_GAMEPAD_DPAD_DOWN = 0x200
XNANO_GAMEPAD_DPAD_LEFT = 0x400
XNANO_GAMEPAD_DPAD_RIGHT = 0x800
XNANO_GAMEPAD_LEFT_SHOULDER = 0x1000
XNANO_GAMEPAD_RIGHT_SHOULDER = 0x2000
XNANO_GAMEPAD_LEFT_THUMB = 0x4000
XNANO_GAMEPAD_RIGHT_THUMB = 0x8000

XNANO_TEXT_RESULT_CANCEL = 0
XNANO_TEXT_RESULT_ACCEPT = 1

XNANO_CHANNEL_CORE = 0
XNANO_CHANNEL_SYSTEM_INPUT = 1
XNANO_CHANNEL_SYSTEM_INPUT_TV_REMOTE = 2
XNANO_CHANNEL_SYSTEM_MEDIA = 3
XNANO_CHANNEL_SYSTEM_TEXT = 4
XNANO_CHANNEL_SYSTEM_BROADCAST = 5
XNANO_CHANNEL_TITLE = 7

XNANO_GAMESTREAM_UNKNOWN = 0
XNANO_GAMESTREAM_INITIALIZING = 1
XNANO_GAMESTREAM_STARTED = 2
XNANO_GAMESTREAM_STOPPED = 3
XNANO_GAMESTREAM_PAUSED = 4

# enum xnano_result
XNANO_OK = 0
XNANO_ERR_NULL = 1
XNANO_ERR_INVALID_ARGUMENT = 2
XNANO_ERR_WRONG_STATE = 3
XNANO_ERR_FROM_CALLBACK = 4
XNANO_ERR_IO = 5
XNANO_ERR_TIMEOUT = 6
XNANO_ERR_PROTOCOL = 7
XNANO_ERR_CLOSED = 8
XNANO_ERR_BUFFER_TOO_SMALL = 9
XNANO_ERR_UNSUPPORTED = 10
XNANO_ERR_PANIC = 11
XNANO_ERR_NOT_FOUND = 12
XNANO_ERR_REFUSED = 13

# enum xnano_state
XNANO_STATE_IDLE = 0
XNANO_STATE_CONNECTING = 1
XNANO_STATE_CONNECTED = 2
XNANO_STATE_STREAMING = 3
XNANO_STATE_CLOSED = 4

# enum xnano_event_type
XNANO_EVENT_STATE = 0
XNANO_EVENT_VIDEO_FRAME = 1
XNANO_EVENT_AUDIO = 2
XNANO_EVENT_RUMBLE = 3

# enum xnano_console_event_type
XNANO_CONSOLE_EVENT_CONNECTED = 0
XNANO_CONSOLE_EVENT_CLOSED = 1
XNANO_CONSOLE_EVENT_CONSOLE_STATUS = 2
XNANO_CONSOLE_EVENT_MEDIA_STATE = 3
XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION = 4
XNANO_CONSOLE_EVENT_TEXT_INPUT = 5
XNANO_CONSOLE_EVENT_TEXT_DONE = 6
XNANO_CONSOLE_EVENT_CHANNEL_STARTED = 7
XNANO_CONSOLE_EVENT_CHANNEL_FAILED = 8
XNANO_CONSOLE_EVENT_GAMESTREAM_STATE = 9
XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED = 10
XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED = 11
XNANO_CONSOLE_EVENT_OTHER = 12

# enum xnano_console_state
XNANO_CONSOLE_STATE_IDLE = 0
XNANO_CONSOLE_STATE_CONNECTED = 1
XNANO_CONSOLE_STATE_CLOSED = 2

# enum xnano_log_level
XNANO_LOG_OFF = 0
XNANO_LOG_ERROR = 1
XNANO_LOG_WARN = 2
XNANO_LOG_INFO = 3
XNANO_LOG_DEBUG = 4
XNANO_LOG_TRACE = 5

# Results and enums are fixed-width: `typedef uint32_t <name>;`.
xnano_result = c_uint32
xnano_state = c_uint32
xnano_event_type = c_uint32
xnano_log_level = c_uint32
xnano_console_event_type = c_uint32
xnano_console_state = c_uint32

# ------------------------------------------------------------------ structs


class xnano_client_config(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("video_width", c_uint32),
        ("video_height", c_uint32),
        ("video_codec", c_uint32),
        ("audio_codec", c_uint32),
        ("audio_channels", c_uint32),
        ("audio_sample_rate", c_uint32),
        ("connect_timeout_ms", c_uint32),
        ("silence_timeout_ms", c_uint32),
        ("defrag_timeout_ms", c_uint32),
        ("keyframe_retry_ms", c_uint32),
        ("input_reads_per_second", c_uint32),
        ("max_frame_size", c_uint32),
        ("udp_recv_buffer", c_uint32),
        ("event_queue_capacity", c_uint32),
        ("chat_audio", c_bool),
        ("wait_for_first_keyframe", c_bool),
    ]


class xnano_video_frame(Structure):
    _fields_ = [
        ("frame_id", c_uint32),
        ("codec", c_uint32),
        ("width", c_uint32),
        ("height", c_uint32),
        ("fps", c_uint32),
        ("timestamp", c_uint64),
        ("data", POINTER(c_uint8)),
        ("len", c_size_t),
        ("keyframe", c_bool),
    ]


class xnano_audio_packet(Structure):
    _fields_ = [
        ("frame_id", c_uint32),
        ("codec", c_uint32),
        ("channels", c_uint32),
        ("sample_rate", c_uint32),
        ("timestamp", c_uint64),
        ("data", POINTER(c_uint8)),
        ("len", c_size_t),
    ]


class xnano_rumble(Structure):
    _fields_ = [
        ("controller", c_uint8),
        ("left_trigger", c_uint8),
        ("right_trigger", c_uint8),
        ("left_handle", c_uint8),
        ("right_handle", c_uint8),
    ]


class xnano_controller_state(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("buttons", c_uint16),
        ("left_trigger", c_uint8),
        ("right_trigger", c_uint8),
        ("left_thumb_x", c_int16),
        ("left_thumb_y", c_int16),
        ("right_thumb_x", c_int16),
        ("right_thumb_y", c_int16),
    ]


class xnano_client_stats(Structure):
    _fields_ = [("struct_size", c_uint32)] + [
        (name, c_uint64)
        for name in (
            "frames_delivered",
            "frames_dropped",
            "frames_lost",
            "keyframes_delivered",
            "keyframe_requests",
            "lost_reports",
            "chunks_accepted",
            "chunks_duplicate",
            "chunks_late",
            "chunks_invalid",
            "video_bytes",
            "audio_packets",
            "audio_bytes",
            "input_frames_sent",
            "input_frames_acked",
            "rumble_events",
            "chat_audio_sent",
            "udp_packets",
            "udp_bytes",
            "udp_malformed",
            "udp_rejected",
            "udp_foreign_packets",
            "tcp_packets",
            "tcp_malformed",
            "latency_p50_us",
            "latency_p99_us",
            "latency_max_us",
            "events_dropped",
            "frame_id_restarts",
            "chunk_flag_mismatches",
            "input_frames_resent",
        )
    ]


class xnano_event(Structure):
    _fields_ = [
        ("kind", xnano_event_type),
        ("state", xnano_state),
        ("error", xnano_result),
        ("message", c_char_p),
        ("video", POINTER(xnano_video_frame)),
        ("audio", POINTER(xnano_audio_packet)),
        ("rumble", POINTER(xnano_rumble)),
    ]


class xnano_console_info(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("name", c_char * XNANO_CONSOLE_NAME_SIZE),
        ("live_id", c_char * XNANO_LIVE_ID_SIZE),
        ("address", c_char * XNANO_ADDRESS_SIZE),
        ("uuid", c_char * XNANO_UUID_SIZE),
        ("curve", c_uint32),
        ("flags", c_uint32),
        ("device_type", c_uint32),
        ("last_error", c_uint32),
        ("port", c_uint16),
    ]


class xnano_console_config(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("userhash", c_char_p),
        ("auth_token", c_char_p),
        ("ignore_anonymous_flag", c_bool),
        ("discovery_timeout_ms", c_uint32),
        ("wait_timeout_ms", c_uint32),
        ("heartbeat_interval_ms", c_uint32),
        ("console_timeout_ms", c_uint32),
        ("event_queue_capacity", c_uint32),
    ]


class xnano_console_event(Structure):
    _fields_ = [
        ("kind", xnano_console_event_type),
        ("error", xnano_result),
        ("message", c_char_p),
        ("json", c_char_p),
        ("participant_id", c_uint32),
        ("title_id", c_uint32),
        ("os_major_version", c_uint32),
        ("os_minor_version", c_uint32),
        ("os_build_number", c_uint32),
        ("active_title_count", c_uint32),
        ("playback_status", c_uint32),
        ("media_position", c_uint64),
        ("media_end", c_uint64),
        ("text_session_id", c_uint32),
        ("text_version", c_uint32),
        ("text_max_length", c_uint32),
        ("text_result", c_uint32),
        ("text", c_char_p),
        ("channel", c_uint32),
        ("gamestream_state", c_uint32),
        ("tcp_port", c_uint16),
        ("udp_port", c_uint16),
    ]


class xnano_gamepad(Structure):
    _fields_ = [
        ("struct_size", c_uint32),
        ("buttons", c_uint16),
        ("left_trigger", c_float),
        ("right_trigger", c_float),
        ("left_thumb_x", c_float),
        ("left_thumb_y", c_float),
        ("right_thumb_x", c_float),
        ("right_thumb_y", c_float),
    ]


# Opaque handles.
class xnano_client(Structure):
    pass


class xnano_console(Structure):
    pass


class xnano_discovery(Structure):
    pass


class xnano_gamestream_config(Structure):
    pass


# ---------------------------------------------------------------- callbacks

xnano_video_callback = CFUNCTYPE(None, c_void_p, POINTER(xnano_video_frame))
xnano_audio_callback = CFUNCTYPE(None, c_void_p, POINTER(xnano_audio_packet))
xnano_rumble_callback = CFUNCTYPE(None, c_void_p, POINTER(xnano_rumble))
xnano_state_callback = CFUNCTYPE(None, c_void_p, xnano_state, xnano_result, c_char_p)
xnano_log_callback = CFUNCTYPE(None, c_void_p, xnano_log_level, c_char_p, c_char_p)
xnano_console_event_callback = CFUNCTYPE(None, c_void_p, POINTER(xnano_console_event))

# ---------------------------------------------------------------- functions

_P = POINTER
# name: (restype, argtypes)
FUNCTIONS = {
    "xnano_abi_version": (c_uint32, []),
    "xnano_version": (c_char_p, []),
    "xnano_last_error": (c_char_p, []),
    "xnano_result_name": (c_char_p, [c_uint32]),
    "xnano_client_config_default": (xnano_result, [_P(xnano_client_config)]),
    "xnano_client_new": (xnano_result, [_P(xnano_client_config), _P(_P(xnano_client))]),
    "xnano_client_set_video_callback": (
        xnano_result,
        [_P(xnano_client), xnano_video_callback, c_void_p],
    ),
    "xnano_client_set_audio_callback": (
        xnano_result,
        [_P(xnano_client), xnano_audio_callback, c_void_p],
    ),
    "xnano_client_set_rumble_callback": (
        xnano_result,
        [_P(xnano_client), xnano_rumble_callback, c_void_p],
    ),
    "xnano_client_set_state_callback": (
        xnano_result,
        [_P(xnano_client), xnano_state_callback, c_void_p],
    ),
    "xnano_client_connect_nano": (
        xnano_result,
        [_P(xnano_client), c_char_p, c_uint16, c_uint16],
    ),
    "xnano_client_get_state": (xnano_result, [_P(xnano_client), _P(xnano_state)]),
    "xnano_client_set_controller_state": (
        xnano_result,
        [_P(xnano_client), c_uint8, _P(xnano_controller_state)],
    ),
    "xnano_client_set_controller_connected": (
        xnano_result,
        [_P(xnano_client), c_uint8, c_bool],
    ),
    "xnano_client_request_keyframe": (xnano_result, [_P(xnano_client)]),
    "xnano_client_change_video_quality": (
        xnano_result,
        [_P(xnano_client), _P(c_uint32), c_size_t],
    ),
    "xnano_client_send_chat_audio": (
        xnano_result,
        [_P(xnano_client), _P(c_uint8), c_size_t],
    ),
    "xnano_client_get_stats": (xnano_result, [_P(xnano_client), _P(xnano_client_stats)]),
    "xnano_client_next_event": (
        xnano_result,
        [_P(xnano_client), c_uint32, _P(_P(xnano_event))],
    ),
    "xnano_event_free": (None, [_P(xnano_event)]),
    "xnano_client_stop": (xnano_result, [_P(xnano_client)]),
    "xnano_client_free": (None, [_P(xnano_client)]),
    "xnano_set_log_callback": (xnano_result, [xnano_log_callback, c_void_p, c_uint32]),
    # SmartGlass: discovery, power-on, console, gamestream configuration.
    "xnano_client_connect_console": (
        xnano_result,
        [_P(xnano_client), _P(xnano_console), _P(xnano_gamestream_config)],
    ),
    "xnano_discover": (xnano_result, [c_char_p, c_uint32, _P(_P(xnano_discovery))]),
    "xnano_discovery_count": (xnano_result, [_P(xnano_discovery), _P(c_size_t)]),
    "xnano_discovery_get": (
        xnano_result,
        [_P(xnano_discovery), c_size_t, _P(xnano_console_info)],
    ),
    "xnano_discovery_free": (None, [_P(xnano_discovery)]),
    "xnano_power_on": (xnano_result, [c_char_p, c_char_p, c_uint32]),
    "xnano_console_config_default": (xnano_result, [_P(xnano_console_config)]),
    "xnano_console_new": (xnano_result, [_P(_P(xnano_console))]),
    "xnano_console_set_event_callback": (
        xnano_result,
        [_P(xnano_console), xnano_console_event_callback, c_void_p],
    ),
    "xnano_console_connect": (
        xnano_result,
        [_P(xnano_console), c_char_p, _P(xnano_console_config)],
    ),
    "xnano_console_get_state": (xnano_result, [_P(xnano_console), _P(xnano_console_state)]),
    "xnano_console_get_info": (xnano_result, [_P(xnano_console), _P(xnano_console_info)]),
    "xnano_console_next_event": (
        xnano_result,
        [_P(xnano_console), c_uint32, _P(_P(xnano_console_event))],
    ),
    "xnano_console_event_free": (None, [_P(xnano_console_event)]),
    "xnano_console_events_dropped": (xnano_result, [_P(xnano_console), _P(c_uint64)]),
    "xnano_console_disconnect": (xnano_result, [_P(xnano_console)]),
    "xnano_console_free": (None, [_P(xnano_console)]),
    "xnano_console_power_off": (xnano_result, [_P(xnano_console)]),
    "xnano_console_launch_title": (xnano_result, [_P(xnano_console), c_char_p, c_uint32]),
    "xnano_console_media_command": (
        xnano_result,
        [_P(xnano_console), c_uint32, c_uint32, c_uint64, _P(c_uint64)],
    ),
    "xnano_console_gamepad": (xnano_result, [_P(xnano_console), _P(xnano_gamepad)]),
    "xnano_console_send_text": (xnano_result, [_P(xnano_console), c_char_p]),
    "xnano_console_text_acknowledge": (xnano_result, [_P(xnano_console), c_uint32, c_uint32]),
    "xnano_console_text_done": (xnano_result, [_P(xnano_console), c_uint32]),
    "xnano_console_game_dvr_record": (xnano_result, [_P(xnano_console), c_int32, c_int32]),
    "xnano_console_unsnap": (xnano_result, [_P(xnano_console)]),
    "xnano_gamestream_config_new": (xnano_result, [_P(_P(xnano_gamestream_config))]),
    "xnano_gamestream_config_set": (
        xnano_result,
        [_P(xnano_gamestream_config), c_char_p, c_char_p],
    ),
    "xnano_gamestream_config_get": (
        xnano_result,
        [_P(xnano_gamestream_config), c_char_p, c_char_p, c_size_t, _P(c_size_t)],
    ),
    "xnano_gamestream_config_free": (None, [_P(xnano_gamestream_config)]),
}

# ------------------------------------------------------------------ loading

LIB_NAMES = {"linux": "libxnano.so", "darwin": "libxnano.dylib", "win32": "xnano.dll"}


class AbiMismatchError(ImportError):
    """The library at `path` has another C ABI version (`found`; None: it
    has no ABI version function at all, a build from before ABI 1) than the
    one this binding was written for (`expected`).

    `library` names which library it is: "libxnano" (refused by `import
    xnano`) or "libxnano_sim" (refused by `import xnano.sim`)."""

    def __init__(
        self,
        path: Path,
        found: Optional[int],
        expected: int,
        *,
        library: str = "libxnano",
        function: str = "xnano_abi_version",
        env: str = "XNANO_LIB",
        module: str = "xnano",
    ) -> None:
        what = (
            f"has no {function} (a library from before ABI 1)"
            if found is None
            else f"has ABI version {found}"
        )
        needer = "this xnano binding" if module == "xnano" else module
        super().__init__(
            f"{library} at {path} {what}; {needer} needs ABI version {expected}: "
            "install the binding and the library from the same xnano release "
            f"(or point {env} at a matching build)",
            name=module,
            path=str(path),
        )
        self.found = found
        self.expected = expected
        self.library = library


def library_path() -> Path:
    """Where libxnano is loaded from: $XNANO_LIB if set, else the copy
    bundled in this package at install time."""
    env = os.environ.get("XNANO_LIB")
    if env:
        return Path(env)
    name = LIB_NAMES.get(sys.platform, "libxnano.so")
    return Path(__file__).resolve().parent / name


def load(path: Optional[Path] = None) -> ctypes.CDLL:
    """Loads the library (default: `library_path()`), checks its ABI version
    and declares every function. Raises AbiMismatchError for a library of
    another ABI, OSError when there is none."""
    path = library_path() if path is None else path
    if not path.exists():
        raise OSError(
            f"libxnano not found at {path}: set XNANO_LIB to the library built by "
            "`cargo build --lib`, or reinstall the package (pip install ./bindings/python "
            "builds and bundles it)"
        )
    lib = ctypes.CDLL(str(path))
    try:
        abi_fn = lib.xnano_abi_version
    except AttributeError:
        raise AbiMismatchError(path, None, ABI_VERSION) from None
    abi_fn.restype = c_uint32
    abi_fn.argtypes = []
    found = int(abi_fn())
    if found != ABI_VERSION:
        raise AbiMismatchError(path, found, ABI_VERSION)
    for name, (restype, argtypes) in FUNCTIONS.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


#: The file `lib` was loaded from (absolute; `library_path()` when the
#: package was imported).
loaded_path = library_path().absolute()
lib = load(loaded_path)

# The header's version macros. Python has no compile-time header, so they
# are the loaded library's version (tests check it equals Cargo.toml's).
XNANO_VERSION_STRING = lib.xnano_version().decode()
XNANO_VERSION_MAJOR = int(XNANO_VERSION_STRING.split(".")[0])
XNANO_VERSION_MINOR = int(XNANO_VERSION_STRING.split(".")[1])
XNANO_VERSION_PATCH = int(XNANO_VERSION_STRING.split(".")[2].split("-")[0])
