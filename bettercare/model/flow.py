"""A stock-flow model of the hospital-social care interface, per area, vectorised over areas.

The structure follows the system-dynamics models of delayed discharge (Wolstenholme 1999;
Wolstenholme et al. 2007; Rashwan, Abo-Hamad & Arisha 2015): emergency admissions fill acute
beds; a share of discharges needs supported discharge, is assessed, then waits in one of four
capacity-limited queues (home care, reablement or intermediate care, care home, NHS non-acute
care) for a place in a service stock; patients discharged home may be readmitted. Delayed days
are the occupancy of the stages after a patient is medically fit (assessment, the exogenous
"other" delays, the four hospital queues), each attributed to an agency as in the monthly
situation report.

Capacity is the counterfactual budget path (no BCF) plus what the plan's *additional* money
buys, through an acquisition delay and under a supply ceiling. Placements from a queue run at
its reference wait, scaled by vacancies relative to the start to the power `vacancy_elasticity`,
and never exceed the places free in the step; demand for care homes from the community follows
the free beds by the same factor (so new beds are shared with people at home).

Every outflow uses the exact discretisation of a first-order delay, x (1 - exp(-dt/tau)), so a
step longer than a stay never drains a stock below zero. Time is in weeks; day counts convert
with DAYS_PER_WEEK. Everything is plain numpy over areas (axis 0) and destinations (axis 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from .flow_params import FlowParams

DAYS_PER_WEEK = 7.0
DAYS_PER_YEAR = 365.25
PER_100K = 1e5

DESTINATIONS = ("home_care", "reablement", "care_home", "nhs_non_acute")
HOME_CARE, REABLEMENT, CARE_HOME, NHS_NON_ACUTE = range(4)
AGENCIES = ("nhs", "social_care", "both")
NHS, SOCIAL_CARE, BOTH = range(3)
# Agency responsible for a delay in each hospital queue, as the situation report attributes it.
QUEUE_AGENCY = np.array([SOCIAL_CARE, BOTH, SOCIAL_CARE, NHS])
# Destinations whose demand from the community follows free places (care homes).
COMMUNITY_FOLLOWS_BEDS = np.array([False, False, True, False])
QUEUE_TO_AGENCY = np.eye(3)[QUEUE_AGENCY]  # (4, 3): queue -> agency, one-hot
ASSESSMENT_AGENCY = BOTH
OTHER_AGENCY = NHS
# Destinations whose counterfactual capacity follows the council's budget. Reablement follows the
# NHS path: before the BCF it was paid largely from NHS money (the GBP 300m reablement transfer).
COUNCIL_FUNDED = np.array([True, False, True, False])

DELIVERY_START = date(2015, 4, 1)
# Three years of weekly steps before the delivery year, so that a step boundary falls on 1 April
# 2015 (2012-13 is the spin-up year whose admissions level is the sourced input).
PRE_PERIOD_WEEKS = 156
PRE_PERIOD_START = DELIVERY_START - timedelta(weeks=PRE_PERIOD_WEEKS)


def financial_year(d: date) -> int:
    """The calendar year in which d's financial year starts (2014 for 2014-15)."""
    return d.year if d.month >= 4 else d.year - 1


@dataclass
class FlowInputs:
    """Per-area inputs: populations and the area random effect on the admissions rate."""

    population: np.ndarray
    population_65: np.ndarray
    rate_effect: np.ndarray

    @classmethod
    def from_population(
        cls,
        params: FlowParams,
        population: np.ndarray,
        rng: np.random.Generator | None = None,
        z: np.ndarray | None = None,
    ) -> FlowInputs:
        """National per-capita rates scaled by population, with a bounded area random effect.

        The effect is a clipped log-normal renormalised so that the national rate is unchanged;
        its standard normal draws come from `rng`, or are given as `z` (one per area); with
        neither every area gets the national rate (as in the pre-period fit).
        """
        pop = np.asarray(population, float)
        if (rng is None and z is None) or params.area_rate_sd == 0:
            effect = np.ones_like(pop)
        else:
            z = np.clip(rng.standard_normal(pop.shape) if z is None else np.asarray(z, float), -2, 2)
            effect = np.exp(params.area_rate_sd * z)
            effect = effect * pop.sum() / (effect * pop).sum()
        return cls(population=pop, population_65=pop * params.older_share, rate_effect=effect)

    @property
    def n(self) -> int:
        return len(self.population)


