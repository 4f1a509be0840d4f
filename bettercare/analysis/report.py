"""`bettercare report DIR`: one self-contained HTML file from a sweep directory.

Contents: the experiment (spec and manifest), the main effects with 95% intervals, the figures
(response curves, heatmaps, sensitivity bars, a trust network and a negotiation dance from one
replayed run, an overview of the areas), the sensitivity indices, outcome quality and the errors.
Figures are embedded as base64 PNG, styles are inline, and nothing is fetched from a network.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
from markupsafe import Markup

from bettercare.model.outputs import SWEEP_ID_COLUMNS, Kind, fmt
from bettercare.model.quality import QUALITY_COLUMNS

from . import plots
from .indices import sensitivity
from .stats import Results, load, main_effects
from .trace import replay

QUALITY = list(QUALITY_COLUMNS)
HEATMAP_OUTCOMES = [
    ("agreement_rate", "agreement rate (plans agreed / areas)"),
    ("plan_realism_mean", "plan realism (claimed / stress-tested savings)"),
    ("realised_emergency_admissions_change", "emergency admissions, change over delivery"),
]
MAX_CURVE_OUTCOMES = 8

CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.8em 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.shown td{background:#eef5ee}pre{background:#f6f6f6;padding:.7em;overflow-x:auto;font-size:.8em}
figure{margin:1.2em 0;page-break-inside:avoid}figure img{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85em;color:#444}.note{color:#555;font-size:.9em}.bad{color:#a00}
nav a{margin-right:1em}details{margin:.5em 0}
"""


@dataclass
class Figure:
    id: str
    title: str
    caption: str
    png: bytes


@dataclass
class Report:
    data: Results
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    national: pd.DataFrame = field(default_factory=pd.DataFrame)
    effects: pd.DataFrame = field(default_factory=pd.DataFrame)  # main effects, national outcomes
    quality: pd.DataFrame = field(default_factory=pd.DataFrame)  # main effects, areas outcomes
    sensitivity: pd.DataFrame | None = None
    trace: Any = None  # AreaTrace of the replayed run


def _table(df: pd.DataFrame, numeric: set[str] | None = None, row_class: pd.Series | None = None) -> dict[str, Any]:
    """A DataFrame as the template's `table` macro takes it: column names, and rows of
    (text, numeric?) cells with an optional CSS class. Numbers are formatted here, escaped there."""
    numeric = numeric or {c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])}
    rows = []
    for i, (_, row) in enumerate(df.iterrows()):
        cells = []
        for c in df.columns:
            v = row[c]
            cells.append((fmt(v) if c in numeric or not isinstance(v, str) else v, c in numeric))
        cls = row_class.iloc[i] if row_class is not None and row_class.iloc[i] else ""
        rows.append({"cls": cls, "cells": cells})
    return {"columns": [str(c) for c in df.columns], "rows": rows}


def _add(rep: Report, fig, fid: str, title: str, caption: str, figures_dir: Path | None) -> None:
    import matplotlib.pyplot as plt  # noqa: PLC0415 - optional extra

    rep.figures.append(Figure(fid, title, caption, plots.png_bytes(fig)))
    if figures_dir is not None:
        plots.save(fig, figures_dir / fid)
    plt.close(fig)


def _factorial_levels(df: pd.DataFrame, params: list[str]) -> list[str]:
    return [p for p in params if p in df.columns and 1 < df[p].nunique(dropna=True) <= 12]


def _response_panel(df: pd.DataFrame, factors: list[str], outcome: str, interval: str):
    plt = plots._plt()
    n = len(factors)
    fig, axes = plt.subplots(1, n, figsize=(3.4 * n, 3.0), squeeze=False, sharey=True)
    for ax, f in zip(axes[0], factors):
        plots.response_curve(df, f, outcome, ax=ax, interval=interval, note=False)
        if ax is not axes[0][0]:
            ax.set_ylabel("")
    fig.suptitle(plots.label(outcome), fontsize=10)
    fig.tight_layout()
    return fig


def _heatmap_pair(params: list[str]) -> tuple[str, str] | None:
    if "trust.initial" in params and "deadline.weeks" in params:
        return "trust.initial", "deadline.weeks"
    if len(params) >= 2:
        return params[0], params[1]
    return None


