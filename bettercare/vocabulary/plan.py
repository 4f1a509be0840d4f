"""A plan is a small vector with named slots, so that thousands of candidates score at once.

Slots (all relative to the area's minimum pool M, so one candidate set serves every area):
top-ups from the council and the CCG, the pool's shares across five scheme lines, and the
claimed cut in emergency admissions (the ambition). Mandated lines have floors in GBP terms,
as a share of M, taken from the 2013 Spending Round make-up of the GBP 3.8bn.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from scipy.special import ndtr

EPS = 1e-9  # tolerance for comparing utilities and shares


class Slot(IntEnum):
    COUNCIL_TOPUP = 0
    CCG_TOPUP = 1
    SOCIAL_CARE = 2
    COMMUNITY_HEALTH = 3
    ADMISSION_AVOIDANCE = 4
    ACUTE_RISK_SHARE = 5
    OTHER = 6
    AMBITION = 7


N_SLOTS = len(Slot)
LINES = [Slot.SOCIAL_CARE, Slot.COMMUNITY_HEALTH, Slot.ADMISSION_AVOIDANCE, Slot.ACUTE_RISK_SHARE, Slot.OTHER]
LINE_NAMES = ["social_care", "community_health", "admission_avoidance", "acute_risk_share", "other"]

# Floors, share of M. Social care: GBP 1.1bn already transferred. Community health: GBP 300m
# reablement. Other: GBP 130m carers' breaks + GBP 354m capital (DFG and social care capital).
FLOORS = np.array([1.1, 0.3, 0.0, 0.0, 0.484]) / 3.8


class Feature(IntEnum):
    """What organisations care about in a plan. Utilities are weights over these."""

    SOCIAL_CARE = 0  # sqrt of social-care spend / M: protection with diminishing returns
    COMMUNITY = 1  # sqrt of community health spend / M
    AVOIDANCE = 2  # sqrt of admission-avoidance spend / M
    RISK_SHARE = 3  # acute risk-share spend / M
    OTHER = 4  # other lines / M
    COUNCIL_TOPUP = 5  # council top-up / M
    CCG_TOPUP = 6  # CCG top-up / M
    AMBITION = 7  # claimed admissions cut, per 3%
    NHS_OUTFLOW = 8  # NHS money moved to social care above the floor / M
    INCOME_LOSS = 9  # acute activity income lost against fixed costs / M
    P4P_AT_RISK = 10  # performance money the area expects to lose / M
    FREEDOM = 11  # unringfenced social-care money the council may divert / M
    TARGET_GAP = 12  # shortfall of the ambition below the centre's target, per 3%
    COUNCIL_POOLS_MORE = 13  # 1 if the council tops up at all: a section 75 agreement to govern
    CCG_POOLS_MORE = 14  # 1 if the CCG tops up at all


N_FEATURES = len(Feature)


@dataclass(frozen=True)
class Rules:
    """The centre's rules that change how a plan pays out, and so how partners value it."""

    p4p_rule: str  # multi_metric | admissions_ambition | none
    p4p_share: float
    withheld_to: str  # nhs | centre
    ambition_target: float  # 0 when the rules set no target (before the 2014 pause)
    divert_room: float
    fixed_cost_share: float
    p4p_gbp_per_admission: float
    admission_gbp: float
    return_sd: float  # spread of scheme returns the partners know the evidence shows
    social_care_spillover: float
    spillover_claimed_share: float  # share of the spill-over claimed as avoided admissions


def spend_shares(plans: np.ndarray) -> np.ndarray:
    """Spend by line relative to M, shape (K, 5) (or (..., K, 5) for plans (..., K, slots))."""
    return plans[..., LINES] * pool_relative(plans)[..., None]


def savings_basis(plans: np.ndarray) -> np.ndarray:
    """(K, 2): scheme spend and social-care spend above its floor, relative to M.

    Savings a plan can claim = return x scheme spend + (spillover / 2) x extra social care: half
    of the health spend that social care saves (DH: 34p per GBP) shows as fewer admissions.
    """
    s = spend_shares(plans)
    return np.stack([s[..., 1] + s[..., 2], np.maximum(s[..., 0] - FLOORS[0], 0.0)], axis=-1)


def savings_rel(
    basis: np.ndarray, scheme_return: float | np.ndarray, spillover: float, claimed_share: float
) -> np.ndarray:
    """Savings relative to M for each plan's basis (see savings_basis): the scheme return on
    scheme spend plus the claimed share of the spill-over on extra social care.

    With one return per area (`scheme_return` of shape (A, 1)) and `basis` (K, 2) or (A, K, 2),
    the result is (A, K): each area's row is the same product as its own call, so the numbers do
    not depend on how many areas are scored at once.
    """
    r = np.asarray(scheme_return, float)
    if r.ndim == 0:
        return basis @ np.array([scheme_return, claimed_share * spillover])
    r = r.reshape(len(r), -1)[:, 0]
    rows = basis if basis.ndim == 3 else [basis] * len(r)
    return np.stack([b @ np.array([ra, claimed_share * spillover]) for b, ra in zip(rows, r)])


