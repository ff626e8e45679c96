"""xnano: Xbox One Nano gamestreaming client (Python binding over ctypes).

Quick start, against the built-in simulated console::

    import xnano

    with xnano.SimConsole() as sim, xnano.Client.connect_nano(
        *sim.nano_address, on_video=lambda f: print(f.frame_id, len(f.data))
    ) as client:
        client.set_controller_state(0, buttons=xnano.Button.A)
        ...

The native library is found through $XNANO_LIB, else the copy bundled in
this package at install time.
"""

from ._api import (
    AudioCodec,
    AudioPacket,
    Button,
    Client,
    ClientConfig,
    ClientStats,
    ClosedError,
    ControllerState,
    Event,
    FromCallbackError,
    InvalidArgumentError,
    LogLevel,
    NullArgumentError,
    PanicError,
    ProtocolError,
    Result,
    Rumble,
    SimAudio,
    SimConfig,
    SimConsole,
    SimStats,
    SimVideo,
    State,
    StateChange,
    VideoCodec,
    VideoFrame,
    WrongStateError,
    XnanoError,
    XnanoIOError,
    XnanoTimeoutError,
    log_to_python,
    set_log_callback,
    version,
)
from ._ffi import library_path

__all__ = [
    "AudioCodec",
    "AudioPacket",
    "Button",
    "Client",
    "ClientConfig",
    "ClientStats",
    "ClosedError",
    "ControllerState",
    "Event",
    "FromCallbackError",
    "InvalidArgumentError",
    "LogLevel",
    "NullArgumentError",
    "PanicError",
    "ProtocolError",
    "Result",
    "Rumble",
    "SimAudio",
    "SimConfig",
    "SimConsole",
    "SimStats",
    "SimVideo",
    "State",
    "StateChange",
    "VideoCodec",
    "VideoFrame",
    "WrongStateError",
    "XnanoError",
    "XnanoIOError",
    "XnanoTimeoutError",
    "library_path",
    "log_to_python",
    "set_log_callback",
    "version",
]

__version__ = version()
