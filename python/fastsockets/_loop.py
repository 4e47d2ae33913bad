"""The one native loop of an App, and the ways to run it.

``EventLoop`` owns a ``_sockcore.Loop`` and adds what Chrome's event model needs on top of fd
readiness: a queue of completion callbacks (every API callback runs asynchronously, from here,
never inside the API call), a thread-safe queue for calls made from other threads, and three ways
to drive it: ``run()`` in the calling thread, ``start()`` in a background thread, and
``attach()`` to a running asyncio loop (the native loop's own fd is watched by asyncio, so one
thread serves both).

Threading model: exactly one thread - the *loop thread* - touches sockets and state.  It is the
thread that created the App until the loop is run, then the thread that runs it.  A call from any
other thread is queued with :meth:`EventLoop.call_soon_threadsafe` and executed by the loop
thread at its next iteration.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from . import _sockcore
from .errors import LoopClosedError

if TYPE_CHECKING:
    import asyncio

__all__ = ["EventLoop"]

log = logging.getLogger("fastsockets")

_Callback = Callable[..., object]


def _log_exception(context: str, exc: BaseException) -> None:
    log.error("%s", context, exc_info=(type(exc), exc, exc.__traceback__))


class EventLoop:
    """The native loop plus the callback queues.  Not created directly: ``App`` owns one."""

    def __init__(self) -> None:
        self._core = _sockcore.Loop()
        self._core.exception_handler = _log_exception
        self._ready: deque[tuple[_Callback, tuple[Any, ...]]] = deque()
        self._threadsafe: deque[tuple[_Callback, tuple[Any, ...]]] = deque()
        self._owner = threading.get_ident()
        self._running = False
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._aio: asyncio.AbstractEventLoop | None = None
        self._aio_drain_scheduled = False
        self._aio_timer: asyncio.TimerHandle | None = None
        self._lock = threading.Lock()

    # -- plumbing used by the API layer ----------------------------------------------------

    @property
    def core(self) -> _sockcore.Loop:
        """The native loop (for the socket modules)."""
        return self._core

    @property
    def closed(self) -> bool:
        return self._closed

    def in_loop_thread(self) -> bool:
        """True if the calling thread may touch sockets directly."""
        return threading.get_ident() == self._owner

    def call_soon(self, fn: _Callback, *args: Any) -> None:
        """Run ``fn(*args)`` on the loop thread at the next iteration (FIFO).  From another
        thread this is :meth:`call_soon_threadsafe`."""
        if threading.get_ident() != self._owner:
            self.call_soon_threadsafe(fn, *args)
            return
        self._ready.append((fn, args))
        self._core.ready_pending = True
        if self._aio is not None and not self._aio_drain_scheduled:
            self._aio_drain_scheduled = True
            self._aio.call_soon(self._aio_drain)

    def call_soon_threadsafe(self, fn: _Callback, *args: Any) -> None:
        """Queue ``fn(*args)`` for the loop thread from any thread and wake the loop."""
        if self._closed:
            raise LoopClosedError("the App is closed")
        self._threadsafe.append((fn, args))  # deque.append is atomic
        self._core.ready_pending = True  # after the append: see _run_ready
        try:
            self._core.wakeup()
        except (OSError, RuntimeError):
            pass  # closed concurrently; close() discards the queue

    def submit(self, fn: _Callback, *args: Any) -> None:
        """Run ``fn(*args)`` now if called on the loop thread, else queue it for the loop thread.
        Used by every API function after argument validation."""
        if self._closed:
            raise LoopClosedError("the App is closed")
        if threading.get_ident() == self._owner:
            fn(*args)
        else:
            self.call_soon_threadsafe(fn, *args)

    def call_later(self, delay: float, fn: _Callback, *args: Any) -> int:
        """Run ``fn(*args)`` after ``delay`` seconds (loop thread only).  Returns a timer id."""
        ms = max(0, int(delay * 1000 + 0.999))
        tid = self._core.call_later(ms, (lambda: fn(*args)) if args else fn)
        self._aio_reschedule()
        return int(tid)

    def cancel_timer(self, timer_id: int) -> bool:
        return bool(self._core.cancel_timer(timer_id))

    # -- one iteration -------------------------------------------------------------------------

    def _run_ready(self) -> None:
        """Run the queued calls (the native loop calls this when ``ready_pending`` is set)."""
        tq = self._threadsafe
        # Budget: what other threads queued up to now; more arriving meanwhile waits a turn.
        for _ in range(len(tq)):
            fn, args = tq.popleft()
            self._safe_call(fn, args)
        rq = self._ready
        # Only what is queued now: callbacks queued by these run next iteration, after I/O.
        for _ in range(len(rq)):
            fn, args = rq.popleft()
            self._safe_call(fn, args)
        # Another thread appends first and sets the flag second, so a call queued while we ran
        # either is seen here or sets the flag again afterwards: none is left waiting.
        if not self._closed:
            self._core.ready_pending = bool(rq or tq)

    @staticmethod
    def _safe_call(fn: _Callback, args: tuple[Any, ...]) -> None:
        try:
            fn(*args)
        except Exception as exc:  # a user callback never stops the loop
            _log_exception("exception in callback %r" % (fn,), exc)

    def run_once(self, timeout: float | None = 0.0) -> None:
        """One iteration: wait up to ``timeout`` seconds (None: until something happens) for I/O,
        a timer or a queued call, then run due timers, I/O handlers and queued callbacks."""
        if self._closed:
            raise LoopClosedError("the App is closed")
        self._core.run(self._run_ready, -1.0 if timeout is None else max(0.0, timeout), True)

    # -- ways to run ---------------------------------------------------------------------------

    def run(self, timeout: float | None = None) -> None:
        """Run the loop in the calling thread until :meth:`stop` is called (from a callback or
        any thread) or ``timeout`` seconds have passed.  The calling thread becomes the loop
        thread.  :raises RuntimeError: if the loop is already running."""
        with self._lock:
            if self._closed:
                raise LoopClosedError("the App is closed")
            if self._running:
                raise RuntimeError("the loop is already running")
            if self._aio is not None:
                raise RuntimeError("the loop is attached to asyncio; detach() first")
            self._running = True
        self._owner = threading.get_ident()
        try:
            if not self._stopping:
                self._core.run(self._run_ready, -1.0 if timeout is None else max(0.0, timeout))
        finally:
            self._stopping = False
            self._running = False

    def stop(self) -> None:
        """Ask :meth:`run` (or the background thread) to return after the current iteration.
        Safe from any thread and from callbacks.  Without a running loop, does nothing."""
        if not self._running:
            return
        self._stopping = True
        self._core.stop()

    @property
    def running(self) -> bool:
        return self._running or self._aio is not None

    def start(self) -> threading.Thread:
        """Run the loop in a new daemon thread (which becomes the loop thread) until
        :meth:`stop`; returns the thread.  :raises RuntimeError: if already running."""
        with self._lock:
            if self._running or self._thread is not None:
                raise RuntimeError("the loop is already running")
        started = threading.Event()

        def main() -> None:
            self._owner = threading.get_ident()
            started.set()
            try:
                self.run()
            except BaseException:  # pragma: no cover - logged, thread ends
                log.exception("fastsockets background loop stopped by an exception")

        t = threading.Thread(target=main, name="fastsockets-loop", daemon=True)
        self._thread = t
        t.start()
        started.wait()
        while not self._running and t.is_alive():
            time.sleep(0.0005)
        return t

    def join(self, timeout: float | None = None) -> None:
        """Stop the background thread and wait for it."""
        t = self._thread
        if t is None:
            return
        self.stop()
        t.join(timeout)
        if not t.is_alive():
            self._thread = None
            # The joining thread takes over: its calls run directly again.
            self._owner = threading.get_ident()

    # -- asyncio -------------------------------------------------------------------------------

    def attach(self, aloop: asyncio.AbstractEventLoop | None = None) -> None:
        """Let a running asyncio loop drive this one: asyncio watches the native loop's fd and
        runs our iterations, so asyncio code (in that thread) can call the API directly.
        :raises RuntimeError: if already running or attached, or with the poll backend."""
        import asyncio

        if aloop is None:
            aloop = asyncio.get_running_loop()
        with self._lock:
            if self._running or self._aio is not None:
                raise RuntimeError("the loop is already running")
            try:
                fd = self._core.fileno()
            except OSError as exc:
                raise RuntimeError(
                    "the %s backend has no pollable fd; asyncio embedding needs epoll or kqueue"
                    % _sockcore.backend()
                ) from exc
            self._aio = aloop
        self._owner = threading.get_ident()
        aloop.add_reader(fd, self._aio_drain)
        self._aio_drain_scheduled = True
        aloop.call_soon(self._aio_drain)

    def detach(self) -> None:
        """Undo :meth:`attach`."""
        aloop = self._aio
        if aloop is None:
            return
        try:
            aloop.remove_reader(self._core.fileno())
        except (OSError, RuntimeError, ValueError):
            pass
        if self._aio_timer is not None:
            self._aio_timer.cancel()
            self._aio_timer = None
        self._aio = None
        self._aio_drain_scheduled = False

    def _aio_drain(self) -> None:
        self._aio_drain_scheduled = False
        if self._aio is None or self._closed:
            return
        self._core.run(self._run_ready, 0.0, True)
        if self._aio is None or self._closed:
            return
        if (self._ready or self._threadsafe) and not self._aio_drain_scheduled:
            self._aio_drain_scheduled = True
            self._aio.call_soon(self._aio_drain)
        self._aio_reschedule()

    def _aio_reschedule(self) -> None:
        aloop = self._aio
        if aloop is None:
            return
        if self._aio_timer is not None:
            self._aio_timer.cancel()
            self._aio_timer = None
        ms = self._core.next_timeout()
        if ms >= 0:
            self._aio_timer = aloop.call_later(ms / 1000.0, self._aio_drain)

    # -- teardown ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop, detach and free the native loop.  Queued callbacks are dropped.  Called from a
        callback, it makes :meth:`run` return after the current iteration."""
        if self._closed:
            return
        if self._thread is not None and self._thread is not threading.current_thread():
            self.join()
        elif self._running and threading.get_ident() != self._owner:
            # run() is polling in another thread: the loop thread must close it itself.
            done = threading.Event()

            def close_there() -> None:
                self.close()
                done.set()

            self.call_soon_threadsafe(close_there)
            if not done.wait(10.0):
                raise RuntimeError("the loop thread did not respond to close()")
            deadline = time.monotonic() + 10.0
            while self._running and time.monotonic() < deadline:
                time.sleep(0.001)
            return
        self.detach()
        self._closed = True
        self._stopping = True
        self._ready.clear()
        self._threadsafe.clear()
        # From inside a callback the native loop frees itself once run() has unwound.
        self._core.close()