def build(
    path: str | Path,
    *,
    area: str | None = "auto",
    run_id: int | None = None,
    interval: str = "t",
    figures_dir: str | Path | None = None,
    replay_run: bool = True,
) -> Report:
    """Compute everything the report shows (effects, indices, figures)."""
    data = load(path)
    rep = Report(data=data)
    fdir = Path(figures_dir) if figures_dir else None
    params = data.param_columns
    nat = data.national.copy() if "national" in data.tables else pd.DataFrame()
    if not nat.empty and {"plans_agreed", "areas"} <= set(nat.columns):
        nat["agreement_rate"] = nat["plans_agreed"] / nat["areas"]
    areas = data.areas if "areas" in data.tables else pd.DataFrame()
    rep.national = nat
    kind = data.design_kind
    factors = _factorial_levels(nat, params) if kind in ("factorial", "file") else []
    outcomes = [o for o in data.outcomes if o in nat.columns]

    # The replayed run first: a mistaken --area or --run fails before the slow part.
    if replay_run and not nat.empty:
        try:
            rep.trace = replay(data.path, run_id=run_id, area=area)
        except ValueError:
            if area not in (None, "auto") or run_id is not None:
                raise  # the user asked for an area or run that is not there
            rep.notes.append("The run could not be replayed for the network and dance figures.")
        except Exception as exc:  # noqa: BLE001
            rep.notes.append(f"The run could not be replayed for the network and dance figures: {exc}")

    # Main effects (national outcomes) and outcome quality (areas, averaged within runs).
    if factors and not nat.empty:
        rep.effects = main_effects(nat, factors, outcomes, interval=interval)
        area_factors = factors + [c for c in ("coterminous", "acute_at_table") if c in areas.columns]
        q = [c for c in QUALITY + ["first_agreed_week", "plan_realism"] if c in areas.columns]
        if not areas.empty and q:
            rep.quality = main_effects(areas, area_factors, q, interval=interval)

    # Figures.
    if factors and not nat.empty:
        for y in outcomes[:MAX_CURVE_OUTCOMES]:
            fig = _response_panel(nat, factors, y, interval)
            _add(
                rep,
                fig,
                f"response-{y}",
                f"Response of {plots.label(y)}",
                f"Mean of {y} at each level of each factor, averaging over the other factors; bars and bands are "
                f"95% {'t' if interval == 't' else 'bootstrap'} intervals over replicates.",
                fdir,
            )
        pair = _heatmap_pair(factors)
        if pair:
            x, ycol = pair
            for y, title in HEATMAP_OUTCOMES:
                if y in nat.columns:
                    fig = plots.heatmap(nat, x, ycol, y, title=title)
                    _add(
                        rep,
                        fig,
                        f"heatmap-{y}",
                        f"{plots.label(x)} against {plots.label(ycol)}: {title}",
                        f"Mean of {y} over runs (and over the other factors) in each cell.",
                        fdir,
                    )
            if not areas.empty and "pareto_distance" in areas.columns:
                fig = plots.heatmap(areas, x, ycol, "pareto_distance", title="distance from the Pareto frontier")
                _add(
                    rep,
                    fig,
                    "heatmap-pareto_distance",
                    f"{plots.label(x)} against {plots.label(ycol)}: outcome quality",
                    "Mean over areas and runs of each area's distance from the Pareto frontier (docs/outputs.md).",
                    fdir,
                )
    if kind in ("sobol", "morris"):
        try:
            sens = sensitivity(data.path)
            rep.sensitivity = sens
            for y in dict.fromkeys(sens.outcome):
                fig = plots.sensitivity_bars(sens, y)
                _add(
                    rep,
                    fig,
                    f"sensitivity-{y}",
                    f"{'Sobol' if kind == 'sobol' else 'Morris'} indices: {plots.label(y)}",
                    "Bars: index; whiskers: 95% bootstrap interval (SALib).",
                    fdir,
                )
            for y, why in sens.attrs.get("skipped", {}).items():
                rep.notes.append(f"Sensitivity of {y} not computed: {why}.")
        except Exception as exc:  # noqa: BLE001 - the report says why, and goes on
            rep.notes.append(f"Sensitivity indices could not be computed: {exc}")
    if not areas.empty:
        fig = plots.area_overview(areas)
        _add(
            rep,
            fig,
            "areas-overview",
            "The areas, sorted by outcome",
            "Each area's mean over all runs of the sweep (all design points), sorted; whiskers: 25-75% of runs; "
            "filled squares: coterminous areas.",
            fdir,
        )
    _replay_figures(rep, fdir)
    return rep


def _replay_figures(rep: Report, fdir: Path | None) -> None:
    tr = rep.trace
    if tr is None:
        return
    design = ", ".join(f"{k} = {v}" for k, v in tr.overrides.items() if k != "run_id")
    which = f"run {tr.overrides.get('run_id')} ({design}; seed {tr.seed})"
    _add(
        rep,
        plots.trust_network(tr),
        "trust-network",
        f"Trust network of {tr.area_name}",
        f"Replayed {which}. Directed trust between the area's organisations at set-up and after delivery.",
        fdir,
    )
    _add(
        rep,
        plots.negotiation_dance(tr),
        "negotiation-dance",
        f"Negotiation dance at {tr.area_name}",
        f"Replayed {which}. Each party's utility of every offer made at the table.",
        fdir,
    )


