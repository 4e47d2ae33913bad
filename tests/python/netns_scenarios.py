"""Scenarios that must run inside a private network namespace (see fsutil.run_in_netns).

Multicast: joining a group on the host's default interface would send IGMP reports out of it,
and a multicast datagram with TTL >= 1 could leave the machine.  These scenarios run in a
namespace whose interfaces are ``lo`` and a veth pair with both ends inside it (multicast is
routed over the veth), and they send with TTL 0 anyway.
DNS failure: resolving a name that does not exist would query the host's name server; in the
namespace there is none to reach, so the lookup fails locally.

Each scenario prints one JSON line with what it observed; the pytest side asserts.
"""

from __future__ import annotations

import json
import socket
import sys
import time
from typing import Any, Callable

import fastsockets


def _call(app: fastsockets.App, fn: Callable[..., None], *args: Any) -> list[Any]:
    out: list[Any] = []
    fn(*args, lambda *a: out.append([list(a), app.runtime.lastError]))
    deadline = time.monotonic() + 5
    while not out and time.monotonic() < deadline:
        app.run_once(0.05)
    if not out:
        raise RuntimeError("callback of %s never ran" % fn.__name__)
    return out[0]


def _wait(app: fastsockets.App, pred: Callable[[], bool], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while not pred() and time.monotonic() < deadline:
        app.run_once(0.05)
    return pred()


def multicast(family: str) -> dict[str, Any]:
    v6 = family == "ipv6"
    group = "ff12::4242" if v6 else "239.255.42.99"
    any_addr = "::" if v6 else "0.0.0.0"
    res: dict[str, Any] = {}
    app = fastsockets.App()
    udp = app.sockets.udp
    got: list[tuple[str, bytes]] = []
    udp.onReceive.addListener(lambda i: got.append((i["socketId"], bytes(i["data"]))))

    rx = _call(app, udp.create, {})[0][0]["socketId"]
    tx = _call(app, udp.create, {})[0][0]["socketId"]
    quiet = _call(app, udp.create, {})[0][0]["socketId"]
    res["join_before_bind"] = _call(app, udp.joinGroup, rx, group)
    res["ttl_tx"] = _call(app, udp.setMulticastTimeToLive, tx, 0)
    res["loop_tx"] = _call(app, udp.setMulticastLoopbackMode, tx, True)
    res["ttl_quiet"] = _call(app, udp.setMulticastTimeToLive, quiet, 0)
    res["loop_quiet"] = _call(app, udp.setMulticastLoopbackMode, quiet, False)
    res["bind_rx"] = _call(app, udp.bind, rx, any_addr, 0)
    port = _call(app, udp.getInfo, rx)[0][0]["localPort"]
    res["bind_tx"] = _call(app, udp.bind, tx, any_addr, 0)
    res["bind_quiet"] = _call(app, udp.bind, quiet, any_addr, 0)
    res["ttl_after_bind"] = _call(app, udp.setMulticastTimeToLive, tx, 1)
    res["join"] = _call(app, udp.joinGroup, rx, group)
    res["join_again"] = _call(app, udp.joinGroup, rx, group)
    res["join_not_ip"] = _call(app, udp.joinGroup, rx, "not-an-ip")
    res["groups"] = _call(app, udp.getJoinedGroups, rx)
    res["send"] = _call(app, udp.send, tx, b"to-the-group", group, port)
    res["received"] = _wait(app, lambda: any(d == b"to-the-group" for _, d in got))
    # Loopback off on the sender: local members do not get its datagrams (Unix semantics).
    res["send_quiet"] = _call(app, udp.send, quiet, b"quiet", group, port)
    _wait(app, lambda: False, 0.3)
    res["received_quiet"] = any(d == b"quiet" for _, d in got)
    # The options reached the OS socket (white box: on lo the kernel loops IPv4 multicast back
    # whatever IP_MULTICAST_LOOP says, so only IPv6, over veth, can show it from outside).
    qs = udp._sockets.get(quiet).sock
    if v6:
        res["quiet_opts"] = [qs.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS),
                             qs.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP)]
    else:
        res["quiet_opts"] = [qs.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL),
                             qs.getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP)]
    res["v6"] = v6
    res["leave"] = _call(app, udp.leaveGroup, rx, group)
    res["leave_again"] = _call(app, udp.leaveGroup, rx, group)
    res["groups_after_leave"] = _call(app, udp.getJoinedGroups, rx)
    n = len(got)
    _call(app, udp.send, tx, b"after-leave", group, port)
    _wait(app, lambda: False, 0.3)
    res["received_after_leave"] = len(got) > n
    # Rejoin then close: close leaves all groups and a new socket can join again.
    res["rejoin"] = _call(app, udp.joinGroup, rx, group)
    res["close"] = _call(app, udp.close, rx)
    app.close()
    return res


