"""bettercare.analysis: effects with intervals on data with known effects, and the sensitivity
pipeline on functions with known indices (Ishigami for Sobol', a linear function for Morris),
through synthetic sweep directories in the real store layout."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pandas as pd
import pytest

from bettercare import analysis
from bettercare.analysis.indices import NoIndices

# --- effects ----------------------------------------------------------------------------------


def _factorial(seed=0, reps=30, sd=1.0, interaction=0.0):
    """y = 2 * [a == 'hi'] + 0.5 * b + interaction * [a == 'hi'] * b + noise; b in {0, 1, 2}."""
    rng = np.random.default_rng(seed)
    rows = []
    for point, (a, b) in enumerate(itertools.product(["lo", "hi"], [0, 1, 2])):
        for r in range(reps):
            hi = a == "hi"
            y = 2.0 * hi + 0.5 * b + interaction * hi * b + rng.normal(0, sd)
            rows.append(
                {"run_id": point * reps + r, "point_id": point, "replicate": r, "seed": 0, "y": y, "f.a": a, "f.b": b}
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize("interval", ["t", "bootstrap"])
def test_main_effect_recovered_with_interval(interval):
    df = _factorial()
    e = analysis.effects(df, "f.a", "y", interval=interval)
    assert set(e.interval) == {interval}
    assert interval in e.attrs["interval"] or "bootstrap" in e.attrs["interval"]
    eff = e[e.kind == "effect"].iloc[0]
    assert eff["f.a"] == "hi" and eff["reference"] == "lo"  # first level met is the reference
    assert eff.lo < 2.0 < eff.hi
    assert abs(eff.estimate - 2.0) < 0.5
    assert 0.2 < eff.hi - eff.lo < 1.5
    means = e[e.kind == "mean"].set_index("f.a")["estimate"]
    assert means["hi"] - means["lo"] == pytest.approx(eff.estimate)
    # numeric factor: sorted levels, lowest is the reference; effect of b=2 vs 0 is 1.0
    eb = analysis.effects(df, "f.b", "y", interval=interval)
    last = eb[eb.kind == "effect"].iloc[-1]
    assert last["f.b"] == 2 and last["reference"] == 0
    assert last.lo < 1.0 < last.hi


def test_t_interval_coverage_is_near_nominal():
    hits = 0
    for s in range(200):
        df = _factorial(seed=s, reps=4, sd=1.0)
        eff = analysis.effects(df, "f.a", "y").query("kind == 'effect'").iloc[0]
        hits += eff.lo < 2.0 < eff.hi
    assert 0.9 <= hits / 200 <= 0.99


def test_no_effect_is_not_forced():
    df = _factorial()
    df["y"] = np.random.default_rng(5).normal(size=len(df))
    me = analysis.main_effects(df, ["f.a", "f.b"], ["y"])
    assert list(me.factor) == ["f.a", "f.b"]
    assert not me.shown.any()


def test_interaction_recovered():
    df = _factorial(interaction=1.5, reps=20)
    e = analysis.effects(df, ["f.a", "f.b"], "y")
    inter = e[e.kind == "interaction"].set_index("f.b")
    # (hi, b) - (hi, 0) - (lo, b) + (lo, 0) = 1.5 * b
    assert inter.loc[2].lo < 3.0 < inter.loc[2].hi
    assert inter.loc[1].lo < 1.5 < inter.loc[1].hi
    assert len(e[e.kind == "mean"]) == 6
    none = analysis.effects(_factorial(reps=20), ["f.a", "f.b"], "y")
    i0 = none[none.kind == "interaction"]
    assert ((i0.lo < 0) & (i0.hi > 0)).all()


def test_rows_within_runs_are_averaged_and_paired():
    """An areas-like table: a within-run factor is compared within runs, areas never counted as runs."""
    rng = np.random.default_rng(1)
    rows = []
    for run in range(12):
        shift = rng.normal(0, 5)  # a big run effect shared by both kinds of area: pairing removes it
        for area in range(20):
            cot = area < 5
            rows.append(
                {
                    "run_id": run,
                    "point_id": 0,
                    "replicate": run,
                    "seed": run,
                    "coterminous": cot,
                    "y": shift + (-1.0 if cot else 0.0) + rng.normal(0, 0.1),
                }
            )
    df = pd.DataFrame(rows)
    e = analysis.effects(df, "coterminous", "y").query("kind == 'effect'").iloc[0]
    assert e.n == 12
    assert e.lo < -1.0 < e.hi and e.hi - e.lo < 0.3
    b = analysis.effects(df, "coterminous", "y", interval="bootstrap").query("kind == 'effect'").iloc[0]
    assert abs(b.estimate + 1.0) < 0.05 and b.hi - b.lo < 0.3  # unpaired, the width would be ~6


def test_non_finite_outcomes_left_out():
    df = _factorial(reps=5)
    df.loc[df.index[:3], "y"] = np.nan
    df.loc[df.index[3], "y"] = np.inf
    e = analysis.effects(df, "f.a", "y")
    assert e[e.kind == "mean"].n.sum() == len(df) - 4


# --- sensitivity -------------------------------------------------------------------------------


def _sweep_dir(tmp_path, kind, problem, x, y, extra=None):
    """A sweep directory in the store's layout (manifest, design.parquet, committed national table)."""
    import pyarrow as pa

    from bettercare.experiments.store import Store

    n = len(x)
    names = problem["names"] if problem else [f"x.{i + 1}" for i in range(x.shape[1])]
    design = pd.DataFrame(x, columns=names)
    design.insert(0, "point_id", np.arange(n))
    design.to_parquet(tmp_path / "design.parquet")
    manifest = {
        "kind": "sweep",
        "status": "complete",
        "experiment": "synthetic",
        "runs": n,
        "points": n,
        "replicates": 1,
        "tables": ["national"],
        "outcomes": ["y"],
        "param_columns": names,
        "design": {"kind": kind, "parameters": names, "points": n, "problem": problem, **(extra or {})},
    }
    national = design.copy()
    national.insert(0, "run_id", np.arange(n))
    national.insert(2, "replicate", 0)
    national.insert(3, "seed", 0)
    national["y"] = y
    with Store(tmp_path).open() as store:
        store.commit(list(range(n)), [], {"national": [pa.Table.from_pandas(national, preserve_index=False)]})
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    return tmp_path


