"""The acute trust: paid by activity while its costs are fixed ("the DGH issue").

Every avoided admission is lost income unless the plan shares risk, and a trust in deficit
defends its income harder (weight scaled by acute.deficit_sensitivity). At the start of delivery
it weighs what the plans of the areas it serves would cost it (`exposure`) and its practice turns
as defensive as that loss, sharpened by its deficit, warrants (`defensiveness`). At the end of
delivery it closes its books under the marginal rate emergency tariff.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

from bettercare.vocabulary.plan import Feature

from .organisation import Organisation

if TYPE_CHECKING:
    from bettercare.model.delivery import Delivery

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
        self.income = self.emergency_income / model.params.acute.emergency_income_share
        self.costs = self.income * (1.0 - self.margin)
        self.income_end = float("nan")
        self.costs_end = float("nan")
        self.exposure_share = float("nan")  # set at the start of delivery

    def commitment_kept(self, delivery: Delivery, area: int) -> float:
        """What it did not hold back: a defensive trust admits more and discharges more slowly
        than the plan assumed, in proportion to its defensiveness in the area."""
        return 1.0 - float(delivery.defensiveness[area])

    @property
    def in_deficit(self) -> bool:
        return self.income < self.costs

    def net_income_change(self, admissions_change: float) -> float:
        """Income less variable costs that a change in emergency admissions against 2014-15 brings.

        Payment by results pays activity at tariff; growth is paid at the marginal rate; variable
        costs follow activity (`acute.fixed_cost_share` of an admission's cost is fixed). So an
        avoided admission loses the full tariff and saves only its variable cost.
        """
        p = self.model.params
        paid = MARGINAL_RATE if admissions_change > 0 else 1.0
        return admissions_change * p.costs.admission_gbp * (paid - (1.0 - p.acute.fixed_cost_share))

    def exposure(self, avoided_admissions: float, risk_share_gbp: float, p4p_stake_gbp: float) -> float:
        """Share of its yearly income the trust stands to lose if the plans deliver what it expects.

        `avoided_admissions` is its expectation of the admissions the plans of its areas avoid each
        year (an insider reads the table's believed return, an outsider the published ambition);
        `risk_share_gbp` is the risk-share money the plans pay it a year; `p4p_stake_gbp` is the
        performance money it would receive if the areas missed their cut (unearned money paid to
        the local NHS under the 2014 rule): delivering the plan forgoes it. Negative when the plans
        pay it more than they cost it.
        """
        lost = -self.net_income_change(-avoided_admissions)
        return (lost + p4p_stake_gbp - risk_share_gbp) / self.income

    def deficit(self, drain_gbp: float) -> float:
        """Its deficit as a share of income once the NHS share of the minimum is taken (0 in surplus)."""
        return max(0.0, drain_gbp / self.income - self.margin)

    def defensiveness(self, exposure: float, drain_gbp: float) -> float:
        """How defensive its admission and discharge practice turns, 0 to 1.

        In proportion to what it stands to lose (`acute.exposure_scale` of income makes a trust in
        balance fully defensive), sharpened by its deficit as in its valuation of plans
        (`acute.deficit_sensitivity` per 2% of income). 0 when the `acute_exposure` mechanism is off.
        """
        p = self.model.params
        if not p.mechanisms.acute_exposure:
            return 0.0
        a = p.acute
        sharpen = 1.0 + a.deficit_sensitivity * self.deficit(drain_gbp) / 0.02
        return min(1.0, max(0.0, exposure) * sharpen / a.exposure_scale)

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
