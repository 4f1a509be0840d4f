"""The organisations' decisions on a hand-built three-party table (issue 10).

The table is plain data: four candidate plans, utilities chosen by hand, so each expected
answer can be worked out on paper from the rule in the docstring of the method under test.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bettercare.agents import Stance
from bettercare.model.model import BetterCareModel
from bettercare.vocabulary.plan import EPS


@pytest.fixture(scope="module")
def orgs():
    """A council, a CCG and an acute trust (Wigan, hospitals at the table), for their parameters."""
    m = BetterCareModel(**{"areas.names": ["Wigan"], "acute.at_table": 1.0, "negotiation.holdout": "none"}, rng=5)
    parties = m.tables[0].parties
    assert [o.kind for o in parties] == ["council", "ccg", "acute"]
    return parties


def table(utility, targets, trust=0.5, noise=0.0, credible=None, belief=None):
    n, k = np.shape(utility)
    belief = np.zeros((n, n, k)) if belief is None else belief
    t = SimpleNamespace(
        area=0,
        n=n,
        utility=np.array(utility, float),
        targets=np.array(targets, float),
        reservation=np.zeros(n),
        trust=np.full((n, n), trust),
        bonus=0.1,
        noise_sd=noise,
        proposer=0,
        credible=np.ones(k, bool) if credible is None else np.array(credible),
        start_week=0,
        window=10,
        stances=[Stance(party=j, belief_error=belief[j]) for j in range(n)],
    )
    np.fill_diagonal(t.trust, 1.0)
    for s, target in zip(t.stances, targets):
        s.forget_refusals(k)
        s.target = target
    return t


#            plan:   0     1     2     3
UTILITY = [
    [0.9, 0.7, 0.6, 0.2],  # council (proposer)
    [0.1, 0.5, 0.8, 0.9],  # CCG
    [0.2, 0.6, 0.4, 0.9],
]  # acute trust


def test_propose_picks_the_plan_best_for_the_worst_off_other_among_those_meeting_its_target(orgs):
    t = table(UTILITY, targets=[0.6, 0.3, 0.3])
    # plans 0-2 meet the council's 0.6; the others' worst gains over their targets:
    # plan 0: min(0.1-0.3, 0.2-0.3) = -0.2; plan 1: min(0.2, 0.3) = 0.2; plan 2: min(0.5, 0.1) = 0.1
    assert orgs[0].propose(t, 0) == 1
    # plan 3 would suit the others best, but it is below the proposer's own target
    t.targets[0] = t.stances[0].target = 0.2
    assert orgs[0].propose(t, 0) == 3


def test_propose_without_a_plan_meeting_its_target_puts_its_own_best_credible_plan(orgs):
    t = table(UTILITY, targets=[0.95, 0.3, 0.3], credible=[False, True, True, True])
    assert orgs[0].propose(t, 0) == 1


def test_respond_accepts_exactly_at_the_bar(orgs):
    ccg = orgs[1]
    t = table(UTILITY, targets=[0.6, 0.55, 0.3], trust=0.5)
    bar = ccg.acceptance_bar(t, 1, 0)
    assert bar == pytest.approx(0.55 - 0.1 * 0.5)  # target less the trust bonus
    t.utility[1, 1] = bar
    assert ccg.respond(t, 1, 1)
    t.utility[1, 1] = bar - 10 * EPS
    assert not ccg.respond(t, 1, 1)
    # never below the reservation value
    t.reservation[1] = 0.52
    assert ccg.acceptance_bar(t, 1, 0) == pytest.approx(0.52)


def test_learn_caps_the_estimate_of_a_refusers_utility_and_changes_the_proposal(orgs):
    council = orgs[0]
    belief = np.zeros((3, 3, 4))
    belief[0, :, 2] = 1.0  # the council overestimates what plan 2 gives the others, by 0.5
    t = table(UTILITY, targets=[0.6, 0.3, 0.3], noise=0.5, trust=0.0, belief=belief)
    assert council.propose(t, 0) == 2  # estimated worst gain: plan 2 min(1.0, 0.6), plan 1 min(0.2, 0.3)
    bars = np.array([0.85, 0.35])
    refused = np.array([1, 2])
    council.learn(t, 0, proposer=0, offer=2, previous=-1, refused=refused, bars=bars)
    learnt = t.stances[0].refused_below
    assert learnt[1, 2] == 0.85 and learnt[2, 2] == 0.35  # capped at each refuser's bar
    assert np.isinf(np.delete(learnt, 2, axis=1)).all()  # and for that plan only
    assert council.propose(t, 0) == 1  # plan 2's worst estimated gain is now min(0.55, 0.05), plan 1's 0.2


def test_learn_credits_a_concession_in_proportion_to_trust(orgs):
    ccg = orgs[1]
    t = table(UTILITY, targets=[0.6, 0.3, 0.3], trust=0.5)
    t.stances[0].last_offer = 0
    before = float(t.trust[1, 0])
    ccg.learn(t, 1, proposer=0, offer=2, previous=0, refused=np.array([], int), bars=np.array([]))
    r = ccg.model.params.negotiation.reciprocity
    assert t.stances[1].credit == pytest.approx(r * 0.5 * (0.8 - 0.1))
    assert t.trust[1, 0] > before  # a concession is a good experience
