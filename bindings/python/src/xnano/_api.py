"""The Pythonic layer over `_ffi`: enums, dataclasses, handles."""

from __future__ import annotations

import asyncio
import ctypes
import enum
import json as _json
import logging
import math
import threading
import time
import traceback
import weakref
from dataclasses import dataclass, fields
from typing import (
    Any,
    AsyncIterator,
    Callable,
    Dict,
    Generic,
    Iterator,
    List,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
    Union,
)

from . import _ffi, _handle
from ._errors import (
    ClosedError,
    HandleClosedError,
    Result,
    WrongStateError,
    check,
)
from ._ffi import lib
from ._handle import Handle

_check = check
T = TypeVar("T")
S = TypeVar("S", bound=ctypes.Structure)
E = TypeVar("E")

# -------------------------------------------------------------------- enums


class State(enum.IntEnum):
    """Client session states (`xnano_state`)."""

    IDLE = _ffi.XNANO_STATE_IDLE
    CONNECTING = _ffi.XNANO_STATE_CONNECTING
    CONNECTED = _ffi.XNANO_STATE_CONNECTED
    STREAMING = _ffi.XNANO_STATE_STREAMING
    CLOSED = _ffi.XNANO_STATE_CLOSED


class LogLevel(enum.IntEnum):
    """Log levels (`xnano_log_level`)."""

    OFF = _ffi.XNANO_LOG_OFF
    ERROR = _ffi.XNANO_LOG_ERROR
    WARN = _ffi.XNANO_LOG_WARN
    INFO = _ffi.XNANO_LOG_INFO
    DEBUG = _ffi.XNANO_LOG_DEBUG
    TRACE = _ffi.XNANO_LOG_TRACE


class VideoCodec(enum.IntEnum):
    H264 = _ffi.XNANO_VIDEO_CODEC_H264
    YUV = _ffi.XNANO_VIDEO_CODEC_YUV
    RGB = _ffi.XNANO_VIDEO_CODEC_RGB


class AudioCodec(enum.IntEnum):
    OPUS = _ffi.XNANO_AUDIO_CODEC_OPUS
    AAC = _ffi.XNANO_AUDIO_CODEC_AAC
    PCM = _ffi.XNANO_AUDIO_CODEC_PCM


class Button(enum.IntFlag):
    """Controller buttons (`XNANO_BUTTON_*`)."""

    NONE = 0
    DPAD_UP = _ffi.XNANO_BUTTON_DPAD_UP
    DPAD_DOWN = _ffi.XNANO_BUTTON_DPAD_DOWN
    DPAD_LEFT = _ffi.XNANO_BUTTON_DPAD_LEFT
    DPAD_RIGHT = _ffi.XNANO_BUTTON_DPAD_RIGHT
    START = _ffi.XNANO_BUTTON_START
    BACK = _ffi.XNANO_BUTTON_BACK
    LEFT_THUMB = _ffi.XNANO_BUTTON_LEFT_THUMB
    RIGHT_THUMB = _ffi.XNANO_BUTTON_RIGHT_THUMB
    LEFT_SHOULDER = _ffi.XNANO_BUTTON_LEFT_SHOULDER
    RIGHT_SHOULDER = _ffi.XNANO_BUTTON_RIGHT_SHOULDER
    GUIDE = _ffi.XNANO_BUTTON_GUIDE
    A = _ffi.XNANO_BUTTON_A
    B = _ffi.XNANO_BUTTON_B
    X = _ffi.XNANO_BUTTON_X
    Y = _ffi.XNANO_BUTTON_Y


class ConsoleState(enum.IntEnum):
    """SmartGlass console session states (`xnano_console_state`)."""

    IDLE = _ffi.XNANO_CONSOLE_STATE_IDLE
    CONNECTED = _ffi.XNANO_CONSOLE_STATE_CONNECTED
    CLOSED = _ffi.XNANO_CONSOLE_STATE_CLOSED


class ConsoleEventType(enum.IntEnum):
    """What a `ConsoleEvent` reports (`xnano_console_event_type`)."""

    CONNECTED = _ffi.XNANO_CONSOLE_EVENT_CONNECTED
    CLOSED = _ffi.XNANO_CONSOLE_EVENT_CLOSED
    CONSOLE_STATUS = _ffi.XNANO_CONSOLE_EVENT_CONSOLE_STATUS
    MEDIA_STATE = _ffi.XNANO_CONSOLE_EVENT_MEDIA_STATE
    TEXT_CONFIGURATION = _ffi.XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION
    TEXT_INPUT = _ffi.XNANO_CONSOLE_EVENT_TEXT_INPUT
    TEXT_DONE = _ffi.XNANO_CONSOLE_EVENT_TEXT_DONE
    CHANNEL_STARTED = _ffi.XNANO_CONSOLE_EVENT_CHANNEL_STARTED
    CHANNEL_FAILED = _ffi.XNANO_CONSOLE_EVENT_CHANNEL_FAILED
    GAMESTREAM_STATE = _ffi.XNANO_CONSOLE_EVENT_GAMESTREAM_STATE
    GAMESTREAM_CONNECTED = _ffi.XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED
    GAMESTREAM_FAILED = _ffi.XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED
    OTHER = _ffi.XNANO_CONSOLE_EVENT_OTHER


class Curve(enum.IntEnum):
    """Curve of a console's key (`XNANO_CURVE_*`)."""

    P256 = _ffi.XNANO_CURVE_P256
    P384 = _ffi.XNANO_CURVE_P384
    P521 = _ffi.XNANO_CURVE_P521


class ConsoleFlag(enum.IntFlag):
    """Who may connect to a console (`XNANO_CONSOLE_FLAG_*`)."""

    NONE = 0
    ALLOW_CONSOLE_USERS = _ffi.XNANO_CONSOLE_FLAG_ALLOW_CONSOLE_USERS
    ALLOW_AUTHENTICATED_USERS = _ffi.XNANO_CONSOLE_FLAG_ALLOW_AUTHENTICATED_USERS
    ALLOW_ANONYMOUS_USERS = _ffi.XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS
    CERTIFICATE_PENDING = _ffi.XNANO_CONSOLE_FLAG_CERTIFICATE_PENDING


