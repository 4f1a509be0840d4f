"""The council: protects adult social care, values local freedom, counts the cost of its top-up.

Its weights are `incentives.council.*` (`bettercare params`); what it does at a table is the
shared behaviour of `Organisation`. Under budget pressure (`mechanisms.council_pressure`) it
also has a **gap**: the money it must find in 2015-16 to keep buying what it buys now, the
real-terms cut (`money.social_care_cut` of its budget) plus the demographic pressure its budget
does not fund (ADASS Budget Survey, July 2014: GBP 391m, 83% funded). While the gap is unfilled,
BCF social-care money is worth more to it and its own money costs more (`utility`); in delivery
it diverts unringfenced money to fill the gap (`diversion`) and, without the BCF, saves the
unfunded pressure by buying fewer placements (`saving_share`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from bettercare.vocabulary.plan import Feature

from .organisation import Organisation

if TYPE_CHECKING:
    from bettercare.model.delivery import Delivery


def national_budget_gbp(params) -> float:
    """Council adult social care budgets in England, GBP a year: the 2014-15 cash cut over its
    rate (ADASS 2014: GBP 266m, 1.9%; about GBP 14.0bn)."""
    f = params.flow
    return f.asc_cash_cut_gbp_2014 / max(abs(f.asc_cash_change_2014), 1e-9)


def unfunded_pressure_gbp(params) -> float:
    """Demographic pressure that councils' budgets do not fund, GBP a year (ADASS 2014: 17% of GBP 391m)."""
    f = params.flow
    return f.asc_demographic_pressure_gbp * (1.0 - f.asc_demographic_funded_share)


class Council(Organisation):
    kind = "council"

    def commitment_kept(self, delivery: Delivery, area: int) -> float:
        """The share of the social-care money above the floor that reached social care: what it
        diverted (H8) is the commitment it broke."""
        committed = delivery.social_care_effective[area] + delivery.diverted[area]
        return 1.0 - float(delivery.diverted[area] / committed) if committed > 0 else 1.0

    def __init__(self, model: mesa.Model, code: str, name: str, population: float):
        super().__init__(model, code, name, population)
        self.gap = self.gap_share(model.params)
        self.gap_weight = model.params.incentives.council.gap_filling * self.own_draw(Feature.SOCIAL_CARE)

    @staticmethod
    def gap_share(params) -> float:
        """A council's 2015-16 gap as a share of its area's minimum pool (both scale with
        population, so it is the national ratio): the real-terms cut of its budget plus the
        unfunded demographic pressure. 0 without the pressure mechanism or with a budget rise."""
        if not params.mechanisms.council_pressure:
            return 0.0
        gap = params.money.social_care_cut * national_budget_gbp(params) + unfunded_pressure_gbp(params)
        return max(gap, 0.0) / params.money.minimum_gbp

    @staticmethod
    def saving_share(params) -> float:
        """What a council must save each year beyond its cash path, as a share of its budget: the
        unfunded demographic pressure. Without the BCF it saves it by buying fewer placements.
        0 without the pressure mechanism."""
        if not params.mechanisms.council_pressure:
            return 0.0
        return unfunded_pressure_gbp(params) / national_budget_gbp(params)

    @staticmethod
    def diversion(excess_gbp: np.ndarray, gap_gbp: np.ndarray, divert_room: float) -> np.ndarray:
        """Unringfenced social-care money above the floor a council diverts: what fills its gap,
        up to the room the rules allow. A council with no gap diverts nothing."""
        return np.minimum(divert_room * np.maximum(excess_gbp, 0.0), np.maximum(gap_gbp, 0.0))

    def utility(self, feats: np.ndarray) -> np.ndarray:
        """Raw utility, plus the shadow price of money while the gap is unfilled: social-care money
        above the floor that fills the gap is worth `gap_weight` more a unit, and each unit of its
        own top-up costs `gap_weight` more while the NHS's money leaves the gap unfilled."""
        u = feats @ self.weights
        if self.gap <= 0 or self.gap_weight == 0:
            return u
        above = feats[:, Feature.NHS_OUTFLOW]
        topup = feats[:, Feature.COUNCIL_TOPUP]
        filled = np.minimum(above, self.gap)
        nhs_above = np.maximum(above - topup, 0.0)
        own_in_gap = np.minimum(topup, np.maximum(self.gap - nhs_above, 0.0))
        return u + self.gap_weight * (filled - own_in_gap)
