"""The one room of this server process, shared by every browser session."""

from __future__ import annotations

import threading

_lock = threading.Lock()
_room = None


def room():
    """The room; made with default settings if the server was started without `bettercare workshop`."""
    global _room
    with _lock:
        if _room is None:
            from .room import Room

            _room = Room()
        return _room


def set_room(r) -> None:
    global _room
    with _lock:
        _room = r
