"""The two null models, as evaluators a user can run (docs/experiments.md, "Null models").

    from bettercare.experiments.nulls import fixed_plan, trend_only
    fixed = fixed_plan("england-2014", seeds=[1, 2, 3])   # national rows, one per seed
    trend = trend_only("england-2014")                     # one dict: the no-BCF path

- `fixed_plan`: the flow model driven by one fixed plan in every area (the published 2014 mix,
  the 3.07% ambition), with no talks, no assurance and no trust dynamics. It is the model with
  `mechanisms.negotiation = false`, so delivery runs by the one code path every run uses.
- `trend_only`: the 2015-16 outcomes as the pre-period trends extrapolated, which is the flow
  model's no-BCF path. Its effects are zero by construction (they are measured against that
  path); its observable changes against 2014-15 are what the trends alone give.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from bettercare.model import nulls as model_nulls
from bettercare.model.model import BetterCareModel
from bettercare.model.scenario import Parameters, Scenario, resolve_scenario

from .backends import Backend, make_backend
from .evaluate import evaluate, national_frame, replicate_tasks

FIXED_PLAN = {"mechanisms.negotiation": False}


def fixed_plan(
    scenario: str | Path | Scenario | Parameters = "england-2014",
    seeds: Sequence[int] = (1, 2, 3),
    overrides: dict[str, Any] | None = None,
    backend: Backend | None = None,
    tables: tuple[str, ...] = ("national",),
) -> pd.DataFrame:
    """National rows of the fixed-plan null, one per seed (sorted by run_id = seed's position).

    Runs in this process unless an entered `backend` is given."""
    base = resolve_scenario(scenario, overrides)
    tasks = replicate_tasks(base, seeds, overrides=FIXED_PLAN, tables=tables)
    if backend is not None:
        return national_frame(evaluate(tasks, backend))
    with make_backend(workers=0) as own:
        return national_frame(evaluate(tasks, own))


def trend_only(
    scenario: str | Path | Scenario | Parameters = "england-2014",
    overrides: dict[str, Any] | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """The trend-only null's national outcomes for a scenario's areas (the same for every seed
    unless the areas are synthetic: `seed` then draws them)."""
    base = resolve_scenario(scenario, overrides)
    return model_nulls.trend_only(BetterCareModel(base.params, rng=seed, record_offers=False))
