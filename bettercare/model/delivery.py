"""Delivery: the stock-flow model (flow.py) driven by each area's plan, beside its no-BCF twin.

The pre-period (April 2012 to March 2015, no BCF) sets every area's state on 1 April 2015, and
the same run continued without the BCF through the delivery months is the counterfactual (for
effects, savings and ASCOF 2A(2)'s relative change). Both are deterministic given the flow
parameters, the areas, the council budget path and the number of months, so they are computed
once per such key and cached in the process. The delivery year then runs a `FlowModel` of the
areas driven by their plans from the cached April 2015 state.

Time: the flow model steps a week at a time on its own calendar (steps fall on 1 April 2015);
the model's month m is calendar month m from April 2015. Each month runs the steps until they
cover the month, and each step's flows are shared among calendar months by the days of it they
cover (a month has about 4.35 weeks). Quarterly reviews and payment for performance stay monthly.

Three hooks carry the table into delivery (FlowDrive):
- money: each line buys capacity only with money additional to the counterfactual path
  (`additional_gbp`: above the pre-BCF transfers, the GBP 1.1bn to social care and the GBP 0.3bn
  for reablement, less the ADASS protecting share, and for social care less what the council
  diverts to fill its budget gap, `Council.diversion`); the NHS share of the minimum that is
  not new money shrinks NHS-funded community and intermediate care (H8); the schemes' avoided
  admissions are the area's true return on the admission-avoidance and community lines, reached
  through the acquisition delay;
- implementation: joint working (maturity) cuts the assessment time, by at most
  `delivery.joint_assessment_speedup`;
- behaviour: the acute trust's defensiveness raises its admission rate and slows its declaring
  patients fit, by at most `delivery.defensive_admissions` and `delivery.defensive_discharge`.

Performance money withheld at a quarter's settlement is not spent on the area's capacity and
schemes for the rest of the year (`mechanisms.p4p_capacity`): it goes to the acute trusts or back
to the centre (`centre.withheld_to`), not to the schemes.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from bettercare.agents import Council
from bettercare.vocabulary.plan import FLOORS, Slot, savings_basis, spend_shares

from .flow import (
    COUNCIL_FUNDED,
    DAYS_PER_WEEK,
    DAYS_PER_YEAR,
    DELIVERY_START,
    FlowDrive,
    FlowInputs,
    FlowModel,
    FlowState,
    additional_gbp,
    savings_gbp,
)
from .flow_params import FlowParams

if TYPE_CHECKING:
    from .model import BetterCareModel

WEEKS_PER_YEAR = DAYS_PER_YEAR / DAYS_PER_WEEK
BASELINE_START = date(2014, 4, 1)  # the 2014-15 baseline year: the last before the BCF
CACHE_SIZE = 16


def month_start(m: int) -> date:
    """First day of delivery month m (0 = April 2015)."""
    y, k = divmod(DELIVERY_START.month - 1 + m, 12)
    return date(DELIVERY_START.year + y, k + 1, 1)


def area_z(codes: tuple[str, ...]) -> np.ndarray:
    """Each area's standard normal draw for its admissions-rate effect, fixed by its code.

    An area's rate relative to the nation is a trait of the area, not of a run: the draw comes
    from a generator seeded by the code, so an area has the same effect in every run and in any
    selection of areas (the level is then renormalised over the selection).
    """
    return np.array([np.random.default_rng(zlib.crc32(c.encode())).standard_normal() for c in codes])


@dataclass(frozen=True)
class PrePeriod:
    """Every area on 1 April 2015 after the no-BCF pre-period, its 2014-15 baseline, and the
    same areas without the BCF through the delivery months (the counterfactual)."""

    inputs: FlowInputs
    state: FlowState
    admissions_by_month: np.ndarray  # (12, n) April 2014 .. March 2015
    delayed_days_by_month: np.ndarray  # (12, n, 3) by agency
    care_home_2014_15: np.ndarray  # (n,)
    cf_admissions: np.ndarray  # (months, n) from April 2015, no BCF
    cf_delayed_days: np.ndarray  # (months, n, 3)
    cf_care_home: np.ndarray  # (months, n)


def month_edges(model: FlowModel, first: date, months: int) -> np.ndarray:
    """Days since the model's start of the first day of `months` + 1 consecutive calendar months."""
    return np.array(
        [
            float(
                (date(first.year + (first.month - 1 + k) // 12, (first.month - 1 + k) % 12 + 1, 1) - model.start).days
            )
            for k in range(months + 1)
        ]
    )


def pre_period(
    params: FlowParams,
    codes: tuple[str, ...],
    population: np.ndarray,
    council_change: float = 0.0,
    months: int = 12,
    council_saving: float = 0.0,
) -> PrePeriod:
    """The pre-period and the counterfactual of these areas, computed once per (flow parameters,
    areas, council budget change, months, council saving) in a process."""
    pop = np.asarray(population, float)
    return _pre_period(
        params.model_dump_json(),
        tuple(codes),
        pop.tobytes(),
        float(council_change),
        int(months),
        float(council_saving),
    )


def model_pre_period(model: BetterCareModel) -> PrePeriod:
    """The pre-period and counterfactual of a model's areas under its parameters: the one place
    that says which parameters the no-BCF path depends on (delivery and the trend-only null)."""
    p = model.params
    return pre_period(
        p.flow,
        tuple(model.area_frame.area_code),
        model.area_frame.population.to_numpy(float),
        -p.money.social_care_cut,
        p.delivery.months,
        Council.saving_share(p),
    )


@lru_cache(maxsize=CACHE_SIZE)
def _pre_period(
    params_json: str,
    codes: tuple[str, ...],
    population: bytes,
    council_change: float,
    months: int,
    council_saving: float,
):
    """`pre_period` on hashable arguments, so that functools caches it."""
    params = FlowParams.model_validate_json(params_json)
    pop = np.frombuffer(population, float).copy()
    inputs = FlowInputs.from_population(params, pop, z=area_z(codes))
    model = FlowModel(params, inputs, council_change=council_change, council_saving=council_saving)
    model.run_until(DELIVERY_START)
    totals = model.window_totals(month_edges(model, BASELINE_START, 12))
    state = model.state.copy()
    first_step = len(model.history)
    model.run_until(month_start(months))
    cf = model.window_totals(month_edges(model, DELIVERY_START, months), first_step)
    return PrePeriod(
        inputs=inputs,
        state=state,
        admissions_by_month=totals["admissions"],
        delayed_days_by_month=totals["delayed_days"],
        care_home_2014_15=totals["care_home_admissions"].sum(axis=0),
        cf_admissions=cf["admissions"],
        cf_delayed_days=cf["delayed_days"],
        cf_care_home=cf["care_home_admissions"],
    )


class Delivery:
    """Monthly state of every area once its plan is in force, and of its no-BCF twin."""

    def __init__(self, model: BetterCareModel, plans: np.ndarray, defensiveness: np.ndarray):
        p = model.params
        f = p.flow
        d = p.delivery
        self.model = model
        self.plans = plans
        self.defensiveness = defensiveness
        M = model.minimum_gbp
        n = len(M)
        self.n = n
        council_change = -p.money.social_care_cut
        council_saving = Council.saving_share(p)
        pre = model_pre_period(model)
        self.pre = pre
        self.flow = FlowModel(f, pre.inputs, council_change=council_change, council_saving=council_saving)
        self.flow.state = pre.state.copy()
        self._first_step = 0

        # Money: GBP a year by plan line; only what is additional to the counterfactual buys places.
        spend = spend_shares(plans) * M[:, None]
        self.spend = spend
        excess_sc = np.maximum(spend[:, 0] - FLOORS[0] * M, 0.0)
        # Councils divert unringfenced social-care money to fill their budget gap, up to the room (H8).
        self.gap_gbp = Council.gap_share(p) * M
        self.diverted = Council.diversion(excess_sc, self.gap_gbp, p.money.divert_room)
        self.social_care_effective = excess_sc - self.diverted
        social = additional_gbp(spend[:, 0] - self.diverted, FLOORS[0] * M, f.protecting_share)
        community = additional_gbp(spend[:, 1], FLOORS[1] * M, f.protecting_share)
        self.additional_gbp = social + community
        # Each pot is spread over its destinations as the area spent on them at the start.
        start_gbp = self.flow.capacity0 * self.flow.place_gbp_week[None, :]
        extra = np.zeros((n, 4))
        for pot, dests in ((social, COUNCIL_FUNDED), (community, ~COUNCIL_FUNDED)):
            weights = np.where(dests[None, :], start_gbp, 0.0)
            extra += pot[:, None] * weights / weights.sum(axis=1, keepdims=True)
        # The schemes: the area's true return on the admission-avoidance and community lines.
        self.scheme = savings_basis(plans)[:, 0] * M
        self.avoided_target = model.true_return * self.scheme / p.costs.admission_gbp / WEEKS_PER_YEAR
        self.avoided_week = np.zeros(n)
        self._acquire = 1.0 - np.exp(-self.flow.dt / f.acquisition_weeks)

        self.extra_gbp_week = extra / WEEKS_PER_YEAR
        self.avoided_target_planned = self.avoided_target.copy()
        # The money above the mandated floors: what the schemes and new capacity are bought with,
        # and what withheld performance money comes out of.
        self.free_gbp = np.maximum(spend.sum(axis=1) - FLOORS.sum() * M, 1.0)
        self.funded = np.ones(n)  # share of that money still funded after withholding

        self.drive = FlowDrive(
            extra_gbp_week=self.extra_gbp_week.copy(),
            avoided_admissions_week=np.zeros(n),
            assessment_speedup=np.zeros(n),
            admission_practice=1.0 + d.defensive_admissions * defensiveness,
            discharge_practice=1.0 - d.defensive_discharge * defensiveness,
            nhs_capacity=np.full(n, self.nhs_capacity_factor(p)),
        )

        self.admissions = np.zeros(n)
        self.admissions_cf = np.zeros(n)
        self.delayed_days = np.zeros((n, 3))
        self.delayed_days_cf = np.zeros((n, 3))
        self.care_home = np.zeros(n)
        self.care_home_cf = np.zeros(n)
        self.released = np.zeros(n)
        self.withheld = np.zeros(n)
        self.pot = model.p4p_pot_for(plans)
        self._quarter_adm = np.zeros(n)
        self._quarter_dtoc = np.zeros(n)
        self._quarter_base_adm = np.zeros(n)
        self._quarter_base_dtoc = np.zeros(n)
        self.planned_dtoc_cut = model.planned_dtoc_cut(plans)
        self.months_done = 0

    @staticmethod
    def nhs_capacity_factor(p) -> float:
        """NHS-funded community and intermediate care relative to the counterfactual: the part of
        the NHS minimum that is not new money is taken from existing services (H8)."""
        if not p.mechanisms.nhs_funding_drain:
            return 1.0
        return 1.0 - p.money.nhs_existing_cut * (1.0 - p.money.new_money_share)

    # --- baseline ------------------------------------------------------------------------------
    @property
    def baseline_admissions(self) -> np.ndarray:
        """Emergency admissions in 2014-15, per area."""
        return self.pre.admissions_by_month.sum(axis=0)

    @property
    def baseline_delayed_days(self) -> np.ndarray:
        """Delayed days in 2014-15 by agency, per area (n, 3)."""
        return self.pre.delayed_days_by_month.sum(axis=0)

    def baseline_share(self) -> float:
        """The delivery period as a share of the baseline year (months / 12)."""
        return self.months_done / 12

    # --- one month -----------------------------------------------------------------------------
    def month(self, m: int) -> dict[str, np.ndarray]:
        """Run the flow model through calendar month m and return its outcomes per area."""
        model = self.model
        n = self.n
        fm = self.flow
        self.drive.assessment_speedup[:] = model.params.delivery.joint_assessment_speedup * model.maturity
        self.drive.validate(n)
        d0 = float((month_start(m) - fm.start).days)
        d1 = float((month_start(m + 1) - fm.start).days)
        while fm.day_at(fm.state.week) < d1 - 1e-9:
            self.avoided_week += (self.avoided_target - self.avoided_week) * self._acquire
            self.drive.avoided_admissions_week[:] = self.avoided_week
            fm.step(self.drive)
        totals = fm.window_totals(np.array([d0, d1]), self._first_step)
        self._first_step = len(fm.history) - 1  # the last step may run into the next month
        adm, dtoc, ch = totals["admissions"][0], totals["delayed_days"][0], totals["care_home_admissions"][0]
        adm_cf, dtoc_cf = self.pre.cf_admissions[m], self.pre.cf_delayed_days[m]
        self.admissions += adm
        self.admissions_cf += adm_cf
        self.delayed_days += dtoc
        self.delayed_days_cf += dtoc_cf
        self.care_home += ch
        self.care_home_cf += self.pre.cf_care_home[m]
        self._quarter_adm += adm
        self._quarter_dtoc += dtoc.sum(axis=1)
        self._quarter_base_adm += self.pre.admissions_by_month[m % 12]
        self._quarter_base_dtoc += self.pre.delayed_days_by_month[m % 12].sum(axis=1)
        self.months_done += 1
        out = {
            "admissions": adm,
            "dtoc_days": dtoc.sum(axis=1),
            "dtoc_days_by_agency": dtoc,
            "care_home_admissions_65": ch,
            "admissions_cf": adm_cf,
            "dtoc_days_cf": dtoc_cf.sum(axis=1),
        }
        if m % 3 == 2:
            out.update(self._quarter())
        return out

    def _quarter(self) -> dict[str, np.ndarray]:
        """Quarterly payment for performance: paid in proportion to the cut achieved against the
        same quarter of 2014-15 (the observable change, as the 2014 rules measured it)."""
        model = self.model
        base_q = self._quarter_base_adm
        target = self.plans[:, Slot.AMBITION] * base_q
        cut = base_q - self._quarter_adm
        with np.errstate(divide="ignore", invalid="ignore"):
            achieved = np.where(target > 0, np.clip(cut / target, 0, 1), 1.0)
            if model.rules.p4p_rule == "multi_metric":
                target_d = self.planned_dtoc_cut / 4
                cut_d = self._quarter_base_dtoc - self._quarter_dtoc
                achieved_d = np.where(target_d > 0, np.clip(cut_d / target_d, 0, 1), 1.0)
                achieved = 0.5 * (achieved + achieved_d)
        released = self.pot / 4 * achieved
        withheld = self.pot / 4 - released
        self.released += released
        self.withheld += withheld
        if model.params.mechanisms.p4p_capacity:
            self._withhold(withheld)
        for acc in (self._quarter_adm, self._quarter_dtoc, self._quarter_base_adm, self._quarter_base_dtoc):
            acc[:] = 0
        return {"achieved": achieved, "released": released, "withheld": withheld}

    def _withhold(self, withheld: np.ndarray) -> None:
        """Money withheld this quarter is missing from the schemes and capacity for the rest of the
        year: the yearly rate of spending above the floors falls by withheld / (months left / 12)."""
        months_left = 12 - self.months_done % 12
        if months_left >= 12:
            return  # settled at the year's end: nothing left to spend it on
        cut = withheld * 12 / months_left / self.free_gbp
        self.funded = np.clip(self.funded - cut, 0.0, 1.0)
        self.drive.extra_gbp_week[:] = self.extra_gbp_week * self.funded[:, None]
        self.avoided_target = self.avoided_target_planned * self.funded

    # --- outcomes over the delivery period --------------------------------------------------------
    def admissions_change(self) -> np.ndarray:
        """Observable change in emergency admissions against 2014-15 (× months / 12)."""
        return self.admissions - self.baseline_admissions * self.baseline_share()

    def admissions_effect(self) -> np.ndarray:
        """Emergency admissions against the no-BCF counterfactual (negative: avoided)."""
        return self.admissions - self.admissions_cf

    def delayed_days_change(self) -> np.ndarray:
        """Observable change in delayed days against 2014-15 (× months / 12), all agencies."""
        return self.delayed_days.sum(axis=1) - self.baseline_delayed_days.sum(axis=1) * self.baseline_share()

    def delayed_days_effect(self) -> np.ndarray:
        """Delayed days against the no-BCF counterfactual, all agencies (negative: avoided)."""
        return self.delayed_days.sum(axis=1) - self.delayed_days_cf.sum(axis=1)

    def care_home_relative_change(self) -> np.ndarray:
        """ASCOF 2A(2) against the no-BCF counterfactual, as a relative change (same population)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.care_home_cf > 0, self.care_home / self.care_home_cf - 1.0, 0.0)

    def realised_savings(self) -> np.ndarray:
        """Modelled NHS savings against the no-BCF counterfactual, of either sign."""
        c = self.model.params.costs
        return savings_gbp(-self.admissions_effect(), -self.delayed_days_effect(), c.admission_gbp, c.bed_day_gbp)

    def ascof_2b1_trend_change(self) -> float:
        """ASCOF 2B(1) change from 2014-15 to the delivery year on its pre-period trend (points):
        the model has no mechanism for it, so it is the same in every run."""
        f = self.model.params.flow
        return float(f.ascof_2b1_2013_14 - f.ascof_2b1_2012_13)
