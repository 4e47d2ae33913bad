"""Manifest permissions enforced end to end through App(manifest=...) on loopback (spec §3.2,
§9): every gated sockets.udp operation, allowed and denied, in Chrome's check order, with
Chrome's message, and without touching the network when denied."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import fastsockets
import pytest
from fsutil import call, make_udp, run_in_netns

DENIED = {"message": "App does not have permission"}
NOT_FOUND = {"message": "Socket not found"}


def _app(manifest: Any) -> fastsockets.App:
    return fastsockets.App(manifest=manifest)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_manifest_is_unrestricted() -> None:
    with fastsockets.App() as app:
        assert app.permission.unrestricted
        sid = make_udp(app)
        assert call(app, app.sockets.udp.bind, sid, "127.0.0.1", 0).args == (0,)


def test_empty_manifest_denies_every_gated_operation() -> None:
    with _app({}) as app:
        udp = app.sockets.udp
        sid = make_udp(app)
        for fn, args in [(udp.bind, (sid, "127.0.0.1", 0)),
                         (udp.send, (sid, b"x", "127.0.0.1", 9)),
                         (udp.joinGroup, (sid, "239.1.2.3")),
                         (udp.leaveGroup, (sid, "239.1.2.3")),
                         (udp.getJoinedGroups, (sid,))]:
            r = call(app, fn, *args)
            assert (r.args, r.last_error) == ((None,), DENIED), fn.__name__
        assert app.stats()["permission_denied"] == 5
        # Not gated: these still work (no permission in Chrome either).
        assert call(app, udp.setMulticastTimeToLive, sid, 0).args == (0,)
        assert call(app, udp.setMulticastLoopbackMode, sid, True).args == (0,)
        assert call(app, udp.getInfo, sid).value["socketId"] == sid


def test_bind_allowed_by_port_and_host_pattern() -> None:
    port = _free_port()
    with _app({"sockets": {"udp": {"bind": ["127.0.0.1:%d" % port, ":1"]}}}) as app:
        udp = app.sockets.udp
        ok = make_udp(app)
        assert call(app, udp.bind, ok, "127.0.0.1", port).args == (0,)
        other = make_udp(app)
        for address, p in [("127.0.0.1", 0), ("0.0.0.0", port), ("localhost", port),
                           ("127.0.0.2", port)]:
            r = call(app, udp.bind, other, address, p)
            assert (r.args, r.last_error) == ((None,), DENIED), (address, p)
        # the denied binds handed nothing to the OS: multicast options are still open
        assert call(app, udp.setMulticastTimeToLive, other, 0).args == (0,)


def test_bind_port_zero_needs_an_any_port_pattern() -> None:
    with _app({"sockets": {"udp": {"bind": "127.0.0.1:*"}}}) as app:
        sid = make_udp(app)
        assert call(app, app.sockets.udp.bind, sid, "127.0.0.1", 0).args == (0,)
    with _app({"sockets": {"udp": {"bind": "127.0.0.1:5000"}}}) as app:
        sid = make_udp(app)
        assert call(app, app.sockets.udp.bind, sid, "127.0.0.1", 0).last_error == DENIED


def test_send_checked_against_the_host_as_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    lookups: list[Any] = []
    real = socket.getaddrinfo

    def counting(host: Any, *a: Any, **k: Any) -> Any:
        lookups.append(host)
        return real(host, *a, **k)

    monkeypatch.setattr(socket, "getaddrinfo", counting)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        port = peer.getsockname()[1]
        manifest = {"sockets": {"udp": {"bind": "*", "send": "127.0.0.1:%d" % port}}}
        with _app(manifest) as app:
            udp = app.sockets.udp
            sid = make_udp(app)
            assert call(app, udp.bind, sid, "127.0.0.1", 0).args == (0,)
            r = call(app, udp.send, sid, b"allowed", "127.0.0.1", port)
            assert r.args == ({"resultCode": 0, "bytesSent": 7},)
            assert peer.recv(100) == b"allowed"
            before = list(lookups)
            # "localhost" is not "127.0.0.1": denied before any DNS lookup
            r = call(app, udp.send, sid, b"x", "localhost", port)
            assert (r.args, r.last_error) == ((None,), DENIED)
            r = call(app, udp.send, sid, b"x", "127.0.0.1", port + 1 if port < 65535 else 1)
            assert (r.args, r.last_error) == ((None,), DENIED)
            assert lookups == before
            assert app.stats()["permission_denied"] == 2
            assert app.stats()["write_quota_used"] == 0  # denied sends returned their quota


def test_send_to_hostname_allowed_by_domain_wildcard() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(2)
        port = peer.getsockname()[1]
        with _app({"sockets": {"udp": {"bind": "", "send": "*.LOCALHOST"}}}) as app:
            udp = app.sockets.udp
            sid = make_udp(app)
            assert call(app, udp.bind, sid, "127.0.0.1", 0).args == (0,)
            # the bare domain matches a subdomain pattern (§9.3), case-insensitively
            r = call(app, udp.send, sid, b"named", "LocalHost", port, "ipv4")
            assert r.args == ({"resultCode": 0, "bytesSent": 5},)
            assert peer.recv(100) == b"named"


def test_check_order_quota_then_socket_then_permission() -> None:
    with fastsockets.App(manifest={}, write_quota=10) as app:
        udp = app.sockets.udp
        r = call(app, udp.send, 999, bytes(11), "127.0.0.1", 9)
        assert r.last_error == {"message": "Exceeded write quota."}
        r = call(app, udp.send, 999, bytes(1), "127.0.0.1", 9)
        assert r.last_error == NOT_FOUND
        r = call(app, udp.bind, 999, "127.0.0.1", 0)
        assert r.last_error == NOT_FOUND
        r = call(app, udp.joinGroup, 999, "239.1.2.3")
        assert r.last_error == NOT_FOUND
        sid = make_udp(app)
        assert call(app, udp.send, sid, bytes(1), "127.0.0.1", 9).last_error == DENIED
        # permission comes before "already bound" / "not an IP" for bind
        assert call(app, udp.bind, sid, "not-an-ip", 0).last_error == DENIED


def test_multicast_membership_allowed_in_a_namespace() -> None:
    res = run_in_netns("multicast_permission")
    assert res["bind"] == [[0], None]
    assert res["join"] == [[0], None]
    assert res["groups"] == [[["239.255.42.98"]], None]
    assert res["leave"] == [[0], None]
    assert res["denied"] == 0


def test_multicast_star_pattern_is_rejected_at_load() -> None:
    with pytest.raises(fastsockets.ManifestError, match=r"Invalid host:port pattern '\*'"):
        fastsockets.App(manifest={"sockets": {"udp": {"multicastMembership": "*"}}})


@pytest.mark.parametrize("form", ["dict", "json", "path", "dir", "permission"])
def test_app_accepts_every_manifest_form(tmp_path: Path, form: str) -> None:
    manifest = {"name": "x", "sockets": {"udp": {"bind": ":*"}}}
    arg: Any
    if form == "dict":
        arg = manifest
    elif form == "json":
        arg = json.dumps(manifest)
    elif form in ("path", "dir"):
        (tmp_path / "manifest.json").write_text(json.dumps(manifest))
        arg = tmp_path / "manifest.json" if form == "path" else str(tmp_path)
    else:
        arg = fastsockets.SocketsPermission(manifest["sockets"])
    with fastsockets.App(manifest=arg) as app:
        udp = app.sockets.udp
        sid = make_udp(app)
        assert call(app, udp.bind, sid, "127.0.0.1", 0).args == (0,)
        sid2 = make_udp(app)
        call(app, udp.bind, sid2, "127.0.0.1", 0)
        assert call(app, udp.send, sid2, b"x", "127.0.0.1", 9).last_error == DENIED


def test_invalid_manifests_refuse_to_load(tmp_path: Path) -> None:
    with pytest.raises(fastsockets.ManifestError):
        fastsockets.App(manifest={"sockets": {"udp": {"bind": 80}}})
    with pytest.raises(fastsockets.ManifestError):
        fastsockets.App(manifest='{"sockets": ')
    with pytest.raises(fastsockets.ManifestError):
        fastsockets.App(manifest=tmp_path / "missing.json")
    with pytest.raises(TypeError, match="manifest"):
        fastsockets.App(manifest=42)
