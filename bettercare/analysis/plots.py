"""Figures for papers: response curves, heatmaps, sensitivity bars, trust networks, the
negotiation dance and an overview of the 150 areas.

Every function returns a matplotlib Figure; `save(fig, stem)` writes `stem.png` and `stem.svg`.
Figures read in greyscale: series differ by marker and line style (and bars by hatching) as
well as by colour, heatmaps use a colour map whose lightness rises monotonically (cividis) and
print their values in the cells.
"""

from __future__ import annotations

import io
from itertools import cycle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np
import pandas as pd

from bettercare.model import outputs as registry

from .stats import effects

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .trace import AreaTrace

MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*", "h", "<", ">"]
LINESTYLES = ["-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1))]
HATCHES = ["", "///", "...", "xx", "\\\\", "++"]
COLOURS = ["#1b4f72", "#b9770e", "#1e8449", "#922b21", "#6c3483", "#515a5a", "#117a65", "#a04000"]
KIND_MARKER = {"council": "s", "ccg": "o", "acute": "^"}
KIND_LABEL = {"council": "council", "ccg": "CCG", "acute": "acute trust"}


def _plt():
    import matplotlib  # noqa: PLC0415 - optional extra

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        try:
            matplotlib.use("Agg")
        except Exception:  # noqa: BLE001 - an interactive session keeps its backend
            pass
    import matplotlib.pyplot as plt  # noqa: PLC0415 - optional extra

    plt.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "font.size": 9,
            "axes.titlesize": 10,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.fonttype": "none",
        }
    )
    return plt


def label(name: str) -> str:
    """A readable axis label from a column name."""
    return str(name).replace("_gbp", " (GBP)").replace("_pct", " (%)").replace("_", " ")


def save(fig: Figure, stem: str | Path, formats: tuple[str, ...] = ("png", "svg")) -> list[Path]:
    """Write the figure as `stem.png` and `stem.svg` (or the formats given)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        fig.savefig(path, bbox_inches="tight")
        out.append(path)
    return out


def png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _styles():
    return zip(cycle(COLOURS), cycle(MARKERS), cycle(LINESTYLES), cycle(HATCHES))


# --- response curves and heatmaps ------------------------------------------------------------


def response_curve(
    df: pd.DataFrame,
    factor: str,
    outcome: str,
    by: str | None = None,
    *,
    interval: str = "t",
    ax=None,
    title: str | None = None,
    note: bool = True,
) -> Figure:
    """The outcome's mean at each level of `factor` with its 95% interval as a band (and bars).

    With `by`, one line per level of that factor (other factors averaged over).
    """

    plt = _plt()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.6, 3.3))
    groups = [(None, df)] if by is None else [(lev, df[df[by] == lev]) for lev in _sorted_levels(df[by])]
    numeric = pd.api.types.is_numeric_dtype(df[factor]) and not pd.api.types.is_bool_dtype(df[factor])
    for (lev, sub), (colour, marker, ls, hatch) in zip(groups, _styles()):
        e = effects(sub, factor, outcome, interval=interval)
        m = e[e.kind == "mean"]
        if m.empty:
            continue
        xs = m[factor].to_numpy() if numeric else np.arange(len(m))
        y, lo, hi = m.estimate.to_numpy(float), m.lo.to_numpy(float), m.hi.to_numpy(float)
        name = None if by is None else f"{label(by)} = {lev}"
        ax.fill_between(xs, lo, hi, color=colour, alpha=0.15, hatch=hatch or None, edgecolor=colour, linewidth=0)
        ax.errorbar(
            xs,
            y,
            yerr=[y - lo, hi - y],
            color=colour,
            marker=marker,
            linestyle=ls,
            capsize=3,
            markersize=5,
            label=name,
            markerfacecolor="white" if hatch else colour,
        )
        if not numeric:
            ax.set_xticks(xs, [str(v) for v in m[factor]])
    ax.set_xlabel(label(factor))
    ax.set_ylabel(label(outcome))
    if title:
        ax.set_title(title)
    if by is not None:
        ax.legend(frameon=False, fontsize=8)
    unit = "95% t interval" if interval == "t" else "95% bootstrap interval"
    if note:
        ax.annotate(f"mean over runs; band: {unit}", xy=(0, -0.22), xycoords="axes fraction", fontsize=7, color="0.35")
    fig.tight_layout()
    return fig


def _sorted_levels(values: pd.Series) -> list[Any]:
    uniq = list(pd.unique(values.dropna()))
    try:
        return sorted(uniq)
    except TypeError:
        return uniq


def heatmap(
    df: pd.DataFrame, x: str, y: str, outcome: str, *, ax=None, title: str | None = None, fmt: str | None = None
) -> Figure:
    """Mean of `outcome` (averaged within runs, then over runs) for each pair of levels of `x` and `y`.

    Cells show the mean by the outcome's kind in the output registry, or by the format spec `fmt`."""
    plt = _plt()
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(4.4, 3.5))
    d = df[[x, y, outcome] + [c for c in ("run_id",) if c in df.columns]].copy()
    d[outcome] = pd.to_numeric(d[outcome], errors="coerce").astype(float)
    d[outcome] = d[outcome].where(np.isfinite(d[outcome]))
    if "run_id" in d.columns:
        d = d.groupby(["run_id", x, y], as_index=False)[outcome].mean()
    grid = d.pivot_table(index=y, columns=x, values=outcome, aggfunc="mean")
    grid = grid.reindex(index=_sorted_levels(d[y]), columns=_sorted_levels(d[x]))
    vals = grid.to_numpy(float)
    kind = registry.kind_of(outcome)
    im = ax.imshow(vals, origin="lower", cmap="cividis", aspect="auto")
    ax.set_xticks(range(grid.shape[1]), [_tick(v) for v in grid.columns])
    ax.set_yticks(range(grid.shape[0]), [_tick(v) for v in grid.index])
    ax.set_xlabel(label(x))
    ax.set_ylabel(label(y))
    finite = vals[np.isfinite(vals)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            v = vals[i, j]
            text = "-" if not np.isfinite(v) else (format(v, fmt) if fmt else registry.fmt(v, kind))
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=8,
                color="black" if np.isfinite(v) and v > mid else "white",
            )
    cb = fig.colorbar(im, ax=ax, shrink=0.85)
    cb.set_label(label(outcome))
    ax.set_title(title or label(outcome))
    ax.spines[:].set_visible(False)
    fig.tight_layout()
    return fig


