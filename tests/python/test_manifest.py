"""Tests for fastsockets.manifest: the "sockets" manifest key (spec §9).

Pure Python; imports no compiled code.  The tables marked "Chromium" paraphrase, as data, the
cases of extensions/common/permissions/socket_permission_unittest.cc and
extensions/common/api/sockets/sockets_manifest_permission_unittest.cc.
"""

from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastsockets.manifest import (
    DENIED_TCP,
    DENIED_UDP,
    LEGACY_OPS,
    OPS,
    ManifestError,
    SocketsPermission,
    _is_ip_address,
    denied_message,
    load_permission,
)

P = SocketsPermission
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# op -> (section, field) of the "sockets" key
FIELD = {
    "tcp.connect": ("tcp", "connect"),
    "tcpServer.listen": ("tcpServer", "listen"),
    "udp.bind": ("udp", "bind"),
    "udp.send": ("udp", "send"),
    "udp.multicastMembership": ("udp", "multicastMembership"),
}
ADDRESS_OPS = ("tcp.connect", "tcpServer.listen", "udp.bind", "udp.send")
LEGACY_TYPE = {
    "tcp.connect": "tcp-connect",
    "tcpServer.listen": "tcp-listen",
    "udp.bind": "udp-bind",
    "udp.send": "udp-send-to",
    "udp.multicastMembership": "udp-multicast-membership",
    "resolve-host": "resolve-host",
    "resolve-proxy": "resolve-proxy",
    "network-state": "network-state",
}


def sockets_value(op: str, patterns: str | list[str]) -> dict[str, Any]:
    section, field = FIELD[op]
    return {section: {field: patterns}}


def perm(op: str, patterns: str | list[str]) -> SocketsPermission:
    return P(sockets_value(op, patterns))


def from_entries(entries: tuple[tuple[str, str], ...]) -> SocketsPermission:
    """Rebuild a "sockets" value from canonical entries and parse it again."""
    value: dict[str, dict[str, list[str]]] = {}
    for op, pattern in entries:
        section, field = FIELD[op]
        value.setdefault(section, {}).setdefault(field, []).append(pattern)
    return P(value)


def legacy_strings(p: SocketsPermission) -> set[str]:
    """Chromium's SocketPermissionData::GetAsString for each entry."""
    return {LEGACY_TYPE[op] + (":" + pat if pat else "") for op, pat in p.entries}


_ASCII_SWAP = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
)


def ascii_swapcase(s: str) -> str:
    return s.translate(_ASCII_SWAP)


# ----------------------------------------------------------------------------------------------
# Pattern grammar (§9.2): pattern -> canonical form

CANONICAL = [
    ("", "*:*"),
    ("*", "*:*"),
    (":", "*:*"),
    ("*:", "*:*"),
    (":*", "*:*"),
    ("*:*", "*:*"),
    (".", "*:*"),
    ("*.", "*:*"),
    (".:80", "*:80"),
    ("*.:80", "*:80"),
    (":99", "*:99"),
    ("*:23", "*:23"),
    ("a:80", "a:80"),
    ("www.example.com", "www.example.com:*"),
    ("www.example.com:23", "www.example.com:23"),
    ("WWW.Example.COM:23", "www.example.com:23"),
    ("*.ExAmPlE.cOm", "*.example.com:*"),
    (".example.com", "*.example.com:*"),
    ("*.example.com:99", "*.example.com:99"),
    ("..example.com", "*..example.com:*"),
    ("www.*.com", "www.*.com:*"),
    ("*x.com", "*x.com:*"),
    ("www. example.com", "www.example.com:*"),
    ("www .example .com:1", "www.example.com:1"),
    ("* .example.com", "*.example.com:*"),
    ("*. example.com", "*.example.com:*"),
    ("a.\t.b", "a..b:*"),
    ("example.com.", "example.com.:*"),
    ("127.0.0.1:80", "127.0.0.1:80"),
    ("*.168.0.1:8800", "*.168.0.1:8800"),
    ("a:1", "a:1"),
    ("a:65535", "a:65535"),
    ("a:+80", "a:80"),
    ("a:080", "a:80"),
    ("a:0000000000000000080", "a:80"),
    ("a/b", "a/b:*"),
    ("a\x00b", "a\x00b:*"),
    ("\u00c4BC.com", "\u00c4bc.com:*"),  # only ASCII letters are lower-cased
    ("\u212a.com", "\u212a.com:*"),  # KELVIN SIGN is not 'k'
    ("\u00a0a", "\u00a0a:*"),  # NBSP is not ASCII whitespace
]


@pytest.mark.parametrize(("pattern", "canonical"), CANONICAL)
@pytest.mark.parametrize("op", ADDRESS_OPS)
def test_pattern_canonical_form(op: str, pattern: str, canonical: str) -> None:
    assert perm(op, pattern).entries == ((op, canonical),)
    assert perm(op, [pattern]).entries == ((op, canonical),)


INVALID = [
    "::",
    ":::",
    "a:*:*",
    "a:80:",
    "::1",
    "[::1]",
    "[::1]:80",
    "fe80::1%eth0",
    "a:0",
    "a:00",
    "a:-1",
    "a:-0",
    "a:65536",
    "a:99999999999999999999999",
    "a:2147483648",
    "a: 80",
    "a:80 ",
    "a:8 0",
    "a:\t",
    "a: ",
    "a:abc",
    "a:0x50",
    "a:+",
    "a:-",
    "a:++80",
    "a:1e3",
    "a:80.0",
    "a:\u0668\u0660",  # ARABIC-INDIC digits are not ASCII digits
    "a:\uff18\uff10",  # FULLWIDTH digits
    " a:80",
    "a :80",
    "\ta",
    "\na",
    "a\n",
    "a\r",
    "\va",
    "\fa",
    " ",
    " :80",
    "www.example.com ",
    # Chromium socket_permission_unittest.cc (host part of the legacy rules)
    "  www.exmaple.com:  99  ",
    "*.exmaple.com :99",
    "*.exmaple.com: 99",
    "*.exmaple.com:99 ",
    "\t*.exmaple.com:99",
    "\n*.exmaple.com:99",
]


@pytest.mark.parametrize("pattern", INVALID)
@pytest.mark.parametrize("op", ADDRESS_OPS)
def test_invalid_pattern(op: str, pattern: str) -> None:
    with pytest.raises(ManifestError) as info:
        perm(op, pattern)
    assert str(info.value) == f"Invalid host:port pattern '{pattern}'"


