"""The asyncio face: awaitable connects and `async for` over events, end to
end against the simulated console."""

import asyncio
import threading

import pytest

import xnano
import xnano.aio
from xnano.sim import SimConsole
from conftest import SLOW_SIM


def run(coro, timeout=60):
    return asyncio.run(asyncio.wait_for(coro, timeout))


def test_async_for_video_frames(sim):
    async def main():
        loop_thread = threading.get_ident()
        client = await xnano.aio.connect(*sim.nano_address)
        frames, states = [], []
        async with client:
            assert client.config.event_queue_capacity == xnano.aio.DEFAULT_QUEUE
            async for ev in client.events():
                if isinstance(ev, xnano.VideoFrame):
                    assert ev.width == 320 and ev.data
                    frames.append(ev)
                elif isinstance(ev, xnano.StateChange):
                    states.append(ev.state)
                if len(frames) >= 30:
                    break
            # The rest of the stream, to its end.
            await asyncio.get_running_loop().run_in_executor(None, client.stop)
            rest = [ev async for ev in client.events()]
        assert client.closed
        assert threading.get_ident() == loop_thread
        return frames, states, rest

    frames, states, rest = run(main())
    ids = [f.frame_id for f in frames]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert frames[0].keyframe
    assert states[:2] == [xnano.State.CONNECTED, xnano.State.STREAMING]
    assert isinstance(rest[-1], xnano.StateChange) and rest[-1].state == xnano.State.CLOSED


def test_connect_async_on_a_client(sim):
    async def main():
        c = xnano.Client(xnano.ClientConfig(event_queue_capacity=64))
        await c.connect_async(*sim.nano_address)
        n = 0
        async for ev in c.events(timeout=0.05):
            n += isinstance(ev, xnano.VideoFrame)
            if n >= 10:
                break
        await c.__aexit__(None, None, None)
        return n, c

    n, c = run(main())
    assert n == 10 and c.closed


def test_loop_stays_responsive_while_waiting(sim):
    """The waits run in the executor: the loop goes on ticking."""

    async def main():
        ticks = 0
        stop = asyncio.Event()

        async def ticker():
            nonlocal ticks
            while not stop.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        t = asyncio.ensure_future(ticker())
        async with await xnano.aio.connect(*sim.nano_address) as client:
            frames = 0
            async for ev in client.events():
                frames += isinstance(ev, xnano.VideoFrame)
                if frames >= 20:
                    break
        stop.set()
        await t
        return ticks

    assert run(main()) >= 5


def test_cancelled_wait_loses_no_event():
    """A cancelled `await` leaves its native wait pending; the next
    iteration takes that wait's event."""

    async def main():
        with SimConsole(**SLOW_SIM) as sim:
            async with await xnano.aio.connect(*sim.nano_address) as client:
                stream = client.events()
                it = stream.__aiter__()
                got = []
                timeouts = 0
                while len([e for e in got if isinstance(e, xnano.VideoFrame)]) < 4:
                    try:
                        got.append(await asyncio.wait_for(it.__anext__(), 0.05))
                    except asyncio.TimeoutError:
                        timeouts += 1
                return got, timeouts

    got, timeouts = run(main())
    ids = [e.frame_id for e in got if isinstance(e, xnano.VideoFrame)]
    assert timeouts > 0
    assert ids == list(range(ids[0], ids[0] + len(ids))), "no frame lost to a cancellation"


def test_async_smartglass_path(sim):
    async def main():
        [info] = await xnano.aio.discover(sim.smartglass_address)
        console = await xnano.aio.open_console(info)
        async with console:
            kinds = []
            async for ev in console.events():
                kinds.append(ev.kind)
                if ev.kind == xnano.ConsoleEventType.CONSOLE_STATUS:
                    break
            assert kinds[0] == xnano.ConsoleEventType.CONNECTED
            client = await xnano.aio.connect_console(console, videoMaximumFrameRate=30)
            async with client:
                frames = []
                async for ev in client.events():
                    if isinstance(ev, xnano.VideoFrame):
                        frames.append(ev)
                    if len(frames) >= 10:
                        break
        return frames, console, client

    frames, console, client = run(main())
    assert len(frames) == 10 and all(f.width == 320 for f in frames)
    assert console.closed and client.closed


def test_failed_async_connect_closes_the_client():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()

    async def main():
        await xnano.aio.connect("127.0.0.1", port, port)

    with pytest.raises(xnano.XnanoIOError):
        run(main())
