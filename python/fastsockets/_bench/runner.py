"""Run the UDP receive benchmark: every receiver against the same sender, K interleaved rounds.

For each (round, receiver): start ``receivers.py KIND`` pinned to the receive core, wait for its
``READY port=P`` line, run the C ``send_flood`` (sendmmsg, 64 per call) pinned to the other core
for at most ``count`` datagrams and ``seconds`` seconds, then read the receiver's JSON line.
Rounds rotate the receiver order, so a slow drift of the machine spreads over all receivers.
Each figure in the table is the median over the rounds; the ratios are ratios of those medians.

Everything is bounded: the sender by count and time, each receiver by count, time and idleness,
and the runner kills (by PID) a child that outlives its budget.
"""

from __future__ import annotations

import json
import os
import platform
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import receivers

RECEIVERS_PY = Path(receivers.__file__).resolve()
DEFAULT_KINDS: tuple[str, ...] = receivers.KINDS
LABELS = {
    "fastsockets": "fastsockets",
    "asyncio": "asyncio DatagramProtocol",
    "uvloop": "uvloop DatagramProtocol",
    "aiofastnet": "aiofastnet on uvloop",
    "python": "blocking socket.recv_into",
    "c-epoll": "C epoll + recvmmsg x64",
    "c": "C recvmmsg x64 (floor)",
}
READY_TIMEOUT = 30.0  # imports + loop creation + bind
BUSY_SHARE = 0.05  # runq wait / wall above which a row is flagged as disturbed


@dataclass
class Options:
    count: int = 2_000_000
    seconds: float = 3.0
    repeat: int = 3
    kinds: Sequence[str] = DEFAULT_KINDS
    size: int = 64
    rcvbuf: int = 4 * 1024 * 1024
    rate: float = 0.0
    gso: bool = False
    idle: float = 0.5
    progress: bool = True


@dataclass
class Summary:
    kind: str
    runs: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def median(self, key: str) -> float | None:
        vals = [r[key] for r in self.runs if r.get(key) is not None and not r.get("error")]
        return statistics.median(vals) if vals else None


def _cpus() -> tuple[int, int] | None:
    """(receiver CPU, sender CPU), or None when this process may use fewer than two."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    return (cpus[0], cpus[1]) if len(cpus) >= 2 else None


def _softnet_dropped() -> int | None:
    """Sum of the 'dropped' column of /proc/net/softnet_stat (input backlog overflow)."""
    try:
        with open("/proc/net/softnet_stat", encoding="ascii") as f:
            return sum(int(line.split()[1], 16) for line in f if line.strip())
    except (OSError, ValueError, IndexError):
        return None


def _read_line(proc: subprocess.Popen[bytes], deadline: float, buf: bytearray) -> str | None:
    """Next line of proc's stdout before the deadline, or None on EOF/time-out."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    while b"\n" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return None
        chunk = os.read(fd, 65536)
        if not chunk:
            return None
        buf += chunk
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line.decode(errors="replace").strip()