@pytest.mark.parametrize(
    ("value", "entries"),
    [
        ("", (("udp.multicastMembership", ""),)),
        ([""], (("udp.multicastMembership", ""),)),
        (["", ""], (("udp.multicastMembership", ""),)),
        ([], ()),
    ],
)
def test_multicast_membership_valid(value: str | list[str], entries: tuple[Any, ...]) -> None:
    p = perm("udp.multicastMembership", value)
    assert p.entries == entries
    assert p.allows("udp.multicastMembership", "*", 0) is bool(entries)
    assert p.allows("udp.multicastMembership", "224.0.0.1", 1234) is bool(entries)


@pytest.mark.parametrize("pattern", ["*", ":", "*:*", ":80", " ", "a", "224.0.0.1", "::"])
def test_multicast_membership_takes_no_address(pattern: str) -> None:
    with pytest.raises(ManifestError, match=r"^Invalid host:port pattern '"):
        perm("udp.multicastMembership", pattern)


def test_multicast_star_message_is_chromes() -> None:
    with pytest.raises(ManifestError) as info:
        P({"udp": {"multicastMembership": "*"}})
    assert str(info.value) == "Invalid host:port pattern '*'"


def test_duplicates_collapse() -> None:
    p = perm("tcp.connect", ["a:80", "A:80", "a:080", "a:+80", "", "*", ":*"])
    assert p.entries == (("tcp.connect", "*:*"), ("tcp.connect", "a:80"))


def test_string_and_list_are_equivalent() -> None:
    assert perm("udp.send", "a:1") == perm("udp.send", ["a:1"])
    assert perm("udp.send", ("a:1",)) == perm("udp.send", ["a:1"])  # type: ignore[arg-type]


def test_empty_list_grants_nothing() -> None:
    p = P({"udp": {"bind": [], "send": []}, "tcp": {"connect": []}, "tcpServer": {"listen": []}})
    assert p.entries == ()
    assert not p.unrestricted
    for op in OPS:
        assert not p.allows(op, "127.0.0.1", 80)


def test_empty_value_denies_everything() -> None:
    p = P({})
    assert p.entries == () and not p.unrestricted
    assert not any(p.allows(op, "a", 1) for op in OPS + LEGACY_OPS)


def test_entries_order_is_op_order_then_pattern() -> None:
    p = P(
        {
            "udp": {"multicastMembership": "", "send": ["b:2", "a:1"], "bind": ":1"},
            "tcpServer": {"listen": ":8080"},
            "tcp": {"connect": ["z", "*:23"]},
        }
    )
    assert p.entries == (
        ("tcp.connect", "*:23"),
        ("tcp.connect", "z:*"),
        ("tcpServer.listen", "*:8080"),
        ("udp.bind", "*:1"),
        ("udp.send", "a:1"),
        ("udp.send", "b:2"),
        ("udp.multicastMembership", ""),
    )


# ----------------------------------------------------------------------------------------------
# Errors: types, unknown keys and the order in which the first error is found


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "Error at key 'sockets': expected a dictionary, got null"),
        ([], "Error at key 'sockets': expected a dictionary, got list"),
        ("", "Error at key 'sockets': expected a dictionary, got string"),
        ({"udp": None}, "Error at key 'sockets.udp': expected a dictionary, got null"),
        ({"tcp": []}, "Error at key 'sockets.tcp': expected a dictionary, got list"),
        ({"tcpServer": 1}, "Error at key 'sockets.tcpServer': expected a dictionary, got integer"),
        (
            {"udp": {"bind": 80}},
            "Error at key 'sockets.udp.bind': expected a string or a list of strings, got integer",
        ),
        (
            {"udp": {"send": None}},
            "Error at key 'sockets.udp.send': expected a string or a list of strings, got null",
        ),
        (
            {"tcp": {"connect": {"a": 1}}},
            "Error at key 'sockets.tcp.connect': expected a string or a list of strings, "
            "got dictionary",
        ),
        (
            {"tcpServer": {"listen": ["a", 8080]}},
            "Error at key 'sockets.tcpServer.listen[1]': expected a string, got integer",
        ),
        (
            {"udp": {"multicastMembership": [True]}},
            "Error at key 'sockets.udp.multicastMembership[0]': expected a string, got boolean",
        ),
        (
            {"udp": {"send": [1.5]}},
            "Error at key 'sockets.udp.send[0]': expected a string, got double",
        ),
        (
            {"udp": {"send": [["a"]]}},
            "Error at key 'sockets.udp.send[0]': expected a string, got list",
        ),
        (
            {"udp": {"send": {"a"}}},
            "Error at key 'sockets.udp.send': expected a string or a list of strings, got set",
        ),
    ],
)
def test_type_errors_name_the_key(value: object, message: str) -> None:
    with pytest.raises(ManifestError) as info:
        P(value)
    assert str(info.value) == message


def test_first_invalid_pattern_in_chrome_order() -> None:
    # dict order deliberately differs from Chrome's parse order
    value = {
        "tcpServer": {"listen": "l:0"},
        "tcp": {"connect": "c:0"},
        "udp": {"multicastMembership": "*", "send": ["ok", "s1:0", "s2:0"], "bind": "ok"},
    }
    with pytest.raises(ManifestError, match=r"^Invalid host:port pattern 's1:0'$"):
        P(value)
    value["udp"] = {"multicastMembership": "*"}
    with pytest.raises(ManifestError, match=r"^Invalid host:port pattern '\*'$"):
        P(value)
    del value["udp"]
    with pytest.raises(ManifestError, match=r"^Invalid host:port pattern 'c:0'$"):
        P(value)
    del value["tcp"]
    with pytest.raises(ManifestError, match=r"^Invalid host:port pattern 'l:0'$"):
        P(value)
    value = {"udp": {"send": "s:0", "bind": "b:0"}}
    with pytest.raises(ManifestError, match=r"^Invalid host:port pattern 'b:0'$"):
        P(value)


def test_type_errors_come_before_pattern_errors() -> None:
    with pytest.raises(ManifestError, match=r"sockets\.tcpServer\.listen"):
        P({"udp": {"bind": "a:0"}, "tcpServer": {"listen": 5}})


def test_unknown_keys_are_ignored_like_chrome() -> None:
    p = P({"foo": 1, "udp": {"sendTo": 5, "send": ":53"}, "tcp": {"conect": "x"}, "tcpserver": 0})
    assert p.entries == (("udp.send", "*:53"),)
    assert p == P({"udp": {"send": ":53"}})