def test_sobol_indices_of_ishigami(tmp_path):
    from SALib.sample import sobol as sobol_sample
    from SALib.test_functions import Ishigami

    problem = {"num_vars": 3, "names": ["x.1", "x.2", "x.3"], "bounds": [[-math.pi, math.pi]] * 3}
    x = sobol_sample.sample(json.loads(json.dumps(problem)), 1024, calc_second_order=False, seed=7)
    path = _sweep_dir(tmp_path, "sobol", problem, x, Ishigami.evaluate(x), {"second_order": False})
    s = analysis.sensitivity(path)
    assert s.attrs["method"] == "sobol" and not s.attrs["skipped"]
    v = s.set_index(["parameter", "index"])["value"]
    # Analytic values for a = 7, b = 0.1 (Ishigami & Homma 1990; Saltelli et al. 2010).
    expected = {
        ("x.1", "S1"): 0.3139,
        ("x.2", "S1"): 0.4424,
        ("x.3", "S1"): 0.0,
        ("x.1", "ST"): 0.5576,
        ("x.2", "ST"): 0.4424,
        ("x.3", "ST"): 0.2437,
    }
    for key, want in expected.items():
        assert v[key] == pytest.approx(want, abs=0.06), key
    assert (s.conf > 0).all() and (s.lo < s.value).all() and (s.hi > s.value).all()


def test_morris_indices_of_a_linear_function(tmp_path):
    from SALib.sample import morris as morris_sample

    problem = {"num_vars": 3, "names": ["x.1", "x.2", "x.3"], "bounds": [[0, 1]] * 3}
    x = morris_sample.sample(json.loads(json.dumps(problem)), 20, num_levels=4, seed=3)
    y = 2.0 * x[:, 0] - 1.0 * x[:, 1] + 0.0 * x[:, 2]
    path = _sweep_dir(tmp_path, "morris", problem, x, y, {"num_levels": 4})
    s = analysis.sensitivity(path).set_index(["parameter", "index"])["value"]
    assert s[("x.1", "mu_star")] == pytest.approx(2.0)
    assert s[("x.2", "mu_star")] == pytest.approx(1.0)
    assert s[("x.3", "mu_star")] == pytest.approx(0.0)
    assert s[("x.1", "sigma")] == pytest.approx(0.0, abs=1e-9)


def test_sensitivity_refuses_factorial_and_skips_nan(tmp_path):
    from SALib.sample import sobol as sobol_sample

    problem = {"num_vars": 2, "names": ["x.1", "x.2"], "bounds": [[0, 1]] * 2}
    x = sobol_sample.sample(json.loads(json.dumps(problem)), 8, calc_second_order=False, seed=1)
    y = x[:, 0].copy()
    y[3] = np.nan
    (tmp_path / "a").mkdir()
    s = analysis.sensitivity(_sweep_dir(tmp_path / "a", "sobol", problem, x, y))
    assert s.empty and "y" in s.attrs["skipped"]
    (tmp_path / "b").mkdir()
    with pytest.raises(NoIndices):
        analysis.sensitivity(_sweep_dir(tmp_path / "b", "factorial", None, x, x[:, 0]))


def test_load_gives_dataframes_with_parameter_columns(tmp_path):
    problem = {"num_vars": 2, "names": ["x.1", "x.2"], "bounds": [[0, 1]] * 2}
    x = np.random.default_rng(0).random((6, 2))
    data = analysis.load(_sweep_dir(tmp_path, "lhs", problem, x, x.sum(axis=1)))
    assert isinstance(data.national, pd.DataFrame)
    assert {"run_id", "point_id", "replicate", "seed", "x.1", "x.2", "y"} <= set(data.national.columns)
    assert data["national"] is data.national and data.param_columns == ["x.1", "x.2"]
    assert data.errors.empty and data.name == "synthetic"
