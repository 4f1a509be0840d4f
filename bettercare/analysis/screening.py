"""Morris screening before calibration (issue 14, step 1): which free parameters move the
calibration facts at all, so that the posterior is sought over at most `KEEP` of them.

The screened set is every calibration parameter (`calibration.FREE`, with its search bounds; a
tied or derived one is screened as its real parameters) and every parameter whose description
tags it "explore" (over its allowed range). The flow model's own parameters are left out: they are
fitted to the pre-period by `python -m bettercare.model.flow_fit` and reach no planning fact.

The design is an ordinary sweep (`design = "morris"`, SALib's trajectories) with common random
numbers (`paired = true`: every point runs the same seeds), so an elementary effect is the
parameter's, not seed noise. It runs through the sweep engine: progress, resume after a kill,
the local pool or Dask. Each point is scored as `validate` scores a fit: each calibration fact's
error in tolerance units, z = (model mean - reference) / tolerance, and the distance (the mean of
z squared, `validation.distance`). Morris mu* of the distance ranks the parameters; the
top `KEEP` with any effect are kept for the posterior, the rest are fixed and listed.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import tomli_w

from bettercare.experiments.results import load
from bettercare.model.scenario import field_info, parameter_bounds, parameter_table

from .calibration import FREE, TIED
from .indices import indices_from
from .validation import evaluate, load_facts

KEEP = 10  # parameters the posterior is sought over (issue 14: at most 10)
DISTANCE = "distance"
EXPLORE = re.compile(r"\bexplore\b")
# Screened on narrower ranges than allowed, so that every point is valid (low must not exceed high).
RANGES = {"delivery.maturity_initial_low": (0.0, 0.2), "delivery.maturity_initial_high": (0.2, 0.6)}
FLOAT_NOISE = 1e-9  # a mu* below this (in squared tolerance units) is rounding, not an effect


def bounds(name: str) -> tuple[float, float]:
    """A parameter's allowed range (its pydantic ge/le)."""
    lo, hi = parameter_bounds(name)
    if lo is None or hi is None:
        raise ValueError(f"{name} has no bounds to screen over")
    return float(lo), float(hi)


def screened_parameters() -> dict[str, tuple[float, float]]:
    """Every calibration parameter (its search bounds) and every explore parameter (its range)."""
    out: dict[str, tuple[float, float]] = {}
    for name, (lo, hi) in FREE.items():
        if name == "centre.conditions_factor":
            lo_a, hi_a = FREE["centre.approve_ratio"]
            out["centre.conditions_ratio"] = (lo_a * lo, hi_a * hi)  # the ratio the factor spans
        elif name in TIED:
            out.update({real: (lo, hi) for real in TIED[name]})
        else:
            out[name] = (lo, hi)
    for row in parameter_table():
        name = row["name"]
        if name in out or name.startswith("flow.") or not EXPLORE.search(row["description"]):
            continue
        if field_info(name).annotation in (float, int):
            out[name] = RANGES.get(name) or bounds(name)
    return out


def spec_text(
    trajectories: int, replicates: int, seed: int, fixed: dict | None = None, quick_trajectories: int = 2
) -> str:
    """The screening sweep as a spec (`bettercare sweep` reads it); `fixed` holds parameters set
    for every point (a test's few areas)."""
    spec = {
        "experiment": {
            "name": "screening",
            "description": "Morris screening of the calibration and explore parameters on the calibration facts",
            "scenario": "england-2014",
            "replicates": replicates,
            "seed": seed,
            "design": "morris",
            "samples": trajectories,
            "paired": True,
        },
        "fixed": dict(fixed or {}),
        "parameters": {name: {"min": lo, "max": hi} for name, (lo, hi) in screened_parameters().items()},
        "outputs": {"tables": ["national"]},
        "quick": {"samples": quick_trajectories, "replicates": 1},
    }
    return tomli_w.dumps(spec)


def point_scores(nationals: pd.DataFrame) -> pd.DataFrame:
    """One row per design point: each calibration fact's z (error in tolerance units, over the
    point's replicates) and the distance."""
    facts = [f for f in load_facts() if f.calibrate]
    rows = []
    for point, runs in nationals.groupby("point_id", sort=True):
        table = evaluate(runs.reset_index(drop=True), facts)
        z = ((table.model_mean - table.reference) / table.tolerance).to_numpy(float)
        z = np.where(np.isfinite(z), z, 5.0)  # as validation.distance counts a missing value
        rows.append({"point_id": int(point), **dict(zip(table["id"], z)), DISTANCE: float(np.mean(z**2))})
    return pd.DataFrame(rows)


def screen(path: str | Path, seed: int = 0) -> pd.DataFrame:
    """Morris mu* (with its bootstrap interval) and sigma of the distance and of each fact's z, for
    a finished screening sweep. Tidy: outcome, parameter, index, value, conf, lo, hi."""
    data = load(path)
    scores = point_scores(data.table("national"))
    outcomes = [DISTANCE, *[c for c in scores.columns if c not in ("point_id", DISTANCE)]]
    design = data.manifest["design"]
    return indices_from(design, data.design, scores, outcomes, seed=seed)


def ranking(indices: pd.DataFrame, keep: int = KEEP) -> pd.DataFrame:
    """Parameters by mu* of the distance, with its bootstrap interval, sigma, the facts each moves
    most, and `kept`: the top `keep` by mu* among those with any effect beyond float rounding.
    With few trajectories the intervals are wide and overlap: the ranking, not a test, decides."""
    mu = indices[(indices.outcome == DISTANCE) & (indices["index"] == "mu_star")].set_index("parameter")
    sigma = indices[(indices.outcome == DISTANCE) & (indices["index"] == "sigma")].set_index("parameter")["value"]
    facts = indices[(indices.outcome != DISTANCE) & (indices["index"] == "mu_star")]
    facts = facts[facts["value"] > FLOAT_NOISE]
    top = facts.sort_values("value", ascending=False).groupby("parameter")["outcome"].apply(lambda s: ", ".join(s[:3]))
    out = pd.DataFrame(
        {
            "mu_star": mu["value"],
            "mu_star_lo": mu["lo"],
            "mu_star_hi": mu["hi"],
            "sigma": sigma.reindex(mu.index),
            "moves_most": top.reindex(mu.index).fillna(""),
        }
    ).sort_values("mu_star", ascending=False)
    informative = out["mu_star"] > FLOAT_NOISE
    out["kept"] = informative & (informative.cumsum() <= keep)
    return out.rename_axis("parameter").reset_index()