# ----------------------------------------------------------------------------------------------
# Matching (§9.3): (pattern, request host, request port, allowed)

MATCH = [
    # any host / any port
    ("", "www.example.com", 80, True),
    ("", "::1", 0, True),
    ("", "", 0, True),
    ("*", "anything", 65535, True),
    (".", "x", 1, True),
    ("*.", "x", 1, True),
    (":8800", "127.0.0.1", 8800, True),
    (":8800", "127.0.0.1", 8888, False),
    ("*:80", "[::1]", 80, True),
    ("*:80", "::", 80, True),
    ("*:80", "::", 81, False),
    # exact hosts: string comparison, no DNS, no IP normalisation, no trailing-dot folding
    ("www.example.com:23", "www.example.com", 23, True),
    ("www.example.com:23", "WWW.EXAMPLE.COM", 23, True),
    ("www.example.com:23", "www.example.com", 24, False),
    ("www.example.com:23", "example.com", 23, False),
    ("www.example.com:23", "a.www.example.com", 23, False),
    ("www.example.com", "www.example.com.", 1, False),
    ("example.com.", "example.com.", 1, True),
    ("127.0.0.1:80", "127.0.0.1", 80, True),
    ("127.0.0.1:80", "localhost", 80, False),
    ("localhost:80", "127.0.0.1", 80, False),
    ("127.0.0.1:80", "127.1", 80, False),
    ("127.0.0.1:80", "0x7f.0.0.1", 80, False),
    ("www.*.com", "www.*.com", 1, True),
    ("www.*.com", "www.a.com", 1, False),
    ("www. example.com", "www.example.com", 1, True),
    ("www. example.com", "www. example.com", 1, False),
    ("x.com", "X.CoM", 7, True),
    ("\u00e9.com", "\u00e9.com", 1, True),
    ("\u00e9.com", "\u00c9.com", 1, False),  # non-ASCII case is significant
    ("k.com", "\u212a.com", 1, False),  # KELVIN SIGN lower()s to 'k' in Python, not in Chrome
    ("\u212a.com", "\u212a.COM", 1, True),
    # domain wildcards: bare domain, subdomains, boundaries
    ("*.example.com:8800", "www.example.com", 8800, True),
    ("*.example.com:8800", "smtp.example.com", 8800, True),
    ("*.example.com:8800", "SMTP.example.com", 8800, True),
    ("*.example.com:8800", "a.b.c.example.com", 8800, True),
    ("*.example.com:8800", "example.com", 8800, True),
    ("*.example.com:8800", "EXAMPLE.com", 8800, True),
    ("*.example.com:8800", "www.google.com", 8800, False),
    ("*.example.com:8800", "wwwexample.com", 8800, False),
    ("*.example.com:8800", ".example.com", 8800, False),
    ("*.example.com:8800", "example.com.evil.org", 8800, False),
    ("*.example.com:8800", "www.example.com.", 8800, False),
    ("*.example.com:8800", "www.example.com", 8801, False),
    ("*.ExAmPlE.cOm:8800", "SMTP.example.com", 8800, True),
    (".example.com", "a.example.com", 5, True),
    ("..example.com", "a..example.com", 5, True),
    ("..example.com", ".example.com", 5, True),  # equals the stored host ".example.com"
    ("..example.com", "a.example.com", 5, False),
    ("*.com", "127.0.0.1.com", 1, True),  # last label not numeric: a host name
    # "do not wildcard part of an IP address" (URL canonicaliser rules)
    ("*.168.0.1:8800", "192.168.0.1", 8800, False),
    ("*.0.1", "10.0.0.1", 1, False),
    ("*.1", "127.1", 1, False),
    ("*.1", "0x7f.1", 1, False),
    ("*.1", "0X7F.1", 1, False),
    ("*.0.0.1", "0177.0.0.1", 1, False),
    ("*.1.", "127.0.0.1.", 1, False),  # one trailing dot is still an IPv4 address
    ("*.4]", "[::ffff:1.2.3.4]", 1, False),  # bracketed IPv6
    ("*.5", "1.2.3.4.5", 1, True),  # five components: broken, so not an address
    ("*.1", "08.1", 1, True),  # "08" is broken octal, so not an address
    ("*.1", "256.1", 1, True),  # 256 is not a byte: broken, so not an address
    ("*.3]", "[::1.2.3]", 1, True),  # not a valid IPv6 literal
    ("*.1", "1.2.3.4..1", 1, True),  # empty component before the last: broken
    # ports: 0 only through any-port patterns
    ("a:80", "a", 0, False),
    ("a", "a", 0, True),
    ("a:*", "a", 0, True),
    ("a:", "a", 0, True),
    ("a:65535", "a", 65535, True),
    ("a:1", "a", 1, True),
    ("a:1", "a", 2, False),
]


@pytest.mark.parametrize(("pattern", "host", "port", "allowed"), MATCH)
@pytest.mark.parametrize("op", ADDRESS_OPS)
def test_matching(op: str, pattern: str, host: str, port: int, allowed: bool) -> None:
    p = perm(op, pattern)
    assert p.allows(op, host, port) is allowed
    # entries of other ops never apply
    for other in OPS + LEGACY_OPS:
        if other != op:
            assert p.allows(other, host, port) is False


def test_any_entry_matches() -> None:
    p = perm("tcp.connect", ["a:1", "*.b.com:2", ":3"])
    assert p.allows("tcp.connect", "a", 1)
    assert p.allows("tcp.connect", "x.b.com", 2)
    assert p.allows("tcp.connect", "b.com", 2)
    assert p.allows("tcp.connect", "zzz", 3)
    assert not p.allows("tcp.connect", "a", 2)
    assert not p.allows("tcp.connect", "x.b.com", 1)


def test_same_host_several_ports() -> None:
    p = perm("udp.send", ["h:1", "h:2", "*.d:3", "*.d:4", "h:5"])
    assert [port for port in range(7) if p.allows("udp.send", "h", port)] == [1, 2, 5]
    assert [port for port in range(7) if p.allows("udp.send", "x.d", port)] == [3, 4]
    assert perm("udp.send", ["h:1", "h"]).allows("udp.send", "h", 9)


# ----------------------------------------------------------------------------------------------
# IP address detection (url::CanonicalizeIPAddress)

