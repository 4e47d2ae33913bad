"""fastsockets: the Chrome Apps sockets API (``sockets.udp``; ``sockets.tcp`` and
``sockets.tcpServer`` to come) for Python programs, on a native epoll/kqueue event loop.

    import fastsockets
    app = fastsockets.App()
    udp = app.sockets.udp
    udp.onReceive.addListener(lambda info: print(bytes(info["data"])))
    udp.create({}, lambda ci: udp.bind(ci["socketId"], "127.0.0.1", 5353, print))
    app.run(timeout=10)

Importing the package loads no compiled code: ``fastsockets.manifest``, ``fastsockets.errors``
and ``fastsockets.registry`` work without the extension, and ``App``, ``Event``, ``RecvView``
load it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors as errors
from . import manifest as manifest
from .errors import FastSocketsError as FastSocketsError
from .errors import LoopClosedError as LoopClosedError
from .manifest import ManifestError as ManifestError
from .manifest import SocketsPermission as SocketsPermission

if TYPE_CHECKING:
    from ._sockcore import RecvView as RecvView
    from .app import DEFAULT_WRITE_QUOTA as DEFAULT_WRITE_QUOTA
    from .app import App as App
    from .events import Event as Event

__version__ = "0.1.0"

__all__ = [
    "App",
    "DEFAULT_WRITE_QUOTA",
    "Event",
    "FastSocketsError",
    "LoopClosedError",
    "ManifestError",
    "RecvView",
    "SocketsPermission",
    "__version__",
    "backend",
    "errors",
    "manifest",
]

_LAZY = {
    "App": ("app", "App"),
    "DEFAULT_WRITE_QUOTA": ("app", "DEFAULT_WRITE_QUOTA"),
    "Event": ("events", "Event"),
    "RecvView": ("_sockcore", "RecvView"),
}


def backend() -> str:
    """The compiled loop backend: ``"epoll"`` (Linux), ``"kqueue"`` (BSD/macOS) or ``"poll"``."""
    from . import _sockcore

    return str(_sockcore.backend())


def __getattr__(name: str) -> object:
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError("module 'fastsockets' has no attribute %r" % name)
    import importlib

    try:
        module = importlib.import_module("." + target[0], __name__)
    except ImportError as exc:
        if "_sockcore" in str(exc):
            raise ImportError(
                "fastsockets' compiled core (_sockcore) is missing: install the package "
                "(pip install .) instead of importing it from the source tree"
            ) from exc
        raise
    value = getattr(module, target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