@dataclass
class FlowDrive:
    """The hooks the negotiation drives, per area, held for the step they are given to.

    extra_gbp_week (n, 4): money a week ADDITIONAL to the counterfactual budget path, by
        destination (home care, reablement, care home, NHS non-acute). Use `additional_gbp`.
    avoided_admissions_week (n,): emergency admissions a week avoided by the schemes (negative:
        schemes that add admissions, as some evaluations found).
    assessment_speedup (n,) in [0, 1): fractional cut in the mean assessment time from joint
        working (discharge to assess, trusted assessors, seven-day social work).
    admission_practice (n,) >= 0: the acute trust's admission practice, a multiplier on the
        emergency-admissions rate (1: pre-period practice).
    discharge_practice (n,) > 0: the acute trust's discharge practice, a multiplier on the rate
        at which patients become medically fit for discharge (1: pre-period practice).
    nhs_capacity (n,) > 0: NHS-funded capacity (reablement, NHS non-acute) relative to its
        counterfactual path: below 1 when the BCF's NHS money is taken from existing services
        (H8). None: 1.
    """

    extra_gbp_week: np.ndarray
    avoided_admissions_week: np.ndarray
    assessment_speedup: np.ndarray
    admission_practice: np.ndarray
    discharge_practice: np.ndarray
    nhs_capacity: np.ndarray | None = None

    @classmethod
    def none(cls, n: int) -> FlowDrive:
        """No BCF: the counterfactual."""
        return cls(np.zeros((n, 4)), np.zeros(n), np.zeros(n), np.ones(n), np.ones(n))

    def capacity_factor(self, n: int) -> np.ndarray:
        """(n, 4) multiplier on the counterfactual capacity path: NHS-funded destinations only."""
        nhs = np.ones(n) if self.nhs_capacity is None else np.asarray(self.nhs_capacity, float)
        return np.where(COUNCIL_FUNDED[None, :], 1.0, nhs[:, None])

    def validate(self, n: int) -> FlowDrive:
        checks = {
            "extra_gbp_week": (self.extra_gbp_week, (n, 4), ">= 0", lambda v: v >= 0),
            "avoided_admissions_week": (self.avoided_admissions_week, (n,), "finite", np.isfinite),
            "assessment_speedup": (self.assessment_speedup, (n,), "in [0, 1)", lambda v: (v >= 0) & (v < 1)),
            "admission_practice": (self.admission_practice, (n,), ">= 0", lambda v: v >= 0),
            "discharge_practice": (self.discharge_practice, (n,), "> 0", lambda v: v > 0),
        }
        if self.nhs_capacity is not None:
            checks["nhs_capacity"] = (self.nhs_capacity, (n,), "> 0", lambda v: v > 0)
        for name, (value, shape, allowed, ok) in checks.items():
            arr = np.asarray(value, float)
            if arr.shape != shape:
                raise ValueError(f"FlowDrive.{name} has shape {arr.shape}; allowed {shape}")
            bad = ~ok(arr)
            if bad.any():
                raise ValueError(f"FlowDrive.{name} = {float(arr[bad].flat[0])!r} is invalid: allowed {allowed}")
        return self


def additional_gbp(line_gbp: np.ndarray, existing_gbp: np.ndarray, protecting_share: float) -> np.ndarray:
    """Money in a plan line that is additional to the counterfactual path.

    Only money above what the line already paid for before the BCF (`existing_gbp`, e.g. the
    earlier NHS transfer) can buy new capacity, and of that a `protecting_share` keeps existing
    services going (ADASS 2014: 49% in 2014-15), so it is already in the counterfactual path.
    """
    return np.maximum(np.asarray(line_gbp, float) - existing_gbp, 0.0) * (1.0 - protecting_share)


