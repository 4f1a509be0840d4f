"""The calibration's checks on a stored prior table: rejection, leave one fact out, synthetic truth,
identifiability (issue 14, parts 4 and 5). A toy simulator with a known answer stands in for the
model, so each check is shown to pass where it should and to fail where it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bettercare.analysis import abc, abc_checks
from bettercare.analysis.validation import Fact
from bettercare.model.outputs import Kind


def fact(id_: str, reference: float, tolerance: float) -> Fact:
    return Fact(id_, id_, "toy", reference, tolerance, Kind.NUMBER, id_, "", True)


def toy_table(n=3000, seed=0):
    """theta ~ U(0, 1), phi ~ U(0, 1); facts a = theta + noise, b = a copy of a, c = phi + noise."""
    rng = np.random.default_rng(seed)
    theta, phi = rng.random(n), rng.random(n)
    a = theta + rng.normal(0, 0.03, n)
    values = pd.DataFrame({"a": a, "b": a + rng.normal(0, 0.01, n), "c": phi + rng.normal(0, 0.03, n)})
    return values, pd.DataFrame({"theta": theta, "phi": phi})


def test_accept_keeps_the_smallest_largest_error():
    errors = np.array([[0.1, 3.0], [0.5, 0.6], [2.0, 0.1], [0.2, 0.3]])
    assert list(abc_checks.accept(errors, 2)) == [3, 1]


def test_scaled_errors_count_a_missing_value_as_five_tolerances():
    z = abc_checks.scaled_errors(np.array([[1.0, np.nan]]), np.array([0.0, 0.0]), np.array([0.5, 1.0]))
    assert z.tolist() == [[2.0, 5.0]]


def test_within_epsilon_keeps_exactly_the_runs_whose_largest_error_is_small_enough():
    values, params = toy_table()
    facts = [fact("a", 0.4, 0.05), fact("c", 0.7, 0.05)]
    kept = abc_checks.within_epsilon(values, facts, 1.0)
    assert 0 < len(kept) < len(values)
    inside = values.iloc[kept]
    assert ((inside.a - 0.4).abs() <= 0.05).all() and ((inside.c - 0.7).abs() <= 0.05).all()
    rest = values.drop(index=values.index[kept])
    assert (((rest.a - 0.4).abs() > 0.05) | ((rest.c - 0.7).abs() > 0.05)).all()
    assert params.iloc[kept].theta.median() == pytest.approx(0.4, abs=0.03)  # the posterior, by rejection
    assert len(abc_checks.within_epsilon(values, facts, 2.0)) > len(kept)


def test_leave_one_fact_out_predicts_a_redundant_fact_and_misses_an_independent_one():
    values, _ = toy_table()
    # a and b say the same thing; c is independent of both, and its reference is far from the
    # prior's middle, so no other fact can bring the accepted runs to it
    facts = [fact("a", 0.4, 0.05), fact("b", 0.4, 0.05), fact("c", 0.95, 0.02)]
    table = abc_checks.leave_one_fact_out(values, facts, keep=60).set_index("fact")
    assert table.loc["b", "within_tolerance"] and table.loc["b", "in_90_range"]
    assert table.loc["a", "within_tolerance"]
    assert not table.loc["c", "within_tolerance"]
    assert table.loc["c", "predicted_mean"] == pytest.approx(0.5, abs=0.1)  # the prior's mean


def test_synthetic_truth_covers_about_ninety_percent():
    values, params = toy_table()
    facts = [fact("a", 0.0, 0.05), fact("b", 0.0, 0.05), fact("c", 0.0, 0.05)]
    truth = abc_checks.synthetic_truth(values, params, facts, truths=60, keep=60, seed=1)
    cov = abc_checks.coverage(truth).set_index("parameter")
    assert len(truth) == 120 and set(cov.index) == {"theta", "phi"}
    assert 0.75 <= cov.loc["theta", "share"] <= 1.0
    assert 0.75 <= cov.loc["phi", "share"] <= 1.0
    widths = (truth.hi90 - truth.lo90).groupby(truth.parameter).mean()
    assert widths["theta"] < 0.3  # informed: much narrower than the prior's 0.9


def test_biased_data_make_the_intervals_miss():
    """The coverage check can fail: data shifted against the simulator (a misspecified model) put
    theta's 90% interval away from the truth for most truths."""
    values, params = toy_table()
    x = values.to_numpy()
    tol = np.array([0.05, 0.05, 0.05])
    theta = params.theta.to_numpy()
    truths = [i for i in range(200) if 0.1 < theta[i] < 0.7][:20]
    misses = 0
    for i in truths:
        kept = abc_checks.accept(abc_checks.scaled_errors(x, x[i] + [0.2, 0.2, 0.0], tol), 60)
        lo, hi = np.quantile(theta[kept], [0.05, 0.95])
        misses += not (lo <= theta[i] <= hi)
    assert misses >= 15