class TitleLocation(enum.IntEnum):
    """Where `Console.launch_title` puts a title (`XNANO_TITLE_LOCATION_*`)."""

    FULL = _ffi.XNANO_TITLE_LOCATION_FULL
    FILL = _ffi.XNANO_TITLE_LOCATION_FILL
    SNAPPED = _ffi.XNANO_TITLE_LOCATION_SNAPPED
    START_VIEW = _ffi.XNANO_TITLE_LOCATION_START_VIEW
    SYSTEM_UI = _ffi.XNANO_TITLE_LOCATION_SYSTEM_UI
    DEFAULT = _ffi.XNANO_TITLE_LOCATION_DEFAULT


class MediaCommand(enum.IntEnum):
    """Media commands (`XNANO_MEDIA_*`)."""

    PLAY = _ffi.XNANO_MEDIA_PLAY
    PAUSE = _ffi.XNANO_MEDIA_PAUSE
    PLAY_PAUSE_TOGGLE = _ffi.XNANO_MEDIA_PLAY_PAUSE_TOGGLE
    STOP = _ffi.XNANO_MEDIA_STOP
    RECORD = _ffi.XNANO_MEDIA_RECORD
    NEXT_TRACK = _ffi.XNANO_MEDIA_NEXT_TRACK
    PREVIOUS_TRACK = _ffi.XNANO_MEDIA_PREVIOUS_TRACK
    FAST_FORWARD = _ffi.XNANO_MEDIA_FAST_FORWARD
    REWIND = _ffi.XNANO_MEDIA_REWIND
    CHANNEL_UP = _ffi.XNANO_MEDIA_CHANNEL_UP
    CHANNEL_DOWN = _ffi.XNANO_MEDIA_CHANNEL_DOWN
    BACK = _ffi.XNANO_MEDIA_BACK
    VIEW = _ffi.XNANO_MEDIA_VIEW
    MENU = _ffi.XNANO_MEDIA_MENU
    SEEK = _ffi.XNANO_MEDIA_SEEK


class PlaybackStatus(enum.IntEnum):
    """Media playback status of a MEDIA_STATE event."""

    CLOSED = 0
    CHANGING = 1
    STOPPED = 2
    PLAYING = 3
    PAUSED = 4


class GamepadButton(enum.IntFlag):
    """SmartGlass gamepad buttons (`XNANO_GAMEPAD_*`; not the stream's `Button`)."""

    NONE = 0
    ENROLL = _ffi.XNANO_GAMEPAD_ENROLL
    NEXUS = _ffi.XNANO_GAMEPAD_NEXUS
    MENU = _ffi.XNANO_GAMEPAD_MENU
    VIEW = _ffi.XNANO_GAMEPAD_VIEW
    A = _ffi.XNANO_GAMEPAD_A
    B = _ffi.XNANO_GAMEPAD_B
    X = _ffi.XNANO_GAMEPAD_X
    Y = _ffi.XNANO_GAMEPAD_Y
    DPAD_UP = _ffi.XNANO_GAMEPAD_DPAD_UP
    DPAD_DOWN = _ffi.XNANO_GAMEPAD_DPAD_DOWN
    DPAD_LEFT = _ffi.XNANO_GAMEPAD_DPAD_LEFT
    DPAD_RIGHT = _ffi.XNANO_GAMEPAD_DPAD_RIGHT
    LEFT_SHOULDER = _ffi.XNANO_GAMEPAD_LEFT_SHOULDER
    RIGHT_SHOULDER = _ffi.XNANO_GAMEPAD_RIGHT_SHOULDER
    LEFT_THUMB = _ffi.XNANO_GAMEPAD_LEFT_THUMB
    RIGHT_THUMB = _ffi.XNANO_GAMEPAD_RIGHT_THUMB


class Channel(enum.IntEnum):
    """SmartGlass service channels (`XNANO_CHANNEL_*`)."""

    CORE = _ffi.XNANO_CHANNEL_CORE
    SYSTEM_INPUT = _ffi.XNANO_CHANNEL_SYSTEM_INPUT
    SYSTEM_INPUT_TV_REMOTE = _ffi.XNANO_CHANNEL_SYSTEM_INPUT_TV_REMOTE
    SYSTEM_MEDIA = _ffi.XNANO_CHANNEL_SYSTEM_MEDIA
    SYSTEM_TEXT = _ffi.XNANO_CHANNEL_SYSTEM_TEXT
    SYSTEM_BROADCAST = _ffi.XNANO_CHANNEL_SYSTEM_BROADCAST
    TITLE = _ffi.XNANO_CHANNEL_TITLE


class GameStreamState(enum.IntEnum):
    """The console's gamestream states (`XNANO_GAMESTREAM_*`)."""

    UNKNOWN = _ffi.XNANO_GAMESTREAM_UNKNOWN
    INITIALIZING = _ffi.XNANO_GAMESTREAM_INITIALIZING
    STARTED = _ffi.XNANO_GAMESTREAM_STARTED
    STOPPED = _ffi.XNANO_GAMESTREAM_STOPPED
    PAUSED = _ffi.XNANO_GAMESTREAM_PAUSED


EnumT = TypeVar("EnumT", bound=enum.IntEnum)


def _enum_or_int(cls: Type[EnumT], v: int) -> Union[EnumT, int]:
    try:
        return cls(v)
    except ValueError:
        return v


def version() -> str:
    """The library's version (`xnano_version()`)."""
    v: bytes = lib.xnano_version()
    return v.decode()


def abi_version() -> int:
    """The loaded library's C ABI version (`xnano_abi_version()`); the
    binding refused at import any library whose version is not
    `ABI_VERSION`."""
    return int(lib.xnano_abi_version())


# -------------------------------------------------------------- dataclasses


def _struct_to(cls: Type[T], s: Any) -> T:
    return cls(**{f.name: getattr(s, f.name) for f in fields(cls)})  # type: ignore[arg-type]


def _sized(cls: Type[S]) -> S:
    """A zeroed struct with `struct_size` set to its size as this binding
    declares it (the ABI 1 rule, before every call that takes it)."""
    s = cls()
    s.struct_size = ctypes.sizeof(cls)
    return s


