"""The workshop's charts as PNG bytes: the negotiation dance, the trust network, the pool, trust over time.

Drawn with matplotlib's object API (no pyplot, no global state) under one lock, and cached by
the room's version, so that every browser showing the same moment shares one rendering.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from collections.abc import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch
from matplotlib.ticker import MaxNLocator

from bettercare.vocabulary.plan import FLOORS

from .history import OfferRow, Party
from .story import LINE_SHORT, gbp, spend_gbp

# One colour per party, distinct for colour-blind readers: Okabe & Ito's eight, then Paul Tol's
# "muted" set, so that Kent's eleven parties still get eleven colours. Markers differ too.
PALETTE = [
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#000000",
    "#F0E442",
    "#882255",
    "#44AA99",
    "#999933",
    "#AA4499",
    "#332288",
    "#DDCC77",
    "#117733",
    "#88CCEE",
]
MARKERS = ["o", "s", "^", "v", "P", "X", "h", "<", ">", "p", "*", "d", "8", "H", "o", "s"]
MATRIX_FROM = 6  # parties: from here the trust network is drawn as a matrix
DPI = 80
_lock = threading.Lock()
_cache: OrderedDict[tuple, bytes] = OrderedDict()
_CACHE_SIZE = 64


def colours(parties: list[Party]) -> list[str]:
    return [PALETTE[i % len(PALETTE)] for i in range(len(parties))]


def cached(key: tuple, draw: Callable[[], Figure]) -> bytes:
    """PNG bytes of `draw()`, drawn once per key."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        png = to_png(draw())
        _cache[key] = png
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
        return png


def to_png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight", pad_inches=0.08)  # legends never cut
    return buf.getvalue()


def _short(name: str, n: int = 28) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


def pause_gap(deadlines: dict[str, int]) -> tuple[int, int] | None:
    """(first, last) week of the centre's pause, when the clock has one."""
    if "plan deadline" in deadlines and "revised guidance" in deadlines:
        lo, hi = int(deadlines["plan deadline"]), int(deadlines["revised guidance"])
        if hi - lo > 1:
            return lo, hi
    return None


def dance(
    parties: list[Party],
    offers: list[OfferRow],
    deadlines: dict[str, int],
    title: str = "",
    only: int | None = None,
    width: float = 7.5,
    height: float = 3.6,
) -> Figure:
    """Each party's utility (0-100) of every offer, week by week: the negotiation dance.

    The weeks of the centre's pause, when nobody talks, are squeezed into one shaded band, so the
    lines do not run straight across them.
    """
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    cols = colours(parties)
    show = range(len(parties)) if only is None else [only]
    gap = pause_gap(deadlines)
    squeeze = (gap[1] - gap[0] - 1) if gap else 0

    def x_of(w):
        w = np.asarray(w, float)
        return np.where(w >= (gap[1] if gap else np.inf), w - squeeze, w)

    weeks = np.array([o.week for o in offers], float)
    xs = x_of(weeks)
    after = weeks >= (gap[1] if gap else np.inf)
    for j in show:
        u = np.array([o.utility[j] * 100 for o in offers], float)
        if len(u):
            for part in (~after, after):  # no line across the pause
                if part.any():
                    ax.plot(xs[part], u[part], "-", color=cols[j], lw=1.8, alpha=0.85)
            ax.plot([], [], "-", color=cols[j], marker=MARKERS[j % len(MARKERS)], lw=1.8, label=parties[j].name)
            r = np.array([o.responses[j] for o in offers])
            m = MARKERS[j % len(MARKERS)]
            for what, style in (
                ("proposed", dict(marker="D", s=46, color=cols[j], edgecolors="black", linewidths=0.8)),
                ("accept", dict(marker=m, s=30, color=cols[j])),
                ("reject", dict(marker=m, s=30, facecolors="white", edgecolors=cols[j], linewidths=1.4)),
            ):
                sel = r == what
                if sel.any():
                    ax.scatter(xs[sel], u[sel], zorder=3, **style)
            res = offers[-1].reservation[j] * 100
            ax.axhline(res, color=cols[j], lw=0.9, ls=":", alpha=0.9)
    for o, x in zip(offers, xs):
        if o.agreed:
            ax.axvline(x, color="#333333", lw=1.0, alpha=0.5)
            ax.text(x, 102, "agreed", ha="center", va="bottom", fontsize=7, color="#333333")
    xmax = max([*xs.tolist(), 1.0])
    if gap and weeks.size and weeks.max() >= gap[0]:
        x0 = gap[0] + 0.2
        ax.axvspan(x0, x0 + 0.6, color="#bbbbbb", alpha=0.5, lw=0)
        ax.text(
            x0 + 0.3,
            50,
            f"the pause: weeks {gap[0]}-{gap[1] - 1}, no talks",
            rotation=90,
            ha="center",
            va="center",
            fontsize=7,
            color="#444444",
        )
    for label, w in deadlines.items():
        xw = float(x_of(w))
        if label != "revised guidance" and xw <= xmax + 4:
            ax.axvline(xw, color="#999999", lw=1, ls="--")
            ax.text(xw, -4, label, rotation=90, ha="right", va="bottom", fontsize=7, color="#777777")
    ax.set_ylim(-5, 110)
    ax.set_xlim(-0.5, xmax + 0.5)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if squeeze:
        ticks = [t for t in ax.get_xticks() if 0 <= t <= xmax + 0.5]
        ax.set_xticks(ticks, [f"{int(t + squeeze) if gap and t >= gap[0] + 1 else int(t)}" for t in ticks])
    ax.set_xlabel("week")
    ax.set_ylabel("worth to each party (0-100)")
    ax.set_title(title or "The negotiation dance: what each offer is worth to each party", fontsize=10)
    if not offers:
        ax.text(0.5, 0.5, "No offers yet: press Step", ha="center", va="center", transform=ax.transAxes, color="#777")
    else:
        ncol = 1 if len(show) <= 4 else 2
        ax.legend(
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            fontsize=7.5,
            frameon=False,
            ncol=ncol,
            title="◆ proposes   ● accepts   ○ rejects\n┈ bottom line",
            title_fontsize=7.5,
        )
    ax.grid(alpha=0.25)
    return fig


