"""Fixtures shared by the Python tests (helpers live in fsutil.py)."""

from fsutil import app, sender, udp  # noqa: F401  (pytest fixtures)
