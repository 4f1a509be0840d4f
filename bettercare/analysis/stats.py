"""A sweep's tables as DataFrames, and main effects and interactions with 95% intervals.

    data = load("runs/tcd")                 # data.national, data.areas, ...: pandas DataFrames
    effects(data.national, "trust.initial", "plans_agreed")
    effects(data.national, ["trust.initial", "deadline.weeks"], "plan_realism_mean", interval="bootstrap")
    effects(data.areas, "coterminous", "first_agreed_week")      # a factor that varies within runs

How the intervals are made (the `interval` column says which):

* The unit of replication is the **run**. A table with several rows per run (areas, offers) is
  first averaged within each run and factor level, so that areas of one run are never counted
  as independent.
* A **design point** is a `point_id` (or, without one, a combination of the dotted parameter
  columns). The mean at a factor level is the average over the design points at that level of
  the point's mean over replicates: the other factors are held as designed (a balanced
  factorial gives the plain marginal mean).
* Every estimate (a level's mean, an effect = level minus the reference level, an interaction =
  difference of differences between the reference and each other level of two factors) is a
  linear contrast of point means. Its **t interval** uses the variance between replicates within
  each point (`sum_p s_p^2 / R_p`) with Welch-Satterthwaite degrees of freedom: it measures
  replicate noise, with the design taken as fixed. Its **bootstrap** interval resamples the
  replicates within each design point (2,000 times by default) and takes the 2.5 and 97.5
  percentiles. A factor that varies within runs (the `coterminous` column of the areas table)
  is compared within runs: the replicates keep their pairing.
* Non-finite outcomes (NaN: nothing to measure; inf) are left out, and `n` counts the runs used.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import t as student

from bettercare.experiments.results import Sweep
from bettercare.experiments.store import read_manifest
from bettercare.model.outputs import TABLES

INTERVALS = ("t", "bootstrap")


class Results(Sweep):
    """A sweep directory read for analysis: tables as DataFrames, parameters as columns.

    Tables are read on first use (`data.national`, `data.areas`, `data.table("offers")`). Every
    row carries `run_id`, `point_id`, `replicate`, `seed` and one column per varied parameter;
    the parameters fixed for the whole sweep are in `fixed` (and `params` for all of them).
    """

    @property
    def design_kind(self) -> str:
        return str(self.manifest.get("design", {}).get("kind", ""))

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.manifest.get("params", {}))

    @property
    def fixed(self) -> dict[str, Any]:
        return dict(self.manifest.get("spec", {}).get("fixed", {}) or {})

    @property
    def name(self) -> str:
        return str(self.manifest.get("experiment") or self.manifest.get("spec", {}).get("name") or self.path.name)

    @cached_property
    def errors(self) -> pd.DataFrame:
        return super().errors

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """One output table, sorted by run_id (committed runs only), cached when read whole."""
        if columns is None:
            cache = self.__dict__.setdefault("_tables", {})
            if name not in cache:
                cache[name] = _with_attrs(super().table(name), self.param_columns)
            return cache[name]
        return _with_attrs(super().table(name, columns), self.param_columns)

    def __getattr__(self, name: str) -> pd.DataFrame:
        if name in TABLES:
            return self.table(name)
        raise AttributeError(name)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.table(name)


def _with_attrs(df: pd.DataFrame, params: list[str]) -> pd.DataFrame:
    df.attrs["param_columns"] = list(params)
    return df


def load(path: str | Path) -> Results:
    """Open a sweep directory (docs/experiments.md) for analysis."""

    path = Path(path)
    manifest = read_manifest(path)
    return Results(path=path, manifest=manifest)


# --- effects -----------------------------------------------------------------------------------


def _param_columns(df: pd.DataFrame) -> list[str]:
    given = df.attrs.get("param_columns")
    if given:
        return [c for c in given if c in df.columns]
    return [c for c in df.columns if "." in str(c)]


def _levels(values: pd.Series) -> list[Any]:
    """Levels in a natural order: ascending for numbers and booleans, else first appearance."""
    uniq = list(pd.unique(values.dropna()))
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
        return sorted(uniq)
    return uniq


def _units(df: pd.DataFrame, factors: list[str], outcome: str) -> tuple[pd.DataFrame, str]:
    """One row per (point, replicate, factor levels): the outcome averaged within runs."""
    missing = [c for c in [*factors, outcome] if c not in df.columns]
    if missing:
        raise KeyError(f"no column {missing[0]!r} in the table")
    d = df.copy()
    y = pd.to_numeric(d[outcome], errors="coerce").astype(float)
    d["_y"] = y.where(np.isfinite(y))
    if "point_id" in d.columns:
        d["_point"] = d["point_id"]
    else:
        params = _param_columns(d) or factors
        d["_point"] = d.groupby(params, dropna=False, sort=False).ngroup()
    if "replicate" in d.columns:
        d["_rep"] = d["replicate"]
    elif "run_id" in d.columns:
        d["_rep"] = d["run_id"]
    else:
        d["_rep"] = d.groupby("_point").cumcount()
    if "run_id" in d.columns:
        d["_run"] = d["run_id"]
    else:
        d["_run"] = d.groupby(["_point", "_rep"]).ngroup()
    g = d.groupby(["_point", "_rep", *factors], dropna=False, sort=False)["_y"].mean().reset_index()
    return g.dropna(subset=["_y"]), "_y"


@dataclass
class _Cells:
    cells: list[tuple]  # factor-level combinations
    points: list[Any]
    values: list[np.ndarray]  # per point: replicates x cells (NaN where absent)


def _cells(units: pd.DataFrame, factors: list[str], levels: list[list[Any]]) -> _Cells:

    cells = [c for c in itertools.product(*levels)]
    index = {c: i for i, c in enumerate(cells)}
    key = units[factors].apply(tuple, axis=1) if len(factors) > 1 else units[factors[0]].map(lambda v: (v,))
    units = units.assign(_cell=key.map(index))
    units = units.dropna(subset=["_cell"])
    pts, vals = [], []
    for p, grp in units.groupby("_point", sort=True):
        reps = {r: i for i, r in enumerate(sorted(grp["_rep"].unique()))}
        m = np.full((len(reps), len(cells)), np.nan)
        m[grp["_rep"].map(reps).to_numpy(), grp["_cell"].astype(int).to_numpy()] = grp["_y"].to_numpy()
        pts.append(p)
        vals.append(m)
    return _Cells(cells, pts, vals)


def _contrast(c: _Cells, a: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Per point, the replicate values z_r = sum_c w_pc y_rc of the contrast `a` over cells.

    A cell's mean is the average over the points that have it, so w_pc = a_c / (points with c).
    Returns the per-point z arrays (replicates with a needed cell missing are dropped) and the
    number of runs used.
    """
    has = np.array([np.isfinite(v).any(axis=0) for v in c.values]) if c.values else np.zeros((0, len(c.cells)), bool)
    count = has.sum(axis=0)
    if ((a != 0) & (count == 0)).any():
        return [], 0
    w_cell = np.divide(a, count, out=np.zeros_like(a, dtype=float), where=count > 0)
    zs, n = [], 0
    for v, h in zip(c.values, has):
        w = np.where(h, w_cell, 0.0)
        need = w != 0
        if not need.any():
            continue
        rows = v[:, need]
        ok = np.isfinite(rows).all(axis=1)
        if not ok.any():
            return [], 0
        zs.append(rows[ok] @ w[need])
        n += int(ok.sum())
    return zs, n


