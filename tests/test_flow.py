"""System-dynamics verification of the flow model (Barlas 1996): conservation, units, extreme
conditions, step halving; plus the interface the negotiation drives."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from bettercare.model.flow import (
    CARE_HOME,
    DELIVERY_START,
    HOME_CARE,
    NHS_NON_ACUTE,
    PRE_PERIOD_START,
    REABLEMENT,
    SOCIAL_CARE,
    FlowDrive,
    FlowInputs,
    FlowModel,
    additional_gbp,
    realised_savings_gbp,
)
from bettercare.model.flow_params import MAX_CALIBRATE, FlowParams, calibrated_names, input_value, tags

PARAMS = FlowParams()
POP = np.array([250_000.0, 1_000_000.0, 60_000.0])


def model(
    params: FlowParams = PARAMS, dt: float = 1.0, pop: np.ndarray = POP, start: date = PRE_PERIOD_START
) -> FlowModel:
    return FlowModel(params, FlowInputs.from_population(params, pop), start=start, dt_weeks=dt)


def test_people_are_conserved_in_the_stocks():
    m = model()
    before = m.state.people().copy()
    entered = np.zeros(len(POP))
    left = np.zeros(len(POP))
    drive = FlowDrive.none(len(POP))
    drive.extra_gbp_week[:] = 5e4
    drive.assessment_speedup[:] = 0.3
    drive.avoided_admissions_week[:] = 5.0
    for _ in range(156):
        f = m.step(drive)
        entered += f.entered
        left += f.left
    np.testing.assert_allclose(m.state.people(), before + entered - left, rtol=1e-10)
    assert (entered > 0).all() and (left > 0).all()


def test_no_stock_goes_negative_even_with_a_long_step():
    m = model(dt=4.0)
    for _ in range(60):
        m.step()
    s = m.state
    for arr in (s.acute, s.assessment, s.other, s.queue_hospital, s.queue_community, s.service, s.recent):
        assert (arr >= 0).all()


def test_money_is_conserved_in_the_flows():
    """Additional money buys places at their unit cost: spending never exceeds the money
    allocated, converges to it below the ceiling, and is capped at the ceiling above it."""
    m = model(start=DELIVERY_START)
    n = len(POP)
    drive = FlowDrive.none(n)
    small = 1e-4 * m.ceiling_share * m.capacity0 * m.place_gbp_week  # well under the ceiling
    drive.extra_gbp_week[:] = small
    allocated = spent = 0.0
    for _ in range(104):
        f = m.step(drive)
        allocated += f.gbp_allocated
        spent += f.gbp_spent
        assert (np.cumsum(spent) <= np.cumsum(allocated) + 1e-6).all()
    np.testing.assert_allclose(f.gbp_spent, f.gbp_allocated, rtol=1e-3)
    m2 = model(start=DELIVERY_START)
    drive.extra_gbp_week[:] = 1e3 * m2.ceiling_share * m2.capacity0 * m2.place_gbp_week + 1.0
    for _ in range(260):
        f = m2.step(drive)
    np.testing.assert_allclose(m2.state.capacity_extra, m2.ceiling_share * m2.capacity0, rtol=1e-6)
    assert (f.gbp_spent < f.gbp_allocated).all()


def test_no_money_means_exactly_the_counterfactual_path():
    a, b = model(), model()
    drive = FlowDrive.none(len(POP))
    for _ in range(52):
        a.step()
        b.step(drive)
    assert (a.state.capacity_extra == 0).all()
    np.testing.assert_array_equal(a.state.queue_hospital, b.state.queue_hospital)


def test_units_are_consistent():
    """Rates scale with population (people a week), delayed days are patients x days, and the
    ASCOF rate is per 100,000 aged 65+ a year, whatever the window's length."""
    m = model()
    m.run_until(date(2014, 4, 8))
    o = m.outcomes(date(2013, 4, 1), date(2014, 4, 1))
    per_head = o.emergency_admissions / POP
    np.testing.assert_allclose(per_head, per_head[0], rtol=1e-9)
    d0, d1 = (date(2013, 4, 1) - m.start).days, (date(2014, 4, 1) - m.start).days
    days_in = [max(0.0, min(f.start_day + f.days, d1) - max(f.start_day, d0)) for f in m.history]
    np.testing.assert_allclose(
        o.delayed_days.sum(axis=1), sum(f.delayed.sum(axis=1) * d for f, d in zip(m.history, days_in)), rtol=1e-9
    )
    assert sum(days_in) == d1 - d0  # every day of the window counted once
    half = m.outcomes(date(2013, 4, 1), date(2013, 10, 1))
    assert half.ascof_2a2 == pytest.approx(o.ascof_2a2, rel=0.1)
    assert o.ascof_2a2[0] == pytest.approx(o.care_home_admissions_65[0] / (POP[0] * PARAMS.older_share) * 1e5, rel=0.02)
    months = o.monthly_delayed_days
    # the window's steps cover April 2013 to March 2014 whole: the months add up to the year
    assert sorted(months)[0] == "2013-04" and len(months) == 12
    whole = sum(months.values()).sum(axis=1)
    np.testing.assert_allclose(whole, o.delayed_days.sum(axis=1), rtol=1e-9)


