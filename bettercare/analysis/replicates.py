"""How many replicates: the variance-stability method of Lorscheid, Heine and Meyer (2012),
"Opening the 'black box' of simulations: increased transparency and effective communication
through the systematic design of experiments", Computational and Mathematical Organization Theory
18(1): 22-62.

For growing numbers of runs n, the coefficient of variation c_v(n) = s(n) / |mean(n)| of an
outcome over the first n runs; the number of replicates is the smallest n from which every later
step changes c_v by less than a criterion E. An outcome whose mean is near zero (an effect that
is nil) has no stable c_v; it is reported as such, not forced.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd


def cv_by_runs(values: np.ndarray, ns: list[int]) -> np.ndarray:
    """c_v over the first n values, for each n in `ns` (NaN where the mean is 0)."""
    v = np.asarray(values, float)
    out = []
    for n in ns:
        head = v[:n]
        mean = head.mean()
        out.append(head.std(ddof=1) / abs(mean) if mean != 0 else math.nan)
    return np.array(out)


def stable_runs(values: np.ndarray, ns: list[int], criterion: float) -> int | None:
    """The smallest n in `ns` after which c_v never moves by `criterion` or more; None if it never
    settles (or c_v is undefined)."""
    cv = cv_by_runs(values, ns)
    if not np.isfinite(cv).all():
        return None
    steps = np.abs(np.diff(cv))
    for i in range(len(ns) - 1):
        if (steps[i:] < criterion).all():
            return ns[i]
    return None


def stability_table(runs: pd.DataFrame, outcomes: list[str], ns: list[int], criterion: float) -> pd.DataFrame:
    """Per outcome: c_v at each n and the n from which it is stable (runs in seed order)."""
    rows = []
    for name in outcomes:
        v = runs[name].to_numpy(float)
        cv = cv_by_runs(v, ns)
        rows.append(
            {
                "outcome": name,
                **{f"cv_{n}": c for n, c in zip(ns, cv, strict=True)},
                "stable_from": stable_runs(v, ns, criterion),
            }
        )
    return pd.DataFrame(rows)
