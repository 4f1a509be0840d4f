"""Who may do what: join attempts rate-limited, one-time links that set a key cookie.

Keys never travel in a page's address. The command prints a one-time link (`/k/NONCE`); opening
it sets the key in an HTTP-only cookie and sends the browser on to a clean address
(`/facilitator` or `/seat`). A used link does nothing, so a photographed or forwarded link
lets nobody else in.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

FACILITATOR_COOKIE = "bc_facilitator"
SEAT_COOKIE = "bc_seat"
COOKIE_MAX_AGE = 7 * 24 * 3600  # a workshop week; restarts with --session keep the same keys


def cookie_name(base: str, room: str = "") -> str:
    """Each room of a server keeps its keys in its own cookies (a browser may face two rooms)."""
    return base if not room else f"{base}_{room}"


def new_token() -> str:
    return secrets.token_urlsafe(16)


class RateLimiter:
    """At most `per_client` failed tries a client in `window` seconds, and `per_room` in all.

    Only failures count, so people who type the code right are never slowed down.
    """

    def __init__(
        self, per_client: int = 5, per_room: int = 30, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self.per_client = per_client
        self.per_room = per_room
        self.window = window
        self.clock = clock
        self._clients: dict[str, deque[float]] = {}
        self._room: deque[float] = deque()

    def _trim(self, q: deque[float], now: float) -> None:
        while q and q[0] <= now - self.window:
            q.popleft()

    def wait_for(self, client: str) -> float:
        """Seconds this client must wait before trying again (0: it may try now)."""
        now = self.clock()
        q = self._clients.get(client, deque())
        self._trim(q, now)
        self._trim(self._room, now)
        waits = [0.0]
        if len(q) >= self.per_client:
            waits.append(q[0] + self.window - now)
        if len(self._room) >= self.per_room:
            waits.append(self._room[0] + self.window - now)
        return max(waits)

    def failed(self, client: str) -> None:
        now = self.clock()
        self._clients.setdefault(client, deque()).append(now)
        self._room.append(now)


@dataclass(frozen=True)
class Link:
    cookie: str  # FACILITATOR_COOKIE or SEAT_COOKIE
    token: str
    path: str  # where the browser goes once the cookie is set
    room: str = ""


class LinkBook:
    """One-time links: a nonce that, once opened, sets a cookie; then it is gone."""

    def __init__(self, ttl: float = 24 * 3600):
        self.ttl = ttl
        self._links: dict[str, tuple[Link, float]] = {}
        self._lock = threading.Lock()

    def issue(self, link: Link) -> str:
        nonce = secrets.token_urlsafe(18)
        with self._lock:
            self._links[nonce] = (link, time.time() + self.ttl)
        return nonce

    def redeem(self, nonce: str) -> Link | None:
        with self._lock:
            item = self._links.pop(nonce, None)
        if item is None or item[1] < time.time():
            return None
        return item[0]


LINKS = LinkBook()