def multicast_permission() -> dict[str, Any]:
    """joinGroup / leaveGroup / getJoinedGroups under a manifest granting multicastMembership
    with the only pattern that grants it, "" (and a bind/send grant for the port)."""
    manifest = {"sockets": {"udp": {"bind": "*", "send": "*", "multicastMembership": ""}}}
    app = fastsockets.App(manifest=manifest)
    udp = app.sockets.udp
    sid = _call(app, udp.create, {})[0][0]["socketId"]
    _call(app, udp.setMulticastTimeToLive, sid, 0)
    res = {"bind": _call(app, udp.bind, sid, "0.0.0.0", 0)}
    res["join"] = _call(app, udp.joinGroup, sid, "239.255.42.98")
    res["groups"] = _call(app, udp.getJoinedGroups, sid)
    res["leave"] = _call(app, udp.leaveGroup, sid, "239.255.42.98")
    res["denied"] = app.stats()["permission_denied"]
    app.close()
    return res


def group_spelling() -> dict[str, Any]:
    """Groups are stored in canonical form, in join order; any spelling finds them again."""
    app = fastsockets.App()
    udp = app.sockets.udp
    sid = _call(app, udp.create, {})[0][0]["socketId"]
    _call(app, udp.setMulticastTimeToLive, sid, 0)
    steps = [
        _call(app, udp.bind, sid, "::", 0),
        _call(app, udp.joinGroup, sid, "FF15:0:0::1234"),
        _call(app, udp.joinGroup, sid, "ff15::99"),
        _call(app, udp.getJoinedGroups, sid),
        _call(app, udp.joinGroup, sid, "ff15::1234"),
        _call(app, udp.leaveGroup, sid, "ff15:0::1234"),
        _call(app, udp.getJoinedGroups, sid),
        _call(app, udp.leaveGroup, sid, "ff15::1234"),
        _call(app, udp.joinGroup, sid, "ff15::1234"),
        _call(app, udp.getJoinedGroups, sid),
        _call(app, udp.close, sid),
    ]
    app.close()
    return {"steps": steps}


def dns_failure() -> dict[str, Any]:
    app = fastsockets.App()
    udp = app.sockets.udp
    sid = _call(app, udp.create, {})[0][0]["socketId"]
    _call(app, udp.bind, sid, "127.0.0.1", 0)
    res = {"send": _call(app, udp.send, sid, b"x", "no-such-host.invalid", 9)}
    app.close()
    return res


def main(name: str) -> None:
    if name == "multicast_v4":
        out = multicast("ipv4")
    elif name == "multicast_v6":
        out = multicast("ipv6")
    elif name == "group_spelling":
        out = group_spelling()
    elif name == "multicast_permission":
        out = multicast_permission()
    elif name == "dns_failure":
        out = dns_failure()
    else:
        raise SystemExit("unknown scenario %s" % name)
    sys.stdout.write(json.dumps(out) + "\n")
