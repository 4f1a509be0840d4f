"""What a facilitator can set: the scenario presets, the room's settings and its room code.

Every field of `Settings` is also a flag of `bettercare workshop` (see `cli.py`), so that a room
can be rebuilt the same from the command line.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from bettercare.model.scenario import load_scenario

# The presets a trainer picks from: (preset name, label, default area).
WORKSHOP_PRESETS: list[tuple[str, str, str]] = [
    ("england-2014", "England 2014", "Wigan"),
    ("hospitals-in", "Hospitals at the table (three parties)", "Wigan"),
    ("hospitals-out", "Hospitals left out", "Wigan"),
    ("holdout-council", "The partner who will not compromise", "Wigan"),
    ("co-located", "Co-located teams (Sunderland)", "Sunderland"),
    ("coterminous", "A coterminous area (Wigan)", "Wigan"),
    ("enabling-centre", "An enabling centre", "Wigan"),
    ("long-deadline", "A long deadline", "Wigan"),
]
PRESET_LABEL = {name: label for name, label, _ in WORKSHOP_PRESETS}
PRESET_AREA = {name: area for name, _, area in WORKSHOP_PRESETS}

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # for made-up codes: no 0/O, 1/I/L
CODE_LENGTH = (3, 12)
MAX_AREAS = 12


def new_code(n: int = 5) -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(n))


def code_problem(code: str) -> str | None:
    """Why `code` cannot be a room code, or None. Any ASCII letters and digits, 3-12 of them."""
    c = code.strip()
    lo, hi = CODE_LENGTH
    if not (lo <= len(c) <= hi and c.isascii() and c.isalnum()):
        return f"{code!r} is not allowed: a room code is {lo}-{hi} letters and digits (A-Z, 0-9)"
    return None


def preset_label(name: str) -> str:
    return PRESET_LABEL.get(name, name)


@dataclass
class Settings:
    preset: str = "england-2014"
    areas: list[str] = field(default_factory=lambda: ["Wigan"])
    focus: str = "Wigan"
    trust: float = 0.5
    compromise: float = 1.0
    deadline_weeks: int = 16
    hospitals: float = 0.25
    seed: int = 1
    turn_seconds: int = 0  # 0: no timer, people take the time they need
    play_delay: float = 0.6  # seconds between weeks when playing
    seats_per_browser: int = 1  # how many seats one browser may hold (a shared laptop: more)
    team_size: int = 1  # laptops that may share one seat: a lead who moves, members who see the brief
    team_advice: bool = False  # members may suggest plans and vote on offers, as advice to their lead
    tables: list[str] = field(default_factory=list)  # more areas people sit at, at the same time as the focus

    def people_areas(self) -> list[str]:
        """The areas whose tables people sit at: the focus first, then `tables`."""
        return [self.focus, *[t for t in dict.fromkeys(self.tables) if t != self.focus]]

    @classmethod
    def for_preset(cls, preset: str, areas: list[str] | None = None, **kw) -> Settings:

        p = load_scenario(preset).params
        areas = list(areas) if areas else [PRESET_AREA.get(preset, "Wigan")]
        base = dict(
            preset=preset,
            areas=areas,
            focus=areas[0],
            trust=p.trust.initial,
            compromise=p.negotiation.compromise,
            deadline_weeks=p.deadline.weeks,
            hospitals=p.acute.at_table,
        )
        base.update({k: v for k, v in kw.items() if v is not None})
        return cls(**base)

    def overrides(self) -> dict[str, Any]:
        return {
            "areas.names": list(self.areas),
            "trust.initial": float(self.trust),
            "negotiation.compromise": float(self.compromise),
            "deadline.weeks": int(self.deadline_weeks),
            "acute.at_table": float(self.hospitals),
        }


STRUCTURAL = {"preset", "areas", "focus", "tables", "deadline_weeks", "hospitals", "seed"}
LIVE = {"trust", "compromise"}
OTHER_SETTINGS = {"turn_seconds", "play_delay", "seats_per_browser", "team_size", "team_advice"}
RANGES: dict[str, tuple[float, float]] = {
    "trust": (0.0, 1.0),
    "compromise": (0.05, 10.0),
    "deadline_weeks": (1, 104),
    "hospitals": (0.0, 1.0),
    "seed": (0, 2**31 - 1),
    "turn_seconds": (0, 3600),
    "play_delay": (0.0, 10.0),
    "seats_per_browser": (1, 6),
    "team_size": (1, 8),
}