def trust_matrix(
    parties: list[Party],
    trust: np.ndarray,
    outsiders: list[str] | None = None,
    title: str = "",
    width: float = 5.4,
    height: float = 4.6,
) -> Figure:
    """Trust between many parties as a matrix: row trusts column, 0 (red) to 1 (blue)."""
    import matplotlib  # noqa: PLC0415 - optional extra

    n = len(parties)
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    shown = np.array(trust, float).copy()
    np.fill_diagonal(shown, np.nan)
    im = ax.imshow(shown, cmap=matplotlib.colormaps["RdYlBu"], vmin=0, vmax=1)
    labels = [f"{i + 1}. {_short(p.name, 26)}" for i, p in enumerate(parties)]
    ax.set_yticks(range(n), labels, fontsize=7)
    ax.set_xticks(range(n), [str(i + 1) for i in range(n)], fontsize=7)
    ax.set_xlabel("trusted party (number)", fontsize=8)
    for i in range(n):
        for j in range(n):
            if i != j:
                ax.text(
                    j,
                    i,
                    f"{trust[i, j]:.1f}",
                    ha="center",
                    va="center",
                    fontsize=6,
                    color="black" if 0.25 < trust[i, j] < 0.75 else "white",
                )
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, label="trust")
    mean = (trust.sum() - np.trace(trust)) / max(n * n - n, 1)
    ax.set_title(title or f"Trust at the table (mean {mean:.2f}): row trusts column", fontsize=9)
    if outsiders:
        ax.text(
            0.5,
            -0.16,
            "Not at the table: " + ", ".join(_short(o, 22) for o in outsiders),
            ha="center",
            transform=ax.transAxes,
            fontsize=7,
            color="#777777",
            style="italic",
        )
    return fig


