"""The ``"sockets"`` manifest key: parse it, then answer "may this App do that?".

Data in, bool out: this module does no I/O except reading a manifest file when asked to, imports
only the standard library, and never resolves a host name.

Some facts about Chrome's implementation
========================================

Chrome checks every ``connect``/``listen``/``bind``/``send``/``joinGroup`` against the entries
parsed from the App's ``"sockets"`` key (spec §9; Chromium ``socket_permission_entry.cc`` and
``sockets_manifest_permission.cc``).  What matters for a faithful port:

* The code, not the documented grammar, is the contract.  A pattern is split on *every* ``':'``;
  more than two pieces is invalid, so no IPv6 literal can ever be written, and ``""`` (zero
  pieces) means any host and any port.  The host is ASCII-lower-cased, split on ``'.'``, each
  label trimmed of ASCII whitespace, and a first label of ``"*"`` *or empty* turns the entry into
  a "this domain and its subdomains" entry.  So ``"."``, ``"*."`` and ``"*"`` all mean any host,
  ``"www. example.com"`` means ``www.example.com``, and ``"www.*.com"`` is a valid exact host
  that only matches itself.  Ports must be decimal 1..65535 (``base::StringToInt``: an optional
  sign and leading zeros are accepted, surrounding whitespace is not); 0 is rejected.
* Matching lower-cases the request host and compares strings; there is no DNS.  A domain entry
  matches the bare domain too, and matches ``x.<domain>`` only if the request host is not an IP
  address by URL-canonicaliser rules (so ``*.0.1`` never matches ``10.0.0.1``, nor ``0x7f.0.1``
  or ``[::1]``).  An IPv6 peer can therefore only be allowed by an any-host pattern.
* The parsed entries form a set; the first invalid pattern (in the order udp.bind, udp.send,
  udp.multicastMembership, tcp.connect, tcpServer.listen) fails the whole manifest with
  ``Invalid host:port pattern '<pattern>'``.  JSON type errors are found first, by the schema
  code generated from ``extensions_manifest_types.json``, which *ignores* unknown properties
  (``tools/json_schema_compiler/cc_generator.py``, "will ignore unrecognized keys").

What this means for fastsockets
===============================

* :class:`SocketsPermission` reproduces the parser and the matcher exactly, including the
  quirks above, and ignores unknown keys like Chrome does (an unknown key can only grant less).
* :meth:`SocketsPermission.allows` runs on every ``bind``/``send``, so all parsing happens once:
  per operation we keep the any-host ports, a dict of exact hosts and a dict of domains, each
  mapping to the allowed ports (``None`` = any port).  A check is a few dict lookups and one
  ``str.endswith``; the IP-address test runs only when a domain entry would otherwise match,
  and its verdict for the last 256 hosts is kept in a bounded LRU cache.
* The IPv4/IPv6 recognisers below follow Chromium's ``url::CanonicalizeIPAddress``
  (``url/url_canon_ip.h``) step by step, because "is this an IP address?" decides whether a
  domain wildcard may match: ``127.1``, ``0x7f.1``, ``017700000001`` and ``[::ffff:1.2.3.4]`` are
  addresses; ``1.2.3.4.5`` and ``08.1`` are not (Chromium calls them broken), so a domain
  wildcard ending in ``.5`` or ``.1`` can match them.
"""

from __future__ import annotations

import functools
import json
import os
import re
import stat
from collections.abc import Iterable, Mapping
from typing import Final, NamedTuple, NoReturn

from .errors import FastSocketsError

__all__ = [
    "DENIED_TCP",
    "DENIED_UDP",
    "LEGACY_OPS",
    "OPS",
    "ManifestError",
    "SocketsPermission",
    "denied_message",
    "load_permission",
]

#: ``runtime.lastError`` message of a ``sockets.tcp.connect`` / ``sockets.tcpServer.listen``
#: call denied by the manifest.
DENIED_TCP: Final = "Does not have permission"
#: ``runtime.lastError`` message of a ``sockets.udp`` call denied by the manifest (note the
#: different wording; Chrome is inconsistent and so are we).
DENIED_UDP: Final = "App does not have permission"

