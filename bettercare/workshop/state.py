"""The rooms of this server process, shared by every browser session."""

from __future__ import annotations

import threading

from .room import Room

_lock = threading.Lock()
_rooms: dict[str, object] = {}


def room(name: str = ""):
    """A room by name ("" is the first); made with default settings if the server was started
    without `bettercare workshop`."""
    with _lock:
        if not _rooms:
            _rooms[""] = Room()
        if name in _rooms:
            return _rooms[name]
        return next(iter(_rooms.values())) if not name else None


def rooms() -> dict[str, object]:
    with _lock:
        return dict(_rooms)


def set_room(r, name: str = "") -> None:
    with _lock:
        if not name:
            _rooms.clear()
        _rooms[name] = r
