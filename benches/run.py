"""Run the UDP receive benchmark from a checkout: ``python benches/run.py [options]``.

The same as ``fastsockets bench`` (see ``--help``), but the benchmark code (runner, receivers, C
sources) is always this checkout's python/fastsockets/_bench, loaded on its own, so edits take
effect without reinstalling. The fastsockets row measures whatever ``import fastsockets`` finds
(the installed package); without one it shows n/a.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH_DIR = Path(__file__).resolve().parent.parent / "python" / "fastsockets" / "_bench"


def _load_cli() -> ModuleType:
    """This checkout's _bench as the top-level package ``fastsockets_bench``; its cli module."""
    spec = importlib.util.spec_from_file_location(
        "fastsockets_bench", BENCH_DIR / "__init__.py", submodule_search_locations=[str(BENCH_DIR)])
    assert spec is not None and spec.loader is not None
    pkg = importlib.util.module_from_spec(spec)
    sys.modules["fastsockets_bench"] = pkg
    spec.loader.exec_module(pkg)
    return importlib.import_module("fastsockets_bench.cli")


def main(argv: list[str] | None = None) -> int:
    cli = _load_cli()
    parser = argparse.ArgumentParser(prog="benches/run.py", description=__doc__.splitlines()[0])
    cli.add_arguments(parser)
    return int(cli.run(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
