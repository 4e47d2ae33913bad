"""Run the Python suite against an ASan + UBSan build of the extension.

Builds the package offline (with the build tools the test extras install) with
``FASTSOCKETS_SANITIZE=ON`` into a temporary directory, then runs pytest in a child process with
that build first on ``sys.path`` and the sanitizer runtimes preloaded (CPython itself is not
instrumented, so leak detection is off; heap errors, use-after-free and undefined behaviour in the
C core and the binding abort the child).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow


def _runtime(name: str) -> str:
    r = subprocess.run(["gcc", "-print-file-name=" + name], capture_output=True, text=True)
    path = r.stdout.strip()
    if r.returncode != 0 or not os.path.isabs(path):
        pytest.fail("gcc does not know %s; the sanitizer build needs gcc's runtimes" % name)
    return path


def test_suite_under_asan_ubsan(tmp_path: Path) -> None:
    target = tmp_path / "site"
    build = [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps",
             "--no-index", "--target", str(target), "-q", str(ROOT),
             "-Ccmake.define.FASTSOCKETS_SANITIZE=ON", "-Cbuild-dir=" + str(tmp_path / "build")]
    r = subprocess.run(build, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    so = list((target / "fastsockets").glob("_sockcore*.so"))
    assert so, "no extension built"
    env = dict(os.environ)
    env.update(
        PYTHONPATH=str(target),
        LD_PRELOAD=_runtime("libasan.so") + " " + _runtime("libubsan.so"),
        ASAN_OPTIONS="detect_leaks=0:abort_on_error=1",
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1",
        PYTHONMALLOC="malloc",
    )
    files = sorted(str(p) for p in HERE.glob("test_*.py")
                   if p.name not in ("test_sanitized.py", "test_c_core.py"))
    check = "import fastsockets, sys; assert fastsockets.__file__.startswith(%r), fastsockets.__file__" % str(target)
    r = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow",
           "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), *files]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-6000:]
    assert " passed" in r.stdout
