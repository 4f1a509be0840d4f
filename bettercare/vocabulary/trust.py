"""The rule by which trust moves with experience.

Trust moves toward each experience e in [0, 1]: tau <- tau + g (e - tau), with the larger gain
for experiences worse than current trust, so trust breaks faster than it builds (Jonker & Treur
1999; Slovic 1993's asymmetry principle).
"""

from __future__ import annotations

import numpy as np


def updated(tau, experience, gain_good: float, gain_bad: float, weight=1.0):
    """Asymmetric trust update; stays in [0, 1] for experiences and weights in [0, 1]."""
    if isinstance(tau, float) and isinstance(experience, float) and isinstance(weight, float):
        g = (gain_good if experience >= tau else gain_bad) * min(max(weight, 0.0), 1.0)
        return min(max(tau + g * (experience - tau), 0.0), 1.0)
    tau = np.asarray(tau, float)
    e = np.asarray(experience, float)
    g = np.where(e >= tau, gain_good, gain_bad) * np.clip(weight, 0.0, 1.0)
    return np.clip(tau + g * (e - tau), 0.0, 1.0)
