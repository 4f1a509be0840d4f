"""Plans from people: the form's numbers to a plan vector and back, and shares kept at 100%.

The rules a plan must meet are the model's own (`plan.validate`, through `modelport.check_plan`);
this module only turns £m and % into the model's units and says what went wrong in words.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bettercare.vocabulary.plan import FLOORS, LINE_NAMES, LINES, N_SLOTS, Slot

from .story import LINE_LABELS, gbp, spend_gbp

N_LINES = len(LINES)


class PlanError(ValueError):
    """A plan from a person that breaks a rule; the message is for them."""


def parse(data: dict[str, Any]) -> tuple[float, float, list[float], float]:
    try:
        council = float(data["council_topup_m"])
        ccg = float(data["ccg_topup_m"])
        shares = [float(x) for x in data["shares_pct"]]
        ambition = float(data["ambition_pct"])
    except (KeyError, TypeError, ValueError):
        raise PlanError("a plan needs two top-ups, five shares and an ambition, as numbers") from None
    if len(shares) != N_LINES or not all(map(math.isfinite, [council, ccg, ambition, *shares])):
        raise PlanError("a plan needs two top-ups, five shares and an ambition, as numbers")
    return council, ccg, shares, ambition


def plan_from(data: dict[str, Any], limits: dict[str, float], check) -> np.ndarray:
    """A plan vector from what a person set: top-ups in £m, shares of the pool in %, ambition in %.

    `check(plan)` is the model's rule check (`plan.validate`); its reason is passed on.
    """
    council, ccg, shares, ambition = parse(data)
    m = limits["minimum_gbp"]
    for who, v in (("council's", council), ("CCG's", ccg)):
        if not 0 <= v <= limits["max_topup_m"] + 1e-9:
            raise PlanError(f"the {who} top-up must be between £0.0m and £{limits['max_topup_m']:.1f}m")
    plan = np.zeros(N_SLOTS)
    plan[Slot.COUNCIL_TOPUP] = min(council * 1e6 / m, limits["max_topup"])
    plan[Slot.CCG_TOPUP] = min(ccg * 1e6 / m, limits["max_topup"])
    plan[LINES] = np.array(shares) / 100
    plan[Slot.AMBITION] = ambition / 100
    why = check(plan)
    if why:
        raise PlanError(in_words(why, plan, m))
    return plan


def in_words(why: str, plan: np.ndarray, minimum_gbp: float) -> str:
    """The model's reason, with a line's floor in £ where the reason names one."""

    for i, name in enumerate(LINE_NAMES):
        if why.startswith(name) and "floor" in why:
            spend = spend_gbp(plan, minimum_gbp)[i]
            return f"{LINE_LABELS[i]} gets {gbp(spend)}, below its mandated floor of {gbp(FLOORS[i] * minimum_gbp)}"
    if why.startswith("scheme shares"):
        if np.any(plan[LINES] < 0):
            return "no share of the pool can be negative"
        return f"the shares of the pool add up to {100 * float(np.sum(plan[LINES])):.1f}%; they must add up to 100%"
    return why


def floors_pct(council_m: float, ccg_m: float, minimum_gbp: float) -> list[float]:
    """Each line's mandated floor as a % of this pool (the floors are fixed in £)."""
    pool = 1 + (council_m + ccg_m) * 1e6 / minimum_gbp
    return [100 * float(f) / pool for f in FLOORS]


def _round_to_100(shares: list[float], keep: int | None = None, up: list[float] | None = None) -> list[float]:
    """Round to 0.1% and put the rounding's remainder on the share with most room above its floor."""
    out = [round(s, 1) for s in shares]
    up = up or [0.0] * len(out)
    others = [j for j in range(len(out)) if j != keep]
    big = max(others, key=lambda j: out[j] - up[j])
    out[big] = round(out[big] + 100 - sum(out), 1)
    return out


def balance(shares: list[float], i: int, value: float, floors: list[float]) -> list[float]:
    """Set share `i` to `value` % and move the others so that all add up to 100%.

    The others keep their floors and share what is left in proportion to what they held above
    them; share `i` cannot take more than the others' floors leave.
    """
    up = [math.ceil(f * 10 - 1e-9) / 10 for f in floors]
    others = [j for j in range(len(shares)) if j != i]
    room_left = 100 - sum(up[j] for j in others)
    v = min(max(float(value), up[i]), room_left)
    excess = 100 - v - sum(up[j] for j in others)
    above = [max(shares[j] - up[j], 0.0) for j in others]
    total = sum(above)
    weights = [a / total for a in above] if total > 0 else [1 / len(others)] * len(others)
    out = list(shares)
    out[i] = v
    for j, w in zip(others, weights):
        out[j] = up[j] + excess * w
    return _round_to_100(out, keep=i, up=up)


def make_100(shares: list[float], floors: list[float]) -> list[float]:
    """Scale the shares to add up to 100%, keeping the floors (the form's "make 100%")."""
    up = [math.ceil(f * 10 - 1e-9) / 10 for f in floors]
    above = [max(s - u, 0.0) for s, u in zip(shares, up)]
    excess = 100 - sum(up)
    total = sum(above)
    weights = [a / total for a in above] if total > 0 else [1 / len(shares)] * len(shares)
    return _round_to_100([u + excess * w for u, w in zip(up, weights)], up=up)


def plan_to_form(plan: np.ndarray, limits: dict[str, float]) -> dict[str, Any]:
    """Form values for a plan: shares rounded to 0.1% that still add up to 100% and meet floors."""
    m = limits["minimum_gbp"]
    council = min(round(float(plan[Slot.COUNCIL_TOPUP]) * m / 1e6, 1), limits["max_topup_m"])
    ccg = min(round(float(plan[Slot.CCG_TOPUP]) * m / 1e6, 1), limits["max_topup_m"])
    up = [math.ceil(fp * 10 - 1e-9) / 10 for fp in floors_pct(council, ccg, m)]
    shares = [max(round(100 * float(s), 1), u) for s, u in zip(plan[LINES], up)]
    return {
        "council_topup_m": council,
        "ccg_topup_m": ccg,
        "shares_pct": _round_to_100(shares, up=up),
        "ambition_pct": round(100 * float(plan[Slot.AMBITION]), 1),
    }
