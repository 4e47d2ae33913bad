"""Command-line options of ``fastsockets bench`` (also used by ``benches/run.py``)."""

from __future__ import annotations

import argparse
import json
import sys

from . import runner


def _kinds(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    bad = [k for k in kinds if k not in runner.DEFAULT_KINDS]
    if bad:
        raise argparse.ArgumentTypeError(
            f"unknown receiver(s) {', '.join(bad)}; choose from {', '.join(runner.DEFAULT_KINDS)}")
    return kinds


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = runner.Options()
    parser.add_argument("--count", type=int, default=d.count,
                        help="datagrams the sender sends per run (default %(default)s)")
    parser.add_argument("--seconds", type=float, default=d.seconds,
                        help="the sender stops after this long even short of --count "
                             "(default %(default)s)")
    parser.add_argument("--repeat", type=int, default=d.repeat,
                        help="interleaved rounds; the table shows medians (default %(default)s)")
    parser.add_argument("--receivers", type=_kinds, action="extend", metavar="LIST",
                        help="comma-separated subset of: " + ",".join(runner.DEFAULT_KINDS))
    parser.add_argument("--size", type=int, default=d.size,
                        help="datagram payload bytes, 1..2048 (default %(default)s)")
    parser.add_argument("--rcvbuf", type=int, default=d.rcvbuf,
                        help="SO_RCVBUF requested on every receiver's socket; 0 = kernel default "
                             "(default %(default)s)")
    parser.add_argument("--rate", type=float, default=d.rate,
                        help="datagrams/s offered by the sender; 0 = flood (default)")
    gso = parser.add_mutually_exclusive_group()
    gso.add_argument("--gso", dest="gso", action="store_true", default=None,
                     help="sender uses UDP_SEGMENT (64 datagrams per send): it offers more than any "
                          "receiver takes, so every receiver is saturated and CPU/datagram is its own "
                          "cost (default when the kernel supports UDP_SEGMENT)")
    gso.add_argument("--no-gso", dest="gso", action="store_false",
                     help="sender uses plain sendmmsg: on 2 cores it limits the rate, receivers are "
                          "partly idle and pay per-wake-up kernel costs")
    parser.add_argument("--markdown", action="store_true",
                        help="print the table as Markdown (for a README) instead of plain text")
    parser.add_argument("--json", metavar="FILE",
                        help="also write every run and the medians to FILE as JSON")
    parser.add_argument("--quiet", action="store_true", help="no per-run progress on stderr")


def gso_supported() -> bool:
    """True if this kernel accepts UDP_SEGMENT (Linux 4.18+), which the GSO sender needs."""
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.setsockopt(17, 103, 64)  # SOL_UDP, UDP_SEGMENT
        return True
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    if args.count < 1 or not 0 < args.seconds <= 60 or args.repeat < 1 \
            or not 1 <= args.size <= 2048 or args.rcvbuf < 0 or args.rate < 0:
        print("fastsockets bench: need --count >= 1, 0 < --seconds <= 60, --repeat >= 1, "
              "1 <= --size <= 2048, --rcvbuf >= 0, --rate >= 0", file=sys.stderr)
        return 2
    kinds = list(dict.fromkeys(args.receivers)) if args.receivers else list(runner.DEFAULT_KINDS)
    opts = runner.Options(count=args.count, seconds=args.seconds, repeat=args.repeat,
                          kinds=kinds, size=args.size, rcvbuf=args.rcvbuf, rate=args.rate,
                          gso=gso_supported() if args.gso is None else args.gso,
                          progress=not args.quiet)
    summaries, meta = runner.run(opts)
    out = runner.format_markdown(summaries, meta) if args.markdown \
        else runner.format_text(summaries, meta)
    sys.stdout.write(out)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(runner.to_json(summaries, meta), f, indent=2)
            f.write("\n")
    ok = any(s.runs and not all(r.get("error") for r in s.runs) for s in summaries)
    return 0 if ok else 1