def test_zero_capacity_queue_grows_without_bound():
    m = model()
    m.scale_capacity(CARE_HOME, 0.0)
    sizes = []
    for week in range(156):
        m.step()
        if week % 52 == 51:
            sizes.append(m.state.queue_hospital[:, CARE_HOME].copy())
    # the queue keeps growing by about a year's demand every year: no level is ever reached
    growth = np.diff(np.array(sizes), axis=0)
    assert (growth > 0.5 * growth[0]).all()
    assert (sizes[-1] > 10 * model().state.queue_hospital[:, CARE_HOME]).all()


def test_unlimited_capacity_means_no_social_care_delays():
    """Holds whenever vacancies speed placement (vacancy_elasticity > 0); tested at 0.5."""
    params = PARAMS.model_copy(update={"vacancy_elasticity": 0.5})
    m = model(params)
    for d in (HOME_CARE, REABLEMENT, CARE_HOME, NHS_NON_ACUTE):
        m.scale_capacity(d, 1e12)
    m.run_until(date(2013, 4, 1))
    o = m.outcomes(date(2012, 10, 1), date(2013, 4, 1))
    base = model(params)
    base.run_until(date(2013, 4, 1))
    ob = base.outcomes(date(2012, 10, 1), date(2013, 4, 1))
    assert (o.delayed_days[:, SOCIAL_CARE] < 1e-3 * ob.delayed_days[:, SOCIAL_CARE]).all()
    assert (m.state.queue_hospital < 1e-6 * base.state.queue_hospital).all()


def test_zero_admissions_empties_the_hospital():
    m = model()
    drive = FlowDrive.none(len(POP))
    drive.admission_practice[:] = 0.0
    start = m.state.acute + m.state.assessment + m.state.other + m.state.queue_hospital.sum(axis=1)
    for _ in range(104):
        m.step(drive)
    s = m.state
    in_hospital = s.acute + s.assessment + s.other + s.queue_hospital.sum(axis=1)
    assert (in_hospital < 1e-6 * start).all()


def test_results_hold_when_the_time_step_is_halved():
    """Tolerance: 2% on yearly admissions, delayed days (total and social care) and ASCOF 2A(2)."""
    out = []
    for dt in (1.0, 0.5):
        m = model(dt=dt)
        m.run_until(date(2015, 4, 8))
        out.append(m.outcomes(date(2014, 4, 1), date(2015, 4, 1)))
    a, b = out
    np.testing.assert_allclose(a.emergency_admissions, b.emergency_admissions, rtol=0.02)
    np.testing.assert_allclose(a.delayed_days.sum(axis=1), b.delayed_days.sum(axis=1), rtol=0.02)
    np.testing.assert_allclose(a.delayed_days[:, SOCIAL_CARE], b.delayed_days[:, SOCIAL_CARE], rtol=0.02)
    np.testing.assert_allclose(a.ascof_2a2, b.ascof_2a2, rtol=0.02)


