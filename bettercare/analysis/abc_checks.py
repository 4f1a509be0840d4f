"""Checks of the calibration without refitting it each time (issue 14, part 5), and the
identifiability of its posterior (part 4).

All checks work on one stored table of simulations from the prior (a `design = "file"` sweep of
prior draws, `scripts/abc_checks.py`): rejection ABC keeps the `keep` runs closest to a target
by the calibration's own distance, the largest error in tolerance units (`abc.distance`).

- **Rejection at a threshold:** the prior runs within a given epsilon are a sample of the ABC
  posterior at that epsilon, against which an ABC-SMC posterior can be checked.
- **Leave one fact out:** accept on every fact but one, then ask whether the accepted runs
  predict the left-out fact within its tolerance, and whether its 90% range holds the reference.
- **Synthetic truth:** take a run from the table as the truth, its facts as the data; accept
  among the other runs; check whether each parameter's 90% interval covers the true value.
  Over many truths a calibrated procedure covers about 90% of the time.
- **Identifiability:** posterior sd against prior sd for each parameter (in log units for a
  log-uniform prior), and the posterior mass near each bound.

Plain arrays and frames in, frames out, as SALib's analyses.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .validation import Fact, model_values

NEAR_BOUND = 0.05  # "at a bound": within 5% of the prior's range (in its own scale) of an end
UNINFORMED = 0.9  # sd ratio from which a parameter is reported as not informed by the facts
LEVEL = 0.90


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs=(0.05, 0.5, 0.95)) -> list[float]:
    """Quantiles of weighted particles: the smallest value whose cumulative weight reaches q."""
    v = np.asarray(values, float)
    order = np.argsort(v)
    cdf = np.cumsum(np.asarray(weights, float)[order]) / np.sum(weights)
    return [float(v[order][min(np.searchsorted(cdf, q), len(v) - 1)]) for q in qs]


def fact_values(national: pd.DataFrame, facts: list[Fact]) -> pd.DataFrame:
    """One column per fact (its id), one row per run, from national rows."""
    return pd.DataFrame({f.id: model_values(national, f) for f in facts}, index=national.index)


def scaled_errors(values: np.ndarray, target: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """|value - target| / tolerance, runs x facts; a value the run could not compute counts 5."""
    with np.errstate(invalid="ignore"):
        z = np.abs(values - target) / tolerance
    return np.where(np.isfinite(z), z, 5.0)


def accept(errors: np.ndarray, keep: int) -> np.ndarray:
    """Indices of the `keep` runs with the smallest largest error (rejection ABC)."""
    distance = errors.max(axis=1)
    return np.argsort(distance, kind="stable")[:keep]


def fact_errors(values: pd.DataFrame, facts: list[Fact]) -> np.ndarray:
    """Each run's error on each fact against its reference, in tolerance units (runs x facts)."""
    x = values[[f.id for f in facts]].to_numpy(float)
    return scaled_errors(x, np.array([f.reference for f in facts]), np.array([f.tolerance for f in facts]))


def within_epsilon(values: pd.DataFrame, facts: list[Fact], epsilon: float) -> np.ndarray:
    """Indices of the runs whose largest error is at most `epsilon` (rejection ABC at a threshold).

    Over a table of prior draws, these are draws from the ABC posterior at `epsilon`: the target an
    ABC-SMC run reaches at the same threshold, by another algorithm, so the two can check each other."""
    return np.flatnonzero(fact_errors(values, facts).max(axis=1) <= epsilon)


def leave_one_fact_out(values: pd.DataFrame, facts: list[Fact], keep: int) -> pd.DataFrame:
    """For each fact: the accepted runs' prediction of it when it was not used to accept them."""
    x = values[[f.id for f in facts]].to_numpy(float)
    errors = fact_errors(values, facts)
    rows = []
    for j, f in enumerate(facts):
        others = np.delete(errors, j, axis=1)
        kept = accept(others, keep)
        pred = x[kept, j]
        pred = pred[np.isfinite(pred)]
        lo, hi = np.quantile(pred, [(1 - LEVEL) / 2, (1 + LEVEL) / 2]) if len(pred) else (math.nan, math.nan)
        mean = float(pred.mean()) if len(pred) else math.nan
        rows.append(
            {
                "fact": f.id,
                "reference": f.reference,
                "tolerance": f.tolerance,
                "predicted_mean": mean,
                "lo90": float(lo),
                "hi90": float(hi),
                "within_tolerance": bool(abs(mean - f.reference) <= f.tolerance),
                "in_90_range": bool(lo <= f.reference <= hi),
                "accepted_distance": float(others[kept].max(axis=1).max()),
            }
        )
    return pd.DataFrame(rows)