@dataclass
class ClientConfig:
    """Client settings (`xnano_client_config`); None means "any" for the
    preferences."""

    video_width: Optional[int] = None
    video_height: Optional[int] = None
    video_codec: Optional[int] = None
    audio_codec: Optional[int] = None
    audio_channels: Optional[int] = None
    audio_sample_rate: Optional[int] = None
    connect_timeout_ms: int = 5000
    silence_timeout_ms: int = 5000
    defrag_timeout_ms: int = 16
    keyframe_retry_ms: int = 300
    input_reads_per_second: int = 120
    max_frame_size: int = 4 << 20
    udp_recv_buffer: int = 8 << 20
    event_queue_capacity: int = 0
    chat_audio: bool = True
    wait_for_first_keyframe: bool = True

    _PREFS = (
        "video_width",
        "video_height",
        "video_codec",
        "audio_codec",
        "audio_channels",
        "audio_sample_rate",
    )

    def to_c(self) -> _ffi.xnano_client_config:
        c = _sized(_ffi.xnano_client_config)
        _check(lib.xnano_client_config_default(ctypes.byref(c)))
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in self._PREFS and v is None:
                v = _ffi.XNANO_ANY
            setattr(c, f.name, v)
        return c

    @classmethod
    def from_c(cls, c: _ffi.xnano_client_config) -> "ClientConfig":
        out = _struct_to(cls, c)
        for name in cls._PREFS:
            if getattr(out, name) == _ffi.XNANO_ANY:
                setattr(out, name, None)
        return out

    @classmethod
    def library_default(cls) -> "ClientConfig":
        c = _sized(_ffi.xnano_client_config)
        _check(lib.xnano_client_config_default(ctypes.byref(c)))
        return cls.from_c(c)


@dataclass(frozen=True)
class VideoFrame:
    """One complete video frame (an H.264 access unit for H.264)."""

    frame_id: int
    codec: int
    width: int
    height: int
    fps: int
    timestamp: int
    keyframe: bool
    data: bytes

    @classmethod
    def from_c(cls, f: _ffi.xnano_video_frame) -> "VideoFrame":
        data = ctypes.string_at(f.data, f.len) if f.len else b""
        return cls(f.frame_id, f.codec, f.width, f.height, f.fps, f.timestamp, bool(f.keyframe), data)


def _memoryview_from_memory_api() -> Any:
    """CPython's PyMemoryView_FromMemory (None where the C API is missing)."""
    try:
        fn = ctypes.pythonapi.PyMemoryView_FromMemory
    except (AttributeError, ValueError):
        return None
    fn.restype = ctypes.py_object
    fn.argtypes = (ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_int)
    return fn


_memoryview_from_memory = _memoryview_from_memory_api()
_PYBUF_READ = 0x100


class VideoFrameView:
    """A video frame without a copy: `data` is a read-only memoryview of the
    library's own buffer (``on_video_view=`` callbacks).

    Valid only during the callback: the view is released when the callback
    returns (using it afterwards raises ValueError). Do not keep slices of
    it or objects made from it past the callback either (they would point
    into a buffer the library reuses): copy what you keep, with
    ``bytes(view.data)``, `to_frame`, or `readinto` into a buffer you own
    (one copy, no allocation)."""

    __slots__ = ("frame_id", "codec", "width", "height", "fps", "timestamp", "keyframe", "data")

    frame_id: int
    codec: int
    width: int
    height: int
    fps: int
    timestamp: int
    keyframe: bool
    data: memoryview

    def __init__(self, f: _ffi.xnano_video_frame) -> None:
        self.frame_id = f.frame_id
        self.codec = f.codec
        self.width = f.width
        self.height = f.height
        self.fps = f.fps
        self.timestamp = f.timestamp
        self.keyframe = bool(f.keyframe)
        if f.len and _memoryview_from_memory is not None:
            # A memoryview straight on the library's buffer: no copy and no
            # ctypes array type per frame length.
            addr = ctypes.cast(f.data, ctypes.c_void_p).value
            self.data = _memoryview_from_memory(addr, f.len, _PYBUF_READ)
        elif f.len:
            arr = ctypes.cast(f.data, ctypes.POINTER(ctypes.c_ubyte * f.len)).contents
            self.data = memoryview(arr).cast("B").toreadonly()
        else:
            self.data = memoryview(b"")

    def __len__(self) -> int:
        return self.data.nbytes

    def readinto(self, buf: Any) -> int:
        """Copies the frame into `buf` (a writable buffer you own, at least
        `len(self)` bytes: bytearray, memoryview, array, numpy array);
        returns the number of bytes copied."""
        n = self.data.nbytes
        dst = memoryview(buf).cast("B")
        if dst.readonly:
            raise TypeError("readinto needs a writable buffer")
        if dst.nbytes < n:
            raise ValueError(f"buffer of {dst.nbytes} bytes is too small for a {n}-byte frame")
        dst[:n] = self.data
        return n

    def to_frame(self) -> VideoFrame:
        """A `VideoFrame` with a copy of the bytes (valid after the callback)."""
        return VideoFrame(self.frame_id, self.codec, self.width, self.height, self.fps,
                          self.timestamp, self.keyframe, self.data.tobytes())

    def _release(self) -> None:
        self.data.release()


def _with_view(f: _ffi.xnano_video_frame, cb: Callable[[VideoFrameView], None]) -> None:
    v = VideoFrameView(f)
    try:
        cb(v)
    finally:
        v._release()


@dataclass(frozen=True)
class AudioPacket:
    """One audio packet."""

    frame_id: int
    codec: int
    channels: int
    sample_rate: int
    timestamp: int
    data: bytes

    @classmethod
    def from_c(cls, p: _ffi.xnano_audio_packet) -> "AudioPacket":
        data = ctypes.string_at(p.data, p.len) if p.len else b""
        return cls(p.frame_id, p.codec, p.channels, p.sample_rate, p.timestamp, data)


@dataclass(frozen=True)
class Rumble:
    """A rumble command."""

    controller: int
    left_trigger: int
    right_trigger: int
    left_handle: int
    right_handle: int

    @classmethod
    def from_c(cls, r: _ffi.xnano_rumble) -> "Rumble":
        return _struct_to(cls, r)


@dataclass(frozen=True)
class StateChange:
    """A session state change; `error` tells why a CLOSED session closed."""

    state: Union[State, int]
    error: Union[Result, int]
    message: str


Event = Union[VideoFrame, AudioPacket, Rumble, StateChange]


