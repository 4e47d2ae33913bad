"""The zero-copy receive buffers: what a user keeps stays correct; what he drops is reused.

Spec: issue #2 "Receive-buffer pool" and hot-path.md; RecvView's docstring states the lifetime.
"""

from __future__ import annotations

import gc
import socket

import fastsockets
import pytest
from fsutil import bound_udp, call, run_until


def _payload(i: int, size: int = 64) -> bytes:
    head = b"%08d|" % i
    return (head * (size // len(head) + 1))[:size]


def _flood(sender: socket.socket, port: int, start: int, n: int, size: int = 64) -> None:
    # At most ~100 datagrams at once: the default receive buffer holds ~270 small ones, and the
    # loop is not running while we send.
    assert n <= 100
    for i in range(start, start + n):
        sender.sendto(_payload(i, size), ("127.0.0.1", port))


def test_retained_views_stay_correct_while_the_pool_keeps_receiving(app, udp, sender) -> None:
    sid, port = bound_udp(app)
    kept = []
    udp.onReceive.addListener(lambda info: kept.append(info["data"]))
    total = 0
    for _ in range(20):  # 20 rounds x 100: the pool recycles unretained slots between rounds
        _flood(sender, port, total, 100)
        total += 100
        run_until(app, lambda: len(kept) >= total)
    assert [bytes(v) for v in kept] == [_payload(i) for i in range(total)]
    st = udp.stats(sid)
    assert st["received"] == total
    assert st["slots_in_use"] >= total - 64  # what the user holds is not back in the pool


def test_dropped_views_return_their_slots(app, udp, sender) -> None:
    sid, port = bound_udp(app)
    seen = []
    udp.onReceive.addListener(lambda info: seen.append(len(info["data"])))
    for round_ in range(20):
        _flood(sender, port, round_ * 100, 100)
        run_until(app, lambda: len(seen) >= (round_ + 1) * 100)
    st = udp.stats(sid)
    # Only the batch's own slots (plus a small cache) exist: nothing leaked per datagram.
    assert st["slots_allocated"] <= 3 * 64, st
    assert st["copies"] == 0


def test_memoryview_keeps_slot_alive_after_view_is_dropped(app, udp, sender) -> None:
    sid, port = bound_udp(app)
    mvs = []
    udp.onReceive.addListener(lambda info: mvs.append(memoryview(info["data"])))
    for k in range(3):
        _flood(sender, port, k * 100, 100)
        run_until(app, lambda: len(mvs) >= (k + 1) * 100)
    gc.collect()
    for k in range(3, 6):  # more traffic through the same pool
        _flood(sender, port, k * 100, 100)
        run_until(app, lambda: len(mvs) >= (k + 1) * 100)
    assert [m.tobytes() for m in mvs] == [_payload(i) for i in range(600)]
    assert all(m.readonly for m in mvs)


def test_pool_limit_falls_back_to_copies_without_losing_data(sender) -> None:
    # Room for 4 slots of 4096 bytes: retaining everything forces the copy path.
    with fastsockets.App(udp_pool_bytes=4 * 4096) as app:
        udp = app.sockets.udp
        sid, port = bound_udp(app)
        kept = []
        udp.onReceive.addListener(lambda info: kept.append(info["data"]))
        for k in range(2):
            _flood(sender, port, k * 100, 100)
            run_until(app, lambda: len(kept) >= (k + 1) * 100)
        assert [bytes(v) for v in kept] == [_payload(i) for i in range(200)]
        st = udp.stats(sid)
        assert st["copies"] > 0
        assert st["pool_exhausted"] > 0
        assert st["slots_in_use"] <= 4 + 1
        assert st["received"] == 200


def test_views_survive_close_and_buffer_size_change(app, udp, sender) -> None:
    sid, port = bound_udp(app)
    kept = []
    udp.onReceive.addListener(lambda info: kept.append(info["data"]))
    _flood(sender, port, 0, 10)
    run_until(app, lambda: len(kept) >= 10)
    assert call(app, udp.update, sid, {"bufferSize": 128}).args == ()
    _flood(sender, port, 10, 10, size=100)
    run_until(app, lambda: len(kept) >= 20)
    assert call(app, udp.close, sid).args == ()
    gc.collect()
    assert [bytes(v) for v in kept[:10]] == [_payload(i) for i in range(10)]
    assert [bytes(v) for v in kept[10:]] == [_payload(i, 100) for i in range(10, 20)]


def test_view_is_a_read_only_buffer(app, udp, sender) -> None:
    sid, port = bound_udp(app)
    got = []
    udp.onReceive.addListener(lambda info: got.append(info["data"]))
    sender.sendto(b"hello world", ("127.0.0.1", port))
    run_until(app, lambda: got)
    v = got[0]
    assert isinstance(v, fastsockets.RecvView)
    assert len(v) == 11 and bytes(v) == b"hello world" and v.tobytes() == b"hello world"
    assert v == b"hello world" and v != b"other" and v == bytearray(b"hello world")
    assert v[0] == ord("h") and bytes(v[6:]) == b"world"
    assert "hello world" in repr(v)
    with pytest.raises(TypeError):
        memoryview(v)[0] = 0
    with pytest.raises(TypeError):
        hash(v)
    buf = bytearray()
    buf += v
    assert buf == b"hello world"
