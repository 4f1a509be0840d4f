"""Start the workshop: check the offline assets, make the rooms, serve the pages, then print the links.

The pages are Solara's; this module puts a thin ASGI layer in front of them that

- redeems one-time links (`/k/NONCE`): sets the key in an HTTP-only cookie and redirects to a
  clean address, so no key stays in an address bar or a browser's history;
- closes what a workshop does not need (`/resourcez`, the server's resource report, unless asked
  with the facilitator's cookie);
- adds headers that keep pages out of other sites' frames and out of caches.

The links are printed only once the server answers its own request, with the machine's LAN
address beside its hostname (venue wifi often cannot resolve hostnames).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import threading
import time
import urllib.request
import warnings
from dataclasses import replace
from http.cookies import SimpleCookie
from typing import TextIO

import uvicorn

from . import assets, state
from .access import COOKIE_MAX_AGE, FACILITATOR_COOKIE, LINKS, Link, cookie_name
from .room import Room
from .settings import code_problem
from .store import SessionStore, session_path, session_problem

APP = "bettercare.workshop.app"
CLOSED = ("/resourcez",)  # the page itself asks /jupyter/api/kernels/ID when it reconnects
SECURITY_HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
]


class WorkshopError(Exception):
    """A problem starting the workshop; the message is one line for the trainer."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_ip() -> str | None:
    """This machine's address on its network (no packet is sent), or None when it has none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") or ip == "0.0.0.0" else ip


def public_hosts(host: str) -> list[str]:
    """Addresses to print for participants: the LAN IP first, then the hostname."""
    if host in ("0.0.0.0", "::", ""):
        ip = lan_ip()
        return [h for h in (ip, socket.gethostname()) if h]
    return [host]


def websocket_protocol() -> str:
    """uvicorn's `websockets` protocol, the one on which Solara writes frames from the render
    thread; uvicorn's default where a later uvicorn or websockets no longer has it (the room then
    works as before, a little slower, and Solara logs one line saying so)."""
    warnings.filterwarnings("ignore", message="The `websockets` implementation is deprecated")
    warnings.filterwarnings("ignore", message=r"websockets\.(legacy|server)", category=DeprecationWarning)
    try:
        import uvicorn.protocols.websockets.websockets_impl  # noqa: F401, PLC0415 - it may be gone
    except Exception:
        return "auto"
    return "websockets"


def prepare_environment() -> None:
    """Settings Solara reads when it is imported: no telemetry, no version check, production mode."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_CHECK_VERSION", "False")
    os.environ["SOLARA_APP"] = APP

    # Plain http on a local network: Solara falls back to samesite=lax cookies, which is what we want.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)


def _cookies(scope) -> dict[str, str]:
    raw = b"; ".join(v for k, v in scope.get("headers", []) if k == b"cookie").decode("latin-1")
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return {}
    return {k: m.value for k, m in jar.items()}


