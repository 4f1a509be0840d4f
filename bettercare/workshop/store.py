"""A workshop session on disk: one SQLite file per session, written as the room changes.

`bettercare workshop --session NAME` keeps `NAME.sqlite` in the sessions folder
($BETTERCARE_WORKSHOP_SESSIONS, default ~/.local/share/bettercare/workshop). It holds:

- `meta`: the room code, the facilitator's key, the settings and the epoch (a Reset starts a new one);
- `participants`: everyone who joined, with their key, name, seat and browser;
- `journal`: what people told the model in this epoch, in order (each step, each answer a
  person gave or left to the agent, the centre seat's verdicts among them, each live change of
  trust or compromise). The model is
  rebuilt from the seed and the journal replayed, which gives back the same model exactly;
- `log`: the room's log, as shown on the facilitator's screen.

Each write is its own transaction, so a Ctrl-C or a power cut loses at most the action in flight.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS participants (
    token TEXT PRIMARY KEY, name TEXT NOT NULL, seat TEXT, last_seat TEXT, browser TEXT NOT NULL DEFAULT '',
    joined REAL NOT NULL, role TEXT NOT NULL DEFAULT 'lead');
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, epoch INTEGER NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, time REAL NOT NULL, who TEXT NOT NULL, text TEXT NOT NULL,
    ok INTEGER NOT NULL);
"""
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def sessions_dir() -> Path:
    env = os.environ.get("BETTERCARE_WORKSHOP_SESSIONS")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bettercare" / "workshop"


def session_problem(name: str) -> str | None:
    if not NAME.match(name):
        return (
            f"--session {name!r} is not allowed: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return None


def session_path(name: str) -> Path:
    return sessions_dir() / f"{name}.sqlite"


class SessionStore:
    """The SQLite file of one session. Thread-safe; every call commits."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- meta -------------------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def put(self, **items: Any) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                [(k, json.dumps(v)) for k, v in items.items()],
            )

    def is_new(self) -> bool:
        return self.get("code") is None

    # --- participants -----------------------------------------------------------------------
    def save_participant(self, p) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO participants(token, name, seat, last_seat, browser, joined, role) "
                "VALUES(?,?,?,?,?,?,?) ON CONFLICT(token) DO UPDATE SET name=excluded.name, "
                "seat=excluded.seat, last_seat=excluded.last_seat, browser=excluded.browser, "
                "role=excluded.role",
                (p.token, p.name, p.seat, p.last_seat, p.browser, p.joined, p.role),
            )

    def participants(self) -> list[dict[str, Any]]:
        with self._lock:
            cur = self._db.execute("SELECT token, name, seat, last_seat, browser, joined, role FROM participants")
            cols = [c[0] for c in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

    # --- the journal --------------------------------------------------------------------------
    def append(self, epoch: int, kind: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO journal(epoch, kind, data) VALUES(?,?,?)", (epoch, kind, json.dumps(data)))

    def journal(self, epoch: int) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            rows = self._db.execute("SELECT kind, data FROM journal WHERE epoch=? ORDER BY seq", (epoch,)).fetchall()
        return [(k, json.loads(d)) for k, d in rows]

    # --- the log ---------------------------------------------------------------------------------
    def add_log(self, e) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO log(id, time, who, text, ok) VALUES(?,?,?,?,?)",
                (e.id, e.time, e.who, e.text, int(e.ok)),
            )

    def log(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT id, time, who, text, ok FROM log ORDER BY id").fetchall()
        return [{"id": i, "time": t, "who": w, "text": x, "ok": bool(o)} for i, t, w, x, o in rows]


def settings_dict(settings) -> dict[str, Any]:
    return asdict(settings)