@dataclass
class ControllerState:
    """A controller's state (`xnano_controller_state`)."""

    buttons: int = 0
    left_trigger: int = 0
    right_trigger: int = 0
    left_thumb_x: int = 0
    left_thumb_y: int = 0
    right_thumb_x: int = 0
    right_thumb_y: int = 0

    def to_c(self) -> _ffi.xnano_controller_state:
        return _ffi.xnano_controller_state(
            ctypes.sizeof(_ffi.xnano_controller_state),
            int(self.buttons),
            self.left_trigger,
            self.right_trigger,
            self.left_thumb_x,
            self.left_thumb_y,
            self.right_thumb_x,
            self.right_thumb_y,
        )


@dataclass(frozen=True)
class ClientStats:
    """Session statistics (`xnano_client_stats`, every field but
    `struct_size`)."""

    frames_delivered: int
    frames_dropped: int
    frames_lost: int
    keyframes_delivered: int
    keyframe_requests: int
    lost_reports: int
    chunks_accepted: int
    chunks_duplicate: int
    chunks_late: int
    chunks_invalid: int
    video_bytes: int
    audio_packets: int
    audio_bytes: int
    input_frames_sent: int
    input_frames_acked: int
    rumble_events: int
    chat_audio_sent: int
    udp_packets: int
    udp_bytes: int
    udp_malformed: int
    udp_rejected: int
    udp_foreign_packets: int
    tcp_packets: int
    tcp_malformed: int
    latency_p50_us: int
    latency_p99_us: int
    latency_max_us: int
    events_dropped: int
    frame_id_restarts: int
    chunk_flag_mismatches: int
    input_frames_resent: int

    @classmethod
    def from_c(cls, s: _ffi.xnano_client_stats) -> "ClientStats":
        return _struct_to(cls, s)


# ------------------------------------------------------- SmartGlass data


def _text(arr: Any) -> str:
    raw = bytes(arr)
    return raw.split(b"\0", 1)[0].decode("utf-8", "replace")


@dataclass(frozen=True)
class ConsoleInfo:
    """A console as discovery describes it (`xnano_console_info`)."""

    name: str
    live_id: str
    address: str
    uuid: str
    curve: Union[Curve, int]
    flags: ConsoleFlag
    device_type: int
    last_error: int
    port: int

    @classmethod
    def from_c(cls, c: _ffi.xnano_console_info) -> "ConsoleInfo":
        return cls(
            name=_text(c.name),
            live_id=_text(c.live_id),
            address=_text(c.address),
            uuid=_text(c.uuid),
            curve=_enum_or_int(Curve, c.curve),
            flags=ConsoleFlag(c.flags),
            device_type=c.device_type,
            last_error=c.last_error,
            port=c.port,
        )

    @property
    def anonymous_allowed(self) -> bool:
        return bool(self.flags & ConsoleFlag.ALLOW_ANONYMOUS_USERS)


@dataclass
class ConsoleConfig:
    """Settings of `Console.connect` (`xnano_console_config`). Leave
    `userhash` / `auth_token` None for an anonymous connection."""

    userhash: Optional[str] = None
    auth_token: Optional[str] = None
    ignore_anonymous_flag: bool = False
    discovery_timeout_ms: int = 3000
    wait_timeout_ms: int = 10000
    heartbeat_interval_ms: int = 3000
    console_timeout_ms: int = 15000
    event_queue_capacity: int = 0

    def to_c(self) -> _ffi.xnano_console_config:
        c = _sized(_ffi.xnano_console_config)
        _check(lib.xnano_console_config_default(ctypes.byref(c)))
        for f in fields(self):
            v = getattr(self, f.name)
            if f.name in ("userhash", "auth_token"):
                # The struct keeps the bytes alive (ctypes `_objects`).
                v = None if v is None else v.encode()
            setattr(c, f.name, v)
        return c

    @classmethod
    def library_default(cls) -> "ConsoleConfig":
        c = _sized(_ffi.xnano_console_config)
        _check(lib.xnano_console_config_default(ctypes.byref(c)))
        out = cls(**{f.name: getattr(c, f.name) for f in fields(cls)})
        out.userhash = c.userhash.decode() if c.userhash else None
        out.auth_token = c.auth_token.decode() if c.auth_token else None
        return out


def _s(p: Optional[bytes]) -> str:
    return (p or b"").decode("utf-8", "replace")


@dataclass(frozen=True)
class ConsoleEvent:
    """One event of a `Console` (`xnano_console_event`). Fields that do not
    belong to `kind` are 0 / ""; `details` is the whole event, parsed from
    its JSON."""

    kind: Union[ConsoleEventType, int]
    error: Union[Result, int]
    message: str
    json: str
    participant_id: int = 0
    title_id: int = 0
    os_major_version: int = 0
    os_minor_version: int = 0
    os_build_number: int = 0
    active_title_count: int = 0
    playback_status: int = 0
    media_position: int = 0
    media_end: int = 0
    text_session_id: int = 0
    text_version: int = 0
    text_max_length: int = 0
    text_result: int = 0
    text: str = ""
    channel: int = 0
    gamestream_state: int = 0
    tcp_port: int = 0
    udp_port: int = 0

    @classmethod
    def from_c(cls, e: _ffi.xnano_console_event) -> "ConsoleEvent":
        plain = {
            f.name: getattr(e, f.name)
            for f in fields(cls)
            if f.name not in ("kind", "error", "message", "json", "text")
        }
        return cls(
            kind=_enum_or_int(ConsoleEventType, e.kind),
            error=Result.of(e.error),
            message=_s(e.message),
            json=_s(e.json),
            text=_s(e.text),
            **plain,
        )

    @property
    def details(self) -> Dict[str, Any]:
        try:
            d: Dict[str, Any] = _json.loads(self.json)
        except ValueError:
            return {}
        return d


@dataclass
class GamepadState:
    """A SmartGlass gamepad state (`xnano_gamepad`): triggers 0..1, sticks
    -1..1."""

    buttons: int = 0
    left_trigger: float = 0.0
    right_trigger: float = 0.0
    left_thumb_x: float = 0.0
    left_thumb_y: float = 0.0
    right_thumb_x: float = 0.0
    right_thumb_y: float = 0.0

    def to_c(self) -> _ffi.xnano_gamepad:
        return _ffi.xnano_gamepad(
            ctypes.sizeof(_ffi.xnano_gamepad),
            int(self.buttons),
            self.left_trigger,
            self.right_trigger,
            self.left_thumb_x,
            self.left_thumb_y,
            self.right_thumb_x,
            self.right_thumb_y,
        )


Address = Union[str, Tuple[str, int], ConsoleInfo]