def _tick(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


# --- sensitivity -----------------------------------------------------------------------------


def sensitivity_bars(sens: pd.DataFrame, outcome: str, *, ax=None) -> Figure:
    """Sobol' S1 and ST (or Morris mu* and sigma) per parameter, with their 95% intervals."""
    plt = _plt()
    s = sens[sens.outcome == outcome]
    if s.empty:
        raise ValueError(f"no indices for {outcome!r}")
    method = s.method.iloc[0]
    kinds = ["S1", "ST"] if method == "sobol" else ["mu_star", "sigma"]
    names = list(dict.fromkeys(s.parameter))
    if method == "sobol":
        order = s[s["index"] == "ST"].set_index("parameter")["value"].reindex(names).fillna(0).sort_values().index
    else:
        order = s[s["index"] == "mu_star"].set_index("parameter")["value"].reindex(names).fillna(0).sort_values().index
    names = list(order)
    fig, ax = (ax.figure, ax) if ax is not None else plt.subplots(figsize=(5.2, 0.32 * len(names) + 1.2))
    h = 0.38
    ypos = np.arange(len(names))
    for k, (kind, colour, hatch) in enumerate(zip(kinds, ["#4d4d4d", "#c7c7c7"], ["", "///"])):
        v = s[s["index"] == kind].set_index("parameter").reindex(names)
        err = v["conf"].to_numpy(float)
        err = np.where(np.isfinite(err), err, 0.0)
        ax.barh(
            ypos + (k - 0.5) * h,
            v["value"].to_numpy(float),
            height=h,
            xerr=err,
            color=colour,
            hatch=hatch,
            edgecolor="black",
            linewidth=0.6,
            capsize=2,
            label={"S1": "first order S1", "ST": "total ST", "mu_star": "mu*", "sigma": "sigma"}[kind],
        )
    ax.set_yticks(ypos, names)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("Sobol' index" if method == "sobol" else "elementary effect")
    ax.set_title(f"{'Sobol' if method == 'sobol' else 'Morris'}: {label(outcome)}")
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig


# --- one area of one run ------------------------------------------------------------------------


def trust_network(trace: AreaTrace) -> Figure:
    """The area's organisations and the trust between them at the start and at the end of the run.

    Node shape = kind (square council, circle CCG, triangle acute trust); a dashed outline marks an
    organisation not at the table. Edge width and darkness = trust; the numbers are trust values.
    """

    plt = _plt()
    g0, g1 = trace.graph("start"), trace.graph("end")
    pos = nx.circular_layout(sorted(g0.nodes)) if len(g0) > 2 else {n: (i, 0) for i, n in enumerate(g0.nodes)}
    fig, axes = plt.subplots(1, 2, figsize=(9.2, 4.4))
    names = dict(zip(trace.members.org_code, trace.members.org_name))
    show_numbers = len(g0) <= 6
    for ax, g, when in zip(axes, (g0, g1), ("start", "end")):
        ax.set_axis_off()
        for a, b, d in g.edges(data=True):
            t = d["trust"]
            grey = str(round(0.85 - 0.85 * t, 3))
            nx.draw_networkx_edges(
                g,
                pos,
                edgelist=[(a, b)],
                ax=ax,
                width=0.5 + 4 * t,
                edge_color=grey,
                arrows=True,
                arrowstyle="-|>",
                arrowsize=10,
                connectionstyle="arc3,rad=0.12",
                node_size=700,
            )
        if show_numbers:
            labels = {(a, b): f"{d['trust']:.2f}" for a, b, d in g.edges(data=True)}
            nx.draw_networkx_edge_labels(
                g,
                pos,
                edge_labels=labels,
                ax=ax,
                font_size=7,
                label_pos=0.3,
                connectionstyle="arc3,rad=0.12",
                bbox={"fc": "white", "ec": "none", "pad": 0.5},
            )
        for kind, marker in KIND_MARKER.items():
            for at_table in (True, False):
                nodes = [n for n, d in g.nodes(data=True) if d["kind"] == kind and d["at_table"] == at_table]
                if not nodes:
                    continue
                col = nx.draw_networkx_nodes(
                    g,
                    pos,
                    nodelist=nodes,
                    ax=ax,
                    node_shape=marker,
                    node_size=700,
                    node_color="white",
                    edgecolors="black",
                    linewidths=1.6 if at_table else 1.2,
                )
                if not at_table:
                    col.set_linestyle("--")
        nx.draw_networkx_labels(g, pos, labels={n: _short_name(names.get(n, n)) for n in g.nodes}, ax=ax, font_size=7)
        mean = np.mean([d["trust"] for _, _, d in g.edges(data=True)]) if g.number_of_edges() else np.nan
        ax.set_title(f"{when} of the run: mean trust {mean:.2f}")
        ax.margins(0.18)
    handles = [
        plt.Line2D(
            [],
            [],
            marker=m,
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=9,
            label=KIND_LABEL[k],
        )
        for k, m in KIND_MARKER.items()
    ]
    handles.append(
        plt.Line2D(
            [],
            [],
            marker="o",
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="black",
            markersize=9,
            label="dashed: not at the table",
            markeredgewidth=1,
        )
    )
    fig.legend(handles=handles, loc="lower center", ncol=4, frameon=False, fontsize=8)
    fig.suptitle(f"Trust network of {trace.area_name} ({trace.area_code}), seed {trace.seed}", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 0.95))
    return fig