def test_areas_sum_to_the_nation():
    """With no area effect, the model is homogeneous of degree one in population."""
    split = model(pop=np.array([2e7, 3e7, 4.3e6]))
    whole = model(pop=np.array([5.43e7]))
    split.run_until(date(2014, 4, 1))
    whole.run_until(date(2014, 4, 1))
    a = split.outcomes(date(2013, 4, 1), date(2014, 4, 1))
    b = whole.outcomes(date(2013, 4, 1), date(2014, 4, 1))
    assert a.emergency_admissions.sum() == pytest.approx(b.emergency_admissions[0], rel=1e-9)
    assert a.delayed_days.sum() == pytest.approx(b.delayed_days.sum(), rel=1e-9)


def test_the_hooks_move_outcomes_the_right_way():
    def year(drive: FlowDrive | None) -> tuple:
        m = model(start=DELIVERY_START)
        m.run_until(date(2016, 4, 1), drive)
        return m.outcomes(DELIVERY_START, date(2016, 4, 1))

    n = len(POP)
    base = year(None)
    money = FlowDrive.none(n)
    money.extra_gbp_week[:, CARE_HOME] = 2e3 * POP / 1e5
    assess = FlowDrive.none(n)
    assess.assessment_speedup[:] = 0.5
    avoid = FlowDrive.none(n)
    avoid.avoided_admissions_week[:] = 0.01 * POP / 1e3
    practice = FlowDrive.none(n)
    practice.discharge_practice[:] = 1.2
    assert (year(money).delayed_days[:, SOCIAL_CARE] < base.delayed_days[:, SOCIAL_CARE]).all()
    assert (year(assess).delayed_days_total < base.delayed_days_total).all()
    cut = year(avoid)
    assert (cut.emergency_admissions < base.emergency_admissions).all()
    assert (realised_savings_gbp(cut, base, 2360.0, 300.0) > 0).all()
    assert (year(practice).acute_bed_days < base.acute_bed_days).all()
    worse = FlowDrive.none(n)
    worse.avoided_admissions_week[:] = -0.01 * POP / 1e3
    assert (realised_savings_gbp(year(worse), base, 2360.0, 300.0) < 0).all()


def test_bad_drive_names_the_field():
    drive = FlowDrive.none(3)
    drive.assessment_speedup[1] = 1.5
    with pytest.raises(ValueError, match=r"FlowDrive.assessment_speedup = 1.5 is invalid: allowed in \[0, 1\)"):
        drive.validate(3)
    with pytest.raises(ValueError, match="shape"):
        FlowDrive.none(2).validate(3)


def test_additional_money_excludes_existing_and_protected():
    protect = input_value("asc_transfer_protecting_share_2014_15")
    got = additional_gbp(np.array([100.0, 50.0]), np.array([60.0, 80.0]), protect)
    np.testing.assert_allclose(got, [40.0 * (1 - protect), 0.0])


def test_every_parameter_is_tagged_and_few_are_calibrated():
    t = tags()
    assert set(t.values()) <= {"sourced", "calibrate", "explore"}
    assert 0 < len(calibrated_names()) <= MAX_CALIBRATE
    for name, f in FlowParams.model_fields.items():
        extra = f.json_schema_extra
        if extra["tag"] == "sourced":
            assert getattr(PARAMS, name) == input_value(extra["input"]), name
            assert extra["published"], name


def test_area_effect_keeps_the_national_rate():
    pop = np.full(150, 54.3e6 / 150)
    inp = FlowInputs.from_population(PARAMS, pop, rng=np.random.default_rng(3))
    assert (inp.rate_effect * pop).sum() == pytest.approx(pop.sum())
    assert inp.rate_effect.std() > 0
    assert inp.rate_effect.max() <= np.exp(2 * PARAMS.area_rate_sd) * 1.5