def _address(target: Address) -> bytes:
    if isinstance(target, ConsoleInfo):
        target = target.address
    if isinstance(target, tuple):
        target = f"{target[0]}:{target[1]}"
    return str(target).encode()


def discover(address: Optional[Address] = None, timeout: float = 3.0) -> List[ConsoleInfo]:
    """Discovers consoles: at `address` ("host", "host:port", or (host,
    port)) by unicast, returning at the first answer; with None, on the
    local network by broadcast for the whole `timeout` (seconds). Returns
    an empty list when nobody answered."""
    ms = max(1, int(timeout * 1000))
    d = ctypes.POINTER(_ffi.xnano_discovery)()
    _check(lib.xnano_discover(None if address is None else _address(address), ms, ctypes.byref(d)))
    try:
        n = ctypes.c_size_t()
        _check(lib.xnano_discovery_count(d, ctypes.byref(n)))
        out = []
        for i in range(n.value):
            info = _sized(_ffi.xnano_console_info)
            _check(lib.xnano_discovery_get(d, i, ctypes.byref(info)))
            out.append(ConsoleInfo.from_c(info))
        return out
    finally:
        lib.xnano_discovery_free(d)


def power_on(live_id: Union[str, ConsoleInfo], address: Optional[Address] = None, tries: int = 0) -> None:
    """Sends power-on requests for the console with this Live ID (or the
    `ConsoleInfo`'s), to the network's broadcast address and, when given,
    to `address`; `tries` rounds (0: the default, 2)."""
    if isinstance(live_id, ConsoleInfo):
        if address is None:
            address = live_id.address
        live_id = live_id.live_id
    _check(lib.xnano_power_on(live_id.encode(), None if address is None else _address(address), tries))


# ------------------------------------------------------------------ logging

_log_lock = threading.Lock()
_log_keepalive: Any = None
LogCallback = Callable[[LogLevel, str, str], None]


def set_log_callback(callback: Optional[LogCallback], max_level: LogLevel = LogLevel.INFO) -> None:
    """Sets the process-wide log callback `callback(level, target, message)`
    (None removes it). It runs on the library's threads and must not call
    into xnano."""
    global _log_keepalive
    with _log_lock:
        if callback is None:
            _check(lib.xnano_set_log_callback(_ffi.xnano_log_callback(), None, LogLevel.OFF))
            _log_keepalive = None
            return

        def tramp(_ud: Any, level: int, target: bytes, message: bytes) -> None:
            _handle.enter_callback()
            try:
                callback(
                    _enum_or_int(LogLevel, level),  # type: ignore[arg-type]
                    target.decode("utf-8", "replace"),
                    message.decode("utf-8", "replace"),
                )
            except Exception:  # never propagate into C
                traceback.print_exc()
            finally:
                _handle.leave_callback()

        cb = _ffi.xnano_log_callback(tramp)
        _check(lib.xnano_set_log_callback(cb, None, int(max_level)))
        # The previous trampoline is no longer called once the setter returned.
        _log_keepalive = cb


_PY_LEVELS = {
    LogLevel.ERROR: logging.ERROR,
    LogLevel.WARN: logging.WARNING,
    LogLevel.INFO: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.TRACE: logging.DEBUG - 5,
}


def log_to_python(max_level: LogLevel = LogLevel.INFO) -> None:
    """Forwards the library's log to the `logging` module (logger names are
    the Rust module paths, e.g. "xnano.nano.engine")."""

    def forward(level: LogLevel, target: str, message: str) -> None:
        logging.getLogger(target.replace("::", ".")).log(_PY_LEVELS.get(level, logging.INFO), message)

    set_log_callback(forward, max_level)


# ------------------------------------------------------- shared machinery

# Pull-mode waits are made of native waits this long at most, so that a
# close on another thread is never held up by more than one of them.
_WAIT_SLICE_MS = 200


def _next_event(
    h: Handle,
    take: Callable[..., int],
    event_type: Type[S],
    convert: Callable[[S], T],
    free: Callable[[Any], None],
    timeout: Optional[float],
) -> Optional[T]:
    """One event from a pull-mode queue: waits up to `timeout` seconds
    (None: until an event arrives), in bounded native waits."""
    deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
    while True:
        if deadline is None:
            ms = _WAIT_SLICE_MS
        else:
            ms = max(0, min(_WAIT_SLICE_MS, math.ceil((deadline - time.monotonic()) * 1000)))
        ev = ctypes.POINTER(event_type)()
        r = h.call(take, ms, ctypes.byref(ev))
        if r == _ffi.XNANO_OK:
            try:
                return convert(ev.contents)
            finally:
                free(ev)
        if r != _ffi.XNANO_ERR_TIMEOUT:
            _check(r)
        if deadline is not None and time.monotonic() >= deadline:
            return None


class EventStream(Generic[E]):
    """The queued events of a pull-mode `Client` or `Console`, until its
    session is closed (the CLOSED event is the last) or the object is
    closed. Both ``for ev in stream`` (blocking) and ``async for ev in
    stream`` (each wait runs in the loop's default executor; cancelling
    an ``await`` loses no event: the next one picks up the same wait)."""

    def __init__(self, next_event: Callable[[Optional[float]], Optional[E]], timeout: float) -> None:
        self._next = next_event
        self._timeout = timeout
        self._pending: Optional["asyncio.Future[Optional[E]]"] = None

    def __iter__(self) -> Iterator[E]:
        while True:
            try:
                e = self._next(self._timeout)
            except (ClosedError, HandleClosedError):
                return
            if e is not None:
                yield e

    def __aiter__(self) -> AsyncIterator[E]:
        return self

    async def __anext__(self) -> E:
        loop = asyncio.get_running_loop()
        while True:
            fut = self._pending
            if fut is None or fut.cancelled():
                fut = self._pending = loop.run_in_executor(None, self._next, self._timeout)
            try:
                e = await asyncio.shield(fut)
            except asyncio.CancelledError:
                raise  # `fut` stays pending: the next __anext__ awaits it
            except (ClosedError, HandleClosedError):
                self._pending = None
                raise StopAsyncIteration from None
            except BaseException:
                self._pending = None
                raise
            self._pending = None
            if e is not None:
                return e


