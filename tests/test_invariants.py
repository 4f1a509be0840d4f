"""Invariants that must hold whatever the parameters: property tests over random draws."""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bettercare import run
from bettercare.vocabulary import plan as P
from bettercare.vocabulary.trust import updated

SMALL = {"areas.names": ["Wigan", "Kent", "Sunderland", "Cumbria", "Rutland"]}

FEW = {"areas.names": ["Wigan", "Kent", "Rutland"]}

params = st.fixed_dictionaries(
    {
        "trust.initial": st.floats(0, 1),
        "trust.colocation": st.floats(0, 1),
        "trust.turnover": st.floats(0, 1),
        "negotiation.compromise": st.floats(0.05, 5),
        "negotiation.holdout": st.sampled_from(["none", "council", "ccg", "acute"]),
        "deadline.weeks": st.integers(1, 30),
        "deadline.penalty": st.floats(0, 0.5),
        "acute.at_table": st.floats(0, 1),
        "centre.style": st.sampled_from(["command", "enabling"]),
        "centre.withheld_to": st.sampled_from(["nhs", "centre"]),
        "money.divert_room": st.floats(0, 1),
        "money.max_topup": st.floats(0, 1),
        "pause.enabled": st.booleans(),
    }
)

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(overrides=params, seed=st.integers(0, 2**31 - 1))
def test_money_trust_and_reservation_invariants(overrides, seed):
    r = run("england-2014", seed=seed, overrides={**FEW, **overrides})
    a = r.areas
    lines = [c for c in a.columns if c.startswith("spend_")]
    # Money is conserved: spend by line sums to the pool, which is the minimum plus top-ups.
    np.testing.assert_allclose(a[lines].sum(axis=1), a.pool_total_gbp, rtol=1e-9)
    np.testing.assert_allclose(a.pool_total_gbp, a.pool_minimum_gbp + a.topup_council_gbp + a.topup_ccg_gbp, rtol=1e-9)
    # No line goes below its mandated floor.
    for i, name in enumerate(P.LINE_NAMES):
        assert (a[f"spend_{name}_gbp"] >= P.FLOORS[i] * a.pool_minimum_gbp * (1 - 1e-9)).all(), name
    # Trust stays in [0, 1], at the start, the end and over time.
    orgs = r.organisations
    for col in ("trust_out_mean", "trust_in_mean", "trust_in_centre"):
        v = orgs[col].dropna()
        assert ((v >= 0) & (v <= 1)).all(), col
    assert r.timeseries.trust_mean.between(0, 1).all()
    assert a.trust_end.between(0, 1).all()
    # No party ever accepts an offer below its reservation utility.
    acc = r.offers[r.offers.response == "accept"]
    assert (acc.utility >= acc.reservation - 1e-9).all()
    # Every area ends with a plan, approved or imposed.
    assert set(a.verdict) <= {"approved", "approved_with_conditions", "imposed"}


@given(tau=st.floats(0, 1), e=st.floats(0, 1), gg=st.floats(0, 1), gb=st.floats(0, 1), w=st.floats(0, 1))
def test_trust_update_stays_in_unit_interval(tau, e, gg, gb, w):
    assert 0 <= float(updated(tau, e, gg, gb, w)) <= 1


def test_bad_experience_weighs_more_than_good():
    up = float(updated(0.5, 1.0, 0.08, 0.2)) - 0.5
    down = 0.5 - float(updated(0.5, 0.0, 0.08, 0.2))
    assert down > up > 0


@given(st.integers(0, 2**31 - 1))
def test_sampled_candidates_meet_floors_and_add_up(seed):
    c = P.candidates(np.random.default_rng(seed), 64, 0.6, 0.1)
    assert np.allclose(c[:, P.LINES].sum(axis=1), 1)
    spend = P.spend_shares(c)
    assert (spend >= P.FLOORS - 1e-12).all()
    assert all(P.validate(row, 0.6, 0.1) is None for row in c)


def test_validate_rejects_bad_plans_with_reasons():
    good = P.imposed(0.03)
    assert P.validate(good, 0.6, 0.1) is None
    bad = good.copy()
    bad[P.Slot.SOCIAL_CARE] += 0.1
    assert "add up" in P.validate(bad, 0.6, 0.1)
    low = P.make_plans(0.0, 0.0, [[0.0, 0.5, 0.5, 0.0, 0.0]], 0.03)[0]
    low[P.Slot.SOCIAL_CARE] -= 0.05
    low[P.Slot.ADMISSION_AVOIDANCE] += 0.05
    assert "floor" in P.validate(low, 0.6, 0.1)
    high = good.copy()
    high[P.Slot.AMBITION] = 0.5
    assert "ambition" in P.validate(high, 0.6, 0.1)


def test_same_seed_same_result_other_seed_differs():
    a = run("england-2014", seed=5, overrides=SMALL)
    b = run("england-2014", seed=5, overrides=SMALL)
    c = run("england-2014", seed=6, overrides=SMALL)
    assert a.national == b.national
    assert a.offers.equals(b.offers)
    assert a.national != c.national


def test_national_run_has_all_150_real_areas(national_run):
    names = set(national_run.areas.area_name)
    assert len(names) == 150
    assert {"Wigan", "Kent", "Sunderland", "Cornwall and Isles of Scilly", "Hackney and City of London"} <= names
    n = national_run.national
    assert n["areas"] == 150
    assert n["plans_approved"] + n["plans_approved_with_conditions"] + n["plans_imposed"] == 150
    assert n["pool_total_gbp"] >= n["pool_minimum_gbp"] - 1
    assert abs(n["pool_minimum_gbp"] - 3.8e9) / 3.8e9 < 1e-3


def test_shared_organisations_are_one_agent_at_every_table():
    from bettercare.model.model import BetterCareModel
    from bettercare.model.scenario import load_scenario

    m = BetterCareModel(load_scenario("england-2014").params, rng=1)
    seen: dict[str, object] = {}
    shared = 0
    for t in m.tables:
        for o in t.parties + t.outsiders:
            if o.code in seen:
                assert seen[o.code] is o
                shared += 1
            seen[o.code] = o
    assert shared > 0  # some CCGs and acute trusts sit at two tables
    assert m.trust.graph.number_of_nodes() == len(m.orgs) + 1


def test_synthetic_areas_scale():
    r = run("england-2014", seed=2, overrides={"areas.source": "synthetic", "areas.synthetic_n": 40})
    assert len(r.areas) == 40
    assert r.areas.area_name.str.startswith("Synthetic").all()