#: The operations a ``"sockets"`` key can grant, in the order :attr:`SocketsPermission.entries`
#: lists them.
OPS: Final[tuple[str, ...]] = (
    "tcp.connect",
    "tcpServer.listen",
    "udp.bind",
    "udp.send",
    "udp.multicastMembership",
)
#: Extra operations only the deprecated ``"socket"`` permission can grant (:meth:`from_legacy`).
LEGACY_OPS: Final[tuple[str, ...]] = ("resolve-host", "resolve-proxy", "network-state")

_ALL_OPS: Final = OPS + LEGACY_OPS
_OP_ORDER: Final = {op: i for i, op in enumerate(_ALL_OPS)}
# Operations whose entries carry a host and a port (IsAddressBoundType in Chromium).
_ADDRESS_OPS: Final = frozenset(OPS[:4])

# manifest section -> ((field, op), ...), in the order Chrome parses (and reports errors).
_SCHEMA: Final = (
    (
        "udp",
        (
            ("bind", "udp.bind"),
            ("send", "udp.send"),
            ("multicastMembership", "udp.multicastMembership"),
        ),
    ),
    ("tcp", (("connect", "tcp.connect"),)),
    ("tcpServer", (("listen", "tcpServer.listen"),)),
)

# Legacy rule type -> op.  Address types map onto the "sockets" op names so that a legacy
# permission and a "sockets" permission granting the same thing compare equal.
_LEGACY_TYPES: Final = {
    "tcp-connect": "tcp.connect",
    "tcp-listen": "tcpServer.listen",
    "udp-bind": "udp.bind",
    "udp-send-to": "udp.send",
    "udp-multicast-membership": "udp.multicastMembership",
    "resolve-host": "resolve-host",
    "resolve-proxy": "resolve-proxy",
    "network-state": "network-state",
}

# base::IsAsciiWhitespace / kWhitespaceASCII: TAB, LF, VT, FF, CR, SPACE.
_WS: Final = "\t\n\v\f\r "
_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_JSON_WS: Final = " \t\n\r"

_MISSING: Final = object()
_NOTHING: Final[frozenset[int]] = frozenset()

_MANIFEST_NOT_DICT: Final = "Manifest is not a valid JSON dictionary."
_MANIFEST_UNREADABLE: Final = "Manifest file is missing or unreadable"
_MANIFEST_BAD_JSON: Final = "Manifest is not valid JSON."
_LEGACY_NOT_LIST: Final = "Cannot parse the permission list. It's not a list."
_LEGACY_BAD_ITEM: Final = "Cannot parse an item from the permission list: "


class ManifestError(FastSocketsError, ValueError):
    """The manifest (or one pattern in it) is invalid; the App would not load in Chrome.

    The message is Chrome's where Chrome has one, e.g. ``Invalid host:port pattern '*'`` for
    ``"multicastMembership": "*"``.  Wrong JSON types name the key path, e.g.
    ``Error at key 'sockets.udp.bind[1]': expected a string, got integer``.
    """


def denied_message(op: str) -> str:
    """The ``runtime.lastError`` message Chrome shows when the manifest denies ``op``.

    :raises ValueError: if ``op`` is not one of :data:`OPS`.
    """
    if op in ("tcp.connect", "tcpServer.listen"):
        return DENIED_TCP
    if op in OPS:
        return DENIED_UDP
    raise ValueError(f"op must be one of {', '.join(OPS)}; got {op!r}")


# --------------------------------------------------------------------------------------------
# Entries


class _Entry(NamedTuple):
    """One parsed pattern (SocketPermissionEntry): ``port`` 0 means any port."""

    op: str
    host: str
    subdomains: bool
    port: int

    def pattern(self) -> str:
        """Chrome's GetHostPatternAsString: ``host:port``, or ``""`` for non-address ops."""
        if self.op not in _ADDRESS_OPS:
            return ""
        if self.subdomains:
            host = "*." + self.host if self.host else "*"
        else:
            host = self.host
        return f"{host}:{self.port}" if self.port else host + ":*"


