"""Directed trust on the organisation network, and the rule that updates it.

Trust moves toward each experience e in [0, 1]: tau <- tau + g (e - tau), with the larger gain
for experiences worse than current trust, so trust breaks faster than it builds (Jonker & Treur
1999; Slovic 1993's asymmetry principle). Trust lives on the edges of a networkx DiGraph; a CCG
or trust that sits at two tables carries its relationships from one to the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import networkx as nx
import numpy as np

CENTRE = "CENTRE"


def updated(tau: np.ndarray | float, experience: np.ndarray | float, gain_good: float, gain_bad: float,
            weight: np.ndarray | float = 1.0) -> np.ndarray:
    """Asymmetric trust update; stays in [0, 1] for experiences and weights in [0, 1]."""
    tau = np.asarray(tau, float)
    e = np.asarray(experience, float)
    g = np.where(e >= tau, gain_good, gain_bad) * np.clip(weight, 0.0, 1.0)
    return np.clip(tau + g * (e - tau), 0.0, 1.0)


class TrustNetwork:
    """A DiGraph of organisations with `trust` on each directed edge.

    Tables read a dense matrix for their parties at the start of a week and write it back at
    the end, so the hot path works in numpy and the graph stays the single record.
    """

    def __init__(self, gain_good: float, gain_bad: float):
        self.graph = nx.DiGraph()
        self.gain_good = gain_good
        self.gain_bad = gain_bad

    def connect(self, members: Sequence[str], trust: np.ndarray | float) -> None:
        """Join every ordered pair in `members` (one table), keeping trust already held."""
        trust = np.broadcast_to(np.asarray(trust, float), (len(members), len(members)))
        for i, a in enumerate(members):
            for j, b in enumerate(members):
                if a != b and not self.graph.has_edge(a, b):
                    self.graph.add_edge(a, b, trust=float(trust[i, j]))

    def matrix(self, members: Sequence[str]) -> np.ndarray:
        """Trust of row party in column party; the diagonal is 1."""
        n = len(members)
        out = np.ones((n, n))
        adj = self.graph.adj
        for i, a in enumerate(members):
            row = adj[a]
            for j, b in enumerate(members):
                if i != j:
                    out[i, j] = row[b]["trust"]
        return out

    def store(self, members: Sequence[str], m: np.ndarray) -> None:
        adj = self.graph.adj
        for i, a in enumerate(members):
            row = adj[a]
            for j, b in enumerate(members):
                if i != j:
                    row[b]["trust"] = float(m[i, j])

    def experience(self, members: Sequence[str], e: np.ndarray | float, weight: np.ndarray | float = 1.0) -> None:
        """Every ordered pair at a table lives one experience (row about column)."""
        m = self.matrix(members)
        new = updated(m, e, self.gain_good, self.gain_bad, weight)
        np.fill_diagonal(new, 1.0)
        self.store(members, new)

    def experience_with_centre(self, members: Sequence[str], e: float, weight: float = 1.0) -> None:
        """Each member's trust in the centre lives one experience (a verdict, money withheld)."""
        adj = self.graph.adj
        for a in members:
            d = adj[a][CENTRE]
            d["trust"] = float(updated(d["trust"], e, self.gain_good, self.gain_bad, weight))

    def reset(self, org: str, prior: float) -> None:
        """A leader leaves: relationships held by that person go back to the prior (H6)."""
        for _, _, d in self.graph.out_edges(org, data=True):
            d["trust"] = prior
        for _, _, d in self.graph.in_edges(org, data=True):
            d["trust"] = prior

    def mean(self, members: Iterable[str] | None = None, include_centre: bool = False) -> float:
        sub = self.graph if members is None else self.graph.subgraph(members)
        vals = [d["trust"] for a, b, d in sub.edges(data=True)
                if include_centre or (a != CENTRE and b != CENTRE)]
        return float(np.mean(vals)) if vals else float("nan")
