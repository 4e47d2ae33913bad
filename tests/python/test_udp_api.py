"""Every function of ``sockets.udp`` (spec §3.2, summary §7.2): the success path and each error
path, with the exact callback arguments and ``runtime.lastError`` message.

Also covered here: socket ids (§1.1), callback shapes (§1.2), call-time argument checks (§1.3),
properties and getInfo presence rules (§1.4, §1.5, §3.1), the write quota (§1.6), the UDP state
machine (§6.2) and the PEP 8 aliases.  Callback shapes follow the Python mapping in udp.py: where
Chrome calls back "with no argument" the callback gets ``None``; update, setPaused and close
(whose Chrome callbacks take no parameter) are called with no argument.

Successful multicast joins need a multicast route, and the host's leads outside the machine, so
they run in a private network namespace (fsutil.run_in_netns; more in test_multicast.py).
"""

from __future__ import annotations

import array
import logging
import socket
import threading
import time
from typing import Any

import fastsockets
import pytest
from fsutil import (
    WAIT,
    Result,
    bound_udp,
    call,
    have_ipv6,
    make_udp,
    plain_udp,
    run_for,
    run_in_netns,
    run_until,
)

NOT_FOUND = {"message": "Socket not found"}
QUOTA = {"message": "Exceeded write quota."}
IPV6 = have_ipv6()
needs_ipv6 = pytest.mark.skipif(not IPV6, reason="::1 is not available")

BAD_NAME = "no-such-host.fastsockets-test.invalid"  # RFC 2606: .invalid never resolves


def net(name: str) -> dict[str, str]:
    return {"message": "net::" + name}


def expect(r: Result, args: tuple[Any, ...], last_error: dict[str, str] | None) -> None:
    assert (r.args, r.last_error) == (args, last_error)


def info(app: fastsockets.App, sid: int) -> dict[str, Any]:
    r = call(app, app.sockets.udp.getInfo, sid)
    assert r.last_error is None, r
    return r.value  # type: ignore[no-any-return]


