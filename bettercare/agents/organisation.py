"""What every organisation at a table does: value plans, propose, respond, and learn.

Utilities are additive (docs/ODD.md §7.3): u(plan) = features(plan) @ weights. Each
organisation's weights are its kind's parameters (`incentives.<kind>.<feature>`) times a
log-normal draw, so that no two councils want quite the same thing.

The decisions are vectorised over the table's candidate plans: a table of 384 candidates is
scored, searched and learnt from in a few numpy operations per week.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from bettercare.vocabulary.plan import EPS, N_FEATURES, Feature
from bettercare.vocabulary.trust import updated

if TYPE_CHECKING:
    from bettercare.model.delivery import Delivery
    from bettercare.model.negotiation import Table


@dataclass
class Stance:
    """What one organisation holds at one table: its position and what it has learnt there.

    `belief_error` and `refused_below` are (parties, plans): the organisation's error in
    estimating each party's utility of each plan (in units of the perspective noise), and the
    ceiling that party's refusals put on that utility.
    """

    party: int
    belief_error: np.ndarray
    refused_below: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    target: float = 1.0
    credit: float = 0.0  # concessions returned to partners who conceded (reciprocity)
    last_offer: int = -1
    last_concession: float = 0.0

    def reopen(self) -> None:
        """Talks restart with a new deadline: positions are taken afresh."""
        self.credit = 0.0
        self.last_offer = -1
        self.last_concession = 0.0

    def forget_refusals(self, n_plans: int) -> None:
        """Refusals were made under rules that no longer hold."""
        self.refused_below = np.full((len(self.belief_error), n_plans), np.inf)


class Organisation(mesa.Agent):
    """A council, CCG or acute trust. Subclasses set `kind`, which names its weights' parameters.

    It is a `Negotiator`: the table calls `propose` and `respond` and never asks what sits there.
    """

    kind: ClassVar[str] = "organisation"

    def __init__(self, model: mesa.Model, code: str, name: str, population: float):
        super().__init__(model)
        self.code = code
        self.name = name
        self.population = float(population)
        self.stances: dict[int, Stance] = {}  # by area
        p = model.params
        spread = p.negotiation.individual_variation
        self._base = self.base_weights(p)
        base = np.zeros(N_FEATURES)
        for f, w in self._base.items():
            base[f] = w
        self.weights = base * model.rng.lognormal(0.0, spread, N_FEATURES)
        # Some partners already run pooled budgets (section 75) and some have never agreed one:
        # the fixed cost of pooling more varies widely, so draw it from an exponential.
        for f in (Feature.COUNCIL_POOLS_MORE, Feature.CCG_POOLS_MORE):
            self.weights[f] = base[f] * model.rng.exponential(1.0)
        holdout = p.negotiation.holdout == self.kind
        beta = p.negotiation.holdout_compromise if holdout else p.negotiation.compromise
        self.beta = float(beta * model.rng.lognormal(0.0, spread / 2))
        self.holdout = holdout

    @classmethod
    def base_weights(cls, params) -> dict[Feature, float]:
        """The kind's mean weights, from `incentives.<kind>`; features it has no field for weigh 0.

        A field that names no feature (a council's `gap_filling`) weighs a term the kind adds in
        its own `utility`.
        """
        group = getattr(params.incentives, cls.kind)
        return {
            Feature[name.upper()]: float(value)
            for name, value in group.model_dump().items()
            if name.upper() in Feature.__members__
        }

    def own_draw(self, feature: Feature) -> float:
        """This organisation's log-normal draw on `feature`'s weight (its weight over its kind's
        mean; 1 where the mean is 0): scales a kind's extra utility terms without a new draw, so
        the random stream is unchanged."""
        base = self._base.get(feature, 0.0)
        return float(self.weights[feature] / base) if base != 0 else 1.0

    # --- valuing ------------------------------------------------------------------------------
    def utility(self, feats: np.ndarray) -> np.ndarray:
        """Raw utility of each plan (rows of a feature matrix)."""
        return feats @ self.weights

    def concession_beta(self, window: int) -> float:
        """Faratin's beta bent by deadline pressure: a short window makes everyone concede faster."""
        d = self.model.params.deadline
        return self.beta * (d.reference_weeks / max(window, 1)) ** d.pressure

    def target(self, t: float, window: int, reservation: float) -> float:
        """Faratin, Sierra & Jennings (1998) time-dependent target on the normalised scale.

        u(t) = r + (1 - r)(1 - f(t)), f(t) = k + (1 - k)(t/T)^(1/beta). beta < 1 is Boulware.
        (NegMAS writes the exponent as beta itself: the inverse of this convention.)
        """
        k = self.model.params.negotiation.initial_concession
        beta = self.concession_beta(window)
        x = min(max(t / max(window, 1), 0.0), 1.0)
        f = k if beta <= 0 else k + (1 - k) * x ** (1.0 / beta)
        return reservation + (1.0 - reservation) * (1.0 - f)

    # --- at a table ---------------------------------------------------------------------------
    def join(self, table: Table, party: int, belief_error: np.ndarray) -> Stance:
        """Take a seat at `table` as party `party`."""
        stance = Stance(party=party, belief_error=belief_error)
        self.stances[table.area] = stance
        return stance

    def set_target(self, table: Table, party: int, week: int) -> float:
        """This week's target: the concession curve, less the credit owed to partners who
        conceded, never below the reservation value."""
        s = table.stances[party]
        r = float(table.reservation[party])
        s.target = max(self.target(week - table.start_week, table.window, r) - s.credit, r)
        return s.target

    def acceptance_bar(self, table: Table, party: int, proposer: int) -> float:
        """The least utility this party accepts from `proposer` this week: its target less the
        trust bonus (none for a holdout), never below its reservation value."""
        bonus = 0.0 if self.holdout else table.bonus
        return max(
            table.stances[party].target - bonus * float(table.trust[party, proposer]), float(table.reservation[party])
        )

    def propose(self, table: Table, party: int) -> int:
        """Among credible plans that meet its own target, the one whose worst estimated gain for
        the others is largest ("walk in other people's shoes"). Estimates err less the more it
        trusts the other, because trusted partners share information (H1); a refusal caps the
        estimate of what the refuser gets from that plan.
        """
        own = table.utility[party]
        ok = table.credible & (own >= table.targets[party] - EPS)
        if not ok.any():
            pool = np.flatnonzero(table.credible)
            return int(pool[np.argmax(own[pool])])
        others = np.arange(table.n)
        others = others[others != party]
        if not len(others):
            return int(np.flatnonzero(ok)[np.argmax(own[ok])])
        s = table.stances[party]
        idx = np.flatnonzero(ok)
        noise = table.noise_sd * (1.0 - table.trust[party, others])[:, None]
        est = table.utility.take(others, 0).take(idx, 1) + noise * s.belief_error.take(others, 0).take(idx, 1)
        est = np.minimum(est, s.refused_below.take(others, 0).take(idx, 1))
        gain = est - table.targets[others][:, None]
        return int(idx[np.argmax(gain.min(axis=0))])

    def respond(self, table: Table, party: int, offer: int) -> bool:
        """Accept exactly when the offer is worth at least the acceptance bar."""
        return bool(table.utility[party, offer] >= self.acceptance_bar(table, party, table.proposer) - EPS)

    def learn(
        self, table: Table, party: int, proposer: int, offer: int, previous: int, refused: np.ndarray, bars: np.ndarray
    ) -> None:
        """What this party takes from the week's round (`bars[i]` is the bar of party `refused[i]`).

        A refusal says the refuser valued the offer below its bar: that caps the estimate.
        And did the proposer move toward me since its last offer? A concession is credited back
        in proportion to trust (reciprocity, not for a holdout) and builds trust; a retraction
        beyond noise, or standing still after I conceded, breaks it.
        """
        s = table.stances[party]
        if len(refused):
            s.refused_below[refused, offer] = np.minimum(s.refused_below[refused, offer], bars)
        if party == proposer or previous < 0:
            return
        prm = self.model.params
        signal = prm.negotiation.notice_threshold
        delta = table.utility[party, offer] - table.utility[party, previous]
        if delta > EPS:
            e, w = 1.0, min(1.0, delta / signal)
            if not self.holdout:  # reciprocity is a way of compromising
                s.credit += prm.negotiation.reciprocity * table.trust[party, proposer] * delta
        elif delta < -signal:
            e, w = 0.0, min(1.0, -delta / signal - 1.0)  # a retraction, beyond noise
        elif s.last_concession > signal and table.stances[proposer].last_concession <= EPS:
            e, w = (
                0.0,
                prm.trust.standstill_weight * min(1.0, s.last_concession / signal),
            )  # I conceded, they stood still
        else:
            return
        table.trust[party, proposer] = updated(
            float(table.trust[party, proposer]), float(e), prm.trust.gain_good, prm.trust.gain_bad, float(w)
        )

    def agreement_experience(self, table: Table, party: int, offer: int) -> float:
        """How well an agreed plan served this party: its utility of the plan as a share of the
        target it opened these talks with. A plan conceded far below it under deadline pressure
        is trust spent to meet the date (H3); one that meets it is a commitment made together."""
        opening = self.target(0, table.window, float(table.reservation[party]))
        return min(max(float(table.utility[party, offer]) / max(opening, EPS), 0.0), 1.0)

    def commitment_kept(self, delivery: Delivery, area: int) -> float:
        """This organisation's commitments kept in delivery, in [0, 1], as its partners see it at a
        quarterly review. The model has no way for an organisation of this kind to fall short of
        the plan (a CCG funds its lines as agreed), so it keeps them all; kinds that can, say how."""
        return 1.0

    def note_own_offer(self, table: Table, party: int, offer: int) -> int:
        """Remember the offer just made, and how much it gave away; returns the previous one."""
        s = table.stances[party]
        previous = s.last_offer
        if previous >= 0:
            s.last_concession = max(table.utility[party, previous] - table.utility[party, offer], 0.0)
        s.last_offer = offer
        return previous

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
