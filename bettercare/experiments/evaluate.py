"""Run many runs through a backend: the one path that replicates, validation and calibration share
with sweeps (which add the store, resumption and batching by measured run time on top).

    from bettercare.experiments.backends import make_backend
    from bettercare.experiments.evaluate import evaluate, national_frame, replicate_tasks

    tasks = replicate_tasks(scenario, seeds)
    with make_backend(workers=2) as backend:            # or scheduler="tcp://host:8786"
        nationals = national_frame(evaluate(tasks, backend))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from itertools import batched
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bettercare.model.outputs import SWEEP_ID_COLUMNS
from bettercare.model.scenario import Scenario

from .backends import Backend
from .worker import RunOutcome, RunTask


def replicate_tasks(
    scenario: Scenario,
    seeds: Sequence[int],
    overrides: dict[str, Any] | None = None,
    tables: tuple[str, ...] = ("national",),
    point_id: int = 0,
    first_run_id: int = 0,
) -> list[RunTask]:
    """One task per seed of one design point (`overrides` on `scenario`), run ids counted from
    `first_run_id`, replicates from 0."""
    return [
        RunTask(
            run_id=first_run_id + i,
            point_id=point_id,
            replicate=i,
            seed=int(s),
            overrides=dict(overrides or {}),
            columns={},
            base=scenario,
            tables=tables,
        )
        for i, s in enumerate(seeds)
    ]


def _own_tables(tables: dict[str, pa.Table], run_id: int, alone: bool) -> dict[str, pa.Table]:
    if alone:
        return tables
    return {name: t.filter(pc.equal(t["run_id"], run_id)) for name, t in tables.items()}


def evaluate(tasks: Iterable[RunTask], backend: Backend, batch_size: int = 1) -> Iterator[RunOutcome]:
    """Run `tasks` on an entered `backend`; yield each run's outcome, with its own tables, as it
    finishes (in any order: sort by `run_id`). A failed run comes back with `ok` False and its
    error; Ctrl-C propagates (leave the backend's `with` block on it to stop the workers)."""
    for batch in backend.imap_unordered(list(b) for b in batched(tasks, max(1, batch_size))):
        alone = len(batch.outcomes) == 1
        for outcome in batch.outcomes:
            if outcome.ok:
                outcome.tables = _own_tables(batch.tables, outcome.run_id, alone)
            yield outcome


def national_frame(outcomes: Iterable[RunOutcome]) -> pd.DataFrame:
    """The national rows of the runs that succeeded, one per run, sorted by run_id: the sweep's id
    columns (run_id, point_id, replicate, seed) first, then the national fields (NaN where a
    value is undefined)."""
    tables = [o.tables["national"] for o in outcomes if o.ok]
    if not tables:
        return pd.DataFrame(columns=list(SWEEP_ID_COLUMNS))
    table = pa.concat_tables(tables, promote_options="permissive")
    return table.to_pandas().sort_values("run_id", kind="stable").reset_index(drop=True)
