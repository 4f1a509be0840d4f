"""The weekly negotiation at one area's table: stacked alternating offers with unanimity.

This module is the protocol only: a proposer rotates among the parties (Aydogan et al.'s
stacked alternating offers), the others accept or reject, a plan is agreed when every required
party accepts, deadlines open and close the talks, and every offer is recorded. What to propose,
whether to accept and what to learn are the organisations' own decisions
(`bettercare.agents.Organisation`). Anything that can `propose` and `respond` sits at the table
as a `Negotiator`: an organisation, or a workshop participant in its place. This module never
asks which.

Utilities are normalised per party to [0, 1] over the candidate plans, so targets, reservation
values and the trust bonus share one scale.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

from bettercare.agents import Organisation, Stance
from bettercare.vocabulary.plan import EPS, Slot, features, imposed, savings_basis, savings_rel, validate
from bettercare.vocabulary.trust import updated

from .trust import off_diagonal_mean

if TYPE_CHECKING:
    from .model import BetterCareModel


class Negotiator(Protocol):
    """Anything that can sit at a table and speak for a party."""

    def propose(self, table: Table, party: int) -> int:
        """Index of the candidate plan this party puts on the table."""

    def respond(self, table: Table, party: int, offer: int) -> bool:
        """Accept (True) or reject the plan on the table."""


class Table:
    """One area's partners, their candidate plans and the state of their talks."""

    def __init__(
        self,
        model: BetterCareModel,
        area: int,
        parties: list[Organisation],
        outsiders: list[Organisation],
        score: bool = True,
    ):
        self.model = model
        self.area = area
        self.parties = parties
        self.outsiders = outsiders  # organisations of the area not at the table (acute trusts left out)
        self.codes = [p.code for p in parties]
        self.n = len(parties)
        self.negotiators: list[Negotiator] = list(parties)
        self.plans = model.candidates  # copied on write if a person adds a plan
        self.savings_basis = model.savings_basis
        self.required = np.ones(self.n, bool)
        k = len(model.candidates)
        self.offer: int | None = None
        self.last_accepts = np.zeros(0, bool)
        self.targets: np.ndarray | None = None  # set by begin_week
        self.credible: np.ndarray | None = None
        belief_error = model.rng.standard_normal((self.n, self.n, k))
        self.stances: list[Stance] = [o.join(self, j, belief_error[j]) for j, o in enumerate(parties)]
        self.noise_sd = model.params.negotiation.perspective_noise
        self.bonus = model.params.negotiation.trust_bonus
        self.agreed: int | None = None
        self.agreed_week: int | None = None
        self.plan: np.ndarray | None = None
        self.imposed = False
        self.ceiling_return: float | None = None  # the centre's cap on claimed returns after a rejection
        self.optimism_scale = 1.0
        self.centre_view: float | None = None  # the centre's stress-tested return, once fed back
        self.centre_weight = 0.0
        self.rounds = 0
        self.proposer = 0
        self.trust = model.trust.matrix(self.codes)
        self.open(window=model.params.deadline.weeks, start_week=0)
        if score:
            self.rescore()

    # --- scoring -------------------------------------------------------------------------
    def rescore(self) -> None:
        """Recompute every party's utility of every candidate under the rules in force."""
        m = self.model
        a = self.area
        rules = m.rules
        # The performance money at risk is valued at the return believed now, for every plan scored
        # until the next rescore (a person's plan too: `score`).
        believed = self.believed_return()
        feats = features(self.plans, m.minimum_gbp[a], m.admissions[a], rules, believed, self.savings_basis)
        fallback_plan = imposed(self.fallback_ambition(believed))[None]
        self.take_scores(believed, feats, features(fallback_plan, m.minimum_gbp[a], m.admissions[a], rules, believed))

    def fallback_ambition(self, believed: float) -> float:
        """Partners read an imposed plan's ambition as no more than its schemes could deliver."""
        ceiling = self.claim_ceiling(self.model.imposed_basis, believed)[0]
        return min(self.model.rules.ambition_target, max(ceiling, 0.0))

    def take_scores(self, believed: float, feats: np.ndarray, fallback_features: np.ndarray) -> None:
        """Normalise the parties' utilities of the candidates (`feats`) between the worst and best
        of them and of the imposed plan (`fallback_features`); the reservation value is the
        imposed plan's, less the deadline penalty. `Model.rescore_tables` scores many tables at once."""
        self.scored_return = believed
        self.features = feats
        raw = np.stack([p.utility(feats) for p in self.parties])
        fallback = np.array([p.utility(fallback_features)[0] for p in self.parties])
        lo = np.minimum(raw.min(axis=1), fallback)
        hi = np.maximum(raw.max(axis=1), fallback)
        span = np.maximum(hi - lo, EPS)
        self.utility = (raw - lo[:, None]) / span[:, None]
        for stance in self.stances:
            stance.forget_refusals(len(self.plans))
        penalty = self.model.params.deadline.penalty
        self.reservation = np.clip((fallback - lo) / span - penalty, 0.0, 1.0)
        self._lo, self._span = lo, span

    def score(self, plan: np.ndarray) -> np.ndarray:
        """Normalised utility of one plan for every party (for plans from people)."""
        m = self.model
        f = features(plan[None], m.minimum_gbp[self.area], m.admissions[self.area], m.rules, self.scored_return)
        return (np.array([p.utility(f)[0] for p in self.parties]) - self._lo) / self._span

    def believed_return(self) -> float:
        """Scheme return the partners believe: optimistic unless trust lets them share what they know."""
        p = self.model.params
        mean_trust = off_diagonal_mean(self.trust) if self.n > 1 else 1.0
        pressure = (p.deadline.reference_weeks / max(self.window, 1)) ** p.deadline.pressure
        sharing = p.trust.info_sharing * mean_trust if p.mechanisms.info_sharing else 0.0
        bias = p.planning.optimism * pressure * (1.0 - sharing) * self.optimism_scale
        believed = p.delivery.return_mean + bias * p.delivery.return_sd
        if self.centre_view is not None:
            # Feedback from the centre's stress test, believed as far as the centre is trusted.
            w = self.centre_weight
            believed = float(np.exp(w * np.log(max(self.centre_view, 1e-4)) + (1 - w) * np.log(max(believed, 1e-4))))
        if self.ceiling_return is not None:
            believed = min(believed, self.ceiling_return)
        return believed

    def claim_ceiling(self, basis: np.ndarray, believed: float | None = None) -> np.ndarray:
        """Largest admissions cut the partners believe plans with this savings basis can deliver
        (at the return they believe now, unless `believed` is given)."""
        m = self.model
        a = self.area
        if believed is None:
            believed = self.believed_return()
        p = m.params
        rel = savings_rel(basis, believed, p.delivery.social_care_spillover, p.planning.spillover_claimed_share)
        return rel * m.minimum_gbp[a] / (m.admissions[a] * m.params.costs.admission_gbp)

    def credible_mask(self) -> np.ndarray:
        """Plans whose claimed ambition the schemes they fund could deliver, as the table believes."""
        ambition = self.plans[:, Slot.AMBITION]
        mask = ambition <= self.claim_ceiling(self.savings_basis)
        if not mask.any():
            mask = ambition <= ambition.min() + EPS
        return mask

    # --- the talks -------------------------------------------------------------------------
    def open(self, window: int, start_week: int) -> None:
        """Start (or restart) talks with a deadline `window` weeks from `start_week`."""
        self.window = window
        self.start_week = start_week
        self.agreed = None
        self.agreed_week = None
        for stance in self.stances:
            stance.reopen()

    def week(self, week: int) -> bool:
        """One week of talks; True if a plan was agreed."""
        if self.agreed is not None:
            return False
        self.begin_week(week)
        self.put_offer(int(self.negotiators[self.proposer].propose(self, self.proposer)))
        return self.finish_week(week)

    # The week in three moves, so that a person can take their time over each (the workshop).
    def begin_week(self, week: int) -> int:
        """Targets and credible plans for this week; returns the index of this week's proposer."""
        self.trust = self.model.trust.matrix(self.codes)
        self.targets = np.array([o.set_target(self, j, week) for j, o in enumerate(self.parties)])
        self.credible = self.credible_mask()
        self.proposer = self.rounds % self.n
        self.offer: int | None = None
        return self.proposer

    def put_offer(self, offer: int) -> None:
        if not 0 <= offer < len(self.plans):
            raise ValueError(f"no candidate plan {offer}")
        self.offer = offer

    def finish_week(self, week: int) -> bool:
        """Everyone else responds to the offer on the table; agreement needs every required party."""
        m = self.model
        p, offer = self.proposer, self.offer
        self.rounds += 1
        accepts = np.ones(self.n, bool)
        for j in range(self.n):
            if j != p:
                accepts[j] = bool(self.negotiators[j].respond(self, j, offer))
        # Everyone sees who refused, and the table shows targets, trust and reservations, so a
        # refusal reveals that the refuser's utility lies below its bar.
        refused = np.flatnonzero(~accepts)
        bars = np.array([self.parties[j].acceptance_bar(self, j, p) for j in refused])
        previous = self.parties[p].note_own_offer(self, p, offer)
        if len(refused) or previous >= 0:  # else there is nothing to learn: a first offer, accepted
            for j, o in enumerate(self.parties):
                o.learn(self, j, p, offer, previous, refused, bars)
        m.record_offer(self, week, p, offer, accepts)
        if accepts[self.required].all():
            if m.params.mechanisms.agreement_experience:
                self.agreement_experience(offer)
            self.agreed = offer
            self.agreed_week = week
            self.plan = self.plans[offer].copy()
        m.trust.store(self.codes, self.trust)
        self.last_accepts = accepts
        return self.agreed is not None

    def agreement_experience(self, offer: int) -> None:
        """Each party lives the agreement as how well the plan served it against its opening
        target, about every partner who agreed it with it (row about column). A plan near the
        target builds trust; one conceded far below it under deadline pressure spends it (H3)."""
        m = self.model
        e = np.array([o.agreement_experience(self, j, offer) for j, o in enumerate(self.parties)])
        self.trust = updated(
            self.trust, e[:, None], m.trust.gain_good, m.trust.gain_bad, m.params.trust.agreement_weight
        )
        np.fill_diagonal(self.trust, 1.0)

    def add_plan(self, plan: np.ndarray) -> int:
        """Put a plan that is not among the sampled candidates (a person's) on this table's list.

        Returns its index; raises ValueError saying why if the plan breaks the rules.
        """
        prm = self.model.params
        why = validate(plan, prm.money.max_topup, prm.planning.ambition_max)
        if why:
            raise ValueError(why)
        plan = np.asarray(plan, float)
        if self.plans is self.model.candidates:
            self.plans = self.plans.copy()
        self.plans = np.vstack([self.plans, plan])
        self.savings_basis = np.vstack([self.savings_basis, savings_basis(plan[None])])
        self.utility = np.hstack([self.utility, self.score(plan)[:, None]])
        # Beliefs about a person's plan come from a stream seeded by the plan itself, so that
        # what people propose does not shift the model's own random draws.
        own = np.random.default_rng([self.area, *np.round(plan * 1e6).astype(np.int64).clip(0)])
        errors = own.standard_normal((self.n, self.n, 1))
        for j, stance in enumerate(self.stances):
            stance.belief_error = np.concatenate([stance.belief_error, errors[j]], axis=1)
            stance.refused_below = np.hstack([stance.refused_below, np.full((self.n, 1), np.inf)])
        if self.credible is not None:
            self.credible = np.append(
                self.credible, self.claim_ceiling(self.savings_basis[-1:])[0] >= plan[Slot.AMBITION]
            )
        return len(self.plans) - 1
