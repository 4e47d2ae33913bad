"""One UDP receiver per process, for the receive benchmark.

Run one as ``python -m fastsockets._bench.receivers KIND --port 0 --count N --seconds S`` (the
runner runs this file by path, so it also works from a checkout whose extension is not built).
KIND is one of ``KINDS``. The receiver binds 127.0.0.1, prints ``READY port=P`` once it is ready
for datagrams, receives until it has N of them, or S seconds have passed since READY, or no
datagram has come for ``--idle`` seconds after the first one, and then prints one JSON line::

    {"kind", "impl", "port", "received", "window_dgrams", "cpu_s", "wall_s", "wakeups",
     "runq_wait_s", "stop", "sock_drops", "rcvbuf", "error", "cpu_ns", "rate", "util",
     "dgrams_per_wakeup", "runq_share"}

The measurement window opens at the first datagram and closes at the last checkpoint: every
``CHECK_EVERY`` datagrams (and at the N-th) the receiver notes its CPU time
(``getrusage(RUSAGE_SELF)``, user + sys) and ``perf_counter()``. ``window_dgrams`` datagrams were
handled inside the window, so ``cpu_ns = cpu_s / window_dgrams`` and ``rate = window_dgrams /
wall_s``; ``util = cpu_s / wall_s`` says whether the receiver was saturated (near 1) or partly
idle, and ``wakeups`` (voluntary context switches in the window, i.e. times the receiver
blocked) gives ``dgrams_per_wakeup``: a receiver that is partly idle pays more wake-ups per
datagram than a saturated one, so compare like with like. ``runq_wait_s`` (from
/proc/self/schedstat, first datagram to the end) is the time the receiver was ready to run but
another task had its CPU: well above zero, the machine was busy and the run is noisy. Import, loop creation and binding are outside the window.

Every Python receiver runs the same per-datagram code: ``n += 1`` and one comparison against the
next checkpoint. No receiver reads the payload. ``sock_drops`` is the kernel's drop counter for
the socket (last column of ``/proc/net/udp``), read before the socket is closed.

Standard library only, except the module each KIND measures.
"""

from __future__ import annotations

import argparse
import errno
import hashlib
import json
import os
import resource
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

KINDS = ("fastsockets", "asyncio", "uvloop", "aiofastnet", "python", "c-epoll", "c")
CHECK_EVERY = 2048  # datagrams between two CPU/clock checkpoints
TICK = 0.005  # seconds between two idle/deadline checks of an event loop
SLOT = 2048  # receive buffer per datagram

_getrusage = resource.getrusage
_RUSAGE_SELF = resource.RUSAGE_SELF
_perf_counter = time.perf_counter


