"""Fuzz targets for fastsockets.manifest.

The contract under test: for any JSON-like input the parsers either succeed or raise
ManifestError -- never anything else -- and a parsed permission answers ``allows()`` with a
bool for any host string and any port in 0..65535.  (``load_permission`` may also raise
TypeError, for inputs that are not a manifest at all; ``from_manifest`` raises TypeError only for
non-JSON Python objects such as a set, which JSON input cannot produce.)

pytest runs the targets through hypothesis.  The byte-level target ``one_input`` can also be run
coverage-guided under atheris, which pytest never imports::

    pip install atheris
    python tests/python/test_manifest_fuzz.py -max_total_time=60
"""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fastsockets.manifest import (
    LEGACY_OPS,
    OPS,
    ManifestError,
    SocketsPermission,
    _is_ip_address,
    load_permission,
)

SETTINGS = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

FIELD = {
    "tcp.connect": ("tcp", "connect"),
    "tcpServer.listen": ("tcpServer", "listen"),
    "udp.bind": ("udp", "bind"),
    "udp.send": ("udp", "send"),
    "udp.multicastMembership": ("udp", "multicastMembership"),
}
LEGACY_TYPES = [
    "tcp-connect",
    "tcp-listen",
    "udp-bind",
    "udp-send-to",
    "udp-multicast-membership",
    "resolve-host",
    "resolve-proxy",
    "network-state",
]

# Characters the grammar and the IP recogniser care about, plus anything at all (including
# lone surrogates, which json.loads can produce from "\ud800").
SPECIAL = list(":.*[]%+- \t\n\r\v\f\x00\x01/\\xX0123456789aAfFgzZ\u00a0\u0660\uff10\u212a\u00e9")
CHAR = st.one_of(st.sampled_from(SPECIAL), st.characters(exclude_categories=()))
TEXT = st.one_of(
    st.text(CHAR, max_size=24),
    st.builds(
        lambda h, n: f"{h}:{n}",
        st.text(CHAR, max_size=8),
        st.integers(-(2**80), 2**80),
    ),
    st.builds(lambda parts: ".".join(parts), st.lists(st.text(CHAR, max_size=4), max_size=8)),
    st.builds(lambda n: ":" * n, st.integers(0, 6)),
)
KEY = st.one_of(
    st.sampled_from(
        [
            "udp",
            "tcp",
            "tcpServer",
            "bind",
            "send",
            "multicastMembership",
            "connect",
            "listen",
            "sockets",
            "permissions",
            "socket",
        ]
    ),
    st.text(max_size=4),
)
JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=True, allow_infinity=True),
        TEXT,
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEY, children, max_size=4)
    ),
    max_leaves=10,
)
PATTERNS = st.one_of(TEXT, st.lists(TEXT, max_size=4), JSON)
SOCKETS = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "udp": st.one_of(
                st.fixed_dictionaries(
                    {},
                    optional={"bind": PATTERNS, "send": PATTERNS, "multicastMembership": PATTERNS},
                ),
                JSON,
            ),
            "tcp": st.one_of(st.fixed_dictionaries({}, optional={"connect": PATTERNS}), JSON),
            "tcpServer": st.one_of(st.fixed_dictionaries({}, optional={"listen": PATTERNS}), JSON),
        },
    ),
    JSON,
)
LEGACY = st.one_of(
    st.lists(
        st.one_of(
            st.builds(lambda t, rest: t + rest, st.sampled_from([*LEGACY_TYPES, ""]), TEXT),
            JSON,
        ),
        max_size=4,
    ),
    JSON,
)
PORT = st.integers(0, 65535)


def check_permission(p: SocketsPermission, host: str, port: int) -> None:
    """Invariants of any successfully parsed permission."""
    assert not p.unrestricted
    order = {op: i for i, op in enumerate(OPS + LEGACY_OPS)}
    assert list(p.entries) == sorted(set(p.entries), key=lambda e: (order[e[0]], e[1]))
    value: dict[str, dict[str, list[str]]] = {}
    for op, pattern in p.entries:
        assert isinstance(pattern, str)
        if op in FIELD:
            section, field = FIELD[op]
            value.setdefault(section, {}).setdefault(field, []).append(pattern)
    if all(op in FIELD for op, _ in p.entries):
        assert SocketsPermission(value) == p
    for op in OPS + LEGACY_OPS:
        assert p.allows(op, host, port) in (True, False)
    with pytest.raises(ValueError):
        p.allows("tcp.connect", host, 65536)


@SETTINGS
@given(SOCKETS, TEXT, PORT)
def test_sockets_value(value: Any, host: str, port: int) -> None:
    try:
        p = SocketsPermission(value)
    except ManifestError:
        return
    check_permission(p, host, port)


