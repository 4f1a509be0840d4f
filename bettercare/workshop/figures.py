"""The workshop's live charts as ECharts options: drawn in each browser, with hover, offline.

The options are plain data built from a `TableView` (no model access). The browser draws them
with the ECharts that `scripts/fetch_workshop_assets.sh` puts in Solara's local asset cache, so
the server renders no images for the live pages (matplotlib PNGs in `charts.py` remain for the
exported files and the replay). Colours are `charts.PALETTE`: one colour-blind-safe colour per
party.

- the dance: one line per party over the offers; the weeks of the centre's pause collapse into
  one shaded slot with no line across it; ◆ proposes, ● accepts, ○ rejects; dotted bottom lines;
- trust: a graph of arrows for up to 5 parties, a heatmap from 6;
- the pool by scheme line with the mandated floors; trust over time.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bettercare.vocabulary.plan import FLOORS

from .charts import MATRIX_FROM, PALETTE, pause_gap
from .story import LINE_SHORT, gbp, spend_gbp

TEXT = {"fontFamily": "Roboto, sans-serif"}


def _legend(names: list[str]) -> dict[str, Any]:
    return {"type": "scroll", "bottom": 0, "left": "center", "data": names, "textStyle": {"fontSize": 12}}


def dance(parties, offers, deadlines: dict[str, int], only: int | None = None, title: str = "") -> dict[str, Any]:
    """What every offer was worth to each party (0-100), offer by offer."""
    gap = pause_gap(deadlines)
    cats: list[str] = []
    index: list[int] = []  # category of each offer
    pause_at = None
    seen_week: dict[int, int] = {}
    for o in offers:
        if gap and pause_at is None and o.week >= gap[1]:
            pause_at = len(cats)
            cats.append(f"pause (weeks {gap[0]}-{gap[1] - 1})")
        seen_week[o.week] = seen_week.get(o.week, 0) + 1
        n = seen_week[o.week]
        cats.append(f"week {o.week}" + (f" ({n})" if n > 1 else ""))
        index.append(len(cats) - 1)
    show = range(len(parties)) if only is None else [only]
    series = []
    for j in show:
        data: list[Any] = [None] * len(cats)
        for k, o in zip(index, offers):
            r = o.responses[j]
            symbol = {"proposed": "diamond", "accept": "circle", "reject": "emptyCircle"}.get(r, "circle")
            data[k] = {
                "value": round(float(o.utility[j]) * 100, 1),
                "symbol": symbol,
                "symbolSize": 13 if r == "proposed" else 9,
            }
        s = {
            "name": parties[j].name,
            "type": "line",
            "data": data,
            "connectNulls": False,
            "lineStyle": {"width": 2.5},
            "color": PALETTE[j % len(PALETTE)],
            "emphasis": {"focus": "series"},
        }
        if offers:
            s["markLine"] = {
                "silent": True,
                "symbol": "none",
                "label": {"show": False},
                "lineStyle": {"type": "dotted", "color": PALETTE[j % len(PALETTE)]},
                "data": [{"yAxis": round(float(offers[-1].reservation[j]) * 100, 1)}],
            }
        series.append(s)
    marks = [{"xAxis": cats[k], "label": {"formatter": "agreed"}} for k, o in zip(index, offers) if o.agreed]
    areas = (
        [[{"xAxis": cats[pause_at], "itemStyle": {"color": "rgba(150,150,150,0.25)"}}, {"xAxis": cats[pause_at]}]]
        if pause_at is not None
        else []
    )
    if series:
        series[0]["markArea"] = {"silent": True, "data": areas, "label": {"show": False}}
        if marks:
            series[0].setdefault("markLine", {"symbol": "none", "data": []})
            series[0]["markLine"]["data"] = series[0]["markLine"]["data"] + [
                {**m, "lineStyle": {"color": "#333", "type": "solid"}} for m in marks
            ]
            series[0]["markLine"]["label"] = {"show": True, "position": "end", "formatter": "{b}"}
    return {
        "animation": False,
        "textStyle": TEXT,
        "title": {
            "text": title or "The negotiation dance: what each offer is worth to each party",
            "subtext": "◆ proposes   ● accepts   ○ rejects   ┈ bottom line"
            + ("   (shaded: the pause, no talks)" if pause_at is not None else ""),
            "textStyle": {"fontSize": 14},
            "left": 0,
        },
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": _legend([parties[j].name for j in show]),
        "grid": {"left": 46, "right": 34, "top": 62, "bottom": 40 + 18 * min(len(list(show)) // 4, 2)},
        "xAxis": {"type": "category", "data": cats or ["no offers yet"], "boundaryGap": False},
        "yAxis": {
            "type": "value",
            "min": 0,
            "max": 110,
            "name": "worth (0-100)",
            "nameLocation": "middle",
            "nameGap": 32,
        },
        "series": series,
    }


def trust(parties, matrix: np.ndarray, outsiders: list[str], title: str = "") -> dict[str, Any]:
    """Who trusts whom: arrows for a few parties, a heatmap (row trusts column) for many."""
    n = len(parties)
    mean = float((matrix.sum() - np.trace(matrix)) / max(n * n - n, 1))
    head = {"text": title or f"Trust at the table (mean {mean:.2f})", "textStyle": {"fontSize": 14}, "left": 0}
    if outsiders:
        head["subtext"] = "Not at the table: " + ", ".join(outsiders)
    if n >= MATRIX_FROM:
        names = [f"{i + 1}. {p.name}" for i, p in enumerate(parties)]
        data = [[j, i, round(float(matrix[i, j]), 2)] for i in range(n) for j in range(n) if i != j]
        return {
            "animation": False,
            "textStyle": TEXT,
            "title": head,
            "tooltip": {"confine": True},
            "grid": {"left": 8, "right": 20, "top": 60, "bottom": 60, "containLabel": True},
            "xAxis": {
                "type": "category",
                "data": [str(i + 1) for i in range(n)],
                "name": "trusted",
                "nameLocation": "middle",
                "nameGap": 24,
            },
            "yAxis": {"type": "category", "data": names, "inverse": True, "axisLabel": {"fontSize": 11}},
            "visualMap": {
                "min": 0,
                "max": 1,
                "calculable": False,
                "orient": "horizontal",
                "left": "center",
                "bottom": 0,
                "itemHeight": 120,
                "inRange": {"color": ["#b2182b", "#f7f7f7", "#2166ac"]},
            },
            "series": [{"type": "heatmap", "data": data, "label": {"show": True, "fontSize": 10}}],
        }
    ang = np.pi / 2 + 2 * np.pi * np.arange(n) / max(n, 1)
    nodes = [
        {
            "name": p.name,
            "x": float(np.cos(a) * 100),
            "y": float(-np.sin(a) * 100),
            "symbolSize": 46,
            "itemStyle": {"color": PALETTE[i % len(PALETTE)]},
            "label": {"show": True, "position": "bottom"},
        }
        for i, (p, a) in enumerate(zip(parties, ang))
    ]
    links = [
        {
            "source": parties[i].name,
            "target": parties[j].name,
            "value": round(float(matrix[i, j]), 2),
            "lineStyle": {
                "width": 1 + 6 * float(matrix[i, j]),
                "curveness": 0.2,
                "color": "#2166ac" if matrix[i, j] >= 0.5 else "#b2182b",
            },
            "label": {"show": True, "formatter": f"{matrix[i, j]:.2f}", "fontSize": 11},
        }
        for i in range(n)
        for j in range(n)
        if i != j
    ]
    return {
        "animation": False,
        "textStyle": TEXT,
        "title": head,
        "tooltip": {"confine": True},
        "series": [
            {
                "type": "graph",
                "layout": "none",
                "data": nodes,
                "links": links,
                "roam": False,
                "edgeSymbol": ["none", "arrow"],
                "edgeSymbolSize": 10,
                "top": 60,
                "bottom": 60,
                "left": 70,
                "right": 70,
            }
        ],
    }


def pool(plan, minimum_gbp: float, kind: str = "offer") -> dict[str, Any]:
    """The pool by scheme line (£m) against the mandated floors."""
    floors = [round(float(f) * minimum_gbp / 1e6, 2) for f in FLOORS]
    spend = (
        [0.0] * len(LINE_SHORT) if plan is None else [round(float(v) / 1e6, 2) for v in spend_gbp(plan, minimum_gbp)]
    )
    total = sum(spend) * 1e6
    word = {"agreed": "Agreed pool", "imposed": "Imposed pool", "offer": "Pool on the table"}.get(kind, "Pool")
    title = (
        f"{word}: {gbp(total)} (minimum {gbp(minimum_gbp)})"
        if plan is not None
        else f"Nothing on the table yet (minimum pool {gbp(minimum_gbp)})"
    )
    colour = {"agreed": "#009E73", "imposed": "#777777", "offer": "#0072B2"}.get(kind, "#0072B2")
    return {
        "animation": False,
        "textStyle": TEXT,
        "title": {"text": title, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": _legend(["£ million", "mandated floor"]),
        "grid": {"left": 160, "right": 50, "top": 40, "bottom": 40},
        "xAxis": {"type": "value", "name": "£m"},
        "yAxis": {"type": "category", "data": LINE_SHORT, "inverse": True},
        "series": [
            {
                "name": "£ million",
                "type": "bar",
                "data": spend,
                "color": colour,
                "label": {"show": True, "position": "right", "formatter": "£{c}m"},
            },
            {
                "name": "mandated floor",
                "type": "scatter",
                "data": floors,
                "symbol": "rect",
                "symbolSize": [4, 22],
                "color": "#000000",
            },
        ],
    }


def trust_over_time(
    series: list[tuple[str, list[tuple[int, float]]]], title: str = "Trust at the table over time"
) -> dict[str, Any]:
    colours = ["#0072B2", "#D55E00", "#009E73", "#CC79A7"]
    return {
        "animation": False,
        "textStyle": TEXT,
        "title": {"text": title, "textStyle": {"fontSize": 14}},
        "tooltip": {"trigger": "axis", "confine": True},
        "legend": _legend([s[0] for s in series]),
        "grid": {"left": 46, "right": 16, "top": 40, "bottom": 48},
        "xAxis": {"type": "value", "name": "step", "nameLocation": "middle", "nameGap": 24, "minInterval": 1},
        "yAxis": {"type": "value", "min": 0, "max": 1, "name": "mean trust"},
        "series": [
            {
                "name": label,
                "type": "line",
                "showSymbol": False,
                "color": c,
                "data": [[int(t), round(float(v), 3)] for t, v in pts],
            }
            for (label, pts), c in zip(series, colours)
        ],
    }
