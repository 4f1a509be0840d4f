"""england-2014's posterior: the weighted particles `bettercare calibrate` (ABC-SMC) left, shipped
as `bettercare/data/england-2014-posterior.parquet` with its record (`...-posterior.json`).

A posterior draw is a set of parameter values; drawing N of them is multinomial resampling by
weight from one seed, so `run --posterior N`, a sweep with `posterior = true` and
`validate --posterior N` use the same N sets for the same seed. A draw replaces the calibrated
values of the posterior's parameters only; every other parameter keeps its scenario value.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import ScenarioError

PARTICLES = "england-2014-posterior.parquet"
RECORD = "england-2014-posterior.json"
NOT_PARAMETERS = ("weight", "generation")
DRAW_STREAM = 0x706F7374  # "post": keeps posterior draws apart from the run seeds of the same master


def particles_path() -> Path:
    return Path(str(files("bettercare") / "data" / PARTICLES))


@lru_cache(maxsize=1)
def particles() -> pd.DataFrame:
    """The weighted particles (one column per parameter, and `weight`, summing to 1)."""
    path = particles_path()
    if not path.is_file():
        raise ScenarioError(
            f"no posterior is shipped ({path.name} is missing): run `bettercare calibrate --out DIR --write` first"
        )
    frame = pd.read_parquet(path)
    w = frame["weight"].to_numpy(float)
    if not (np.isfinite(w).all() and (w >= 0).all() and w.sum() > 0):
        raise ScenarioError(f"{path.name}: weights must be finite, non-negative and not all zero")
    return frame.assign(weight=w / w.sum())


def parameter_names() -> list[str]:
    return [c for c in particles().columns if c not in NOT_PARAMETERS]


def record() -> dict[str, Any]:
    """The calibration record shipped with the particles (method, priors, simulations, threshold)."""
    path = particles_path().with_name(RECORD)
    return json.loads(path.read_text()) if path.is_file() else {}


def digest() -> str:
    """SHA-256 of the particle file: which posterior a result was drawn from."""
    return hashlib.sha256(particles_path().read_bytes()).hexdigest()


def draw(n: int, seed: int) -> list[dict[str, float]]:
    """`n` parameter sets resampled by weight (with replacement) from the particles, from `seed`."""
    if n < 1:
        raise ScenarioError(f"posterior draws must be at least 1, not {n}")
    frame = particles()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), DRAW_STREAM]))
    rows = rng.choice(len(frame), size=n, replace=True, p=frame["weight"].to_numpy())
    names = parameter_names()
    values = frame[names].to_numpy(float)[rows]
    return [dict(zip(names, map(float, v), strict=True)) for v in values]
