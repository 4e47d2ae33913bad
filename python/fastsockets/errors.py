"""Chrome's network error codes, the errno mapping, and the fastsockets exception tree.

The sockets API reports failures the way Chrome does: a negative ``net::`` error code passed to
the completion callback and/or ``runtime.lastError = {"message": "net::ERR_<NAME>"}`` while the
callback runs.  This module holds the table of those codes (``net/base/net_error_list.h``) and
the POSIX errno mapping of ``net/base/net_errors_posix.cc`` (spec §8).

Exceptions are raised only for programming errors at call time: a wrong argument type or value
raises the built-in ``TypeError``/``ValueError`` naming the argument.  Everything that happens on
the network is reported through callbacks and events, never raised.
"""

from __future__ import annotations

import errno as _errno
from typing import Final

__all__ = [
    "NET_ERRORS",
    "FastSocketsError",
    "LoopClosedError",
    "errno_to_net",
    "net_error_message",
    "net_error_name",
]

OK: Final = 0
ERR_FAILED: Final = -2
ERR_ABORTED: Final = -3
ERR_INVALID_ARGUMENT: Final = -4
ERR_INVALID_HANDLE: Final = -5
ERR_TIMED_OUT: Final = -7
ERR_UNEXPECTED: Final = -9
ERR_ACCESS_DENIED: Final = -10
ERR_NOT_IMPLEMENTED: Final = -11
ERR_INSUFFICIENT_RESOURCES: Final = -12
ERR_OUT_OF_MEMORY: Final = -13
ERR_SOCKET_NOT_CONNECTED: Final = -15
ERR_SOCKET_IS_CONNECTED: Final = -23
ERR_CONNECTION_CLOSED: Final = -100
ERR_CONNECTION_RESET: Final = -101
ERR_CONNECTION_REFUSED: Final = -102
ERR_CONNECTION_ABORTED: Final = -103
ERR_CONNECTION_FAILED: Final = -104
ERR_NAME_NOT_RESOLVED: Final = -105
ERR_INTERNET_DISCONNECTED: Final = -106
ERR_ADDRESS_INVALID: Final = -108
ERR_ADDRESS_UNREACHABLE: Final = -109
ERR_CONNECTION_TIMED_OUT: Final = -118
ERR_NETWORK_ACCESS_DENIED: Final = -138
ERR_MSG_TOO_BIG: Final = -142
ERR_ADDRESS_IN_USE: Final = -147
ERR_NO_BUFFER_SPACE: Final = -176

#: code -> symbolic name, for every code fastsockets can produce.
NET_ERRORS: Final[dict[int, str]] = {
    value: name
    for name, value in list(globals().items())
    if name.startswith("ERR_") and isinstance(value, int)
}

_ERRNO_TO_NET: dict[int, int] = {}


def _map(code: int, *names: str) -> None:
    for name in names:
        value = getattr(_errno, name, None)
        if value is not None:
            _ERRNO_TO_NET.setdefault(value, code)


_map(ERR_ACCESS_DENIED, "EACCES", "EPERM", "EROFS", "EISDIR", "ETXTBSY")
_map(ERR_INTERNET_DISCONNECTED, "ENETDOWN")
_map(ERR_TIMED_OUT, "ETIMEDOUT")
_map(ERR_CONNECTION_RESET, "ECONNRESET", "ENETRESET", "EPIPE")
_map(ERR_CONNECTION_ABORTED, "ECONNABORTED")
_map(ERR_CONNECTION_REFUSED, "ECONNREFUSED")
_map(ERR_ADDRESS_UNREACHABLE, "EHOSTUNREACH", "EHOSTDOWN", "ENETUNREACH", "EAFNOSUPPORT")
_map(ERR_ADDRESS_INVALID, "EADDRNOTAVAIL")
_map(ERR_MSG_TOO_BIG, "EMSGSIZE")
_map(ERR_SOCKET_NOT_CONNECTED, "ENOTCONN")
_map(ERR_SOCKET_IS_CONNECTED, "EISCONN")
_map(ERR_INVALID_ARGUMENT, "EINVAL", "E2BIG", "EFAULT", "ENODEV")
_map(ERR_ADDRESS_IN_USE, "EADDRINUSE")
_map(ERR_INVALID_HANDLE, "EBADF")
_map(ERR_INSUFFICIENT_RESOURCES, "EBUSY", "EDEADLK", "ENFILE", "EMFILE", "ENOLCK", "EUSERS")
_map(ERR_ABORTED, "ECANCELED")
_map(ERR_NO_BUFFER_SPACE, "ENOBUFS")
_map(ERR_OUT_OF_MEMORY, "ENOMEM")
_map(ERR_NOT_IMPLEMENTED, "ENOSYS", "ENOTSUP", "EOPNOTSUPP", "ENOPROTOOPT")


def errno_to_net(err: int, *, connect: bool = False) -> int:
    """Chrome's net error code for a POSIX ``errno`` value (``MapSystemError``).

    ``connect=True`` applies the connect-path overrides (EACCES -> -138, ETIMEDOUT -> -118,
    unmapped -> -104).  ``EAGAIN`` is not an error and must not be passed here.
    """
    if connect:
        if err == _errno.EACCES:
            return ERR_NETWORK_ACCESS_DENIED
        if err == _errno.ETIMEDOUT:
            return ERR_CONNECTION_TIMED_OUT
        return _ERRNO_TO_NET.get(err, ERR_CONNECTION_FAILED)
    return _ERRNO_TO_NET.get(err, ERR_FAILED)


def net_error_name(code: int) -> str:
    """``"ERR_<NAME>"`` for a net error code (``"ERR_FAILED"`` for codes fastsockets never
    produces)."""
    return NET_ERRORS.get(code, "ERR_FAILED")


def net_error_message(code: int) -> str:
    """The ``lastError`` message Chrome shows for a net error code: ``"net::ERR_<NAME>"``."""
    return "net::" + net_error_name(code)


class FastSocketsError(Exception):
    """Base class of the exceptions fastsockets raises itself."""


class LoopClosedError(FastSocketsError, RuntimeError):
    """The App was closed (``app.close()``); you closed it, so no call can run any more."""
