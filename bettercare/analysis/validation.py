"""Validation against the public record: one row per reference fact (bettercare/data/facts.toml).

A report, not a test: it shows the fit, good or bad. Rows give the model's mean and the 2.5-97.5%
range over replicates, and whether the mean lies within the fact's declared tolerance.

Posterior-predictive validation (`validate --posterior N`) runs N parameter sets drawn from the
posterior, each on its own replicate seeds. The range then holds parameter uncertainty and seed
noise together, and `parameter_share` says how much of the variance is the parameters': by the law
of total variance, Var(y) = E[Var(y | theta)] + Var(E[y | theta]), the second term estimated as the
variance of the draws' means less the seed variance over the replicates (an unbiased estimate,
floored at 0).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t

from bettercare.experiments.backends import Backend, make_backend
from bettercare.experiments.designs import run_seed
from bettercare.experiments.evaluate import evaluate as evaluate_runs
from bettercare.experiments.evaluate import national_frame, replicate_tasks
from bettercare.model.outputs import SWEEP_ID_COLUMNS, Kind, fmt
from bettercare.model.outputs import predictions as registry_predictions
from bettercare.model.scenario import load_scenario


@dataclass(frozen=True)
class Fact:
    id: str
    fact: str
    source: str
    reference: float
    tolerance: float  # absolute, in the fact's unit
    kind: Kind  # how its values are shown (bettercare.model.outputs.fmt)
    model: str
    reason: str
    calibrate: bool


def load_facts() -> list[Fact]:
    with (files("bettercare") / "data" / "facts.toml").open("rb") as fh:
        raw = tomllib.load(fh)["fact"]
    facts = []
    for f in raw:
        tol = f["tolerance"] if "tolerance" in f else f["tolerance_rel"] * abs(f["reference"])
        facts.append(
            Fact(
                id=f["id"],
                fact=f["fact"],
                source=f["source"],
                reference=float(f["reference"]),
                tolerance=float(tol),
                kind=Kind(f["kind"]),
                model=f["model"],
                reason=f["reason"],
                calibrate=bool(f["calibrate"]),
            )
        )
    return facts


def run_nationals(
    scenario: str,
    seeds: list[int],
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    backend: Backend | None = None,
) -> pd.DataFrame:
    """National fields of one run per seed, in seed order, through the sweep backends: an entered
    `backend`, or one made from `workers` (1: this process) and `scheduler` (a Dask address).
    Raises RuntimeError naming the first run that failed."""
    tasks = replicate_tasks(load_scenario(scenario, overrides), seeds)
    return _national_rows(tasks, workers, scheduler, backend).assign(seed=seeds)


def run_posterior_nationals(
    scenario: str,
    draws: list[dict[str, float]],
    replicates: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    backend: Backend | None = None,
) -> pd.DataFrame:
    """National fields of `replicates` runs of each posterior draw, with `draw` (its index) and
    `seed`. Run i of the N x R runs (draw-major) has `run_seed(seed, i, N x R)`, as in a sweep."""
    base = load_scenario(scenario)
    total = len(draws) * replicates
    tasks, seeds = [], []
    for j, values in enumerate(draws):
        first = j * replicates
        s = [run_seed(seed, first + i, total) for i in range(replicates)]
        tasks += replicate_tasks(base, s, values, point_id=j, first_run_id=first)
        seeds += s
    frame = _national_rows(tasks, workers, scheduler, backend)
    return frame.assign(draw=np.repeat(np.arange(len(draws)), replicates), seed=seeds)


def _national_rows(tasks, workers: int, scheduler: str | None, backend: Backend | None) -> pd.DataFrame:
    """The national rows of `tasks` in run order; RuntimeError naming the first failed run."""
    if backend is None:
        with make_backend(workers=0 if workers <= 1 else workers, scheduler=scheduler) as b:
            outcomes = list(evaluate_runs(tasks, b))
    else:
        outcomes = list(evaluate_runs(tasks, backend))
    failed = sorted((o for o in outcomes if not o.ok), key=lambda o: o.run_id)
    if failed:
        err = failed[0].error or {}
        raise RuntimeError(
            f"{len(failed)} of {len(tasks)} runs failed; seed {tasks[failed[0].run_id].seed}: "
            f"{err.get('error_type')}: {err.get('message')}"
        )
    return national_frame(outcomes).drop(columns=list(SWEEP_ID_COLUMNS)).reset_index(drop=True)


def parameter_share(values: np.ndarray, draw: np.ndarray) -> float:
    """The share of the variance of `values` that comes from the posterior draws (law of total
    variance; NaN when there is one draw or one replicate per draw, or no variance)."""
    frame = pd.DataFrame({"v": values, "d": draw}).dropna()
    groups = frame.groupby("d")["v"]
    counts = groups.count()
    if len(counts) < 2 or counts.min() < 2:
        return math.nan
    within = float(groups.var(ddof=1).mean())
    between = max(0.0, float(groups.mean().var(ddof=1)) - within / float(counts.mean()))
    total = within + between
    return between / total if total > 0 else math.nan


def model_values(nationals: pd.DataFrame, fact: Fact) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        v = nationals.eval(fact.model)
    return np.asarray(v, float)


def evaluate(nationals: pd.DataFrame, facts: list[Fact] | None = None) -> pd.DataFrame:
    """The validation table: one row per fact (with `parameter_share` when the rows have a `draw`)."""
    rows = []
    for f in facts or load_facts():
        v = model_values(nationals, f)
        share = parameter_share(v, nationals["draw"].to_numpy()) if "draw" in nationals else math.nan
        finite = v[np.isfinite(v)]
        mean = float(finite.mean()) if len(finite) else math.nan
        lo, hi = np.percentile(finite, [2.5, 97.5]) if len(finite) else (math.nan, math.nan)
        rows.append(
            {
                "id": f.id,
                "fact": f.fact,
                "source": f.source,
                "reference": f.reference,
                "model_mean": mean,
                "model_lo95": float(lo),
                "model_hi95": float(hi),
                "tolerance": f.tolerance,
                "met": bool(abs(mean - f.reference) <= f.tolerance),
                "calibrated_on": f.calibrate,
                "reason": f.reason,
                "parameter_share": share,
                "kind": f.kind,
            }
        )
    return pd.DataFrame(rows)


def predictions(nationals: pd.DataFrame) -> pd.DataFrame:
    """Delivery-year-1 outcomes: mean, 2.5-97.5% range over replicates, and a t-interval of the mean.

    Delivery year 1 (2015-16) is never used in calibration: these are the model's predictions, the
    national fields the output registry marks with a `prediction` label."""

    rows = []
    for o in registry_predictions():
        v = nationals[o.name].to_numpy(float)
        share = parameter_share(v, nationals["draw"].to_numpy()) if "draw" in nationals else math.nan
        v = v[np.isfinite(v)]
        n = len(v)
        mean = float(v.mean()) if n else math.nan
        half = float(t.ppf(0.975, n - 1) * v.std(ddof=1) / math.sqrt(n)) if n > 1 else 0.0
        lo, hi = np.percentile(v, [2.5, 97.5]) if n else (math.nan, math.nan)
        rows.append(
            {
                "field": o.name,
                "outcome": o.prediction,
                "mean": mean,
                "lo95": float(lo),
                "hi95": float(hi),
                "mean_ci95": [mean - half, mean + half],
                "parameter_share": share,
                "kind": o.kind,
                "n": n,
            }
        )
    return pd.DataFrame(rows)


def fact_cells(row: Any) -> list[str]:
    """A validation row's reference, model mean, 95% range and tolerance, as a reader sees them."""
    k = row.kind
    return [
        fmt(row.reference, k),
        fmt(row.model_mean, k),
        f"{fmt(row.model_lo95, k)} to {fmt(row.model_hi95, k)}",
        "±" + fmt(row.tolerance, k),
    ]


def share_text(x: float) -> str:
    """A parameter share as a whole percentage ('-' when it cannot be split)."""
    return "-" if x != x else f"{100 * x:.0f}%"


def distance(table: pd.DataFrame, calibrate_only: bool = True) -> float:
    """Mean squared error in tolerance units over the facts; a row missing its value counts 25."""
    t = table[table.calibrated_on] if calibrate_only else table
    z = ((t.model_mean - t.reference) / t.tolerance).to_numpy()
    z = np.where(np.isfinite(z), z, 5.0)
    return float(np.mean(z**2))
