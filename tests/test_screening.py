"""Morris screening before calibration (issue 14): the screened set, the ranking, the CLI's errors."""

from __future__ import annotations

import subprocess

import pytest
from cli_process import CLI, ROOT

from bettercare.analysis.calibration import FREE, TIED
from bettercare.analysis.screening import (
    DISTANCE,
    FLOAT_NOISE,
    KEEP,
    bounds,
    ranking,
    screen,
    screened_parameters,
    spec_text,
)
from bettercare.experiments.runner import run_sweep
from bettercare.experiments.spec import parse_spec
from bettercare.model.scenario import field_info, parameter_table

pytest.importorskip("SALib")


def test_every_calibration_and_explore_parameter_is_screened_within_its_allowed_range():
    screened = screened_parameters()
    expected = {n for n in FREE if n not in TIED and n != "centre.conditions_factor"}
    expected |= {real for names in TIED.values() for real in names} | {"centre.conditions_ratio"}
    expected |= {
        r["name"]
        for r in parameter_table()
        if "explore" in r["description"]
        and not r["name"].startswith("flow.")
        and field_info(r["name"]).annotation in (float, int)
    }
    assert expected <= set(screened), sorted(expected - set(screened))
    for name, (lo, hi) in screened.items():
        allowed_lo, allowed_hi = bounds(name)
        assert allowed_lo <= lo < hi <= allowed_hi, (name, lo, hi, allowed_lo, allowed_hi)


def test_a_small_screening_ranks_every_parameter_and_delivery_informs_no_planning_fact(tmp_path):
    spec = spec_text(2, 1, 11, fixed={"areas.names": ["Wigan", "Leeds", "Kent"]})
    result = run_sweep(parse_spec(spec, quick=True), tmp_path / "s", workers=0)
    assert result.exit_code == 0 and result.failed == 0
    indices = screen(tmp_path / "s")
    ranked = ranking(indices)
    assert set(ranked.parameter) == set(screened_parameters())
    assert ranked.mu_star.is_monotonic_decreasing
    kept = ranked[ranked.kept]
    informative = ranked[ranked.mu_star > FLOAT_NOISE]
    assert list(kept.parameter) == list(informative.parameter[:KEEP])
    mu = ranked.set_index("parameter").mu_star
    # The calibration facts are planning facts: a delivery-year parameter cannot move them.
    for name in ("delivery.defensive_admissions", "delivery.joint_assessment_speedup"):
        assert mu[name] <= FLOAT_NOISE, (name, mu[name])
    # Planning optimism sets the first-round claims, which two facts measure.
    assert mu["planning.optimism"] > FLOAT_NOISE
    assert DISTANCE in set(indices.outcome)


@pytest.mark.parametrize(
    ("args", "must"),
    [(["--trajectories", "1"], "--trajectories"), (["--replicates", "0"], "--replicates"), ([], "--out")],
)
def test_screen_bad_input_is_one_error_line(tmp_path, args, must):
    proc = subprocess.run(
        [*CLI, "screen", *(["--out", str(tmp_path / "x")] if must != "--out" else []), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and must in lines[0] and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "x").exists()