def _short_name(name: str, width: int = 14) -> str:
    name = name.replace("NHS ", "").replace(" CCG", "\nCCG").replace(" Council", "\nCouncil")
    words, lines, line = name.replace("\n", " \n ").split(" "), [], ""
    for w in words:
        if w == "\n" or len(line) + len(w) + 1 > width:
            if line:
                lines.append(line)
            line = "" if w == "\n" else w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "\n".join(lines[:3])


def negotiation_dance(trace: AreaTrace) -> Figure:
    """Each party's utility of every offer made at the table, round by round.

    Filled markers: the party proposed that offer; the dotted line of the same style is the
    party's walk-away value (reservation); vertical lines separate the phases of the talks;
    a star marks an offer every party accepted.
    """
    plt = _plt()
    o = trace.offers
    fig, ax = plt.subplots(figsize=(7.2, 3.9))
    if o.empty:
        ax.text(0.5, 0.5, "no offers were made at this table", ha="center", transform=ax.transAxes)
        return fig
    kinds = o.drop_duplicates("org_code").set_index("org_code")["kind"]
    names = dict(zip(trace.members.org_code, trace.members.org_name))
    for (code, kind), (colour, marker, ls, _) in zip(kinds.items(), _styles()):
        p = o[o.org_code == code].sort_values("round")
        ax.plot(
            p["round"],
            p["utility"],
            color=colour,
            linestyle=ls,
            linewidth=1.2,
            label=f"{_short_name(names.get(code, code), 40).replace(chr(10), ' ')} ({KIND_LABEL.get(kind, kind)})",
        )
        own = p["response"] == "proposed"
        ax.plot(
            p["round"][~own],
            p["utility"][~own],
            linestyle="none",
            marker=marker,
            markersize=4.5,
            markerfacecolor="white",
            markeredgecolor=colour,
        )
        ax.plot(p["round"][own], p["utility"][own], linestyle="none", marker=marker, markersize=6, color=colour)
        ax.plot(p["round"], p["reservation"], color=colour, linestyle=":", linewidth=0.9, alpha=0.8)
    per_offer = o.groupby("round").agg(
        phase=("phase", "first"), accepted=("response", lambda r: bool((r != "reject").all()))
    )
    prev, k = None, 0
    for rnd, row in per_offer.iterrows():
        if row.phase != prev:
            if prev is not None:
                ax.axvline(rnd - 0.5, color="0.4", linewidth=0.8, linestyle="--")
            ax.text(rnd - 0.4, 1.015 + 0.05 * (k % 2), row.phase, fontsize=7, color="0.3", va="bottom")
            k += 1
        prev = row.phase
    agreed = per_offer.index[per_offer.accepted]
    if len(agreed):
        top = o[o["round"].isin(agreed)].groupby("round")["utility"].max()
        ax.plot(
            top.index,
            np.minimum(top.to_numpy() + 0.06, 1.08),
            linestyle="none",
            marker="*",
            markersize=11,
            color="black",
            label="agreed by all",
        )
    ax.set_ylim(-0.03, 1.14)
    ax.set_xlabel("round (offer number at this table)")
    ax.set_ylabel("utility of the offer (normalised 0-1)")
    ax.set_title(f"Negotiation dance: {trace.area_name}, seed {trace.seed}")
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.annotate(
        "filled marker: the party's own proposal; dotted: its walk-away value",
        xy=(0, -0.2),
        xycoords="axes fraction",
        fontsize=7,
        color="0.35",
    )
    fig.tight_layout()
    return fig