def _trampoline(owner: Any, body: Callable[..., None]) -> Callable[..., None]:
    """A C callback body that holds `owner` weakly (so no reference cycle
    runs through the library) and calls `body(owner, *c_args)`. Exceptions
    go to `owner.callback_errors`; a callback of a collected owner does
    nothing."""
    ref = weakref.ref(owner)

    def tramp(*args: Any) -> None:
        _handle.enter_callback()
        try:
            o = ref()
            if o is not None:
                try:
                    body(o, *args)
                except BaseException as e:  # never unwind into C
                    o.callback_errors.append(e)
                    traceback.print_exc()
            # Dropping what may be the last reference: a finalizer it runs
            # runs here, still marked as inside a callback.
            o = None
        finally:
            _handle.leave_callback()

    return tramp


async def _in_executor(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(None, fn, *args)


# ------------------------------------------------------------------ client

VideoCallback = Callable[[VideoFrame], None]
VideoViewCallback = Callable[[VideoFrameView], None]
AudioCallback = Callable[[AudioPacket], None]
RumbleCallback = Callable[[Rumble], None]
StateCallback = Callable[[StateChange], None]


def _event_from_c(e: _ffi.xnano_event) -> Event:
    if e.kind == _ffi.XNANO_EVENT_VIDEO_FRAME:
        return VideoFrame.from_c(e.video.contents)
    if e.kind == _ffi.XNANO_EVENT_AUDIO:
        return AudioPacket.from_c(e.audio.contents)
    if e.kind == _ffi.XNANO_EVENT_RUMBLE:
        return Rumble.from_c(e.rumble.contents)
    return StateChange(_enum_or_int(State, e.state), Result.of(e.error), _s(e.message))


class Client:
    """A gamestream client session.

    Push style (callbacks run on the library's threads)::

        with xnano.Client.connect_nano(host, tcp, udp, on_video=f) as c:
            ...

    Pull style (no foreign-thread calls): pass
    ``ClientConfig(event_queue_capacity=N)`` and call `next_event` /
    iterate `events()` (also with ``async for``).

    Exceptions raised by a callback are caught (they never reach the
    library), printed, and kept in `callback_errors`.

    Every method may be called from any thread, `close` included: a call
    racing `close` either completes before the handle is freed or raises
    `HandleClosedError`.
    """

    def __init__(
        self,
        config: Optional[ClientConfig] = None,
        *,
        on_video: Optional[VideoCallback] = None,
        on_audio: Optional[AudioCallback] = None,
        on_rumble: Optional[RumbleCallback] = None,
        on_state: Optional[StateCallback] = None,
        on_video_view: Optional[VideoViewCallback] = None,
    ) -> None:
        self.config = config or ClientConfig()
        self.callback_errors: List[BaseException] = []
        c = self.config.to_c()
        ptr = ctypes.POINTER(_ffi.xnano_client)()
        _check(lib.xnano_client_new(ctypes.byref(c), ctypes.byref(ptr)))
        self._h = Handle("client", ptr, lib.xnano_client_free, lib.xnano_client_stop)
        # Frees the handle when this object goes, on whatever thread that
        # happens (a library thread hands it to the reaper).
        weakref.finalize(self, self._h.close)
        self._on_video = on_video
        self._on_audio = on_audio
        self._on_rumble = on_rumble
        self._on_state = on_state
        self._on_video_view = on_video_view
        if on_video and on_video_view:
            self.close()
            raise TypeError("pass either on_video or on_video_view, not both")
        try:
            if on_video_view:
                # No copy: the view is released when the callback returns.
                self._set(lib.xnano_client_set_video_callback, _ffi.xnano_video_callback,
                          lambda o, _ud, f: _with_view(f.contents, o._on_video_view))
            if on_video:
                self._set(lib.xnano_client_set_video_callback, _ffi.xnano_video_callback,
                          lambda o, _ud, f: o._on_video(VideoFrame.from_c(f.contents)))
            if on_audio:
                self._set(lib.xnano_client_set_audio_callback, _ffi.xnano_audio_callback,
                          lambda o, _ud, p: o._on_audio(AudioPacket.from_c(p.contents)))
            if on_rumble:
                self._set(lib.xnano_client_set_rumble_callback, _ffi.xnano_rumble_callback,
                          lambda o, _ud, r: o._on_rumble(Rumble.from_c(r.contents)))
            if on_state:
                self._set(lib.xnano_client_set_state_callback, _ffi.xnano_state_callback,
                          lambda o, _ud, s, e, m: o._on_state(
                              StateChange(_enum_or_int(State, s), Result.of(e), _s(m))))
        except BaseException:
            self.close()
            raise

    def _set(self, setter: Callable[..., int], cftype: Any, body: Callable[..., None]) -> None:
        cb = cftype(_trampoline(self, body))
        # Kept with the handle until its free returned.
        self._h.keep.append(cb)
        _check(self._h.call(setter, cb, None))

    @classmethod
    def connect_nano(
        cls,
        host: str,
        tcp_port: int,
        udp_port: int,
        config: Optional[ClientConfig] = None,
        *,
        on_video: Optional[VideoCallback] = None,
        on_audio: Optional[AudioCallback] = None,
        on_rumble: Optional[RumbleCallback] = None,
        on_state: Optional[StateCallback] = None,
        on_video_view: Optional[VideoViewCallback] = None,
    ) -> "Client":
        """Creates a client and connects it straight to a Nano host.
        ``on_video_view`` receives each frame as a `VideoFrameView` (no
        copy, valid during the call) instead of a `VideoFrame`."""
        c = cls(config, on_video=on_video, on_audio=on_audio, on_rumble=on_rumble, on_state=on_state,
                on_video_view=on_video_view)
        try:
            c.connect(host, tcp_port, udp_port)
        except BaseException:
            c.close()
            raise
        return c

    @classmethod
    def connect_console(
        cls,
        console: "Console",
        config: Optional[ClientConfig] = None,
        gamestream: Optional["GameStreamConfig"] = None,
        **kwargs: Any,
    ) -> "Client":
        """Creates a client and streams from a connected `Console`: the
        console starts its gamestream and the client connects to it.
        Keyword arguments named ``on_*`` are callbacks (as for
        `connect_nano`); the others are gamestream configuration keys by
        their protocol names (``videoMaximumWidth=640``,
        ``enableOpusAudio=True``...)."""
        callbacks = {k: v for k, v in kwargs.items() if k.startswith("on_")}
        keys = {k: v for k, v in kwargs.items() if not k.startswith("on_")}
        c = cls(config, **callbacks)
        try:
            c.stream_from(console, gamestream, **keys)
        except BaseException:
            c.close()
            raise
        return c

    def stream_from(self, console: "Console", gamestream: Optional["GameStreamConfig"] = None,
                    **keys: Any) -> None:
        """Starts a gamestream through a connected `Console` and connects
        this (idle) client to it (`xnano_client_connect_console`)."""
        if gamestream is not None and keys:
            raise TypeError("pass either a GameStreamConfig or keys, not both")
        gs = gamestream if gamestream is not None else GameStreamConfig(**keys)
        try:
            with self._h as p, console._h as cp, gs._h as gp:
                r = lib.xnano_client_connect_console(p, cp, gp)
            _check(r)
        finally:
            if gamestream is None:
                gs.close()

    def connect(self, host: str, tcp_port: int, udp_port: int) -> None:
        """Connects to a Nano host (`xnano_client_connect_nano`)."""
        _check(self._h.call(lib.xnano_client_connect_nano, host.encode(), tcp_port, udp_port))

    async def connect_async(self, host: str, tcp_port: int, udp_port: int) -> None:
        """`connect` for asyncio: the blocking connect runs in the loop's
        default executor. Cancelling the await does not cancel the connect
        under way (close the client for that)."""
        await _in_executor(self.connect, host, tcp_port, udp_port)

    async def stream_from_async(self, console: "Console", gamestream: Optional["GameStreamConfig"] = None,
                                **keys: Any) -> None:
        """`stream_from` for asyncio (in the default executor)."""
        await _in_executor(lambda: self.stream_from(console, gamestream, **keys))

    @property
    def state(self) -> State:
        s = _ffi.xnano_state()
        _check(self._h.call(lib.xnano_client_get_state, ctypes.byref(s)))
        return State(s.value)

    def stats(self) -> ClientStats:
        s = _sized(_ffi.xnano_client_stats)
        _check(self._h.call(lib.xnano_client_get_stats, ctypes.byref(s)))
        return ClientStats.from_c(s)

    def set_controller_state(self, controller: int = 0,
                             state: Optional[ControllerState] = None, **kwargs: int) -> None:
        """Sets a controller's state: a `ControllerState` or its fields as
        keyword arguments (``buttons=Button.A, right_trigger=255``)."""
        st = state or ControllerState(**kwargs)
        c = st.to_c()
        _check(self._h.call(lib.xnano_client_set_controller_state, controller, ctypes.byref(c)))

    def set_controller_connected(self, controller: int, connected: bool) -> None:
        _check(self._h.call(lib.xnano_client_set_controller_connected, controller, connected))

    def request_keyframe(self) -> None:
        _check(self._h.call(lib.xnano_client_request_keyframe))

    def change_video_quality(self, values: Sequence[int]) -> None:
        arr = (ctypes.c_uint32 * len(values))(*values)
        _check(self._h.call(lib.xnano_client_change_video_quality, arr, len(values)))

    def send_chat_audio(self, data: bytes) -> None:
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data) if data else (ctypes.c_uint8 * 1)()
        _check(self._h.call(lib.xnano_client_send_chat_audio, buf, len(data)))

    def next_event(self, timeout: Optional[float] = 1.0) -> Optional[Event]:
        """The next queued event (pull mode), or None when none arrived
        within `timeout` seconds; with None, waits until one arrives.
        Raises ClosedError after the final CLOSED state event was taken,
        HandleClosedError once the client is closed."""
        return _next_event(self._h, lib.xnano_client_next_event, _ffi.xnano_event,
                           _event_from_c, lib.xnano_event_free, timeout)

    def events(self, timeout: float = 1.0) -> EventStream[Event]:
        """The queued events until the session is closed (the CLOSED state
        change is the last one): ``for ev in client.events()`` or ``async
        for ev in client.events()``. `timeout` bounds each wait (the
        stream goes on after it)."""
        return EventStream(self.next_event, timeout)

    def stop(self) -> ClientStats:
        """Stops the session (joins the library's threads; no callback runs
        afterwards) and returns the final statistics."""
        _check(self._h.call(lib.xnano_client_stop))
        return self.stats()

    @property
    def closed(self) -> bool:
        """True once `close` was called (or the object was finalized)."""
        return self._h.closed

    def close(self) -> None:
        """Stops and frees the client (idempotent). New calls raise
        `HandleClosedError` from here on; the free waits for the calls in
        flight on other threads. From inside a callback (any client's or
        console's) the free is handed to the binding's reaper thread and
        `close` returns at once."""
        self._h.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await _in_executor(self.close)


