"""What the workshop room tests do to a room, as the facilitator and as participants (shared by
test_workshop_session and test_workshop_centre)."""

from __future__ import annotations

import time

from bettercare.workshop.room import Action

WAIT = 10.0


def fac(room, kind, **kw):
    """The facilitator acts."""
    return room.act(Action(kind, room.facilitator_token, **kw))


def join(room, name, seat, client):
    """A participant joins `seat` from browser `client`; their token."""
    out = room.act(Action("join", seat=seat, client=client, data={"code": room.code, "name": name}))
    assert out.ok, out.message
    return out.data["token"]


def idle(room, wait: float = WAIT):
    """Wait until the room has finished its step."""
    assert room.wait_until(lambda: not room.busy, wait), room.waiting_text()


def until(check, what: str, wait: float = WAIT) -> None:
    """Poll `check()` until it holds (for state the room does not notify about)."""
    deadline = time.monotonic() + wait
    while not check():
        assert time.monotonic() < deadline, f"{what} did not happen in time"
        time.sleep(0.01)
