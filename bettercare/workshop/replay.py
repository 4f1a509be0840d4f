"""Two settings side by side for the debrief: the same area, seed and preset, one setting changed.

Both runs are played by the model's agents from start to finish, each followed by a `Recorder`,
so that the debrief can scrub through them week by week ("trust 0.3 against trust 0.8").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from bettercare.model.results import collect

from . import modelport
from .history import Recorder, mean_off_diagonal
from .story import offer_sentence

# What can be compared: setting -> (label, lowest, highest, step, default A, default B)
PARAMETERS: dict[str, tuple[str, float, float, float, float, float]] = {
    "trust": ("Trust between partners", 0.0, 1.0, 0.05, 0.3, 0.8),
    "compromise": ("Willingness to compromise", 0.1, 5.0, 0.1, 0.5, 2.0),
    "deadline_weeks": ("Weeks to the first deadline", 2, 52, 1, 6, 30),
    "hospitals": ("Hospitals at the table (share of areas)", 0.0, 1.0, 0.25, 0.0, 1.0),
}


@dataclass
class ReplayRun:
    label: str
    settings: Any
    recorder: Recorder
    sentences: dict[int, str]
    outcome: dict[str, Any]

    @property
    def frames(self):
        return self.recorder.frames

    def trust_series(self) -> list[tuple[int, float]]:
        return [(f.tick, mean_off_diagonal(f.trust)) for f in self.frames]


@dataclass
class Replay:
    parameter: str
    values: tuple[float, float]
    runs: list[ReplayRun] = field(default_factory=list)

    @property
    def length(self) -> int:
        return max(len(r.frames) for r in self.runs)


def value_label(parameter: str, value: float) -> str:
    label = PARAMETERS[parameter][0]
    if parameter == "deadline_weeks":
        return f"{label}: {int(value)}"
    return f"{label}: {value:g}"


def play(settings, parameter: str, value: float) -> ReplayRun:
    """One run by the agents alone, recorded step by step."""

    s = replace(settings, tables=[], **{parameter: int(value) if parameter == "deadline_weeks" else float(value)})
    model, _, focus, _ = modelport.build(s, lambda *_: None)  # nobody at the table: the agents answer
    rec = Recorder(model, focus)
    sentences: dict[int, str] = {}
    tick = 0
    while not model.done:
        model.step()
        tick += 1
        rec.frame(tick)
        prev = None
        for row in rec.offers:
            if row.oid not in sentences:
                sentences[row.oid] = offer_sentence(model, model.tables[focus], rec.parties, row, prev, rec.minimum_gbp)
            prev = row.plan
    national, tables = collect(model)
    outcome = {
        "national": national,
        "area": tables["areas"].iloc[focus].to_dict(),
        "months": int(model.params.delivery.months),
    }
    return ReplayRun(value_label(parameter, value), s, rec, sentences, outcome)


def run_pair(settings, parameter: str, a: float, b: float) -> Replay:
    if parameter not in PARAMETERS:
        raise ValueError(f"cannot compare {parameter!r}: choose one of {', '.join(PARAMETERS)}")
    _, lo, hi, _, _, _ = PARAMETERS[parameter]
    for v in (a, b):
        if not lo <= float(v) <= hi:
            raise ValueError(f"{PARAMETERS[parameter][0]} must be between {lo:g} and {hi:g}")
    return Replay(parameter, (a, b), [play(settings, parameter, a), play(settings, parameter, b)])
