"""``python -m fastsockets`` and the ``fastsockets`` console script."""

from __future__ import annotations

import argparse
import sys


def _info(args: argparse.Namespace) -> int:
    import fastsockets

    try:
        from importlib.metadata import PackageNotFoundError, version

        ver = version("fastsockets")
    except PackageNotFoundError:
        ver = getattr(fastsockets, "__version__", "unknown")
    print(f"fastsockets {ver}")
    print(f"backend {fastsockets.backend()}")
    print(f"python {sys.version.split()[0]} ({sys.implementation.name}, {sys.platform})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from fastsockets._bench import cli

    return cli.run(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fastsockets",
                                     description="fastsockets command-line tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p_bench = sub.add_parser("bench", help="UDP receive benchmark against asyncio, uvloop, "
                                           "aiofastnet, blocking Python and C",
                             description="UDP receive benchmark: receiver CPU time per "
                                         "datagram, side by side, on 127.0.0.1")
    from fastsockets._bench import cli

    cli.add_arguments(p_bench)
    p_bench.set_defaults(func=_bench)
    p_info = sub.add_parser("info", help="print the version, the event-loop backend and Python")
    p_info.set_defaults(func=_info)
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