@SETTINGS
@given(SOCKETS, TEXT, PORT)
def test_from_manifest_json_forms(sockets: Any, host: str, port: int) -> None:
    manifest = {"name": "fuzz", "sockets": sockets}
    forms: list[object] = [manifest]
    try:
        text = json.dumps(manifest, allow_nan=False)
    except ValueError:
        pass  # NaN/Infinity have no JSON text
    else:
        forms += [text, text.encode()]
    results: list[object] = []
    for form in forms:
        try:
            results.append(SocketsPermission.from_manifest(form))
        except ManifestError:
            results.append(ManifestError)
    # the dict, its JSON text and its UTF-8 bytes all agree
    assert all(r == results[0] for r in results)
    if isinstance(results[0], SocketsPermission):
        check_permission(results[0], host, port)


@SETTINGS
@given(JSON)
def test_any_json_value(value: Any) -> None:
    for parse in (
        SocketsPermission,
        SocketsPermission.from_legacy,
        SocketsPermission.from_manifest,
        lambda v: SocketsPermission.from_manifest(json.dumps(v)),
    ):
        try:
            parse(value)
        except ManifestError:
            pass
    try:
        load_permission(value)
    except (ManifestError, TypeError):
        pass


@SETTINGS
@given(st.text(CHAR, max_size=40))
def test_from_manifest_any_text(text: str) -> None:
    # Text not starting with '{' is a path: exercises the file errors as well.
    for candidate in (text, "{" + text, '{"sockets": ' + text):
        try:
            SocketsPermission.from_manifest(candidate)
        except ManifestError:
            pass


@SETTINGS
@given(st.binary(max_size=64))
def test_from_manifest_any_bytes(raw: bytes) -> None:
    for candidate in (raw, b"{" + raw, b'{"sockets": ' + raw):
        try:
            SocketsPermission.from_manifest(candidate)
        except ManifestError:
            pass


@SETTINGS
@given(LEGACY, TEXT, PORT)
def test_from_legacy(rules: Any, host: str, port: int) -> None:
    try:
        p = SocketsPermission.from_legacy(rules)
    except ManifestError:
        return
    check_permission(p, host, port)


@SETTINGS
@given(TEXT)
def test_ip_recogniser_total(host: str) -> None:
    assert _is_ip_address(host) in (True, False)


@SETTINGS
@given(st.lists(TEXT, max_size=4), st.lists(TEXT, min_size=1, max_size=4), PORT)
def test_allows_on_arbitrary_hosts(patterns: list[str], hosts: list[str], port: int) -> None:
    for op, (section, field) in FIELD.items():
        try:
            p = SocketsPermission({section: {field: patterns}})
        except ManifestError:
            continue
        for host in hosts:
            assert p.allows(op, host, port) in (True, False)


# ----------------------------------------------------------------------------------------------
# Byte-level target, shared by hypothesis and atheris


def one_input(data: bytes) -> None:
    """Decode ``data`` into one of several calls; only ManifestError may escape."""
    if not data:
        return
    mode, rest = data[0] % 4, data[1:]
    try:
        if mode == 0:
            SocketsPermission.from_manifest(rest)
            return
        text = rest.decode("utf-8", "surrogateescape")
        lines = text.split("\n")
        if mode == 1:
            p = SocketsPermission({"udp": {"send": lines[:-1] or lines}})
        elif mode == 2:
            p = SocketsPermission.from_legacy(lines[:-1] or lines)
        else:
            op = OPS[len(lines) % len(OPS)]
            section, field = FIELD[op]
            p = SocketsPermission({section: {field: lines[0]}})
        host = lines[-1]
        port = int.from_bytes(rest[-2:], "big") if len(rest) >= 2 else 0
        for op in OPS + LEGACY_OPS:
            p.allows(op, host, port)
    except ManifestError:
        pass


@SETTINGS
@given(st.binary(max_size=96))
def test_one_input(data: bytes) -> None:
    one_input(data)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00{}",
        b"\x00" + b"[" * 10_000,
        b"\x01*.example.com:80\nwww.example.com",
        b"\x01[::1]:80\n[::1]",
        b"\x02tcp-connect:a:99999999999999999999\na",
        b"\x03\xff\xfe\n0x7f.1",
    ],
)
def test_one_input_seeds(data: bytes) -> None:
    one_input(data)


def main() -> None:  # pragma: no cover - only run by hand, under atheris
    import atheris  # type: ignore[import-not-found, import-untyped, unused-ignore]

    atheris.instrument_all()
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":  # pragma: no cover
    main()
