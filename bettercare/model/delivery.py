"""Delivery: each area's monthly BCF metrics and money, vectorised over areas.

Schemes work as well as the evidence says, not as the plan claimed: each area's true return
per GBP of scheme spend is drawn once from `delivery.return_mean`/`return_sd` (docs/ODD.md §6, from the evidence reviews: mostly
null or adverse, with a wide spread). Joint working (maturity) multiplies that effect; a
defensive acute trust halves it at worst. Demand grows regardless.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bettercare.vocabulary.plan import FLOORS, Slot, savings_basis, spend_shares

if TYPE_CHECKING:
    from .model import BetterCareModel

class Delivery:
    """Monthly state of every area once its plan is in force."""

    def __init__(self, model: BetterCareModel, plans: np.ndarray, defensiveness: np.ndarray):
        p = model.params
        self.model = model
        self.plans = plans
        self.defensiveness = defensiveness
        M = model.minimum_gbp
        spend = spend_shares(plans) * M[:, None]  # GBP a year by line
        self.spend = spend
        excess_sc = np.maximum(spend[:, 0] - FLOORS[0] * M, 0.0)
        # Councils divert part of the unringfenced social-care money they may (H8).
        self.diverted = p.money.divert_room * 0.5 * excess_sc
        self.social_care_effective = excess_sc - self.diverted
        self.scheme = savings_basis(plans)[:, 0] * M
        self.community_excess = np.maximum(spend[:, 1] - FLOORS[1] * M, 0.0)
        self.n = len(M)
        self.admissions = np.zeros(self.n)
        self.dtoc = np.zeros(self.n)
        self.care_home = np.zeros(self.n)
        self.avoided_admissions = np.zeros(self.n)
        self.avoided_dtoc = np.zeros(self.n)
        self.reablement_pp = np.zeros(self.n)
        self.released = np.zeros(self.n)
        self.withheld = np.zeros(self.n)
        self.pot = model.p4p_pot_for(plans)
        self._quarter_adm = np.zeros(self.n)
        self._quarter_dtoc = np.zeros(self.n)
        self.planned_dtoc_cut = model.planned_dtoc_cut(plans)
        self.months_done = 0

    def month(self, m: int) -> dict[str, np.ndarray]:
        model = self.model
        p = model.params
        c = p.costs
        growth = (1 + p.delivery.demand_growth) ** ((m + 0.5) / 12 + 0.5)
        dtoc_growth = (1 + p.delivery.demand_growth + 2 * p.money.social_care_cut) ** ((m + 0.5) / 12 + 0.5)
        ramp = min(1.0, (m + 1) / p.delivery.ramp_months)
        eff = ramp * (0.5 + model.maturity) * (1 - 0.5 * self.defensiveness)
        spill = p.delivery.social_care_spillover
        avoided = eff * (model.true_return * self.scheme + spill * 0.5 * self.social_care_effective) / c.admission_gbp / 12
        adm = model.admissions / 12 * growth - avoided
        avoided_days = eff * (spill * 0.5 * self.social_care_effective
                              + np.maximum(model.true_return, 0) * 0.5 * self.community_excess) / c.bed_day_gbp / 12
        dtoc = model.dtoc_days / 12 * dtoc_growth - avoided_days
        ch_cut = eff * 0.05 * (self.community_excess + self.social_care_effective) / model.minimum_gbp
        care_home = model.care_home / 12 * (1 + p.delivery.demand_growth / 2) ** ((m + 0.5) / 12 + 0.5) * (1 - ch_cut)
        reablement_pp = 100 * (eff * 0.03 * self.community_excess / model.minimum_gbp) - 1.0 * p.trust.turnover
        self.reablement_pp += (reablement_pp - self.reablement_pp) / (self.months_done + 1)  # mean over months
        self.admissions += adm
        self.dtoc += dtoc
        self.care_home += care_home
        self.avoided_admissions += avoided
        self.avoided_dtoc += avoided_days
        self._quarter_adm += adm
        self._quarter_dtoc += dtoc
        self.months_done += 1
        out = {"admissions": adm, "dtoc_days": dtoc, "care_home_admissions_65": care_home}
        if m % 3 == 2:
            out.update(self._quarter())
        return out

    def _quarter(self) -> dict[str, np.ndarray]:
        """Quarterly payment for performance: paid in proportion to the cut achieved."""
        model = self.model
        base_q = model.admissions / 4
        target = self.plans[:, Slot.AMBITION] * base_q
        cut = base_q - self._quarter_adm
        with np.errstate(divide="ignore", invalid="ignore"):
            achieved = np.where(target > 0, np.clip(cut / target, 0, 1), 1.0)
            if model.rules.p4p_rule == "multi_metric":
                base_d = model.dtoc_days / 4
                target_d = self.planned_dtoc_cut / 4
                achieved_d = np.where(target_d > 0, np.clip((base_d - self._quarter_dtoc) / target_d, 0, 1), 1.0)
                achieved = 0.5 * (achieved + achieved_d)
        released = self.pot / 4 * achieved
        withheld = self.pot / 4 - released
        self.released += released
        self.withheld += withheld
        self._quarter_adm[:] = 0
        self._quarter_dtoc[:] = 0
        return {"achieved": achieved, "released": released, "withheld": withheld}
