"""Global sensitivity of a sweep: Sobol' first-order and total indices, or Morris mu* and sigma.

    sensitivity("runs/sensitivity")                  # every outcome the spec names
    sensitivity("runs/sensitivity", outcomes=["plans_agreed"], table="national")

A `sobol` sweep stores what `SALib.analyze.sobol` needs: the problem (manifest `design.problem`),
the sample matrix in SALib's order (`design.parquet`, `point_id` = row) and the outputs. The
outcome is averaged over replicates at each point first. A `morris` sweep gives Morris's mu*
(mean absolute elementary effect) and sigma. Other designs (factorial, lhs, file) have no
sensitivity indices: `sensitivity` raises `NoIndices` saying so; use `effects` instead.

Confidence intervals come from SALib's own bootstrap (`conf_level` = 0.95): the `conf` column is
the half-width, `lo` and `hi` the interval. The bootstrap is seeded (`seed`, default 2014; the
trap: SALib's sobol analysis ignores a seed of 0, so the default is not 0). An outcome with missing or non-finite values at some
point (failed runs; NaN such as "no area agreed") cannot be analysed and is listed in
`result.attrs["skipped"]` with the reason, never imputed.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .stats import load

COLUMNS = ["outcome", "parameter", "method", "index", "value", "conf", "lo", "hi"]


class NoIndices(ValueError):
    """The sweep's design does not allow sensitivity indices."""


def _problem(problem: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(problem))  # SALib adds keys to the dict it is given


def sobol_indices(
    problem: dict[str, Any],
    y: np.ndarray,
    second_order: bool = False,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 2014,
) -> pd.DataFrame:
    """First-order (S1) and total (ST) Sobol' indices of outputs `y` in SALib's Saltelli order."""
    from SALib.analyze import sobol  # noqa: PLC0415 - optional extra

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = sobol.analyze(
            _problem(problem),
            np.asarray(y, float),
            calc_second_order=second_order,
            conf_level=conf_level,
            num_resamples=num_resamples,
            seed=seed,
            print_to_console=False,
        )
    rows = []
    for i, name in enumerate(problem["names"]):
        for index, key in (("S1", "S1"), ("ST", "ST")):
            v, c = float(s[key][i]), float(s[f"{key}_conf"][i])
            rows.append(
                {"parameter": name, "method": "sobol", "index": index, "value": v, "conf": c, "lo": v - c, "hi": v + c}
            )
    return pd.DataFrame(rows)


def morris_indices(
    problem: dict[str, Any],
    x: np.ndarray,
    y: np.ndarray,
    num_levels: int = 4,
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 2014,
) -> pd.DataFrame:
    """Morris mu* (with its bootstrap interval) and sigma of outputs `y` at sample `x`."""
    from SALib.analyze import morris  # noqa: PLC0415 - optional extra

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = morris.analyze(
            _problem(problem),
            np.asarray(x, float),
            np.asarray(y, float),
            num_levels=num_levels,
            conf_level=conf_level,
            num_resamples=num_resamples,
            seed=seed,
            print_to_console=False,
        )
    rows = []
    for i, name in enumerate(problem["names"]):
        mu, c = float(s["mu_star"][i]), float(s["mu_star_conf"][i])
        rows.append(
            {
                "parameter": name,
                "method": "morris",
                "index": "mu_star",
                "value": mu,
                "conf": c,
                "lo": mu - c,
                "hi": mu + c,
            }
        )
        sg = float(s["sigma"][i])
        rows.append(
            {
                "parameter": name,
                "method": "morris",
                "index": "sigma",
                "value": sg,
                "conf": np.nan,
                "lo": np.nan,
                "hi": np.nan,
            }
        )
    return pd.DataFrame(rows)


def indices_from(
    design: dict[str, Any],
    sample: pd.DataFrame,
    table: pd.DataFrame,
    outcomes: list[str],
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 2014,
) -> pd.DataFrame:
    """Indices from a sweep's parts: the manifest's `design` dict, `design.parquet` and an output table.

    `table` needs `point_id` and the outcome columns (one or more rows per point: replicates, or
    areas of a run, are averaged).
    """
    kind = design.get("kind")
    problem = design.get("problem")
    if kind not in ("sobol", "morris") or not problem:
        raise NoIndices(
            f"a {kind or 'unknown'} design has no sensitivity indices (Sobol' and Morris designs do); "
            "use analysis.effects for factorial designs"
        )
    names = list(problem["names"])
    sample = sample.sort_values("point_id")
    n_points = int(design.get("points", len(sample)))
    if len(sample) != n_points or (sample["point_id"].to_numpy() != np.arange(n_points)).any():
        raise NoIndices("design.parquet does not hold every design point in SALib's order")
    x = sample[names].to_numpy(float)
    out, skipped = [], {}
    for y_name in outcomes:
        if y_name not in table.columns:
            skipped[y_name] = "not in the table"
            continue
        vals = pd.to_numeric(table[y_name], errors="coerce").astype(float)
        vals = vals.where(np.isfinite(vals))
        per_point = vals.groupby(table["point_id"]).mean().reindex(range(n_points))
        missing = int(per_point.isna().sum())
        if missing:
            skipped[y_name] = f"{missing} of {n_points} points have no finite value (failed runs or NaN outcomes)"
            continue
        y = per_point.to_numpy(float)
        if np.ptp(y) == 0:
            skipped[y_name] = "constant over the design"
            continue
        if kind == "sobol":
            res = sobol_indices(
                problem,
                y,
                bool(design.get("second_order", False)),
                conf_level=conf_level,
                num_resamples=num_resamples,
                seed=seed,
            )
        else:
            res = morris_indices(
                problem,
                x,
                y,
                int(design.get("num_levels", 4)),
                conf_level=conf_level,
                num_resamples=num_resamples,
                seed=seed,
            )
        res.insert(0, "outcome", y_name)
        out.append(res)
    result = pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=COLUMNS)
    result.attrs["skipped"] = skipped
    result.attrs["method"] = kind
    result.attrs["conf_level"] = conf_level
    return result


def sensitivity(
    path: str | Path,
    outcomes: list[str] | None = None,
    table: str = "national",
    *,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    seed: int = 2014,
) -> pd.DataFrame:
    """Sobol' S1/ST or Morris mu*/sigma, with `conf_level` intervals, of a sweep directory.

    One row per outcome x parameter x index (columns: outcome, parameter, method, index, value,
    conf, lo, hi). `outcomes` defaults to the spec's `[outputs] outcomes`. Raises `NoIndices` if
    the design is not a Sobol' or Morris design.
    """

    data = load(path)
    design = data.manifest.get("design", {})
    if design.get("kind") not in ("sobol", "morris"):
        raise NoIndices(
            f"'{path}' holds a {design.get('kind', 'unknown')} design; sensitivity indices need a "
            "sobol or morris design (docs/experiments.md)"
        )
    outcomes = list(outcomes or data.outcomes)
    return indices_from(
        design, data.design, data.table(table), outcomes, conf_level=conf_level, num_resamples=num_resamples, seed=seed
    )