# ------------------------------------------------------------- SmartGlass


def _config_text(v: object) -> bytes:
    if isinstance(v, bool):
        return b"true" if v else b"false"
    return str(v).encode()


class GameStreamConfig:
    """The StartGameStream configuration (`xnano_gamestream_config`), set
    by protocol key names::

        gs = xnano.GameStreamConfig(videoMaximumWidth=640, enableOpusAudio=True)
        gs["videoMaximumFrameRate"] = 30
        gs["videoMaximumWidth"]      # -> "640"
    """

    def __init__(self, **keys: object) -> None:
        ptr = ctypes.POINTER(_ffi.xnano_gamestream_config)()
        _check(lib.xnano_gamestream_config_new(ctypes.byref(ptr)))
        self._h = Handle("gamestream configuration", ptr, lib.xnano_gamestream_config_free)
        weakref.finalize(self, self._h.close)
        try:
            for k, v in keys.items():
                self.set(k, v)
        except BaseException:
            self.close()
            raise

    def set(self, key: str, value: object) -> None:
        """Sets a key (InvalidArgumentError for unknown keys or bad values)."""
        _check(self._h.call(lib.xnano_gamestream_config_set, key.encode(), _config_text(value)))

    def get(self, key: str) -> str:
        """A key's value as sent (text)."""
        size = 32
        while True:
            buf = ctypes.create_string_buffer(size)
            n = ctypes.c_size_t()
            r = self._h.call(lib.xnano_gamestream_config_get, key.encode(), buf, size, ctypes.byref(n))
            if r == _ffi.XNANO_ERR_BUFFER_TOO_SMALL:
                size *= 4
                continue
            _check(r)
            return buf.raw[: n.value].decode()

    __setitem__ = set
    __getitem__ = get

    def close(self) -> None:
        self._h.close()

    def __enter__(self) -> "GameStreamConfig":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


