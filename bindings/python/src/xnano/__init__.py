"""xnano: Xbox One SmartGlass + Nano gamestreaming client (Python binding over ctypes).

Quick start, against the built-in simulated console::

    import xnano

    with xnano.SimConsole() as sim, xnano.Client.connect_nano(
        *sim.nano_address, on_video=lambda f: print(f.frame_id, len(f.data))
    ) as client:
        client.set_controller_state(0, buttons=xnano.Button.A)
        ...

Or through SmartGlass, as with a real console::

    with xnano.SimConsole() as sim:
        [info] = xnano.discover(sim.smartglass_address)
        with xnano.Console.connect(info, on_event=print) as console, \\
                xnano.Client.connect_console(console, on_video=...) as client:
            ...

The native library is found through $XNANO_LIB, else the copy bundled in
this package at install time.
"""

from ._api import (
    AudioCodec,
    AudioPacket,
    Button,
    Channel,
    Client,
    ClientConfig,
    ClientStats,
    ClosedError,
    Console,
    ConsoleConfig,
    ConsoleEvent,
    ConsoleEventType,
    ConsoleFlag,
    ConsoleInfo,
    ConsoleState,
    ControllerState,
    Curve,
    Event,
    FromCallbackError,
    GameStreamConfig,
    GameStreamState,
    GamepadButton,
    GamepadState,
    InvalidArgumentError,
    LogLevel,
    MediaCommand,
    NotFoundError,
    NullArgumentError,
    PanicError,
    PlaybackStatus,
    ProtocolError,
    RefusedError,
    Result,
    Rumble,
    SimAudio,
    SimConfig,
    SimConsole,
    SimStats,
    SimVideo,
    State,
    StateChange,
    TitleLocation,
    VideoCodec,
    VideoFrame,
    WrongStateError,
    XnanoError,
    XnanoIOError,
    XnanoTimeoutError,
    discover,
    log_to_python,
    power_on,
    set_log_callback,
    version,
)
from ._ffi import library_path

__all__ = [
    "AudioCodec",
    "AudioPacket",
    "Button",
    "Channel",
    "Client",
    "ClientConfig",
    "ClientStats",
    "ClosedError",
    "Console",
    "ConsoleConfig",
    "ConsoleEvent",
    "ConsoleEventType",
    "ConsoleFlag",
    "ConsoleInfo",
    "ConsoleState",
    "ControllerState",
    "Curve",
    "Event",
    "FromCallbackError",
    "GameStreamConfig",
    "GameStreamState",
    "GamepadButton",
    "GamepadState",
    "InvalidArgumentError",
    "LogLevel",
    "MediaCommand",
    "NotFoundError",
    "NullArgumentError",
    "PanicError",
    "PlaybackStatus",
    "ProtocolError",
    "RefusedError",
    "Result",
    "Rumble",
    "SimAudio",
    "SimConfig",
    "SimConsole",
    "SimStats",
    "SimVideo",
    "State",
    "StateChange",
    "TitleLocation",
    "VideoCodec",
    "VideoFrame",
    "WrongStateError",
    "XnanoError",
    "XnanoIOError",
    "XnanoTimeoutError",
    "discover",
    "library_path",
    "log_to_python",
    "power_on",
    "set_log_callback",
    "version",
]

__version__ = version()
