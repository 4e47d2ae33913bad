"""Fixtures shared by the Python tests (helpers live in fsutil.py)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Iterator

import pytest

from fsutil import app, have_ipv6, sender, udp  # noqa: F401  (pytest fixtures)


def _isolated() -> bool:
    """True inside a private network namespace whose only interface is lo (.ci/run)."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        return False
    return names == ["lo"]


@pytest.fixture(autouse=True, scope="session")
def _no_dns_off_the_machine() -> Iterator[None]:
    """Outside a private namespace, no test may send a DNS query: a lookup of a name that
    /etc/hosts lacks (``x.invalid``, or ``localhost`` for a family it has no entry for) would
    go to the host's name server.  So names resolve from a fixed loopback table here; the real
    resolver is exercised under ``.ci/run`` (which runs pytest in a namespace with no route out)
    and in ``netns_scenarios.dns_failure``."""
    if _isolated():
        yield
        return
    real = socket.getaddrinfo
    v6 = have_ipv6()

    def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0,
                    flags: int = 0) -> Any:
        text = host.decode() if isinstance(host, bytes) else host
        if text is None:
            return real(host, port, family, type, proto, flags)
        try:
            ipaddress.ip_address(text.split("%", 1)[0])
            return real(host, port, family, type, proto, flags)  # a literal: no lookup
        except ValueError:
            pass
        if text.lower() != "localhost":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            if family in (0, fam) and (fam == socket.AF_INET or v6):
                out += real(addr, port, fam, type, proto, flags | socket.AI_NUMERICHOST)
        if not out:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return out

    mp = pytest.MonkeyPatch()
    mp.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        yield
    finally:
        mp.undo()
