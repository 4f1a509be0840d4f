"""Council budget pressure (issue 13, part 2) and "it isn't new money" (H8), each tested where
it can fail: in the council's and CCG's utilities, in the flow model's placements, and through
their switches."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from bettercare.agents import CCG, Council
from bettercare.model.delivery import Delivery
from bettercare.model.flow import (
    CARE_HOME,
    DELIVERY_START,
    HOME_CARE,
    NHS_NON_ACUTE,
    REABLEMENT,
    SOCIAL_CARE,
    FlowDrive,
    FlowInputs,
    FlowModel,
)
from bettercare.model.flow_params import FlowParams
from bettercare.model.model import BetterCareModel
from bettercare.model.scenario import build_parameters, load_scenario
from bettercare.vocabulary.plan import FLOORS, Feature, Rules, features, make_plans

WIGAN = {"areas.names": ["Wigan"], "acute.at_table": 1.0}
RULES = Rules(
    "none",
    0.0,
    "nhs",
    0.0,
    0.3,
    0.7,
    1490.0,
    2360.0,
    return_sd=0.2,
    social_care_spillover=0.34,
    spillover_claimed_share=0.5,
)
SPLIT_SOCIAL = [[1.0, 0.0, 0.0, 0.0, 0.0]]
SPLIT_OTHER = [[0.0, 0.0, 0.0, 0.0, 1.0]]


def _model(**overrides) -> BetterCareModel:
    return BetterCareModel(load_scenario("england-2014", {**WIGAN, **overrides}).params, rng=3)


def _org(model: BetterCareModel, kind: type):
    return next(o for o in model.orgs.values() if isinstance(o, kind))


def _feats(council_topup: float, split) -> np.ndarray:
    return features(make_plans([council_topup], [0.0], split, [0.0]), 1e8, 1e4, RULES)


def _social_care_money_value(council: Council) -> float:
    """Utility of a plan whose free money all goes to social care, over one that puts it elsewhere."""
    return float(council.utility(_feats(0.0, SPLIT_SOCIAL))[0] - council.utility(_feats(0.0, SPLIT_OTHER))[0])


def _topup_cost(council: Council) -> float:
    """Utility of a top-up of 0.1 of the minimum spent outside social care (negative: a cost)."""
    return float(council.utility(_feats(0.1, SPLIT_OTHER))[0] - council.utility(_feats(0.0, SPLIT_OTHER))[0])


# --- the council's utility ------------------------------------------------------------------------
def test_gap_follows_the_cut_and_the_unfunded_demographic_pressure():
    p = build_parameters(None, {"money.social_care_cut": 0.0})
    unfunded = 391e6 * (1 - 0.83)
    assert Council.gap_share(p) == pytest.approx(unfunded / 3.8e9)
    p2 = build_parameters(None, {"money.social_care_cut": 0.02})
    assert Council.gap_share(p2) == pytest.approx((0.02 * 266e6 / 0.019 + unfunded) / 3.8e9)


def test_more_pressure_makes_social_care_money_worth_more_and_the_top_up_dearer():
    low = _org(_model(**{"money.social_care_cut": 0.0}), Council)
    high = _org(_model(**{"money.social_care_cut": 0.04}), Council)
    np.testing.assert_allclose(low.weights, high.weights)  # same draws: only the gap differs
    assert high.gap > low.gap > 0
    assert _social_care_money_value(high) > _social_care_money_value(low) + 1e-6
    assert _topup_cost(high) < _topup_cost(low) - 1e-6


def test_money_beyond_the_gap_is_worth_no_premium():
    c = _org(_model(), Council)
    above = np.array([0.0, c.gap / 2, c.gap, 2 * c.gap, 3 * c.gap])
    feats = np.zeros((len(above), len(Feature)))
    feats[:, Feature.NHS_OUTFLOW] = above
    premium = c.utility(feats) - feats @ c.weights
    np.testing.assert_allclose(premium, c.gap_weight * np.minimum(above, c.gap))
    assert premium[3] == pytest.approx(premium[4])


def test_council_pressure_switch_removes_the_utility_term():
    c = _org(_model(**{"mechanisms.council_pressure": False}), Council)
    f = np.vstack([_feats(0.1, SPLIT_SOCIAL), _feats(0.0, SPLIT_OTHER)])
    assert c.gap == 0
    np.testing.assert_allclose(c.utility(f), f @ c.weights)


# --- diversion and the flow model ----------------------------------------------------------------
def test_diversion_fills_the_gap_up_to_the_room():
    excess = np.array([1e6, 1e6, 1e6, 0.0])
    gap = np.array([0.0, 1e5, 1e7, 1e7])
    np.testing.assert_allclose(Council.diversion(excess, gap, 0.3), [0.0, 1e5, 3e5, 0.0])
    np.testing.assert_allclose(Council.diversion(excess, gap, 0.0), 0.0)


def _flow_year(council_saving: float) -> dict:
    params = FlowParams()
    m = FlowModel(
        params, FlowInputs.from_population(params, np.array([300_000.0, 80_000.0])), council_saving=council_saving
    )
    m.run_until(DELIVERY_START + timedelta(days=365))
    cap = m.state.capacity_base
    out = m.outcomes(DELIVERY_START, DELIVERY_START + timedelta(days=364))
    placed = sum(f.care_home_admissions for f in m.history[-52:])
    return {"capacity": cap, "care_home": placed, "sc_days": out.delayed_days[:, SOCIAL_CARE]}


def test_more_pressure_buys_fewer_council_places_and_makes_more_social_care_delays():
    none, some, more = _flow_year(0.0), _flow_year(0.02), _flow_year(0.05)
    for dest in (HOME_CARE, CARE_HOME):
        assert (some["capacity"][:, dest] < none["capacity"][:, dest]).all()
        assert (more["capacity"][:, dest] < some["capacity"][:, dest]).all()
    for dest in (REABLEMENT, NHS_NON_ACUTE):  # NHS-funded: not the council's budget
        np.testing.assert_allclose(more["capacity"][:, dest], none["capacity"][:, dest])
    assert (more["care_home"] < none["care_home"]).all()
    assert (more["sc_days"] > some["sc_days"]).all() and (some["sc_days"] > none["sc_days"]).all()


def test_pressure_switch_removes_the_saving_and_the_diversion():
    on = build_parameters(None, {})
    off = build_parameters(None, {"mechanisms.council_pressure": False})
    assert Council.saving_share(on) > 0 and Council.gap_share(on) > 0
    assert Council.saving_share(off) == 0 and Council.gap_share(off) == 0


def test_a_council_under_more_pressure_diverts_more_in_delivery():
    diverted = []
    for cut in (0.0, 0.04):
        m = _model(**{"money.social_care_cut": cut, "money.max_topup": 0.0})
        plan = make_plans([0.0], [0.0], SPLIT_SOCIAL, [0.0])
        d = Delivery(m, plan, np.zeros(1))
        excess = d.spend[0, 0] - FLOORS[0] * m.minimum_gbp[0]
        assert d.diverted[0] <= m.params.money.divert_room * excess + 1e-6
        diverted.append(d.diverted[0])
    assert diverted[1] > diverted[0] > 0
    off = _model(**{"mechanisms.council_pressure": False})
    assert Delivery(off, make_plans([0.0], [0.0], SPLIT_SOCIAL, [0.0]), np.zeros(1)).diverted[0] == 0


# --- H8: money taken from existing NHS services ---------------------------------------------------
def test_nhs_capacity_falls_with_money_that_is_not_new():
    params = FlowParams()
    inputs = FlowInputs.from_population(params, np.array([300_000.0]))
    base = FlowModel(params, inputs)
    drained = FlowModel(params, inputs)
    drive = FlowDrive.none(1)
    drive.nhs_capacity = np.array([0.97])
    for _ in range(30):
        base.step()
        drained.step(drive)
    assert (
        drained.state.capacity_base[:, [REABLEMENT, NHS_NON_ACUTE]]
        < base.state.capacity_base[:, [REABLEMENT, NHS_NON_ACUTE]]
    ).all()
    np.testing.assert_allclose(
        drained.state.capacity_base[:, [HOME_CARE, CARE_HOME]], base.state.capacity_base[:, [HOME_CARE, CARE_HOME]]
    )


def test_new_money_share_changes_nhs_capacity_and_the_ccgs_valuation():
    old = build_parameters(None, {"money.new_money_share": 0.0})
    new = build_parameters(None, {"money.new_money_share": 1.0})
    assert Delivery.nhs_capacity_factor(new) == 1.0
    assert Delivery.nhs_capacity_factor(old) == pytest.approx(1 - old.money.nhs_existing_cut)
    assert Delivery.nhs_capacity_factor(old) < 1.0
    f = np.vstack([_feats(0.0, SPLIT_SOCIAL), _feats(0.0, SPLIT_OTHER)])
    ccg_old = _org(_model(**{"money.new_money_share": 0.0}), CCG)
    ccg_new = _org(_model(**{"money.new_money_share": 1.0}), CCG)
    outflow_old = np.diff(ccg_old.utility(f))[0]  # social care -> other: money kept in the NHS
    outflow_new = np.diff(ccg_new.utility(f))[0]
    assert outflow_old > outflow_new + 1e-6  # keeping money in the NHS is worth more when it is not new


def test_new_money_share_changes_delivery_outcomes():
    out = {}
    for share in (0.0, 1.0):
        m = _model(**{"money.new_money_share": share})
        m.run_model()
        out[share] = (m.delivery.flow.state.capacity_base[0, NHS_NON_ACUTE], m.delivery.delayed_days[0].sum())
    assert out[1.0][0] > out[0.0][0]
    assert out[1.0][1] != pytest.approx(out[0.0][1], rel=1e-6)


def test_nhs_funding_drain_switch_removes_both_paths():
    off = {"mechanisms.nhs_funding_drain": False}
    for share in (0.0, 1.0):
        p = build_parameters(None, {**off, "money.new_money_share": share})
        assert Delivery.nhs_capacity_factor(p) == 1.0
    ccg = _org(_model(**off), CCG)
    f = _feats(0.0, SPLIT_SOCIAL)
    assert ccg.existing_weight == 0
    np.testing.assert_allclose(ccg.utility(f), f @ ccg.weights)


def test_without_the_drain_new_money_changes_no_behaviour():
    """With the switch off, and the acute trust's exposure (which reads the drain through its
    deficit) off too, `new_money_share` is accounting only again: plans and delivery agree."""
    runs = []
    for share in (0.0, 1.0):
        m = _model(
            **{
                "mechanisms.nhs_funding_drain": False,
                "mechanisms.acute_exposure": False,
                "money.new_money_share": share,
            }
        )
        m.run_model()
        runs.append((m.tables[0].plan, m.delivery.delayed_days, m.delivery.admissions))
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)
