"""asyncio face of the binding: awaitable connects, and `async for` over
the events of a pull-mode client or console::

    import xnano

    async def main():
        client = await xnano.aio.connect("127.0.0.1", tcp_port, udp_port)
        async with client:
            async for ev in client.events():
                if isinstance(ev, xnano.VideoFrame):
                    ...

The blocking calls run in the running loop's default executor; the event
loop thread never waits for the network or for the library's threads.
`connect` without callbacks and without a config makes a pull-mode client
(``event_queue_capacity=DEFAULT_QUEUE``), which is what `events()` reads.
"""

from __future__ import annotations

import asyncio
from typing import Any, List, Optional

from ._api import (
    Address,
    AudioCallback,
    Client,
    ClientConfig,
    Console,
    ConsoleConfig,
    ConsoleEventCallback,
    ConsoleInfo,
    GameStreamConfig,
    RumbleCallback,
    StateCallback,
    VideoCallback,
    _in_executor,
)
from ._api import discover as _discover

#: Queue capacity of the pull-mode clients and consoles made here.
DEFAULT_QUEUE = 256

__all__ = ["DEFAULT_QUEUE", "connect", "connect_console", "discover", "open_console"]


async def _close_soon(obj: Any) -> None:
    """Closes `obj` in the executor (close waits for the blocking call it
    interrupts, which must not hold up the loop)."""
    await asyncio.shield(_in_executor(obj.close))


async def connect(
    host: str,
    tcp_port: int,
    udp_port: int,
    config: Optional[ClientConfig] = None,
    *,
    on_video: Optional[VideoCallback] = None,
    on_audio: Optional[AudioCallback] = None,
    on_rumble: Optional[RumbleCallback] = None,
    on_state: Optional[StateCallback] = None,
) -> Client:
    """`Client.connect_nano` for asyncio. Without callbacks and `config`
    the client is in pull mode, for ``async for ev in client.events()``.
    Cancelled or failed, it closes the client."""
    if config is None and not (on_video or on_audio or on_rumble or on_state):
        config = ClientConfig(event_queue_capacity=DEFAULT_QUEUE)
    client = Client(config, on_video=on_video, on_audio=on_audio, on_rumble=on_rumble, on_state=on_state)
    try:
        await client.connect_async(host, tcp_port, udp_port)
    except BaseException:
        await _close_soon(client)
        raise
    return client


async def connect_console(
    console: Console,
    config: Optional[ClientConfig] = None,
    gamestream: Optional[GameStreamConfig] = None,
    **kwargs: Any,
) -> Client:
    """`Client.connect_console` for asyncio: streams from a connected
    console (``on_*`` keywords are callbacks, the others gamestream keys).
    Without callbacks and `config` the client is in pull mode."""
    callbacks = {k: v for k, v in kwargs.items() if k.startswith("on_")}
    keys = {k: v for k, v in kwargs.items() if not k.startswith("on_")}
    if config is None and not any(callbacks.values()):
        config = ClientConfig(event_queue_capacity=DEFAULT_QUEUE)
    client = Client(config, **callbacks)
    try:
        await client.stream_from_async(console, gamestream, **keys)
    except BaseException:
        await _close_soon(client)
        raise
    return client


async def open_console(
    address: Address,
    config: Optional[ConsoleConfig] = None,
    *,
    on_event: Optional[ConsoleEventCallback] = None,
    **config_fields: Any,
) -> Console:
    """`Console.connect` for asyncio. Without `on_event` and `config` the
    console is in pull mode, for ``async for ev in console.events()``."""
    if config is None:
        config = ConsoleConfig(event_queue_capacity=0 if on_event else DEFAULT_QUEUE)
    for k, v in config_fields.items():
        if not hasattr(config, k):
            raise TypeError(f"unknown ConsoleConfig field {k!r}")
        setattr(config, k, v)
    console = Console(on_event)
    try:
        await console.open_async(address, config)
    except BaseException:
        await _close_soon(console)
        raise
    return console


async def discover(address: Optional[Address] = None, timeout: float = 3.0) -> List[ConsoleInfo]:
    """`xnano.discover` for asyncio."""
    return await _in_executor(_discover, address, timeout)
