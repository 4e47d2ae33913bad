"""The binding's Loop: handlers, timers, wakeup, and the re-entrancy promise of the C loop as
seen from Python (a handler may close any fd, including the next one in the same batch)."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from fastsockets import _sockcore


@pytest.fixture
def loop():
    lp = _sockcore.Loop()
    yield lp
    lp.close()


def test_readable_handler_and_unwatch(loop) -> None:
    a, b = socket.socketpair()
    seen = []
    loop.watch(a.fileno(), _sockcore.READABLE, lambda mask: seen.append(mask) or a.recv(10))
    assert loop.mask(a.fileno()) == _sockcore.READABLE
    b.send(b"x")
    loop.run_once(1000)
    assert seen == [_sockcore.READABLE]
    assert loop.unwatch(a.fileno()) is True
    assert loop.unwatch(a.fileno()) is False
    b.send(b"y")
    loop.run_once(50)
    assert seen == [_sockcore.READABLE]
    assert loop.counts() == (0, 0)
    a.close(), b.close()


def test_handler_closing_the_next_fd_in_the_batch(loop) -> None:
    pairs = [socket.socketpair() for _ in range(2)]
    fired = []

    def make(i):
        def handler(mask):
            fired.append(i)
            other = pairs[1 - i][0]
            if other.fileno() >= 0:
                loop.unwatch(other.fileno())
                other.close()
        return handler

    for i, (a, _) in enumerate(pairs):
        loop.watch(a.fileno(), _sockcore.READABLE, make(i))
    for _, b in pairs:
        b.send(b"x")  # both ready before the one poll
    loop.run_once(1000)
    assert len(fired) == 1  # the other fd was closed before its event was dispatched
    for a, b in pairs:
        a.close(), b.close()


def test_exceptions_go_to_the_handler_and_loop_goes_on(loop) -> None:
    errors = []
    loop.exception_handler = lambda ctx, exc: errors.append((ctx, type(exc)))
    loop.call_later(0, lambda: 1 / 0)
    ran = []
    loop.call_later(0, lambda: ran.append(1))
    loop.run_once(0)
    assert errors and errors[0][1] is ZeroDivisionError
    assert ran == [1]


def test_keyboard_interrupt_is_reraised_after_the_batch(loop) -> None:
    def boom():
        raise KeyboardInterrupt

    ran = []
    loop.call_later(0, boom)
    loop.call_later(0, lambda: ran.append(1))
    with pytest.raises(KeyboardInterrupt):
        loop.run_once(0)
    assert ran == [1]


def test_timers_order_cancel_and_next_timeout(loop) -> None:
    out = []
    loop.call_later(30, lambda: out.append("b"))
    loop.call_later(10, lambda: out.append("a"))
    t = loop.call_later(20, lambda: out.append("x"))
    assert 0 <= loop.next_timeout() <= 10
    assert loop.cancel_timer(t) is True
    assert loop.cancel_timer(t) is False
    deadline = time.monotonic() + 2
    while len(out) < 2 and time.monotonic() < deadline:
        loop.run_once(100)
    assert out == ["a", "b"]
    assert loop.next_timeout() == -1


def test_wakeup_from_another_thread(loop) -> None:
    t0 = time.monotonic()
    threading.Timer(0.05, loop.wakeup).start()
    assert loop.poll(5000) == 0
    assert time.monotonic() - t0 < 2


def test_fileno_is_pollable(loop) -> None:
    import select

    fd = loop.fileno()
    a, b = socket.socketpair()
    loop.watch(a.fileno(), _sockcore.READABLE, lambda m: a.recv(10))
    assert select.select([fd], [], [], 0)[0] == []
    b.send(b"x")
    assert select.select([fd], [], [], 1)[0] == [fd]
    loop.run_once(0)
    loop.unwatch(a.fileno())
    a.close(), b.close()


def test_bad_arguments(loop) -> None:
    with pytest.raises(OSError):
        loop.watch(-1, _sockcore.READABLE, lambda m: None)
    with pytest.raises(TypeError):
        loop.watch(0, _sockcore.READABLE, 42)
    r, w = os.pipe()
    with pytest.raises(OSError):
        loop.set_mask(r, _sockcore.READABLE)  # not watched
    os.close(r), os.close(w)
    loop.close()
    with pytest.raises(RuntimeError):
        loop.poll(0)
