"""What a worker process does for one run. Imported once per worker, never per run.

This module imports the model at the top on purpose: the local backend preloads it in the
forkserver, so every worker forked from there starts with numpy, pandas, mesa and the model
already imported; a Dask worker imports it with its first task and keeps it.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from bettercare.model.model import BetterCareModel
from bettercare.model.outputs import SWEEP_ID_COLUMNS
from bettercare.model.results import collect
from bettercare.model.scenario import Scenario, build_parameters


@dataclass(frozen=True)
class RunTask:
    """One run: the base scenario, the design point's overrides, its ids and the tables wanted."""

    run_id: int
    point_id: int
    replicate: int
    seed: int
    overrides: dict[str, Any]
    columns: dict[str, Any]  # design parameter columns added to every row (lists as JSON text)
    base: Scenario
    tables: tuple[str, ...]


@dataclass
class RunOutcome:
    run_id: int
    ok: bool
    tables: dict[str, pa.Table]  # empty when the run failed
    error: dict[str, Any] | None = None
    seconds: float = 0.0
    pid: int = 0


def _ids(task: RunTask, n: int) -> dict[str, pa.Array]:
    return {
        "run_id": pa.array([task.run_id] * n, pa.int64()),
        "point_id": pa.array([task.point_id] * n, pa.int64()),
        "replicate": pa.array([task.replicate] * n, pa.int64()),
        "seed": pa.array([task.seed] * n, pa.int64()),
    }


def tag_table(df: pd.DataFrame | dict[str, Any], task: RunTask) -> pa.Table:
    """The run's table with the id columns first and the design parameter columns last.

    `df` is a DataFrame, or a dict of scalars for a one-row table (the national fields: going
    straight to Arrow skips a DataFrame per run)."""
    if isinstance(df, dict):
        # Floats typed as such, and NaN stored as null, as from_pandas does for the other tables.
        body = pa.table(
            {
                k: pa.array([v], pa.float64(), from_pandas=True) if isinstance(v, float) else pa.array([v])
                for k, v in df.items()
            }
        )
    else:
        body = pa.Table.from_pandas(df.reset_index(drop=True), preserve_index=False).replace_schema_metadata(None)
    n = body.num_rows
    clash = (set(SWEEP_ID_COLUMNS) | set(task.columns)) & set(body.column_names)
    if clash:
        raise ValueError(f"output columns clash with sweep columns: {sorted(clash)}")
    cols = _ids(task, n)
    for name, arr in zip(body.column_names, body.columns, strict=True):
        cols[name] = arr
    for name, value in task.columns.items():
        cols[name] = pa.array([value] * n)
    return pa.table(cols)  # no pandas metadata: smaller to send, and the store adds its own


def run_task(task: RunTask) -> RunOutcome:
    """Run one design point under one seed. Never raises: a failure comes back as an error."""
    t0 = time.perf_counter()
    try:
        params = build_parameters(task.base.params, task.overrides)
        model = BetterCareModel(params, rng=task.seed, record_offers="offers" in task.tables)
        model.run_model()
        # Only the tables the spec keeps are built: a national-only sweep skips the rest.
        national, built = collect(model, tables=[t for t in task.tables if t != "national"])
        built["national"] = national
        tables = {name: tag_table(built[name], task) for name in task.tables}
        return RunOutcome(task.run_id, True, tables, None, time.perf_counter() - t0, os.getpid())
    except Exception as exc:  # noqa: BLE001 - every failure of a run is recorded, and the sweep goes on
        error = {
            "error_type": type(exc).__name__,
            "message": " ".join(str(exc).split()),
            "traceback": traceback.format_exc(),
        }
        return RunOutcome(task.run_id, False, {}, error, time.perf_counter() - t0, os.getpid())


@dataclass
class BatchOutcome:
    """The runs of one batch: their outcomes, and the tables of the runs that succeeded merged
    into one Arrow table per output (one message and one schema per batch, not per run)."""

    outcomes: list[RunOutcome]  # in batch order; their `tables` are empty (moved into `tables`)
    tables: dict[str, pa.Table]

    @property
    def run_ids(self) -> list[int]:
        return [o.run_id for o in self.outcomes]


def run_batch(tasks: list[RunTask]) -> BatchOutcome:
    """Run several runs one after another in this worker. Never raises."""
    outcomes = [run_task(t) for t in tasks]
    parts: dict[str, list[pa.Table]] = {}
    for o in outcomes:
        for name, table in o.tables.items():
            parts.setdefault(name, []).append(table)
        o.tables = {}
    tables = {
        name: pa.concat_tables(ts, promote_options="permissive").combine_chunks() if len(ts) > 1 else ts[0]
        for name, ts in parts.items()
    }
    return BatchOutcome(outcomes, tables)


def warm_up() -> int:
    """Called once per worker by the local backend (and Dask's preload); returns the pid."""
    return os.getpid()
