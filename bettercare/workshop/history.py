"""What happened at the table people watch, step by step.

A `Recorder` follows one area's table in a running `BetterCareModel`: after every model step it
pulls the new offers at that table from the model's offer log and takes a `Frame` (week, phase,
status, trust between the parties). Views draw from it; the side-by-side replay keeps one per
run and scrubs through its frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bettercare.vocabulary.plan import N_SLOTS

KIND_LABEL = {
    "council": "the council",
    "ccg": "the CCG",
    "acute": "the acute trust",
    "centre": "NHS England's assurance team",
}


@dataclass(frozen=True)
class Party:
    index: int
    code: str
    name: str
    kind: str
    holdout: bool

    @property
    def label(self) -> str:
        return KIND_LABEL.get(self.kind, self.kind)


@dataclass
class OfferRow:
    """One offer at the table and every party's answer to it."""

    oid: int
    week: int
    round: int
    phase: str
    proposer: int
    plan: np.ndarray
    utility: np.ndarray  # each party's normalised utility of the offer, at the time
    reservation: np.ndarray
    target: np.ndarray
    responses: list[str]  # per party: proposed | accept | reject
    people: dict[int, str] = field(default_factory=dict)  # party -> name of the person who acted
    agents: dict[int, str] = field(default_factory=dict)  # party -> why the agent answered for a person

    @property
    def agreed(self) -> bool:
        return all(r in ("proposed", "accept") for r in self.responses)


@dataclass
class Frame:
    """The table after one model step."""

    tick: int
    week: int
    month: int
    phase: str
    status: str
    trust: np.ndarray  # trust of row party in column party
    n_offers: int
    agreed_week: int | None
    on_table: np.ndarray | None  # the plan on the table: the last offer, the agreed or the imposed plan
    area_status: list[str]


class Recorder:
    """Follows one table of a model: its offers and a frame per step."""

    def __init__(self, model, focus: int):
        self.model = model
        self.focus = focus
        table = model.tables[focus]
        self.area_name = str(model.area_frame.area_name.iloc[focus])
        self.area_code = str(model.area_frame.area_code.iloc[focus])
        self.parties = [Party(i, p.code, p.name, p.kind, bool(p.holdout)) for i, p in enumerate(table.parties)]
        self.outsiders = [Party(-1, o.code, o.name, o.kind, bool(o.holdout)) for o in table.outsiders]
        self.index = {p.code: p.index for p in self.parties}
        self.minimum_gbp = float(model.minimum_gbp[focus])
        self.admissions = float(model.admissions[focus])
        self.offers: list[OfferRow] = []
        self.frames: list[Frame] = []
        self._seen = 0
        self._resp_pos = 0
        self.people_moves: dict[tuple[int, str], str] = {}  # (week, org code) -> person's name
        self.agent_moves: dict[tuple[int, str], str] = {}  # (week, org code) -> why the agent answered
        self.frame()

    def note_person(self, week: int, code: str, name: str) -> None:
        self.people_moves[(week, code)] = name

    def note_agent(self, week: int, code: str, why: str) -> None:
        """A person held the seat but the agent answered (the timer ran out, the facilitator moved on)."""
        self.agent_moves[(week, code)] = why

    def pull(self) -> None:
        """Copy offers made at this table since the last pull from the model's log."""
        m = self.model
        offers, responses = m._offers, m._responses
        n = self.n
        while self._seen < len(offers):
            row = offers[self._seen]
            self._seen += 1
            oid, area, phase, week, rounds, proposer_code, _cand = row[:7]
            k = len(m.tables[area].codes)
            resp = responses[self._resp_pos : self._resp_pos + k]
            self._resp_pos += k
            if area != self.focus:
                continue
            util = np.full(n, np.nan)
            res = np.full(n, np.nan)
            tgt = np.full(n, np.nan)
            answers = ["?"] * n
            for _oid, code, _kind, u, r, t, a in resp:
                j = self.index[code]
                util[j], res[j], tgt[j], answers[j] = u, r, t, a
            people = {
                j: self.people_moves[(week, p.code)]
                for j, p in enumerate(self.parties)
                if (week, p.code) in self.people_moves
            }
            agents = {
                j: self.agent_moves[(week, p.code)]
                for j, p in enumerate(self.parties)
                if (week, p.code) in self.agent_moves
            }
            self.offers.append(
                OfferRow(
                    int(oid),
                    int(week),
                    int(rounds),
                    str(phase),
                    self.index[proposer_code],
                    np.asarray(row[7 : 7 + N_SLOTS], float),
                    util,
                    res,
                    tgt,
                    answers,
                    people,
                    agents,
                )
            )

    @property
    def n(self) -> int:
        return len(self.parties)

    def codes(self) -> list[str]:
        return [p.code for p in self.parties]

    def on_table(self) -> np.ndarray | None:
        t = self.model.tables[self.focus]
        if t.plan is not None:
            return np.asarray(t.plan, float).copy()
        if self.offers:
            return self.offers[-1].plan
        return None

    def frame(self, tick: int | None = None) -> Frame:
        self.pull()
        m = self.model
        t = m.tables[self.focus]
        f = Frame(
            tick=len(self.frames) if tick is None else tick,
            week=int(m.week_no),
            month=int(m.month_no),
            phase=str(m.phase),
            status=str(m.status[self.focus]),
            trust=m.trust.matrix(self.codes()).copy(),
            n_offers=len(self.offers),
            agreed_week=t.agreed_week if t.agreed is not None else None,
            on_table=self.on_table(),
            area_status=[str(s) for s in m.status],
        )
        self.frames.append(f)
        return f

    def trust_now(self) -> np.ndarray:
        return self.model.trust.matrix(self.codes())


def mean_off_diagonal(m: np.ndarray) -> float:
    n = len(m)
    if n < 2:
        return float("nan")
    return float((m.sum() - np.trace(m)) / (n * n - n))
