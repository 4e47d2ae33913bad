"""The README stays true: its UDP example runs, and .ci/run runs the README's test command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()

TEST_CMD = 'python3 -m venv .venv && .venv/bin/pip install ".[test]" && .venv/bin/python -m pytest'


def test_udp_example_runs() -> None:
    example = re.findall(r"```python\n(.*?)```", README, re.S)[0]
    assert "udp.bind" in example and "udp.send" in example
    r = subprocess.run([sys.executable, "-c", example], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "got b'hello' from 127.0.0.1" in r.stdout
    assert "sent {'resultCode': 0, 'bytesSent': 5}" in r.stdout


def test_ci_runs_the_readme_test_command() -> None:
    assert TEST_CMD in README
    ci = (ROOT / ".ci" / "run").read_text()
    for step in ("python3 -m venv .venv", '.venv/bin/pip install ".[test]"',
                 ".venv/bin/python -m pytest"):
        assert step in ci, step
    assert '"$rc" -eq 5' in ci  # "no tests collected" is a failure


def test_main_job_command_is_documented() -> None:
    assert '.venv/bin/pip install ".[bench]" && .venv/bin/fastsockets bench' in README
