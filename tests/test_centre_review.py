"""The centre's review of plans (issue 13): returns happen at the rate of the 2014 record, a
returned plan is resubmitted and reviewed again, the centre's style acts through the return, and
the `mechanisms.review` switch removes the review."""

from __future__ import annotations

import numpy as np
import pytest

from bettercare.agents import Review
from bettercare.analysis.validation import load_facts
from bettercare.model.model import BetterCareModel
from bettercare.vocabulary.status import Phase, Status

SEEDS = (1, 2, 3)


def planned(seed: int, **overrides) -> BetterCareModel:
    """A national model run to the end of assurance and escalation (delivery not simulated)."""
    m = BetterCareModel(rng=seed, record_offers=False, **overrides)
    while m.phase != Phase.DELIVERY:
        m.step()
    return m


@pytest.fixture(scope="module")
def default_runs() -> list[BetterCareModel]:
    return [planned(s) for s in SEEDS]


def test_the_centre_returns_plans_at_the_rate_of_the_record(default_runs):
    fact = {f.id: f for f in load_facts()}["first_review_not_approved_share"]
    shares = [np.mean([r.verdict == Status.NOT_APPROVED for r in m.first_review.values()]) for m in default_runs]
    assert all(len(m.first_review) > 100 for m in default_runs)
    assert abs(np.mean(shares) - fact.reference) <= fact.tolerance
    assert sum(int(m.returns.sum()) for m in default_runs) > 0, "the calibrated centre returns some plans"


def test_a_returned_plan_is_resubmitted_and_reviewed_again(default_runs):
    returned = [(m, a) for m in default_runs for a in np.flatnonzero(m.returns)]
    assert returned
    for m, a in returned:
        # Every return reopened the table; a later agreement went back to the centre.
        assert m.tables[a].ceiling_return is not None
        if m.status[a] in (Status.APPROVED, Status.CONDITIONS):
            assert m.review_count[a] == m.returns[a] + 1
    assert any(m.review_count[a] > m.returns[a] for m, a in returned), "no returned plan was reviewed again"


def _returned_table(style: str, trust_in_centre: float):
    m = BetterCareModel(rng=5, record_offers=False, **{"areas.names": ["Wigan"], "centre.style": style})
    t = m.tables[0]
    for code in t.codes:
        m.trust.values[m.trust.graph.adj[code][m.centre.code]["eid"]] = trust_in_centre
    review = Review(claimed_gbp=1e7, assured_gbp=1e5, estimated_return=0.02, ratio=100.0, verdict=Status.NOT_APPROVED)
    before = t.believed_return()
    weeks = m.centre.send_back(t, review)
    return m, t, weeks, before


def test_an_enabling_centre_returns_a_plan_with_support():
    m, t, weeks, _ = _returned_table("enabling", trust_in_centre=0.1)
    c = m.params.centre
    assert weeks == c.resubmit_weeks
    assert t.optimism_scale == pytest.approx(1 - c.support_optimism_cut)


def test_command_and_control_returns_a_plan_with_a_demand_met_slowly_by_distrust():
    m, t, weeks_distrust, _ = _returned_table("command", trust_in_centre=0.1)
    c = m.params.centre
    assert t.optimism_scale == 1.0
    assert weeks_distrust == round(c.resubmit_weeks * (1 + c.foot_dragging * (c.foot_dragging_trust - 0.1)))
    assert weeks_distrust > c.resubmit_weeks
    _, _, weeks_trust, _ = _returned_table("command", trust_in_centre=0.9)
    assert weeks_trust == c.resubmit_weeks


def test_style_changes_what_a_returned_table_believes():
    """Same table, same return: an enabling centre's support leaves less optimism to cap."""
    _, t_enabling, w_e, _ = _returned_table("enabling", trust_in_centre=0.1)
    _, t_command, w_c, _ = _returned_table("command", trust_in_centre=0.1)
    t_enabling.open(window=w_e, start_week=0)
    t_command.open(window=w_e, start_week=0)  # same window: only the support differs
    t_enabling.ceiling_return = t_command.ceiling_return = None
    assert t_enabling.believed_return() < t_command.believed_return()


def test_an_enabling_centre_makes_every_verdict_a_better_experience():
    cmd = BetterCareModel(rng=1, record_offers=False, **{"areas.names": ["Wigan"], "centre.style": "command"})
    enb = BetterCareModel(rng=1, record_offers=False, **{"areas.names": ["Wigan"], "centre.style": "enabling"})
    verdicts = (Status.APPROVED, Status.CONDITIONS, Status.NOT_APPROVED, Status.IMPOSED)
    e_cmd = [cmd.centre.verdict_experience(v) for v in verdicts]
    e_enb = [enb.centre.verdict_experience(v) for v in verdicts]
    assert all(b > a for a, b in zip(e_cmd, e_enb, strict=True))
    assert e_cmd == sorted(e_cmd, reverse=True)


def test_without_review_the_centre_approves_every_plan_unseen():
    m = planned(1, **{"mechanisms.review": False})
    assert not m.first_round and not m.reviews and not m.first_review
    assert m.returns.sum() == 0
    signed = [s for s in m.status if s != Status.IMPOSED]
    assert signed and all(s == Status.APPROVED for s in signed)
    # No verdict reached the partners' trust in the centre.
    imposed = {c for a, t in enumerate(m.tables) if m.status[a] == Status.IMPOSED for c in t.codes}
    start = m.params.trust.centre_initial
    assert all(m.trust.get(c, m.centre.code) == pytest.approx(start) for c in m.orgs if c not in imposed)
