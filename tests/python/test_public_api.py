"""The public surface: names exported, backend reported, aliases, typing files shipped."""

from __future__ import annotations

import importlib.resources
import inspect

import fastsockets


def test_all_is_pinned() -> None:
    assert sorted(fastsockets.__all__) == sorted([
        "App", "DEFAULT_WRITE_QUOTA", "Event", "FastSocketsError", "LoopClosedError",
        "ManifestError", "RecvView", "SocketsPermission", "__version__", "backend", "errors",
        "manifest",
    ])
    for name in fastsockets.__all__:
        assert getattr(fastsockets, name) is not None


def test_backend_is_epoll_on_linux() -> None:
    import sys

    expected = {"linux": "epoll", "darwin": "kqueue"}.get(sys.platform)
    assert fastsockets.backend() in ("epoll", "kqueue", "poll")
    if expected:
        assert fastsockets.backend() == expected


def test_typing_files_are_installed() -> None:
    files = importlib.resources.files("fastsockets")
    assert files.joinpath("py.typed").is_file()
    assert files.joinpath("_sockcore.pyi").is_file()


def test_udp_functions_have_chrome_names_and_pep8_aliases(app) -> None:
    udp = app.sockets.udp
    chrome = ["create", "update", "setPaused", "bind", "send", "close", "getInfo", "getSockets",
              "joinGroup", "leaveGroup", "setMulticastTimeToLive", "setMulticastLoopbackMode",
              "getJoinedGroups", "setBroadcast"]
    for name in chrome:
        fn = getattr(udp, name)
        assert callable(fn) and fn.__doc__, name
        snake = "".join("_" + c.lower() if c.isupper() else c for c in name)
        assert getattr(udp, snake) == fn, snake
    assert udp.on_receive is udp.onReceive
    assert udp.on_receive_error is udp.onReceiveError
    ev = udp.onReceive
    assert ev.add_listener == ev.addListener and ev.has_listener == ev.hasListener
    # Chrome's argument order
    params = list(inspect.signature(udp.send).parameters)
    assert params == ["socketId", "data", "address", "port", "dnsQueryType", "callback"]
    assert list(inspect.signature(udp.bind).parameters) == ["socketId", "address", "port", "callback"]


def test_c_core_does_not_include_python() -> None:
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    offenders = [p.name for p in src.glob("*.c") if "Python.h" in p.read_text()]
    assert offenders == []


def test_pure_modules_load_without_the_extension() -> None:
    """manifest, errors and registry import no compiled code (style guide §1)."""
    import subprocess
    import sys

    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.endswith('_sockcore'): raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import fastsockets, fastsockets.manifest, fastsockets.errors, fastsockets.registry\n"
        "p = fastsockets.SocketsPermission({'udp': {'bind': ':8899'}})\n"
        "assert p.allows('udp.bind', '127.0.0.1', 8899)\n"
        "assert 'fastsockets._sockcore' not in sys.modules\n"
        "try:\n"
        "    fastsockets.App\n"
        "except ImportError as e:\n"
        "    assert 'compiled core' in str(e), e\n"
        "else:\n"
        "    raise SystemExit('App imported without the extension')\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_extension_stub_matches_the_extension() -> None:
    """Every name the .pyi promises exists at run time (dunders aside), and the reverse for
    public names, so the stub cannot drift from _sockcore."""
    import ast

    from fastsockets import _sockcore

    stub = importlib.resources.files("fastsockets").joinpath("_sockcore.pyi").read_text()
    tree = ast.parse(stub)
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            cls = getattr(_sockcore, node.name)
            promised = set()
            for item in node.body:
                if isinstance(item, ast.FunctionDef):
                    promised.add(item.name)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    promised.add(item.target.id)
            for name in promised:
                if not (name.startswith("__") and name.endswith("__")):
                    assert hasattr(cls, name), "%s.%s is in the stub but not in the extension" % (node.name, name)
            public = {n for n in dir(cls) if not n.startswith("_")}
            assert public <= promised, "%s has names missing from the stub: %s" % (node.name, sorted(public - promised))
        elif isinstance(node, (ast.FunctionDef, ast.AnnAssign)):
            name = node.name if isinstance(node, ast.FunctionDef) else node.target.id  # type: ignore[union-attr]
            assert hasattr(_sockcore, name), name
