"""Result codes and the exceptions they become."""

from __future__ import annotations

import enum
from typing import Callable, Dict, Type, Union

from . import _ffi
from ._ffi import lib


class Result(enum.IntEnum):
    """Result codes of the C API (`xnano_result`)."""

    OK = _ffi.XNANO_OK
    ERR_NULL = _ffi.XNANO_ERR_NULL
    ERR_INVALID_ARGUMENT = _ffi.XNANO_ERR_INVALID_ARGUMENT
    ERR_WRONG_STATE = _ffi.XNANO_ERR_WRONG_STATE
    ERR_FROM_CALLBACK = _ffi.XNANO_ERR_FROM_CALLBACK
    ERR_IO = _ffi.XNANO_ERR_IO
    ERR_TIMEOUT = _ffi.XNANO_ERR_TIMEOUT
    ERR_PROTOCOL = _ffi.XNANO_ERR_PROTOCOL
    ERR_CLOSED = _ffi.XNANO_ERR_CLOSED
    ERR_BUFFER_TOO_SMALL = _ffi.XNANO_ERR_BUFFER_TOO_SMALL
    ERR_UNSUPPORTED = _ffi.XNANO_ERR_UNSUPPORTED
    ERR_PANIC = _ffi.XNANO_ERR_PANIC
    ERR_NOT_FOUND = _ffi.XNANO_ERR_NOT_FOUND
    ERR_REFUSED = _ffi.XNANO_ERR_REFUSED

    @classmethod
    def of(cls, v: int) -> Union["Result", int]:
        try:
            return cls(v)
        except ValueError:
            return v


# --------------------------------------------------------------- exceptions


class XnanoError(Exception):
    """A C API call failed: `code` is the `Result`, `message` the library's text."""

    def __init__(self, code: Union[Result, int], message: str) -> None:
        super().__init__(f"{_name(code)}: {message}")
        self.code = code
        self.message = message


class NullArgumentError(XnanoError, ValueError):
    pass


class InvalidArgumentError(XnanoError, ValueError):
    pass


class WrongStateError(XnanoError):
    pass


class HandleClosedError(WrongStateError):
    """The Python object was closed (`close()`, the end of its `with`
    block, or its finalizer): its native handle is freed or being freed,
    and no call reaches the library any more."""

    def __init__(self, what: str) -> None:
        super().__init__(Result.ERR_WRONG_STATE, f"the {what} was closed")


class FromCallbackError(XnanoError):
    """Stopping a client (or disconnecting a console) from inside its own
    callback."""


class XnanoIOError(XnanoError, OSError):
    pass


class XnanoTimeoutError(XnanoError, TimeoutError):
    pass


class ProtocolError(XnanoError):
    pass


class ClosedError(XnanoError):
    """The session is closed (and, in pull mode, every event was taken)."""


class PanicError(XnanoError):
    """An internal error of the library (a caught Rust panic)."""


class NotFoundError(XnanoError, LookupError):
    """No console answered at the address (or it is off)."""


class RefusedError(XnanoError):
    """The console refused: the connection (e.g. anonymous users not
    allowed), a channel, or the gamestream."""


_EXCEPTIONS: Dict[Union[Result, int], Type[XnanoError]] = {
    Result.ERR_NULL: NullArgumentError,
    Result.ERR_INVALID_ARGUMENT: InvalidArgumentError,
    Result.ERR_WRONG_STATE: WrongStateError,
    Result.ERR_FROM_CALLBACK: FromCallbackError,
    Result.ERR_IO: XnanoIOError,
    Result.ERR_TIMEOUT: XnanoTimeoutError,
    Result.ERR_PROTOCOL: ProtocolError,
    Result.ERR_CLOSED: ClosedError,
    Result.ERR_PANIC: PanicError,
    Result.ERR_NOT_FOUND: NotFoundError,
    Result.ERR_REFUSED: RefusedError,
}


def _name(code: int) -> str:
    name: bytes = lib.xnano_result_name(int(code))
    return name.decode()


def error(r: int, message: str) -> XnanoError:
    """The exception for the failed result `r` with the library's `message`."""
    code = Result.of(r)
    return _EXCEPTIONS.get(code, XnanoError)(code, message)


def check(r: int, last_error: Callable[[], bytes] = lib.xnano_last_error) -> None:
    """Raises the exception for result `r` (nothing for XNANO_OK). Call it
    on the thread that made the call, before any other call into that
    library: the message is thread-local. `last_error` is the library's
    message function (libxnano's `xnano_last_error` unless given)."""
    if r != _ffi.XNANO_OK:
        raw: bytes = last_error()
        raise error(r, raw.decode("utf-8", "replace"))
