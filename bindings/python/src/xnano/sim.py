"""The simulated console: a simulated Xbox One (SmartGlass console and Nano
host) on loopback, for tests, benchmarks and demos.

It is a library of its own, libxnano_sim (sim/include/xnano_sim.h), which
programs that ship do not need: `import xnano` neither imports this module
nor loads that library. Importing `xnano.sim` loads it from
$XNANO_SIM_LIB when set, else from the directory of the loaded libxnano,
else from the dev build directory (cargo's target/<profile>, where
`cargo build -p xnano-sim --lib` puts it); `library_path()` tells which.
Importing checks `xnano_sim_abi_version()` against `ABI_VERSION` (1) and
raises `xnano.AbiMismatchError` (an ImportError naming the path) for a
library of another ABI, OSError when there is none::

    import xnano
    from xnano.sim import SimConsole, SimVideo

    with SimConsole(video_source=SimVideo.SYNTHETIC) as sim, \\
            xnano.Client.connect_nano(*sim.nano_address, on_video=print) as client:
        ...

Failures raise the same `xnano.XnanoError` subclasses as the rest of the
binding, with the message of libxnano_sim (`xnano_sim_last_error()`).
"""

from __future__ import annotations

import ctypes
import enum
import weakref
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Optional, Tuple

from . import _ffi, _sim_ffi
from ._api import ConsoleInfo, _sized, _struct_to
from ._errors import Result, WrongStateError, check
from ._handle import Handle
from ._sim_ffi import ABI_VERSION, lib

__all__ = [
    "ABI_VERSION",
    "SimAudio",
    "SimConfig",
    "SimConsole",
    "SimStats",
    "SimVideo",
    "abi_version",
    "library_path",
]


def _check(r: int) -> None:
    """`xnano._errors.check` with libxnano_sim's message (each library has
    its own thread-local last error)."""
    check(r, lib.xnano_sim_last_error)


def abi_version() -> int:
    """The loaded libxnano_sim's C ABI version (`xnano_sim_abi_version()`);
    importing refused any library whose version is not `ABI_VERSION`."""
    return int(lib.xnano_sim_abi_version())


def library_path() -> Path:
    """The file libxnano_sim was loaded from."""
    return _sim_ffi.loaded_path


class SimVideo(enum.IntEnum):
    """Video source of the simulated console."""

    TEST_PATTERN = _sim_ffi.XNANO_SIM_VIDEO_TEST_PATTERN
    SYNTHETIC = _sim_ffi.XNANO_SIM_VIDEO_SYNTHETIC


class SimAudio(enum.IntEnum):
    """Audio source of the simulated console."""

    OPUS = _sim_ffi.XNANO_SIM_AUDIO_OPUS
    PCM = _sim_ffi.XNANO_SIM_AUDIO_PCM
    NONE = _sim_ffi.XNANO_SIM_AUDIO_NONE

@dataclass
class SimConfig:
    """Simulated console settings (`xnano_sim_config`)."""

    tcp_port: int = 0
    udp_port: int = 0
    width: int = 1280
    height: int = 720
    fps: int = 60
    bitrate_bps: int = 8_000_000
    keyframe_interval: int = 120
    chunk_size: int = 1400
    video_source: SimVideo = SimVideo.TEST_PATTERN
    synthetic_min_len: int = 2000
    synthetic_max_len: int = 20000
    synthetic_seed: int = 1
    audio_source: SimAudio = SimAudio.OPUS
    telemetry_interval_ms: int = 1000
    session_seed: int = 0
    loss_pct: float = 0.0
    reorder_pct: float = 0.0
    duplicate_pct: float = 0.0
    delay_ms: int = 0
    jitter_ms: int = 0
    impairment_seed: int = 1
    smartglass: bool = True
    smartglass_port: int = 0
    smartglass_require_auth: bool = False
    smartglass_powered_on: bool = True

    def to_c(self) -> _sim_ffi.xnano_sim_config:
        c = _sized(_sim_ffi.xnano_sim_config)
        _check(lib.xnano_sim_config_default(ctypes.byref(c)))
        for f in fields(self):
            setattr(c, f.name, getattr(self, f.name))
        return c

    @classmethod
    def library_default(cls) -> "SimConfig":
        c = _sized(_sim_ffi.xnano_sim_config)
        _check(lib.xnano_sim_config_default(ctypes.byref(c)))
        out = _struct_to(cls, c)
        out.video_source = SimVideo(out.video_source)
        out.audio_source = SimAudio(out.audio_source)
        return out