def _ascii_lower(s: str) -> str:
    # str.lower() also folds non-ASCII letters (e.g. KELVIN SIGN -> 'k'); Chrome does not.
    return s.lower() if s.isascii() else s.translate(_LOWER)


def _parse_port(s: str) -> int:
    """base::StringToInt restricted to what matters here; 0 if not a number in 1..65535."""
    digits = s[1:] if s[0] in "+-" else s
    # Only ASCII digits count (str.isdigit alone would accept e.g. Arabic-Indic digits).
    if not digits or not digits.isascii() or not digits.isdigit() or s[0] == "-":
        return 0
    digits = digits.lstrip("0")
    if len(digits) > 5:
        return 0
    value = int(digits) if digits else 0
    return value if value <= 65535 else 0


def _parse_tokens(op: str, tokens: list[str]) -> _Entry | None:
    """SocketPermissionEntry::ParseHostPattern on pre-split tokens; None if invalid."""
    if len(tokens) > 2:
        return None
    if not tokens:
        return _Entry(op, "", True, 0)
    if op not in _ADDRESS_OPS:
        # multicastMembership and the legacy resolve-*/network-state take no address at all.
        return None
    host = tokens[0]
    subdomains = True
    if host:
        if host[0] in _WS or host[-1] in _WS:
            return None
        labels = [label.strip(_WS) for label in _ascii_lower(host).split(".")]
        if labels[0] == "*" or not labels[0]:
            del labels[0]
        else:
            subdomains = False
        host = ".".join(labels)
    if len(tokens) == 1 or tokens[1] == "" or tokens[1] == "*":
        return _Entry(op, host, subdomains, 0)
    port_text = tokens[1]
    if port_text[0] in _WS or port_text[-1] in _WS:
        return None
    port = _parse_port(port_text)
    if not port:
        return None
    return _Entry(op, host, subdomains, port)


def _split(pattern: str) -> list[str]:
    # base::SplitString(SPLIT_WANT_ALL) yields no pieces at all for an empty input.
    return pattern.split(":") if pattern else []


# --------------------------------------------------------------------------------------------
# "Is this an IP address?" -- url::CanonicalizeIPAddress, reduced to its verdict.

_NEUTRAL: Final = 0  # not an IP address; might be a host name
_BROKEN: Final = 1  # looks numeric but is not a valid address
_IPV4: Final = 2

_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_DEC_DIGITS: Final = frozenset("0123456789")
_OCT_DIGITS: Final = frozenset("01234567")
_IPV4_ONLY_CHARS: Final = frozenset(".xX")  # CHAR_IPV4 minus the hex digits


def _ipv4_component(comp: str) -> tuple[int, int]:
    """IPv4ComponentToNumber: (family, value) of one dotted component."""
    if not comp:
        return _NEUTRAL, 0
    if comp[0] == "0" and len(comp) > 1:
        if comp[1] in "xX":
            base, allowed, start = 16, _HEX_DIGITS, 2
        else:
            base, allowed, start = 8, _OCT_DIGITS, 1
    else:
        base, allowed, start = 10, _DEC_DIGITS, 0
    while start < len(comp) and comp[start] == "0":
        start += 1
    digits = comp[start:]
    broken_octal = False
    for ch in digits:
        if ch not in allowed:
            if ch in _DEC_DIGITS:
                # "08": numeric but not octal; only broken if nothing non-numeric follows.
                broken_octal = True
            else:
                return _NEUTRAL, 0
    if broken_octal:
        return _BROKEN, 0
    if len(digits) > 16:
        # Chromium parses at most 16 significant digits, which already overflow 32 bits.
        return _BROKEN, 0
    value = int(digits, base) if digits else 0
    if value > 0xFFFFFFFF:
        return _BROKEN, 0
    return _IPV4, value


