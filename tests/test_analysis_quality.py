"""Outcome quality (bettercare/model/quality.py) against NegMAS on small discrete spaces."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bettercare.model import quality as q

negmas = pytest.importorskip("negmas")
from negmas import make_issue  # noqa: E402 - after importorskip
from negmas.outcomes import enumerate_issues  # noqa: E402 - after importorskip
from negmas.preferences import MappingUtilityFunction, nash_points, pareto_frontier  # noqa: E402 - after importorskip


def _space(seed: int, n_parties: int, sizes: tuple[int, ...]):
    rng = np.random.default_rng(seed)
    issues = [make_issue(k, f"i{j}") for j, k in enumerate(sizes)]
    outcomes = list(enumerate_issues(issues))
    utils = rng.random((len(outcomes), n_parties))  # continuous draws: no ties
    return issues, outcomes, utils, rng


def _ufuns(issues, outcomes, utils, reserved):
    return [
        MappingUtilityFunction(
            dict(zip(outcomes, utils[:, i].tolist())), issues=issues, reserved_value=float(reserved[i])
        )
        for i in range(utils.shape[1])
    ]


CASES = [(seed, n, sizes) for seed in range(6) for n, sizes in [(2, (5, 4)), (3, (4, 3, 2)), (4, (3, 3, 3))]]


@pytest.mark.parametrize("seed,n,sizes", CASES)
def test_pareto_frontier_matches_negmas(seed, n, sizes):
    issues, outcomes, utils, _ = _space(seed, n, sizes)
    ufuns = _ufuns(issues, outcomes, utils, [-math.inf] * n)
    _, theirs = pareto_frontier(ufuns, outcomes=outcomes)
    mine = q.pareto_frontier(utils)
    assert sorted(int(i) for i in theirs) == sorted(mine.tolist())
    # Both sort the frontier by total utility, largest first.
    assert [int(i) for i in theirs] == mine.tolist()


@pytest.mark.parametrize("seed,n,sizes", CASES)
def test_nash_point_matches_negmas(seed, n, sizes):
    issues, outcomes, utils, rng = _space(seed, n, sizes)
    # Disagreement points above every party's minimum (NegMAS then measures gains from them),
    # low enough that some outcome is individually rational.
    d = utils.min(axis=0) + rng.uniform(0.05, 0.3, n)
    assert (utils >= d).all(axis=1).any()
    ufuns = _ufuns(issues, outcomes, utils, d)
    front_utils, front_idx = pareto_frontier(ufuns, outcomes=outcomes)  # rational outcomes only
    theirs = nash_points(ufuns, front_utils, outcomes=outcomes)
    their_outcomes = sorted(int(front_idx[i]) for _, i in theirs)
    mine = q.nash_points(utils, d)
    assert sorted(mine.tolist()) == their_outcomes
    # The rational frontier is the frontier of the rational points.
    rational = np.flatnonzero((utils >= d).all(axis=1))
    assert sorted(rational[q.pareto_frontier(utils[rational])].tolist()) == sorted(int(i) for i in front_idx)


def test_pareto_mask_keeps_ties_and_handles_many_points():
    pts = np.array([[1.0, 0.0], [1.0, 0.0], [0.5, 0.5], [0.4, 0.4], [0.0, 1.0]])
    assert q.pareto_mask(pts).tolist() == [True, True, True, False, True]
    rng = np.random.default_rng(3)
    big = rng.random((500, 3))
    brute = np.array([not ((big >= p).all(1) & (big > p).any(1)).any() for p in big])
    assert (q.pareto_mask(big) == brute).all()


def test_quality_measures_by_hand():
    pts = np.array([[1.0, 0.2], [0.6, 0.6], [0.2, 1.0], [0.3, 0.3]])
    d = np.array([0.1, 0.1])
    nash = q.quality(pts, d, pts[1])  # (0.6, 0.6) maximises (u1 - .1)(u2 - .1) = 0.25
    assert nash["pareto_distance"] == pytest.approx(0.0)
    assert nash["nash_distance"] == pytest.approx(0.0)
    assert nash["nash_product_ratio"] == pytest.approx(1.0)
    assert nash["fairness"] == pytest.approx(0.5 / 0.9)
    poor = q.quality(pts, d, pts[3])
    assert poor["pareto_distance"] == pytest.approx(math.hypot(0.3, 0.3))
    assert poor["nash_distance"] == pytest.approx(math.hypot(0.3, 0.3))
    assert poor["nash_product_ratio"] == pytest.approx(0.04 / 0.25)
    assert poor["fairness"] == pytest.approx(0.2 / 0.9)
    below = q.quality(pts, np.array([0.4, 0.4]), pts[3])
    assert below["nash_product_ratio"] == 0.0 and below["fairness"] < 0
    none = q.quality(pts, np.array([2.0, 2.0]), pts[0])
    assert math.isnan(none["nash_distance"]) and math.isnan(none["fairness"])


def test_areas_table_has_quality_columns():
    from bettercare import run

    r = run("england-2014", seed=3, overrides={"areas.names": ["Wigan", "Rutland", "Kent", "Cumbria"]})
    a = r.areas
    for col in q.QUALITY_COLUMNS:
        assert col in a.columns
    assert (a.pareto_distance >= 0).all()
    ok = a.nash_product_ratio.dropna()
    assert ((ok >= 0) & (ok <= 1 + 1e-9)).all()
    assert (a.fairness.dropna() <= 1 + 1e-9).all()