@dataclass(frozen=True)
class SimStats:
    """Simulated console counters (`xnano_sim_stats`, every field but
    `struct_size`)."""

    clients_accepted: int
    video_frames_sent: int
    video_bytes_sent: int
    keyframes_sent: int
    keyframe_requests: int
    audio_packets_sent: int
    input_frames_received: int
    input_acks_sent: int
    rumble_sent: int
    chat_audio_received: int
    udp_sent: int
    udp_dropped: int
    bad_packets: int
    client_connected: bool
    sg_discovery_requests: int
    sg_power_on_requests: int
    sg_connects_accepted: int
    sg_connects_rejected: int
    sg_messages_received: int
    sg_gamestreams_started: int
    sg_gamestreams_stopped: int

    @classmethod
    def from_c(cls, s: _sim_ffi.xnano_sim_stats) -> "SimStats":
        return _struct_to(cls, s)

class SimConsole:
    """The simulated console (loopback only). Use as a context manager::

        with SimConsole() as sim:
            ... sim.host, sim.tcp_port, sim.udp_port ...
    """

    host = "127.0.0.1"

    def __init__(self, config: Optional[SimConfig] = None, **overrides: Any) -> None:
        cfg = config or SimConfig()
        for k, v in overrides.items():
            if not hasattr(cfg, k):
                raise TypeError(f"unknown SimConfig field {k!r}")
            setattr(cfg, k, v)
        self.config = cfg
        c = cfg.to_c()
        ptr = ctypes.POINTER(_sim_ffi.xnano_sim)()
        _check(lib.xnano_sim_new(ctypes.byref(c), ctypes.byref(ptr)))
        self._h = Handle("simulated console", ptr, lib.xnano_sim_free)
        weakref.finalize(self, self._h.close)
        t, u = ctypes.c_uint16(), ctypes.c_uint16()
        _check(self._h.call(lib.xnano_sim_nano_ports, ctypes.byref(t), ctypes.byref(u)))
        self.tcp_port: int = t.value
        self.udp_port: int = u.value
        self.smartglass_port: Optional[int] = None
        if cfg.smartglass:
            p = ctypes.c_uint16()
            _check(self._h.call(lib.xnano_sim_smartglass_port, ctypes.byref(p)))
            self.smartglass_port = p.value

    @property
    def nano_address(self) -> Tuple[str, int, int]:
        """(host, tcp_port, udp_port) for `Client.connect_nano`."""
        return (self.host, self.tcp_port, self.udp_port)

    @property
    def smartglass_address(self) -> str:
        """"127.0.0.1:PORT" of the SmartGlass console, for `discover` and
        `Console.connect`."""
        if self.smartglass_port is None:
            raise WrongStateError(Result.ERR_WRONG_STATE, "SmartGlass is disabled (smartglass=False)")
        return f"{self.host}:{self.smartglass_port}"

    def console_info(self) -> ConsoleInfo:
        """What the SmartGlass console announces (as discovery reports it)."""
        info = _sized(_ffi.xnano_console_info)
        _check(self._h.call(lib.xnano_sim_console_info, ctypes.byref(info)))
        return ConsoleInfo.from_c(info)

    @property
    def powered_on(self) -> bool:
        on = ctypes.c_bool()
        _check(self._h.call(lib.xnano_sim_smartglass_powered_on, ctypes.byref(on)))
        return on.value

    def message_count(self, msg_type: Optional[str] = None) -> int:
        """How many SmartGlass messages of this type ("TitleLaunch",
        "MediaCommand", "Gamepad", ...; None: all) the console received."""
        n = ctypes.c_uint64()
        _check(self._h.call(
            lib.xnano_sim_smartglass_message_count,
            None if msg_type is None else msg_type.encode(), ctypes.byref(n)))
        return n.value

    def start_text_session(self, prompt: Optional[str] = None) -> int:
        """Opens a text entry session on the connected SmartGlass clients;
        returns how many it reached."""
        n = ctypes.c_uint32()
        _check(self._h.call(
            lib.xnano_sim_start_text_session, None if prompt is None else prompt.encode(), ctypes.byref(n)))
        return n.value

    def stats(self) -> SimStats:
        s = _sized(_sim_ffi.xnano_sim_stats)
        _check(self._h.call(lib.xnano_sim_get_stats, ctypes.byref(s)))
        return SimStats.from_c(s)

    def close_client(self) -> None:
        """Ends the current client's session from the console's side."""
        _check(self._h.call(lib.xnano_sim_close_client))

    def stop(self) -> None:
        _check(self._h.call(lib.xnano_sim_stop))

    @property
    def closed(self) -> bool:
        return self._h.closed

    def close(self) -> None:
        """Stops and frees the console (idempotent; see `Client.close`)."""
        self._h.close()

    def __enter__(self) -> "SimConsole":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