ConsoleEventCallback = Callable[[ConsoleEvent], None]


class Console:
    """A SmartGlass session with a console. Use as a context manager::

        with xnano.Console.connect(address, on_event=print) as console:
            console.launch_title("ms-xbl-...://")
            with xnano.Client.connect_console(console, on_video=f) as client:
                ...

    `on_event(ConsoleEvent)` runs on the library's thread (the CONNECTED
    event on the thread calling `connect`, before it returns). Exceptions it
    raises are printed and kept in `callback_errors`. Pull mode:
    ``ConsoleConfig(event_queue_capacity=N)`` and `next_event` / `events()`.
    Threads and `close` behave as for `Client`.
    """

    def __init__(self, on_event: Optional[ConsoleEventCallback] = None) -> None:
        self.callback_errors: List[BaseException] = []
        ptr = ctypes.POINTER(_ffi.xnano_console)()
        _check(lib.xnano_console_new(ctypes.byref(ptr)))
        self._h = Handle("console", ptr, lib.xnano_console_free, lib.xnano_console_disconnect)
        weakref.finalize(self, self._h.close)
        self._on_event = on_event
        if on_event is not None:
            cb = _ffi.xnano_console_event_callback(_trampoline(
                self, lambda o, _ud, ev: o._on_event(ConsoleEvent.from_c(ev.contents))))
            self._h.keep.append(cb)
            try:
                _check(self._h.call(lib.xnano_console_set_event_callback, cb, None))
            except BaseException:
                self.close()
                raise

    @classmethod
    def connect(cls, address: Address, config: Optional[ConsoleConfig] = None, *,
                on_event: Optional[ConsoleEventCallback] = None, **config_fields: Any) -> "Console":
        """Creates a console handle and connects it to `address` ("host",
        "host:port", (host, port) or a `ConsoleInfo`). `config_fields`
        override `config` (``userhash=..., auth_token=...``)."""
        cfg = config or ConsoleConfig()
        for k, v in config_fields.items():
            if not hasattr(cfg, k):
                raise TypeError(f"unknown ConsoleConfig field {k!r}")
            setattr(cfg, k, v)
        c = cls(on_event)
        try:
            c.open(address, cfg)
        except BaseException:
            c.close()
            raise
        return c

    def open(self, address: Address, config: Optional[ConsoleConfig] = None) -> None:
        """Connects this idle handle (`xnano_console_connect`)."""
        c = (config or ConsoleConfig()).to_c()
        _check(self._h.call(lib.xnano_console_connect, _address(address), ctypes.byref(c)))

    async def open_async(self, address: Address, config: Optional[ConsoleConfig] = None) -> None:
        """`open` for asyncio (in the loop's default executor)."""
        await _in_executor(self.open, address, config)

    @property
    def state(self) -> ConsoleState:
        s = _ffi.xnano_console_state()
        _check(self._h.call(lib.xnano_console_get_state, ctypes.byref(s)))
        return ConsoleState(s.value)

    @property
    def info(self) -> ConsoleInfo:
        i = _sized(_ffi.xnano_console_info)
        _check(self._h.call(lib.xnano_console_get_info, ctypes.byref(i)))
        return ConsoleInfo.from_c(i)

    def events_dropped(self) -> int:
        n = ctypes.c_uint64()
        _check(self._h.call(lib.xnano_console_events_dropped, ctypes.byref(n)))
        return n.value

    def next_event(self, timeout: Optional[float] = 1.0) -> Optional[ConsoleEvent]:
        """The next queued event (pull mode), or None after `timeout`
        seconds (None: waits until one arrives). Raises ClosedError once
        CLOSED was taken, HandleClosedError once the console is closed."""
        return _next_event(self._h, lib.xnano_console_next_event, _ffi.xnano_console_event,
                           ConsoleEvent.from_c, lib.xnano_console_event_free, timeout)

    def events(self, timeout: float = 1.0) -> EventStream[ConsoleEvent]:
        """The queued events until the session is closed (CLOSED last),
        for ``for`` and ``async for``."""
        return EventStream(self.next_event, timeout)

    # Commands.

    def power_off(self) -> None:
        _check(self._h.call(lib.xnano_console_power_off))

    def launch_title(self, uri: str, location: TitleLocation = TitleLocation.FULL) -> None:
        _check(self._h.call(lib.xnano_console_launch_title, uri.encode(), int(location)))

    def media_command(self, title_id: int, command: MediaCommand, seek_position: int = 0) -> int:
        """Sends a media command; returns its request id."""
        rid = ctypes.c_uint64()
        _check(self._h.call(
            lib.xnano_console_media_command, title_id, int(command), seek_position, ctypes.byref(rid)))
        return rid.value

    def gamepad(self, state: Optional[GamepadState] = None, **kwargs: float) -> None:
        """Sends a SmartGlass gamepad state (``buttons=GamepadButton.A``...)."""
        g = (state or GamepadState(**kwargs)).to_c()  # type: ignore[arg-type]
        _check(self._h.call(lib.xnano_console_gamepad, ctypes.byref(g)))

    def send_text(self, text: str) -> None:
        _check(self._h.call(lib.xnano_console_send_text, text.encode()))

    def text_acknowledge(self, text_session_id: int, version: int) -> None:
        _check(self._h.call(lib.xnano_console_text_acknowledge, text_session_id, version))

    def text_done(self, accept: bool = True) -> None:
        r = _ffi.XNANO_TEXT_RESULT_ACCEPT if accept else _ffi.XNANO_TEXT_RESULT_CANCEL
        _check(self._h.call(lib.xnano_console_text_done, r))

    def game_dvr_record(self, start_delta_s: int = -30, end_delta_s: int = 0) -> None:
        _check(self._h.call(lib.xnano_console_game_dvr_record, start_delta_s, end_delta_s))

    def unsnap(self) -> None:
        _check(self._h.call(lib.xnano_console_unsnap))

    def disconnect(self) -> None:
        """Says goodbye and joins the session's thread; the CLOSED event has
        been delivered when it returns."""
        _check(self._h.call(lib.xnano_console_disconnect))

    @property
    def closed(self) -> bool:
        return self._h.closed

    def close(self) -> None:
        """Disconnects and frees the handle (idempotent; as `Client.close`)."""
        self._h.close()

    def __enter__(self) -> "Console":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Console":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await _in_executor(self.close)