def synthetic_truth(
    values: pd.DataFrame, params: pd.DataFrame, facts: list[Fact], truths: int, keep: int, seed: int
) -> pd.DataFrame:
    """For `truths` runs picked at random as the truth: does each parameter's 90% interval from
    the other runs, accepted on the truth's facts (same tolerances), cover its true value?"""
    x = values[[f.id for f in facts]].to_numpy(float)
    tol = np.array([f.tolerance for f in facts])
    theta = params.to_numpy(float)
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(x), size=truths, replace=False)
    rows = []
    for i in picks:
        rest = np.delete(np.arange(len(x)), i)
        kept = rest[accept(scaled_errors(x[rest], x[i], tol), keep)]
        lo, hi = np.quantile(theta[kept], [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
        for k, name in enumerate(params.columns):
            rows.append(
                {
                    "truth_run": int(i),
                    "parameter": name,
                    "true": float(theta[i, k]),
                    "lo90": float(lo[k]),
                    "hi90": float(hi[k]),
                    "covered": bool(lo[k] <= theta[i, k] <= hi[k]),
                }
            )
    return pd.DataFrame(rows)


def coverage(truth: pd.DataFrame, params: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per parameter: how many truths its 90% interval covered and, given the table's parameter
    values, the mean interval width over the table's own 90% range (1: the data narrowed nothing,
    so coverage says little)."""
    g = truth.groupby("parameter", sort=False)
    out = pd.DataFrame({"covered": g["covered"].sum().astype(int), "truths": g.size(), "share": g["covered"].mean()})
    if params is not None:
        width = (truth.hi90 - truth.lo90).groupby(truth.parameter, sort=False).mean()
        spread = params.quantile((1 - LEVEL) / 2).combine(params.quantile((1 + LEVEL) / 2), lambda lo, hi: hi - lo)
        out["width_over_prior"] = width / spread.reindex(width.index)
    return out.reset_index()


def identifiability(
    particles: pd.DataFrame, weights: np.ndarray, priors: dict[str, tuple[str, float, float]]
) -> pd.DataFrame:
    """Per parameter: prior and posterior sd in the prior's own scale (log for log-uniform), their
    ratio (1: the facts say nothing; near 0: pinned down), the 5-50-95% posterior quantiles and
    the posterior mass within 5% of each bound."""
    w = np.asarray(weights, float) / np.sum(weights)
    rows = []
    for name, (shape, lo, hi) in priors.items():
        v = particles[name].to_numpy(float)
        log = shape == "loguniform"
        to = np.log if log else (lambda a: a)
        u, a, b = to(v), to(lo), to(hi)
        prior_sd = (b - a) / math.sqrt(12.0)
        mean = float(np.sum(w * u))
        post_sd = math.sqrt(float(np.sum(w * (u - mean) ** 2)))
        q = weighted_quantiles(v, w)
        edge = NEAR_BOUND * (b - a)
        rows.append(
            {
                "parameter": name,
                "prior": shape,
                "low": lo,
                "high": hi,
                "prior_sd": prior_sd,
                "posterior_sd": post_sd,
                "sd_ratio": post_sd / prior_sd,
                "q05": q[0],
                "median": q[1],
                "q95": q[2],
                "mass_near_low": float(w[u <= a + edge].sum()),
                "mass_near_high": float(w[u >= b - edge].sum()),
            }
        )
    return pd.DataFrame(rows)


def uninformed(ident: pd.DataFrame) -> list[str]:
    """Parameters whose posterior spread is still at least `UNINFORMED` of the prior's: the facts
    say little or nothing about them, and their posterior is about their prior."""
    return list(ident.loc[ident.sd_ratio >= UNINFORMED, "parameter"])


def piled_at_bounds(ident: pd.DataFrame, ess: float) -> list[tuple[str, str, float]]:
    """(parameter, "low" or "high", mass) where the posterior puts more weight within
    `NEAR_BOUND` of an end than the prior does (`NEAR_BOUND` itself), by more than two Monte
    Carlo standard errors at effective sample size `ess`. Such a bound is shaping the posterior:
    it needs a source before it is moved."""
    limit = NEAR_BOUND + 2.0 * math.sqrt(NEAR_BOUND * (1.0 - NEAR_BOUND) / max(ess, 1.0))
    out = []
    for r in ident.itertuples(index=False):
        for end, mass in (("low", r.mass_near_low), ("high", r.mass_near_high)):
            if mass > limit:
                out.append((r.parameter, end, float(mass)))
    return out


def effective_sample_size(weights: np.ndarray) -> float:
    """Kish's effective sample size of importance weights: n for equal weights, 1 for one particle."""
    w = np.asarray(weights, float) / np.sum(weights)
    return float(1.0 / np.sum(w**2))


def replicate_agreement(
    a: pd.DataFrame,
    wa: np.ndarray,
    b: pd.DataFrame,
    wb: np.ndarray,
    priors: dict[str, tuple[str, float, float]],
) -> pd.DataFrame:
    """Do two independent posteriors (two seeds of the same calibration) agree?

    Per parameter, in the prior's own scale mapped to 0-1 (log for log-uniform): each run's
    weighted median, their difference, and the Monte Carlo standard error of that difference from
    each run's effective sample size (a median's standard error is about sqrt(pi/2) sd / sqrt(ESS)).
    `agree` when the difference is within two standard errors: then the two runs differ by no
    more than their own particle noise explains.
    """
    wa = np.asarray(wa, float) / np.sum(wa)
    wb = np.asarray(wb, float) / np.sum(wb)
    ess_a, ess_b = effective_sample_size(wa), effective_sample_size(wb)
    rows = []
    for name, (shape, lo, hi) in priors.items():
        to = np.log if shape == "loguniform" else (lambda x: x)
        lo_u, hi_u = to(lo), to(hi)

        def unit(v, lo_u=lo_u, hi_u=hi_u, to=to):
            return (to(np.asarray(v, float)) - lo_u) / (hi_u - lo_u)

        ua, ub = unit(a[name]), unit(b[name])
        ma, mb = weighted_quantiles(ua, wa, (0.5,))[0], weighted_quantiles(ub, wb, (0.5,))[0]
        sda = math.sqrt(float(np.sum(wa * (ua - np.sum(wa * ua)) ** 2)))
        sdb = math.sqrt(float(np.sum(wb * (ub - np.sum(wb * ub)) ** 2)))
        se = math.sqrt(math.pi / 2) * math.sqrt(sda**2 / ess_a + sdb**2 / ess_b)
        rows.append(
            {
                "parameter": name,
                "median_a": ma,
                "median_b": mb,
                "difference": mb - ma,
                "standard_error": se,
                "agree": bool(abs(mb - ma) <= 2 * se),
            }
        )
    return pd.DataFrame(rows)