# --- the 150 areas -----------------------------------------------------------------------------

AREA_OUTCOMES = ["first_agreed_week", "plan_realism", "pareto_distance", "fairness", "trust_end", "maturity_end"]


def area_overview(areas: pd.DataFrame, outcomes: list[str] | None = None, ncols: int = 3) -> Figure:
    """Small multiples: for each outcome, every area's mean over the runs, sorted, with the
    interquartile range of runs as whiskers; filled squares are coterminous areas."""
    plt = _plt()
    outcomes = [c for c in (outcomes or AREA_OUTCOMES) if c in areas.columns]
    n = len(outcomes)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.3 * ncols, 2.5 * nrows), squeeze=False)
    for ax, col in zip(axes.flat, outcomes):
        v = pd.to_numeric(areas[col], errors="coerce").astype(float)
        d = areas.assign(_v=v.where(np.isfinite(v)))
        g = d.groupby("area_code").agg(
            mean=("_v", "mean"),
            lo=("_v", lambda s: s.quantile(0.25)),
            hi=("_v", lambda s: s.quantile(0.75)),
            cot=("coterminous", "first") if "coterminous" in d else ("_v", "size"),
        )
        g = g.dropna(subset=["mean"]).sort_values("mean")
        x = np.arange(len(g))
        ax.vlines(x, g["lo"], g["hi"], color="0.75", linewidth=0.7)
        cot = g["cot"].astype(bool).to_numpy() if "coterminous" in d else np.zeros(len(g), bool)
        ax.plot(
            x[~cot],
            g["mean"][~cot],
            "o",
            markersize=2.6,
            markerfacecolor="white",
            markeredgecolor="0.1",
            markeredgewidth=0.6,
            label="other areas",
        )
        ax.plot(x[cot], g["mean"][cot], "s", markersize=3, color="black", label="coterminous")
        ax.set_title(label(col))
        ax.set_xlabel(f"areas, sorted ({len(g)})")
        ax.set_xticks([])
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    if n:
        axes.flat[0].legend(frameon=False, fontsize=7)
    fig.suptitle("Areas, sorted by each outcome: mean over runs, whiskers 25-75% of runs", fontsize=10)
    fig.tight_layout()
    return fig
