"""What every organisation at a table shares: incentives as weights over plan features, a
concession curve, and an acceptance rule.

Utilities are additive (DESIGN.md section 3): u(plan) = features(plan) @ weights. Each
organisation's weights are its type's means times a log-normal draw, so that no two councils
want quite the same thing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import mesa
import numpy as np

from bettercare.model.plan import N_FEATURES, Feature

if TYPE_CHECKING:
    from bettercare.model.model import BetterCareModel


class Organisation(mesa.Agent):
    """A council, CCG or acute trust. Subclasses set `kind` and `BASE_WEIGHTS`."""

    kind: ClassVar[str] = "organisation"
    BASE_WEIGHTS: ClassVar[dict[Feature, float]] = {}

    def __init__(self, model: BetterCareModel, code: str, name: str, population: float):
        super().__init__(model)
        self.code = code
        self.name = name
        self.population = float(population)
        p = model.params
        spread = p.negotiation.individual_variation
        base = np.zeros(N_FEATURES)
        for f, w in self.base_weights(p).items():
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
        """Type-mean weights; subclasses override those that are calibrated parameters.

        Every partner wants its plan signed off, so falling short of the centre's target costs all.
        """
        w = dict(cls.BASE_WEIGHTS)
        w[Feature.TARGET_GAP] = -params.incentives.target_compliance
        return w

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

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