IP = [
    ("127.0.0.1", True),
    ("0.0.0.0", True),
    ("255.255.255.255", True),
    ("127.1", True),
    ("127.0.1", True),
    ("1", True),
    ("4294967295", True),
    ("0x7f.1", True),
    ("0X7F.0X1", True),
    ("0x7f000001", True),
    ("0xffffffff", True),
    ("0x", True),
    ("0x.0x.0x.0x", True),
    ("017700000001", True),
    ("0177.0.0.1", True),
    ("00000000000000000000000000001.2", True),  # leading zeros are not digits
    ("1.0xffffff", True),
    ("1.2.65535", True),
    ("1.2.3.4.", True),
    ("[::1]", True),
    ("[::]", True),
    ("[1::]", True),
    ("[1:2:3:4:5:6:7:8]", True),
    ("[1:2:3:4:5:6::8]", True),
    ("[::ffff:1.2.3.4]", True),
    ("[::1.2.3.4]", True),
    ("[abcd:ef01::]", True),
    ("[ABCD::]", True),
    # not addresses
    ("", False),
    (".", False),
    ("localhost", False),
    ("example.com", False),
    ("127.0.0.1.com", False),
    ("4294967296", False),
    ("0x100000000", False),
    ("256.1.1.1", False),
    ("1.2.3.256", False),
    ("256.1", False),
    ("1.2.65536", False),
    ("1.0x1000000", False),
    ("1.2.3.4.5", False),
    ("08.1", False),
    ("1.08", False),
    ("09", False),
    ("1..2", False),
    ("1.2.3.4..", False),
    ("0x1g", False),
    ("1.2.3.4\u0660", False),
    ("\u0661.2.3.4", False),
    ("12345678901234567890", False),
    ("0x" + "f" * 40, False),
    ("0" + "7" * 40, False),
    ("::1", False),
    ("[::1", False),
    ("::1]", False),
    ("[]", False),
    ("[", False),
    ("[:::]", False),
    ("[:1]", False),
    ("[1:]", False),
    ("[1::2::3]", False),
    ("[12345::]", False),
    ("[1:2:3:4:5:6:7:8:9]", False),
    ("[1:2:3:4:5:6:7::8]", False),  # "::" stands for at least 16 bits: 18 bytes in all
    ("[::1.2.3]", False),
    ("[::1.2.3.4.]", False),
    ("[::1.2.3.256]", False),
    ("[::0x1.2.3.4]", True),  # embedded IPv4 uses the same number syntax
    ("[::x]", False),
    ("[::g]", False),
    ("[fe80::1%25eth0]", False),
]


@pytest.mark.parametrize(("host", "is_ip"), IP)
def test_ip_detection(host: str, is_ip: bool) -> None:
    assert _is_ip_address(host) is is_ip


@SETTINGS
@given(st.integers(0, 2**32 - 1))
def test_every_ipv4_form_is_an_address(n: int) -> None:
    dotted = str(ipaddress.IPv4Address(n))
    assert _is_ip_address(dotted)
    assert _is_ip_address(str(n))
    assert _is_ip_address(hex(n))
    assert _is_ip_address("0" + oct(n)[2:])
    a, b = n >> 24, n & 0xFFFFFF
    assert _is_ip_address(f"{a}.{b}")
    assert _is_ip_address(f"{hex(a)}.{b}.")


@SETTINGS
@given(st.integers(0, 2**128 - 1))
def test_every_ipv6_form_is_an_address(n: int) -> None:
    addr = ipaddress.IPv6Address(n)
    assert _is_ip_address(f"[{addr.compressed}]")
    assert _is_ip_address(f"[{addr.exploded}]")
    assert not _is_ip_address(addr.compressed)  # only the bracketed form counts
    mapped = ipaddress.IPv6Address(n & 0xFFFFFFFF | 0xFFFF00000000)
    assert mapped.ipv4_mapped is not None
    assert _is_ip_address(f"[::ffff:{mapped.ipv4_mapped}]")


# ----------------------------------------------------------------------------------------------
# Documentation examples (§9.4)


def test_doc_examples() -> None:
    p = P({"tcp": {"connect": "*:23"}})
    assert p.allows("tcp.connect", "any.host", 23) and not p.allows("tcp.connect", "h", 80)

    p = P({"tcp": {"connect": ["*:23", "*:80"]}})
    assert p.allows("tcp.connect", "h", 23) and p.allows("tcp.connect", "h", 80)
    assert not p.allows("tcp.connect", "h", 443)

    p = P({"tcp": {"connect": "www.example.com:23"}})
    assert p.allows("tcp.connect", "www.example.com", 23)
    assert not p.allows("tcp.connect", "example.com", 23)
    assert not p.allows("tcp.connect", "www.example.com", 24)

    p = P({"tcp": {"connect": ""}})
    assert p.allows("tcp.connect", "h", 1) and p.allows("tcp.connect", "[::1]", 65535)
    assert not p.allows("udp.send", "h", 1)

    p = P({"udp": {"send": ":99"}})
    assert p.allows("udp.send", "h", 99) and not p.allows("udp.send", "h", 98)
    assert not p.allows("udp.bind", "0.0.0.0", 99)

    p = P({"udp": {"bind": ":8899"}})
    assert p.allows("udp.bind", "0.0.0.0", 8899) and p.allows("udp.bind", "::", 8899)
    assert not p.allows("udp.bind", "0.0.0.0", 0)

    p = P({"tcpServer": {"listen": ":8080"}})
    assert p.allows("tcpServer.listen", "127.0.0.1", 8080)
    assert not p.allows("tcpServer.listen", "127.0.0.1", 8081)

    p = P(
        {
            "udp": {"send": "*"},
            "tcp": {"connect": "127.0.0.1:80"},
            "tcpServer": {"listen": "127.0.0.1:80"},
        }
    )
    assert p.allows("udp.send", "8.8.8.8", 53)
    assert p.allows("tcp.connect", "127.0.0.1", 80)
    assert not p.allows("tcp.connect", "localhost", 80)
    assert p.allows("tcpServer.listen", "127.0.0.1", 80)
    assert not p.allows("tcpServer.listen", "0.0.0.0", 80)
    assert not p.allows("udp.bind", "0.0.0.0", 0)
    assert not p.allows("udp.multicastMembership", "*", 0)


# ----------------------------------------------------------------------------------------------
# Chromium sockets_manifest_permission_unittest.cc, JSONFormats / FromToValue (as data)

