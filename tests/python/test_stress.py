"""Bounded stress: several sockets flooded at once while listeners pause, resume, resize and
retain data.  Checks the accounting that matters to a receiver: per socket, datagrams arrive in
order, never twice, intact, and every datagram sent is either delivered or counted by the kernel
as dropped (socket buffer full while paused) - none vanishes inside fastsockets."""

from __future__ import annotations

import random
import struct
import subprocess
import sys
import time

import fastsockets
import pytest
from fsutil import bound_udp, call

pytestmark = pytest.mark.slow

SOCKETS = 4
PER_SOCKET = 40_000
SECONDS = 60.0

SENDER = r"""
import socket, struct, sys, time
ports = [int(p) for p in sys.argv[1].split(",")]
n = int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
deadline = time.monotonic() + 30
for i in range(n):
    for k, port in enumerate(ports):
        size = 8 + (i * 7 + k) % 200
        s.sendto(struct.pack("!II", k, i).ljust(size, bytes([i % 251])), ("127.0.0.1", port))
    if i % 1000 == 0 and time.monotonic() > deadline:
        break
print(i + 1)
"""


def _drops(port: int) -> int:
    with open("/proc/net/udp") as f:
        next(f)
        for line in f:
            fields = line.split()
            addr, _, hexport = fields[1].partition(":")
            if int(hexport, 16) == port:
                return int(fields[-1])
    raise AssertionError("socket on port %d not found in /proc/net/udp" % port)


def test_flood_with_pause_resume_resize_and_retention() -> None:
    rng = random.Random(7)
    with fastsockets.App(udp_batch=32, udp_budget=64) as app:
        udp = app.sockets.udp
        ids, ports = [], []
        for _ in range(SOCKETS):
            sid, port = bound_udp(app)
            ids.append(sid)
            ports.append(port)
        index = {sid: k for k, sid in enumerate(ids)}
        last = [-1] * SOCKETS
        count = [0] * SOCKETS
        errors: list[str] = []
        kept: list[tuple[object, bytes]] = []

        def on_receive(info: dict) -> None:
            k = index[info["socketId"]]
            data = info["data"]
            kk, i = struct.unpack_from("!II", data)
            if kk != k or i <= last[k]:
                errors.append("socket %d: %d after %d" % (k, i, last[k]))
            size = 8 + (i * 7 + k) % 200
            if len(data) != size or bytes(data[8:]) != bytes([i % 251]) * (size - 8):
                errors.append("socket %d: datagram %d corrupted" % (k, i))
            last[k] = i
            count[k] += 1
            r = rng.random()
            if r < 0.01:
                kept.append((data, bytes(data)))  # retained zero-copy view + its expected bytes
            if r < 0.002:
                udp.setPaused(info["socketId"], True)
                app.loop.call_later(0.002, udp.setPaused, info["socketId"], False)
            elif r < 0.003:
                udp.update(info["socketId"], {"bufferSize": rng.choice([256, 512, 4096])})

        udp.onReceive.addListener(on_receive)
        udp.onReceiveError.addListener(lambda info: errors.append("error %r" % (info,)))
        sender = subprocess.Popen([sys.executable, "-c", SENDER, ",".join(map(str, ports)), str(PER_SOCKET)],
                                  stdout=subprocess.PIPE, text=True)
        deadline = time.monotonic() + SECONDS
        try:
            while sender.poll() is None and time.monotonic() < deadline:
                app.run(timeout=0.05)
            sent = int(sender.communicate(timeout=10)[0])
        finally:
            if sender.poll() is None:
                sender.kill()
        # drain what is still queued (resume anything paused)
        for sid in ids:
            call(app, udp.setPaused, sid, False)
        quiet_until = time.monotonic() + 0.5
        while time.monotonic() < quiet_until:
            before = sum(count)
            app.run(timeout=0.05)
            if sum(count) != before:
                quiet_until = time.monotonic() + 0.5
        assert errors == []
        for k, sid in enumerate(ids):
            drops = _drops(ports[k])
            st = udp.stats(sid)
            assert st["held"] == 0
            assert count[k] + drops == sent, (k, count[k], drops, sent)
        assert sum(count) > 0
        for view, expected in kept:
            assert bytes(view) == expected  # retained views survived pool reuse and resizes
