"""The App: one loop, one set of socket tables, one lastError, one permission set.

An ``App`` plays the part of one Chrome App: ``app.sockets.udp`` (and, later, ``.tcp`` and
``.tcpServer``) expose Chrome's functions with Chrome's names and argument order,
``app.runtime.lastError`` is set while a failing call's callback runs, and the manifest's
``"sockets"`` key decides which network operations are allowed.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Optional

from ._loop import EventLoop
from .manifest import SocketsPermission, load_permission

if TYPE_CHECKING:
    import asyncio

    from .udp import UDP

__all__ = ["App", "Runtime", "Sockets", "DEFAULT_WRITE_QUOTA"]

log = logging.getLogger("fastsockets")

#: Chrome's per-app limit on bytes of pending writes (write_quota_checker.cc).
DEFAULT_WRITE_QUOTA = 200 * 1024 * 1024

MSG_NOT_FOUND = "Socket not found"
MSG_QUOTA = "Exceeded write quota."

Callback = Optional[Callable[..., object]]


class Runtime:
    """``app.runtime``: carries ``lastError`` like ``chrome.runtime``."""

    __slots__ = ("_last_error",)

    def __init__(self) -> None:
        self._last_error: dict[str, str] | None = None

    @property
    def lastError(self) -> dict[str, str] | None:
        """``{"message": ...}`` while the callback of a failed call runs, else None."""
        return self._last_error

    last_error = lastError


class Sockets:
    """``app.sockets``: the socket namespaces."""

    __slots__ = ("udp",)

    def __init__(self, udp: UDP) -> None:
        self.udp = udp


class App:
    """One Chrome-App-like context with its own native event loop.

    :param manifest: ``None`` (no restriction), a ``SocketsPermission``, or a whole Chrome App
        manifest (dict, JSON text, or path to ``manifest.json``) whose ``"sockets"`` key is
        enforced on every network operation.  ``{}`` denies everything.
    :param write_quota: bytes of pending sends allowed at once (Chrome: 200 MiB); a send past it
        fails with lastError "Exceeded write quota.".
    :param udp_batch: datagrams per ``recvmmsg`` call (1..1024).
    :param udp_budget: datagrams one UDP socket may receive per loop iteration before the other
        sockets get their turn.
    :param udp_pool_bytes: receive-buffer memory one UDP socket may hold in slots that received
        data still references (at least one slot is always allowed).  Past it, received
        datagrams are copied into fresh ``bytes`` (counted in ``udp.stats(id)["copies"]``):
        nothing is dropped, the pool just stops growing.
    :param udp_rcvbuf: ``SO_RCVBUF`` requested for every UDP socket at bind (``None``: the
        kernel default).  The kernel doubles it and caps it at ``net.core.rmem_max``; a receiver
        that must absorb bursts while the loop is busy wants several MiB.
    :raises fastsockets.manifest.ManifestError: if the manifest is invalid (Chrome refuses to
        load such an app).
    :raises TypeError: if ``manifest`` has an unsupported type.

    Run it with :meth:`run` (this thread), :meth:`start` (a background thread) or :meth:`attach`
    (inside a running asyncio loop).  The API may be called from any thread; calls from a thread
    other than the loop thread are queued to it.  Completion callbacks and events always run on
    the loop thread, never inside the API call that caused them.
    """

    def __init__(
        self,
        manifest: Any = None,
        *,
        write_quota: int = DEFAULT_WRITE_QUOTA,
        udp_batch: int = 64,
        udp_budget: int = 256,
        udp_pool_bytes: int = 64 << 20,
        udp_rcvbuf: int | None = None,
    ) -> None:
        if not isinstance(write_quota, int) or isinstance(write_quota, bool):
            raise TypeError("write_quota must be an integer")
        if write_quota < 0:
            raise ValueError("write_quota must be >= 0")
        if not isinstance(udp_batch, int) or not 1 <= udp_batch <= 1024:
            raise ValueError("udp_batch must be an integer between 1 and 1024")
        if not isinstance(udp_budget, int) or udp_budget < 1:
            raise ValueError("udp_budget must be a positive integer")
        if not isinstance(udp_pool_bytes, int) or udp_pool_bytes < 1:
            raise ValueError("udp_pool_bytes must be a positive integer")
        if udp_rcvbuf is not None and (not isinstance(udp_rcvbuf, int) or isinstance(udp_rcvbuf, bool)
                                       or udp_rcvbuf < 1):
            raise ValueError("udp_rcvbuf must be None or a positive integer")
        self._permission: SocketsPermission = load_permission(manifest)
        self._loop = EventLoop()
        self.write_quota = write_quota
        self._quota_used = 0
        self._udp_batch = udp_batch
        self._udp_budget = udp_budget
        self._udp_pool_bytes = udp_pool_bytes
        self._udp_rcvbuf = udp_rcvbuf
        self._stats = {"permission_denied": 0, "quota_exceeded": 0}
        self._resolver: ThreadPoolExecutor | None = None
        self._resolver_lock = threading.Lock()
        self.runtime = Runtime()
        from .udp import UDP

        self.sockets = Sockets(UDP(self))

    # -- running -------------------------------------------------------------------------------

    def run(self, timeout: float | None = None) -> None:
        """Run the loop in this thread until :meth:`stop` or ``timeout`` seconds."""
        self._loop.run(timeout)

    def run_once(self, timeout: float | None = 0.0) -> None:
        """Run one loop iteration, waiting at most ``timeout`` seconds for something to do."""
        self._loop.run_once(timeout)

    def stop(self) -> None:
        """Make :meth:`run` (or the background thread) return.  Safe from any thread."""
        self._loop.stop()

    def start(self) -> threading.Thread:
        """Run the loop in a background daemon thread; :meth:`join` stops it."""
        return self._loop.start()

    def join(self, timeout: float | None = None) -> None:
        """Stop the background thread started by :meth:`start` and wait for it."""
        self._loop.join(timeout)

    def attach(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Drive this App from a running asyncio loop (default: the current one)."""
        self._loop.attach(loop)

    def detach(self) -> None:
        """Stop being driven by asyncio."""
        self._loop.detach()

    def call_soon_threadsafe(self, fn: Callable[..., object], *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread (from any thread)."""
        self._loop.call_soon_threadsafe(fn, *args)

    @property
    def loop(self) -> EventLoop:
        """The App's event loop (advanced use)."""
        return self._loop

    # -- lifetime (spec §1.7) ---------------------------------------------------------------------

    def suspend(self) -> None:
        """Like closing the app's event page: destroy every socket that is not persistent."""
        self._loop.submit(self._close_sockets, False)

    def unload(self) -> None:
        """Like unloading the app: destroy every socket, persistent or not."""
        self._loop.submit(self._close_sockets, True)

    def _close_sockets(self, everything: bool) -> None:
        self.sockets.udp._close_all(everything)

    def close(self) -> None:
        """Destroy every socket, stop the loop and free it.  Idempotent.  Callbacks still
        queued are dropped."""
        if self._loop.closed:
            return
        if self._loop.running and not self._loop.in_loop_thread():
            # The loop thread owns the sockets: it closes them and then the loop.
            done = threading.Event()

            def close_there() -> None:
                try:
                    self._close_sockets(True)
                finally:
                    done.set()

            self._loop.call_soon_threadsafe(close_there)
            done.wait(10.0)
        else:
            self._close_sockets(True)
        self._loop.close()
        with self._resolver_lock:
            if self._resolver is not None:
                self._resolver.shutdown(wait=False, cancel_futures=True)
                self._resolver = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- services for the namespaces -----------------------------------------------------------

    @property
    def permission(self) -> SocketsPermission:
        """The permission set in force (unrestricted when the App has no manifest)."""
        return self._permission

    def _allowed(self, op: str, host: str, port: int) -> bool:
        """The one permission hook every namespace calls before touching the network."""
        if self._permission.allows(op, host, port):
            return True
        self._stats["permission_denied"] += 1
        return False

    def _quota_acquire(self, nbytes: int) -> bool:
        if self._quota_used + nbytes > self.write_quota:
            self._stats["quota_exceeded"] += 1
            return False
        self._quota_used += nbytes
        return True

    def _quota_release(self, nbytes: int) -> None:
        self._quota_used -= nbytes

    def _complete(self, callback: Callback, args: tuple[Any, ...], error: str | None = None) -> None:
        """Queue ``callback(*args)`` for the next iteration, with lastError = ``error``."""
        if callback is None and error is None:
            return
        self._loop.call_soon(self._invoke, callback, args, error)

    def _invoke(self, callback: Callback, args: tuple[Any, ...], error: str | None) -> None:
        if callback is None:
            log.warning("Unchecked runtime.lastError: %s", error)
            return
        rt = self.runtime
        rt._last_error = {"message": error} if error is not None else None
        try:
            callback(*args)
        except Exception:
            log.exception("exception in callback %r", callback)
        finally:
            rt._last_error = None

    def _resolve_in_background(self, fn: Callable[[], Any], done: Callable[[Any, BaseException | None], None]) -> None:
        """Run ``fn()`` on a resolver thread (never the loop thread); then ``done(result, exc)``
        on the loop thread."""
        with self._resolver_lock:
            if self._resolver is None:
                self._resolver = ThreadPoolExecutor(
                    max_workers=min(8, (os.cpu_count() or 2) * 2), thread_name_prefix="fastsockets-dns"
                )
            resolver = self._resolver

        def work() -> None:
            try:
                result, exc = fn(), None
            except BaseException as e:  # reported through done()
                result, exc = None, e
            try:
                self._loop.call_soon_threadsafe(done, result, exc)
            except Exception:
                pass  # the App was closed meanwhile

        resolver.submit(work)

    def stats(self) -> dict[str, int]:
        """Counters: ``permission_denied``, ``quota_exceeded``, ``write_quota_used``."""
        out = dict(self._stats)
        out["write_quota_used"] = self._quota_used
        return out