def _cpu() -> float:
    r = _getrusage(_RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def runq_wait() -> float | None:
    """Seconds this process has spent runnable but waiting for a CPU (/proc/self/schedstat)."""
    try:
        with open("/proc/self/schedstat", encoding="ascii") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


# ---------------------------------------------------------------------------------------------
# The shared per-datagram state. Module globals, so that every receiver's hot path is the same
# two statements: `_n += 1` and `if _n >= _mark: _on_mark()`.

_n = 0
_mark = 1  # the first datagram opens the window
_count = 1
# (perf_counter, cpu, n, voluntary context switches) at the first datagram / latest checkpoint
_first: tuple[float, float, int, int] | None = None
_last: tuple[float, float, int, int] | None = None
_runq_first: float | None = None
_stop_reason: str | None = None
_stop_cb: Callable[[], object] = lambda: None
_deadline = 0.0
_idle = 0.5
_seen_n = 0
_seen_t = 0.0


def _on_mark() -> None:
    global _mark, _first, _last, _stop_reason, _runq_first
    t = _perf_counter()
    r = _getrusage(_RUSAGE_SELF)
    n = _n
    if _first is None:
        _first = (t, r.ru_utime + r.ru_stime, n, r.ru_nvcsw)
        _runq_first = runq_wait()
    else:
        _last = (t, r.ru_utime + r.ru_stime, n, r.ru_nvcsw)
    if n >= _count:
        _mark = sys.maxsize
        _stop_reason = "count"
        _stop_cb()
    else:
        _mark = min(n + CHECK_EVERY, _count)


def _should_stop(now: float) -> bool:
    """Idle and deadline check, called every TICK by an idle or busy receiver."""
    global _seen_n, _seen_t, _stop_reason
    if _stop_reason is not None:
        return True
    if _n != _seen_n:
        _seen_n = _n
        _seen_t = now
    elif _first is not None and now - _seen_t >= _idle:
        _stop_reason = "idle"
        return True
    if now >= _deadline:
        _stop_reason = "time"
        return True
    return False


def _start_clock(seconds: float, idle: float, count: int) -> None:
    global _deadline, _idle, _seen_t, _count
    _count = count
    _idle = idle
    _seen_t = _perf_counter()
    _deadline = _seen_t + seconds


def _ready(port: int) -> None:
    print(f"READY port={port}", flush=True)


# ---------------------------------------------------------------------------------------------
# Socket helpers


def sock_drops(port: int) -> int | None:
    """The kernel's drop counter of the UDP socket bound to 127.0.0.1:port, or None."""
    try:
        with open("/proc/net/udp", encoding="ascii") as f:
            next(f)
            for line in f:
                fields = line.split()
                addr, _, hexport = fields[1].partition(":")
                if addr == "0100007F" and int(hexport, 16) == port:
                    return int(fields[-1])
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return None


def _bound_socket(rcvbuf: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if rcvbuf > 0:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.bind(("127.0.0.1", 0))
    return sock


# ---------------------------------------------------------------------------------------------
# The receivers. Each returns a dict of what it knows beyond the shared state.


def run_asyncio_family(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """asyncio's default loop, uvloop, or aiofastnet's transport on uvloop."""
    import asyncio

    if kind == "asyncio":
        loop = asyncio.new_event_loop()
    else:
        import uvloop

        loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)

    class Proto(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: Any) -> None:
            global _n
            _n += 1
            if _n >= _mark:
                _on_mark()

    sock = _bound_socket(args.rcvbuf)
    port = sock.getsockname()[1]
    rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    if kind == "aiofastnet":
        import aiofastnet

        coro = aiofastnet.create_datagram_endpoint(loop, Proto, sock=sock)
    else:
        coro = loop.create_datagram_endpoint(Proto, sock=sock)
    transport, _ = loop.run_until_complete(coro)
    impl = f"{type(loop).__module__}.{type(loop).__qualname__} + " \
           f"{type(transport).__module__}.{type(transport).__qualname__}"

    global _stop_cb
    _stop_cb = loop.stop

    def tick() -> None:
        if _should_stop(_perf_counter()):
            loop.stop()
        else:
            loop.call_later(TICK, tick)

    _start_clock(args.seconds, args.idle, args.count)
    loop.call_soon(_ready, port)
    loop.call_later(TICK, tick)
    loop.run_forever()
    drops = sock_drops(port)
    transport.close()
    loop.run_until_complete(asyncio.sleep(0))
    loop.close()
    return {"impl": impl, "port": port, "sock_drops": drops, "rcvbuf": rcvbuf}


def run_fastsockets(args: argparse.Namespace) -> dict[str, Any]:
    import fastsockets

    app = fastsockets.App(udp_rcvbuf=args.rcvbuf or None)
    udp = app.sockets.udp
    setup: dict[str, Any] = {}

    def on_receive(info: Any) -> None:
        global _n
        _n += 1
        if _n >= _mark:
            _on_mark()

    def got_info(info: Any) -> None:
        setup["port"] = info["localPort"]
        app.stop()

    def bound(result: int) -> None:
        if result < 0:
            setup["error"] = f"bind failed: {result} {app.runtime.lastError!r}"
            app.stop()
            return
        udp.getInfo(setup["socketId"], got_info)

    def created(create_info: Any) -> None:
        setup["socketId"] = create_info["socketId"]
        udp.bind(create_info["socketId"], "127.0.0.1", 0, bound)

    udp.onReceive.addListener(on_receive)
    udp.create({"bufferSize": max(SLOT, args.size)}, created)
    app.run(timeout=10.0)
    if "error" in setup or "port" not in setup:
        raise RuntimeError(setup.get("error", "fastsockets: no port after create/bind/getInfo"))
    port = setup["port"]
    rcvbuf = (udp.stats(setup["socketId"]) or {}).get("rcvbuf")

    global _stop_cb
    _stop_cb = app.stop
    _start_clock(args.seconds, args.idle, args.count)
    _ready(port)
    while not _should_stop(_perf_counter()):
        app.run(timeout=TICK)
    drops = sock_drops(port)
    version = getattr(fastsockets, "__version__", "?")
    impl = f"fastsockets {version} ({fastsockets.backend()})"
    udp.close(setup["socketId"], lambda *a: app.stop())
    app.run(timeout=1.0)
    return {"impl": impl, "port": port, "sock_drops": drops, "rcvbuf": rcvbuf}


def run_blocking(args: argparse.Namespace) -> dict[str, Any]:
    """A plain blocking `socket.recv_into` loop; SO_RCVTIMEO wakes it to check its limits."""
    global _n
    sock = _bound_socket(args.rcvbuf)
    port = sock.getsockname()[1]
    rcvbuf = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, int(TICK * 1e6)))
    buf = bytearray(max(SLOT, args.size))
    recv_into = sock.recv_into
    _start_clock(args.seconds, args.idle, args.count)
    _ready(port)
    while _stop_reason is None:
        try:
            recv_into(buf)
        except OSError as exc:  # EAGAIN from SO_RCVTIMEO: nothing for TICK seconds
            if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
                raise
            if _should_stop(_perf_counter()):
                break
            continue
        _n += 1
        if _n >= _mark:
            _on_mark()
            if _should_stop(_perf_counter()):  # the deadline, while never idle
                break
    drops = sock_drops(port)
    sock.close()
    return {"impl": f"socket.recv_into, Python {sys.version.split()[0]}", "port": port,
            "sock_drops": drops, "rcvbuf": rcvbuf}


