"""Lifetimes across threads: no reference cycle through the library, the
cycle collector running on a library thread, close() racing other calls,
close()/del from inside a callback, next_event(None)."""

import gc
import random
import threading
import time
import weakref
from contextlib import contextmanager

import pytest

import xnano
from xnano.sim import SimConsole
from xnano import _handle
from conftest import CHEAP_SIM, SLOW_SIM, wait_for


class Frees:
    """Records every free: (kind, address, by_reaper, thread name)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.log = []

    def __call__(self, kind, address, by_reaper):
        with self.lock:
            self.log.append((kind, address, by_reaper, threading.current_thread().name))

    def mark(self):
        with self.lock:
            return len(self.log)

    def of(self, address, since=0):
        """The frees of `address` (an address is reused by later handles:
        `since` a `mark()`)."""
        with self.lock:
            return [e for e in self.log[since:] if e[1] == address]

    def by_reaper(self, address, since=0):
        return any(e[2] and e[3] == "xnano-reaper" for e in self.of(address, since))


@pytest.fixture
def frees():
    f = Frees()
    _handle.add_free_hook(f)
    try:
        yield f
    finally:
        _handle.remove_free_hook(f)


@contextmanager
def no_automatic_gc():
    """Only explicit gc.collect() calls collect (so a test decides on which
    thread the collector runs)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def test_callbacks_make_no_reference_cycle(sim, frees):
    frames = []
    with no_automatic_gc():
        c = xnano.Client(on_video=frames.append, on_audio=frames.append,
                         on_rumble=frames.append, on_state=frames.append)
        c.connect(*sim.nano_address)
        assert wait_for(lambda: len(frames) >= 5)
        addr = c._h.address
        ref = weakref.ref(c)
        del c
        # Freed by reference counting alone, here, at once.
        assert ref() is None
        assert frees.of(addr) == [("client", addr, False, threading.current_thread().name)]


def test_cycle_collector_on_a_library_thread(frees):
    """The main client's video callback (the library's UDP thread) runs the
    cycle collector on garbage cycles holding other clients with callbacks
    (some streaming): they are freed by the reaper, not on that thread, and
    the stream goes on."""
    streaming_victims = 5
    idle_victims = 20
    frames = []
    made_in_callback = []
    collect = threading.Event()
    collected = threading.Event()
    errors = []

    def make_idle_cycle():
        box = {}
        v = xnano.Client(on_video=lambda f: box["c"], on_state=lambda s: box["c"])
        box["c"] = v  # v -> its callback -> box -> v
        made_in_callback.append((v._h.address, frees.mark()))

    def on_video(f):
        frames.append(f.frame_id)
        try:
            if len(made_in_callback) < idle_victims and len(frames) % 3 == 0:
                make_idle_cycle()
                gc.collect()
            if collect.is_set():
                collect.clear()
                gc.collect()
                collected.set()
        except BaseException as e:
            errors.append(e)

    with no_automatic_gc(), SimConsole(**CHEAP_SIM) as sim, SimConsole(**CHEAP_SIM) as sim2:
        with xnano.Client.connect_nano(*sim.nano_address, on_video=on_video) as main:
            assert wait_for(lambda: len(made_in_callback) >= idle_victims, timeout=30), len(frames)
            for i in range(streaming_victims):
                box = {"frames": 0}

                def count(f, box=box):
                    box["frames"] += 1 if box["c"] is not None else 0

                mark = frees.mark()
                v = xnano.Client(on_video=count, on_audio=lambda p, box=box: box["c"])
                box["c"] = v  # the cycle
                v.connect(*sim2.nano_address)
                assert wait_for(lambda b=box: b["frames"] >= 5), i
                addr = v._h.address
                del v, box, count
                collected.clear()
                collect.set()
                assert collected.wait(10), i
                assert wait_for(lambda: frees.by_reaper(addr, mark)), (i, frees.of(addr, mark))
                assert len(frees.of(addr, mark)) == 1, "freed once, by the reaper"
            for addr, mark in made_in_callback:
                assert wait_for(lambda: frees.by_reaper(addr, mark)), frees.of(addr, mark)
            # Every client freed so far went through the reaper.
            assert all(e[2] for e in frees.log), frees.log
            assert len(frees.log) == streaming_victims + idle_victims
            # The stream kept delivering frames afterwards.
            n = len(frames)
            assert wait_for(lambda: len(frames) >= n + 30), main.stats()
            assert main.state == xnano.State.STREAMING
        assert not errors and not main.callback_errors
    assert _handle.counts["reaper"] >= streaming_victims + idle_victims