def test_identifiability_tells_pinned_from_uninformed_and_bounds():
    rng = np.random.default_rng(3)
    n = 4000
    particles = pd.DataFrame(
        {
            "pinned": rng.normal(0.5, 0.01, n),
            "free": rng.random(n),
            "edge": 0.99 + 0.01 * rng.random(n),
            "scale": np.exp(rng.uniform(np.log(0.01), np.log(1.0), n)),
        }
    )
    priors = {
        "pinned": ("uniform", 0.0, 1.0),
        "free": ("uniform", 0.0, 1.0),
        "edge": ("uniform", 0.0, 1.0),
        "scale": ("loguniform", 0.01, 1.0),
    }
    table = abc_checks.identifiability(particles, np.ones(n), priors).set_index("parameter")
    assert table.loc["pinned", "sd_ratio"] < 0.1
    assert table.loc["free", "sd_ratio"] == pytest.approx(1.0, abs=0.05)
    assert table.loc["scale", "sd_ratio"] == pytest.approx(1.0, abs=0.05)  # uniform in log: uninformed
    assert table.loc["edge", "mass_near_high"] == pytest.approx(1.0) and table.loc["edge", "mass_near_low"] == 0.0
    assert table.loc["pinned", "median"] == pytest.approx(0.5, abs=0.01)
    # what a calibration's report says of them (`abc.report_text`)
    assert abc_checks.uninformed(table.reset_index()) == ["free", "scale"]
    assert abc_checks.piled_at_bounds(table.reset_index(), ess=n) == [("edge", "high", pytest.approx(1.0))]


def test_a_bound_counts_as_piled_only_beyond_the_particle_noise():
    """A flat posterior puts about 5% near each end, as the prior does: not piled, at any sample
    size; 12% near an end is piled with 1,000 effective particles but not with 20."""
    rng = np.random.default_rng(4)
    n = 1000
    flat = pd.DataFrame({"x": rng.random(n)})
    tilted = pd.DataFrame({"x": np.where(rng.random(n) < 0.07, 0.99, rng.random(n))})  # ~12% above 0.95
    prior = {"x": ("uniform", 0.0, 1.0)}
    ident_flat = abc_checks.identifiability(flat, np.ones(n), prior)
    ident_tilted = abc_checks.identifiability(tilted, np.ones(n), prior)
    assert 0.09 < ident_tilted.mass_near_high[0] < 0.15
    assert abc_checks.piled_at_bounds(ident_flat, ess=n) == []
    assert [p for p, _, _ in abc_checks.piled_at_bounds(ident_tilted, ess=n)] == ["x"]
    assert abc_checks.piled_at_bounds(ident_tilted, ess=20) == []


def test_prior_sample_respects_shapes_and_seed():
    shapes = {"u": ("uniform", 2.0, 4.0), "l": ("loguniform", 0.01, 100.0)}
    a = abc.prior_sample(shapes, 5000, seed=9)
    assert a.equals(abc.prior_sample(shapes, 5000, seed=9))
    assert a.u.between(2, 4).all() and a.l.between(0.01, 100).all()
    assert np.median(np.log10(a.l)) == pytest.approx(0.0, abs=0.15)  # log-uniform: median at 10^0


def test_coverage_reports_how_much_the_data_narrowed_each_interval():
    values, params = toy_table()
    facts = [fact("a", 0.0, 0.05), fact("b", 0.0, 0.05), fact("c", 0.0, 0.05)]
    truth = abc_checks.synthetic_truth(values, params, facts, truths=30, keep=60, seed=5)
    cov = abc_checks.coverage(truth, params).set_index("parameter")
    assert cov.loc["theta", "width_over_prior"] < 0.35  # informed by a and b
    # phi is informed only by c, with the same noise: narrowed too; drop c and it is not
    alone = abc_checks.synthetic_truth(values, params, facts[:2], truths=30, keep=60, seed=5)
    assert abc_checks.coverage(alone, params).set_index("parameter").loc["phi", "width_over_prior"] > 0.85


def test_effective_sample_size_counts_even_and_degenerate_weights():
    assert abc_checks.effective_sample_size(np.ones(50)) == pytest.approx(50)
    assert abc_checks.effective_sample_size(np.r_[1.0, np.zeros(49)]) == pytest.approx(1)


def test_two_runs_from_one_posterior_agree_and_a_shifted_one_does_not():
    rng = np.random.default_rng(3)
    priors = {"x": ("uniform", 0.0, 10.0), "s": ("loguniform", 0.1, 10.0)}

    def draw(n, shift=0.0):
        return pd.DataFrame({"x": rng.normal(4 + shift, 0.5, n), "s": np.exp(rng.normal(0.0, 0.3, n))})

    a, b = draw(400), draw(400)
    same = abc_checks.replicate_agreement(a, np.ones(400), b, np.ones(400), priors).set_index("parameter")
    assert same["agree"].all()
    assert same.loc["x", "median_a"] == pytest.approx(0.4, abs=0.01)
    assert same.loc["s", "median_a"] == pytest.approx(0.5, abs=0.02)  # log scale: 1 is the middle of 0.1-10
    moved = abc_checks.replicate_agreement(a, np.ones(400), draw(400, shift=1.0), np.ones(400), priors)
    assert not moved.set_index("parameter").loc["x", "agree"]
    few = np.r_[np.ones(3), np.full(397, 1e-9)]  # three particles carry the weight: a wide error
    loose = abc_checks.replicate_agreement(a, np.ones(400), draw(400, shift=1.0), few, priors)
    assert (
        loose.set_index("parameter").loc["x", "standard_error"]
        > 5 * moved.set_index("parameter").loc["x", "standard_error"]
    )