CHROMIUM_JSON_FORMATS: list[tuple[str, set[tuple[str, str]]]] = [
    ('{"udp":{"send":""}}', {("udp.send", "*:*")}),
    ('{"udp":{"send":[]}}', set()),
    ('{"udp":{"send":[""]}}', {("udp.send", "*:*")}),
    ('{"udp":{"send":["a:80", "b:10"]}}', {("udp.send", "a:80"), ("udp.send", "b:10")}),
    ('{"udp":{"bind":""}}', {("udp.bind", "*:*")}),
    ('{"udp":{"bind":[]}}', set()),
    ('{"udp":{"bind":[""]}}', {("udp.bind", "*:*")}),
    ('{"udp":{"bind":["a:80", "b:10"]}}', {("udp.bind", "a:80"), ("udp.bind", "b:10")}),
    ('{"udp":{"multicastMembership":""}}', {("udp.multicastMembership", "")}),
    ('{"udp":{"multicastMembership":[]}}', set()),
    ('{"udp":{"multicastMembership":[""]}}', {("udp.multicastMembership", "")}),
    ('{"udp":{"multicastMembership":["", ""]}}', {("udp.multicastMembership", "")}),
    ('{"tcp":{"connect":""}}', {("tcp.connect", "*:*")}),
    ('{"tcp":{"connect":[]}}', set()),
    ('{"tcp":{"connect":[""]}}', {("tcp.connect", "*:*")}),
    ('{"tcp":{"connect":["a:80", "b:10"]}}', {("tcp.connect", "a:80"), ("tcp.connect", "b:10")}),
    ('{"tcpServer":{"listen":""}}', {("tcpServer.listen", "*:*")}),
    ('{"tcpServer":{"listen":[]}}', set()),
    ('{"tcpServer":{"listen":[""]}}', {("tcpServer.listen", "*:*")}),
    (
        '{"tcpServer":{"listen":["a:80", "b:10"]}}',
        {("tcpServer.listen", "a:80"), ("tcpServer.listen", "b:10")},
    ),
    (
        '{"udp":{"send":["a:80", "b:10"], "bind":["a:80", "b:10"], "multicastMembership":""},'
        ' "tcp":{"connect":["a:80", "b:10"]}, "tcpServer":{"listen":["a:80", "b:10"]}}',
        {
            ("udp.send", "a:80"),
            ("udp.send", "b:10"),
            ("udp.bind", "a:80"),
            ("udp.bind", "b:10"),
            ("udp.multicastMembership", ""),
            ("tcp.connect", "a:80"),
            ("tcp.connect", "b:10"),
            ("tcpServer.listen", "a:80"),
            ("tcpServer.listen", "b:10"),
        },
    ),
    (
        '{"udp":{"bind":["127.0.0.1:3007", "a.com:80"]}}',
        {("udp.bind", "127.0.0.1:3007"), ("udp.bind", "a.com:80")},
    ),
    ('{"udp":{"send":["", "a.com:80"]}}', {("udp.send", "*:*"), ("udp.send", "a.com:80")}),
]


@pytest.mark.parametrize(("text", "expected"), CHROMIUM_JSON_FORMATS)
def test_chromium_json_formats(text: str, expected: set[tuple[str, str]]) -> None:
    p = P(json.loads(text))
    assert set(p.entries) == expected
    assert len(p.entries) == len(expected)
    # FromToValue: the canonical form parses back to an equal permission
    assert from_entries(p.entries) == p
    assert P.from_manifest('{"sockets": ' + text + "}") == p


# ----------------------------------------------------------------------------------------------
# Legacy "socket" permission (§9.5); Chromium socket_permission_unittest.cc as data

LEGACY_INVALID = [
    "",
    "*",
    "\x01*",
    "tcp",
    "TCP-CONNECT",
    " tcp-connect",
    "tcp-connect ",
    "tcp-connect:www.example.com:-1",
    "tcp-connect:www.example.com:65536",
    "tcp-connect:::",
    "tcp-connect::0",
    "tcp-connect:  www.exmaple.com:  99  ",
    "tcp-connect:*.exmaple.com :99",
    "tcp-connect:*.exmaple.com: 99",
    "tcp-connect:*.exmaple.com:99 ",
    "tcp-connect:\t*.exmaple.com:99",
    "tcp-connect:\n*.exmaple.com:99",
    "resolve-host:exmaple.com:99",
    "resolve-host:127.0.0.1",
    "resolve-host:",
    "resolve-proxy:exmaple.com:99",
    "resolve-proxy:exmaple.com",
    "network-state:",
    "udp-multicast-membership:*",
    "udp-multicast-membership:*:*",
    "udp-multicast-membership:",
]


@pytest.mark.parametrize("rule", LEGACY_INVALID)
def test_legacy_invalid(rule: str) -> None:
    with pytest.raises(ManifestError) as info:
        P.from_legacy(["tcp-connect", rule])
    assert str(info.value) == (
        "Cannot parse an item from the permission list: " + json.dumps(rule, ensure_ascii=False)
    )


LEGACY_CANONICAL = [
    ("resolve-host", "resolve-host"),
    ("resolve-proxy", "resolve-proxy"),
    ("network-state", "network-state"),
    ("udp-multicast-membership", "udp-multicast-membership"),
    ("tcp-connect:www.example.com", "tcp-connect:www.example.com:*"),
    ("udp-send-to:wWW.ExAmPlE.cOm", "udp-send-to:www.example.com:*"),
    ("tcp-connect:*.example.com:99", "tcp-connect:*.example.com:99"),
] + [
    (f"{t}{suffix}", f"{t}{expected}")
    for t in ("tcp-connect", "tcp-listen", "udp-bind", "udp-send-to")
    for suffix, expected in [
        ("", ":*:*"),
        (":", ":*:*"),
        ("::", ":*:*"),
        (":*", ":*:*"),
        (":*:", ":*:*"),
        ("::*", ":*:*"),
        (":www.example.com", ":www.example.com:*"),
        (":.example.com", ":*.example.com:*"),
        (":*.example.com", ":*.example.com:*"),
        ("::99", ":*:99"),
    ]
]


@pytest.mark.parametrize(("rule", "canonical"), LEGACY_CANONICAL)
def test_legacy_canonical(rule: str, canonical: str) -> None:
    assert legacy_strings(P.from_legacy([rule])) == {canonical}


