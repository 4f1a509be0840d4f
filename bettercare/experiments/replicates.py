"""Replicates: one scenario run under several independent seeds."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from bettercare.model.results import RunResult
from bettercare.model.run import run
from bettercare.model.scenario import Scenario


def replicate_seeds(seed: int, r: int) -> list[int]:
    """Seeds for `r` replicates of a run with master seed `seed`.

    One replicate uses the seed itself, so `--replicates 1 --seed 3` equals `--seed 3`. More
    replicates take one 32-bit word from each child of `numpy.random.SeedSequence(seed).spawn(r)`,
    so replicate streams are independent and reproducible from the master seed alone.
    """
    if r < 1:
        raise ValueError(f"replicates must be at least 1, not {r}")
    return list(iter_replicate_seeds(seed, r))


def iter_replicate_seeds(seed: int, r: int) -> Iterator[int]:
    """`replicate_seeds(seed, r)` one at a time, without spawning all `r` children first (a
    million replicates would spend 20 s there before the first run). Child i of
    `SeedSequence(seed).spawn(r)` is `SeedSequence(seed, spawn_key=(i,))`."""
    if r == 1:
        yield int(seed)
        return
    for i in range(r):
        yield int(np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1)[0])


def iter_replicates(scenario: Scenario, seeds: Iterable[int]) -> Iterator[RunResult]:
    """One run of `scenario` per seed, yielded as each finishes, so that a caller interrupted
    part-way (Ctrl-C) still holds every run that finished."""
    for s in seeds:
        yield run(scenario, seed=s)
