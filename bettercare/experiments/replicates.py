"""Replicates: one scenario run under several independent seeds."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bettercare.model.results import RunResult
    from bettercare.model.scenario import Scenario


def replicate_seeds(seed: int, r: int) -> list[int]:
    """Seeds for `r` replicates of a run with master seed `seed`.

    One replicate uses the seed itself, so `--replicates 1 --seed 3` equals `--seed 3`. More
    replicates take one 32-bit word from each child of `numpy.random.SeedSequence(seed).spawn(r)`,
    so replicate streams are independent and reproducible from the master seed alone.
    """
    if r < 1:
        raise ValueError(f"replicates must be at least 1, not {r}")
    if r == 1:
        return [int(seed)]
    import numpy as np

    return [int(child.generate_state(1)[0]) for child in np.random.SeedSequence(seed).spawn(r)]


def run_replicates(scenario: str | Scenario, seed: int, r: int, overrides: dict[str, Any] | None = None,
                   progress: Callable[[int, int], None] | None = None) -> list[RunResult]:
    """Run `scenario` (preset, TOML path or Scenario) once per replicate seed, in order.

    The scenario is validated once, before the first run. `progress(done, total)` is called
    after each run.
    """
    from bettercare.model.run import run
    from bettercare.model.scenario import Scenario, build_parameters, load_scenario

    if isinstance(scenario, Scenario):
        sc = scenario
        if overrides:
            sc = Scenario(name=sc.name, description=sc.description, params=build_parameters(sc.params, overrides))
    else:
        sc = load_scenario(scenario, overrides)
    seeds = replicate_seeds(seed, r)
    results = []
    for i, s in enumerate(seeds):
        results.append(run(sc, seed=s))
        if progress is not None:
            progress(i + 1, len(seeds))
    return results