def _ipv4_family(host: str) -> tuple[int, int]:
    """IPv4AddressToNumber: (family, number of components)."""
    if host.endswith("."):
        host = host[:-1]
    if not host:
        return _NEUTRAL, 0
    # Components are examined from the last one; a fifth one is never parsed.
    parts = host.rsplit(".", 4)
    values: list[int] = []
    for index in range(len(parts) - 1, -1, -1):
        if len(values) == 4:
            return _BROKEN, 0
        family, value = _ipv4_component(parts[index])
        if family == _NEUTRAL and not values:
            return _NEUTRAL, 0  # last component not numeric: a host name
        if family != _IPV4:
            return _BROKEN, 0
        values.append(value)
    count = len(values)
    # All components but the last are bytes; the last fills the remaining 5 - count bytes.
    if any(v > 0xFF for v in values[1:]) or values[0] >= 1 << (8 * (5 - count)):
        return _BROKEN, 0
    return _IPV4, count


def _is_ipv6_literal(host: str) -> bool:
    """IPv6AddressToNumber: a bracketed IPv6 literal, e.g. ``[::1]``."""
    if len(host) < 2 or host[0] != "[" or host[-1] != "]":
        return False
    s = host[1:-1]
    n = len(s)
    if n == 0:
        return False
    hex_count = 0
    contraction = -1  # index of the hex component the "::" precedes
    ipv4: str | None = None
    start = 0
    i = 0
    while True:
        is_colon = i < n and s[i] == ":"
        is_contraction = is_colon and i < n - 1 and s[i + 1] == ":"
        if is_colon or i == n:
            length = i - start
            if length > 4:
                return False
            if length == 0:
                if not ((is_contraction and i == 0) or (i == n and contraction == hex_count)):
                    return False
            else:
                if hex_count >= 8:
                    return False
                hex_count += 1
        if i == n:
            break
        if is_contraction:
            if contraction != -1:
                return False
            contraction = hex_count
            i += 1
        if is_colon:
            start = i + 1
        elif s[i] not in _HEX_DIGITS:
            if s[i] in _IPV4_ONLY_CHARS:
                ipv4 = s[start:]  # an embedded IPv4 address runs to the end
                break
            return False
        i += 1
    size = hex_count * 2 + (4 if ipv4 is not None else 0)
    if contraction != -1:
        size += max(2, 16 - size)
    if size != 16:
        return False
    if ipv4 is not None:
        if ipv4.endswith("."):
            return False
        return _ipv4_family(ipv4) == (_IPV4, 4)
    return True


@functools.lru_cache(maxsize=256)
def _is_ip_address(host: str) -> bool:
    """True if Chromium's URL canonicaliser would call ``host`` an IPv4 or IPv6 address."""
    family, _ = _ipv4_family(host)
    if family != _NEUTRAL:
        return family == _IPV4
    return _is_ipv6_literal(host)


# --------------------------------------------------------------------------------------------
# Manifest loading

_JSON_STRING_OR_COMMENT: Final = re.compile(r'"(?:[^"\\]|\\.)*"|//[^\n]*|/\*.*?\*/', re.S)


def _strip_comment(match: re.Match[str]) -> str:
    text = match.group()
    return text if text[0] == '"' else " "


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not allowed in JSON")


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number out of range: {text}")
    return value


def _parse_json(text: str) -> object:
    """Parse manifest JSON the way Chrome's reader does: BOM and // /* */ comments allowed.

    :raises ManifestError: if the text is not valid JSON.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    if "/" in text:
        text = _JSON_STRING_OR_COMMENT.sub(_strip_comment, text)
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=_parse_float)
    except RecursionError:
        raise ManifestError(f"{_MANIFEST_BAD_JSON}  Too much nesting.") from None
    except ValueError as exc:  # json.JSONDecodeError, and the hooks above
        raise ManifestError(f"{_MANIFEST_BAD_JSON}  {exc}") from None


def _decode(raw: bytes) -> object:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{_MANIFEST_BAD_JSON}  {exc}") from None
    return _parse_json(text)


def _read_manifest_file(path: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> object:
    """Read ``path`` (a manifest.json, or an App directory containing one).

    :raises ManifestError: if it is missing, not a regular file, unreadable or not JSON.
    """
    try:
        name = os.fspath(path)
        info = os.stat(name)
        if stat.S_ISDIR(info.st_mode):
            if isinstance(name, bytes):
                name = os.path.join(name, b"manifest.json")
            else:
                name = os.path.join(name, "manifest.json")
            info = os.stat(name)
        # Refuse FIFOs, devices and the like: reading /dev/zero would never end.
        if not stat.S_ISREG(info.st_mode):
            raise ManifestError(f"{_MANIFEST_UNREADABLE}: {name!r} is not a regular file")
        with open(name, "rb") as f:
            raw = f.read()
    except (OSError, ValueError) as exc:  # ValueError: NUL byte or unencodable path
        if isinstance(exc, ManifestError):
            raise
        raise ManifestError(f"{_MANIFEST_UNREADABLE}: {path!r}") from exc
    return _decode(raw)


def _type_name(value: object) -> str:
    """base::Value::GetTypeName for JSON values; the Python type name otherwise."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "dictionary"
    if isinstance(value, (list, tuple)):
        return "list"
    return type(value).__name__