def _effects_table(eff: pd.DataFrame) -> dict[str, Any] | None:
    if eff.empty:
        return None
    t = pd.DataFrame(
        {
            "factor": eff.factor,
            "outcome": eff.outcome,
            "contrast": [f"{fmt(lv)} vs {fmt(rf)}" for lv, rf in zip(eff.level, eff.reference)],
            "effect": eff.estimate,
            "95% low": eff.lo,
            "95% high": eff.hi,
            "runs": eff.n,
            "interval": eff.interval,
            "shown": ["yes" if s is True else ("no" if s is False else "-") for s in eff.shown],
        }
    )
    cls = pd.Series(["shown" if s is True else "" for s in eff.shown])
    return _table(t, numeric={"effect", "95% low", "95% high", "runs"}, row_class=cls)


SECTIONS = [
    ("experiment", "experiment"),
    ("effects", "main effects"),
    ("figures", "figures"),
    ("sensitivity", "sensitivity"),
    ("quality", "outcome quality"),
    ("errors", "errors"),
]


@cache
def _template():
    """The page template (package data, bettercare/analysis/templates), escaping every value."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape  # noqa: PLC0415

    env = Environment(
        loader=PackageLoader("bettercare.analysis", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template("report.html.j2")


def context(rep: Report) -> dict[str, Any]:
    """Everything the template shows, as plain values (tables as `_table` dicts)."""
    d = rep.data
    m = d.manifest
    counts = m.get("counts", {})
    facts = [
        ("directory", str(d.path)),
        ("status", m.get("status")),
        ("design", d.design_kind),
        ("parameters varied", ", ".join(d.param_columns)),
        ("points", m.get("points")),
        ("replicates", m.get("replicates")),
        ("runs", m.get("runs")),
        (
            "runs done / ok / failed",
            f"{counts.get('done', '-')} / {counts.get('ok', '-')} / {counts.get('failed', '-')}",
        ),
        ("scenario", m.get("scenario")),
        ("quick", m.get("quick")),
        ("master seed", fmt(m.get("master_seed"), Kind.ID)),
        ("seed scheme", m.get("seed_scheme")),
        ("git revision", (f"{m.get('git_revision')}{' (uncommitted changes)' if m.get('git_dirty') else ''}")),
        ("bettercare", m.get("versions", {}).get("bettercare")),
        ("started", m.get("started_utc")),
        ("ended", m.get("ended_utc")),
        ("command", " ".join(m.get("command", []) or [])),
        ("report made", time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())),
    ]
    shown = {k: v for k, v in m.items() if k not in ("spec_text", "seeds")}
    seeds = m.get("seeds") or []
    shown["seeds"] = f"{len(seeds)} seeds: {seeds[:5]}..." if len(seeds) > 5 else seeds

    sens = rep.sensitivity
    sensitivity = None
    if sens is not None and not sens.empty:
        t = sens[["outcome", "parameter", "index", "value", "lo", "hi"]].rename(
            columns={"lo": "95% low", "hi": "95% high"}
        )
        sensitivity = _table(t, numeric={"value", "95% low", "95% high"})

    areas = d.areas if "areas" in d.tables else pd.DataFrame()
    quality_summary = None
    if not areas.empty and all(c in areas.columns for c in QUALITY):
        summary = areas.groupby("verdict")[QUALITY].mean().reset_index()
        summary.insert(1, "area-runs", areas.groupby("verdict").size().to_numpy())
        quality_summary = _table(summary)
    q = rep.quality
    quality_effects = _effects_table(q) if q is not None else None

    err = d.errors
    errors = None
    if not err.empty:
        cols = [c for c in [*SWEEP_ID_COLUMNS, "error_type", "message", *d.param_columns] if c in err.columns]
        errors = {
            "count": len(err),
            "table": _table(err[cols].head(200)),
            "tracebacks": [(r.run_id, str(getattr(r, "traceback", ""))) for r in err.head(20).itertuples(index=False)],
        }
    return {
        "name": d.name,
        "description": str(m.get("description", "")),
        "css": Markup(CSS),  # our own style sheet: not escaped
        "sections": SECTIONS,
        "facts": _table(pd.DataFrame(facts, columns=["", "value"]), numeric=set()),
        "spec_text": str(m.get("spec_text") or json.dumps(m.get("spec", {}), indent=2)),
        "manifest_json": json.dumps(shown, indent=2, default=str),
        "effects": _effects_table(rep.effects),
        "figures": [
            {"id": f.id, "title": f.title, "caption": f.caption, "b64": base64.b64encode(f.png).decode("ascii")}
            for f in rep.figures
        ],
        "design_kind": d.design_kind or "unknown",
        "sensitivity": sensitivity,
        "notes": rep.notes,
        "quality_summary": quality_summary,
        "quality_effects": quality_effects,
        "no_areas": areas.empty,
        "errors": errors,
    }


def render(rep: Report) -> str:
    """The report as one self-contained HTML page, from the Jinja2 template."""
    return _template().render(**context(rep))


def write_report(path: str | Path, out: str | Path | None = None, **kw) -> Path:
    """Build and write the report; returns the HTML file's path (default DIR/report.html)."""
    rep = build(path, **kw)
    out = Path(out) if out is not None else Path(path) / "report.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render(rep), encoding="utf-8")
    tmp.replace(out)
    return out