def _t_interval(zs: list[np.ndarray], level: float) -> tuple[float, float, float, float]:

    est = float(sum(z.mean() for z in zs))
    if any(len(z) < 2 for z in zs):
        return est, math.nan, math.nan, math.nan
    v = np.array([z.var(ddof=1) / len(z) for z in zs])
    var = float(v.sum())
    if var <= 0:
        return est, est, est, math.inf
    dof = var**2 / float(np.sum(v**2 / np.array([len(z) - 1 for z in zs])))
    half = float(student.ppf(0.5 + level / 2, dof)) * math.sqrt(var)
    return est, est - half, est + half, dof


def _boot_interval(
    zs: list[np.ndarray], level: float, n_boot: int, rng: np.random.Generator
) -> tuple[float, float, float]:
    est = float(sum(z.mean() for z in zs))
    total = np.zeros(n_boot)
    for z in zs:
        idx = rng.integers(0, len(z), size=(n_boot, len(z)))
        total += z[idx].mean(axis=1)
    lo, hi = np.quantile(total, [0.5 - level / 2, 0.5 + level / 2])
    return est, float(lo), float(hi)


def effects(
    df: pd.DataFrame,
    factor: str | list[str],
    outcome: str,
    *,
    interval: str = "t",
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    reference: Any | list[Any] | None = None,
) -> pd.DataFrame:
    """Level means, main effects and interactions of `factor` (one name, or several) on `outcome`.

    Returns one row per estimate, with columns:

    * `kind`: `mean` (a level, or a cell of several factors), `effect` (a level of one factor
      minus its reference level, averaging over the other factors given), or `interaction` (for
      two factors: (b_j - b_ref) at a_i minus the same at a_ref, for each non-reference i, j);
    * one column per factor: the level (for `effect`, the level compared with the reference);
    * `reference`: the reference level(s), for effects and interactions;
    * `estimate`, `lo`, `hi`: the estimate and its `level` interval; `n`: runs used;
      `dof`: degrees of freedom of a t interval; `interval`: `t` or `bootstrap`.

    The reference is the lowest level of a number or boolean, else the first level met in the
    table (a factorial sweep's first level in its spec), unless `reference` says otherwise.
    `result.attrs["interval"]` says in a sentence how the interval was made.
    """
    if interval not in INTERVALS:
        raise ValueError(f"interval must be one of {INTERVALS}, not {interval!r}")
    factors = [factor] if isinstance(factor, str) else list(factor)
    if not factors:
        raise ValueError("give at least one factor")
    units, _ = _units(df, factors, outcome)
    levels = [_levels(units[f]) for f in factors]
    refs = reference if isinstance(reference, list) else [reference] * len(factors)
    if len(factors) == 1 and reference is not None and not isinstance(reference, list):
        refs = [reference]
    for i, r in enumerate(refs):
        if r is not None:
            if r not in levels[i]:
                raise ValueError(f"reference {r!r} is not a level of {factors[i]!r}")
            levels[i] = [r] + [v for v in levels[i] if v != r]
    c = _cells(units, factors, levels)
    rng = np.random.default_rng(seed)
    rows: list[dict[str, Any]] = []
    ncell = len(c.cells)

    def add(kind: str, a: np.ndarray, labels: dict[str, Any], ref: Any = None) -> None:
        zs, n = _contrast(c, a)
        row = {
            "kind": kind,
            **labels,
            "reference": ref,
            "estimate": math.nan,
            "lo": math.nan,
            "hi": math.nan,
            "n": n,
            "dof": math.nan,
            "interval": interval,
        }
        if zs:
            if interval == "t":
                est, lo, hi, dof = _t_interval(zs, level)
                row.update(estimate=est, lo=lo, hi=hi, dof=dof)
            else:
                est, lo, hi = _boot_interval(zs, level, n_boot, rng)
                row.update(estimate=est, lo=lo, hi=hi)
        rows.append(row)

    def cell_mask(fi: int, lev: Any) -> np.ndarray:
        return np.array([cell[fi] == lev for cell in c.cells], float)

    # Means of every cell (every level, for one factor).
    for i, cell in enumerate(c.cells):
        a = np.zeros(ncell)
        a[i] = 1.0
        add("mean", a, dict(zip(factors, cell)))
    # Main effects: a factor's level minus its reference, averaged over the other factors' cells.
    for fi, f in enumerate(factors):
        others = int(np.prod([len(lv) for j, lv in enumerate(levels) if j != fi])) if len(factors) > 1 else 1
        ref = levels[fi][0]
        for lev in levels[fi][1:]:
            a = (cell_mask(fi, lev) - cell_mask(fi, ref)) / others
            labels = {g: (lev if g == f else None) for g in factors}
            add("effect", a, labels, ref=ref)
    # Two-factor interactions.
    if len(factors) == 2:
        r0, r1 = levels[0][0], levels[1][0]
        for li in levels[0][1:]:
            for lj in levels[1][1:]:
                a = np.zeros(ncell)
                for (x, y), s in [((li, lj), 1), ((li, r1), -1), ((r0, lj), -1), ((r0, r1), 1)]:
                    a[c.cells.index((x, y))] += s
                add("interaction", a, {factors[0]: li, factors[1]: lj}, ref=(r0, r1))
    out = pd.DataFrame(rows)
    pct = round(100 * level)
    out.attrs["interval"] = (
        f"{pct}% t interval: replicate variance within design points (sum of s^2/R), Welch-Satterthwaite df"
        if interval == "t"
        else f"{pct}% percentile bootstrap: replicates resampled within design points, {n_boot} resamples (seed {seed})"
    )
    out.attrs["outcome"] = outcome
    out.attrs["factors"] = factors
    return out