def _type_error(path: str, expected: str, value: object) -> ManifestError:
    return ManifestError(f"Error at key '{path}': expected {expected}, got {_type_name(value)}")


def _json_repr(value: object) -> str:
    """base::JSONWriter-like rendering of a rejected legacy rule, for the error message."""
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError):
        return repr(value)


# --------------------------------------------------------------------------------------------
# The permission object

# ports allowed for one host: None = any port, else a frozenset of ports 1..65535.
_Ports = frozenset[int] | None
# per op: (ports of any-host entries, exact host -> ports, domain -> ports, ("." + domain, ...))
_OpRules = tuple[_Ports, dict[str, _Ports], dict[str, _Ports], tuple[str, ...]]


def _add_port(table: dict[str, _Ports], host: str, port: int) -> None:
    if port == 0:
        table[host] = None
        return
    old = table.get(host, _NOTHING)
    if old is not None:
        table[host] = old | {port}


def _compile(entries: Iterable[_Entry]) -> dict[str, _OpRules]:
    """Precompute, per op, the lookup tables :meth:`SocketsPermission.allows` uses."""
    any_host: dict[str, _Ports] = {}
    exact: dict[str, dict[str, _Ports]] = {}
    domains: dict[str, dict[str, _Ports]] = {}
    ops: set[str] = set()
    for e in entries:
        ops.add(e.op)
        if e.subdomains and not e.host:
            _add_port(any_host, e.op, e.port)
            continue
        # Chrome compares the entry host with the request host first, for every kind of
        # entry: that is how "*.example.com" matches "example.com".
        _add_port(exact.setdefault(e.op, {}), e.host, e.port)
        if e.subdomains:
            _add_port(domains.setdefault(e.op, {}), e.host, e.port)
    rules: dict[str, _OpRules] = {}
    for op in ops:
        op_domains = domains.get(op, {})
        suffixes = tuple("." + domain for domain in op_domains)
        rules[op] = (any_host.get(op, _NOTHING), exact.get(op, {}), op_domains, suffixes)
    return rules


def _match_domain(domains: dict[str, _Ports], host: str, port: int) -> bool:
    """Domain-wildcard step of SocketPermissionEntry::Check for an already lower-cased host."""
    # A domain D matches when host == <one or more chars> "." D: try every dot but a leading one.
    dot = host.find(".", 1)
    while dot != -1:
        ports = domains.get(host[dot + 1 :], _NOTHING)
        if ports is None or port in ports:
            # Only now pay for the IP test: "do not wildcard part of an IP address".
            return not _is_ip_address(host)
        dot = host.find(".", dot + 1)
    return False


