"""Trust is earned (issue 13): each experience is attributed to the partner who caused it, trust
in the centre is kept apart from trust between partners, forgetting never raises trust, and an
agreement conceded far below a party's opening target spends trust (H3).

Hand-built cases on one real table (Wigan, with its hospital at the table: a council, a CCG and
an acute trust), so each expected direction can be worked out from the rule on paper.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from bettercare.model.model import BetterCareModel
from bettercare.model.trust import CENTRE

PRIOR = 0.5


def wigan(**overrides) -> BetterCareModel:
    settings = {
        "areas.names": ["Wigan"],
        "acute.at_table": 1.0,
        "negotiation.holdout": "none",
        "trust.initial": PRIOR,
        "trust.centre_initial": PRIOR,
        **overrides,
    }
    m = BetterCareModel(**settings, rng=5)
    assert [o.kind for o in m.tables[0].parties] == ["council", "ccg", "acute"]
    return m


def deliver(m: BetterCareModel, diverted=0.0, committed=1e6, defensiveness=0.0, withheld=0.0) -> dict:
    """A stand-in for the delivery year: what the council diverted of the social-care money it
    committed above the floor, the acute trust's defensiveness, and the quarter's money withheld."""
    d = np.array([defensiveness])
    m.defensiveness = d
    m.delivery = SimpleNamespace(
        diverted=np.array([diverted]),
        social_care_effective=np.array([committed - diverted]),
        defensiveness=d,
        pot=np.array([4e6]),
    )
    return {"withheld": np.array([withheld])}


def trust_of(m: BetterCareModel) -> np.ndarray:
    """Trust matrix of the table: rows council, CCG, acute trust; row about column."""
    return m.trust.matrix(m.tables[0].codes)


def centre_edges(m: BetterCareModel) -> np.ndarray:
    return np.array([m.trust.get(c, CENTRE) for c in m.orgs])


COUNCIL, CCG, ACUTE = 0, 1, 2


# --- attribution ------------------------------------------------------------------------------
def test_a_council_that_diverts_loses_its_partners_trust_not_its_own_trust_in_the_ccg():
    honest, diverting = wigan(), wigan()
    honest._quarterly_review(deliver(honest, diverted=0.0))
    diverting._quarterly_review(deliver(diverting, diverted=0.8e6))  # kept 20% of its commitment
    h, d = trust_of(honest), trust_of(diverting)
    assert d[CCG, COUNCIL] < PRIOR < h[CCG, COUNCIL]  # kept 0.2 < trust: the CCG's trust in it falls
    assert d[ACUTE, COUNCIL] < PRIOR
    # The council's own trust in its partners does not depend on what the council did.
    assert d[COUNCIL, CCG] == pytest.approx(h[COUNCIL, CCG])
    assert d[COUNCIL, CCG] > PRIOR  # the CCG funded its lines as agreed
    assert d[CCG, ACUTE] == pytest.approx(h[CCG, ACUTE])


def test_a_defensive_acute_trust_loses_its_partners_trust_and_nobody_else_does():
    calm, defensive = wigan(), wigan()
    calm._quarterly_review(deliver(calm))
    defensive._quarterly_review(deliver(defensive, defensiveness=0.9))
    c, d = trust_of(calm), trust_of(defensive)
    assert d[COUNCIL, ACUTE] < PRIOR and d[CCG, ACUTE] < PRIOR
    others = np.ones((3, 3), bool)
    others[:, ACUTE] = False
    np.testing.assert_allclose(d[others], c[others])


def test_commitments_kept_are_each_organisations_own():
    m = wigan()
    deliver(m, diverted=0.25e6, committed=1e6, defensiveness=0.4)
    council, ccg, acute = m.tables[0].parties
    assert council.commitment_kept(m.delivery, 0) == pytest.approx(0.75)
    assert ccg.commitment_kept(m.delivery, 0) == 1.0
    assert acute.commitment_kept(m.delivery, 0) == pytest.approx(0.6)


# --- the centre kept apart --------------------------------------------------------------------
def test_money_withheld_to_the_centre_lowers_trust_in_the_centre_only():
    kept, withheld = wigan(**{"centre.withheld_to": "centre"}), wigan(**{"centre.withheld_to": "centre"})
    kept._quarterly_review(deliver(kept, withheld=0.0))
    withheld._quarterly_review(deliver(withheld, withheld=0.5e6))  # half the quarter's pot
    np.testing.assert_allclose(trust_of(withheld), trust_of(kept))  # partners do not blame each other
    codes = withheld.tables[0].codes
    assert all(withheld.trust.get(c, CENTRE) < PRIOR for c in codes)
    assert all(kept.trust.get(c, CENTRE) == PRIOR for c in codes)


def test_partner_experiences_never_touch_trust_in_the_centre():
    m = wigan(**{"trust.colocation": 1.0, "trust.turnover": 1.0})
    before = centre_edges(m)
    m._quarterly_review(deliver(m, diverted=0.5e6, defensiveness=0.5))  # withheld goes to the NHS
    m._people(weeks=4.0)  # everyone leaves, and co-located contact
    t = m.tables[0]
    t.agreement_experience(0)
    m.trust.store(t.codes, t.trust)
    np.testing.assert_array_equal(centre_edges(m), before)
    with pytest.raises(ValueError):
        m.trust.experience([t.codes[0], CENTRE], 1.0)


# --- turnover ---------------------------------------------------------------------------------
def test_a_newcomer_starts_from_the_prior_and_forgetting_never_raises_trust():
    m = wigan()
    t = m.tables[0]
    m.trust.store(t.codes, np.array([[1.0, 0.9, 0.2], [0.1, 1.0, 0.8], [0.7, 0.3, 1.0]]))
    before, centre = trust_of(m), centre_edges(m)
    m.trust.replace_leader(t.codes[COUNCIL], PRIOR)
    after = trust_of(m)
    assert (after <= before).all()
    # The council's goodwill left with its leader, both ways; its grievances are on the record.
    assert after[COUNCIL, CCG] == PRIOR and after[ACUTE, COUNCIL] == PRIOR
    assert after[COUNCIL, ACUTE] == 0.2 and after[CCG, COUNCIL] == 0.1
    assert after[CCG, ACUTE] == 0.8  # not the council's relationship
    np.testing.assert_array_equal(centre_edges(m), centre)


def test_turnover_in_the_model_never_raises_any_trust():
    m = wigan(**{"trust.turnover": 1.0})  # every leader leaves at every step
    rng = np.random.default_rng(0)
    m.trust.values[:] = rng.uniform(0, 1, len(m.trust.values))
    before = m.trust.values.copy()
    m._people(weeks=1.0)
    assert (m.trust.values <= before).all()
    local = m.trust._local
    assert (m.trust.values[local] <= PRIOR).all()
    np.testing.assert_array_equal(m.trust.values[~local], before[~local])


# --- H3: trust spent to meet the date ---------------------------------------------------------
def agreed_on(utility_of_plan: float, **overrides) -> np.ndarray:
    """Trust after the table agrees a plan worth `utility_of_plan` to every party (opening
    target 1 with no initial concession and reservation 0)."""
    m = wigan(**{"negotiation.initial_concession": 0.0, **overrides})
    t = m.tables[0]
    t.reservation = np.zeros(t.n)
    t.utility = np.full((t.n, 2), utility_of_plan)
    t.utility[:, 1] = 0.0
    t.begin_week(0)
    t.negotiators = [SimpleNamespace(respond=lambda table, j, k: True)] * t.n
    t.put_offer(0)
    assert t.finish_week(0)  # a first offer, accepted by all: agreement is the only experience
    return trust_of(m)


def off(m: np.ndarray) -> np.ndarray:
    return m[~np.eye(len(m), dtype=bool)]


def test_an_agreement_far_below_the_opening_targets_spends_trust():
    near, far = agreed_on(0.95), agreed_on(0.2)
    assert (off(far) < PRIOR).all()  # 0.2 of what each opened with: trust spent
    assert (off(near) > PRIOR).all()  # near the opening target: a commitment made together
    assert (off(far) < off(near)).all()


def test_the_agreement_experience_is_the_share_of_the_opening_target():
    m = wigan(**{"negotiation.initial_concession": 0.2})
    t = m.tables[0]
    t.reservation = np.array([0.5, 0.0, 0.0])
    t.utility = np.array([[0.6], [0.4], [0.9]])
    council, ccg, acute = t.parties
    assert council.agreement_experience(t, 0, 0) == pytest.approx(0.6 / (0.5 + 0.5 * 0.8))
    assert ccg.agreement_experience(t, 1, 0) == pytest.approx(0.4 / 0.8)
    assert acute.agreement_experience(t, 2, 0) == 1.0  # above its opening target: clipped at 1


# --- switches ---------------------------------------------------------------------------------
def test_agreement_experience_off_leaves_trust_alone():
    assert (off(agreed_on(0.2, **{"mechanisms.agreement_experience": False})) == PRIOR).all()
    assert (off(agreed_on(0.95, **{"mechanisms.agreement_experience": False})) == PRIOR).all()


def test_review_experience_off_leaves_all_trust_alone():
    m = wigan(**{"mechanisms.review_experience": False, "centre.withheld_to": "centre"})
    before = m.trust.values.copy()
    m._quarterly_review(deliver(m, diverted=0.8e6, defensiveness=0.9, withheld=1e6))
    np.testing.assert_array_equal(m.trust.values, before)


@pytest.mark.parametrize("on", [True, False])
def test_info_sharing_switch_decides_whether_trust_cuts_optimism(on):
    m = wigan(**{"mechanisms.info_sharing": on})
    t = m.tables[0]
    believed = []
    for trust in (0.1, 0.9):
        t.trust = np.full((t.n, t.n), trust)
        np.fill_diagonal(t.trust, 1.0)
        believed.append(t.believed_return())
    if on:
        assert believed[1] < believed[0]  # trusting partners share what they know: less optimism
    else:
        assert believed[1] == believed[0]
