"""The negotiation's mechanisms, each tested where it can fail."""

import numpy as np

from bettercare import run
from bettercare.model.model import BetterCareModel
from bettercare.model.scenario import load_scenario

WIGAN = {"areas.names": ["Wigan"], "acute.at_table": 1.0}


def _model(**overrides):
    return BetterCareModel(load_scenario("england-2014", {**WIGAN, **overrides}).params, rng=3)


def test_boulware_concedes_later_than_conceder():
    m = _model()
    org = m.tables[0].parties[0]
    T, r = 16, 0.2
    org.beta = 0.3
    boulware = [org.target(t, T, r) for t in range(T + 1)]
    org.beta = 3.0
    conceder = [org.target(t, T, r) for t in range(T + 1)]
    assert boulware[0] == conceder[0] == 1.0
    assert all(b >= c for b, c in zip(boulware[1:-1], conceder[1:-1]))
    assert boulware[T // 2] - r > 2 * (conceder[T // 2] - r)
    assert abs(boulware[-1] - r) < 1e-12 and abs(conceder[-1] - r) < 1e-12


def test_boulware_tables_agree_later_than_conceder_tables():
    def weeks(beta):
        r = run(
            "england-2014",
            seed=4,
            overrides={
                "negotiation.compromise": beta,
                "pause.enabled": False,
                "areas.names": ["Wigan", "Kent", "Leeds", "Devon", "Sunderland"],
            },
        )
        return r.areas.first_agreed_week.mean()

    assert weeks(0.2) > weeks(4.0)


def test_missed_deadline_leads_to_imposed_plan():
    r = run("england-2014", seed=1, overrides={**WIGAN, "negotiation.holdout": "council"})
    a = r.areas.iloc[0]
    assert a.verdict == "imposed"
    assert np.isnan(a.first_agreed_week)
    assert r.national["plans_imposed"] == 1


def test_partner_who_never_concedes_holds_its_ground():
    for kind in ("council", "ccg", "acute"):
        r = run(
            "england-2014",
            seed=2,
            overrides={**WIGAN, "negotiation.holdout": kind, "negotiation.holdout_compromise": 0.0},
        )
        mine = r.offers[r.offers.kind == kind]
        proposed = mine[mine.response == "proposed"]
        # Its target never moves from its best, and it accepts nothing less.
        assert len(proposed) > 0, kind
        assert (mine.target >= 1 - 1e-9).all(), kind
        assert (mine[mine.response == "accept"].utility >= 1 - 1e-9).all(), kind


def test_partner_who_never_concedes_blocks_agreement():
    """Tables with a holdout agree only where the others give it everything it wants."""
    names = {"areas.names": ["Kent", "Surrey", "Essex", "Leeds", "Devon", "Wigan", "Sunderland", "Cumbria"]}
    base = held = 0
    for seed in (3, 4, 5):
        base += run("england-2014", seed=seed, overrides=names).national["plans_agreed"]
        held += run(
            "england-2014",
            seed=seed,
            overrides={**names, "negotiation.holdout": "council", "negotiation.holdout_compromise": 0.0},
        ).national["plans_agreed"]
    assert base >= 20  # of 24 tables
    assert held <= 6
    assert base - held >= 15


def test_trust_reduces_perspective_error_and_speeds_agreement():
    def outcome(trust):
        r = run(
            "england-2014",
            seed=7,
            overrides={
                "trust.initial": trust,
                "areas.names": ["Kent", "Surrey", "Essex", "Lancashire", "Devon", "Leeds"],
            },
        )
        return r.national

    low, high = outcome(0.1), outcome(0.9)
    assert high["weeks_to_agreement_mean"] <= low["weeks_to_agreement_mean"]
    assert high["trust_mean_end"] > low["trust_mean_end"]


class ScriptedNegotiator:
    """A stand-in for a person: proposes one fixed plan and accepts anything."""

    def __init__(self, plan):
        self.plan = plan
        self.index = None

    def propose(self, table, party):
        if self.index is None:
            self.index = table.add_plan(self.plan)
        return self.index

    def respond(self, table, party, offer):
        return True


def test_any_negotiator_can_sit_at_the_table():
    from bettercare.vocabulary import plan as P

    m = _model()
    t = m.tables[0]
    mine = P.make_plans(0.1, 0.0, [[0.3, 0.3, 0.2, 0.2, 0.0]], 0.01)[0]
    seat = ScriptedNegotiator(mine)
    t.negotiators = [seat] + t.negotiators[1:]
    for w in range(m.w1):
        if t.week(w):
            break
    offers = m._offers
    assert any(o[5] == t.codes[0] for o in offers)  # the scripted party proposed
    if t.agreed is not None and t.agreed == seat.index:
        np.testing.assert_allclose(t.plan, mine)


def test_add_plan_refuses_broken_plans():
    import pytest

    from bettercare.vocabulary import plan as P

    t = _model().tables[0]
    bad = P.imposed(0.03)
    bad[P.Slot.SOCIAL_CARE] = 0.0
    with pytest.raises(ValueError, match="add up|floor"):
        t.add_plan(bad)
    k = len(t.plans)
    assert t.add_plan(P.imposed(0.02)) == k
    assert t.utility.shape[1] == k + 1


class _Refuses:
    """A negotiator that refuses every plan put to it."""

    def propose(self, table, party):
        raise AssertionError("not asked to propose here")

    def respond(self, table, party, offer):
        return False


def test_a_refused_plan_caps_the_proposers_estimate_and_is_not_reoffered_blindly():
    from bettercare.vocabulary.plan import EPS

    model = BetterCareModel(load_scenario("england-2014").params, rng=11)
    week = 8  # mid-window: targets have come down far enough for proposers to have choices
    switched = 0
    for table in model.tables:
        if table.n < 2:
            continue
        p = table.begin_week(week)
        proposer = table.parties[p]
        k = proposer.propose(table, p)
        table.negotiators = [proposer if j == p else _Refuses() for j in range(table.n)]
        table.put_offer(k)
        assert not table.finish_week(week)
        others = [j for j in range(table.n) if j != p]
        # the refusal is remembered, for that plan only, as each refuser's acceptance bar
        bars = [max(table.targets[j] - table.bonus * table.trust[j, p], table.reservation[j]) for j in others]
        learnt = table.stances[p].refused_below
        assert np.allclose(learnt[others, k], bars)
        assert np.isinf(np.delete(learnt, k, axis=1)).all()
        # same week, same targets: the refused plan no longer looks acceptable to every partner
        table.rounds -= 1
        assert table.begin_week(week) == p
        capped = min(learnt[j, k] - table.targets[j] for j in others)
        assert capped <= EPS
        k2 = proposer.propose(table, p)
        switched += k2 != k
    assert switched >= 50  # most proposers move on (113 of 150 tables with this seed)
    # new rules rescore every plan, and what rejections taught no longer holds
    table.rescore()
    assert all(np.isinf(s.refused_below).all() for s in table.stances)