LEGACY_MATCH = [
    ("tcp-connect", "tcp.connect", "www.example.com", 80, True),
    ("tcp-connect", "udp.send", "www.example.com", 80, False),
    ("udp-send-to::8800", "udp.send", "www.example.com", 8800, True),
    ("udp-send-to::8800", "udp.send", "smtp.example.com", 8800, True),
    ("udp-send-to::8800", "tcp.connect", "www.example.com", 80, False),
    ("udp-send-to:*.example.com:8800", "udp.send", "www.example.com", 8800, True),
    ("udp-send-to:*.example.com:8800", "udp.send", "smtp.example.com", 8800, True),
    ("udp-send-to:*.example.com:8800", "udp.send", "SMTP.example.com", 8800, True),
    ("udp-send-to:*.example.com:8800", "tcp.connect", "www.example.com", 80, False),
    ("udp-send-to:*.example.com:8800", "udp.send", "www.google.com", 8800, False),
    ("udp-send-to:*.example.com:8800", "udp.send", "wwwexample.com", 8800, False),
    ("udp-send-to:*.ExAmPlE.cOm:8800", "udp.send", "www.example.com", 8800, True),
    ("udp-send-to:*.ExAmPlE.cOm:8800", "udp.send", "SMTP.example.com", 8800, True),
    ("udp-send-to:*.ExAmPlE.cOm:8800", "udp.send", "www.google.com", 8800, False),
    ("udp-bind::8800", "udp.bind", "127.0.0.1", 8800, True),
    ("udp-bind::8800", "udp.bind", "127.0.0.1", 8888, False),
    ("udp-bind::8800", "tcp.connect", "www.example.com", 80, False),
    ("udp-bind::8800", "udp.send", "www.google.com", 8800, False),
    ("tcp-connect:*.168.0.1:8800", "tcp.connect", "192.168.0.1", 8800, False),
    ("udp-multicast-membership", "udp.bind", "127.0.0.1", 8800, False),
    ("udp-multicast-membership", "tcp.connect", "www.example.com", 80, False),
    ("udp-multicast-membership", "udp.send", "www.google.com", 8800, False),
    ("udp-multicast-membership", "udp.multicastMembership", "127.0.0.1", 35, True),
    ("resolve-host", "resolve-host", "www.example.com", 80, True),
    ("resolve-host", "resolve-host", "www.example.com", 8080, True),
    ("resolve-host", "udp.bind", "127.0.0.1", 8800, False),
    ("resolve-host", "tcp.connect", "127.0.0.1", 8800, False),
    ("resolve-proxy", "resolve-proxy", "www.example.com", 80, True),
    ("resolve-proxy", "resolve-proxy", "www.example.com", 8080, True),
    ("resolve-proxy", "udp.bind", "127.0.0.1", 8800, False),
    ("resolve-proxy", "tcp.connect", "127.0.0.1", 8800, False),
    ("network-state", "network-state", "", 0, True),
    ("network-state", "udp.bind", "127.0.0.1", 8800, False),
    ("network-state", "tcp.connect", "127.0.0.1", 8800, False),
    ("tcp-listen::8080", "tcpServer.listen", "0.0.0.0", 8080, True),
]


@pytest.mark.parametrize(("rule", "op", "host", "port", "allowed"), LEGACY_MATCH)
def test_legacy_matching(rule: str, op: str, host: str, port: int, allowed: bool) -> None:
    assert P.from_legacy([rule]).allows(op, host, port) is allowed


def test_legacy_general() -> None:
    assert P.from_legacy(["tcp-connect"]) == P.from_legacy(["tcp-connect", "tcp-connect:"])
    assert P.from_legacy(["tcp-connect"]) != P.from_legacy(["tcp-connect:www.example.com"])
    # Value round trip (Chromium SocketPermissionTest.Value)
    p = P.from_legacy(["tcp-connect:*.example.com:80", "udp-bind::8080", "udp-send-to::8888"])
    assert P.from_legacy(sorted(legacy_strings(p))) == p
    # the same grant through "sockets" compares equal
    assert p == P(
        {"tcp": {"connect": "*.example.com:80"}, "udp": {"bind": ":8080", "send": ":8888"}}
    )


def test_legacy_entries_use_sockets_op_names() -> None:
    p = P.from_legacy(
        ["network-state", "udp-multicast-membership", "tcp-listen:a", "resolve-host", "udp-bind"]
    )
    assert p.entries == (
        ("tcpServer.listen", "a:*"),
        ("udp.bind", "*:*"),
        ("udp.multicastMembership", ""),
        ("resolve-host", ""),
        ("network-state", ""),
    )


@pytest.mark.parametrize("rules", ["tcp-connect", {"tcp-connect": 1}, 5, True, b"tcp-connect"])
def test_legacy_not_a_list(rules: object) -> None:
    with pytest.raises(ManifestError, match=r"^Cannot parse the permission list\. It's not a list"):
        P.from_legacy(rules)


@pytest.mark.parametrize(
    ("item", "shown"), [(5, "5"), (None, "null"), (["a", 1], '["a",1]'), ({"a": 1}, '{"a":1}')]
)
def test_legacy_non_string_item(item: object, shown: str) -> None:
    with pytest.raises(ManifestError) as info:
        P.from_legacy(["tcp-connect", item])
    assert str(info.value) == "Cannot parse an item from the permission list: " + shown


def test_legacy_none_and_empty() -> None:
    assert P.from_legacy(None) == P({}) == P.from_legacy([])


# ----------------------------------------------------------------------------------------------
# allows(): argument checking


def test_allows_rejects_unknown_op() -> None:
    p = perm("tcp.connect", "")
    with pytest.raises(ValueError, match=r"\bop\b.*'tcp-connect'"):
        p.allows("tcp-connect", "a", 1)
    with pytest.raises(ValueError, match=r"\bop\b"):
        P.allow_all().allows("udp.sendTo", "a", 1)
    with pytest.raises(ValueError, match=r"\bop\b"):
        P({}).allows("", "a", 1)


@pytest.mark.parametrize("port", [-1, 65536, 2**70, -(2**70)])
def test_allows_rejects_out_of_range_port(port: int) -> None:
    with pytest.raises(ValueError, match=r"\bport\b"):
        perm("udp.send", "").allows("udp.send", "a", port)


def test_allows_rejects_wrong_types() -> None:
    p = perm("udp.send", "")
    with pytest.raises(TypeError, match=r"\bhost\b"):
        p.allows("udp.send", b"a", 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\bport\b"):
        p.allows("udp.send", "a", "80")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"\bport\b"):
        p.allows("udp.send", "a", 80.0)  # type: ignore[arg-type]


