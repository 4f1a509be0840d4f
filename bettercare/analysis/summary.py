"""Summaries of national fields over replicates: mean and a 95% t-interval."""

from __future__ import annotations

import math
import numbers
from typing import Any

from scipy.stats import t


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom."""

    return float(t.ppf(0.975, df))


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _finite(values: list[Any]) -> list[float]:
    out = []
    for v in values:
        if _is_number(v) and math.isfinite(x := float(v)):
            out.append(x)
    return out


def mean_ci95(values: list[Any]) -> dict[str, Any]:
    """`{"mean", "ci95": [lo, hi], "n"}` over the finite values; None where undefined.

    Non-finite values (NaN: nothing to average in that run; infinity) are left out, and `n`
    says how many values were used. One value gives ci95 = [mean, mean].
    """
    xs = _finite(values)
    n = len(xs)
    if n == 0:
        return {"mean": None, "ci95": [None, None], "n": 0}
    mean = math.fsum(xs) / n
    if n == 1:
        return {"mean": mean, "ci95": [mean, mean], "n": 1}
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    half = t975(n - 1) * math.sqrt(var / n)
    return {"mean": mean, "ci95": [mean - half, mean + half], "n": n}


def summarise(nationals: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Mean and 95% t-interval of every numeric national field over replicate runs.

    Fields keep the order of the first run's dict; a field missing from some runs is summarised
    over the runs that have it.
    """
    fields: list[str] = []
    for nat in nationals:
        fields += [k for k in nat if k not in fields]
    out = {}
    for f in fields:
        vals = [nat.get(f) for nat in nationals]
        if all(v is None or _is_number(v) for v in vals) and any(_is_number(v) for v in vals):
            out[f] = mean_ci95(vals)
    return out
