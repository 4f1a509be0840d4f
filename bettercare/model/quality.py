"""Outcome quality of a bargain: Pareto frontier, Nash bargaining solution, fairness.

Pure numpy functions over a matrix of utilities `points` (K outcomes x n parties) and a
disagreement point `d` (n,), plus `table_quality`, which `bettercare.model.results.collect` calls
on every area's table to add four columns to the `areas` table.

Conventions (docs/outputs.md, `areas` table):

* **Feasible set.** The outcomes a table could have agreed: the candidate plans it believed
  deliverable in its last week of talks (`Table.credible`), plus the plan it ended with (the agreed
  candidate, or the centre's imposed plan scored with `Table.score`). Plans the partners thought
  undeliverable are left out: judging an agreement against plans nobody at the table would sign
  would count the partners' caution as inefficiency.
* **Pareto frontier.** The points of the feasible set that no other feasible point weakly
  dominates (at least as good for everyone, strictly better for someone). Identical points are
  all kept. `pareto_distance` is the Euclidean distance, in normalised utility, from the
  agreement to the nearest frontier point (0 = Pareto-optimal; at most sqrt(n)).
* **Nash bargaining solution.** Among feasible points that every party weakly prefers to its
  disagreement point (the individually rational ones), the one with the largest product of gains
  `prod_i (u_i - d_i)`. `nash_distance` is the Euclidean distance from the agreement to it (the
  nearest one if several tie); `nash_product_ratio` is the agreement's product of gains (a party
  below its disagreement point counts as a zero gain) over the Nash product: 1 = as good as
  Nash, 0 = someone gains nothing. NaN when no feasible point gives every party a positive gain.
* **Fairness.** The smallest normalised gain, `min_i (u_i - d_i) / (ideal_i - d_i)`, where
  `ideal_i` is party i's best utility over the individually rational feasible points (the
  Kalai-Smorodinsky normalisation). 1 = everyone gets their best; 0 = someone gains nothing;
  negative = someone is worse off than at its disagreement point. A party with no room to gain
  (`ideal_i = d_i`) is left out of the minimum.

NegMAS's conventions differ in two ways, and the tests check against it where they agree:
`negmas.pareto_frontier` drops points below the reserved values before it finds the frontier and
keeps one of identical points, and `negmas.nash_points` measures gains from a party's minimum
utility when its reserved value is below that minimum.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from bettercare.model.negotiation import Table

QUALITY_COLUMNS = ("pareto_distance", "nash_distance", "nash_product_ratio", "fairness")
EPS = 1e-12
_BLOCK = 16  # points of largest welfare used to cull the rest before the pairwise check


def _dominated_by(points: np.ndarray, by: np.ndarray) -> np.ndarray:
    """For each row of `points`, whether some row of `by` weakly dominates it (K,)."""
    # A loop over the few parties, each step on a K x B array: faster than reducing a K x B x n
    # array over its short last axis.
    ge = np.ones((len(points), len(by)), bool)
    gt = np.zeros((len(points), len(by)), bool)
    for i in range(points.shape[1]):
        p, b = points[:, i, None], by[None, :, i]
        ge &= b >= p - EPS
        gt |= b > p + EPS
    return (ge & gt).any(axis=1)


def pareto_mask(points: np.ndarray) -> np.ndarray:
    """Boolean mask (K,) of the Pareto-optimal rows of `points` (K x n): no other row weakly dominates them.

    Vectorised: the rows are first culled against the few of largest total utility (a row of
    maximal welfare is never dominated), then the survivors are compared pairwise. Exact: a
    culled row is dominated, and by transitivity so is any row that only a culled row dominates.
    """
    pts = np.asarray(points, float)
    k = len(pts)
    if k == 0:
        return np.zeros(0, bool)
    order = np.argsort(-pts.sum(axis=1), kind="stable")
    alive = ~_dominated_by(pts, pts[order[:_BLOCK]])
    idx = np.flatnonzero(alive)
    sub = pts[idx]
    mask = np.zeros(k, bool)
    mask[idx] = ~_dominated_by(sub, sub)
    return mask


def pareto_frontier(points: np.ndarray) -> np.ndarray:
    """Indices of the Pareto-optimal rows of `points`, by total utility, largest first."""
    pts = np.asarray(points, float)
    idx = np.flatnonzero(pareto_mask(pts))
    return idx[np.argsort(-pts[idx].sum(axis=1), kind="stable")]


def nash_points(points: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Indices of the rows maximising the product of gains over `d` among individually rational rows.

    Empty if no row gives every party a strictly positive gain.
    """
    pts = np.asarray(points, float)
    gains = pts - np.asarray(d, float)[None, :]
    rational = (gains >= -EPS).all(axis=1)
    prod = np.where(rational, np.prod(np.clip(gains, 0.0, None), axis=1), -np.inf)
    best = prod.max(initial=-np.inf)
    if not best > EPS:
        return np.zeros(0, int)
    return np.flatnonzero(prod >= best * (1 - 1e-9) - EPS)


def quality(points: np.ndarray, d: np.ndarray, agreement: np.ndarray) -> dict[str, float]:
    """The four quality measures of `agreement` (n,) over the feasible `points` (K x n) and disagreement `d`.

    `agreement` should be one of the feasible points (the module doc says why); it is added to
    them if it is not.
    """
    pts = np.asarray(points, float)
    u = np.asarray(agreement, float)
    d = np.asarray(d, float)
    pts = np.vstack([pts, u[None, :]])
    front = pts[pareto_mask(pts)]
    pareto_distance = float(np.sqrt(((front - u) ** 2).sum(axis=1)).min())
    nash = nash_points(pts, d)
    if len(nash):
        npts = pts[nash]
        nash_distance = float(np.sqrt(((npts - u) ** 2).sum(axis=1)).min())
        nash_product = float(np.prod(npts[0] - d))
        ratio = float(np.prod(np.clip(u - d, 0.0, None)) / nash_product)
    else:
        nash_distance = ratio = float("nan")
    rational = (pts >= d - EPS).all(axis=1)
    if rational.any():
        room = pts[rational].max(axis=0) - d
        has_room = room > EPS
        fairness = float(((u - d)[has_room] / room[has_room]).min()) if has_room.any() else float("nan")
    else:
        fairness = float("nan")
    return {
        "pareto_distance": pareto_distance,
        "nash_distance": nash_distance,
        "nash_product_ratio": ratio,
        "fairness": fairness,
    }


def table_quality(table: Table) -> dict[str, float]:
    """Quality of the plan a negotiation table ended with (agreed or imposed), on its own scale."""
    util = table.utility
    k = util.shape[1]
    credible = getattr(table, "credible", None)
    mask = np.zeros(k, bool)
    if credible is not None:
        c = np.asarray(credible, bool)[:k]
        mask[: len(c)] = c
    if table.imposed or table.agreed is None:
        if table.plan is None:
            return dict.fromkeys(QUALITY_COLUMNS, float("nan"))
        u = table.score(table.plan)
    else:
        mask[table.agreed] = True
        u = util[:, table.agreed]
    return quality(util[:, mask].T, table.reservation, u)


def tables_quality(tables: list[Table]) -> dict[str, np.ndarray]:
    """`table_quality` of every table, as one array per column (for the `areas` table)."""
    rows = [table_quality(t) for t in tables]
    return {c: np.array([r[c] for r in rows], float) for c in QUALITY_COLUMNS}
