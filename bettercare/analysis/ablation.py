"""The ablation table of the `mechanisms` experiment: each switch off, and the null models, against
the baseline on common seeds.

    from bettercare.analysis.ablation import ablation, to_markdown
    table = ablation("runs/mechanisms")        # tidy: one row per variant x variable
    print(to_markdown(table))                   # for docs/findings.md

For every variant (a switch of the ablated group off, the fixed-plan null `mechanisms.negotiation`
off, and the trend-only null) and every variable, the table gives the paired difference from the
baseline: variant minus baseline run by run on the same seed, then the mean over seeds and its 95%
t interval (mean +- t(0.975, n - 1) x sd / sqrt(n)). Variables are the run's intermediate states
(trust at delivery, weeks to agreement, acute defensiveness, top-ups, plans returned, money
withheld) and its outcomes (effects against the no-BCF counterfactual, savings, observable change
against 2014-15). A variable a variant leaves undefined (weeks to agreement when nobody talks)
has no difference: n is 0 and the interval empty.

The trend-only null is not run: it is the no-BCF path that every run carries as its
counterfactual, and it is the same for every seed. Its effects and savings are zero by
construction, and its observable change is a run's observable change minus its effect
(`bettercare.experiments.nulls.trend_only` computes it from the flow model directly; a test holds
the two equal).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bettercare.experiments.designs import BASELINE
from bettercare.experiments.results import load
from bettercare.model.outputs import fmt

from .summary import t975

TREND_ONLY = "null: trend only"
FIXED_PLAN = "mechanisms.negotiation"  # the switch whose off position is the fixed-plan null


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    kind: str  # a Kind of bettercare/model/outputs.py, for formatting
    role: str  # "intermediate" | "outcome"


VARIABLES = (
    Variable("trust_at_delivery", "trust at delivery", "index", "intermediate"),
    Variable("weeks_to_agreement_mean", "weeks to agreement", "weeks", "intermediate"),
    Variable("acute_defensiveness_mean", "mean acute defensiveness", "index", "intermediate"),
    Variable("topups_gbp", "top-ups (council + CCG)", "gbp", "intermediate"),
    Variable("areas_topping_up", "areas topping up", "count", "intermediate"),
    Variable("plans_returned", "plans returned by the centre", "count", "intermediate"),
    Variable("performance_money_withheld_gbp", "performance money withheld", "gbp", "intermediate"),
    Variable("emergency_admissions_effect", "emergency admissions effect", "change", "outcome"),
    Variable("dtoc_days_effect", "delayed days effect", "change", "outcome"),
    Variable("care_home_admissions_2a2_effect_pct", "care-home admissions 2A(2) effect", "percent", "outcome"),
    Variable("realised_savings_gbp", "savings", "gbp", "outcome"),
    Variable("realised_emergency_admissions_change", "observable admissions change vs 2014-15", "change", "outcome"),
    Variable("realised_dtoc_days_change", "observable delayed days change vs 2014-15", "change", "outcome"),
)
BY_NAME = {v.name: v for v in VARIABLES}
# The trend-only null's values: effects against its own path are zero; the observable changes are
# a run's observable change less its effect (its counterfactual's change); nothing else exists.
TREND_ZERO = (
    "emergency_admissions_effect",
    "dtoc_days_effect",
    "care_home_admissions_2a2_effect_pct",
    "realised_savings_gbp",
)
TREND_FROM = {
    "realised_emergency_admissions_change": "emergency_admissions_effect",
    "realised_dtoc_days_change": "dtoc_days_effect",
}
ID_COLUMNS = ["run_id", "point_id", "replicate", "seed"]


def run_metrics(
    national: pd.DataFrame, areas: pd.DataFrame | None = None, timeseries: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per run: its ids and every variable its tables hold (a variable whose inputs are
    missing is left out). `national` carries `run_id`, `point_id`, `replicate` and `seed`."""
    out = national[[c for c in ID_COLUMNS if c in national.columns]].copy()
    for name in (v.name for v in VARIABLES):
        if name in national.columns:
            out[name] = national[name].to_numpy(float)
    if {"topup_council_gbp", "topup_ccg_gbp"} <= set(national.columns):
        out["topups_gbp"] = (national["topup_council_gbp"] + national["topup_ccg_gbp"]).to_numpy(float)
    if areas is not None and len(areas):
        g = areas.groupby("run_id")
        if "acute_defensiveness" in areas.columns:
            out["acute_defensiveness_mean"] = out.run_id.map(g["acute_defensiveness"].mean())
        if {"reviews", "verdict"} <= set(areas.columns):
            # Every review but a last one that signed the plan off sent the plan back.
            signed = (areas["reviews"] > 0) & (areas["verdict"] != "imposed")
            returned = (areas["reviews"] - signed.astype(int)).groupby(areas["run_id"]).sum()
            out["plans_returned"] = out.run_id.map(returned).astype(float)
    if timeseries is not None and len(timeseries) and "trust_mean" in timeseries.columns:
        # The first delivery month's trust is the trust delivery started with: the quarterly
        # review is the first thing in delivery to change it.
        first = timeseries[timeseries["month"] == 0]
        out["trust_at_delivery"] = out.run_id.map(first.groupby("run_id")["trust_mean"].mean())
    return out.reset_index(drop=True)


