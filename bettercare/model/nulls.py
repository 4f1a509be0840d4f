"""Null models: what the BCF would do with no negotiation, and with no BCF at all.

- The fixed-plan null (`mechanisms.negotiation` off, wired in `BetterCareModel`): every area
  gets `fixed_plan_2014`, the plan of the average 2014 area as published, so delivery runs on
  the flow model with no talks, no assurance and no trust dynamics.
- The trend-only null (`trend_only`): the delivery year as the pre-period trends carry on, which
  is the flow model's no-BCF path (`delivery.model_pre_period`, the counterfactual of every run). Its
  effects against that counterfactual are zero by construction; what it adds is the observable
  change against 2014-15 that the trends alone give.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING

import numpy as np

from bettercare.vocabulary.plan import LINES, N_SLOTS, Slot

from .delivery import model_pre_period

if TYPE_CHECKING:
    from .model import BetterCareModel

# The facts (bettercare/data/facts.toml, from shared/FACTS.md) the fixed plan is built from: the
# 2014 plans' spend by line and top-ups (NHS England's analysis of plans, via HSJ; PAC HC 807)
# and the average ambition of the revised plans (PAC HC 807). All describe plans made by
# September 2014 and published by March 2015.
FIXED_PLAN_FACTS = (
    "share_social_care",
    "share_community_health",
    "share_other_nhs",
    "share_other",
    "topup_council",
    "topup_ccg",
    "ambition_mean",
)


@lru_cache(maxsize=1)
def plan_facts() -> dict[str, float]:
    """The reference values of `FIXED_PLAN_FACTS`, by fact id."""
    with (files("bettercare") / "data" / "facts.toml").open("rb") as fh:
        facts = {f["id"]: float(f["reference"]) for f in tomllib.load(fh)["fact"]}
    return {k: facts[k] for k in FIXED_PLAN_FACTS}


def fixed_plan_2014(minimum_gbp: float, risk_share: float) -> np.ndarray:
    """The plan every area gets in the fixed-plan null: the published 2014 mix.

    Top-ups are the national council and CCG top-ups over the national minimum (`minimum_gbp`);
    the pool is split by the published shares by line, normalised to sum to one (they are
    rounded, and 'other NHS' is 'about' GBP 800m); 'other NHS' is split between the acute
    risk-share line (`risk_share`, `planning.fixed_mix_risk_share`) and admission avoidance;
    the ambition is the 3.07% average. Every floor is met, so the plan is a valid one.
    """
    f = plan_facts()
    other_nhs = f["share_other_nhs"]
    shares = np.array(
        [
            f["share_social_care"],
            f["share_community_health"],
            (1 - risk_share) * other_nhs,
            risk_share * other_nhs,
            f["share_other"],
        ]
    )
    plan = np.zeros(N_SLOTS)
    plan[Slot.COUNCIL_TOPUP] = f["topup_council"] / minimum_gbp
    plan[Slot.CCG_TOPUP] = f["topup_ccg"] / minimum_gbp
    plan[LINES] = shares / shares.sum()
    plan[Slot.AMBITION] = f["ambition_mean"]
    return plan


def trend_only(model: BetterCareModel) -> dict[str, float]:
    """The trend-only null for the areas and parameters of `model` (built, not necessarily run).

    National outcomes over the delivery months (`delivery.months` from April 2015) with the
    pre-period trends extrapolated: the flow model's no-BCF path. Effects (admissions, delayed
    days, care-home admissions, savings) are measured against that same path, so they are zero by
    construction; the observable changes are against 2014-15, as every run measures them.
    """
    p = model.params
    months = p.delivery.months
    pre = model_pre_period(model)
    share = months / 12
    baseline_adm = pre.admissions_by_month.sum(axis=0)
    baseline_dtoc = pre.delayed_days_by_month.sum(axis=(0, 2))
    adm = pre.cf_admissions.sum(axis=0)
    dtoc = pre.cf_delayed_days.sum(axis=(0, 2))
    return {
        "areas": float(model.n_areas),
        "emergency_admissions": float(adm.sum()),
        "realised_emergency_admissions_change": float((adm - baseline_adm * share).sum()),
        "emergency_admissions_effect": 0.0,
        "realised_dtoc_days_change": float((dtoc - baseline_dtoc * share).sum()),
        "dtoc_days_effect": 0.0,
        "care_home_admissions_2a2_effect_pct": 0.0,
        "realised_savings_gbp": 0.0,
    }
