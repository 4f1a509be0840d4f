"""ABC-SMC calibration (issue 14): priors, distance, seeds, and `bettercare calibrate` as a user
meets it: a subprocess that writes a posterior, continues its history after a kill, and runs on a
real Dask LocalCluster."""

from __future__ import annotations

import json
import math
import os
import signal
import sqlite3
import subprocess
import time

import pandas as pd
import pytest
from cli_process import CLI, ROOT

pytest.importorskip("pyabc")

from bettercare.analysis import abc  # noqa: E402

SMOKE = ["--set", 'areas.names=["Wigan"]', "--population", "4", "--workers", "1", "--seed", "3"]


def calibrate(out, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, "calibrate", "--out", str(out), *SMOKE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def test_the_posterior_is_sought_over_the_parameters_the_screening_kept_with_priors_from_their_bounds():
    ranking = pd.read_csv(ROOT / "bettercare" / "data" / "screening.csv")
    kept = abc.kept_parameters()
    assert kept == ranking.loc[ranking.kept.astype(bool), "parameter"].tolist()
    assert 1 <= len(kept) <= 10
    for name, (shape, lo, hi) in abc.priors(kept).items():
        assert lo < hi
        assert (shape == "loguniform") == (lo > 0 and hi / lo >= abc.LOG_SCALE_SPAN), name


def test_distance_is_the_largest_error_in_tolerance_units():
    facts = abc.calibration_facts()
    exact = {f.id: f.reference for f in facts}
    assert abc.distance(exact) == 0.0
    off = dict(exact)
    off[facts[0].id] = facts[0].reference + 2 * facts[0].tolerance
    assert math.isclose(abc.distance(off), 2.0)
    off[facts[1].id] = math.nan
    assert abc.distance(off) == abc.MISSING


def test_a_particle_seed_depends_on_its_values_only():
    a = {"planning.optimism": 3.0, "deadline.penalty": 0.1}
    assert abc.particle_seed(7, a) == abc.particle_seed(7, dict(reversed(list(a.items()))))
    assert abc.particle_seed(7, a) != abc.particle_seed(7, {**a, "deadline.penalty": 0.1000001})
    assert abc.particle_seed(7, a) != abc.particle_seed(8, a)


def test_calibration_runs_give_the_national_fields_of_a_full_run():
    from bettercare.model.run import run, run_national

    over = {"areas.names": ["Wigan", "Kent", "Sunderland"], "planning.optimism": 3.0, "deadline.penalty": 0.5}
    full = run("england-2014", 5, over).national
    national = run_national("england-2014", 5, over)
    assert list(national) == list(full)
    assert all(national[k] == full[k] or (national[k] != national[k] and full[k] != full[k]) for k in full)


def test_the_perturbation_kernel_has_twice_the_populations_weighted_covariance():
    import numpy as np

    rng = np.random.default_rng(1)
    particles = pd.DataFrame({"a": rng.normal(0, 1, 400), "b": rng.normal(5, 3, 400)})
    weights = rng.uniform(0.5, 1.5, 400)
    weights /= weights.sum()
    kernel = abc.perturbation_kernel()
    kernel.fit(particles, weights)
    centred = particles.to_numpy() - weights @ particles.to_numpy()
    weighted = (centred * weights[:, None]).T @ centred / (1 - np.sum(weights**2))
    np.testing.assert_allclose(kernel.cov, 2 * weighted, rtol=1e-9)


def test_calibrate_writes_a_weighted_posterior_and_its_record(tmp_path):
    proc = calibrate(tmp_path / "c", "--generations", "2")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "t: 0, eps" in proc.stderr and "t: 1, eps" in proc.stderr  # progress per generation
    posterior = pd.read_parquet(tmp_path / "c" / "posterior.parquet")
    assert len(posterior) == 4 and set(abc.kept_parameters()) <= set(posterior.columns)
    assert math.isclose(posterior.weight.sum(), 1.0)
    for name, (_, lo, hi) in abc.priors(abc.kept_parameters()).items():
        assert posterior[name].between(lo, hi).all(), name
    record = json.loads((tmp_path / "c" / "record.json").read_text())
    assert record["generations"] == 2 and record["simulations"] >= 8
    assert record["fixed"] == {"areas.names": ["Wigan"]}
    assert record["versions"]["pyabc"] and record["versions"]["python"] and "git_revision" in record
    # One area cannot match national totals: the threshold reached is reported, not hidden.
    assert record["final_epsilon"] > 1 and record["particles_with_every_fact_met"] == 0.0
    report = (tmp_path / "c" / "report.md").read_text()
    assert "report.md" in proc.stdout and "**not reached**" in report
    assert report.count("\n| 0 |") == 1 and "\n| 1 |" in report  # one row per generation
    for name in abc.kept_parameters():
        assert f"| {name} |" in report, name
    assert "Not informed by the facts" in report and "Piled at a bound" in report


def populations(db) -> int:
    with sqlite3.connect(db) as con:
        return con.execute("select count(*) from populations").fetchone()[0]


def test_a_killed_calibration_continues_its_history(tmp_path):
    out = tmp_path / "k"
    proc = subprocess.Popen(
        [*CLI, "calibrate", "--out", str(out), *SMOKE, "--generations", "50"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not ((out / "abc.db").is_file() and populations(out / "abc.db") >= 3):
            assert proc.poll() is None, "calibrate ended before it was killed"
            assert time.monotonic() < deadline, "no generation was stored"
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stored = populations(out / "abc.db")
    resumed = calibrate(out, "--generations", "1")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "continuing" in resumed.stderr
    assert populations(out / "abc.db") == stored + 1  # one more generation on the same history
    record = json.loads((out / "record.json").read_text())
    assert record["generations"] == stored  # populations count the calibration sample (t = -1)


def test_calibrate_runs_on_a_dask_local_cluster(tmp_path):
    pytest.importorskip("distributed")
    proc = calibrate(tmp_path / "d", "--generations", "1", "--scheduler", "local")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert len(pd.read_parquet(tmp_path / "d" / "posterior.parquet")) == 4


@pytest.mark.parametrize(
    ("args", "must"),
    [
        (["calibrate", "--method", "fast"], "--method"),
        (["calibrate"], "--out"),
        (["calibrate", "--out", "x", "--set", "planning.optimism=99"], "planning.optimism"),
    ],
)
def test_calibrate_bad_input_is_one_error_line(tmp_path, args, must):
    proc = subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and must in lines[0] and "Traceback" not in proc.stderr, proc.stderr


def test_several_seeds_per_particle_give_the_mean_of_the_single_runs():
    particle = {"planning.optimism": 3.0, "deadline.penalty": 0.5}
    fixed = {"areas.names": ["Wigan", "Kent"]}
    one = abc.NationalModel(fixed=fixed, seed=7)(particle)
    assert abc.NationalModel(fixed=fixed, seed=7, seeds=1)(particle) == one  # one seed: as before
    other = abc.NationalModel(fixed=fixed, seed=8)(particle)
    both = abc.NationalModel(fixed=fixed, seed=7, seeds=2)(particle)
    for fact, value in both.items():
        expected = (one[fact] + other[fact]) / 2
        assert value == pytest.approx(expected, nan_ok=True), fact


def test_a_history_is_not_continued_with_other_data(tmp_path):
    out = tmp_path / "h"
    out.mkdir()
    (out / abc.DATA).write_text(json.dumps({"seed": 3, "seeds_per_particle": 1, "fixed": {}}))
    proc = calibrate(out, "--seeds-per-particle", "2")  # SMOKE's seed is 3
    assert proc.returncode == 2, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "seeds_per_particle = 1, not 2" in lines[0], proc.stderr
    assert not (out / abc.DB).exists()