def pool_relative(plans: np.ndarray) -> np.ndarray:
    """Pool size relative to the area minimum: 1 + top-ups."""
    return 1.0 + plans[..., Slot.COUNCIL_TOPUP] + plans[..., Slot.CCG_TOPUP]


def make_plans(council_topup, ccg_topup, free_split, ambition) -> np.ndarray:
    """Build plans from top-ups, a split of the money above the floors, and an ambition.

    `free_split` rows sum to 1 over the five lines; floors are met by construction.
    """
    council_topup = np.asarray(council_topup, float)
    ccg_topup = np.asarray(ccg_topup, float)
    free_split = np.atleast_2d(np.asarray(free_split, float))
    pool = 1.0 + council_topup + ccg_topup
    free = pool - FLOORS.sum()
    spend = FLOORS[None, :] + free_split * np.atleast_1d(free)[:, None]
    plans = np.empty((len(spend), N_SLOTS))
    plans[:, Slot.COUNCIL_TOPUP] = council_topup
    plans[:, Slot.CCG_TOPUP] = ccg_topup
    plans[:, LINES] = spend / np.atleast_1d(pool)[:, None]
    plans[:, Slot.AMBITION] = ambition
    return plans


def candidates(rng: np.random.Generator, k: int, max_topup: float, ambition_max: float) -> np.ndarray:
    """K candidate plans: half with no top-up from each partner, free money split by Dirichlet."""
    council = np.where(rng.random(k) < 0.5, 0.0, max_topup * rng.random(k) ** 2)
    ccg = np.where(rng.random(k) < 0.5, 0.0, max_topup * rng.random(k) ** 2)
    split = rng.dirichlet(np.full(len(LINES), 0.8), size=k)
    ambition = ambition_max * rng.random(k)
    return make_plans(council, ccg, split, ambition)


def imposed(ambition: float) -> np.ndarray:
    """The centre's minimum plan: no top-ups, free money to community and avoidance schemes."""
    return make_plans(0.0, 0.0, [[0.2, 0.3, 0.3, 0.2, 0.0]], ambition)[0]


def validate(plan: np.ndarray, max_topup: float, ambition_max: float) -> str | None:
    """Why a plan is not allowed, or None. Used for plans that come from people, not sampling."""
    plan = np.asarray(plan, float)
    if plan.shape != (N_SLOTS,) or not np.all(np.isfinite(plan)):
        return f"a plan needs {N_SLOTS} finite numbers"
    for slot in (Slot.COUNCIL_TOPUP, Slot.CCG_TOPUP):
        if not 0 <= plan[slot] <= max_topup:
            return f"{slot.name.lower()} must be between 0 and {max_topup} of the minimum"
    if not 0 <= plan[Slot.AMBITION] <= ambition_max:
        return f"ambition must be between 0 and {ambition_max:.0%}"
    shares = plan[LINES]
    if np.any(shares < 0) or abs(shares.sum() - 1) > 1e-6:
        return f"scheme shares must be non-negative and add up to 100% (they add up to {shares.sum():.1%})"
    spend = shares * pool_relative(plan[None])[0]
    short = spend < FLOORS - 1e-9
    if short.any():
        i = int(np.argmax(short))
        return f"{LINE_NAMES[i]} is below its mandated floor ({spend[i]:.1%} of the minimum < {FLOORS[i]:.1%})"
    return None


