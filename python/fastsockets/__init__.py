"""fastsockets: the Chrome Apps sockets API (``sockets.udp``; ``sockets.tcp`` and
``sockets.tcpServer`` to come) for Python programs, on a native epoll/kqueue event loop.

    import fastsockets
    app = fastsockets.App()
    udp = app.sockets.udp
    udp.onReceive.addListener(lambda info: print(bytes(info["data"])))
    udp.create({}, lambda ci: udp.bind(ci["socketId"], "127.0.0.1", 5353, print))
    app.run(timeout=10)
"""

from __future__ import annotations

from . import errors as errors
from . import manifest as manifest
from .app import DEFAULT_WRITE_QUOTA as DEFAULT_WRITE_QUOTA
from .app import App as App
from .errors import FastSocketsError as FastSocketsError
from .errors import LoopClosedError as LoopClosedError
from .events import Event as Event
from .manifest import ManifestError as ManifestError
from .manifest import SocketsPermission as SocketsPermission

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


def backend() -> str:
    """The compiled loop backend: ``"epoll"`` (Linux), ``"kqueue"`` (BSD/macOS) or ``"poll"``."""
    from . import _sockcore

    return str(_sockcore.backend())


def __getattr__(name: str) -> object:
    if name == "RecvView":
        from ._sockcore import RecvView

        return RecvView
    raise AttributeError("module 'fastsockets' has no attribute %r" % name)