class Gate:
    """The ASGI layer in front of Solara (see the module's docstring)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        if path.startswith("/k/"):
            return await self._redeem(path[3:], send)
        if path.startswith(CLOSED) and not self._facilitator(scope):
            return await self._plain(send, 404, b"Not found")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = list(message.get("headers", [])) + SECURITY_HEADERS
            await send(message)

        return await self.app(scope, receive, send_with_headers)

    def _facilitator(self, scope) -> bool:

        jar = _cookies(scope)
        return any(
            r.is_facilitator(jar.get(cookie_name(FACILITATOR_COOKIE, name), "")) for name, r in state.rooms().items()
        )

    async def _redeem(self, nonce: str, send) -> None:

        link = LINKS.redeem(nonce.strip("/"))
        if link is None:
            body = (
                b"<!doctype html><meta charset=utf-8><title>Link used</title><body style='font-family:sans-serif;"
                b"padding:2em'><h2>This link has been used already</h2><p>Each link opens one browser once. "
                b"Participants: <a href='/join'>join the table</a> again. Facilitators: restart the command "
                b"(with the same <code>--session</code>) for a new link.</p>"
            )
            return await self._plain(send, 410, body, b"text/html; charset=utf-8")
        cookie = (f"{link.cookie}={link.token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={COOKIE_MAX_AGE}").encode()
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", link.path.encode()),
                    (b"set-cookie", cookie),
                    (b"cache-control", b"no-store"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    @staticmethod
    async def _plain(send, status: int, body: bytes, ctype: bytes = b"text/plain; charset=utf-8") -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", ctype),
                    (b"content-length", str(len(body)).encode()),
                    (b"cache-control", b"no-store"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def make_room(settings, code: str | None, join_url: str, session: str | None = None, name: str = ""):

    store = None
    if session:
        store = SessionStore(session_path(session))
    return Room(settings, code=code, join_url=join_url, store=store, name=name)


def facilitator_link(room, base: str) -> str:

    path = "/facilitator" if not room.name else f"/facilitator?room={room.name}"
    link = Link(cookie_name(FACILITATOR_COOKIE, room.name), room.facilitator_token, path, room.name)
    return f"{base}/k/{LINKS.issue(link)}"


def serve(
    settings,
    host: str = "127.0.0.1",
    port: int = 8765,
    room_code: str | None = None,
    session: str | None = None,
    rooms: int = 1,
    out: TextIO = sys.stdout,
) -> None:
    """Serve `rooms` rooms: the first at /facilitator, /projector, /join; room N (2, 3, ...) at the
    same pages with ?room=N. Each has its own code, key and session file (NAME-N.sqlite)."""

    prepare_environment()
    lost = assets.missing()
    if lost:
        raise WorkshopError(
            f"the workshop's browser assets are missing from {assets.cache_dir()} "
            f"({', '.join(lost)}): run `{assets.FETCH_HINT}` once (it needs npm)"
        )
    if room_code is not None:
        if why := code_problem(room_code):
            raise WorkshopError(f"--room-code {why}")
    if session:
        if why := session_problem(session):
            raise WorkshopError(why)

    try:  # a taken port is the usual trouble: say so before building any room
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise WorkshopError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): another room may be running "
            "there; try --port 8766"
        ) from None
    hosts = public_hosts(host)
    made = []
    for k in range(rooms):
        name = "" if k == 0 else str(k + 1)
        q = f"?room={name}" if name else ""
        join_urls = [f"http://{h}:{port}/join{q}" for h in hosts]
        sess = (session if k == 0 else f"{session}-{name}") if session else None
        r = make_room(replace(settings), room_code if k == 0 else None, join_urls[0], sess, name=name)
        r.join_urls = join_urls
        state.set_room(r, name)
        made.append(r)
    local = f"http://{'127.0.0.1' if host in ('0.0.0.0', '', '::') else host}:{port}"

    from solara.server import settings as solara_settings  # noqa: PLC0415 - optional extra

    solara_settings.main.mode = "production"
    # Each page render sends hundreds of websocket frames. By default each is handed to the event
    # loop (a thread hop per frame, all 20 pages' frames through one loop); written straight from
    # the render thread instead, the next week reaches every page sooner (docs/workshop.md §8).
    # Solara does this only on uvicorn's `websockets` protocol, which uvicorn marks deprecated.
    solara_settings.server.sync_ws_write = True
    from solara.server.starlette import app as solara_app  # noqa: PLC0415 - optional extra

    config = uvicorn.Config(
        Gate(solara_app),
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        ws=websocket_protocol(),
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)

    def announce():
        deadline = time.time() + 120
        while time.time() < deadline and not server.should_exit:
            if server.started:
                try:
                    with urllib.request.urlopen(f"{local}/readyz", timeout=5) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
            time.sleep(0.1)
        else:
            return
        for r in made:
            q = f"?room={r.name}" if r.name else ""
            if len(made) > 1:
                print(f"Room {r.name or '1'}:", file=out)
            if r.store is not None:
                print(f"Session: {r.store.path} (step {r.tick})", file=out)
            print(f"Facilitator (one-time link, opens this browser once): {facilitator_link(r, local)}", file=out)
            print(f"Projector (no key, read-only): {local}/projector{q}", file=out)
            print(f"Participants: {'  or  '.join(r.join_urls)}  (room code {r.code})", file=out)
        if not is_loopback(host):
            print(
                "This room is reachable from other machines: participants need the room code; keep the "
                "facilitator link to yourself.",
                file=out,
            )
        out.flush()

    threading.Thread(target=announce, name="workshop-announce", daemon=True).start()
    try:
        server.run()
    finally:
        for r in state.rooms().values():
            r.close()
    if not server.started:
        raise WorkshopError(f"could not listen on {host}:{port} (is another room running there? try --port)")
