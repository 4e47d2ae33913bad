"""Side-by-side UDP receive benchmark behind ``fastsockets bench``.

``runner`` starts each receiver of ``receivers`` in its own process pinned to one core, floods it
from a C ``sendmmsg`` sender pinned to another, and prints the table. ``cli`` holds the command
line options. Nothing here is imported by ``fastsockets`` itself.
"""