def _stop(proc: subprocess.Popen[Any]) -> None:
    """Terminate a child this runner started, by its PID, and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=3)


def _sender_cmd(sender: Path | None, port: int, opts: Options, cpu: int | None) -> list[str]:
    if sender is not None:
        cmd = [str(sender), "--port", str(port), "--count", str(opts.count), "--size",
               str(opts.size), "--seconds", str(opts.seconds), "--batch", "64"]
        if opts.rate > 0:
            cmd += ["--rate", str(opts.rate)]
        if opts.gso:
            cmd += ["--gso", "1"]
    else:
        cmd = [sys.executable, str(RECEIVERS_PY), "send", "--port", str(port), "--count",
               str(opts.count), "--size", str(opts.size), "--seconds", str(opts.seconds)]
    if cpu is not None:
        cmd += ["--cpu", str(cpu)]
    return cmd


def run_one(kind: str, opts: Options, sender: Path | None) -> dict[str, Any]:
    """One receiver process against one sender run; returns the receiver's JSON plus the sender's."""
    cpus = _cpus()
    recv_seconds = opts.seconds + 2.0  # READY to sender start, plus the sender's budget
    cmd = [sys.executable, str(RECEIVERS_PY), kind, "--count", str(opts.count), "--seconds",
           str(recv_seconds), "--idle", str(opts.idle), "--size", str(opts.size),
           "--rcvbuf", str(opts.rcvbuf)]
    if cpus:
        cmd += ["--cpu", str(cpus[0])]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        buf = bytearray()
        try:
            line = _read_line(proc, time.monotonic() + READY_TIMEOUT, buf)
            if line is None or not line.startswith("READY port="):
                _stop(proc)
                err.seek(0)
                tail = err.read().decode(errors="replace").strip().splitlines()[-3:]
                res = _parse_result(line, kind)
                if res.get("error") is None:
                    res["error"] = f"no READY line ({line!r}); stderr: {' | '.join(tail)}"
                return res
            port = int(line.split("=", 1)[1])
            drops0 = _softnet_dropped()
            scmd = _sender_cmd(sender, port, opts, cpus[1] if cpus else None)
            try:
                s = subprocess.run(scmd, capture_output=True, text=True,
                                   timeout=opts.seconds + 10, stdin=subprocess.DEVNULL,
                                   check=False)
                sent_info = json.loads(s.stdout.strip().splitlines()[-1]) if s.stdout else {}
                if s.returncode != 0:
                    sent_info["error"] = s.stderr.strip()[-300:]
            except (subprocess.TimeoutExpired, ValueError, IndexError) as exc:
                sent_info = {"error": f"sender: {exc}"}
            line = _read_line(proc, time.monotonic() + recv_seconds + 10, buf)
            drops1 = _softnet_dropped()
            res = _parse_result(line, kind)
            if res.get("error") is None and line is None:
                err.seek(0)
                res["error"] = "receiver printed no result: " + \
                    err.read().decode(errors="replace").strip()[-300:]
        finally:
            _stop(proc)
    res = receivers.with_derived(res)
    res["sent"] = sent_info.get("sent")
    res["sender_seconds"] = sent_info.get("seconds")
    res["sender_error"] = sent_info.get("error")
    res["softnet_drops"] = drops1 - drops0 if drops0 is not None and drops1 is not None else None
    if res["sent"] is not None and res.get("received") is not None:
        res["loss"] = res["sent"] - res["received"]
    return res


def _parse_result(line: str | None, kind: str) -> dict[str, Any]:
    if line:
        try:
            res = json.loads(line)
            if isinstance(res, dict):
                return res
        except ValueError:
            pass
    return {"kind": kind, "error": None}


def meta(opts: Options, sender: Path | None, notes: list[str]) -> dict[str, Any]:
    versions: dict[str, str] = {}
    try:
        from importlib import metadata
        for dist in ("fastsockets", "uvloop", "aiofastnet"):
            try:
                versions[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                versions[dist] = "not installed"
    except ImportError:
        pass
    cpu_model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            cpu_model = next((ln.split(":", 1)[1].strip() for ln in f
                              if ln.startswith("model name")), "")
    except OSError:
        pass
    cpus = _cpus()
    return {
        "python": sys.version.split()[0], "platform": platform.platform(), "cpu": cpu_model,
        "versions": versions, "count": opts.count, "seconds": opts.seconds,
        "repeat": opts.repeat, "size": opts.size, "rcvbuf": opts.rcvbuf, "rate": opts.rate,
        "receiver_cpu": cpus[0] if cpus else None, "sender_cpu": cpus[1] if cpus else None,
        "sender": ("Python sendto (no C compiler)" if sender is None else
                   "C send_flood (UDP_SEGMENT x64)" if opts.gso else "C send_flood (sendmmsg x64)"),
        "notes": notes,
    }


def run(opts: Options, log: Any = sys.stderr) -> tuple[list[Summary], dict[str, Any]]:
    notes: list[str] = []
    sender: Path | None = None
    try:
        sender = receivers.build_c("send_flood")
    except receivers.CBuildError as exc:
        notes.append(f"C sender unavailable ({exc}); using the much slower Python sendto sender")
    summaries = {k: Summary(k) for k in opts.kinds}
    for ckind in ("c", "c-epoll"):
        if ckind in summaries:
            try:
                receivers.build_c("recv_mmsg")
            except receivers.CBuildError as exc:
                summaries[ckind].error = f"skipped: {exc}"
    if _cpus() is None:
        notes.append("fewer than 2 usable CPUs: sender and receiver are not pinned")
    runnable = [k for k in opts.kinds if summaries[k].error is None]
    total = len(runnable) * opts.repeat
    done = 0
    for rnd in range(opts.repeat):
        shift = rnd % len(runnable) if runnable else 0
        for kind in runnable[shift:] + runnable[:shift]:
            s = summaries[kind]
            if s.error is not None:  # unavailable in an earlier round: do not retry
                continue
            res = run_one(kind, opts, sender)
            done += 1
            err = res.get("error")
            if err and str(err).startswith("unavailable"):
                s.error = str(err)
            else:
                s.runs.append(res)
            if opts.progress:
                print(f"[{done}/{total}] {kind:<12} " + (
                    f"error: {err}" if err else
                    f"rx {res.get('received')}/{res.get('sent')}  "
                    f"{_fmt(res.get('rate'), 0)} dgram/s  "
                    f"{_fmt(res.get('cpu_ns'), 0)} ns/dgram  util {_fmt(res.get('util'), 2)}"),
                    file=log, flush=True)
    return [summaries[k] for k in opts.kinds], meta(opts, sender, notes)


# ---------------------------------------------------------------------------------------------
# Tables


def _fmt(v: Any, digits: int = 0) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:,.{digits}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


COLUMNS = ("receiver", "dgram/s", "sent", "received", "loss", "sock drops", "CPU util",
           "dgram/wake", "runq wait", "CPU ns/dgram", "vs uvloop", "vs C")


def rows(summaries: list[Summary]) -> tuple[list[list[str]], list[str]]:
    """Table rows (one per receiver, medians) and the footnotes they need."""
    by = {s.kind: s for s in summaries}
    base_uv = by["uvloop"].median("cpu_ns") if "uvloop" in by else None
    base_c = by["c"].median("cpu_ns") if "c" in by else None
    out: list[list[str]] = []
    foot: list[str] = []
    for s in summaries:
        label = LABELS.get(s.kind, s.kind)
        errs = [r["error"] for r in s.runs if r.get("error")]
        if s.error or not s.runs or len(errs) == len(s.runs):
            reason = s.error or (errs[0] if errs else "no run")
            out.append([label] + ["n/a"] * (len(COLUMNS) - 1))
            foot.append(f"{label}: {reason}")
            continue
        if errs:
            foot.append(f"{label}: {len(errs)} of {len(s.runs)} runs failed: {errs[0]}")
        ns = s.median("cpu_ns")
        ratio_uv = ns / base_uv if ns is not None and base_uv else None
        ratio_c = ns / base_c if ns is not None and base_c else None
        out.append([
            label, _fmt(s.median("rate")), _fmt(_int(s.median("sent"))),
            _fmt(_int(s.median("received"))), _fmt(_int(s.median("loss"))),
            _fmt(_int(s.median("sock_drops"))), _fmt(s.median("util"), 2),
            _fmt(s.median("dgrams_per_wakeup"), 1), _pct(s.median("runq_share")), _fmt(ns),
            (f"{ratio_uv:.2f}x" if ratio_uv is not None else "n/a"),
            (f"{ratio_c:.2f}x" if ratio_c is not None else "n/a"),
        ])
        impl = next((r.get("impl") for r in s.runs if r.get("impl")), None)
        if impl and s.kind in ("aiofastnet", "uvloop", "asyncio"):
            foot.append(f"{label}: {impl}")
    busy = [LABELS.get(s.kind, s.kind) for s in summaries
            if (s.median("runq_share") or 0.0) > BUSY_SHARE]
    if busy:
        foot.append(f"runq wait above {BUSY_SHARE:.0%} ({', '.join(busy)}): other tasks held the "
                    "receiver's CPU during those runs; the machine was busy, rerun when it is idle")
    return out, foot


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.0f}%"


def _int(v: float | None) -> int | None:
    return None if v is None else round(v)


def header_lines(m: dict[str, Any]) -> list[str]:
    v = m["versions"]
    pin = (f"receiver on CPU {m['receiver_cpu']}, sender on CPU {m['sender_cpu']}"
           if m["receiver_cpu"] is not None else "not pinned")
    rate = f"{m['rate']:,.0f}/s" if m["rate"] else "flood"
    return [
        (f"UDP receive, {m['size']}-byte datagrams on 127.0.0.1; sender: {m['sender']}, "
         f"{m['count']:,} datagrams or {m['seconds']} s, {rate}; {pin}"),
        (f"Python {m['python']}, {m['platform']}, {m['cpu']}; fastsockets {v.get('fastsockets')}, "
         f"uvloop {v.get('uvloop')}, aiofastnet {v.get('aiofastnet')}"),
        (f"SO_RCVBUF requested: {m['rcvbuf'] or 'kernel default'}; medians of {m['repeat']} "
         "interleaved rounds; CPU = getrusage(RUSAGE_SELF) user+sys of the receiver, first "
         "datagram to last checkpoint"),
    ]


def format_text(summaries: list[Summary], m: dict[str, Any]) -> str:
    body, foot = rows(summaries)
    table = [list(COLUMNS)] + body
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    lines = header_lines(m) + [""]
    for j, r in enumerate(table):
        lines.append("  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
                               for i, c in enumerate(r)))
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines += [""] + [f"* {f}" for f in foot + m["notes"]]
    return "\n".join(lines).rstrip() + "\n"


def format_markdown(summaries: list[Summary], m: dict[str, Any]) -> str:
    body, foot = rows(summaries)
    lines = [f"<!-- {h} -->" for h in header_lines(m)]
    lines.append("| " + " | ".join(COLUMNS) + " |")
    lines.append("|---" + "|---:" * (len(COLUMNS) - 1) + "|")
    lines += ["| " + " | ".join(r) + " |" for r in body]
    if foot or m["notes"]:
        lines.append("")
        lines += [f"- {f}" for f in foot + m["notes"]]
    return "\n".join(lines) + "\n"


def to_json(summaries: list[Summary], m: dict[str, Any]) -> dict[str, Any]:
    med_keys = ("rate", "sent", "received", "loss", "sock_drops", "softnet_drops", "util",
                "dgrams_per_wakeup", "runq_share", "runq_wait_s", "cpu_ns", "cpu_s", "wall_s", "window_dgrams")
    return {
        "meta": m,
        "receivers": {
            s.kind: {"error": s.error, "runs": s.runs,
                     "median": {k: s.median(k) for k in med_keys}}
            for s in summaries
        },
    }
