"""Driving the workshop in real headless Chromium, for the browser tests and the docs' screenshots.

Uses Debian's /usr/bin/chromium through Playwright (never `playwright install`), with every
request that does not go to this machine blocked, so that a page that needs the internet fails.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
LOCAL = re.compile(r"^(https?|wss?)://(127\.0\.0\.1|localhost|\[::1\])(:\d+)?/")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """`python -m bettercare.workshop` in a subprocess, with its links."""

    port: int
    proc: subprocess.Popen
    started: float
    base: str = ""
    facilitator_url: str = ""  # the one-time link: it opens one browser once
    code: str = ""
    output: list[str] = field(default_factory=list)
    facilitator_urls: list[str] = field(default_factory=list)  # one per room, in order
    codes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_server(
    *args: str, port: int | None = None, timeout: float = 60.0, env: dict | None = None, cwd: str | None = None
) -> Server:
    """Start the workshop and wait for its links (printed once it answers); `args` go to the command line.

    The server runs `python -m bettercare.workshop` in `cwd` (default: this process's), and `-m`
    puts that folder first on the import path: a checkout there is the code that runs, whatever
    PYTHONPATH says."""
    port = port or free_port()
    started = time.perf_counter()
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bettercare.workshop", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=cwd,
    )
    server = Server(port, proc, started, base=f"http://127.0.0.1:{port}")

    def read():
        for line in proc.stdout:
            server.output.append(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the workshop stopped:\n" + "\n".join(server.output))
        lines = list(server.output)
        server.facilitator_urls = [
            m.group(1)
            for line in lines
            if line.startswith("Facilitator") and (m := re.search(r"(http://\S+/k/\S+)", line))
        ]
        server.codes = [m.group(1) for line in lines if (m := re.search(r"room code (\w+)", line))]
        want = int(args[args.index("--rooms") + 1]) if "--rooms" in args else 1
        if len(server.facilitator_urls) >= want and len(server.codes) >= want:
            server.facilitator_url, server.code = server.facilitator_urls[0], server.codes[0]
            with urllib.request.urlopen(f"{server.base}/readyz", timeout=5) as r:
                assert r.status == 200
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError("the workshop did not answer in time:\n" + "\n".join(server.output))


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class Guard:
    """What a browser context tried to fetch from outside this machine, and what failed."""

    blocked: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def offline_context(browser, width: int = 1440, height: int = 1000):
    """A browser context whose requests to anywhere but this machine are aborted."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    guard = Guard()

    def route(r):
        url = r.request.url
        if LOCAL.match(url) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            guard.blocked.append(url)
            r.abort()

    ctx.route("**/*", route)
    ctx.on("response", lambda resp: guard.failed.append(f"{resp.status} {resp.url}") if resp.status >= 400 else None)
    ctx.set_default_timeout(30_000)
    return ctx, guard


def join(ctx, base: str, code: str, name: str, seat: int, page=None, path: str = "/join"):
    """Open the join page in `ctx`, take `seat`, and wait for the seat page (reached through a
    one-time link that sets the seat's cookie)."""
    page = page or ctx.new_page()
    page.goto(f"{base}{path}")
    page.get_by_label("Room code").fill(code)
    page.get_by_label("Your name").fill(name)
    page.locator(f".bc-take-{seat}").click()
    page.get_by_text("Your brief").wait_for()
    return page


def press_slider(page, css: str, key: str) -> None:
    """Move the slider inside the element `css` with a key (End, Home, ArrowRight, ...)."""
    thumb = page.locator(f"{css} [role=slider]")
    thumb.focus()
    thumb.press(key)
