"""Wiring the flow model in as the delivery year (issue 12) changes delivery results on purpose,
and nothing decided before delivery: the plans, their sign-off, the pool, the top-ups, the spend
lines, the claimed and assured savings, the negotiation's offers. This test holds every such field
equal to the golden runs (tests/golden/), which were recorded before the flow model was wired in.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from golden_runs import RUNS, frames, path

# National fields fixed before delivery starts.
PLANNING_NATIONAL = (
    "areas",
    "plans_agreed",
    "plans_approved",
    "plans_approved_with_conditions",
    "plans_imposed",
    "weeks_to_agreement_mean",
    "signed_off_first_6_weeks",
    "pool_minimum_gbp",
    "pool_total_gbp",
    "areas_topping_up",
    "topup_council_gbp",
    "topup_ccg_gbp",
    "spend_social_care_gbp",
    "spend_community_health_gbp",
    "spend_admission_avoidance_gbp",
    "spend_acute_risk_share_gbp",
    "spend_other_gbp",
    "first_round_planned_savings_gbp",
    "first_round_assured_savings_gbp",
    "planned_savings_gbp",
    "assured_savings_gbp",
    "ambition_mean",
    "plan_realism_mean",
    "planned_emergency_admissions_change",
    "planned_dtoc_days_change",
    "acute_trusts_in_deficit_share_start",
    "trust_mean_start",
)
# Area columns fixed before delivery starts (acute_defensiveness is set from the final plans).
PLANNING_AREAS = (
    "area_code",
    "area_name",
    "population",
    "coterminous",
    "acute_at_table",
    "parties",
    "first_agreed_week",
    "signed_off_week",
    "verdict",
    "reviews",
    "pool_minimum_gbp",
    "pool_total_gbp",
    "topup_council_gbp",
    "topup_ccg_gbp",
    "spend_social_care_gbp",
    "spend_community_health_gbp",
    "spend_admission_avoidance_gbp",
    "spend_acute_risk_share_gbp",
    "spend_other_gbp",
    "ambition",
    "planned_savings_gbp",
    "assured_savings_gbp",
    "plan_realism",
    "true_return",
    "planned_emergency_admissions_change",
    "planned_dtoc_days_change",
    "acute_defensiveness",
    "trust_start",
    "maturity_start",
    "pareto_distance",
    "nash_distance",
    "nash_product_ratio",
    "fairness",
)


def same(a: pd.Series, b: pd.Series) -> bool:
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return np.array_equal(a.to_numpy(float), b.to_numpy(float), equal_nan=True)
    return list(a) == list(b)


@pytest.mark.parametrize("scenario,seed,tables", RUNS, ids=[f"{s}-{n}" for s, n, _ in RUNS])
def test_planning_fields_match_golden(scenario, seed, tables):
    fresh = frames(scenario, seed, tables)
    gold = pd.read_parquet(path(scenario, seed, "national"))
    moved = [c for c in PLANNING_NATIONAL if not same(gold[c], fresh["national"][c])]
    gold_areas = pd.read_parquet(path(scenario, seed, "areas"))
    moved += [f"areas.{c}" for c in PLANNING_AREAS if not same(gold_areas[c], fresh["areas"][c])]
    if "offers" in tables:
        gold_offers = pd.read_parquet(path(scenario, seed, "offers"))
        moved += [f"offers.{c}" for c in gold_offers.columns if not same(gold_offers[c], fresh["offers"][c])]
    assert not moved, f"{scenario} seed {seed}: planning fields changed: {moved}"
