"""Native handles shared between threads, and the reaper that frees the
handles whose last reference went away on one of the library's threads.

Every call on a handle goes through `Handle`: it counts the call in flight
under a lock, and refuses it (`HandleClosedError`) once the handle is
closed. `Handle.close` marks the handle closed, waits until no call is in
flight, then frees it; the C callback objects (`keep`) are released only
after the free returned, so the library never calls into freed code.

A close that runs on a thread the library owns (inside a callback, or in a
finalizer that the cycle collector runs there) never frees inline: the
handle goes to the reaper, a daemon thread that frees what is queued to it
once the calls in flight ended.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import queue
import threading
import traceback
from typing import Any, Callable, Dict, List, Optional

from ._errors import HandleClosedError

# ---------------------------------------------------------- library threads

_tls = threading.local()


def enter_callback() -> None:
    """Marks this thread as running a callback of the library (the
    trampolines call it first)."""
    _tls.depth = getattr(_tls, "depth", 0) + 1


def leave_callback() -> None:
    _tls.depth -= 1


def in_callback() -> bool:
    """True while this thread runs one of the binding's C callbacks."""
    return getattr(_tls, "depth", 0) > 0


def on_library_thread() -> bool:
    """True on a thread where a free must not run inline: inside a callback
    (the library's own threads, or a thread inside a call that delivers
    callbacks), or on any thread Python did not start (a `_DummyThread`,
    e.g. a library thread before the trampoline marked it)."""
    return in_callback() or isinstance(threading.current_thread(), threading._DummyThread)


# ------------------------------------------------------------ free counting

FreeHook = Callable[[str, int, bool], None]
_hooks: List[FreeHook] = []
_counts_lock = threading.Lock()
#: How many handles were freed inline (by `close` on the calling thread)
#: and how many by the reaper.
counts: Dict[str, int] = {"inline": 0, "reaper": 0}


def add_free_hook(hook: FreeHook) -> None:
    """Calls `hook(kind, address, by_reaper)` after every free returned
    (kind "client", "console", ...; address the native pointer). For tests
    and diagnostics; the hook runs on the freeing thread."""
    _hooks.append(hook)


def remove_free_hook(hook: FreeHook) -> None:
    _hooks.remove(hook)


# ------------------------------------------------------------------ handles

_OPEN = 0  # calls allowed
_CLOSING = 1  # closed; the closing thread waits for the calls in flight
_DEFERRED = 2  # closed on a library thread; the last call in flight queues it
_QUEUED = 3  # with the reaper
_FREED = 4


class Handle:
    """One native handle: `with handle as ptr:` (or `handle.call(fn,
    ...)`) makes a call on it; `close()` frees it once no call is in
    flight."""

    def __init__(
        self,
        kind: str,
        ptr: Any,
        free: Callable[[Any], None],
        stop: Optional[Callable[[Any], object]] = None,
    ) -> None:
        self.kind = kind
        self.address: int = ctypes.cast(ptr, ctypes.c_void_p).value or 0
        self._ptr: Any = ptr
        self._free = free
        self._stop = stop
        self._cond = threading.Condition(threading.Lock())
        self._inflight = 0
        self._state = _OPEN
        #: What must outlive the native handle: the CFUNCTYPE objects the
        #: library calls. Dropped only after the free returned.
        self.keep: List[object] = []
        _reaper.start()

    @property
    def closed(self) -> bool:
        return self._state != _OPEN

    @property
    def freed(self) -> bool:
        return self._state == _FREED

    def __enter__(self) -> Any:
        with self._cond:
            if self._state != _OPEN:
                raise HandleClosedError(self.kind)
            self._inflight += 1
            return self._ptr

    def __exit__(self, *exc: object) -> None:
        queue_it = False
        with self._cond:
            self._inflight -= 1
            if self._inflight == 0:
                if self._state == _DEFERRED:
                    self._state = _QUEUED
                    queue_it = True
                else:
                    self._cond.notify_all()
        if queue_it:
            _reaper.put(self)

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """`fn(ptr, *args)` with the call counted in flight."""
        ptr = self.__enter__()
        try:
            return fn(ptr, *args)
        finally:
            self.__exit__()

    def close(self) -> None:
        """Refuses new calls, waits for those in flight and frees the
        handle; on a library thread hands it to the reaper instead (and
        returns at once). Idempotent; a second close on another thread
        waits until the handle is freed."""
        deferred = on_library_thread()
        with self._cond:
            if self._state == _OPEN:
                if deferred:
                    if self._inflight == 0:
                        self._state = _QUEUED
                    else:
                        self._state = _DEFERRED
                else:
                    self._state = _CLOSING
            elif deferred:
                return
            else:
                while self._state != _FREED:
                    self._cond.wait()
                return
            queue_it = self._state == _QUEUED
        if deferred:
            if queue_it:
                _reaper.put(self)
            return
        if self._stop is not None:
            # Stopping may race the calls in flight (only the free may not):
            # it ends blocking waits (next_event, connect) early.
            self._stop(self._ptr)
        with self._cond:
            while self._inflight:
                self._cond.wait()
        self._release(by_reaper=False)

    def _release(self, by_reaper: bool) -> None:
        self._free(self._ptr)
        with self._cond:
            keep, self.keep = self.keep, []
            self._ptr = None
            self._state = _FREED
            self._cond.notify_all()
        with _counts_lock:
            counts["reaper" if by_reaper else "inline"] += 1
        for hook in list(_hooks):
            try:
                hook(self.kind, self.address, by_reaper)
            except Exception:
                traceback.print_exc()
        # The callback objects go only now, after the free returned.
        del keep

    def __repr__(self) -> str:
        state = ("open", "closing", "closing", "queued", "freed")[self._state]
        return f"<xnano {self.kind} handle 0x{self.address:x} {state}>"


# ------------------------------------------------------------------- reaper


class _Reaper:
    """A daemon thread freeing the handles queued to it, in order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: "queue.SimpleQueue[Optional[Handle]]" = queue.SimpleQueue()
        self._thread: Optional[threading.Thread] = None
        self._stopped = False

    def start(self) -> None:
        if self._stopped:
            return
        t = self._thread
        if t is not None and t.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="xnano-reaper", daemon=True)
                self._thread.start()

    def put(self, h: Handle) -> None:
        self._queue.put(h)
        self.start()

    def _run(self) -> None:
        while True:
            h = self._queue.get()
            if h is None:
                return
            try:
                h._release(by_reaper=True)
            except BaseException:
                traceback.print_exc()
            del h

    def drain(self, timeout: float = 10.0) -> None:
        """Frees what is queued and stops the thread (at exit)."""
        self._stopped = True
        t = self._thread
        if t is not None and t.is_alive():
            self._queue.put(None)
            t.join(timeout)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._queue = queue.SimpleQueue()
        self._thread = None


_reaper = _Reaper()
# Registered before any weakref.finalize: atexit runs it after the
# finalizers (last in, first out), so what they queued is freed too.
atexit.register(_reaper.drain)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reaper._after_fork)
