"""socketId <-> socket object, one table per namespace (spec §1.1).

Ids start at 1, only grow and are never reused, so a stale id can never reach a newer socket.
Pure Python: imports nothing compiled.
"""

from __future__ import annotations

from typing import Generic, Iterator, TypeVar

__all__ = ["Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """The socket table of one namespace (``tcp``, ``udp`` or ``tcpServer``) of one App."""

    __slots__ = ("_next", "_items")

    def __init__(self) -> None:
        self._next = 1
        self._items: dict[int, T] = {}

    def add(self, item: T) -> int:
        """Enter ``item`` under a fresh id and return the id."""
        sid = self._next
        self._next = sid + 1
        self._items[sid] = item
        return sid

    def get(self, socket_id: int) -> T | None:
        """The socket with this id, or None (unknown, closed, or never issued)."""
        return self._items.get(socket_id)

    def remove(self, socket_id: int) -> T | None:
        """Forget ``socket_id``; returns what was there.  The id is never issued again."""
        return self._items.pop(socket_id, None)

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[int]:
        return iter(list(self._items))

    def values(self) -> list[T]:
        return list(self._items.values())

    @property
    def next_id(self) -> int:
        """The id the next ``add`` will return."""
        return self._next
