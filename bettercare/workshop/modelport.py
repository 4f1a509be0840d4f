"""The workshop's one door into the model's internals.

Everything the room does *to* the model goes through here: building it from the room's
settings, putting a person in a seat, the agent's own move in that seat, plans from people,
and the live changes (trust, compromise). When the model's names change (issue 10: `Seat`
becomes `Negotiator`, the agent's strategy moves onto `Organisation.propose/respond`), this
module is the one to change. Reading for the views (offers, frames) stays in `history.py`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from bettercare.agents import Verdict, check_verdict
from bettercare.model.model import BetterCareModel
from bettercare.model.scenario import ScenarioError, load_scenario
from bettercare.vocabulary.plan import LINES, N_SLOTS, Slot, validate


class PersonSeat:
    """A seat a person may take: it wraps the organisation, which answers when nobody does.

    The negotiation calls it like any other `Negotiator`. `ask(table, party, kind, offer)`
    returns the person's answer (a plan index or a bool) or None, in which case the organisation
    decides for itself.
    """

    def __init__(self, ask: Callable[..., Any], organisation):
        self.ask = ask
        self.agent = organisation

    def propose(self, table, party: int) -> int:
        answer = self.ask(table, party, "propose", None)
        return int(self.agent.propose(table, party)) if answer is None else int(answer)

    def respond(self, table, party: int, offer: int) -> bool:
        answer = self.ask(table, party, "respond", offer)
        return bool(self.agent.respond(table, party, offer)) if answer is None else bool(answer)


class CentreSeat:
    """The centre's assurance seat: the `Reviewer` a person may take.

    `ask(area, figures)` returns the person's (verdict, name) or None, in which case the
    stress test's own verdict stands.
    """

    def __init__(self, ask: Callable[..., Any]):
        self.ask = ask

    def review(self, centre, area: int, review) -> Verdict | None:
        answer = self.ask(area, review_figures(centre, area, review))
        if answer is None:
            return None
        status, who = answer
        return Verdict(check_verdict(status), str(who))


def review_figures(centre, area: int, review) -> dict[str, Any]:
    """What the assurance team sees of one plan: the stress test's figures and thresholds."""
    m = centre.model
    c = m.params.centre
    plan = m.tables[area].plan
    return {
        "area": str(m.area_frame.area_name.iloc[area]),
        "claimed_gbp": float(review.claimed_gbp),
        "realistic_gbp": float(review.claimed_gbp / review.ratio) if review.ratio > 0 else 0.0,
        "estimated_return": float(review.estimated_return),
        "ratio": float(review.ratio),
        "approve_ratio": float(c.approve_ratio),
        "conditions_ratio": float(c.conditions_ratio),
        "ambition": float(plan[Slot.AMBITION]) if plan is not None else 0.0,
        "ambition_target": float(m.rules.ambition_target),
        "model_verdict": str(review.verdict),
        "returns": int(m.returns[area]),
    }


def build(settings, ask: Callable[..., Any], review: Callable[..., Any] | None = None, lock=None):
    """A model for the room's settings, with a `PersonSeat` in every seat of each table people sit
    at (`Settings.people_areas`) and, given `review`, a `CentreSeat` as the centre's reviewer.

    With people at several tables, those tables talk at the same time (`waiting_tables`), sharing
    `lock` (the room's), so people at one table never wait for another's. Two such tables may not
    share an organisation: a seat is one organisation at one table.

    Returns (model, scenario, focus index, the people's area indices, focus first).
    """

    sc = load_scenario(settings.preset, settings.overrides())
    model = BetterCareModel(sc.params, rng=settings.seed)
    names = area_names(model)
    focus = names.index(settings.focus) if settings.focus in names else 0
    people = [focus]
    for name in settings.tables:
        if name not in names:
            raise ScenarioError(f"tables: {name!r} is not one of the chosen areas ({', '.join(names)})")
        if names.index(name) not in people:
            people.append(names.index(name))
    for i, a in enumerate(people):
        for b in people[:i]:
            shared = [o.name for o in model.tables[a].parties if o.code in model.tables[b].codes]
            if shared:
                raise ScenarioError(
                    f"tables: people cannot sit at both {names[b]} and {names[a]}: {shared[0]} sits at both; "
                    "choose areas that share no organisation"
                )
    for a in people:
        table = model.tables[a]
        table.negotiators = [PersonSeat(ask, org) for org in table.parties]
    model.waiting_tables = frozenset(people)
    model.table_condition = lock
    if review is not None:
        model.centre.reviewer = CentreSeat(review)
    return model, sc, focus, people


def area_names(model) -> list[str]:
    return [str(n) for n in model.area_frame.area_name]


def apply_live(model, trust: float | None = None, compromise: float | None = None) -> None:
    """Trust and compromise change in the running model: new leaders, new instructions."""
    if trust is not None:
        for code in model.orgs:
            model.trust.reset(code, trust)  # local relationships only; trust in the centre stays
        for t in model.tables:
            t.trust = model.trust.matrix(t.codes)
        model.params.trust.initial = trust
    if compromise is not None:
        old = model.params.negotiation.compromise
        for o in model.orgs.values():
            if not o.holdout:
                o.beta = o.beta * compromise / old
        model.params.negotiation.compromise = compromise


def limits(model, area: int) -> dict[str, float]:
    """What a person's plan may hold at this area's table: top-ups in £m, ambition in %."""
    prm = model.params
    m = float(model.minimum_gbp[area])
    return {
        "minimum_gbp": m,
        "max_topup_m": math.floor(prm.money.max_topup * m / 1e5) / 10,
        "ambition_max_pct": 100 * prm.planning.ambition_max,
        "max_topup": float(prm.money.max_topup),
        "ambition_max": float(prm.planning.ambition_max),
    }


def check_plan(model, plan: np.ndarray) -> str | None:
    """The model's own rule check (`plan.validate`), for plans from people."""
    prm = model.params
    return validate(plan, prm.money.max_topup, prm.planning.ambition_max)


def add_plan(table, plan: np.ndarray) -> int:
    return int(table.add_plan(plan))


def score(table, plan: np.ndarray) -> np.ndarray:
    """Each party's score of a plan on the brief's 0-1 scale (plans outside the candidates can
    score beyond it; the caller caps for display)."""
    return np.asarray(table.score(plan), float)


def suggestion(model, table, seat: int) -> np.ndarray:
    """What the model's agent would put on the table from this seat now."""
    if (
        getattr(table, "targets", None) is not None
        and getattr(table, "credible", None) is not None
        and len(table.credible) == len(table.plans)
    ):
        return table.plans[int(table.parties[seat].propose(table, seat))]
    return table.plans[int(np.argmax(table.utility[seat]))]


def agent_bar(table, seat: int) -> float | None:
    targets = getattr(table, "targets", None)
    return float(targets[seat]) if targets is not None else None


def empty_plan() -> np.ndarray:
    return np.zeros(N_SLOTS)


def plan_slots() -> tuple[int, int, Any, int]:
    return Slot.COUNCIL_TOPUP, Slot.CCG_TOPUP, LINES, Slot.AMBITION