@dataclass
class FlowState:
    """Stocks (people) and capacity (places) of every area at the start of a step."""

    acute: np.ndarray  # (n,) emergency patients not yet medically fit
    assessment: np.ndarray  # (n,) medically fit, assessment under way
    other: np.ndarray  # (n,) delayed by patient choice, housing, disputes
    queue_hospital: np.ndarray  # (n, 4) in a hospital bed, waiting for a destination
    queue_community: np.ndarray  # (n, 4) at home, waiting for the same places
    service: np.ndarray  # (n, 4) people using each destination
    recent: np.ndarray  # (n,) discharged home within the readmission window
    capacity_base: np.ndarray  # (n, 4) places on the counterfactual path
    capacity_extra: np.ndarray  # (n, 4) places bought with additional money
    week: float = 0.0

    def people(self) -> np.ndarray:
        """Everyone in the system, per area."""
        return (
            self.acute
            + self.assessment
            + self.other
            + self.recent
            + (self.queue_hospital + self.queue_community + self.service).sum(axis=1)
        )

    def delayed(self) -> np.ndarray:
        """Delayed patients by agency, (n, 3)."""
        out = self.queue_hospital @ QUEUE_TO_AGENCY
        out[:, ASSESSMENT_AGENCY] += self.assessment
        out[:, OTHER_AGENCY] += self.other
        return out

    def copy(self) -> FlowState:
        return FlowState(**{k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in self.__dict__.items()})


@dataclass
class StepFlows:
    """What happened in one step, per area (counts of people, GBP)."""

    start_day: float  # days since the model's start
    days: float
    admissions: np.ndarray
    readmissions: np.ndarray
    care_home_admissions: np.ndarray
    reablement_starts: np.ndarray
    delayed: np.ndarray  # (n, 3) mean delayed patients over the step, by agency
    acute_occupied: np.ndarray  # (n,) mean beds in use by emergency patients (incl. delayed)
    entered: np.ndarray  # (n,) people entering the system
    left: np.ndarray  # (n,) people leaving it
    gbp_allocated: np.ndarray  # (n, 4)
    gbp_spent: np.ndarray  # (n, 4)


