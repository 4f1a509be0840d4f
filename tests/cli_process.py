"""The CLI as a user meets it: a subprocess, here in a pseudo-terminal and stopped with Ctrl-C.

Shared by the tests that interrupt `bettercare run --out` and check what was kept.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "bettercare.cli"]
LINUX = sys.platform.startswith("linux")


def wait_for(predicate, proc: subprocess.Popen, seconds: float, what: str) -> None:
    """Poll `predicate` until it holds; fail if `proc` ends first or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if proc.poll() is not None:
            raise AssertionError(f"the process ended (code {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def ctrl_c_when(args: list[str], pattern: str, seconds: float, what: str) -> tuple[int, str, str]:
    """Run the CLI with `args`, its stderr on a terminal (so it draws progress bars), send Ctrl-C to
    its process group once the screen matches `pattern`, and return (exit code, screen, stdout)."""
    import pty  # POSIX only: callers skip unless LINUX

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
        start_new_session=True,
        env={**os.environ, "COLUMNS": "100"},
    )
    os.close(slave)
    screen: list[str] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            screen.append(chunk.decode(errors="replace"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stdout = ""
    try:
        wait_for(lambda: re.search(pattern, "".join(screen)), proc, seconds, what)
        os.killpg(proc.pid, signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reader.join(timeout=5)
    os.close(master)
    return proc.returncode, "".join(screen), stdout
