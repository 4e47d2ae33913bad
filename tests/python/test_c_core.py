"""Build the C core's own tests with CMake and run them with ctest: the buffer pool, batched
receive, and the loop contract against every backend built here (epoll and poll on Linux) -
once plainly and once under AddressSanitizer + UndefinedBehaviorSanitizer."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        # pip's cmake/ninja live next to the interpreter running the tests
        import sys

        cand = Path(sys.executable).parent / name
        if cand.exists():
            return str(cand)
        pytest.fail("%s is needed to build the C tests (pip install '.[test]' provides it)" % name)
    return path


@pytest.fixture(scope="module")
def cmake() -> str:
    return _tool("cmake")


@pytest.mark.parametrize("sanitize", ["OFF", "ON"], ids=["plain", "asan-ubsan"])
def test_ctest(tmp_path: Path, cmake: str, sanitize: str) -> None:
    if not (ROOT / "CMakeLists.txt").exists():
        pytest.fail("the C tests need the source tree (run pytest from the checkout)")
    build = tmp_path / "build"
    cfg = [cmake, "-S", str(ROOT), "-B", str(build), "-DBUILD_TESTING=ON",
           "-DFASTSOCKETS_SANITIZE=" + sanitize, "-DCMAKE_BUILD_TYPE=Debug"]
    ninja = shutil.which("ninja")
    if ninja:
        cfg += ["-G", "Ninja", "-DCMAKE_MAKE_PROGRAM=" + ninja]
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
    for cmd in (cfg, [cmake, "--build", str(build), "-j", "2"]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    ctest = str(Path(cmake).with_name("ctest"))
    r = subprocess.run([ctest, "--test-dir", str(build), "--output-on-failure", "--timeout", "60"],
                       capture_output=True, text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stdout[-6000:] + r.stderr[-4000:]
    assert "100% tests passed" in r.stdout
    # both backends' loop contract ran
    assert "loop_contract_poll" in r.stdout


@pytest.mark.parametrize("receipt", [True, False], ids=["EV_RECEIPT", "no-EV_RECEIPT"])
def test_kqueue_backend_compiles(tmp_path: Path, receipt: bool) -> None:
    """kqueue_loop.c cannot run on Linux; compile it against a stand-in <sys/event.h> (with and
    without EV_RECEIPT, which older systems lack) so it cannot rot unnoticed."""
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if cc is None:
        pytest.fail("a C compiler is needed for the C tests")
    shim = ROOT / "tests" / "c" / "kqueue_shim"
    if not receipt:
        # a copy of the shim without EV_RECEIPT
        alt = tmp_path / "shim" / "sys"
        alt.mkdir(parents=True)
        text = (shim / "sys" / "event.h").read_text().replace("#define EV_RECEIPT 0x0040\n", "")
        (alt / "event.h").write_text(text)
        shim = tmp_path / "shim"
    cmd = [cc, "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
           "-fsyntax-only", "-I", str(shim), "-I", str(ROOT / "src"), str(ROOT / "src" / "kqueue_loop.c")]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