class SocketsPermission:
    """What an App's ``"sockets"`` manifest key allows (spec §9), checked like Chrome does.

    ``SocketsPermission(value)`` parses the *value* of the ``"sockets"`` key: a dict with the
    optional sections ``"udp"`` (``"bind"``, ``"send"``, ``"multicastMembership"``), ``"tcp"``
    (``"connect"``) and ``"tcpServer"`` (``"listen"``), each field a pattern string or a list
    of them.  Patterns follow Chrome's parser exactly, quirks included (see the module
    docstring).  An empty list grants nothing; a missing section or field denies that
    operation.

    Unknown keys, at the top level (``{"foo": 1}``) or inside a section
    (``{"udp": {"sendTo": ":53"}}``), are **ignored**, as Chrome's schema code ignores them;
    they can only ever grant less than intended.

    Instances are immutable, hashable and compare equal when :attr:`entries` and
    :attr:`unrestricted` are equal.  Other constructors: :meth:`from_manifest` (a whole
    manifest), :meth:`from_legacy` (the deprecated ``"socket"`` permission) and
    :meth:`allow_all` (no manifest at all).

    :raises ManifestError: if ``value`` is not a dict, a section is not a dict, a field is not
        a string or a list of strings (these type errors are reported first, naming the key
        path), or a pattern is invalid (``Invalid host:port pattern '<pattern>'``, the first
        one in the order udp.bind, udp.send, udp.multicastMembership, tcp.connect,
        tcpServer.listen).  Non-JSON Python objects in ``value`` are reported the same way.
    """

    __slots__ = ("_entries", "_rules", "_unrestricted")

    _entries: tuple[tuple[str, str], ...]
    _rules: dict[str, _OpRules]
    _unrestricted: bool

    def __init__(self, value: object) -> None:
        if not isinstance(value, Mapping):
            raise _type_error("sockets", "a dictionary", value)
        # Pass 1, the schema: all type errors before any pattern error, like Chrome.
        fields: list[tuple[str, tuple[str, ...]]] = []
        for section, members in _SCHEMA:
            section_value = value.get(section, _MISSING)
            if section_value is _MISSING:
                continue
            path = "sockets." + section
            if not isinstance(section_value, Mapping):
                raise _type_error(path, "a dictionary", section_value)
            for key, op in members:
                patterns = section_value.get(key, _MISSING)
                if patterns is _MISSING:
                    continue
                fields.append((op, _check_patterns(f"{path}.{key}", patterns)))
        # Pass 2, the patterns.
        entries: list[_Entry] = []
        for op, patterns in fields:
            for pattern in patterns:
                entry = _parse_tokens(op, _split(pattern))
                if entry is None:
                    raise ManifestError(f"Invalid host:port pattern '{pattern}'")
                entries.append(entry)
        self._setup(entries, unrestricted=False)

    @classmethod
    def _new(cls, entries: Iterable[_Entry], *, unrestricted: bool) -> SocketsPermission:
        self = cls.__new__(cls)
        self._setup(entries, unrestricted=unrestricted)
        return self

    def _setup(self, entries: Iterable[_Entry], *, unrestricted: bool) -> None:
        unique = set(entries)
        self._unrestricted = unrestricted
        self._rules = _compile(unique)
        self._entries = tuple(
            sorted(((e.op, e.pattern()) for e in unique), key=lambda p: (_OP_ORDER[p[0]], p[1]))
        )

    # -- constructors ------------------------------------------------------------------------

    @classmethod
    def allow_all(cls) -> SocketsPermission:
        """The permission of an App without a manifest: every operation on every address."""
        return _ALLOW_ALL

    @classmethod
    def from_manifest(cls, manifest: object) -> SocketsPermission:
        """Parse the ``"sockets"`` key of a whole Chrome App manifest.

        ``manifest`` may be the manifest as a dict; JSON text (a ``str`` whose first
        non-whitespace character is ``{``); UTF-8 ``bytes``; or a path (``str`` or
        :class:`os.PathLike`) to ``manifest.json`` or to the App directory containing it.  JSON
        is read like Chrome reads manifests: a UTF-8 BOM and ``//`` / ``/* */`` comments are
        accepted, duplicate keys keep the last value, and NaN, Infinity and numbers beyond a
        double are rejected; Chrome's rarer extensions (``\\x`` escapes, raw newlines in
        strings) are not supported, and trailing commas are rejected.  Without a ``"sockets"``
        key everything is denied.  Other keys, including the legacy
        ``"permissions": [{"socket": [...]}]``, are not looked at (see :meth:`from_legacy`).

        :raises ManifestError: if the file is missing or unreadable, the text is not valid
            JSON, the manifest is not a JSON object (also for ``None``, numbers, booleans and
            lists passed directly), or its ``"sockets"`` value is invalid.
        :raises TypeError: if ``manifest`` is a Python object that is neither JSON-like nor
            a path (e.g. a set).
        """
        data: object
        if isinstance(manifest, Mapping):
            data = manifest
        elif isinstance(manifest, (bytes, bytearray)):
            data = _decode(bytes(manifest))
        elif isinstance(manifest, str):
            if manifest.lstrip(_JSON_WS + "\ufeff").startswith("{"):
                data = _parse_json(manifest)
            else:
                data = _read_manifest_file(manifest)
        elif isinstance(manifest, os.PathLike):
            data = _read_manifest_file(manifest)
        elif manifest is None or isinstance(manifest, (bool, int, float, list, tuple)):
            raise ManifestError(_MANIFEST_NOT_DICT)
        else:
            raise TypeError(
                "manifest must be a dict, JSON text, bytes or a path, "
                f"not {type(manifest).__name__}"
            )
        if not isinstance(data, Mapping):
            raise ManifestError(_MANIFEST_NOT_DICT)
        sockets = data.get("sockets", _MISSING)
        if sockets is _MISSING:
            return _DENY_ALL
        return cls(sockets)

    @classmethod
    def from_legacy(cls, rules: object) -> SocketsPermission:
        """Parse the deprecated ``"socket"`` permission: a list of ``type[:host[:port]]`` rules.

        Types are ``tcp-connect``, ``tcp-listen``, ``udp-bind``, ``udp-send-to``,
        ``udp-multicast-membership``, ``resolve-host``, ``resolve-proxy`` and
        ``network-state``; the last four take no host or port at all (``"resolve-host:"`` is
        invalid).  In :attr:`entries` and :meth:`allows` the address types use the
        ``"sockets"`` op names (``tcp-connect`` -> ``"tcp.connect"``, ``tcp-listen`` ->
        ``"tcpServer.listen"``, ``udp-bind`` -> ``"udp.bind"``, ``udp-send-to`` ->
        ``"udp.send"``, ``udp-multicast-membership`` -> ``"udp.multicastMembership"``), and the
        other three keep their legacy names (:data:`LEGACY_OPS`).  So ``["tcp-connect:a:80"]``
        equals ``{"tcp": {"connect": "a:80"}}``.  ``None`` means an empty list.

        :raises ManifestError: ``Cannot parse the permission list. It's not a list.`` if
            ``rules`` is not a list, or ``Cannot parse an item from the permission list:
            <item as JSON>`` for the first invalid rule.
        """
        if rules is None:
            return _DENY_ALL
        if not isinstance(rules, (list, tuple)):
            raise ManifestError(_LEGACY_NOT_LIST)
        entries: list[_Entry] = []
        for rule in rules:
            entry = None
            if isinstance(rule, str):
                tokens = _split(rule)
                op = _LEGACY_TYPES.get(tokens[0]) if tokens else None
                if op is not None:
                    entry = _parse_tokens(op, tokens[1:])
            if entry is None:
                raise ManifestError(_LEGACY_BAD_ITEM + _json_repr(rule))
            entries.append(entry)
        return cls._new(entries, unrestricted=False)

    # -- queries -----------------------------------------------------------------------------

    @property
    def unrestricted(self) -> bool:
        """True for :meth:`allow_all`: every check succeeds and :attr:`entries` is empty."""
        return self._unrestricted

    @property
    def entries(self) -> tuple[tuple[str, str], ...]:
        """The parsed entries as ``(op, canonical pattern)`` pairs, duplicates collapsed.

        The canonical pattern is Chrome's ``host:port`` form: ``*`` for any host,
        ``*.<domain>`` for a domain and its subdomains, else the exact lower-cased host; ``*``
        or the decimal port (``""`` -> ``"*:*"``, ``"*.ExAmPlE.cOm"`` -> ``"*.example.com:*"``,
        ``":99"`` -> ``"*:99"``).  Ops without an address (``udp.multicastMembership`` and the
        legacy ``resolve-host``/``resolve-proxy``/``network-state``) have ``""``.  Sorted by op
        in :data:`OPS` then :data:`LEGACY_OPS` order, then by pattern (string order), so equal
        permissions list equal entries.
        """
        return self._entries

    def allows(self, op: str, host: str, port: int) -> bool:
        """Whether the manifest allows ``op`` on ``host``:``port`` (spec §9.3).

        ``host`` is matched exactly as the App passed it (ASCII case-insensitively; no DNS, no
        trailing-dot or IP normalisation), so ``"127.0.0.1"`` and ``"localhost"`` are different
        hosts.  ``op`` is one of :data:`OPS` or :data:`LEGACY_OPS`.  For
        ``udp.multicastMembership`` Chrome always checks host ``"*"`` and port 0; any values
        work the same here.

        :raises ValueError: if ``op`` is unknown, or ``port`` is outside 0..65535 (Chrome
            would have wrapped it to 16 bits; callers must validate ports first).
        :raises TypeError: if ``host`` is not a ``str`` or ``port`` not an ``int``.
        """
        rules = self._rules.get(op)
        if rules is None and op not in _OP_ORDER:
            raise ValueError(f"op must be one of {', '.join(_ALL_OPS)}; got {op!r}")
        if not isinstance(host, str):
            raise TypeError(f"host must be a str, not {type(host).__name__}")
        if not isinstance(port, int):
            raise TypeError(f"port must be an int, not {type(port).__name__}")
        if not 0 <= port <= 0xFFFF:
            raise ValueError(f"port must be in 0..65535, got {port}")
        if rules is None:
            return self._unrestricted
        any_host, exact, domains, suffixes = rules
        if any_host is None or port in any_host:
            return True
        lhost = host.lower() if host.isascii() else host.translate(_LOWER)
        if exact:
            ports = exact.get(lhost, _NOTHING)
            if ports is None or port in ports:
                return True
        # One C-level endswith() rules out most hosts before any per-dot work.
        if suffixes and lhost.endswith(suffixes):
            return _match_domain(domains, lhost, port)
        return False

    # -- dunder ------------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SocketsPermission):
            return NotImplemented
        return self._unrestricted == other._unrestricted and self._entries == other._entries

    def __hash__(self) -> int:
        return hash((self._unrestricted, self._entries))

    def __repr__(self) -> str:
        if self._unrestricted:
            return "SocketsPermission.allow_all()"
        return f"<SocketsPermission entries={self._entries!r}>"