def taken_port() -> socket.socket:
    """A plain UDP socket holding 127.0.0.1:<port> without SO_REUSEADDR."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def non_local_ipv4() -> str:
    """A documentation address (RFC 5737) that is not configured on this machine."""
    for candidate in ("192.0.2.1", "198.51.100.1", "203.0.113.1"):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                s.bind((candidate, 0))
            except OSError:
                return candidate
    pytest.skip("every RFC 5737 test address is local here")


def localhost_family(family: int = socket.AF_UNSPEC) -> int | None:
    """Family of the first address "localhost" resolves to (with ``family``), or None."""
    try:
        return socket.getaddrinfo("localhost", 9, family, socket.SOCK_DGRAM)[0][0]
    except socket.gaierror:
        return None


LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}


# -- socket ids (§1.1) ----------------------------------------------------------------------------


def test_ids_start_at_one_and_grow(app: fastsockets.App) -> None:
    assert [make_udp(app) for _ in range(3)] == [1, 2, 3]


def test_ids_are_never_reused_after_close(app: fastsockets.App, udp: Any) -> None:
    ids = [make_udp(app) for _ in range(3)]
    for sid in (ids[2], ids[1]):
        expect(call(app, udp.close, sid), (), None)
    new = [make_udp(app) for _ in range(2)]
    assert new == [4, 5]
    for sid in ids[1:]:
        expect(call(app, udp.getInfo, sid), (None,), NOT_FOUND)


def test_ids_are_per_app(app: fastsockets.App) -> None:
    make_udp(app)
    other = fastsockets.App()
    try:
        assert make_udp(other) == 1
        # An id of the other App means nothing here.
        expect(call(app, app.sockets.udp.getInfo, 2), (None,), NOT_FOUND)
    finally:
        other.close()


# -- create (§3.2, §1.4) --------------------------------------------------------------------------


def test_create_calls_back_with_socket_id(app: fastsockets.App, udp: Any) -> None:
    expect(call(app, udp.create, {}), ({"socketId": 1},), None)


@pytest.mark.parametrize("properties", [None, {}], ids=["None", "empty"])
def test_create_defaults(app: fastsockets.App, udp: Any, properties: Any) -> None:
    sid = call(app, udp.create, properties).value["socketId"]
    assert info(app, sid) == {"socketId": sid, "persistent": False, "paused": False}


def test_create_properties_argument_can_be_skipped(app: fastsockets.App, udp: Any) -> None:
    r = call(app, udp.create)  # create(callback)
    expect(r, ({"socketId": 1},), None)
    assert info(app, 1) == {"socketId": 1, "persistent": False, "paused": False}


def test_create_with_properties(app: fastsockets.App) -> None:
    sid = make_udp(app, {"persistent": True, "name": "n", "bufferSize": 1000})
    assert info(app, sid) == {
        "socketId": sid, "persistent": True, "name": "n", "bufferSize": 1000, "paused": False,
    }


def test_create_without_callback(app: fastsockets.App, udp: Any) -> None:
    udp.create({"name": "quiet"})
    run_for(app, 0.05)
    r = call(app, udp.getSockets)
    assert [s.get("name") for s in r.value] == ["quiet"]


# -- update (§1.4) ----------------------------------------------------------------------------------


def test_update_changes_only_given_fields(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app, {"persistent": True, "name": "a", "bufferSize": 100})
    expect(call(app, udp.update, sid, {"name": "b"}), (), None)
    assert info(app, sid) == {"socketId": sid, "persistent": True, "name": "b", "bufferSize": 100, "paused": False}
    expect(call(app, udp.update, sid, {"bufferSize": 2048}), (), None)
    assert info(app, sid) == {"socketId": sid, "persistent": True, "name": "b", "bufferSize": 2048, "paused": False}
    expect(call(app, udp.update, sid, {"persistent": False}), (), None)
    assert info(app, sid) == {"socketId": sid, "persistent": False, "name": "b", "bufferSize": 2048, "paused": False}
    expect(call(app, udp.update, sid, {}), (), None)
    assert info(app, sid) == {"socketId": sid, "persistent": False, "name": "b", "bufferSize": 2048, "paused": False}


def test_update_callback_is_optional(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    udp.update(sid, {"name": "x"})
    run_for(app, 0.05)
    assert info(app, sid)["name"] == "x"


def test_update_on_bound_socket(app: fastsockets.App, udp: Any) -> None:
    sid, port = bound_udp(app)
    expect(call(app, udp.update, sid, {"name": "bound", "bufferSize": 512}), (), None)
    assert info(app, sid) == {
        "socketId": sid, "persistent": False, "name": "bound", "bufferSize": 512, "paused": False,
        "localAddress": "127.0.0.1", "localPort": port,
    }


# -- getInfo presence rules (§1.4, §1.5, §3.1) ----------------------------------------------------


@pytest.mark.parametrize(
    "properties, present",
    [
        ({"name": ""}, {}),
        ({"name": "x"}, {"name": "x"}),
        ({"bufferSize": 0}, {}),
        ({"bufferSize": -5}, {}),
        ({"bufferSize": 1}, {"bufferSize": 1}),
        ({"bufferSize": 1 << 20}, {"bufferSize": 1 << 20}),  # no upper bound in Chromium
    ],
)
def test_get_info_name_and_buffer_size_presence(app: fastsockets.App, udp: Any, properties: dict[str, Any], present: dict[str, Any]) -> None:
    sid = make_udp(app, properties)
    assert info(app, sid) == {"socketId": sid, "persistent": False, "paused": False, **present}
    # The same rules apply after update, also when a field is cleared again.
    sid2 = make_udp(app, {"name": "old", "bufferSize": 77})
    expect(call(app, udp.update, sid2, properties), (), None)
    expected = {"socketId": sid2, "persistent": False, "paused": False, "name": "old", "bufferSize": 77}
    for key in properties:
        expected.pop(key)
    expected.update(present)
    assert info(app, sid2) == expected


def test_get_info_bound_ipv4(app: fastsockets.App) -> None:
    sid, port = bound_udp(app)
    got = info(app, sid)
    assert got == {"socketId": sid, "persistent": False, "paused": False, "localAddress": "127.0.0.1", "localPort": port}
    assert "connected" not in got
    assert isinstance(got["localPort"], int) and 0 < port <= 65535


@needs_ipv6
def test_get_info_bound_ipv6(app: fastsockets.App) -> None:
    sid, port = bound_udp(app, "::1")
    assert info(app, sid) == {"socketId": sid, "persistent": False, "paused": False, "localAddress": "::1", "localPort": port}


def test_get_info_unknown(app: fastsockets.App, udp: Any) -> None:
    expect(call(app, udp.getInfo, 1), (None,), NOT_FOUND)


# -- getSockets (§1.5) ------------------------------------------------------------------------------


def test_get_sockets_empty(app: fastsockets.App, udp: Any) -> None:
    expect(call(app, udp.getSockets), ([],), None)


def test_get_sockets_lists_exactly_the_open_sockets(app: fastsockets.App, udp: Any) -> None:
    a = make_udp(app, {"name": "a"})
    b, _ = bound_udp(app)
    c = make_udp(app, {"persistent": True})
    call(app, udp.close, a)
    r = call(app, udp.getSockets)
    assert r.last_error is None
    got = sorted(r.value, key=lambda s: s["socketId"])
    assert got == [info(app, b), info(app, c)]


# -- setPaused (§3.2) ---------------------------------------------------------------------------------


def test_set_paused(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    expect(call(app, udp.setPaused, sid, True), (), None)
    assert info(app, sid)["paused"] is True
    expect(call(app, udp.setPaused, sid, True), (), None)  # same value again: no-op
    assert info(app, sid)["paused"] is True
    expect(call(app, udp.setPaused, sid, False), (), None)
    assert info(app, sid)["paused"] is False


def test_set_paused_callback_is_optional(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    udp.setPaused(sid, True)
    run_for(app, 0.05)
    assert info(app, sid)["paused"] is True


# -- bind (§3.2) ------------------------------------------------------------------------------------


def test_bind_ephemeral_port(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    expect(call(app, udp.bind, sid, "127.0.0.1", 0), (0,), None)
    got = info(app, sid)
    assert got["localAddress"] == "127.0.0.1" and 0 < got["localPort"] <= 65535


def test_bind_given_port(app: fastsockets.App, udp: Any) -> None:
    with taken_port() as s:
        port = s.getsockname()[1]
    sid = make_udp(app)
    expect(call(app, udp.bind, sid, "127.0.0.1", port), (0,), None)
    assert info(app, sid)["localPort"] == port


@needs_ipv6
def test_bind_ipv6(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    expect(call(app, udp.bind, sid, "::1", 0), (0,), None)
    assert info(app, sid)["localAddress"] == "::1"


def test_bind_twice(app: fastsockets.App, udp: Any) -> None:
    sid, port = bound_udp(app)
    expect(call(app, udp.bind, sid, "127.0.0.1", 0), (-104,), net("ERR_CONNECTION_FAILED"))
    assert info(app, sid)["localPort"] == port  # still bound where it was


@pytest.mark.parametrize("address", ["localhost", "", "127.0.0.1:80", "[::1]", "not an address", "256.0.0.1"])
def test_bind_to_non_ip_literal(app: fastsockets.App, udp: Any, address: str) -> None:
    sid = make_udp(app)
    expect(call(app, udp.bind, sid, address, 0), (-4,), net("ERR_INVALID_ARGUMENT"))
    assert "localAddress" not in info(app, sid)
    # Rejected before the OS step: the multicast options are still open (§3.2) ...
    expect(call(app, udp.setMulticastTimeToLive, sid, 3), (0,), None)
    # ... and the socket may still be bound (§6.2: bind fails, stays UNBOUND).
    expect(call(app, udp.bind, sid, "127.0.0.1", 0), (0,), None)


def test_bind_to_non_local_ip(app: fastsockets.App, udp: Any) -> None:
    address = non_local_ipv4()  # bind only: nothing is sent anywhere
    sid = make_udp(app)
    expect(call(app, udp.bind, sid, address, 0), (-108,), net("ERR_ADDRESS_INVALID"))
    assert "localAddress" not in info(app, sid)


def test_bind_address_in_use(app: fastsockets.App, udp: Any) -> None:
    with taken_port() as s:
        port = s.getsockname()[1]
        sid = make_udp(app)
        expect(call(app, udp.bind, sid, "127.0.0.1", port), (-147,), net("ERR_ADDRESS_IN_USE"))
        assert "localAddress" not in info(app, sid)
        # The id stays valid and unbound; a later bind elsewhere works.
        expect(call(app, udp.bind, sid, "127.0.0.1", 0), (0,), None)
        assert info(app, sid)["localPort"] != port


def test_second_socket_on_same_port_is_refused(app: fastsockets.App, udp: Any) -> None:
    # §11.13: no SO_REUSEADDR, so a second bind to the same port fails.
    _, port = bound_udp(app)
    sid = make_udp(app)
    expect(call(app, udp.bind, sid, "127.0.0.1", port), (-147,), net("ERR_ADDRESS_IN_USE"))


def test_bind_callback_is_optional(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    udp.bind(sid, "127.0.0.1", 0)
    run_for(app, 0.05)
    assert "localPort" in info(app, sid)


# -- send (§3.2) ------------------------------------------------------------------------------------


def test_send(app: fastsockets.App, udp: Any) -> None:
    sid, port = bound_udp(app)
    with plain_udp() as peer:
        r = call(app, udp.send, sid, b"hello", "127.0.0.1", peer.getsockname()[1])
        expect(r, ({"resultCode": 0, "bytesSent": 5},), None)
        assert peer.recvfrom(100) == (b"hello", ("127.0.0.1", port))


@needs_ipv6
def test_send_ipv6(app: fastsockets.App, udp: Any) -> None:
    sid, port = bound_udp(app, "::1")
    with plain_udp(socket.AF_INET6) as peer:
        r = call(app, udp.send, sid, b"six", "::1", peer.getsockname()[1])
        expect(r, ({"resultCode": 0, "bytesSent": 3},), None)
        data, addr = peer.recvfrom(100)
        assert (data, addr[:2]) == (b"six", ("::1", port))


@pytest.mark.parametrize(
    "data",
    [bytearray(b"abc"), memoryview(b"xabcx")[1:4], array.array("B", b"abc")],
    ids=["bytearray", "memoryview", "array"],
)
def test_send_accepts_bytes_like(app: fastsockets.App, udp: Any, data: Any) -> None:
    sid, _ = bound_udp(app)
    with plain_udp() as peer:
        expect(call(app, udp.send, sid, data, "127.0.0.1", peer.getsockname()[1]), ({"resultCode": 0, "bytesSent": 3},), None)
        assert peer.recv(100) == b"abc"


def test_send_counts_bytes_of_multibyte_items(app: fastsockets.App, udp: Any) -> None:
    """bytesSent and the write quota count bytes, not items: a read-only view of 32-bit ints."""
    sid, _ = bound_udp(app)
    data = memoryview(array.array("i", [1, 2, 3]).tobytes()).cast("i")
    with plain_udp() as peer:
        expect(call(app, udp.send, sid, data, "127.0.0.1", peer.getsockname()[1]),
               ({"resultCode": 0, "bytesSent": 12},), None)
        assert len(peer.recv(100)) == 12
    assert app.stats()["write_quota_used"] == 0


def test_send_takes_the_data_at_call_time(app: fastsockets.App, udp: Any) -> None:
    # Chrome copies the ArrayBuffer when send is called; a hostname keeps the send pending while
    # the buffer is changed.
    sid, _ = bound_udp(app)
    buf = bytearray(b"before")
    done: list[Result] = []
    with plain_udp() as peer:
        udp.send(sid, buf, "localhost", peer.getsockname()[1], "ipv4", lambda *a: done.append(Result(a, app.runtime.lastError)))
        buf[:] = b"AFTER!"
        run_until(app, lambda: done)
        expect(done[0], ({"resultCode": 0, "bytesSent": 6},), None)
        assert peer.recv(100) == b"before"


def test_send_zero_bytes(app: fastsockets.App, udp: Any) -> None:
    sid, port = bound_udp(app)
    with plain_udp() as peer:
        expect(call(app, udp.send, sid, b"", "127.0.0.1", peer.getsockname()[1]), ({"resultCode": 0, "bytesSent": 0},), None)
        assert peer.recvfrom(100) == (b"", ("127.0.0.1", port))


def test_send_largest_ipv4_datagram(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    payload = bytes(range(256)) * 255 + bytes(65507 - 256 * 255)
    with plain_udp() as peer:
        expect(call(app, udp.send, sid, payload, "127.0.0.1", peer.getsockname()[1]), ({"resultCode": 0, "bytesSent": 65507},), None)
        assert peer.recv(70000) == payload


@pytest.mark.parametrize("size", [65508, 70000])
def test_send_oversize(app: fastsockets.App, udp: Any, size: int) -> None:
    sid, _ = bound_udp(app)
    with plain_udp() as peer:
        r = call(app, udp.send, sid, bytes(size), "127.0.0.1", peer.getsockname()[1])
        expect(r, ({"resultCode": -142},), net("ERR_MSG_TOO_BIG"))
        # The socket keeps working.
        expect(call(app, udp.send, sid, b"ok", "127.0.0.1", peer.getsockname()[1]), ({"resultCode": 0, "bytesSent": 2},), None)
        assert peer.recv(100) == b"ok"


def test_send_before_bind(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    with plain_udp() as peer:
        r = call(app, udp.send, sid, b"x", "127.0.0.1", peer.getsockname()[1])
        expect(r, ({"resultCode": -15},), net("ERR_SOCKET_NOT_CONNECTED"))
        # A resolvable hostname gets as far as the bound check too.
        r = call(app, udp.send, sid, b"x", "localhost", peer.getsockname()[1])
        expect(r, ({"resultCode": -15},), net("ERR_SOCKET_NOT_CONNECTED"))


def test_send_after_failed_bind(app: fastsockets.App, udp: Any) -> None:
    with taken_port() as s:
        sid = make_udp(app)
        call(app, udp.bind, sid, "127.0.0.1", s.getsockname()[1])
        r = call(app, udp.send, sid, b"x", "127.0.0.1", s.getsockname()[1])
        expect(r, ({"resultCode": -15},), net("ERR_SOCKET_NOT_CONNECTED"))


def test_send_dns_query_type_can_be_skipped(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    with plain_udp() as peer:
        r = call(app, udp.send, sid, b"five", "127.0.0.1", peer.getsockname()[1])  # send(id, data, addr, port, cb)
        expect(r, ({"resultCode": 0, "bytesSent": 4},), None)
        assert peer.recv(100) == b"five"


def test_send_callback_is_optional(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    with plain_udp() as peer:
        udp.send(sid, b"quiet", "127.0.0.1", peer.getsockname()[1])
        run_for(app, 0.05)
        assert peer.recv(100) == b"quiet"


@pytest.mark.parametrize("dns", ["any", "ipv4", "ipv6", None])
def test_send_to_hostname(app: fastsockets.App, udp: Any, dns: str | None) -> None:
    """"localhost" is resolved with the requested query type; only the first address is used."""
    want = {"any": socket.AF_UNSPEC, None: socket.AF_UNSPEC, "ipv4": socket.AF_INET, "ipv6": socket.AF_INET6}[dns]
    family = localhost_family(want)
    if family is None:
        # No address of that type: the query type is honoured, not widened.
        sid, _ = bound_udp(app)
        r = call(app, udp.send, sid, b"x", "localhost", 9, dns)
        expect(r, ({"resultCode": -105},), net("ERR_NAME_NOT_RESOLVED"))
        return
    if family == socket.AF_INET6 and not IPV6:
        pytest.skip("localhost resolves to IPv6 but ::1 is not available")
    sid, port = bound_udp(app, LOOPBACK[family])
    with plain_udp(family) as peer:
        args = (sid, b"by name", "localhost", peer.getsockname()[1]) + ((dns,) if dns is not None else ())
        expect(call(app, udp.send, *args), ({"resultCode": 0, "bytesSent": 7},), None)
        data, addr = peer.recvfrom(100)
        assert (data, addr[1]) == (b"by name", port)


def test_send_resolves_off_the_loop_thread(app: fastsockets.App, udp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """While a name is being resolved, the loop keeps serving other calls."""
    real = socket.getaddrinfo
    gate = threading.Event()
    resolver_threads: list[int] = []

    def slow_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "localhost":
            resolver_threads.append(threading.get_ident())
            gate.wait(WAIT)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", slow_getaddrinfo)
    a, _ = bound_udp(app)
    b, _ = bound_udp(app)
    done: list[Result] = []
    with plain_udp() as peer:
        t0 = time.monotonic()
        udp.send(a, b"named", "localhost", peer.getsockname()[1], "ipv4", lambda *x: done.append(Result(x, app.runtime.lastError)))
        # The loop is not blocked by the lookup: other sockets send and answer meanwhile.
        expect(call(app, udp.send, b, b"literal", "127.0.0.1", peer.getsockname()[1]), ({"resultCode": 0, "bytesSent": 7},), None)
        expect(call(app, udp.getInfo, 999), (None,), NOT_FOUND)
        assert time.monotonic() - t0 < WAIT / 2
        assert done == []
        gate.set()
        run_until(app, lambda: done)
        expect(done[0], ({"resultCode": 0, "bytesSent": 5},), None)
        assert resolver_threads and threading.get_ident() not in resolver_threads
        assert sorted([peer.recv(100), peer.recv(100)]) == [b"literal", b"named"]


def test_sends_complete_in_call_order(app: fastsockets.App, udp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostname and literal sends on one socket complete, and go out, in call order, even when
    later lookups finish first."""
    real = socket.getaddrinfo
    delays = iter([0.15, 0.1, 0.05, 0.0, 0.0, 0.0])

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "localhost":
            time.sleep(next(delays, 0.0))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    sid, _ = bound_udp(app)
    order: list[int] = []
    with plain_udp() as peer:
        port = peer.getsockname()[1]
        for i in range(10):
            address = "localhost" if i % 2 == 0 else "127.0.0.1"
            udp.send(sid, b"%d" % i, address, port, "ipv4", lambda r, i=i: order.append(i) if r == {"resultCode": 0, "bytesSent": 1} else order.append(-1))
        run_until(app, lambda: len(order) == 10)
        assert order == list(range(10))
        assert [peer.recv(100) for _ in range(10)] == [b"%d" % i for i in range(10)]


