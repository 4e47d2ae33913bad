"""Test helpers: drive an App's loop until a callback ran (import as ``from fsutil import ...``).

Every wait is bounded (a few seconds) and fails the test instead of hanging.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest

import fastsockets

WAIT = 5.0  # seconds any single wait may take before the test fails


@dataclass
class Result:
    """What a completion callback received: its positional args and lastError at that time."""

    args: tuple[Any, ...]
    last_error: dict[str, str] | None

    @property
    def value(self) -> Any:
        """The single argument (Chrome's callbacks take at most one)."""
        assert len(self.args) == 1, self.args
        return self.args[0]

    @property
    def message(self) -> str | None:
        return None if self.last_error is None else self.last_error["message"]


def run_until(app: fastsockets.App, predicate: Callable[[], object], timeout: float = WAIT) -> None:
    """Run ``app``'s loop until ``predicate()`` is true; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail("condition not reached within %.1f s" % timeout)
        app.run_once(min(left, 0.05))


def call(app: fastsockets.App, fn: Callable[..., None], *args: Any, timeout: float = WAIT) -> Result:
    """Call API function ``fn(*args, callback)`` and run the loop until the callback ran.

    Also checks the Chrome rule that callbacks are never invoked from inside the API call.
    """
    results: list[Result] = []

    def callback(*cb_args: Any) -> None:
        results.append(Result(cb_args, app.runtime.lastError))

    fn(*args, callback)
    assert results == [], "callback ran synchronously inside the API call"
    run_until(app, lambda: results, timeout)
    assert len(results) == 1
    return results[0]


@pytest.fixture
def app() -> Iterator[fastsockets.App]:
    a = fastsockets.App()
    try:
        yield a
    finally:
        a.close()


@pytest.fixture
def udp(app: fastsockets.App) -> Any:
    return app.sockets.udp


def make_udp(app: fastsockets.App, properties: dict[str, Any] | None = None) -> int:
    """Create a sockets.udp socket and return its id."""
    return int(call(app, app.sockets.udp.create, properties or {}).value["socketId"])


def bound_udp(app: fastsockets.App, address: str = "127.0.0.1", properties: dict[str, Any] | None = None) -> tuple[int, int]:
    """Create and bind a sockets.udp socket on an ephemeral port; returns (socketId, port)."""
    sid = make_udp(app, properties)
    r = call(app, app.sockets.udp.bind, sid, address, 0)
    assert r.args == (0,), (r, r.last_error)
    info = call(app, app.sockets.udp.getInfo, sid).value
    return sid, int(info["localPort"])


@pytest.fixture
def sender() -> Iterator[socket.socket]:
    """A plain blocking IPv4 UDP socket for sending test datagrams."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    try:
        yield s
    finally:
        s.close()


def have_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


# -- private network namespaces ----------------------------------------------------------------

# Multicast runs over a veth pair whose both ends are inside the namespace: IPv6 multicast does
# not work on lo at all, and on lo the kernel loops IPv4 multicast back whatever
# IP_MULTICAST_LOOP says, so loopback mode could not be observed.  (DAD is off so the link-local
# source address is usable at once; the 10.254.0.1 address exists only inside the namespace.)
# Should veth be unavailable, 224.0.0.0/4 stays routed to lo and the IPv6 scenario fails loudly.
_NETNS_SETUP = (
    "ip link set lo up && ip link set lo multicast on && ip route add 224.0.0.0/4 dev lo && "
    "( ip link add fsv0 type veth peer name fsv1 && "
    "  sysctl -qw net.ipv6.conf.fsv0.accept_dad=0 net.ipv6.conf.fsv1.accept_dad=0 && "
    "  ip link set fsv0 up && ip link set fsv1 up && "
    "  ip addr add 10.254.0.1/30 dev fsv0 && ip route replace 224.0.0.0/4 dev fsv0 && "
    "  ip -6 route add ff00::/8 dev fsv0 table local ) >/dev/null 2>&1; "
    'exec "$0" "$@"'
)


def _unshare_prefix() -> tuple[list[str] | None, str]:
    """The command prefix that enters a new network namespace here, or (None, why not)."""
    import shutil
    import subprocess

    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return None, "unshare(1) and ip(8) are needed for a private network namespace"
    reasons = []
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        r = subprocess.run(prefix + ["true"], capture_output=True, text=True, timeout=10)
        if r.returncode == 0:
            return prefix, ""
        reasons.append("%s: %s" % (" ".join(prefix), r.stderr.strip()))
    return None, "cannot create a network namespace (" + "; ".join(reasons) + ")"


def run_in_netns(scenario: str, timeout: float = 60.0) -> Any:
    """Run ``netns_scenarios.<scenario>()`` in a fresh process inside a private network namespace
    whose only interfaces are ``lo`` (224.0.0.0/4 routed to it) and a veth pair carrying ff00::/8,
    and return the JSON value it prints last.  Nothing it does can leave the machine.
    Skips (saying why) only when no namespace can be created here."""
    import json
    import os
    import subprocess
    import sys

    prefix, why = _unshare_prefix()
    if prefix is None:
        pytest.skip(why)
    here = os.path.dirname(os.path.abspath(__file__))
    code = "import sys; sys.path.insert(0, %r); import netns_scenarios as m; m.main(%r)" % (here, scenario)
    cmd = prefix + ["sh", "-c", _NETNS_SETUP, sys.executable, "-c", code]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        pytest.fail("scenario %s failed (rc %d):\n%s\n%s" % (scenario, r.returncode, r.stdout, r.stderr))
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert lines, "scenario %s printed nothing; stderr:\n%s" % (scenario, r.stderr)
    return json.loads(lines[-1])


# -- waiting, event recording, plain peer sockets -------------------------------------------------


def run_for(app: fastsockets.App, seconds: float) -> None:
    """Run ``app``'s loop for about ``seconds`` (to check that nothing more happens)."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        app.run_once(min(left, 0.05))


def collect(event: Any) -> list[dict[str, Any]]:
    """Add a listener to ``event`` that appends every payload to a list; returns the list."""
    got: list[dict[str, Any]] = []
    event.addListener(got.append)
    return got


def plain_udp(family: int = socket.AF_INET) -> socket.socket:
    """A plain blocking UDP socket bound to the loopback address of ``family`` on an ephemeral
    port, with a WAIT-second timeout (close it yourself)."""
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(WAIT)
    s.bind(("127.0.0.1" if family == socket.AF_INET else "::1", 0))
    return s
