"""Start the workshop: check the offline assets, make the room, print its links, serve the pages."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys

APP = "bettercare.workshop.app"


class WorkshopError(Exception):
    """A problem starting the workshop; the message is one line for the trainer."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def display_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return socket.gethostname()
    return host


def prepare_environment() -> None:
    """Settings Solara reads when it is imported: no telemetry, no version check."""
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    os.environ.setdefault("SOLARA_CHECK_VERSION", "False")
    import warnings

    # Plain http on a local network: Solara falls back to samesite=lax cookies, which is what we want.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https", category=UserWarning)


def make_room(preset: str, areas: list[str] | None, seed: int, code: str | None, join_url: str):
    from .room import Room, Settings

    return Room(Settings.for_preset(preset, areas or None, seed=seed), code=code, join_url=join_url)


def serve(host: str = "127.0.0.1", port: int = 8765, preset: str = "england-2014", areas: list[str] | None = None,
          seed: int = 1, room_code: str | None = None, out=sys.stdout) -> None:
    from . import assets, state

    prepare_environment()
    lost = assets.missing()
    if lost:
        raise WorkshopError(f"the workshop's browser assets are missing from {assets.cache_dir()} "
                            f"({', '.join(lost)}): run `{assets.FETCH_HINT}` once (it needs npm)")
    if room_code is not None:
        from .room import CODE_ALPHABET
        room_code = room_code.strip().upper()
        if not 3 <= len(room_code) <= 12 or any(c not in CODE_ALPHABET for c in room_code):
            raise WorkshopError(f"--room-code must be 3-12 characters from {CODE_ALPHABET}")
    base = f"http://{display_host(host)}:{port}"
    room = make_room(preset, areas, seed, room_code, f"{base}/join")
    state.set_room(room)
    local = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    print(f"Facilitator: {local}/facilitator?key={room.facilitator_token}", file=out)
    print(f"Participants: {base}/join  (room code {room.code})", file=out)
    if not is_loopback(host):
        print("This room is reachable from other machines: participants need the room code; keep the "
              "facilitator link to yourself.", file=out)
    out.flush()
    from solara.__main__ import run

    run.main([APP, "--host", host, "--port", str(port), "--production", "--no-open", "--no-check-version",
              "--log-level", "warning"], standalone_mode=False)
