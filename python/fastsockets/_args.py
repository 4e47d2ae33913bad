"""Call-time argument checks shared by the socket namespaces (spec §1.3).

Chrome validates arguments against the IDL schema before a call runs and throws synchronously;
fastsockets raises ``TypeError`` for a wrong type and ``ValueError`` for a wrong value, naming
the argument.  Pure Python.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = [
    "check_bool",
    "check_callback",
    "check_data",
    "check_dns_query_type",
    "check_int",
    "check_port",
    "check_properties",
    "check_socket_id",
    "check_str",
]

Callback = Optional[Callable[..., object]]

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def _type_name(value: object) -> str:
    return type(value).__name__


def check_socket_id(value: object, name: str = "socketId") -> int:
    """An integer id (unknown ids are reported asynchronously as "Socket not found")."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s must be an integer, not %s" % (name, _type_name(value)))
    return value


def check_int(value: object, name: str) -> int:
    """A 32-bit integer, as Chrome's schema requires for ``integer``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s must be an integer, not %s" % (name, _type_name(value)))
    if not _INT32_MIN <= value <= _INT32_MAX:
        raise ValueError("%s must fit in 32 bits, got %d" % (name, value))
    return value


def check_port(value: object, name: str = "port") -> int:
    """A port number 0..65535 (Chrome wraps larger values to 16 bits; we refuse them)."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("%s must be an integer, not %s" % (name, _type_name(value)))
    if not 0 <= value <= 65535:
        raise ValueError("%s must be between 0 and 65535, got %d" % (name, value))
    return value


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError("%s must be a bool, not %s" % (name, _type_name(value)))
    return value


def check_str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise TypeError("%s must be a str, not %s" % (name, _type_name(value)))
    return value


def check_callback(value: object, name: str = "callback") -> Callback:
    if value is not None and not callable(value):
        raise TypeError("%s must be callable or None, not %s" % (name, _type_name(value)))
    return value  # type: ignore[return-value,unused-ignore]


def check_dns_query_type(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("dnsQueryType must be a str or None, not %s" % _type_name(value))
    if value not in ("any", "ipv4", "ipv6"):
        raise ValueError("dnsQueryType must be 'any', 'ipv4' or 'ipv6', got %r" % (value,))
    return value


def check_data(value: object, name: str = "data") -> Any:
    """A bytes-like object; returns an immutable snapshot taken now (Chrome copies the
    ArrayBuffer at call time, so later changes to a bytearray do not change what is sent)."""
    if isinstance(value, bytes):
        return value
    try:
        view = memoryview(value)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            "%s must be a bytes-like object, not %s" % (name, _type_name(value))
        ) from None
    if view.readonly and not isinstance(value, (bytearray, memoryview)):
        return value  # immutable already (bytes subclasses, RecvView, mmap read-only, ...)
    return view.tobytes()


_PROPERTY_TYPES = {"persistent": bool, "name": str, "bufferSize": int}


def check_properties(value: object, allowed: tuple[str, ...], name: str = "properties") -> dict[str, Any]:
    """A SocketProperties dict with only ``allowed`` keys, each of the right type."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise TypeError("%s must be a dict or None, not %s" % (name, _type_name(value)))
    for key, item in value.items():
        if key not in allowed:
            raise ValueError("%s: unexpected property %r (allowed: %s)" % (name, key, ", ".join(allowed)))
        want = _PROPERTY_TYPES[key]
        if want is int:
            check_int(item, "%s['%s']" % (name, key))
        elif not isinstance(item, want):
            raise TypeError(
                "%s['%s'] must be %s, not %s" % (name, key, want.__name__, _type_name(item))
            )
    return dict(value)