def test_allow_all() -> None:
    p = P.allow_all()
    assert p.unrestricted and p.entries == ()
    assert P.allow_all() is p
    for op in OPS + LEGACY_OPS:
        assert p.allows(op, "anything", 0)
        assert p.allows(op, "[::1]", 65535)
    assert p != P({})
    assert p == P.allow_all()


# ----------------------------------------------------------------------------------------------
# Equality, hashing, repr, messages


def test_equality_and_hash() -> None:
    a = P({"tcp": {"connect": ["b:2", "a:1", "a:1"]}})
    b = P({"tcp": {"connect": ["A:1", "b:02"]}, "foo": 1})
    assert a == b and hash(a) == hash(b)
    assert a != P({"tcp": {"connect": ["a:1"]}})
    assert a != P({"udp": {"send": ["b:2", "a:1"]}})
    assert len({a, b, P({}), P.allow_all()}) == 3
    assert a != "not a permission"
    assert (a == 5) is False


def test_repr() -> None:
    assert repr(P.allow_all()) == "SocketsPermission.allow_all()"
    r = repr(P({"udp": {"send": ":99"}}))
    assert "SocketsPermission" in r and "'udp.send', '*:99'" in r


def test_denied_messages() -> None:
    assert DENIED_TCP == "Does not have permission"
    assert DENIED_UDP == "App does not have permission"
    assert denied_message("tcp.connect") == DENIED_TCP
    assert denied_message("tcpServer.listen") == DENIED_TCP
    for op in ("udp.bind", "udp.send", "udp.multicastMembership"):
        assert denied_message(op) == DENIED_UDP
    with pytest.raises(ValueError, match=r"\bop\b"):
        denied_message("tcp")
    assert OPS == (
        "tcp.connect",
        "tcpServer.listen",
        "udp.bind",
        "udp.send",
        "udp.multicastMembership",
    )


def test_instances_are_immutable() -> None:
    p = P({})
    with pytest.raises(AttributeError):
        p.extra = 1  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------------------------
# from_manifest / load_permission

MANIFEST = {
    "name": "x",
    "app": {"background": {"scripts": ["main.js"]}},
    "sockets": {"udp": {"send": ":53"}, "tcp": {"connect": "*.example.com:443"}},
}
EXPECTED = P(MANIFEST["sockets"])


def test_from_manifest_dict() -> None:
    assert P.from_manifest(MANIFEST) == EXPECTED


def test_from_manifest_json_text() -> None:
    text = json.dumps(MANIFEST, indent=2)
    assert P.from_manifest(text) == EXPECTED
    assert P.from_manifest("  \n\t" + text) == EXPECTED
    assert P.from_manifest("\ufeff" + text) == EXPECTED


def test_from_manifest_bytes() -> None:
    raw = json.dumps(MANIFEST).encode()
    assert P.from_manifest(raw) == EXPECTED
    assert P.from_manifest(bytearray(raw)) == EXPECTED
    assert P.from_manifest(b"\xef\xbb\xbf" + raw) == EXPECTED


def test_from_manifest_comments() -> None:
    text = """{
      // Chrome's JSON reader accepts comments in manifests
      "sockets": { /* a comment */ "udp": {"send": ":53"},
                   "tcp": {"connect": ["a//b", "c/*d*/e", "f\\\\"]} }  // "g"
    }"""
    p = P.from_manifest(text)
    assert p.entries == (
        ("tcp.connect", "a//b:*"),
        ("tcp.connect", "c/*d*/e:*"),
        ("tcp.connect", "f\\:*"),
        ("udp.send", "*:53"),
    )
    with pytest.raises(ManifestError, match="not valid JSON"):
        P.from_manifest('{"sockets": {} /* unterminated }')


def test_from_manifest_path(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    assert P.from_manifest(path) == EXPECTED
    assert P.from_manifest(str(path)) == EXPECTED
    assert P.from_manifest(tmp_path) == EXPECTED  # the App directory
    assert P.from_manifest(str(tmp_path)) == EXPECTED


def test_from_manifest_bytes_are_content_not_a_path(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    with pytest.raises(ManifestError, match="not valid JSON"):
        P.from_manifest(os.fsencode(path))


def test_from_manifest_missing_key_denies_everything() -> None:
    p = P.from_manifest({"name": "x"})
    assert p.entries == () and not p.unrestricted
    assert not p.allows("tcp.connect", "a", 1)
    assert P.from_manifest("{}") == p


def test_from_manifest_invalid_sockets_value() -> None:
    with pytest.raises(ManifestError, match=r"^Invalid host:port pattern '\*'$"):
        P.from_manifest({"sockets": {"udp": {"multicastMembership": "*"}}})
    with pytest.raises(ManifestError, match=r"^Error at key 'sockets'"):
        P.from_manifest('{"sockets": null}')


def test_from_manifest_malformed_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"sockets": {"udp": {"send": ":53"}},}', encoding="utf-8")
    with pytest.raises(ManifestError, match=r"^Manifest is not valid JSON\."):
        P.from_manifest(path)
    path.write_bytes(b'{"sockets": "\xff"}')
    with pytest.raises(ManifestError, match=r"^Manifest is not valid JSON\."):
        P.from_manifest(path)
    path.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"^Manifest is not a valid JSON dictionary\.$"):
        P.from_manifest(path)


def test_from_manifest_missing_or_odd_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"^Manifest file is missing or unreadable"):
        P.from_manifest(tmp_path / "nope.json")
    with pytest.raises(ManifestError, match=r"^Manifest file is missing or unreadable"):
        P.from_manifest(tmp_path)  # a directory without manifest.json
    with pytest.raises(ManifestError, match=r"^Manifest file is missing or unreadable"):
        P.from_manifest("no\x00such")
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo.json"
        os.mkfifo(fifo)
        with pytest.raises(ManifestError, match=r"regular file"):
            P.from_manifest(fifo)  # must not block


@pytest.mark.parametrize(
    "text",
    ["{", "{]", '{"a": NaN}', '{"a": Infinity}', '{"a": 1e999}', "{" * 100_000, '{"a": 1,}'],
)
def test_from_manifest_bad_json(text: str) -> None:
    with pytest.raises(ManifestError, match=r"^Manifest is not valid JSON\."):
        P.from_manifest(text)