def trend_only_metrics(baseline: pd.DataFrame) -> pd.DataFrame:
    """The trend-only null's rows, one per baseline run (same ids): zero effects and savings, the
    counterfactual's observable change, and nothing for the variables that need plans."""
    out = baseline[[c for c in ID_COLUMNS if c in baseline.columns]].copy()
    for v in VARIABLES:
        if v.name not in baseline.columns:
            continue
        if v.name in TREND_ZERO:
            out[v.name] = 0.0
        elif v.name in TREND_FROM and TREND_FROM[v.name] in baseline.columns:
            out[v.name] = baseline[v.name] - baseline[TREND_FROM[v.name]]
        else:
            out[v.name] = np.nan
    return out


def paired_interval(diffs: np.ndarray) -> tuple[int, float, float, float, float]:
    """(n, mean, sd, low, high) of the finite paired differences: a 95% t interval of the mean."""
    d = np.asarray(diffs, float)
    d = d[np.isfinite(d)]
    n = len(d)
    if n == 0:
        return 0, math.nan, math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n < 2:
        return n, mean, math.nan, math.nan, math.nan
    sd = float(d.std(ddof=1))
    half = t975(n - 1) * sd / math.sqrt(n)
    return n, mean, sd, mean - half, mean + half


def ablation_table(
    metrics: pd.DataFrame, variants: dict[int, str], trend_only: bool = True, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Tidy ablation table from per-run metrics (`run_metrics`) and each point's variant label.

    Runs pair on `seed`: the experiment is paired, so every variant ran the baseline's seeds.
    One row per variant x variable, variants in design order (then the trend-only null), with the
    baseline's and the variant's means, the paired difference's mean, sd and 95% interval, and n.
    The seeds used and `params` (the experiment's parameters) are kept in `attrs`.
    """
    label = metrics["point_id"].map(variants)
    if label.isna().any():
        raise ValueError(f"no variant for design points {sorted(metrics.point_id[label.isna()].unique())}")
    order = "run_id" if "run_id" in metrics.columns else "seed"
    metrics = metrics.assign(_label=label).sort_values(order, kind="stable")
    label = metrics.pop("_label")
    base = metrics[label == BASELINE].set_index("seed")
    if base.empty:
        raise ValueError("no baseline runs: the ablation table needs the baseline variant")
    names = [v for v in dict.fromkeys(variants.values()) if v != BASELINE]
    frames = {v: metrics[label == v].set_index("seed") for v in names}
    if trend_only:
        names.append(TREND_ONLY)
        frames[TREND_ONLY] = trend_only_metrics(base.reset_index()).set_index("seed")
    rows = []
    for name in names:
        other = frames[name]
        seeds = base.index.intersection(other.index)
        for v in VARIABLES:
            if v.name not in base.columns or v.name not in other.columns:
                continue
            b = base.loc[seeds, v.name].to_numpy(float)
            x = other.loc[seeds, v.name].to_numpy(float)
            n, mean, sd, lo, hi = paired_interval(x - b)
            rows.append(
                {
                    "variant": _variant_label(name),
                    "switch": "" if name == TREND_ONLY else name,
                    "variable": v.name,
                    "label": v.label,
                    "role": v.role,
                    "kind": v.kind,
                    "baseline_mean": float(np.nanmean(b)) if np.isfinite(b).any() else math.nan,
                    "variant_mean": float(np.nanmean(x)) if np.isfinite(x).any() else math.nan,
                    "diff_mean": mean,
                    "diff_sd": sd,
                    "diff_low": lo,
                    "diff_high": hi,
                    "n": n,
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["seeds"] = [int(s) for s in base.index]
    table.attrs["params"] = dict(params or {})
    return table


def _variant_label(name: str) -> str:
    if name == FIXED_PLAN:
        return f"null: fixed plan ({FIXED_PLAN} off)"
    if name == TREND_ONLY:
        return TREND_ONLY
    return f"{name} off"


def ablation(path: str | Path) -> pd.DataFrame:
    """The ablation table of a `mechanisms` sweep directory (any design = "ablation" sweep)."""
    sweep = load(path)
    info = sweep.manifest.get("design", {})
    if info.get("kind") != "ablation":
        raise ValueError(f"'{path}' holds a {info.get('kind')!r} sweep, not an ablation")
    variants = dict(enumerate(info["variants"]))
    national = sweep.table("national")
    areas = sweep.table("areas") if "areas" in sweep.tables else None
    timeseries = sweep.table("timeseries") if "timeseries" in sweep.tables else None
    params = {
        "experiment": sweep.manifest.get("experiment"),
        "scenario": sweep.manifest.get("spec", {}).get("scenario"),
        "master_seed": sweep.manifest.get("master_seed"),
        "seed_scheme": sweep.manifest.get("seed_scheme"),
        "replicates": sweep.manifest.get("replicates"),
        "quick": sweep.manifest.get("quick"),
        "git_revision": sweep.manifest.get("git_revision"),
        "params": sweep.manifest.get("params", {}),
    }
    return ablation_table(run_metrics(national, areas, timeseries), variants, params=params)


def _cell(row: pd.Series) -> str:
    if row["n"] == 0:
        return "-"
    mean = fmt(row["diff_mean"], row["kind"])
    if not math.isfinite(row["diff_low"]):
        return mean
    return f"{mean} [{fmt(row['diff_low'], row['kind'])}, {fmt(row['diff_high'], row['kind'])}]"


def to_markdown(table: pd.DataFrame) -> str:
    """The ablation table as Markdown for docs/findings.md: one row per variable, one column per
    variant, each cell the mean paired difference from baseline and its 95% interval; then the
    baseline's own means, and the seeds."""
    variants = list(dict.fromkeys(table["variant"]))
    variables = list(dict.fromkeys(table["variable"]))
    head = ["variable", "baseline mean", *variants]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for var in variables:
        rows = table[table["variable"] == var]
        first = rows.iloc[0]
        base = fmt(first["baseline_mean"], first["kind"])
        cells = [_cell(rows[rows["variant"] == v].iloc[0]) if (rows["variant"] == v).any() else "-" for v in variants]
        role = "" if first["role"] == "outcome" else " (intermediate)"
        lines.append(f"| {first['label']}{role} | {base} | " + " | ".join(cells) + " |")
    seeds = table.attrs.get("seeds", [])
    params = table.attrs.get("params", {})
    n = int(table["n"].max()) if len(table) else 0
    note = (
        f"\nCells: variant minus baseline on the same seed, mean over {n} seeds [95% t interval]; "
        "`-`: undefined for the variant. "
    )
    if params:
        note += (
            f"Scenario {params.get('scenario')}, master seed {params.get('master_seed')} "
            f"({params.get('seed_scheme')}), git {params.get('git_revision')}. "
        )
    note += f"Seeds: {', '.join(str(s) for s in seeds)}."
    return "\n".join(lines) + "\n" + note + "\n"
