"""The acute trust: paid by activity while its costs are fixed ("the DGH issue").

Every avoided admission is lost income unless the plan shares risk, and a trust in deficit
defends its income harder (weight scaled by acute.deficit_sensitivity). At the end of delivery
it closes its books under the marginal rate emergency tariff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from bettercare.vocabulary.plan import Feature

from .organisation import Organisation

if TYPE_CHECKING:
    from bettercare.model.delivery import Delivery

EMERGENCY_SHARE_OF_INCOME = 0.4  # emergency activity is about 40% of an acute trust's income
MARGINAL_RATE = 0.3  # activity above the 2008-09 baseline is paid at 30% of tariff (marginal rate emergency tariff, 2010-11 on; docs/ODD.md §6)


class AcuteTrust(Organisation):
    kind = "acute"

    def __init__(self, model: mesa.Model, code: str, name: str, population: float):
        super().__init__(model, code, name, population)
        a = model.params.acute
        self.margin = float(model.rng.normal(a.margin_mean, a.margin_sd))
        deficit = max(0.0, -self.margin)
        self.weights[Feature.INCOME_LOSS] *= (
            1.0 + a.deficit_sensitivity * deficit / 0.02
        )  # sensitivity per 2% of income
        adm = population * model.params.costs.admissions_per_person
        self.emergency_income = adm * model.params.costs.admission_gbp
        self.income = self.emergency_income / EMERGENCY_SHARE_OF_INCOME
        self.costs = self.income * (1.0 - self.margin)
        self.income_end = float("nan")
        self.costs_end = float("nan")

    def commitment_kept(self, delivery: Delivery, area: int) -> float:
        """What it did not hold back: a defensive trust admits more and discharges more slowly
        than the plan assumed, in proportion to its defensiveness in the area."""
        return 1.0 - float(delivery.defensiveness[area])

    @property
    def in_deficit(self) -> bool:
        return self.income < self.costs

    def close_year(self, admissions_change: float, inflow_gbp: float, drain_gbp: float, years: float) -> None:
        """Year-end books after `years` of delivery.

        Activity above baseline earns the marginal rate of tariff; variable costs follow activity;
        risk-share and (under the 2014 rule) withheld money flow in; the NHS's share of the
        minimum that is not new money comes out of income.
        """
        p = self.model.params
        tariff = p.costs.admission_gbp
        paid = MARGINAL_RATE if admissions_change > 0 else 1.0
        self.income_end = self.income * years + paid * admissions_change * tariff + inflow_gbp - drain_gbp
        self.costs_end = self.costs * years + admissions_change * tariff * (1 - p.acute.fixed_cost_share)