@pytest.mark.parametrize("value", [None, 5, 1.5, True, [], [MANIFEST], ()])
def test_from_manifest_not_a_dict(value: object) -> None:
    with pytest.raises(ManifestError, match=r"^Manifest is not a valid JSON dictionary\.$"):
        P.from_manifest(value)
    with pytest.raises(ManifestError, match=r"^Manifest is not a valid JSON dictionary\.$"):
        P.from_manifest(json.dumps(value).encode())


def test_from_manifest_rejects_non_json_objects() -> None:
    with pytest.raises(TypeError, match=r"\bmanifest\b"):
        P.from_manifest({1, 2})
    with pytest.raises(TypeError, match=r"\bmanifest\b"):
        P.from_manifest(object())


def test_load_permission(tmp_path: Path) -> None:
    assert load_permission(None) is P.allow_all()
    assert load_permission(None).unrestricted
    assert load_permission(EXPECTED) is EXPECTED
    assert load_permission(MANIFEST) == EXPECTED
    assert load_permission(json.dumps(MANIFEST)) == EXPECTED
    assert load_permission(json.dumps(MANIFEST).encode()) == EXPECTED
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MANIFEST), encoding="utf-8")
    assert load_permission(path) == EXPECTED
    assert load_permission({}) == P({})
    for wrong in (5, 1.5, [MANIFEST], object()):
        with pytest.raises(TypeError, match=r"\bmanifest\b"):
            load_permission(wrong)
    with pytest.raises(ManifestError):
        load_permission({"sockets": {"tcp": {"connect": ":0"}}})


# ----------------------------------------------------------------------------------------------
# Properties

LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=8)
HOST = st.lists(LABEL, min_size=1, max_size=4).map(".".join)
PORT = st.integers(1, 65535)
# pattern material biased towards the characters the grammar cares about
PATTERN_CHARS = st.sampled_from([*":.*aAzZ09 \t\n\x00-/[]\u00e9\u212a", "0x", "65535"])
PATTERN = st.one_of(
    st.lists(PATTERN_CHARS, max_size=10).map("".join),
    st.builds(lambda h, p: f"{h}:{p}", st.one_of(HOST, st.just("*"), HOST.map("*.".__add__)), PORT),
    st.text(max_size=12),
)
REQUEST_HOST = st.one_of(
    HOST,
    st.lists(PATTERN_CHARS, max_size=10).map("".join),
    st.builds(lambda h, d: f"{h}.{d}", LABEL, HOST),
    st.integers(0, 2**32 - 1).map(lambda n: str(ipaddress.IPv4Address(n))),
    st.text(max_size=12),
)


def try_perm(op: str, patterns: list[str]) -> SocketsPermission | None:
    try:
        return perm(op, patterns)
    except ManifestError:
        return None


@SETTINGS
@given(st.sampled_from(ADDRESS_OPS), HOST, PORT, REQUEST_HOST, st.integers(0, 65535))
def test_exact_pattern_never_allows_another_host_or_port(
    op: str, host: str, port: int, other_host: str, other_port: int
) -> None:
    p = perm(op, f"{host}:{port}")
    assert p.allows(op, host, port)
    assert p.allows(op, host.upper(), port)
    if other_host.lower() != host:
        assert not p.allows(op, other_host, port)
    if other_port != port:
        assert not p.allows(op, host, other_port)


@SETTINGS
@given(st.sampled_from(OPS), st.lists(PATTERN, max_size=4))
def test_parse_of_canonical_form_is_stable(op: str, patterns: list[str]) -> None:
    p = try_perm(op, patterns)
    if p is None:
        return
    again = from_entries(p.entries)
    assert again == p
    assert again.entries == p.entries


@SETTINGS
@given(st.sampled_from(ADDRESS_OPS), st.lists(PATTERN, max_size=3), REQUEST_HOST, PORT)
def test_allows_is_ascii_case_insensitive(
    op: str, patterns: list[str], host: str, port: int
) -> None:
    p = try_perm(op, patterns)
    if p is None:
        return
    expected = p.allows(op, host, port)
    assert p.allows(op, ascii_swapcase(host), port) is expected
    upper = try_perm(op, [ascii_swapcase(x) for x in patterns])
    assert upper is not None and upper == p


def naive_allows(p: SocketsPermission, op: str, host: str, port: int) -> bool:
    """A direct transcription of SocketPermissionEntry::Check over the canonical entries."""
    lhost = "".join(c.lower() if "A" <= c <= "Z" else c for c in host)
    for entry_op, pattern in p.entries:
        if entry_op != op:
            continue
        if not pattern:  # multicast: any host, any port
            return True
        host_part, _, port_part = pattern.rpartition(":")
        entry_port = 0 if port_part == "*" else int(port_part)
        if host_part == "*":
            sub, h = True, ""
        elif host_part.startswith("*."):
            sub, h = True, host_part[2:]
        else:
            sub, h = False, host_part
        if h != lhost:
            if not sub:
                continue
            if h:
                if _is_ip_address(lhost):
                    continue
                i = len(lhost) - len(h)
                if i < 2 or lhost[i:] != h or lhost[i - 1] != ".":
                    continue
        if entry_port in (0, port):
            return True
    return False


@SETTINGS
@given(st.sampled_from(OPS), st.lists(PATTERN, max_size=5), REQUEST_HOST, st.integers(0, 65535))
def test_fast_matcher_agrees_with_naive_matcher(
    op: str, patterns: list[str], host: str, port: int
) -> None:
    p = try_perm(op, patterns)
    if p is None:
        return
    assert p.allows(op, host, port) is naive_allows(p, op, host, port)
    for d in range(len(host)):
        # every suffix of the request host too, to exercise the domain boundaries
        assert p.allows(op, host[d:], port) is naive_allows(p, op, host[d:], port)


@SETTINGS
@given(st.sampled_from(ADDRESS_OPS), HOST, LABEL, PORT)
def test_domain_wildcard_matches_domain_and_subdomains(
    op: str, domain: str, sub: str, port: int
) -> None:
    p = perm(op, f"*.{domain}:{port}")
    is_ip = _is_ip_address(f"{sub}.{domain}")
    assert p.allows(op, domain, port)
    assert p.allows(op, f"{sub}.{domain}", port) is not is_ip
    assert not p.allows(op, f"{sub}{domain}", port) or f"{sub}{domain}".endswith("." + domain)
    assert not p.allows(op, f"{sub}.{domain}", port % 65535 + 1)
