"""The CCG: wants emergency admissions down and its books balanced.

NHS money moved to social care above the floor is money it no longer controls; under the
revised 2014 rule, unearned performance money comes back to the local NHS, so the money at risk
weighs less. Its weights are `incentives.ccg.*`.

"It isn't new money" (H8): the part of the NHS minimum that is not new money
(1 - `money.new_money_share`) is taken from the CCG's existing services, so a pound moved to
social care is also a pound those services lose (`incentives.ccg.existing_services`, with
`mechanisms.nhs_funding_drain`).
"""

from __future__ import annotations

import mesa
import numpy as np

from bettercare.vocabulary.plan import Feature

from .organisation import Organisation


class CCG(Organisation):
    kind = "ccg"

    def __init__(self, model: mesa.Model, code: str, name: str, population: float):
        super().__init__(model, code, name, population)
        p = model.params
        existing = 1.0 - p.money.new_money_share if p.mechanisms.nhs_funding_drain else 0.0
        self.existing_weight = existing * p.incentives.ccg.existing_services * self.own_draw(Feature.NHS_OUTFLOW)

    def utility(self, feats: np.ndarray) -> np.ndarray:
        """Raw utility, plus the loss to its existing services of NHS money moved to social care."""
        u = feats @ self.weights
        if self.existing_weight == 0:
            return u
        return u + self.existing_weight * feats[:, Feature.NHS_OUTFLOW]