def trust_network(
    parties: list[Party],
    trust: np.ndarray,
    outsiders: list[str] | None = None,
    title: str = "",
    width: float = 4.6,
    height: float = 3.9,
) -> Figure:
    """Who trusts whom at the table: arrows from truster to trusted, coloured and sized by trust
    (a matrix from `MATRIX_FROM` parties on, where arrows would be a blob)."""
    import matplotlib  # noqa: PLC0415 - optional extra

    if len(parties) >= MATRIX_FROM:
        return trust_matrix(parties, trust, outsiders, title)

    cmap = matplotlib.colormaps["RdYlBu"]
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.92)
    ax = fig.add_subplot()
    n = len(parties)
    ang = np.pi / 2 + 2 * np.pi * np.arange(n) / max(n, 1)
    pos = np.c_[np.cos(ang), np.sin(ang)] * (0.0 if n == 1 else 1.0)
    cols = colours(parties)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            v = float(trust[i, j])
            arrow = FancyArrowPatch(
                pos[i],
                pos[j],
                connectionstyle="arc3,rad=0.18",
                arrowstyle="-|>",
                mutation_scale=12,
                lw=1 + 4 * v,
                color=cmap(v),
                shrinkA=22,
                shrinkB=22,
                alpha=0.9,
            )
            ax.add_patch(arrow)
            mid = (pos[i] + pos[j]) / 2
            normal = np.array([pos[j][1] - pos[i][1], pos[i][0] - pos[j][0]]) * 0.12
            if n <= 5:
                ax.text(
                    *(mid + normal),
                    f"{v:.2f}",
                    fontsize=7,
                    ha="center",
                    va="center",
                    bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.8),
                )
    for i, p in enumerate(parties):
        ax.scatter(*pos[i], s=900, color=cols[i], zorder=3, edgecolor="black", linewidth=0.8)
        ink = (
            "black"
            if cols[i] in ("#E69F00", "#F0E442", "#56B4E9", "#DDCC77", "#88CCEE", "#44AA99", "#999933")
            else "white"
        )
        ax.text(
            pos[i][0],
            pos[i][1],
            p.kind.upper() if p.kind != "acute" else "ACUTE",
            ha="center",
            va="center",
            fontsize=6.5,
            color=ink,
            zorder=4,
            weight="bold",
        )
        ax.text(pos[i][0], pos[i][1] - 0.27, _short(p.name, 24), ha="center", va="top", fontsize=7, zorder=4)
    if outsiders:
        ax.text(
            0,
            -1.55,
            "Not at the table: " + ", ".join(_short(o, 22) for o in outsiders),
            ha="center",
            fontsize=7,
            color="#777777",
            style="italic",
        )
    mean = (trust.sum() - np.trace(trust)) / max(n * n - n, 1)
    ax.set_title(title or f"Trust at the table (mean {mean:.2f})", fontsize=10)
    ax.set_xlim(-1.6, 1.6)
    ax.set_ylim(-1.65 if outsiders else -1.35, 1.3)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def pool(
    plan: np.ndarray | None,
    minimum_gbp: float,
    kind: str = "offer",
    title: str = "",
    width: float = 5.2,
    height: float = 3.2,
) -> Figure:
    """The pool by scheme line (£m), with the mandated floors."""
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.34, right=0.97, bottom=0.16, top=0.9)
    ax = fig.add_subplot()
    y = np.arange(len(LINE_SHORT))[::-1]
    floors = FLOORS * minimum_gbp / 1e6
    if plan is None:
        ax.barh(y, floors, color="#dddddd")
        ax.set_title(title or f"Nothing on the table yet (minimum pool {gbp(minimum_gbp)})", fontsize=9)
    else:
        spend = spend_gbp(plan, minimum_gbp) / 1e6
        colour = {"agreed": "#2a8c3f", "imposed": "#7f8c8d", "offer": "#1f5fa8"}.get(kind, "#1f5fa8")
        ax.barh(y, spend, color=colour, alpha=0.85)
        for yy, v in zip(y, spend):
            ax.text(v, yy, f" £{v:.1f}m", va="center", fontsize=8)
        total = spend.sum() * 1e6
        word = {"agreed": "Agreed pool", "imposed": "Imposed pool", "offer": "Pool on the table"}.get(kind, "Pool")
        ax.set_title(title or f"{word}: {gbp(total)} (minimum {gbp(minimum_gbp)})", fontsize=9)
        ax.set_xlim(0, max(spend.max(), floors.max()) * 1.3 + 0.1)
    ax.scatter(floors, y, marker="|", s=300, color="black", zorder=3, label="mandated floor")
    ax.set_yticks(y, LINE_SHORT, fontsize=8)
    ax.set_xlabel("£ million")
    ax.legend(loc="lower right", fontsize=7)
    ax.grid(axis="x", alpha=0.25)
    return fig


def trust_over_time(
    series: list[tuple[str, list[tuple[int, float]]]],
    title: str = "Trust at the table over time",
    width: float = 5.2,
    height: float = 2.8,
) -> Figure:
    fig = Figure(figsize=(width, height))
    fig.subplots_adjust(left=0.12, right=0.97, bottom=0.17, top=0.88)
    ax = fig.add_subplot()
    for (label, pts), c in zip(series, ["#1f5fa8", "#c0392b", "#2a8c3f", "#8e44ad"]):
        if pts:
            x, v = zip(*pts)
            ax.plot(x, v, color=c, lw=1.8, label=label)
    ax.set_ylim(0, 1)
    ax.set_xlim(0, max([1] + [p[0] for _, pts in series for p in pts]))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step (weeks, then months of delivery)")
    ax.set_ylabel("mean trust")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.25)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return fig


# --- the room's charts, cached by what they show ------------------------------------------------
# Offers are only ever appended while a recorder lives, so (recorder, number of offers) names a
# dance; a room change that does not touch a chart (a seat taken, a turn opened) reuses its PNG.


def dance_png(view, only: int | None = None) -> bytes:
    key = ("dance", view.recorder_id, len(view.offers), only, tuple(view.deadlines.items()))
    return cached(
        key,
        lambda: dance(
            view.parties,
            view.offers,
            view.deadlines,
            only=only,
            title=("What each offer was worth to you" if only is not None else ""),
        ),
    )


def trust_png(view) -> bytes:
    key = ("trust", view.recorder_id, np.round(view.trust, 4).tobytes(), tuple(view.outsiders))
    return cached(key, lambda: trust_network(view.parties, view.trust, view.outsiders))


def pool_png(view) -> bytes:
    plan = None if view.plan_now is None else np.round(view.plan_now, 6).tobytes()
    key = ("pool", plan, view.plan_kind, round(view.minimum_gbp))
    return cached(key, lambda: pool(view.plan_now, view.minimum_gbp, view.plan_kind))


def trust_time_png(view) -> bytes:
    key = ("trust_time", view.recorder_id, tuple(np.round([v for _, v in view.trust_history], 4)))
    return cached(key, lambda: trust_over_time([(view.area_name, view.trust_history)]))
