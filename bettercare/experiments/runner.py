"""The sweep loop: design -> runs on a backend -> chunks committed to the store, resumable.

`run_sweep(experiment, out)` is the whole thing; the command line (`bettercare sweep`) and the
tests call it. Run `run_id` is design point `run_id // replicates`, replicate
`run_id % replicates`, with seed `designs.seed_of(experiment, run_id, runs)` (the replicate's, for a
paired experiment); so ids and seeds do not depend
on the order in which runs finish, on the backend or on the chunking.
"""

from __future__ import annotations

import itertools
import shlex
import signal
import statistics
import sys
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Column

from . import designs, store
from . import manifest as mf
from .backends import cap_workers, make_backend
from .manifest import os_error_text
from .spec import Experiment, SpecError, spec_hash
from .worker import RunTask

CHUNK_RUNS = 256  # default: commit a chunk at 256 runs, 500,000 rows or 30 s, whichever comes first
SEEDS_IN_MANIFEST = 100_000  # list every run's seed in manifest.json up to this many runs
EXIT_OK, EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


COMPACT_EVERY = 16  # merge buffered per-batch tables every 16 batches: one Arrow table costs ~1 KB a column
BATCH_SECONDS = 0.25  # size batches of short runs to about this much work: one message per batch
RECENT_RUNS = 64  # run times whose median sizes the next batch
MAX_BATCH = 64
CHUNK_BYTES = 128 * 2**20  # and commit a chunk at this much buffered Arrow data


