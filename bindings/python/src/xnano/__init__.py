"""xnano: Xbox One SmartGlass + Nano gamestreaming client (Python binding over ctypes).

Quick start, through SmartGlass as with a real console::

    import xnano

    [info] = xnano.discover("192.168.1.20")
    with xnano.Console.connect(info, on_event=print) as console, \\
            xnano.Client.connect_console(console, on_video=...) as client:
        client.set_controller_state(0, buttons=xnano.Button.A)
        ...

Or straight to a Nano host (ports known)::

    with xnano.Client.connect_nano(host, tcp_port, udp_port,
                                   on_video=lambda f: print(f.frame_id, len(f.data))) as client:
        ...

With asyncio (`xnano.aio`)::

    client = await xnano.aio.connect(host, tcp_port, udp_port)   # pull mode
    async with client:
        async for ev in client.events():
            ...

The native library is found through $XNANO_LIB, else the copy bundled in
this package at install time. Importing checks its C ABI version and
raises `AbiMismatchError` (an ImportError) for a library of another one.

The simulated console (for tests and demos) is not part of this package's
import: it is `xnano.sim`, over a library of its own (libxnano_sim), which
only `import xnano.sim` loads.
"""

from ._api import (
    AudioCodec,
    AudioPacket,
    Button,
    Channel,
    Client,
    ClientConfig,
    ClientStats,
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
    EventStream,
    GameStreamConfig,
    GameStreamState,
    GamepadButton,
    GamepadState,
    LogLevel,
    MediaCommand,
    PlaybackStatus,
    Rumble,
    State,
    StateChange,
    TitleLocation,
    VideoCodec,
    VideoFrame,
    VideoFrameView,
    abi_version,
    discover,
    log_to_python,
    power_on,
    set_log_callback,
    version,
)
from ._errors import (
    ClosedError,
    FromCallbackError,
    HandleClosedError,
    InvalidArgumentError,
    NotFoundError,
    NullArgumentError,
    PanicError,
    ProtocolError,
    RefusedError,
    Result,
    WrongStateError,
    XnanoError,
    XnanoIOError,
    XnanoTimeoutError,
)
from ._ffi import ABI_VERSION, AbiMismatchError, library_path
from . import aio  # noqa: E402  (after the names it uses)

__all__ = [
    "ABI_VERSION",
    "AbiMismatchError",
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
    "EventStream",
    "FromCallbackError",
    "GameStreamConfig",
    "GameStreamState",
    "GamepadButton",
    "GamepadState",
    "HandleClosedError",
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
    "State",
    "StateChange",
    "TitleLocation",
    "VideoCodec",
    "VideoFrame",
    "VideoFrameView",
    "WrongStateError",
    "XnanoError",
    "XnanoIOError",
    "XnanoTimeoutError",
    "abi_version",
    "aio",
    "discover",
    "library_path",
    "log_to_python",
    "power_on",
    "set_log_callback",
    "version",
]

__version__ = version()