def test_send_dns_failure(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    r = call(app, udp.send, sid, b"x", BAD_NAME, 9, timeout=15)
    expect(r, ({"resultCode": -105},), net("ERR_NAME_NOT_RESOLVED"))


def test_send_dns_failure_comes_before_the_bound_check(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    r = call(app, udp.send, sid, b"x", BAD_NAME, 9, "ipv4", timeout=15)
    expect(r, ({"resultCode": -105},), net("ERR_NAME_NOT_RESOLVED"))


# -- write quota (§1.6) -----------------------------------------------------------------------------


@pytest.fixture
def small_quota_app() -> Any:
    a = fastsockets.App(write_quota=100)
    try:
        yield a
    finally:
        a.close()


def test_write_quota_default() -> None:
    assert fastsockets.DEFAULT_WRITE_QUOTA == 200 * 1024 * 1024
    a = fastsockets.App()
    try:
        assert a.write_quota == fastsockets.DEFAULT_WRITE_QUOTA
    finally:
        a.close()


def test_write_quota_exceeded(small_quota_app: fastsockets.App) -> None:
    app = small_quota_app
    udp = app.sockets.udp
    sid, _ = bound_udp(app)
    with plain_udp() as peer:
        port = peer.getsockname()[1]
        expect(call(app, udp.send, sid, bytes(101), "127.0.0.1", port), (None,), QUOTA)
        # Exactly the quota is fine ("above the limit" fails).
        expect(call(app, udp.send, sid, bytes(100), "127.0.0.1", port), ({"resultCode": 0, "bytesSent": 100},), None)
        assert peer.recv(200) == bytes(100)


@pytest.mark.parametrize("socket_id", ["unknown", "closed", "unbound"])
def test_write_quota_is_checked_before_the_socket(small_quota_app: fastsockets.App, socket_id: str) -> None:
    app = small_quota_app
    udp = app.sockets.udp
    sid = 999
    if socket_id != "unknown":
        sid = make_udp(app)
        if socket_id == "closed":
            call(app, udp.close, sid)
    expect(call(app, udp.send, sid, bytes(101), "127.0.0.1", 9), (None,), QUOTA)
    expect(call(app, udp.send, sid, bytes(101), BAD_NAME, 9), (None,), QUOTA)


def test_write_quota_returns_after_completion(small_quota_app: fastsockets.App) -> None:
    app = small_quota_app
    udp = app.sockets.udp
    sid, _ = bound_udp(app)
    first: list[Result] = []
    second: list[Result] = []
    with plain_udp() as peer:
        port = peer.getsockname()[1]
        # A hostname send stays pending (its bytes count) until the lookup finished.
        udp.send(sid, bytes(60), "localhost", port, "ipv4", lambda *a: first.append(Result(a, app.runtime.lastError)))
        udp.send(sid, bytes(60), "127.0.0.1", port, lambda *a: second.append(Result(a, app.runtime.lastError)))
        run_until(app, lambda: first and second)
        expect(second[0], (None,), QUOTA)
        expect(first[0], ({"resultCode": 0, "bytesSent": 60},), None)
        # Completed: the bytes are back.
        expect(call(app, udp.send, sid, bytes(100), "127.0.0.1", port), ({"resultCode": 0, "bytesSent": 100},), None)
        assert app.stats()["write_quota_used"] == 0


def test_write_quota_returns_after_failed_send(small_quota_app: fastsockets.App) -> None:
    app = small_quota_app
    udp = app.sockets.udp
    sid = make_udp(app)
    for _ in range(3):
        expect(call(app, udp.send, sid, bytes(100), "127.0.0.1", 9), ({"resultCode": -15},), net("ERR_SOCKET_NOT_CONNECTED"))
    expect(call(app, udp.send, 999, bytes(100), "127.0.0.1", 9), (None,), NOT_FOUND)
    expect(call(app, udp.send, 999, bytes(100), "127.0.0.1", 9), (None,), NOT_FOUND)
    assert app.stats()["write_quota_used"] == 0


# -- close (§3.2) ------------------------------------------------------------------------------------


def test_close(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    expect(call(app, udp.close, sid), (), None)
    expect(call(app, udp.getInfo, sid), (None,), NOT_FOUND)
    expect(call(app, udp.close, sid), (), NOT_FOUND)
    expect(call(app, udp.getSockets), ([],), None)


def test_close_unbound(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    expect(call(app, udp.close, sid), (), None)
    expect(call(app, udp.getInfo, sid), (None,), NOT_FOUND)


def test_close_callback_is_optional(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    udp.close(sid)
    run_for(app, 0.05)
    expect(call(app, udp.getInfo, sid), (None,), NOT_FOUND)


def test_close_makes_the_id_invalid_at_once(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    results: list[Result] = []
    udp.close(sid, lambda *a: results.append(Result(a, app.runtime.lastError)))
    udp.getInfo(sid, lambda *a: results.append(Result(a, app.runtime.lastError)))
    run_until(app, lambda: len(results) == 2)
    expect(results[0], (), None)
    expect(results[1], (None,), NOT_FOUND)


# -- multicast (§3.2) ---------------------------------------------------------------------------------


def test_join_group_before_bind(app: fastsockets.App, udp: Any) -> None:
    sid = make_udp(app)
    expect(call(app, udp.joinGroup, sid, "239.1.2.3"), (-9,), net("ERR_UNEXPECTED"))
    expect(call(app, udp.getJoinedGroups, sid), ([],), None)


@pytest.mark.parametrize("address", ["localhost", "", "239.1.2.3.4", "group", "[ff02::1]"])
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
def test_join_group_non_ip(app: fastsockets.App, udp: Any, address: str, bound: bool) -> None:
    # The IP-literal check comes before the bound check (§3.2 order).
    sid = bound_udp(app)[0] if bound else make_udp(app)
    expect(call(app, udp.joinGroup, sid, address), (-108,), net("ERR_ADDRESS_INVALID"))


@pytest.mark.parametrize("address", ["239.1.2.3", "ff02::1", "group", ""])
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
def test_leave_group_not_joined(app: fastsockets.App, udp: Any, address: str, bound: bool) -> None:
    sid = bound_udp(app)[0] if bound else make_udp(app)
    expect(call(app, udp.leaveGroup, sid, address), (-108,), net("ERR_ADDRESS_INVALID"))


@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
def test_get_joined_groups_empty(app: fastsockets.App, udp: Any, bound: bool) -> None:
    sid = bound_udp(app)[0] if bound else make_udp(app)
    expect(call(app, udp.getJoinedGroups, sid), ([],), None)


def test_join_and_leave_group_spellings() -> None:
    """Canonical form, join order, and any spelling of a joined group (runs in a private network
    namespace: a successful join needs a multicast route, and the host's would lead outside)."""
    ok = [[0], None]
    invalid = [[-108], {"message": "net::ERR_ADDRESS_INVALID"}]
    steps = run_in_netns("group_spelling")["steps"]
    assert steps == [
        ok,                                  # bind ::
        ok,                                  # join FF15:0:0::1234
        ok,                                  # join ff15::99
        [[["ff15::1234", "ff15::99"]], None],
        invalid,                             # joined already, in another spelling
        ok,                                  # leave ff15:0::1234
        [[["ff15::99"]], None],
        invalid,                             # not joined any more
        ok,                                  # join again: goes to the end
        [[["ff15::99", "ff15::1234"]], None],
        [[], None],                          # close
    ]


@pytest.mark.parametrize("ttl", [0, 1, 12, 255])
def test_set_multicast_ttl_before_bind(app: fastsockets.App, udp: Any, ttl: int) -> None:
    sid = make_udp(app)
    expect(call(app, udp.setMulticastTimeToLive, sid, ttl), (0,), None)
    expect(call(app, udp.setMulticastTimeToLive, sid, ttl), (0,), None)  # may be set again
    expect(call(app, udp.bind, sid, "127.0.0.1", 0), (0,), None)


@pytest.mark.parametrize("ttl", [-3, -1, 256, 1000])
def test_set_multicast_ttl_out_of_range(app: fastsockets.App, udp: Any, ttl: int) -> None:
    sid = make_udp(app)
    expect(call(app, udp.setMulticastTimeToLive, sid, ttl), (-4,), net("ERR_INVALID_ARGUMENT"))


@pytest.mark.parametrize("ttl", [12, -3, 256])
def test_set_multicast_ttl_after_bind(app: fastsockets.App, udp: Any, ttl: int) -> None:
    # "options already handed over" is checked before the range (§3.2).
    sid, _ = bound_udp(app)
    expect(call(app, udp.setMulticastTimeToLive, sid, ttl), (-23,), net("ERR_SOCKET_IS_CONNECTED"))


@pytest.mark.parametrize("ttl", [12, -3])
def test_set_multicast_ttl_after_failed_bind(app: fastsockets.App, udp: Any, ttl: int) -> None:
    with taken_port() as s:
        sid = make_udp(app)
        expect(call(app, udp.bind, sid, "127.0.0.1", s.getsockname()[1]), (-147,), net("ERR_ADDRESS_IN_USE"))
    expect(call(app, udp.setMulticastTimeToLive, sid, ttl), (-23,), net("ERR_SOCKET_IS_CONNECTED"))
    expect(call(app, udp.setMulticastLoopbackMode, sid, False), (-23,), net("ERR_SOCKET_IS_CONNECTED"))


@pytest.mark.parametrize("enabled", [True, False])
def test_set_multicast_loopback_mode(app: fastsockets.App, udp: Any, enabled: bool) -> None:
    sid = make_udp(app)
    expect(call(app, udp.setMulticastLoopbackMode, sid, enabled), (0,), None)
    expect(call(app, udp.bind, sid, "127.0.0.1", 0), (0,), None)
    expect(call(app, udp.setMulticastLoopbackMode, sid, enabled), (-23,), net("ERR_SOCKET_IS_CONNECTED"))


def test_multicast_options_with_ipv4_and_ipv6_bind(app: fastsockets.App, udp: Any) -> None:
    for address in ["127.0.0.1"] + (["::1"] if IPV6 else []):
        sid = make_udp(app)
        expect(call(app, udp.setMulticastTimeToLive, sid, 0), (0,), None)
        expect(call(app, udp.setMulticastLoopbackMode, sid, False), (0,), None)
        expect(call(app, udp.bind, sid, address, 0), (0,), None)


# -- setBroadcast (§3.2) ------------------------------------------------------------------------------


@pytest.mark.parametrize("enabled", [True, False])
def test_set_broadcast_unbound(app: fastsockets.App, udp: Any, enabled: bool) -> None:
    sid = make_udp(app)
    expect(call(app, udp.setBroadcast, sid, enabled), (-15,), net("ERR_SOCKET_NOT_CONNECTED"))


def test_set_broadcast_bound(app: fastsockets.App, udp: Any) -> None:
    sid, _ = bound_udp(app)
    expect(call(app, udp.setBroadcast, sid, True), (0,), None)
    expect(call(app, udp.setBroadcast, sid, False), (0,), None)


# -- unknown and closed ids: every function (§7.2) ------------------------------------------------------

# function, arguments after socketId, callback arguments for "Socket not found"
SOCKET_FUNCTIONS: list[tuple[str, tuple[Any, ...], tuple[Any, ...]]] = [
    ("update", ({"name": "x"},), ()),
    ("setPaused", (True,), ()),
    ("bind", ("127.0.0.1", 0), (None,)),
    ("send", (b"x", "127.0.0.1", 9), (None,)),
    ("close", (), ()),
    ("getInfo", (), (None,)),
    ("joinGroup", ("239.1.2.3",), (None,)),
    ("leaveGroup", ("239.1.2.3",), (None,)),
    ("setMulticastTimeToLive", (1,), (None,)),
    ("setMulticastLoopbackMode", (True,), (None,)),
    ("getJoinedGroups", (), (None,)),
    ("setBroadcast", (True,), (None,)),
]
FUNCTION_IDS = [f[0] for f in SOCKET_FUNCTIONS]


@pytest.mark.parametrize("name, rest, shape", SOCKET_FUNCTIONS, ids=FUNCTION_IDS)
@pytest.mark.parametrize("which", ["never-issued", "zero", "negative", "closed", "closed-bound"])
def test_socket_not_found(app: fastsockets.App, udp: Any, name: str, rest: tuple[Any, ...], shape: tuple[Any, ...], which: str) -> None:
    other = make_udp(app, {"name": "bystander"})
    sid = {"never-issued": 1000, "zero": 0, "negative": -1}.get(which)
    if sid is None:
        sid = bound_udp(app)[0] if which == "closed-bound" else make_udp(app)
        call(app, udp.close, sid)
    expect(call(app, getattr(udp, name), sid, *rest), shape, NOT_FOUND)
    # Nothing else was affected.
    assert info(app, other) == {"socketId": other, "persistent": False, "name": "bystander", "paused": False}


# -- call-time argument checks (§1.3) -----------------------------------------------------------------


@pytest.mark.parametrize("name, rest, shape", SOCKET_FUNCTIONS, ids=FUNCTION_IDS)
@pytest.mark.parametrize("bad_id", ["1", True, False, 1.0, None, b"1"], ids=repr)
def test_socket_id_must_be_an_int(app: fastsockets.App, udp: Any, name: str, rest: tuple[Any, ...], shape: tuple[Any, ...], bad_id: Any) -> None:
    make_udp(app)
    called: list[Any] = []
    with pytest.raises(TypeError, match="socketId"):
        getattr(udp, name)(bad_id, *rest, lambda *a: called.append(a))
    run_for(app, 0.02)
    assert called == []


ALL_CALLS: list[tuple[str, tuple[Any, ...]]] = [("create", ({},)), ("getSockets", ())] + [
    # send's 5th positional argument is dnsQueryType: pass it, so the callback is the 6th.
    (name, (1,) + rest + ((None,) if name == "send" else ())) for name, rest, _ in SOCKET_FUNCTIONS
]


@pytest.mark.parametrize("name, args", ALL_CALLS, ids=[c[0] for c in ALL_CALLS])
@pytest.mark.parametrize("bad_callback", ["cb", 1, object()], ids=["str", "int", "object"])
def test_callback_must_be_callable(app: fastsockets.App, udp: Any, name: str, args: tuple[Any, ...], bad_callback: Any) -> None:
    make_udp(app)
    with pytest.raises(TypeError, match="callback"):
        getattr(udp, name)(*args, bad_callback)


BAD_ARGUMENTS: list[tuple[str, tuple[Any, ...], type[Exception], str]] = [
    # properties
    ("create", ([("name", "x")],), TypeError, "properties"),
    ("create", ("name",), TypeError, "properties"),
    ("create", ({"persistent": 1},), TypeError, "persistent"),
    ("create", ({"persistent": "yes"},), TypeError, "persistent"),
    ("create", ({"name": 5},), TypeError, "name"),
    ("create", ({"name": b"x"},), TypeError, "name"),
    ("create", ({"bufferSize": "4096"},), TypeError, "bufferSize"),
    ("create", ({"bufferSize": 4096.0},), TypeError, "bufferSize"),
    ("create", ({"bufferSize": True},), TypeError, "bufferSize"),
    ("create", ({"unknownKey": 1},), ValueError, "unknownKey"),
    ("create", ({"connected": True},), ValueError, "connected"),  # tcp only
    ("create", ({"socketId": 1},), ValueError, "socketId"),
    ("update", (1, None), TypeError, "properties"),
    ("update", (1, {"peerAddress": "x"}), ValueError, "peerAddress"),
    ("update", (1, {"bufferSize": None}), TypeError, "bufferSize"),
    ("update", (1, {"name": None}), TypeError, "name"),
    # booleans
    ("setPaused", (1, 1), TypeError, "paused"),
    ("setPaused", (1, 0), TypeError, "paused"),
    ("setPaused", (1, None), TypeError, "paused"),
    ("setPaused", (1, "true"), TypeError, "paused"),
    ("setMulticastLoopbackMode", (1, 1), TypeError, "enabled"),
    ("setMulticastLoopbackMode", (1, None), TypeError, "enabled"),
    ("setBroadcast", (1, 1), TypeError, "enabled"),
    ("setBroadcast", (1, "yes"), TypeError, "enabled"),
    # ports
    ("bind", (1, "127.0.0.1", 65536), ValueError, "port"),
    ("bind", (1, "127.0.0.1", -1), ValueError, "port"),
    ("bind", (1, "127.0.0.1", 1 << 40), ValueError, "port"),
    ("bind", (1, "127.0.0.1", "80"), TypeError, "port"),
    ("bind", (1, "127.0.0.1", 80.0), TypeError, "port"),
    ("bind", (1, "127.0.0.1", True), TypeError, "port"),
    ("bind", (1, "127.0.0.1", None), TypeError, "port"),
    ("send", (1, b"x", "127.0.0.1", 65536), ValueError, "port"),
    ("send", (1, b"x", "127.0.0.1", -1), ValueError, "port"),
    ("send", (1, b"x", "127.0.0.1", "9"), TypeError, "port"),
    ("send", (1, b"x", "127.0.0.1", None), TypeError, "port"),
    # addresses
    ("bind", (1, 2130706433, 0), TypeError, "address"),
    ("bind", (1, b"127.0.0.1", 0), TypeError, "address"),
    ("bind", (1, None, 0), TypeError, "address"),
    ("send", (1, b"x", None, 9), TypeError, "address"),
    ("send", (1, b"x", ("127.0.0.1", 9), 9), TypeError, "address"),
    ("joinGroup", (1, None), TypeError, "address"),
    ("joinGroup", (1, b"239.1.2.3"), TypeError, "address"),
    ("leaveGroup", (1, 3909091843), TypeError, "address"),
    # data
    ("send", (1, "text", "127.0.0.1", 9), TypeError, "data"),
    ("send", (1, 5, "127.0.0.1", 9), TypeError, "data"),
    ("send", (1, None, "127.0.0.1", 9), TypeError, "data"),
    ("send", (1, [1, 2], "127.0.0.1", 9), TypeError, "data"),
    # dnsQueryType
    ("send", (1, b"x", "localhost", 9, "ipv5"), ValueError, "dnsQueryType"),
    ("send", (1, b"x", "localhost", 9, "IPV4"), ValueError, "dnsQueryType"),
    ("send", (1, b"x", "localhost", 9, ""), ValueError, "dnsQueryType"),
    ("send", (1, b"x", "localhost", 9, 4), TypeError, "dnsQueryType"),
    # ttl
    ("setMulticastTimeToLive", (1, "1"), TypeError, "ttl"),
    ("setMulticastTimeToLive", (1, 1.0), TypeError, "ttl"),
    ("setMulticastTimeToLive", (1, True), TypeError, "ttl"),
    ("setMulticastTimeToLive", (1, None), TypeError, "ttl"),
]


@pytest.mark.parametrize("name, args, exc, mentions", BAD_ARGUMENTS, ids=["%s-%r" % (b[0], b[1][-1]) for b in BAD_ARGUMENTS])
def test_bad_argument_raises_at_call_time(app: fastsockets.App, udp: Any, name: str, args: tuple[Any, ...], exc: type[Exception], mentions: str) -> None:
    make_udp(app, {"name": "keep"})
    called: list[Any] = []
    with pytest.raises(exc, match=mentions):
        getattr(udp, name)(*args, lambda *a: called.append(a))
    run_for(app, 0.02)
    assert called == []
    # The call had no effect.
    assert info(app, 1) == {"socketId": 1, "persistent": False, "name": "keep", "paused": False}
    expect(call(app, udp.getSockets), ([info(app, 1)],), None)


# -- names ------------------------------------------------------------------------------------------------

ALIASES = [
    ("set_paused", "setPaused"),
    ("get_info", "getInfo"),
    ("get_sockets", "getSockets"),
    ("join_group", "joinGroup"),
    ("leave_group", "leaveGroup"),
    ("set_multicast_time_to_live", "setMulticastTimeToLive"),
    ("set_multicast_loopback_mode", "setMulticastLoopbackMode"),
    ("get_joined_groups", "getJoinedGroups"),
    ("set_broadcast", "setBroadcast"),
]


@pytest.mark.parametrize("alias, name", ALIASES)
def test_pep8_alias_is_the_same_function(udp: Any, alias: str, name: str) -> None:
    # Each attribute access makes a new bound method, so identity is checked on the function.
    assert getattr(type(udp), alias) is getattr(type(udp), name)
    assert getattr(udp, alias).__func__ is getattr(udp, name).__func__
    assert getattr(udp, alias) == getattr(udp, name)


def test_pep8_event_aliases(app: fastsockets.App, udp: Any) -> None:
    assert udp.on_receive is udp.onReceive
    assert udp.on_receive_error is udp.onReceiveError
    assert isinstance(udp.onReceive, fastsockets.Event)
    assert udp.onReceive is not udp.onReceiveError
    for alias, name in [("add_listener", "addListener"), ("remove_listener", "removeListener"),
                        ("has_listener", "hasListener"), ("has_listeners", "hasListeners")]:
        assert getattr(fastsockets.Event, alias) is getattr(fastsockets.Event, name)
        assert getattr(udp.onReceive, alias).__func__ is getattr(udp.onReceive, name).__func__
    assert type(app.runtime).last_error is type(app.runtime).lastError


def test_event_names(udp: Any) -> None:
    assert udp.onReceive.name == "sockets.udp.onReceive"
    assert udp.onReceiveError.name == "sockets.udp.onReceiveError"


def test_every_chrome_function_exists(udp: Any) -> None:
    for name in ["create", "update", "setPaused", "bind", "send", "close", "getInfo", "getSockets", "joinGroup",
                 "leaveGroup", "setMulticastTimeToLive", "setMulticastLoopbackMode", "getJoinedGroups", "setBroadcast"]:
        assert callable(getattr(udp, name)), name


# -- callbacks run asynchronously; their exceptions are logged (§1.2, §1.8) -----------------------------


def test_callbacks_of_calls_made_in_callbacks_are_asynchronous(app: fastsockets.App, udp: Any) -> None:
    log: list[str] = []

    def created(ci: dict[str, Any]) -> None:
        log.append("created")
        udp.getInfo(ci["socketId"], lambda i: log.append("info"))
        udp.close(ci["socketId"], lambda: log.append("closed"))
        udp.getInfo(ci["socketId"], lambda i: log.append("gone" if i is None else "still there"))
        log.append("created returns")

    udp.create({}, created)
    assert log == []
    run_until(app, lambda: len(log) == 5)
    assert log == ["created", "created returns", "info", "closed", "gone"]


def test_exception_in_callback_is_logged_and_loop_continues(app: fastsockets.App, udp: Any, caplog: pytest.LogCaptureFixture) -> None:
    class Boom(Exception):
        pass

    ran: list[str] = []

    def bad(*args: Any) -> None:
        ran.append("bad")
        raise Boom("from callback")

    with caplog.at_level(logging.ERROR, logger="fastsockets"):
        udp.create({}, bad)
        udp.getInfo(42, bad)  # a failing call: lastError must be cleared despite the exception
        run_until(app, lambda: len(ran) == 2)
    booms = [r for r in caplog.records if r.name.startswith("fastsockets") and r.exc_info and r.exc_info[0] is Boom]
    assert len(booms) == 2
    assert app.runtime.lastError is None
    # The loop is fine: later calls complete normally.
    expect(call(app, udp.getInfo, 1), ({"socketId": 1, "persistent": False, "paused": False},), None)
