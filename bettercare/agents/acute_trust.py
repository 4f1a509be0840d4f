"""The acute trust: paid by activity while its costs are fixed ("the DGH issue").

Every avoided admission is lost income unless the plan shares risk, and a trust in deficit
defends its income harder (weight scaled by acute.deficit_sensitivity).
"""

from __future__ import annotations

from bettercare.model.plan import Feature

from .organisation import Organisation


class AcuteTrust(Organisation):
    kind = "acute"
    BASE_WEIGHTS = {
        Feature.INCOME_LOSS: -1.0,
        Feature.RISK_SHARE: 1.5,
        Feature.COMMUNITY: 0.3,
    }

    @classmethod
    def base_weights(cls, params):
        w = super().base_weights(params)
        w[Feature.INCOME_LOSS] = -params.incentives.acute_income
        return w

    def __init__(self, model, code: str, name: str, population: float):
        super().__init__(model, code, name, population)
        a = model.params.acute
        self.margin = float(model.rng.normal(a.margin_mean, a.margin_sd))
        deficit = max(0.0, -self.margin)
        self.weights[Feature.INCOME_LOSS] *= 1.0 + a.deficit_sensitivity * deficit / 0.02
        # Income: emergency activity is about 40% of an acute trust's income.
        adm = population * model.params.costs.admissions_per_person
        self.emergency_income = adm * model.params.costs.admission_gbp
        self.income = self.emergency_income / 0.4
        self.costs = self.income * (1.0 - self.margin)

    @property
    def in_deficit(self) -> bool:
        return self.income < self.costs