def _check_patterns(path: str, value: object) -> tuple[str, ...]:
    """Schema check of one SocketHostPatterns value: a string or a list of strings.

    :raises ManifestError: naming ``path`` (and the index) on a wrong type.
    """
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, (list, tuple)):
        raise _type_error(path, "a string or a list of strings", value)
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise _type_error(f"{path}[{index}]", "a string", item)
    return tuple(value)


_ALLOW_ALL: Final = SocketsPermission._new((), unrestricted=True)
_DENY_ALL: Final = SocketsPermission._new((), unrestricted=False)


def load_permission(manifest: object) -> SocketsPermission:
    """The permission an App runs with, from the ``manifest=`` argument it was given.

    ``None`` (no manifest) allows everything; a :class:`SocketsPermission` is used as is;
    anything else goes to :meth:`SocketsPermission.from_manifest`.

    :raises TypeError: if ``manifest`` is not None, a SocketsPermission, a dict, a str, bytes
        or a path.
    :raises ManifestError: if the manifest is invalid (see
        :meth:`SocketsPermission.from_manifest`).
    """
    if manifest is None:
        return _ALLOW_ALL
    if isinstance(manifest, SocketsPermission):
        return manifest
    if isinstance(manifest, (Mapping, str, bytes, bytearray, os.PathLike)):
        return SocketsPermission.from_manifest(manifest)
    raise TypeError(
        "manifest must be None, a SocketsPermission, a manifest dict, JSON text, bytes or a "
        f"path, not {type(manifest).__name__}"
    )