def main_effects(
    df: pd.DataFrame, factors: list[str], outcomes: list[str], *, interval: str = "t", level: float = 0.95
) -> pd.DataFrame:
    """For each factor and outcome, the effect of its last level against its reference (the
    lowest), averaged over the other factors: the report's main-effects table.

    Columns: factor, outcome, reference, level, estimate, lo, hi, n, interval, `shown`
    (True when the interval excludes zero, NaN when it could not be made).
    """
    rows = []
    for f in factors:
        if f not in df.columns or df[f].nunique(dropna=True) < 2:
            continue
        for y in outcomes:
            if y not in df.columns:
                continue
            e = effects(df, f, y, interval=interval, level=level)
            eff = e[e.kind == "effect"]
            if eff.empty:
                continue
            last = eff.iloc[-1]
            lo, hi = last["lo"], last["hi"]
            shown = bool(lo > 0 or hi < 0) if np.isfinite(lo) and np.isfinite(hi) else None
            rows.append(
                {
                    "factor": f,
                    "outcome": y,
                    "reference": last["reference"],
                    "level": last[f],
                    "estimate": last["estimate"],
                    "lo": lo,
                    "hi": hi,
                    "n": last["n"],
                    "interval": last["interval"],
                    "shown": shown,
                }
            )
    return pd.DataFrame(
        rows, columns=["factor", "outcome", "reference", "level", "estimate", "lo", "hi", "n", "interval", "shown"]
    )


def parse_list_column(values: pd.Series) -> pd.Series:
    """Parameters that are lists (`areas.names`) are stored as JSON text; this parses them back."""
    return values.map(lambda s: json.loads(s) if isinstance(s, str) and s[:1] == "[" else s)