def shortfall_share(ambition: np.ndarray, deliverable: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """Expected share of the claimed cut `ambition` not achieved, when the cut delivered is normal
    with mean `deliverable` and sd `spread`: E[clip(1 - D/ambition, 0, 1)], 0 for no ambition.

    With (k - D)+ the shortfall below k, E[(k - D)+] = (k - mu) Phi(z) + sigma phi(z), z = (k - mu)/sigma;
    the clipped share is (E[(a - D)+] - E[(0 - D)+]) / a.
    """
    a = np.asarray(ambition, float)
    mu = np.asarray(deliverable, float)
    sd = np.maximum(np.asarray(spread, float), EPS)

    def below(k):
        z = (k - mu) / sd
        return (k - mu) * ndtr(z) + sd * np.exp(-0.5 * z * z) / np.sqrt(2 * np.pi)

    with np.errstate(divide="ignore", invalid="ignore"):
        share = (below(a) - below(np.zeros_like(a))) / a
    return np.where(a > EPS, np.clip(share, 0.0, 1.0), 0.0)


def features(
    plans: np.ndarray,
    minimum_gbp: float | np.ndarray,
    admissions: float | np.ndarray,
    rules: Rules,
    believed_return: float | np.ndarray | None = None,
    basis: np.ndarray | None = None,
) -> np.ndarray:
    """Feature matrix (K, N_FEATURES) of plans for one area, whose minimum pool is `minimum_gbp`.

    `believed_return` is the scheme return the partners believe (the table's); with it, the
    performance money at risk is the share of the pot they expect to miss, given how widely the
    evidence says returns spread (`rules.return_sd`). Without it, the whole pot counts as at risk.
    `basis` is `savings_basis(plans)` if the caller has it already.

    Many areas at once: `minimum_gbp`, `admissions` and `believed_return` of shape (A, 1) with
    plans (K, slots) shared by all, or plans (A, K, slots), give (A, K, N_FEATURES), each area's
    block equal to its own call.
    """
    spend = spend_shares(plans)
    amb = plans[..., Slot.AMBITION]
    shape = np.broadcast_shapes(amb.shape, np.shape(minimum_gbp), np.shape(admissions))
    out = np.empty((*shape, N_FEATURES))
    out[..., Feature.SOCIAL_CARE] = np.sqrt(spend[..., 0])
    out[..., Feature.COMMUNITY] = np.sqrt(spend[..., 1])
    out[..., Feature.AVOIDANCE] = np.sqrt(spend[..., 2])
    out[..., Feature.RISK_SHARE] = spend[..., 3]
    out[..., Feature.OTHER] = spend[..., 4]
    out[..., Feature.COUNCIL_TOPUP] = plans[..., Slot.COUNCIL_TOPUP]
    out[..., Feature.CCG_TOPUP] = plans[..., Slot.CCG_TOPUP]
    out[..., Feature.AMBITION] = amb / 0.03
    excess_sc = spend[..., 0] - FLOORS[0]
    out[..., Feature.NHS_OUTFLOW] = excess_sc
    per_m = admissions / np.maximum(minimum_gbp, 1.0)
    out[..., Feature.INCOME_LOSS] = amb * per_m * rules.admission_gbp * rules.fixed_cost_share
    pot = p4p_pot(plans, minimum_gbp, admissions, rules)
    if believed_return is not None and pot.any():  # no pot (the rule 'none'): nothing at risk
        pot = pot * expected_withheld_share(plans, minimum_gbp, admissions, rules, believed_return, basis)
    out[..., Feature.P4P_AT_RISK] = pot / np.maximum(minimum_gbp, 1.0)
    out[..., Feature.FREEDOM] = rules.divert_room * excess_sc
    out[..., Feature.TARGET_GAP] = np.maximum(rules.ambition_target - amb, 0.0) / 0.03
    out[..., Feature.COUNCIL_POOLS_MORE] = plans[..., Slot.COUNCIL_TOPUP] > 0
    out[..., Feature.CCG_POOLS_MORE] = plans[..., Slot.CCG_TOPUP] > 0
    return out


def expected_withheld_share(
    plans: np.ndarray,
    minimum_gbp: float,
    admissions: float,
    rules: Rules,
    believed_return: float,
    basis: np.ndarray | None = None,
) -> np.ndarray:
    """Share of each plan's performance pot the partners expect to be withheld.

    The pot is paid in proportion to the cut achieved against the plan's own ambition. The
    partners expect their schemes to deliver the cut their believed return buys (as in the claim
    ceiling, §7.6), give or take the spread of returns the evidence shows (`rules.return_sd` on
    the scheme spend), and expect to lose the share of the ambition that falls short. `basis` is
    `savings_basis(plans)` when the caller already has it (a table's candidates).
    """
    if basis is None:
        basis = savings_basis(plans)
    per_admission = np.maximum(minimum_gbp, 1.0) / (np.maximum(admissions, 1.0) * rules.admission_gbp)
    deliverable = (
        savings_rel(basis, believed_return, rules.social_care_spillover, rules.spillover_claimed_share) * per_admission
    )
    spread = rules.return_sd * basis[..., 0] * per_admission
    return shortfall_share(plans[..., Slot.AMBITION], deliverable, spread)


def p4p_pot(plans: np.ndarray, minimum_gbp: float, admissions: float, rules: Rules) -> np.ndarray:
    """GBP held back and paid only for performance, under the rules in force."""
    if rules.p4p_rule == "admissions_ambition":
        return plans[..., Slot.AMBITION] * admissions * rules.p4p_gbp_per_admission
    shape = np.broadcast_shapes(plans.shape[:-1], np.shape(minimum_gbp))
    if rules.p4p_rule == "multi_metric":
        return np.full(shape, rules.p4p_share * minimum_gbp)
    return np.zeros(shape)
