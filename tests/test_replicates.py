"""Lorscheid et al.'s variance stability (how many replicates) on series with known behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bettercare.analysis.replicates import cv_by_runs, stability_table, stable_runs

NS = [5, 10, 20, 40, 80, 160]


def test_cv_matches_its_definition():
    v = np.array([1.0, 2.0, 3.0, 4.0])
    assert cv_by_runs(v, [4])[0] == np.std(v, ddof=1) / 2.5


def test_a_low_noise_outcome_settles_early_and_a_noisy_one_later():
    rng = np.random.default_rng(4)
    calm = rng.normal(100, 1, 160)  # c_v about 0.01
    noisy = rng.normal(10, 8, 160)  # c_v about 0.8
    assert stable_runs(calm, NS, criterion=0.01) == 5
    late = stable_runs(noisy, NS, criterion=0.1)
    assert late is not None and late >= 20
    assert stable_runs(noisy, NS, criterion=0.05) is None  # not settled within 160 runs: said, not forced


def test_a_nil_effect_has_no_stable_cv():
    v = np.r_[np.ones(80), -np.ones(80)]  # mean 0 over the first 160 runs
    assert stable_runs(v, NS, criterion=0.01) is None
    table = stability_table(pd.DataFrame({"x": v}), ["x"], NS, 0.01)
    assert table.stable_from.isna().all() and list(table.columns) == [
        "outcome",
        *[f"cv_{n}" for n in NS],
        "stable_from",
    ]