@pytest.mark.parametrize("connected", [False, True], ids=["idle", "streaming"])
def test_close_races_calls_on_other_threads(sim, frees, connected):
    iterations = 25 if connected else 60
    rng = random.Random(7)
    for i in range(iterations):
        mark = frees.mark()
        c = xnano.Client(xnano.ClientConfig(event_queue_capacity=64))
        if connected:
            c.connect(*sim.nano_address)
        addr = c._h.address
        go = threading.Event()
        ended = []
        unexpected = []

        def worker(kind):
            go.wait()
            while True:
                try:
                    if kind == 0:
                        c.stats()
                    elif kind == 1:
                        c.set_controller_state(0, buttons=xnano.Button.A, right_trigger=9)
                    elif kind == 2:
                        c.next_event(0.005)
                    else:
                        c.state
                except xnano.HandleClosedError as e:
                    assert "client was closed" in str(e)
                    ended.append(kind)
                    return
                except (xnano.ClosedError, xnano.WrongStateError):
                    pass  # the session closed / not connected yet: the library's answer
                except BaseException as e:
                    unexpected.append(e)
                    return

        threads = [threading.Thread(target=worker, args=(k % 4,)) for k in range(6)]
        closers = [threading.Thread(target=c.close) for _ in range(2)]
        for t in threads:
            t.start()
        go.set()
        time.sleep(rng.random() * 0.02)
        for t in closers:
            t.start()
        c.close()
        for t in threads + closers:
            t.join(10)
            assert not t.is_alive(), f"iteration {i}: a thread hangs"
        assert not unexpected, unexpected
        assert sorted(ended) == sorted(k % 4 for k in range(6))
        assert c.closed and c._h.freed
        assert len(frees.of(addr, mark)) == 1, "freed exactly once"
        with pytest.raises(xnano.HandleClosedError):
            c.stats()


def test_close_from_inside_its_own_callback(sim, frees):
    holder = {}
    result = {}

    def on_video(f):
        c = holder.get("c")
        if c is not None and "close_s" not in result:
            t0 = time.monotonic()
            c.close()
            result["close_s"] = time.monotonic() - t0
            try:
                c.request_keyframe()
            except xnano.HandleClosedError:
                result["after"] = "refused"

    c = xnano.Client(on_video=on_video)
    addr = c._h.address
    holder["c"] = c
    c.connect(*sim.nano_address)
    assert wait_for(lambda: frees.by_reaper(addr))
    assert result["close_s"] < 1.0 and result["after"] == "refused"
    assert c.closed
    with pytest.raises(xnano.HandleClosedError, match="client was closed"):
        c.stats()
    assert not c.callback_errors


def test_last_reference_dropped_inside_a_callback(sim, frees):
    holder = {}
    dropped = threading.Event()

    def on_video(f):
        if holder.pop("c", None) is not None:
            dropped.set()

    with no_automatic_gc():
        c = xnano.Client.connect_nano(*sim.nano_address, on_video=on_video)
        addr = c._h.address
        ref = weakref.ref(c)
        holder["c"] = c
        del c
        assert dropped.wait(10)
        assert wait_for(lambda: frees.by_reaper(addr))
        assert ref() is None
    # The simulated console saw the client go.
    assert wait_for(lambda: not sim.stats().client_connected)


def test_console_closed_from_the_callback_inside_connect(sim, frees):
    """CONNECTED is delivered on the thread calling connect, inside that call:
    a close there must not wait for the call it is part of."""
    holder = {}

    def on_event(ev):
        if ev.kind == xnano.ConsoleEventType.CONNECTED:
            holder["console"].close()

    console = xnano.Console(on_event=on_event)
    holder["console"] = console
    addr = console._h.address
    console.open(sim.smartglass_address)
    assert wait_for(lambda: frees.by_reaper(addr))
    assert console.closed
    with pytest.raises(xnano.HandleClosedError, match="console was closed"):
        console.unsnap()


def test_next_event_without_timeout_waits_for_an_event(frees):
    with SimConsole(**SLOW_SIM, telemetry_interval_ms=100000) as sim:
        c = xnano.Client.connect_nano(*sim.nano_address, config=xnano.ClientConfig(event_queue_capacity=64))
        with c:
            waits = []
            for _ in range(3):
                while c.next_event(0) is not None:
                    pass
                t0 = time.monotonic()
                ev = c.next_event(None)
                waits.append(time.monotonic() - t0)
                assert isinstance(ev, (xnano.VideoFrame, xnano.StateChange)), ev
            # Frames come every 0.5 s: some wait outlasted one native wait.
            assert max(waits) > 0.25, waits

            # A close on another thread ends a wait without timeout.
            got = []

            def waiter():
                try:
                    while True:
                        got.append(c.next_event(None))
                except (xnano.HandleClosedError, xnano.ClosedError) as e:
                    got.append(e)

            t = threading.Thread(target=waiter)
            t.start()
            time.sleep(0.3)
            t0 = time.monotonic()
            c.close()
            t.join(5)
            assert not t.is_alive()
            assert time.monotonic() - t0 < 2.0
            assert isinstance(got[-1], (xnano.HandleClosedError, xnano.ClosedError))
