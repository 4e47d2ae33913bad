# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""fastsockets._sockcore - the binding of the C core.

Holds the native objects and no API policy: ``Loop`` (the fd/timer loop), ``RecvView`` (a
zero-copy, read-only view of one received datagram), ``Listeners`` (the immutable listener tuple
an event dispatches to) and ``UdpReceiver`` (the recvmmsg receive path of one UDP socket, which
builds the ``onReceive`` payloads and calls the listeners).  Chrome semantics (ids, lastError,
permissions, error codes) live in the Python package.

Every C return code is checked in one place, ``_check``, which raises ``OSError`` for ``-errno``.
C calls back into this module only through ``_on_io`` and ``_on_timer``; both catch every
exception: ordinary ones go to ``Loop.exception_handler``, ``KeyboardInterrupt``/``SystemExit``
are kept and re-raised by ``Loop.dispatch()`` once the C dispatch has returned.
"""
cimport cython
from cpython.bytes cimport PyBytes_FromStringAndSize
from cpython.buffer cimport PyBuffer_FillInfo
from cpython.dict cimport PyDict_Copy
from cpython.object cimport PyObject
from libc.errno cimport EMSGSIZE, ENOBUFS, ENOENT
from libc.stdint cimport uint8_t, uint32_t, uint64_t, int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcmp, memcpy, memset
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC

from _sockcore cimport *

import logging as _logging
import os as _os

__all__ = ["Loop", "RecvView", "Listeners", "UdpReceiver", "backend", "READABLE", "WRITABLE"]

READABLE = FS_READABLE
WRITABLE = FS_WRITABLE

_log = _logging.getLogger("fastsockets")


cdef extern from "Python.h":
    PyObject *PyObject_CallOneArg(PyObject *callable, PyObject *arg)
    void PyErr_Fetch(PyObject **ptype, PyObject **pvalue, PyObject **ptb)
    void PyErr_NormalizeException(PyObject **ptype, PyObject **pvalue, PyObject **ptb)
    int PyException_SetTraceback(PyObject *ex, PyObject *tb)
    void Py_XDECREF(PyObject *o)
    void Py_DECREF(PyObject *o)
    int PyErr_CheckSignals() except -1


cdef extern from "<netinet/in.h>" nogil:
    int AF_INET
    int AF_INET6
    struct in_addr:
        pass
    struct in6_addr:
        pass
    struct sockaddr_in:
        unsigned short sin_port
        in_addr sin_addr
    struct sockaddr_in6:
        unsigned short sin6_port
        in6_addr sin6_addr
    unsigned short ntohs(unsigned short)


cdef extern from "<arpa/inet.h>" nogil:
    const char *inet_ntop(int af, const void *src, char *dst, socklen_t size)


def backend():
    """Name of the compiled loop backend: ``"epoll"``, ``"kqueue"`` or ``"poll"``."""
    return fs_loop_backend_name().decode()


cdef inline double _now() noexcept:
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return ts.tv_sec + ts.tv_nsec * 1e-9


cdef int _check(int rc) except -1:
    """Raise OSError for a negative C return code; return rc otherwise."""
    if rc < 0:
        raise OSError(-rc, _os.strerror(-rc))
    return rc


cdef object _take_exception():
    """Fetch and clear the pending Python exception; return the instance (traceback attached)."""
    cdef PyObject *t = NULL
    cdef PyObject *v = NULL
    cdef PyObject *tb = NULL
    PyErr_Fetch(&t, &v, &tb)
    PyErr_NormalizeException(&t, &v, &tb)
    if v == NULL:
        Py_XDECREF(t)
        Py_XDECREF(tb)
        return RuntimeError("callback failed without an exception")
    if tb != NULL:
        PyException_SetTraceback(v, tb)
    exc = <object>v
    Py_XDECREF(t)
    Py_XDECREF(v)
    Py_XDECREF(tb)
    return exc


def _default_exception_handler(str context, BaseException exc):
    _log.error("%s", context, exc_info=(type(exc), exc, exc.__traceback__))


# ---------------------------------------------------------------------------------------------
# Loop
# ---------------------------------------------------------------------------------------------

cdef class IOHandler:
    """Base of native fd handlers: the loop calls ``_on_io`` without a Python call."""
    cdef uint64_t _token  # the token of the fd registration this handler is attached to

    cdef int _on_io(self, int fd, int mask) except -1:
        return 0


cdef class _PyHandler(IOHandler):
    cdef object fn

    def __cinit__(self, fn):
        self.fn = fn

    cdef int _on_io(self, int fd, int mask) except -1:
        self.fn(mask)
        return 0


cdef void _on_io(fs_loop_t *cloop, int fd, int mask, uint64_t token) noexcept with gil:
    cdef Loop self = <Loop>fs_loop_get_data(cloop)
    cdef IOHandler h
    try:
        h = self._handlers.get(fd)
        if h is not None:
            h._on_io(fd, mask)
    except BaseException as exc:
        self._handle_exception("exception in I/O handler for fd %d" % fd, exc)


cdef void _on_timer(fs_loop_t *cloop, uint64_t timer_id, uint64_t token) noexcept with gil:
    cdef Loop self = <Loop>fs_loop_get_data(cloop)
    try:
        fn = self._timers.pop(timer_id, None)
        if fn is not None:
            fn()
    except BaseException as exc:
        self._handle_exception("exception in timer callback", exc)


cdef class Loop:
    """One native event loop (epoll, kqueue or poll, fixed at build time).

    Single-threaded: every method except :meth:`wakeup` must be called from the thread that runs
    the loop.  Handlers run only inside :meth:`dispatch` (or :meth:`run_once`).

    ``exception_handler(context: str, exc: BaseException)`` receives every exception raised by a
    handler or timer callback (default: logged on the ``fastsockets`` logger).  A
    ``KeyboardInterrupt`` or ``SystemExit`` raised by a callback is kept and re-raised by
    :meth:`dispatch` after the current batch.
    """
    cdef fs_loop_t *_loop
    cdef dict _handlers
    cdef dict _timers
    cdef object _fatal
    cdef uint64_t _next_token
    cdef int _depth             # > 0 while run()/dispatch() is on the stack
    cdef bint _stop
    cdef bint _close_pending    # close() was called from a callback: free when unwound
    cdef public bint ready_pending
    cdef public object exception_handler

    def __cinit__(self):
        self._loop = NULL
        self._handlers = {}
        self._timers = {}
        self._fatal = None
        self.exception_handler = _default_exception_handler
        _check(fs_loop_new(&self._loop))
        fs_loop_set_data(self._loop, <void *>self)

    def __dealloc__(self):
        if self._loop != NULL:
            fs_loop_free(self._loop)
            self._loop = NULL

    cdef int _ensure_open(self) except -1:
        if self._loop == NULL:
            raise RuntimeError("the loop is closed")
        return 0

    cdef void _handle_exception(self, str context, object exc) noexcept:
        if not isinstance(exc, Exception):
            # KeyboardInterrupt, SystemExit: stop after this batch, re-raised by dispatch().
            if self._fatal is None:
                self._fatal = exc
            return
        try:
            self.exception_handler(context, exc)
        except BaseException as exc2:
            try:
                _log.error("exception handler failed", exc_info=(type(exc2), exc2, exc2.__traceback__))
            except BaseException:
                pass

    def close(self):
        """Free the native loop.  Watched fds are not closed.  Idempotent.

        Called from a callback (while :meth:`run` or :meth:`dispatch` is on the stack), the loop
        is marked closed at once and freed when that call returns."""
        if self._depth > 0:
            self._close_pending = True
            self._stop = True
            return
        self._free()

    cdef void _free(self) noexcept:
        if self._loop != NULL:
            fs_loop_free(self._loop)
            self._loop = NULL
        self._close_pending = False
        self._handlers.clear()
        self._timers.clear()

    @property
    def closed(self):
        return self._loop == NULL or self._close_pending

    def stop(self):
        """Make :meth:`run` return after the current iteration.  Safe from any thread."""
        self._stop = True
        if self._loop != NULL:
            fs_loop_wakeup(self._loop)

    def run(self, on_ready, double timeout=-1.0, bint once=False):
        """Run iterations until :meth:`stop`, :meth:`close`, or ``timeout`` seconds (< 0: no
        limit); with ``once``, exactly one iteration waiting at most ``timeout``.

        One iteration: wait (GIL released) for I/O, a wakeup or the next timer - not at all
        while ``ready_pending`` is set - then run due timers and I/O handlers, then
        ``on_ready()`` if ``ready_pending`` is set (the owner clears it once its queues are
        empty).  The whole loop stays in C between events: the per-iteration cost that a
        Python-level loop would add to every small batch is gone.
        """
        cdef int rc, ms
        cdef double deadline = 0.0, left
        self._ensure_open()
        if self._depth:
            raise RuntimeError("Loop.run() is not re-entrant")
        if timeout >= 0:
            deadline = _now() + timeout
        # _stop is not cleared here: a stop() from another thread just before run() started
        # must not be lost.  It is cleared when run() returns.
        self._depth += 1
        try:
            while True:
                if self.ready_pending or self._stop:
                    ms = 0
                elif timeout < 0:
                    ms = -1
                else:
                    left = deadline - _now()
                    ms = 0 if left <= 0 else <int>(left * 1000.0 + 0.999)
                with nogil:
                    rc = fs_loop_poll(self._loop, ms)
                PyErr_CheckSignals()
                _check(rc)
                _check(fs_loop_dispatch(self._loop))
                if self._fatal is not None:
                    exc, self._fatal = self._fatal, None
                    raise exc
                if self.ready_pending and not self._close_pending:
                    on_ready()
                if once or self._stop or self._close_pending:
                    break
                if timeout >= 0 and _now() >= deadline:
                    break
        finally:
            self._depth -= 1
            self._stop = False
            if self._close_pending and self._depth == 0:
                self._free()

    def watch(self, int fd, int mask, handler):
        """Watch ``fd`` for ``mask`` (READABLE|WRITABLE; 0 keeps it registered but silent).

        ``handler`` is a native ``IOHandler`` or a callable taking the ready mask.  Replaces any
        previous handler of ``fd``.  :raises OSError: from the backend (e.g. EBADF, EPERM for a
        regular file).
        """
        cdef IOHandler h
        self._ensure_open()
        if isinstance(handler, IOHandler):
            h = <IOHandler>handler
        elif callable(handler):
            h = _PyHandler(handler)
        else:
            raise TypeError("handler must be callable")
        # A fresh token per watch: the C loop then drops events of an earlier registration of
        # this fd number that are still waiting in the current batch.
        self._next_token += 1
        _check(fs_loop_watch(self._loop, fd, mask, _on_io, self._next_token))
        h._token = self._next_token
        self._handlers[fd] = h

    cpdef set_mask(self, int fd, int mask):
        """Change the interest mask of an already watched fd.  :raises OSError: ENOENT."""
        cdef IOHandler h
        self._ensure_open()
        h = self._handlers.get(fd)
        if h is None:
            raise OSError(ENOENT, "fd %d is not watched" % fd)
        _check(fs_loop_watch(self._loop, fd, mask, _on_io, h._token))

    cpdef unwatch(self, int fd):
        """Stop watching ``fd``; returns False if it was not watched."""
        if self._loop == NULL:
            return False
        self._handlers.pop(fd, None)
        return fs_loop_unwatch(self._loop, fd) == 0

    def mask(self, int fd):
        """Interest mask of ``fd``, or -1 if it is not watched."""
        self._ensure_open()
        cdef int rc = fs_loop_mask(self._loop, fd)
        return -1 if rc < 0 else rc

    def poll(self, int timeout_ms):
        """Wait (GIL released) up to ``timeout_ms`` (-1: no limit) for events, a wakeup or the
        next timer; returns the number of fd events found.  Runs no callback.  Pending signal
        handlers run afterwards (so Ctrl-C raises KeyboardInterrupt here)."""
        cdef int rc
        self._ensure_open()
        with nogil:
            rc = fs_loop_poll(self._loop, timeout_ms)
        PyErr_CheckSignals()
        return _check(rc)

    def dispatch(self):
        """Run due timers and the handlers of the events found by :meth:`poll`.  Returns the
        number of callbacks run.  Re-raises a KeyboardInterrupt/SystemExit from a callback."""
        cdef int rc
        self._ensure_open()
        self._depth += 1
        try:
            rc = fs_loop_dispatch(self._loop)
        finally:
            self._depth -= 1
            if self._close_pending and self._depth == 0:
                self._free()
        if self._fatal is not None:
            exc, self._fatal = self._fatal, None
            raise exc
        return _check(rc)

    def run_once(self, int timeout_ms):
        """:meth:`poll` then :meth:`dispatch`."""
        self.poll(timeout_ms)
        return self.dispatch()

    def wakeup(self):
        """Make a concurrent or the next :meth:`poll` return at once.  Safe from any thread.

        The GIL stays held: it is one non-blocking write, and holding the GIL is what keeps
        :meth:`close` (which needs the GIL) from freeing the loop under it."""
        cdef int rc = 0
        if self._loop != NULL:
            rc = fs_loop_wakeup(self._loop)
        _check(rc)

    def fileno(self):
        """A pollable fd that is readable when :meth:`poll` would find work (for embedding in
        another loop).  :raises OSError: ENOSYS with the poll backend."""
        self._ensure_open()
        return _check(fs_loop_fd(self._loop))

    def call_later(self, uint64_t delay_ms, callback):
        """Run ``callback()`` once, ``delay_ms`` milliseconds from now (0: at the next dispatch).
        Returns the timer id for :meth:`cancel_timer`."""
        cdef uint64_t tid = 0
        self._ensure_open()
        if not callable(callback):
            raise TypeError("callback must be callable")
        _check(fs_loop_timer_start(self._loop, delay_ms, _on_timer, 0, &tid))
        self._timers[tid] = callback
        return tid

    def cancel_timer(self, uint64_t timer_id):
        """Cancel a pending timer; returns False if it already ran or never existed."""
        if self._loop == NULL:
            return False
        self._timers.pop(timer_id, None)
        return fs_loop_timer_cancel(self._loop, timer_id) == 0

    def next_timeout(self):
        """Milliseconds until the next timer is due (0 if overdue), or -1 if there is none."""
        self._ensure_open()
        return fs_loop_next_timeout(self._loop)

    def counts(self):
        """``(watched fds, pending timers)`` as the C core counts them (leak checks)."""
        self._ensure_open()
        return (fs_loop_watch_count(self._loop), fs_loop_timer_count(self._loop))


include "_recv.pxi"