@dataclass
class FlowOutcomes:
    """Outcomes over a window, in their public definitions, per area."""

    start: date
    end: date
    emergency_admissions: np.ndarray  # count
    delayed_days: np.ndarray  # (n, 3) situation-report delayed days by agency
    monthly_delayed_days: dict[str, np.ndarray]  # "YYYY-MM" -> (n, 3), whole months only
    care_home_admissions_65: np.ndarray  # permanent admissions aged 65+ (count)
    ascof_2a2: np.ndarray  # per 100,000 aged 65+, a year
    ascof_2b1: float  # percent at home 91 days after reablement: the PRE-PERIOD TREND, not a mechanism
    acute_bed_days: np.ndarray
    gbp_allocated: np.ndarray  # (n, 4)
    gbp_spent: np.ndarray  # (n, 4)
    ascof_2b1_basis: str = "pre-period trend of ASCOF 2B(1) 2012-13 to 2013-14 (no mechanism)"
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def delayed_days_total(self) -> np.ndarray:
        return self.delayed_days.sum(axis=1)

    def relative_change_2a2(self, counterfactual: FlowOutcomes) -> np.ndarray:
        """ASCOF 2A(2) as a relative change against the no-BCF run (the 2014-15 definition changed)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.ascof_2a2 / counterfactual.ascof_2a2 - 1.0


def realised_savings_gbp(
    outcomes: FlowOutcomes, counterfactual: FlowOutcomes, admission_gbp: float, bed_day_gbp: float
) -> np.ndarray:
    """Modelled NHS savings against the no-BCF run, per area: of either sign.

    Avoided admissions at the average admission cost plus avoided delayed days at the bed-day
    cost; more admissions or delays than without the BCF give negative savings.
    """
    adm = counterfactual.emergency_admissions - outcomes.emergency_admissions
    days = counterfactual.delayed_days_total - outcomes.delayed_days_total
    return savings_gbp(adm, days, admission_gbp, bed_day_gbp)


def savings_gbp(
    avoided_admissions: np.ndarray, avoided_delayed_days: np.ndarray, admission_gbp: float, bed_day_gbp: float
) -> np.ndarray:
    """NHS savings of avoided admissions and avoided delayed days (either may be negative)."""
    return avoided_admissions * admission_gbp + avoided_delayed_days * bed_day_gbp


class FlowModel:
    """The stock-flow model of every area, stepping `dt_weeks` at a time from `start`.

    `council_change` is the annual change of council-funded capacity from 2015-16 on without the
    BCF (the wired model passes minus `money.social_care_cut`); `council_saving` is what councils
    must save each year beyond that cash path (the unfunded demographic pressure, under
    `mechanisms.council_pressure`), which they save by buying fewer placements than their demand.
    The pre-period uses neither.
    """

    def __init__(
        self,
        params: FlowParams,
        inputs: FlowInputs,
        start: date = PRE_PERIOD_START,
        dt_weeks: float = 1.0,
        council_change: float = 0.0,
        council_saving: float = 0.0,
    ):
        self.p = params
        self.inputs = inputs
        self.start = start
        self.dt = dt_weeks
        self.council_change = council_change
        self.council_saving = council_saving
        p = params
        n = inputs.n
        self.stay_weeks = np.array(
            [p.home_care_stay_weeks, p.reablement_stay_weeks, p.care_home_stay_weeks, p.nhs_non_acute_stay_weeks]
        )
        self.wait_weeks = (
            np.array([p.wait_social_care_days, p.wait_social_care_days, p.wait_social_care_days, p.wait_nhs_days])
            / DAYS_PER_WEEK
        )
        self.dest_share = np.array(
            [
                p.share_home_care,
                p.share_reablement,
                p.share_care_home,
                1.0 - p.share_home_care - p.share_reablement - p.share_care_home,
            ]
        )
        self.acute_weeks = p.acute_stay_days / DAYS_PER_WEEK
        self.assess_weeks = p.assessment_days / DAYS_PER_WEEK
        self.other_weeks = p.other_delay_days / DAYS_PER_WEEK
        self.recent_weeks = p.readmission_window_days / DAYS_PER_WEEK
        weeks_per_year = DAYS_PER_YEAR / DAYS_PER_WEEK
        self.weeks_per_year = weeks_per_year
        # Unit cost of an ADDITIONAL place a week: new home care is bought at the sustainable price.
        self.place_gbp_week = np.array(
            [
                p.home_care_sustainable_gbp_hour * p.home_care_hours_week,
                p.home_care_sustainable_gbp_hour * p.reablement_hours_week,
                p.care_home_fee_gbp_week,
                p.non_acute_bed_day_gbp * DAYS_PER_WEEK,
            ]
        )
        self.ceiling_share = np.array([p.home_care_ceiling, p.home_care_ceiling, p.other_ceiling, p.other_ceiling])

        # Equilibrium at the start, at the trend level (no season): admissions total so that
        # the sourced national rate holds, readmissions included.
        total_rate = p.admissions_2012_13 / p.population_2012 / weeks_per_year
        home_fraction = 1.0 - p.supported_share * (1.0 - p.other_delay_share)
        a0 = total_rate * inputs.population * inputs.rate_effect  # (n,) a week
        self.external_rate0 = a0 * (1.0 - p.readmission_share * home_fraction)
        supported = p.supported_share * a0
        lam_h = (1.0 - p.other_delay_share) * supported[:, None] * self.dest_share[None, :]
        lam_c = np.zeros((n, 4))
        lam_c[:, HOME_CARE] = lam_h[:, HOME_CARE] * (1.0 - p.home_care_hospital_share) / p.home_care_hospital_share
        lam_c[:, CARE_HOME] = p.care_home_community_rate / PER_100K * inputs.population_65 / weeks_per_year
        self.community0 = lam_c
        service0 = (lam_h + lam_c) * self.stay_weeks
        self.capacity0 = service0 / p.occupancy
        self.vacancies0 = self.capacity0 - service0
        self.state = FlowState(
            acute=a0 * self.acute_weeks,
            assessment=supported * self.assess_weeks,
            other=p.other_delay_share * supported * self.other_weeks,
            queue_hospital=lam_h * self.wait_weeks,
            queue_community=lam_c * self.wait_weeks,
            service=service0,
            recent=a0 * home_fraction * self.recent_weeks,
            capacity_base=self.capacity0.copy(),
            capacity_extra=np.zeros((n, 4)),
        )
        self.capacity_scale = np.ones(4)
        self._decay_recent = np.exp(-dt_weeks / self.recent_weeks)
        self._decay_other = np.exp(-dt_weeks / self.other_weeks)
        self._decay_service = np.exp(-dt_weeks / self.stay_weeks)[None, :]
        self.history: list[StepFlows] = []
        self._fy_cache: dict[int, tuple[int, float]] = {}
        self._after: tuple | None = None  # (state, week, delayed, in hospital) at the end of the last step

    # --- time -----------------------------------------------------------------------------
    def day_at(self, week: float) -> float:
        """Days since the model's start."""
        return week * DAYS_PER_WEEK

    def date_at(self, week: float) -> date:
        return self.start + timedelta(days=int(np.floor(self.day_at(week) + 1e-9)))

    def _fy_start_day(self, day: float) -> tuple[int, float]:
        """Financial year containing `day` and the day (since start) on which it began (memoised:
        the date arithmetic is a large share of a step's cost for a few areas)."""
        key = int(np.floor(day))
        hit = self._fy_cache.get(key)
        if hit is None:
            fy = financial_year(self.start + timedelta(days=key))
            hit = self._fy_cache[key] = (fy, float((date(fy, 4, 1) - self.start).days))
        return hit

    def budget_index(self, day: float) -> np.ndarray:
        """Counterfactual (no BCF) capacity by destination relative to the start, on `day`.

        Council-funded destinations follow the council's net budget: its adult social care cash
        less what it must save beyond it (`council_saving`); the community demand for them is
        rationed with it too (eligibility tightens as budgets fall)."""
        p = self.p
        fy, _ = self._fy_start_day(day)
        council = 1.0
        if fy >= 2014:
            council *= 1.0 + p.asc_cash_change_2014
        if fy >= 2015:
            council *= ((1.0 + self.council_change) * (1.0 - self.council_saving)) ** (fy - 2014)
        # NHS non-acute capacity is commissioned in line with the admissions trend.
        nhs = ((1.0 + p.admissions_growth) * (1.0 + p.nhs_community_change)) ** (day / DAYS_PER_YEAR)
        return np.where(COUNCIL_FUNDED, council, nhs)

    def trend(self, day: float) -> float:
        """Admissions trend times winter seasonality, relative to the level of the start's year."""
        p = self.p
        years = (day - DAYS_PER_YEAR / 2) / DAYS_PER_YEAR
        _, fy_day = self._fy_start_day(day)
        phase = 2 * np.pi * (day - fy_day - p.winter_peak_day) / DAYS_PER_YEAR
        return (1.0 + p.admissions_growth) ** years * (1.0 + p.winter_amplitude * np.cos(phase))

    def scale_capacity(self, destination: int, factor: float) -> None:
        """Multiply a destination's counterfactual capacity (now and after) by factor."""
        self.capacity_scale[destination] *= factor
        self.state.capacity_base[:, destination] *= factor

    # --- one step -------------------------------------------------------------------------
    def step(self, drive: FlowDrive | None = None) -> StepFlows:
        p = self.p
        s = self.state
        dt = self.dt
        n = self.inputs.n
        drive = drive if drive is not None else FlowDrive.none(n)
        begin = self.day_at(s.week)
        mid = self.day_at(s.week + dt / 2)
        after = self._after
        if after is not None and after[0] is s and after[1] == s.week:
            delayed_before, acute_before = after[2], after[3]
        else:
            delayed_before = s.delayed()
            acute_before = s.acute + s.assessment + s.other + s.queue_hospital.sum(axis=1)

        def through(
            stock: np.ndarray,
            inflow: np.ndarray,
            rate: np.ndarray | float,
            decay: np.ndarray | float | None = None,
            positive: bool = True,
        ) -> np.ndarray:
            """Outflow over the step of a first-order stock with exit `rate` (a week) and an
            inflow spread evenly over the step: the exact solution, so no stock goes negative
            and the equilibrium (inflow / rate) does not depend on dt. `positive`: the rate is
            known to be above zero everywhere (else a zero rate keeps the whole inflow)."""
            decay = np.exp(-rate * dt) if decay is None else decay
            if positive:
                kept = inflow * (1.0 - decay) / (rate * dt)
            else:
                with np.errstate(divide="ignore", invalid="ignore"):
                    kept = np.where(rate > 0, inflow * (1.0 - decay) / (rate * dt), inflow)
            remaining = stock * decay + kept
            return stock + inflow - remaining

        # Capacity: counterfactual path and additional money, each through the acquisition delay.
        acq = 1.0 - np.exp(-dt / p.acquisition_weeks)
        s.capacity_base += (
            self.capacity0 * (self.budget_index(mid) * self.capacity_scale)[None, :] * drive.capacity_factor(n)
            - s.capacity_base
        ) * acq
        ceiling = self.ceiling_share * self.capacity0
        extra_target = np.minimum(drive.extra_gbp_week / self.place_gbp_week, ceiling)
        s.capacity_extra += (extra_target - s.capacity_extra) * acq
        gbp_allocated = drive.extra_gbp_week * dt
        gbp_spent = s.capacity_extra * self.place_gbp_week * dt
        capacity = s.capacity_base + s.capacity_extra

        # Admissions: trend x season x the trust's practice, less the schemes' effect, plus readmissions.
        external = (
            np.maximum(
                self.external_rate0 * self.trend(mid) * drive.admission_practice - drive.avoided_admissions_week, 0.0
            )
            * dt
        )
        recent_out = s.recent * (1.0 - self._decay_recent)
        readmitted = p.readmission_share * recent_out
        admissions = external + readmitted
        s.recent -= recent_out

        # Acute stay -> discharge home, or supported discharge -> assessment.
        fit = through(s.acute, admissions, drive.discharge_practice / self.acute_weeks)
        s.acute += admissions - fit
        supported = p.supported_share * fit
        assessed = through(s.assessment, supported, 1.0 / (self.assess_weeks * (1.0 - drive.assessment_speedup)))
        s.assessment += supported - assessed
        to_other = p.other_delay_share * assessed
        other_out = through(s.other, to_other, 1.0 / self.other_weeks, self._decay_other)
        s.other += to_other - other_out
        s.recent += fit - supported + other_out
        to_queues = (assessed - to_other)[:, None] * self.dest_share[None, :]

        # Queues -> services: placement rate scaled by vacancies, never above the places free.
        free_start = np.maximum(capacity - s.service, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            vacancy = (free_start / self.vacancies0) ** p.vacancy_elasticity
        pull = vacancy / self.wait_weeks

        # Community demand, rationed with the council's budget; for care homes it also follows the
        # free beds as placements do: people at home (self-funders, and those the council would
        # place) move in when homes have room, so new beds do not all go to hospital patients.
        community = self.community0 * np.where(COUNCIL_FUNDED, self.budget_index(mid), 1.0) * dt
        community = community * np.where(COMMUNITY_FOLLOWS_BEDS, vacancy, 1.0)
        queue = s.queue_hospital + s.queue_community
        demand = to_queues + community
        wanted = through(queue, demand, pull, positive=False)
        service_out = s.service * (1.0 - self._decay_service)
        placed = np.minimum(wanted, free_start + service_out)
        with np.errstate(divide="ignore", invalid="ignore"):
            share_h = np.where(queue + demand > 0, (s.queue_hospital + to_queues) / (queue + demand), 0.0)
        from_hospital = placed * share_h
        s.queue_hospital += to_queues - from_hospital
        s.queue_community += community - (placed - from_hospital)
        service_out = through(s.service, placed, 1.0 / self.stay_weeks[None, :], self._decay_service)
        s.service += placed - service_out
        s.week += dt

        delayed_after = s.delayed()
        acute_after = s.acute + s.assessment + s.other + s.queue_hospital.sum(axis=1)
        self._after = (s, s.week, delayed_after, acute_after)
        flows = StepFlows(
            start_day=begin,
            days=dt * DAYS_PER_WEEK,
            admissions=admissions,
            readmissions=readmitted,
            care_home_admissions=placed[:, CARE_HOME],
            reablement_starts=placed[:, REABLEMENT],
            delayed=(delayed_before + delayed_after) / 2,
            acute_occupied=(acute_before + acute_after) / 2,
            entered=external + community.sum(axis=1),
            left=recent_out - readmitted + service_out.sum(axis=1),
            gbp_allocated=gbp_allocated,
            gbp_spent=gbp_spent,
        )
        self.history.append(flows)
        return flows

    def run_until(self, end: date, drive: FlowDrive | None = None) -> None:
        """Step until the steps cover every day before `end` (the last may run past it)."""
        if drive is not None:
            drive.validate(self.inputs.n)
        end_day = float((end - self.start).days)
        while self.day_at(self.state.week) < end_day - 1e-9:
            self.step(drive)

    # --- outcomes -------------------------------------------------------------------------
    # Step flows that are counts over the step, and those that are mean levels (people) over it.
    COUNTS = ("admissions", "readmissions", "care_home_admissions", "reablement_starts", "gbp_allocated", "gbp_spent")
    LEVELS = {"delayed": "delayed_days", "acute_occupied": "acute_bed_days"}

    def window_totals(self, edges_days: np.ndarray, first_step: int = 0) -> dict[str, np.ndarray]:
        """Flows summed over consecutive windows [edges[i], edges[i+1]) (days since the start), each
        step's flows shared among the windows in proportion to the days of it they cover.

        Counts (admissions, readmissions, care_home_admissions, reablement_starts, gbp_allocated,
        gbp_spent) come with a leading window axis; levels become days: delayed_days (W, n, 3),
        acute_bed_days (W, n). Uses the steps of `history[first_step:]`.
        """
        steps = self.history[first_step:]
        if not steps:
            raise ValueError("no steps recorded in the window")
        edges = np.asarray(edges_days, float)
        t0 = np.array([f.start_day for f in steps])
        days = np.array([f.days for f in steps])
        overlap = np.clip(
            np.minimum((t0 + days)[:, None], edges[None, 1:]) - np.maximum(t0[:, None], edges[None, :-1]), 0, None
        )  # (T, W) days
        share = overlap / days[:, None]
        out = {
            attr: np.tensordot(share, np.stack([getattr(f, attr) for f in steps]), axes=(0, 0)) for attr in self.COUNTS
        }
        for attr, name in self.LEVELS.items():
            out[name] = np.tensordot(overlap, np.stack([getattr(f, attr) for f in steps]), axes=(0, 0))
        return out

    def outcomes(self, start: date, end: date) -> FlowOutcomes:
        """Outcomes over [start, end): each step counts for the days of it inside the window."""
        d0, d1 = float((start - self.start).days), float((end - self.start).days)
        first = next((i for i, f in enumerate(self.history) if f.start_day + f.days > d0 + 1e-9), None)
        if first is None or self.history[-1].start_day + self.history[-1].days < d1 - 1e-9:
            raise ValueError(f"the steps recorded do not cover {start} to {end}")
        w = {k: v[0] for k, v in self.window_totals(np.array([d0, d1]), first).items()}
        steps = [f for f in self.history[first:] if f.start_day < d1 - 1e-9]
        years = (d1 - d0) / DAYS_PER_YEAR
        ch = w["care_home_admissions"]
        p = self.p
        # ASCOF 2B(1): the pre-period linear trend extended to the window's financial year.
        slope = p.ascof_2b1_2013_14 - p.ascof_2b1_2012_13
        ascof_2b1 = p.ascof_2b1_2013_14 + slope * (financial_year(start) - 2013)
        return FlowOutcomes(
            start=start,
            end=end,
            emergency_admissions=w["admissions"],
            delayed_days=w["delayed_days"],
            monthly_delayed_days=self._monthly(steps),
            care_home_admissions_65=ch,
            ascof_2a2=ch / years / self.inputs.population_65 * PER_100K,
            ascof_2b1=float(ascof_2b1),
            acute_bed_days=w["acute_bed_days"],
            gbp_allocated=w["gbp_allocated"],
            gbp_spent=w["gbp_spent"],
        )

    def _monthly(self, steps: list[StepFlows]) -> dict[str, np.ndarray]:
        """Delayed days by calendar month, whole months only: each step's mean delays times its
        days in the month (one overlap matrix, steps x months)."""
        first = self.start + timedelta(days=int(steps[0].start_day))
        last = self.start + timedelta(days=int(np.ceil(steps[-1].start_day + steps[-1].days)))
        months = []
        y, m = first.year, first.month
        while date(y, m, 1) <= last:
            months.append((y, m))
            y, m = y + m // 12, m % 12 + 1
        edges = np.array(
            [(date(y, m, 1) - self.start).days for y, m in months]
            + [(date(y + m // 12, m % 12 + 1, 1) - self.start).days for y, m in months[-1:]],
            float,
        )
        t0 = np.array([f.start_day for f in steps])
        t1 = t0 + np.array([f.days for f in steps])
        overlap = np.clip(np.minimum(t1[:, None], edges[None, 1:]) - np.maximum(t0[:, None], edges[None, :-1]), 0, None)
        delayed = np.stack([f.delayed for f in steps])  # (T, n, 3)
        by_month = np.einsum("tm,tna->mna", overlap, delayed)
        full = overlap.sum(axis=0) >= np.diff(edges) - 1e-9
        return {f"{y:04d}-{m:02d}": by_month[i] for i, (y, m) in enumerate(months) if full[i]}
