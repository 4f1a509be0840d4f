"""Directed trust on the organisation network.

Trust moves by the rule in `bettercare.vocabulary.trust`, and is earned: each experience is
attributed to whoever caused it (row party about column party), trust in the centre moves only
through `experience_with_centre`, and turnover never raises trust (`replace_leader`). A CCG or trust that sits at two
tables carries its relationships from one to the other.

The network is a networkx DiGraph; each edge holds the index of its trust value in one numpy
array, so tables read and write their parties' trust as a matrix in one step.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import pandas as pd

from bettercare.vocabulary.trust import updated

CENTRE = "CENTRE"


def off_diagonal_mean(m: np.ndarray) -> float:
    """Mean trust between distinct parties of a table matrix (diagonal is 1)."""
    n = len(m)
    return float((m.sum() - m.trace()) / (n * (n - 1))) if n > 1 else float("nan")


def _cells(x, off: np.ndarray):
    """The off-diagonal cells of `x` broadcast to a table's matrix, in the order `idx[off]`
    lists its edges; a scalar stays a scalar (the update broadcasts it)."""
    x = np.asarray(x, float)
    return x if x.ndim == 0 else np.broadcast_to(x, off.shape)[off]


class TrustNetwork:
    """Organisations joined at shared tables, with directed trust on each edge."""

    def __init__(self, gain_good: float, gain_bad: float):
        self.graph = nx.DiGraph()
        self.gain_good = gain_good
        self.gain_bad = gain_bad
        self._src: list[str] = []
        self._dst: list[str] = []
        self._init: list[float] = []
        self.values = np.zeros(0)
        self._index: dict[tuple[str, ...], np.ndarray] = {}
        self._org_edges: dict[str, list[int]] = {}

    # --- building ------------------------------------------------------------------------
    def add(self, a: str, b: str, trust: float) -> None:
        if self.graph.has_edge(a, b):
            return
        eid = len(self._init)
        self.graph.add_edge(a, b, eid=eid)
        self._src.append(a)
        self._dst.append(b)
        self._init.append(float(trust))
        self._org_edges.setdefault(a, []).append(eid)
        self._org_edges.setdefault(b, []).append(eid)

    def connect(self, members: Sequence[str], trust: float) -> None:
        """Join every ordered pair in `members` (one table), keeping trust already held."""
        for a in members:
            for b in members:
                if a != b:
                    self.add(a, b, trust)

    def freeze(self) -> None:
        """End of set-up: trust values move into one array."""
        self.values = np.array(self._init, float)
        self._src_a = np.array(self._src, dtype=object)
        self._dst_a = np.array(self._dst, dtype=object)
        self._local = (self._src_a != CENTRE) & (self._dst_a != CENTRE)
        self._org_edges_a = {k: np.array(v) for k, v in self._org_edges.items()}

    # --- reading and writing ---------------------------------------------------------------
    def index(self, members: Sequence[str]) -> np.ndarray:
        key = tuple(members)
        idx = self._index.get(key)
        if idx is None:
            adj = self.graph.adj
            idx = np.array([[adj[a][b]["eid"] if a != b else -1 for b in members] for a in members], int)
            self._index[key] = idx
        return idx

    def matrix(self, members: Sequence[str]) -> np.ndarray:
        """Trust of row party in column party; the diagonal is 1."""
        idx = self.index(members)
        return np.where(idx >= 0, self.values[idx], 1.0)

    def store(self, members: Sequence[str], m: np.ndarray) -> None:
        """Write a table's matrix back; a table holds local relationships only."""
        if CENTRE in members:
            raise ValueError("trust in the centre moves only by experience_with_centre")
        idx = self.index(members)
        off = idx >= 0
        self.values[idx[off]] = m[off]

    def get(self, a: str, b: str) -> float:
        return float(self.values[self.graph.adj[a][b]["eid"]])

    def experience(self, members: Sequence[str], e, weight=1.0) -> None:
        """Ordered pairs of local organisations live one experience each: row party about column
        party, so `e` and `weight` may be matrices that attribute each experience to the partner
        who caused it. Trust in the centre never moves here (`experience_with_centre` does that)."""
        if CENTRE in members:
            raise ValueError("trust in the centre moves only by experience_with_centre")
        idx = self.index(members)
        off = idx >= 0
        ids = idx[off]
        self.values[ids] = updated(self.values[ids], _cells(e, off), self.gain_good, self.gain_bad, _cells(weight, off))

    def experience_with_centre(self, members: Sequence[str], e: float, weight: float = 1.0) -> None:
        """Each member's trust in the centre lives one experience (a verdict, money withheld)."""
        adj = self.graph.adj
        ids = np.array([adj[a][CENTRE]["eid"] for a in members])
        self.values[ids] = updated(self.values[ids], e, self.gain_good, self.gain_bad, weight)

    def replace_leader(self, org: str, prior: float) -> None:
        """A leader leaves and a newcomer takes over (H6). Both ends of the organisation's local
        relationships were held by the leaver, so the newcomer and its partners start again from
        the prior; but grievances are on the record and survive the leaver, so a relationship
        already below the prior stays where it is. Forgetting never raises trust. Trust in the
        centre is the organisation's, not a person's, and is untouched."""
        ids = self._org_edges_a.get(org)
        if ids is not None:
            local = ids[self._local[ids]]
            self.values[local] = np.minimum(self.values[local], prior)

    def reset(self, org: str, trust: float) -> None:
        """Set every local relationship of `org` to `trust` (a workshop's new leaders, by hand;
        turnover in the model is `replace_leader`). Trust in the centre is untouched."""
        ids = self._org_edges_a.get(org)
        if ids is not None:
            local = ids[self._local[ids]]
            self.values[local] = trust

    def mean(self, include_centre: bool = False) -> float:
        v = self.values if include_centre else self.values[self._local]
        return float(v.mean()) if len(v) else float("nan")

    def mean_towards_centre(self) -> float:
        """Mean trust of the local organisations in the centre."""
        v = self.values[self._dst_a == CENTRE]
        return float(v.mean()) if len(v) else float("nan")

    def edges(self) -> pd.DataFrame:
        """One row per directed relationship: source, target, trust."""
        return pd.DataFrame({"source": self._src_a, "target": self._dst_a, "trust": self.values.copy()})
