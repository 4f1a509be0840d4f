"""The scoring rule for the registered year-1 predictions (issue 14, part 6), stated before any
outcome is known (docs/validation.md, "Registered predictions").

A prediction is an ensemble: one value per posterior-predictive run (parameter draw x seed).
Against an observed value y, each outcome is scored three ways:

- **sign:** does the ensemble's median have the sign of y (0 counts as its own sign)?
- **90% coverage:** does y lie in the ensemble's 5-95% range?
- **CRPS** (continuous ranked probability score, in the outcome's unit; lower is better):
  E|X - y| - E|X - X'| / 2 over the ensemble, by properscoring's `crps_ensemble`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import properscoring


def score(ensemble: pd.DataFrame, observed: dict[str, float]) -> pd.DataFrame:
    """One row per observed outcome: median, 5-95% range, sign right, covered, CRPS."""
    rows = []
    for name, y in observed.items():
        x = ensemble[name].to_numpy(float)
        x = x[np.isfinite(x)]
        lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
        rows.append(
            {
                "outcome": name,
                "observed": float(y),
                "median": float(med),
                "lo90": float(lo),
                "hi90": float(hi),
                "sign_right": bool(np.sign(med) == np.sign(y)),
                "covered90": bool(lo <= y <= hi),
                "crps": float(properscoring.crps_ensemble(float(y), x)) if len(x) else math.nan,
            }
        )
    return pd.DataFrame(rows)


def summary(ensemble: pd.DataFrame, outcomes: list[str]) -> pd.DataFrame:
    """What is registered for each outcome: median, 5-95% range and the probability of a rise."""
    rows = []
    for name in outcomes:
        x = ensemble[name].to_numpy(float)
        x = x[np.isfinite(x)]
        lo, med, hi = np.quantile(x, [0.05, 0.5, 0.95])
        rows.append(
            {"outcome": name, "median": med, "lo90": lo, "hi90": hi, "p_above_zero": float((x > 0).mean()), "n": len(x)}
        )
    return pd.DataFrame(rows)