class _Buffer:
    """Finished runs waiting to be committed, with their per-run tables merged as they come."""

    def __init__(self) -> None:
        self.run_ids: list[int] = []
        self.failed: list[int] = []
        self.retried: list[int] = []
        self.rows = 0
        self.nbytes = 0
        self.since = 0.0
        self._groups: dict[str, list] = defaultdict(list)
        self._pending: dict[str, list] = defaultdict(list)

    def __len__(self) -> int:
        return len(self.run_ids)

    def add(self, run_ids: list[int], tables: dict[str, Any], failed: list[int] = (), retried: list[int] = ()) -> None:
        """Runs that finished together, with their tables (one Arrow table per output, all runs)."""

        if not self.run_ids:
            self.since = time.monotonic()
        self.run_ids.extend(run_ids)
        self.failed.extend(failed)
        self.retried.extend(retried)
        for name, table in tables.items():
            pending = self._pending[name]
            pending.append(table)
            self.rows += table.num_rows
            self.nbytes += table.nbytes
            if len(pending) >= COMPACT_EVERY:
                self._groups[name].append(pa.concat_tables(pending, promote_options="permissive").combine_chunks())
                pending.clear()

    def tables(self) -> dict[str, list]:
        return {
            name: self._groups.get(name, []) + self._pending.get(name, [])
            for name in dict.fromkeys([*self._groups, *self._pending])
        }

    def clear(self) -> None:
        self.__init__()


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: the sweep commits what has finished and stops; resume to go on."""


@dataclass
class SweepResult:
    out: Path
    spec_hash: str
    total: int  # runs in the design
    done: int  # runs committed (including failed ones), over all sessions
    failed: int  # failed runs, over all sessions
    ran: int  # runs finished in this session
    failed_now: int  # runs that failed in this session
    skipped: int  # runs already done when this session started
    seconds: float
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED_RUNS if self.failed else EXIT_OK


class _Signals:
    """Turn SIGINT/SIGTERM into SweepInterrupted, but never in the middle of a commit, nor while a
    finished batch enters the buffer."""

    def __init__(self) -> None:
        self.critical = False
        self.pending: int | None = None
        self._old: dict[int, Any] = {}

    def _handler(self, signum, frame) -> None:
        if self.critical:
            self.pending = signum
            return
        raise SweepInterrupted(signum)

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._old[sig] = signal.signal(sig, self._handler)

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)
        self._old.clear()

    @contextmanager
    def critical_section(self) -> Iterator[None]:
        self.critical = True
        try:
            yield
        finally:
            self.critical = False
        if self.pending is not None:
            signum, self.pending = self.pending, None
            raise SweepInterrupted(signum)


def _existing(out: Path) -> dict[str, Any] | None:
    """The manifest of a sweep already in `out`, None if `out` is new; refuse other directories."""
    if not out.exists():
        return None
    if not out.is_dir():
        raise SpecError(f"--out '{out}' exists and is not a directory")
    if (out / store.MANIFEST).is_file():
        try:
            record = store.read_manifest(out)
        except (OSError, ValueError) as exc:
            raise SpecError(f"'{out / store.MANIFEST}' cannot be read ({exc})") from None
        if record.get("kind") != "sweep":
            raise SpecError(f"'{out}' holds the output of something other than a sweep; choose another --out")
        return record
    ours = {store.LOCK, store.COMMITS, store.STAGING}
    others = [p.name for p in out.iterdir() if p.name not in ours and not p.name.startswith(".")]
    if others:
        raise SpecError(f"'{out}' is not empty and holds no sweep (no manifest.json); choose another --out")
    if store.read_commits(out):
        raise SpecError(f"'{out}' has committed chunks but no manifest.json; it cannot be resumed")
    return None


def prepare(exp: Experiment, out: str | Path, resume: bool = False) -> tuple[designs.Design, str, dict | None]:
    """Build and check the design, and check that `out` is new or holds this very sweep."""
    out = Path(out)
    design = designs.build(exp)
    h = spec_hash(exp, design.digest, design.n_points * exp.replicates)
    try:
        old = _existing(out)
    except OSError as exc:
        raise SpecError(f"--out '{out}' cannot be read: {os_error_text(exc)}") from None
    if resume and old is None:
        raise SpecError(f"--resume: '{out}' holds no sweep to resume")
    if old is not None and old.get("spec_hash") != h:
        quick = (
            ""
            if bool(old.get("quick")) == exp.quick
            else f" (it was run {'with' if old.get('quick') else 'without'} --quick)"
        )
        raise SpecError(
            f"'{out}' holds a sweep of a different spec{quick} (spec hash {str(old.get('spec_hash'))[:12]}, "
            f"now {h[:12]}); resume it with `bettercare sweep --out {shlex.quote(str(out))} --resume`, or choose another --out"
        )
    return design, h, old


def _error_table(exp: Experiment, design: designs.Design, run_id: int, error: dict[str, Any]):

    point = run_id // exp.replicates
    cols: dict[str, Any] = {
        "run_id": pa.array([run_id], pa.int64()),
        "point_id": pa.array([point], pa.int64()),
        "replicate": pa.array([run_id % exp.replicates], pa.int64()),
        "seed": pa.array([designs.seed_of(exp, run_id, design.n_points * exp.replicates)], pa.int64()),
        "error_type": pa.array([str(error.get("error_type", ""))], pa.string()),
        "message": pa.array([str(error.get("message", ""))], pa.string()),
        "traceback": pa.array([str(error.get("traceback", ""))], pa.string()),
    }
    for name, value in design.points[point].items():
        cols[name] = pa.array([designs.column_value(value)])
    return pa.table(cols)


def _progress(enabled: bool, total: int, done: int, label: str, console: Any = None):
    """The sweep's progress bar on stderr. At 80 columns and less, the experiment's name and the
    bar give way first: the counts, failures and times are never cut."""
    if not enabled:
        return None, None

    def fixed() -> Column:
        return Column(no_wrap=True)

    bar = Progress(
        TextColumn("[bold]{task.description}", table_column=Column(overflow="ellipsis", no_wrap=False)),
        BarColumn(bar_width=None, table_column=Column(ratio=1, min_width=4, max_width=40)),
        MofNCompleteColumn(table_column=fixed()),
        TaskProgressColumn(table_column=fixed()),
        TextColumn("[red]{task.fields[failed]} failed", table_column=fixed()),
        TimeElapsedColumn(table_column=fixed()),
        TextColumn("ETA", table_column=fixed()),
        TimeRemainingColumn(table_column=fixed()),
        console=console or Console(stderr=True),
        transient=False,
    )
    task = bar.add_task(label, total=total, completed=done, failed=0)
    return bar, task


def run_sweep(
    exp: Experiment,
    out: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    backend: Any = None,
    resume: bool = False,
    retry_failed: bool = False,
    progress: bool = False,
    log=None,
) -> SweepResult:
    """Run (or resume) an experiment into `out`. Raises SpecError for bad input, before any run.

    Backend: `backend` if given, else a Dask client / `scheduler` address, else `workers` local
    processes (default: one per core; 0 runs in this process). `log(text)` receives notes for the
    user (default: stderr). The result says what was done; its `exit_code` is 0, 1 (some runs
    failed) or 130 (interrupted; resume to go on).
    """

    out = Path(out)
    if log is None:

        def log(text: str) -> None:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    design, h, old = prepare(exp, out, resume)
    R = exp.replicates
    total = design.n_points * R
    started = mf.utc_now()
    t0 = time.perf_counter()
    signals = _Signals()

    try:
        st = store.Store(out).open()
    except store.StoreError as exc:
        raise SpecError(str(exc)) from None
    except OSError as exc:
        raise SpecError(f"--out '{out}' cannot be created or written: {mf.os_error_text(exc)}") from None
    try:
        done = st.done_run_ids()
        failed = st.failed_run_ids()
        if any(i >= total or i < 0 for i in done):
            raise SpecError(f"'{out}' holds runs outside this design; choose another --out")
        retry = set(failed) if retry_failed else set()
        skipped = len(done) - len(retry)
        if backend is None:
            if client is None and scheduler in (None, "local") and workers != 0:
                workers, notice = cap_workers(workers, total - skipped)
                if notice:
                    log(notice)
            backend = make_backend(workers, scheduler, client)
        now = {**mf.git_state(), "versions": mf.package_versions()}  # this session's code
        if old is not None:
            for key in ("git_revision", "versions"):
                if old.get(key) != now.get(key):
                    log(f"note: {key.replace('_', ' ')} differs from the session that started this sweep")
            log(f"resuming '{out}': {skipped} of {total} runs already done")
        if retry_failed:
            log(f"retrying {len(retry)} failed run(s)" if retry else "--retry-failed: no failed runs to retry")

        seeds = [designs.seed_of(exp, i, total) for i in range(total)] if total <= SEEDS_IN_MANIFEST else []
        sessions = list(old.get("sessions", [])) if old else []
        first_started = old.get("started_utc", started) if old else started

        def write_manifest(status: str, ran: int, failed_now: int, ended: str | None, describe: dict) -> None:
            session = {
                "started_utc": started,
                "ended_utc": ended,
                "ran": ran,
                "failed": failed_now,
                "retried": len(retry),
                "batches": timing["batches"],
                "seconds": round(time.perf_counter() - t0, 3),
                "git_revision": now.get("git_revision"),
                "bettercare": now["versions"].get("bettercare"),
                **describe,
            }
            n_done = len(st.done_run_ids())
            n_failed = len(st.failed_run_ids())
            extra = {
                "kind": "sweep",
                "status": status,
                "experiment": exp.name,
                "description": exp.description,
                "spec": exp.resolved(),
                "spec_hash": h,
                "spec_source": exp.source,
                "spec_text": exp.text,
                "quick": exp.quick,
                "design": {**design.info, "problem": design.problem, "file": store.DESIGN},
                "replicates": R,
                "master_seed": exp.seed,
                "seed_scheme": exp.seed_scheme(total),
                "points": design.n_points,
                "runs": total,
                "tables": exp.tables,
                "outcomes": exp.outcomes,
                "id_columns": list(store.SWEEP_ID_COLUMNS),
                "param_columns": design.names,
                "error_columns": list(store.ERROR_COLUMNS),
                "started_utc": first_started,
                "ended_utc": ended,
                "sessions": [*sessions, session],
                "counts": {
                    "runs": total,
                    "done": n_done,
                    "ok": n_done - n_failed,
                    "failed": n_failed,
                    "remaining": total - n_done,
                },
            }
            record = mf.manifest(exp.base.name, exp.base.params.flat(), seeds, extra, started_utc=first_started)
            mf.write_json_atomic(out / store.MANIFEST, record)

        timing = {"runs": 0, "seconds": 0.0, "batches": 0}
        # Recent run times: their median sizes batches, so that the slow first run of each fresh
        # worker (imports, data, the pre-period) does not keep short runs travelling one by one.
        recent: deque[float] = deque(maxlen=RECENT_RUNS)

        def batch_size(remaining: int, workers: int) -> int:
            """Runs per batch: one until runs have been timed, then about BATCH_SECONDS of work,
            and never so many that the workers could run dry near the end."""
            if not recent:
                return 1
            per_run = max(statistics.median(recent), 1e-4)
            return max(
                1,
                min(
                    int(BATCH_SECONDS / per_run),
                    MAX_BATCH,
                    exp.chunk_runs or CHUNK_RUNS,
                    remaining // (4 * max(workers, 1)),
                ),
            )

        def batches() -> Iterator[list[Any]]:

            table_names = tuple(exp.tables)
            todo = (i for i in range(total) if i not in done or i in retry)  # lazily: no list of the sweep
            remaining = total - len(done) + len(retry)
            while remaining > 0:
                k = batch_size(remaining, getattr(backend, "workers", 1))
                batch = []
                for run_id in itertools.islice(todo, k):
                    point_id = run_id // R
                    point = design.points[point_id]
                    batch.append(
                        RunTask(
                            run_id=run_id,
                            point_id=point_id,
                            replicate=run_id % R,
                            seed=designs.seed_of(exp, run_id, total),
                            overrides=point,
                            columns={name: designs.column_value(v) for name, v in point.items()},
                            base=exp.base,
                            tables=table_names,
                        )
                    )
                remaining -= len(batch)
                if not batch:
                    return
                yield batch

        buf = _Buffer()
        ran = failed_now = 0

        def flush() -> None:
            if not len(buf):
                return
            with signals.critical_section():
                st.commit(list(buf.run_ids), list(buf.failed), buf.tables(), retried=list(buf.retried))
                buf.clear()

        interrupted = False
        describe: dict[str, Any] = {"backend": getattr(backend, "name", "?")}
        bar, bar_task = _progress(progress, total, skipped, exp.name)
        signals.install()
        try:
            with backend:  # workers start (or the cluster is reached) here, before anything is written
                describe = backend.describe()
                if not (out / store.DESIGN).exists():
                    store.write_parquet_atomic(out / store.DESIGN, design.matrix)
                write_manifest("running", 0, 0, None, describe)
                if bar is not None:
                    bar.start()
                for result in backend.imap_unordered(batches()):
                    timing["batches"] += 1
                    failed_ids = []
                    errors = []
                    for outcome in result.outcomes:
                        ran += 1
                        timing["runs"] += 1
                        timing["seconds"] += outcome.seconds
                        recent.append(outcome.seconds)
                        if not outcome.ok:
                            failed_now += 1
                            failed_ids.append(outcome.run_id)
                            errors.append(_error_table(exp, design, outcome.run_id, outcome.error or {}))
                    tables = dict(result.tables)
                    if errors:
                        tables[store.ERRORS] = pa.concat_tables(errors) if len(errors) > 1 else errors[0]
                    ids = result.run_ids
                    # A signal between adding a batch's run ids and its last table would commit
                    # runs with rows missing from some tables: the batch goes in whole or not at all.
                    with signals.critical_section():
                        buf.add(ids, tables, failed=failed_ids, retried=[i for i in ids if i in retry])
                    if bar is not None:
                        bar.update(bar_task, advance=len(ids), failed=len(failed - retry) + failed_now)
                    if (
                        len(buf) >= (exp.chunk_runs or CHUNK_RUNS)
                        or buf.rows >= exp.chunk_rows
                        or buf.nbytes >= CHUNK_BYTES
                        or time.monotonic() - buf.since >= exp.chunk_seconds
                    ):
                        flush()
                flush()
        except SweepInterrupted:
            interrupted = True
        finally:
            if bar is not None:
                bar.stop()
            try:
                flush()  # runs that finished before an interrupt are kept
            except SweepInterrupted:
                interrupted = True
                flush()
            signals.restore()
        n_done = len(st.done_run_ids())
        if not interrupted and n_done < total:
            raise RuntimeError(f"sweep ended with {total - n_done} runs neither done nor failed")
        status = "interrupted" if interrupted else "complete"
        write_manifest(status, ran, failed_now, mf.utc_now(), describe)
        store.clean_temp(out)
        return SweepResult(
            out=out,
            spec_hash=h,
            total=total,
            done=n_done,
            failed=len(st.failed_run_ids()),
            ran=ran,
            failed_now=failed_now,
            skipped=skipped,
            seconds=time.perf_counter() - t0,
            interrupted=interrupted,
        )
    finally:
        st.close()
