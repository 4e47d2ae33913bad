"""In-process UDP receive benchmarks (pytest-benchmark).

    pytest benches/test_bench_udp.py --benchmark-columns=min,median,mean,rounds

Each benchmark receives TOTAL datagrams of 64 bytes on 127.0.0.1 through one event loop: a plain
blocking socket in the same thread sends a burst of BURST datagrams (small enough for the
default SO_RCVBUF, so nothing is dropped), the loop under test runs until its handler has seen
the whole burst, and so on. Sender, socket pair and handler (`n += 1`, one comparison) are the
same for every loop, so the differences are the loops' receive paths. Every wait is bounded.
This complements `fastsockets bench` (separate processes, flood, CPU time per datagram); the
numbers here are wall time on one core and include the sending.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("pytest_benchmark")

BURST = 64
TOTAL = 64 * 64  # datagrams per benchmark round
PAYLOAD = b"x" * 64
WAIT = 5.0  # seconds: the most one burst may take before the round fails


def _sender() -> socket.socket:
    return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def _asyncio_round_fn(loop: asyncio.AbstractEventLoop,
                      create: Callable[..., Any]) -> tuple[Callable[[], int], Callable[[], None]]:
    state = {"n": 0, "want": 0, "fut": None}

    class Proto(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            state["n"] += 1
            if state["n"] >= state["want"]:
                fut = state["fut"]
                if fut is not None and not fut.done():
                    fut.set_result(None)

    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    recv.bind(("127.0.0.1", 0))
    dst = recv.getsockname()
    transport, _ = loop.run_until_complete(create(Proto, recv))
    tx = _sender()

    async def one_round() -> int:
        for _ in range(TOTAL // BURST):
            state["want"] = state["n"] + BURST
            state["fut"] = loop.create_future()
            for _ in range(BURST):
                tx.sendto(PAYLOAD, dst)
            await asyncio.wait_for(state["fut"], WAIT)
        return TOTAL

    def run() -> int:
        return loop.run_until_complete(one_round())

    def close() -> None:
        transport.close()
        tx.close()
        loop.run_until_complete(asyncio.sleep(0))
        loop.close()

    return run, close


def _check(benchmark: Any, run: Callable[[], int]) -> None:
    assert benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=2) == TOTAL


def test_asyncio(benchmark: Any) -> None:
    loop = asyncio.new_event_loop()
    run, close = _asyncio_round_fn(
        loop, lambda p, s: loop.create_datagram_endpoint(p, sock=s))
    try:
        _check(benchmark, run)
    finally:
        close()


def test_uvloop(benchmark: Any) -> None:
    uvloop = pytest.importorskip("uvloop")
    loop = uvloop.new_event_loop()
    run, close = _asyncio_round_fn(
        loop, lambda p, s: loop.create_datagram_endpoint(p, sock=s))
    try:
        _check(benchmark, run)
    finally:
        close()


def test_aiofastnet_on_uvloop(benchmark: Any) -> None:
    uvloop = pytest.importorskip("uvloop")
    aiofastnet = pytest.importorskip("aiofastnet")
    loop = uvloop.new_event_loop()
    run, close = _asyncio_round_fn(
        loop, lambda p, s: aiofastnet.create_datagram_endpoint(loop, p, sock=s))
    try:
        _check(benchmark, run)
    finally:
        close()


def test_fastsockets(benchmark: Any) -> None:
    fastsockets = pytest.importorskip("fastsockets")
    if not hasattr(fastsockets, "App"):
        pytest.skip("fastsockets.App is not available in this build")
    app = fastsockets.App()
    udp = app.sockets.udp
    state: dict[str, Any] = {"n": 0, "want": 0}

    def on_receive(info: Any) -> None:
        state["n"] += 1
        if state["n"] >= state["want"]:
            app.stop()

    def bound(result: int) -> None:
        state["bind"] = result
        if result < 0:
            app.stop()
            return
        udp.getInfo(state["id"], got_info)

    def got_info(info: Any) -> None:
        state["port"] = info["localPort"]
        app.stop()

    def created(ci: Any) -> None:
        state["id"] = ci["socketId"]
        udp.bind(ci["socketId"], "127.0.0.1", 0, bound)

    udp.onReceive.addListener(on_receive)
    udp.create({"bufferSize": 2048}, created)
    app.run(timeout=WAIT)
    assert state.get("bind") == 0 and "port" in state, f"bind failed: {state}"
    dst = ("127.0.0.1", state["port"])
    tx = _sender()

    def run() -> int:
        for _ in range(TOTAL // BURST):
            state["want"] = state["n"] + BURST
            for _ in range(BURST):
                tx.sendto(PAYLOAD, dst)
            app.run(timeout=WAIT)
            assert state["n"] >= state["want"], "burst not received within WAIT seconds"
        return TOTAL

    try:
        _check(benchmark, run)
    finally:
        tx.close()
        udp.close(state["id"], lambda *a: app.stop())
        app.run(timeout=1.0)