# ---------------------------------------------------------------------------------------------
# C programs, compiled on demand


class CBuildError(RuntimeError):
    """No C compiler, or the benchmark's C program did not compile."""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    for d in (Path(base) / "fastsockets" / "bench",
              Path(tempfile.gettempdir()) / f"fastsockets-bench-{os.getuid()}"):
        try:
            d.mkdir(parents=True, exist_ok=True)
            if os.access(d, os.W_OK):
                return d
        except OSError:
            continue
    raise CBuildError("no writable cache directory for the compiled benchmark programs")


def find_compiler() -> str | None:
    cc = os.environ.get("CC")
    if cc and shutil.which(cc.split()[0]):
        return cc
    for name in ("cc", "gcc", "clang"):
        if shutil.which(name):
            return name
    return None


def build_c(name: str) -> Path:
    """Compile c/NAME.c (package data) with `cc -O2` into the cache, once per source and compiler.

    Raises CBuildError with the reason if there is no compiler or the compile fails.
    """
    src_path = Path(__file__).with_name("c") / f"{name}.c"
    try:
        source = src_path.read_bytes()
    except OSError as exc:
        raise CBuildError(f"{src_path}: {exc.strerror}") from None
    cc = find_compiler()
    if cc is None:
        raise CBuildError("no C compiler found (set CC, or install cc/gcc/clang)")
    key = hashlib.sha256(source + cc.encode()).hexdigest()[:16]
    out_dir = _cache_dir()
    exe = out_dir / f"{name}-{key}"
    if exe.is_file() and os.access(exe, os.X_OK):
        return exe
    src_copy = out_dir / f"{name}-{key}.c"
    src_copy.write_bytes(source)
    tmp = out_dir / f".{name}-{key}.{os.getpid()}"
    cmd = [*cc.split(), "-O2", "-o", str(tmp), str(src_copy)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CBuildError(f"{' '.join(cmd)}: {exc}") from None
    if proc.returncode != 0:
        raise CBuildError(f"{' '.join(cmd)} failed:\n{proc.stderr.strip()}")
    os.replace(tmp, exe)  # atomic: a concurrent build of the same source is harmless
    return exe


def exec_c_receiver(args: argparse.Namespace) -> None:
    """Replace this process with the C receiver (it keeps the CPU affinity set in main)."""
    exe = str(build_c("recv_mmsg"))
    sys.stdout.flush()
    os.execv(exe, [exe, "--port", "0", "--count", str(args.count), "--seconds",
                   str(args.seconds), "--idle", str(args.idle), "--batch", "64",
                   "--rcvbuf", str(args.rcvbuf), "--epoll", "1" if args.kind == "c-epoll" else "0"])


def python_sender(args: argparse.Namespace) -> dict[str, Any]:
    """Fallback sender when no C compiler exists: plain sendto, much slower than sendmmsg."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    payload = b"x" * args.size
    dst = ("127.0.0.1", args.port)
    sendto = sock.sendto
    sent = 0
    t0 = _perf_counter()
    deadline = t0 + args.seconds
    while sent < args.count:
        for _ in range(min(1024, args.count - sent)):
            sendto(payload, dst)
        sent += min(1024, args.count - sent)
        if _perf_counter() >= deadline:
            break
    return {"sent": sent, "seconds": _perf_counter() - t0, "calls": sent, "errors": 0}


# ---------------------------------------------------------------------------------------------


def _result(kind: str, extra: dict[str, Any], error: str | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {"kind": kind, "impl": None, "port": None, "received": _n,
                           "window_dgrams": 0, "cpu_s": 0.0, "wall_s": 0.0,
                           "stop": _stop_reason, "sock_drops": None, "rcvbuf": None,
                           "wakeups": None, "runq_wait_s": None,
                           "error": error}
    res.update(extra)
    end = _last
    if _first is not None and end is not None:
        res["window_dgrams"] = end[2] - _first[2]
        res["wall_s"] = end[0] - _first[0]
        res["cpu_s"] = end[1] - _first[1]
        res["wakeups"] = end[3] - _first[3]
        rq = runq_wait()
        if rq is not None and _runq_first is not None:
            res["runq_wait_s"] = rq - _runq_first
    return res


def with_derived(res: dict[str, Any]) -> dict[str, Any]:
    """Add cpu_ns, rate and util (None when the window is empty)."""
    w, cpu, wall = res.get("window_dgrams") or 0, res.get("cpu_s") or 0.0, res.get("wall_s") or 0.0
    res["cpu_ns"] = cpu / w * 1e9 if w > 0 else None
    res["rate"] = w / wall if w > 0 and wall > 0 else None
    res["util"] = cpu / wall if wall > 0 else None
    wk = res.get("wakeups")
    rq = res.get("runq_wait_s")
    res["runq_share"] = rq / wall if rq is not None and wall > 0 else None
    # datagrams per blocking wait; a receiver that never blocked counts as one wait
    res["dgrams_per_wakeup"] = w / max(wk, 1) if w > 0 and wk is not None else None
    return res


def _pin(cpu: int) -> None:
    if cpu >= 0 and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {cpu})
        except OSError as exc:
            print(f"warning: cannot pin to CPU {cpu}: {exc}", file=sys.stderr)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m fastsockets._bench.receivers",
                                description="One UDP receiver of the fastsockets benchmark.")
    p.add_argument("kind", choices=[*KINDS, "send"],
                   help="the receiver to run ('send' is the fallback Python sender)")
    p.add_argument("--port", type=int, default=0,
                   help="receivers bind 127.0.0.1 on an ephemeral port; 'send' sends to this port")
    p.add_argument("--count", type=int, default=1_000_000, help="stop after this many datagrams")
    p.add_argument("--seconds", type=float, default=5.0, help="stop this long after READY")
    p.add_argument("--idle", type=float, default=0.5,
                   help="stop after this long without a datagram, once one has come")
    p.add_argument("--size", type=int, default=64, help="datagram size (sender) / minimum slot")
    p.add_argument("--rcvbuf", type=int, default=0, help="SO_RCVBUF to request; 0 = kernel default")
    p.add_argument("--cpu", type=int, default=-1, help="pin this process to the CPU; -1 = no")
    a = p.parse_args(argv)
    if a.count < 1 or not 0 < a.seconds <= 600 or a.idle <= 0:
        p.error("--count must be >= 1, --seconds in (0, 600], --idle > 0")
    return a


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    _pin(args.cpu)
    kind = args.kind
    if kind == "send":
        print(json.dumps(python_sender(args)), flush=True)
        return 0
    try:
        if kind in ("c", "c-epoll"):
            exec_c_receiver(args)  # does not return
            return 1
        if kind == "fastsockets":
            extra = run_fastsockets(args)
        elif kind == "python":
            extra = run_blocking(args)
        else:
            extra = run_asyncio_family(kind, args)
    except (ImportError, CBuildError) as exc:
        print(json.dumps(with_derived(_result(kind, {}, f"unavailable: {exc}"))), flush=True)
        return 3
    except Exception as exc:  # noqa: BLE001 -- reported in the one JSON line the runner reads
        print(json.dumps(with_derived(_result(kind, {}, f"{type(exc).__name__}: {exc}"))),
              flush=True)
        return 1
    print(json.dumps(with_derived(_result(kind, extra))), flush=True)
    return 0


if __name__ == "__main__":
    if __package__ in (None, ""):
        # Run by path: do not let this directory's modules shadow top-level ones.
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    sys.exit(main())
