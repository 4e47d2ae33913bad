"""The App around the sockets: ``runtime.lastError`` (spec §1.2), the ways to run the loop
(app.run / run_once / start+join / attach to asyncio), threads, closing, and the lifetime rules
of §1.7 (suspend closes non-persistent sockets, unload closes all and releases the ports).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

import fastsockets
import pytest
from fsutil import (
    WAIT,
    bound_udp,
    call,
    collect,
    make_udp,
    run_for,
    run_until,
)

NOT_FOUND = {"message": "Socket not found"}


def info(app: fastsockets.App, sid: int) -> Any:
    return call(app, app.sockets.udp.getInfo, sid).value


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# -- runtime.lastError (§1.2) ---------------------------------------------------------------------


def test_last_error_is_none_outside_callbacks(app: fastsockets.App, udp: Any) -> None:
    assert app.runtime.lastError is None
    seen: list[Any] = []
    udp.getInfo(7, lambda i: seen.append(app.runtime.lastError))
    assert app.runtime.lastError is None
    run_until(app, lambda: seen)
    assert seen == [NOT_FOUND]
    assert app.runtime.lastError is None
    assert app.runtime.last_error is None


def test_last_error_only_during_failing_callbacks(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    seen: list[tuple[str, Any]] = []

    def rec(tag: str) -> Any:
        return lambda *a: seen.append((tag, app.runtime.lastError))

    # Interleave failing and succeeding calls; each callback sees only its own outcome.
    udp.getInfo(99, rec("fail-1"))
    udp.getInfo(sid, rec("ok-1"))
    udp.bind(sid, "localhost", 0, rec("fail-2"))
    udp.setPaused(sid, True, rec("ok-2"))
    udp.send(sid, b"x", "127.0.0.1", 9, rec("fail-3"))
    udp.getSockets(rec("ok-3"))
    run_until(app, lambda: len(seen) == 6)
    assert seen == [
        ("fail-1", NOT_FOUND),
        ("ok-1", None),
        ("fail-2", {"message": "net::ERR_INVALID_ARGUMENT"}),
        ("ok-2", None),
        ("fail-3", {"message": "net::ERR_SOCKET_NOT_CONNECTED"}),
        ("ok-3", None),
    ]
    assert app.runtime.lastError is None


def test_last_error_inside_a_failing_callback_that_makes_calls(app: fastsockets.App, udp: Any) -> None:
    seen: list[Any] = []

    def failed(arg: Any) -> None:
        seen.append(app.runtime.lastError)
        udp.getSockets(lambda s: seen.append(app.runtime.lastError))
        seen.append(app.runtime.lastError)  # unchanged by the call just made

    udp.getInfo(5, failed)
    run_until(app, lambda: len(seen) == 3)
    assert seen == [NOT_FOUND, NOT_FOUND, None]


def test_last_error_is_none_in_event_listeners(app: fastsockets.App, udp: Any, sender: socket.socket) -> None:
    seen: list[Any] = []
    udp.onReceive.addListener(lambda e: seen.append(("rx", app.runtime.lastError)))
    udp.onReceiveError.addListener(lambda e: seen.append(("err", app.runtime.lastError)))
    _sid, port = bound_udp(app, properties={"bufferSize": 4})
    udp.getInfo(1234, lambda i: None)  # a failing call completing around the same time
    sender.sendto(b"1234", ("127.0.0.1", port))
    sender.sendto(b"12345", ("127.0.0.1", port))
    run_until(app, lambda: len(seen) == 2)
    assert seen == [("rx", None), ("err", None)]


def test_last_error_is_a_fresh_dict(app: fastsockets.App, udp: Any) -> None:
    r1 = call(app, udp.getInfo, 1)
    r2 = call(app, udp.close, 1)
    assert r1.last_error == {"message": "Socket not found"} == r2.last_error


def test_unchecked_last_error_is_logged(app: fastsockets.App, udp: Any, caplog: pytest.LogCaptureFixture) -> None:
    sid = make_udp(app)
    with caplog.at_level(logging.DEBUG, logger="fastsockets"):
        udp.close(999)
        udp.bind(sid, "localhost", 0)
        udp.send(sid, b"x", "127.0.0.1", 9)
        udp.update(998, {"name": "x"})
        run_for(app, 0.1)
    unchecked = [r.getMessage() for r in caplog.records if "Unchecked runtime.lastError" in r.getMessage()]
    assert len(unchecked) == 4, unchecked
    assert any("Socket not found" in m for m in unchecked)
    assert any("net::ERR_INVALID_ARGUMENT" in m for m in unchecked)
    assert any("net::ERR_SOCKET_NOT_CONNECTED" in m for m in unchecked)
    assert all(r.levelno >= logging.WARNING for r in caplog.records if "Unchecked" in r.getMessage())


def test_successful_call_without_callback_logs_nothing(app: fastsockets.App, udp: Any, caplog: pytest.LogCaptureFixture) -> None:
    sid = make_udp(app)
    with caplog.at_level(logging.DEBUG, logger="fastsockets"):
        udp.update(sid, {"name": "x"})
        udp.setPaused(sid, True)
        udp.bind(sid, "127.0.0.1", 0)
        udp.close(sid)
        run_for(app, 0.1)
    assert [r for r in caplog.records if "Unchecked" in r.getMessage()] == []


# -- running the loop --------------------------------------------------------------------------------


def test_run_returns_after_timeout(app: fastsockets.App) -> None:
    t0 = time.monotonic()
    app.run(timeout=0.2)
    elapsed = time.monotonic() - t0
    assert 0.19 <= elapsed < 1.0


def test_run_once_waits_at_most_timeout(app: fastsockets.App) -> None:
    t0 = time.monotonic()
    app.run_once(0.1)
    assert time.monotonic() - t0 < 1.0
    t0 = time.monotonic()
    app.run_once(0)
    assert time.monotonic() - t0 < 0.5


def test_run_keeps_serving_until_timeout(app: fastsockets.App, udp: Any, sender: socket.socket) -> None:
    got = collect(udp.onReceive)
    _sid, port = bound_udp(app)
    timer = threading.Timer(0.1, lambda: sender.sendto(b"late", ("127.0.0.1", port)))
    timer.start()
    try:
        app.run(timeout=0.5)
    finally:
        timer.cancel()
    assert [bytes(e["data"]) for e in got] == [b"late"]


def test_stop_from_a_listener_returns_run(app: fastsockets.App, udp: Any, sender: socket.socket) -> None:
    got: list[bytes] = []

    def listener(e: dict[str, Any]) -> None:
        got.append(bytes(e["data"]))
        app.stop()

    udp.onReceive.addListener(listener)
    _sid, port = bound_udp(app)
    sender.sendto(b"stop", ("127.0.0.1", port))
    t0 = time.monotonic()
    app.run(timeout=WAIT)
    assert time.monotonic() - t0 < WAIT / 2
    assert got == [b"stop"]


def test_stop_from_a_callback_returns_run(app: fastsockets.App, udp: Any) -> None:
    done: list[Any] = []
    udp.create({}, lambda ci: (done.append(ci), app.stop()))
    t0 = time.monotonic()
    app.run(timeout=WAIT)
    assert time.monotonic() - t0 < WAIT / 2
    assert done == [{"socketId": 1}]


def test_stop_from_another_thread_returns_run(app: fastsockets.App) -> None:
    timer = threading.Timer(0.1, app.stop)
    timer.start()
    t0 = time.monotonic()
    app.run(timeout=WAIT)
    timer.cancel()
    assert time.monotonic() - t0 < WAIT / 2


def test_stop_without_a_running_loop_does_nothing(app: fastsockets.App) -> None:
    app.stop()
    t0 = time.monotonic()
    app.run(timeout=0.2)
    assert time.monotonic() - t0 >= 0.19


def test_run_can_be_called_again_after_stop(app: fastsockets.App, udp: Any) -> None:
    udp.create({}, lambda ci: app.stop())
    app.run(timeout=WAIT)
    done: list[Any] = []
    udp.create({}, lambda ci: (done.append(ci), app.stop()))
    app.run(timeout=WAIT)
    assert done == [{"socketId": 2}]


# -- background thread --------------------------------------------------------------------------------


def wait_for(event: threading.Event) -> None:
    assert event.wait(WAIT), "callback did not run within %.0f s" % WAIT


def test_background_thread(app: fastsockets.App, udp: Any, sender: socket.socket) -> None:
    main = threading.get_ident()
    thread = app.start()
    try:
        assert thread.is_alive()
        seen: dict[str, Any] = {}
        created, bound, received = threading.Event(), threading.Event(), threading.Event()

        def on_create(ci: dict[str, Any]) -> None:
            seen["create"] = (ci, threading.get_ident())
            created.set()

        def on_bind(code: int) -> None:
            seen["bind"] = (code, threading.get_ident())
            bound.set()

        def on_receive(e: dict[str, Any]) -> None:
            seen["receive"] = (bytes(e["data"]), threading.get_ident())
            received.set()

        udp.onReceive.addListener(on_receive)
        udp.create({}, on_create)
        wait_for(created)
        sid = seen["create"][0]["socketId"]
        udp.bind(sid, "127.0.0.1", 0, on_bind)
        wait_for(bound)
        got_info: list[Any] = []
        info_done = threading.Event()
        udp.getInfo(sid, lambda i: (got_info.append(i), info_done.set()))
        wait_for(info_done)
        sender.sendto(b"to the thread", ("127.0.0.1", got_info[0]["localPort"]))
        wait_for(received)
        loop_thread = seen["create"][1]
        assert loop_thread != main and loop_thread == thread.ident
        assert seen["bind"] == (0, loop_thread)
        assert seen["receive"] == (b"to the thread", loop_thread)
    finally:
        app.join(WAIT)
    assert not thread.is_alive()
    # The joining thread drives the App again.
    assert call(app, udp.getSockets).value[0]["socketId"] == 1


def test_background_failing_call_sets_last_error_in_loop_thread(app: fastsockets.App, udp: Any) -> None:
    app.start()
    try:
        done = threading.Event()
        seen: list[Any] = []
        udp.getInfo(77, lambda i: (seen.append((i, app.runtime.lastError, threading.get_ident())), done.set()))
        wait_for(done)
        assert seen[0][:2] == (None, NOT_FOUND)
        assert seen[0][2] != threading.get_ident()
        assert app.runtime.lastError is None
    finally:
        app.join(WAIT)


def test_calls_from_several_threads(app: fastsockets.App, udp: Any) -> None:
    app.start()
    try:
        n_threads, per_thread = 4, 25
        lock = threading.Lock()
        ids: list[int] = []
        callback_threads: set[int] = set()
        all_done = threading.Event()
        barrier = threading.Barrier(n_threads)
        errors: list[BaseException] = []

        def on_create(ci: dict[str, Any]) -> None:
            with lock:
                ids.append(ci["socketId"])
                callback_threads.add(threading.get_ident())
                if len(ids) == n_threads * per_thread:
                    all_done.set()

        def worker() -> None:
            try:
                barrier.wait(WAIT)
                for _ in range(per_thread):
                    udp.create({}, on_create)
            except BaseException as exc:  # reported below
                errors.append(exc)

        workers = [threading.Thread(target=worker) for _ in range(n_threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(WAIT)
        assert errors == []
        wait_for(all_done)
        assert len(ids) == len(set(ids)) == n_threads * per_thread
        assert all(i > 0 for i in ids)
        worker_idents = {w.ident for w in workers}
        assert len(callback_threads) == 1 and not callback_threads & worker_idents
        assert threading.get_ident() not in callback_threads
        listed = threading.Event()
        sockets: list[Any] = []
        udp.getSockets(lambda s: (sockets.extend(s), listed.set()))
        wait_for(listed)
        assert sorted(s["socketId"] for s in sockets) == sorted(ids)
    finally:
        app.join(WAIT)


def test_run_while_running_in_background_is_refused(app: fastsockets.App) -> None:
    app.start()
    try:
        with pytest.raises(RuntimeError):
            app.run(timeout=0.1)
        with pytest.raises(RuntimeError):
            app.start()
    finally:
        app.join(WAIT)


def test_close_stops_the_background_thread() -> None:
    a = fastsockets.App()
    try:
        thread = a.start()
        done = threading.Event()
        a.sockets.udp.create({}, lambda ci: done.set())
        wait_for(done)
    finally:
        a.close()
    thread.join(WAIT)
    assert not thread.is_alive()
    with pytest.raises(fastsockets.LoopClosedError):
        a.sockets.udp.create({}, lambda ci: None)


# -- asyncio ---------------------------------------------------------------------------------------------


def test_asyncio_round_trip(app: fastsockets.App, udp: Any) -> None:
    """attach() to a running asyncio loop; the whole exchange is driven by asyncio alone."""

    async def main() -> dict[str, Any]:
        aloop = asyncio.get_running_loop()
        app.attach()
        try:

            def later(fn: Any, *args: Any) -> asyncio.Future[Any]:
                fut: asyncio.Future[Any] = aloop.create_future()
                fn(*args, lambda *a: fut.set_result((a, app.runtime.lastError, threading.get_ident())))
                return fut

            async def result(fn: Any, *args: Any) -> Any:
                return await asyncio.wait_for(later(fn, *args), WAIT)

            ticks = 0

            async def ticker() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.001)

            tick_task = asyncio.create_task(ticker())
            received: asyncio.Future[dict[str, Any]] = aloop.create_future()
            udp.onReceive.addListener(lambda e: received.done() or received.set_result(e))

            (rx_ci,), err, t_rx = await result(udp.create, {})
            (tx_ci,), _, _ = await result(udp.create, {})
            rx, tx = rx_ci["socketId"], tx_ci["socketId"]
            assert err is None
            assert (await result(udp.bind, rx, "127.0.0.1", 0))[0] == (0,)
            assert (await result(udp.bind, tx, "127.0.0.1", 0))[0] == (0,)
            (rx_info,), _, _ = await result(udp.getInfo, rx)
            (tx_info,), _, _ = await result(udp.getInfo, tx)
            sent = await result(udp.send, tx, b"via asyncio", "127.0.0.1", rx_info["localPort"])
            event = await asyncio.wait_for(received, WAIT)
            missing = await result(udp.getInfo, 999)
            assert (await result(udp.close, rx))[0] == ()
            assert (await result(udp.close, tx))[0] == ()
            await asyncio.sleep(0.02)
            tick_task.cancel()
            return {
                "thread": t_rx, "sent": sent[0], "event": event, "tx_port": tx_info["localPort"],
                "rx": rx, "missing": missing[:2], "ticks": ticks,
            }
        finally:
            app.detach()

    out = asyncio.run(main())
    assert out["thread"] == threading.get_ident()  # callbacks ran in the asyncio thread
    assert out["sent"] == ({"resultCode": 0, "bytesSent": 11},)
    assert out["event"]["socketId"] == out["rx"]
    assert bytes(out["event"]["data"]) == b"via asyncio"
    assert (out["event"]["remoteAddress"], out["event"]["remotePort"]) == ("127.0.0.1", out["tx_port"])
    assert out["missing"] == ((None,), NOT_FOUND)
    assert out["ticks"] > 0  # asyncio kept running its own tasks meanwhile
    # Detached: the App can be driven directly again.
    assert call(app, udp.getSockets).value == []


def test_asyncio_receives_while_awaiting_sleep(app: fastsockets.App, udp: Any, sender: socket.socket) -> None:
    got = collect(udp.onReceive)
    _sid, port = bound_udp(app)

    async def main() -> None:
        app.attach()
        try:
            for i in range(20):
                sender.sendto(b"%d" % i, ("127.0.0.1", port))
            deadline = time.monotonic() + WAIT
            while len(got) < 20 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
        finally:
            app.detach()

    asyncio.run(main())
    assert [bytes(e["data"]) for e in got] == [b"%d" % i for i in range(20)]


def test_asyncio_attach_twice_is_refused(app: fastsockets.App) -> None:
    async def main() -> None:
        app.attach()
        try:
            with pytest.raises(RuntimeError):
                app.attach()
            with pytest.raises(RuntimeError):
                app.run(timeout=0.01)
        finally:
            app.detach()
        app.detach()  # detaching twice is harmless

    asyncio.run(main())


# -- close ------------------------------------------------------------------------------------------------


def test_close_is_idempotent_and_later_calls_raise() -> None:
    a = fastsockets.App()
    udp = a.sockets.udp
    make_udp(a)
    a.close()
    a.close()
    assert issubclass(fastsockets.LoopClosedError, fastsockets.FastSocketsError)
    for fn, args in [
        (udp.create, ({},)),
        (udp.getSockets, ()),
        (udp.getInfo, (1,)),
        (udp.bind, (1, "127.0.0.1", 0)),
        (udp.send, (1, b"x", "127.0.0.1", 9)),
        (udp.close, (1,)),
        (udp.setPaused, (1, True)),
    ]:
        with pytest.raises(fastsockets.LoopClosedError):
            fn(*args, lambda *x: None)
    with pytest.raises(fastsockets.LoopClosedError):
        a.run_once(0)
    with pytest.raises(fastsockets.LoopClosedError):
        a.run(timeout=0.05)


@pytest.mark.parametrize("where", ["listener", "callback"])
def test_close_from_inside_the_loop_ends_run(sender: socket.socket, where: str) -> None:
    """app.close() "destroys every socket, stops the loop and frees it" (App.close): called from
    a listener or callback while run() is running, run() returns; it does not raise."""
    a = fastsockets.App()
    try:
        udp = a.sockets.udp
        sid, port = bound_udp(a)
        if where == "listener":
            udp.onReceive.addListener(lambda e: a.close())
            sender.sendto(b"bye", ("127.0.0.1", port))
        else:
            udp.getInfo(sid, lambda i: a.close())
        t0 = time.monotonic()
        a.run(timeout=WAIT)
        assert time.monotonic() - t0 < WAIT / 2
        assert port_is_free(port)
        with pytest.raises(fastsockets.LoopClosedError):
            udp.create({}, lambda ci: None)
    finally:
        a.close()


def test_close_releases_ports() -> None:
    a = fastsockets.App()
    try:
        _, port = bound_udp(a)
        assert not port_is_free(port)
    finally:
        a.close()
    assert port_is_free(port)


def test_app_as_context_manager() -> None:
    with fastsockets.App() as a:
        _, port = bound_udp(a)
    assert port_is_free(port)
    with pytest.raises(fastsockets.LoopClosedError):
        a.sockets.udp.create({}, lambda ci: None)


def test_port_is_released_after_socket_close(app: fastsockets.App, udp: Any) -> None:
    sid, port = bound_udp(app)
    assert call(app, udp.close, sid).args == ()
    assert port_is_free(port)
    sid2 = make_udp(app)
    assert call(app, udp.bind, sid2, "127.0.0.1", port).args == (0,)


# -- suspend / unload (§1.7) ------------------------------------------------------------------------------


def test_suspend_closes_only_non_persistent_sockets(app: fastsockets.App, udp: Any, sender: socket.socket) -> None:
    got = collect(udp.onReceive)
    keep, keep_port = bound_udp(app, properties={"persistent": True})
    drop, drop_port = bound_udp(app)
    keep_unbound = make_udp(app, {"persistent": True, "name": "idle"})
    drop_unbound = make_udp(app)
    made_persistent = make_udp(app)
    call(app, udp.update, made_persistent, {"persistent": True})
    made_transient = make_udp(app, {"persistent": True})
    call(app, udp.update, made_transient, {"persistent": False})
    app.suspend()
    run_for(app, 0.05)
    listed = sorted(s["socketId"] for s in call(app, udp.getSockets).value)
    assert listed == sorted([keep, keep_unbound, made_persistent])
    for sid in (drop, drop_unbound, made_transient):
        assert call(app, udp.getInfo, sid).args == (None,)
    assert port_is_free(drop_port)
    # The persistent socket still receives.
    sender.sendto(b"survivor", ("127.0.0.1", keep_port))
    run_until(app, lambda: got)
    assert got[0]["socketId"] == keep


def test_unload_closes_every_socket_and_releases_ports(app: fastsockets.App, udp: Any) -> None:
    a, port_a = bound_udp(app, properties={"persistent": True})
    _b, port_b = bound_udp(app)
    make_udp(app, {"persistent": True})
    app.unload()
    run_for(app, 0.05)
    assert call(app, udp.getSockets).args == ([],)
    assert call(app, udp.getInfo, a).args == (None,)
    # Reloaded, the app can bind the same ports again, and ids keep growing.
    for port in (port_a, port_b):
        sid = make_udp(app)
        assert sid > 3
        assert call(app, udp.bind, sid, "127.0.0.1", port).args == (0,)


def test_suspend_and_unload_from_another_thread(app: fastsockets.App, udp: Any) -> None:
    keep, _ = bound_udp(app, properties={"persistent": True})
    make_udp(app)
    t = threading.Thread(target=app.suspend)
    t.start()
    t.join(WAIT)
    run_for(app, 0.05)
    assert [s["socketId"] for s in call(app, udp.getSockets).value] == [keep]
    t = threading.Thread(target=app.unload)
    t.start()
    t.join(WAIT)
    run_for(app, 0.05)
    assert call(app, udp.getSockets).value == []


# -- App options, statistics -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, exc",
    [
        ({"udp_batch": 0}, ValueError),
        ({"udp_batch": 1025}, ValueError),
        ({"udp_batch": -1}, ValueError),
        ({"udp_budget": 0}, ValueError),
        ({"write_quota": -1}, ValueError),
        ({"write_quota": "100"}, TypeError),
        ({"write_quota": 1.5}, TypeError),
    ],
)
def test_app_rejects_bad_options(kwargs: dict[str, Any], exc: type[Exception]) -> None:
    with pytest.raises(exc):
        fastsockets.App(**kwargs)


@pytest.mark.parametrize("batch", [1, 1024])
def test_app_batch_limits_work(batch: int, sender: socket.socket) -> None:
    with fastsockets.App(udp_batch=batch, udp_budget=1) as a:
        got = collect(a.sockets.udp.onReceive)
        _sid, port = bound_udp(a)
        for i in range(10):
            sender.sendto(b"%d" % i, ("127.0.0.1", port))
        run_until(a, lambda: len(got) == 10)
        assert [bytes(e["data"]) for e in got] == [b"%d" % i for i in range(10)]


def test_app_stats() -> None:
    with fastsockets.App(write_quota=10) as a:
        udp = a.sockets.udp
        assert a.stats() == {"permission_denied": 0, "quota_exceeded": 0, "write_quota_used": 0}
        r = call(a, udp.send, 1, bytes(11), "127.0.0.1", 9)
        assert (r.args, r.last_error) == ((None,), {"message": "Exceeded write quota."})
        assert a.stats()["quota_exceeded"] == 1
        assert a.stats()["write_quota_used"] == 0


# -- KeyboardInterrupt / SystemExit are not swallowed --------------------------------------------------------


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_interrupt_in_a_listener_propagates_out_of_run(app: fastsockets.App, udp: Any, sender: socket.socket, exc: type[BaseException]) -> None:
    def listener(e: dict[str, Any]) -> None:
        raise exc()

    udp.onReceive.addListener(listener)
    _sid, port = bound_udp(app)
    sender.sendto(b"^C", ("127.0.0.1", port))
    t0 = time.monotonic()
    with pytest.raises(exc):
        app.run(timeout=WAIT)
    assert time.monotonic() - t0 < WAIT / 2
    # The loop is still usable afterwards.
    udp.onReceive.removeListener(listener)
    got = collect(udp.onReceive)
    sender.sendto(b"after", ("127.0.0.1", port))
    run_until(app, lambda: got)
    assert bytes(got[-1]["data"]) == b"after"


@pytest.mark.parametrize("exc", [KeyboardInterrupt, SystemExit])
def test_interrupt_in_a_callback_propagates_out_of_run(app: fastsockets.App, udp: Any, exc: type[BaseException]) -> None:
    def callback(ci: dict[str, Any]) -> None:
        raise exc()

    udp.create({}, callback)
    with pytest.raises(exc):
        app.run(timeout=WAIT)
    assert app.runtime.lastError is None
    assert call(app, udp.getSockets).value[0]["socketId"] == 1


def test_interrupt_in_a_listener_propagates_out_of_run_once(app: fastsockets.App, udp: Any, sender: socket.socket) -> None:
    def listener(e: dict[str, Any]) -> None:
        raise KeyboardInterrupt

    udp.onReceive.addListener(listener)
    _sid, port = bound_udp(app)
    sender.sendto(b"^C", ("127.0.0.1", port))
    with pytest.raises(KeyboardInterrupt):
        run_until(app, lambda: False, timeout=2)


def test_udp_rcvbuf_option_reaches_the_socket() -> None:
    import sys

    with fastsockets.App(udp_rcvbuf=4096) as app:
        sid, _ = bound_udp(app)
        rcvbuf = app.sockets.udp.stats(sid)["rcvbuf"]
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as plain:
            default = plain.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        assert rcvbuf != default
        if sys.platform.startswith("linux"):
            assert rcvbuf == 2 * 4096  # Linux doubles the request for its bookkeeping
    for bad in (0, -1, True, "4096"):
        with pytest.raises(ValueError):
            fastsockets.App(udp_rcvbuf=bad)


def test_no_fd_or_object_leak_across_apps() -> None:
    """Creating, using and closing Apps leaves no file descriptor and no Python object behind."""
    import gc
    import os

    def one_round() -> None:
        with fastsockets.App() as app:
            udp = app.sockets.udp
            got: list[int] = []
            udp.onReceive.addListener(lambda info: got.append(len(info["data"])))
            sid, port = bound_udp(app)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
                for k in range(5):
                    for _ in range(50):
                        tx.sendto(b"x" * 100, ("127.0.0.1", port))
                    run_until(app, lambda: len(got) >= (k + 1) * 50)
            call(app, udp.send, sid, b"y", "127.0.0.1", port)

    def snapshot() -> tuple[int, int]:
        gc.collect()
        return len(os.listdir("/proc/self/fd")), len(gc.get_objects())

    one_round()  # warm-up: first-use imports and caches
    fds0, objs0 = snapshot()
    for _ in range(10):
        one_round()
    fds1, objs1 = snapshot()
    assert fds1 == fds0
    assert objs1 - objs0 < 50, (objs0, objs1)
