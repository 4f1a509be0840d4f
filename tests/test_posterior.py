"""england-2014's posterior as a scenario: draws, sweeps with `posterior = true`, `run --posterior`
and the posterior-predictive split of variance (issue 14, part 3)."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pytest

from bettercare.analysis.validation import parameter_share
from bettercare.experiments import designs
from bettercare.experiments.spec import SpecError, parse_spec
from bettercare.model import posterior
from bettercare.model.errors import ScenarioError
from tests.cli_process import CLI, ROOT

SPEC = """
[experiment]
name = "p"
replicates = 1
seed = 5
posterior = true
posterior_draws = 3
design = "{design}"
{extra}
[parameters]
{parameters}
[fixed]
"areas.names" = ["Wigan"]
{fixed}
"""


def spec(design="factorial", parameters='"trust.initial" = [0.2, 0.8]', fixed="", extra=""):
    return parse_spec(SPEC.format(design=design, parameters=parameters, fixed=fixed, extra=extra))


@pytest.fixture
def toy_posterior(tmp_path, monkeypatch):
    """Three particles, one of weight 0, in place of the shipped file."""
    path = tmp_path / posterior.PARTICLES
    pd.DataFrame(
        {
            "planning.optimism": [1.0, 2.0, 9.0],
            "deadline.penalty": [0.1, 0.2, 0.3],
            "weight": [0.5, 0.5, 0.0],
            "generation": 4,
        }
    ).to_parquet(path)
    monkeypatch.setattr(posterior, "particles_path", lambda: path)
    posterior.particles.cache_clear()
    yield path
    posterior.particles.cache_clear()


def test_draws_follow_the_weights_and_the_seed(toy_posterior):
    a = posterior.draw(200, seed=1)
    assert a == posterior.draw(200, seed=1)
    assert a != posterior.draw(200, seed=2)
    optimism = np.array([d["planning.optimism"] for d in a])
    assert set(optimism) == {1.0, 2.0}  # the zero-weight particle is never drawn
    assert 0.35 < np.mean(optimism == 1.0) < 0.65
    assert set(a[0]) == {"planning.optimism", "deadline.penalty"}  # weight and generation are not parameters


def test_no_draws_and_no_file_are_one_line_errors(toy_posterior, monkeypatch, tmp_path):
    with pytest.raises(ScenarioError, match="at least 1"):
        posterior.draw(0, seed=1)
    monkeypatch.setattr(posterior, "particles_path", lambda: tmp_path / "none.parquet")
    posterior.particles.cache_clear()
    with pytest.raises(SpecError, match="posterior = true: no posterior is shipped"):
        spec()


def test_a_factorial_design_is_crossed_with_the_draws(toy_posterior):
    exp = spec(fixed='"deadline.penalty" = 0.05')
    design = designs.build(exp)
    assert design.n_points == designs.count_points(exp) == 6
    # the factor keeps its levels, the draw varies fastest, [fixed] wins over the draw
    assert [p["trust.initial"] for p in design.points] == [0.2] * 3 + [0.8] * 3
    assert design.names == ["trust.initial", "planning.optimism"]
    draws = posterior.draw(3, exp.seed)
    assert [p["planning.optimism"] for p in design.points] == [d["planning.optimism"] for d in draws] * 2
    assert all("deadline.penalty" not in p for p in design.points)
    assert list(design.matrix.columns) == ["point_id", "trust.initial", "planning.optimism"]
    assert design.info["posterior"]["draws"] == 3 and len(design.info["posterior"]["sha256"]) == 64


def test_a_design_factor_wins_over_the_draw(toy_posterior):
    exp = spec(parameters='"planning.optimism" = [4.0]')
    design = designs.build(exp)
    assert [p["planning.optimism"] for p in design.points] == [4.0] * 3
    drawn = [d["deadline.penalty"] for d in posterior.draw(3, exp.seed)]
    assert [p["deadline.penalty"] for p in design.points] == drawn


@pytest.mark.parametrize("design", ["sobol", "morris"])
def test_sampled_orders_refuse_the_posterior(toy_posterior, design):
    with pytest.raises(SpecError, match="posterior = true works with design"):
        spec(design=design, parameters='"trust.initial" = { min = 0.1, max = 0.9 }', extra="samples = 4")


def test_parameter_share_splits_the_variance():
    rng = np.random.default_rng(0)
    draw = np.repeat(np.arange(40), 10)
    effect = rng.normal(0, 3, 40)[draw]
    noise = rng.normal(0, 1, len(draw))
    assert parameter_share(effect + noise, draw) == pytest.approx(0.9, abs=0.06)  # 9 / (9 + 1)
    assert parameter_share(noise, draw) < 0.08  # seed noise only
    assert np.isnan(parameter_share(noise[:40], np.arange(40)))  # one replicate per draw: cannot split


def test_run_posterior_draws_parameter_sets_each_on_its_own_seed(tmp_path):
    """As a user meets it: `bettercare run --posterior 2` on the shipped posterior."""
    out = tmp_path / "run"
    cmd = [*CLI, "run", "--posterior", "2", "-r", "2", "--seed", "7", "--set", 'areas.names=["Wigan"]']
    proc = subprocess.run([*cmd, "--out", str(out), "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["posterior_draws"] == 2 and len(result["runs"]) == 4
    assert len({r["seed"] for r in result["runs"]}) == 4
    national = pd.read_parquet(out / "national")
    names = posterior.parameter_names()
    assert set(names) <= set(national.columns)  # every row carries the values it ran with
    per_point = national.groupby("point_id")[names].nunique()
    assert (per_point == 1).all().all() and national["point_id"].nunique() == 2
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["spec"]["posterior_draws"] == 2


def test_run_posterior_rejects_a_bad_count_in_one_line():
    proc = subprocess.run([*CLI, "run", "--posterior", "0"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "--posterior" in lines[0] and "Traceback" not in proc.stderr


def test_validate_posterior_reports_each_intervals_parameter_share():
    cmd = [*CLI, "validate", "--posterior", "2", "-r", "2", "--seed", "4", "--workers", "2", "--json"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["posterior_draws"] == 2 and len(set(result["seeds"])) == 4
    assert result["posterior_sha256"] == posterior.digest()
    shares = [r["parameter_share"] for r in result["rows"] + result["predictions"]]
    numbers = [s for s in shares if s is not None]
    assert numbers and all(0.0 <= s <= 1.0 for s in numbers)
