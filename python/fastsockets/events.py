"""``chrome.events.Event`` for fastsockets: addListener / removeListener / hasListener.

Listeners of an event are kept as an immutable tuple that is replaced on every change, so the
native receive path iterates a snapshot with no locking, and adding or removing a listener from
inside a listener (or from another thread) is safe: the change applies from the next event on.

As in Chrome, every listener of a namespace's event receives the events of *all* sockets of that
namespace; a listener interested in one socket filters on ``info["socketId"]``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from . import _sockcore

__all__ = ["Event"]

log = logging.getLogger("fastsockets")

Listener = Callable[[dict[str, Any]], object]


class Event:
    """One event (``onReceive``, ``onReceiveError``, ...) of one namespace of one App."""

    __slots__ = ("_name", "_listeners", "_lock")

    def __init__(self, name: str) -> None:
        self._name = name
        self._listeners = _sockcore.Listeners()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The event's Chrome name, e.g. ``"sockets.udp.onReceive"``."""
        return self._name

    @property
    def listeners(self) -> _sockcore.Listeners:
        """The native listener holder (for the receive path)."""
        return self._listeners

    def addListener(self, callback: Listener) -> None:
        """Call ``callback(info)`` for every event from now on.  Adding a listener that is
        already registered does nothing.  :raises TypeError: if ``callback`` is not callable."""
        if not callable(callback):
            raise TypeError("callback must be callable, not %s" % type(callback).__name__)
        with self._lock:
            items = self._listeners.items
            if callback not in items:
                self._listeners.items = items + (callback,)

    def removeListener(self, callback: Listener) -> None:
        """Stop calling ``callback``.  Removing an unknown listener does nothing."""
        with self._lock:
            items = self._listeners.items
            if callback in items:
                lst = list(items)
                lst.remove(callback)
                self._listeners.items = tuple(lst)

    def hasListener(self, callback: Listener) -> bool:
        """True if ``callback`` is registered."""
        return callback in self._listeners.items

    def hasListeners(self) -> bool:
        """True if any listener is registered."""
        return bool(self._listeners.items)

    # PEP 8 aliases: the same function objects.
    add_listener = addListener
    remove_listener = removeListener
    has_listener = hasListener
    has_listeners = hasListeners

    def dispatch(self, info: dict[str, Any]) -> None:
        """Call every listener with ``info`` (loop thread).  A listener's exception is logged
        and the next listener still runs."""
        for fn in self._listeners.items:
            try:
                fn(info)
            except Exception:
                log.exception("exception in %s listener %r", self._name, fn)

    def __repr__(self) -> str:
        return "<Event %s with %d listener(s)>" % (self._name, len(self._listeners.items))
