"""Where runs execute: local worker processes, a Dask distributed cluster, or this process.

Every backend takes an iterator of batches (lists of `RunTask`s; the runner sizes them so that a
batch takes a fraction of a second) and yields a `BatchOutcome` as each batch finishes, in any
order, with a bounded number of batches in flight (so memory does not grow with the sweep).

- `LocalBackend(workers)`: a `ProcessPoolExecutor` whose workers are forked, all at the start,
  either from the sweep process itself (when it has one thread) or from a forkserver that has
  imported the model: no worker ever imports bettercare itself, and workers stay alive for the
  whole sweep. A worker whose sweep process dies exits at once (Linux) or within 0.2 s. If a worker dies (out of
  memory, a crash in native code), the pool is rebuilt and the runs that were in flight run again
  one at a time, alone in the pool, so the culprit is known; a run that kills its worker twice
  when alone is recorded as failed, and the others finish normally.
- `DaskBackend(address | scheduler_file | client)`: the same on a Dask distributed cluster
  (`tcp://host:8786`, a scheduler JSON file written by `dask scheduler --scheduler-file` or
  dask-jobqueue, or a `distributed.Client` you made). Dask workers import the model with their
  first run and keep it.
- `InlineBackend()`: runs in this process, one after another (debugging; `--workers 0`).

All three satisfy `Backend`, the one executor seam (after EMA Workbench's evaluators): sweeps,
replicates, validation and calibration submit their runs through it (`bettercare.experiments.evaluate`).
"""

from __future__ import annotations

import ctypes
import gc
import multiprocessing as mp
import os
import signal
import sys
import threading
import time
import uuid
import warnings
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, Self, runtime_checkable

from . import worker
from .worker import BatchOutcome, RunOutcome, RunTask, run_batch

WORKER_MODULE = "bettercare.experiments.worker"


@runtime_checkable
class Backend(Protocol):
    """Where runs execute. Enter it (`with backend:`) to start its workers; then
    `imap_unordered` takes batches of run specifications and yields each batch's outcome as it
    finishes, in any order, with a bounded number in flight. Ctrl-C (SIGINT) in the caller
    propagates out of `imap_unordered`, and leaving the `with` block on it stops the workers at
    once (workers ignore SIGINT themselves: the caller decides)."""

    name: str
    workers: int

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: Any) -> None: ...

    def describe(self) -> dict[str, Any]: ...

    def imap_unordered(self, batches: Iterator[list[RunTask]]) -> Iterator[BatchOutcome]: ...


def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


MAX_WORKERS_PER_CORE = 2  # runs are CPU-bound: more processes than this only add memory and switching


def cap_workers(requested: int | None, runs: int, cores: int | None = None) -> tuple[int, str | None]:
    """Worker processes for `runs` runs: the request (default one per core), but never more than
    the runs to do nor MAX_WORKERS_PER_CORE per core. Returns (workers, a one-line notice when
    an explicit request was cut, else None)."""
    cores = cores or default_workers()
    limit = max(1, min(runs, MAX_WORKERS_PER_CORE * cores))
    if requested is None:
        return min(cores, limit), None
    if requested <= limit:
        return requested, None
    why = (
        f"{runs:,} run{'s' if runs != 1 else ''} to do"
        if limit == runs
        else f"at most {MAX_WORKERS_PER_CORE} per core on {cores} core{'s' if cores != 1 else ''}"
    )
    return limit, f"note: --workers {requested:,} capped at {limit:,} ({why})"


def _died(task: RunTask, what: str) -> RunOutcome:
    return RunOutcome(task.run_id, False, {}, {"error_type": "WorkerDied", "message": what, "traceback": what})


def _all_died(batch: list[RunTask], what: str) -> BatchOutcome:
    return BatchOutcome([_died(t, what) for t in batch], {})


class InlineBackend:
    name = "inline"

    def __init__(self) -> None:
        self.workers = 1

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "workers": 1}

    def imap_unordered(self, batches: Iterator[list[RunTask]]) -> Iterator[BatchOutcome]:
        for batch in batches:
            yield run_batch(batch)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"  # a zombie is dead
    except OSError:
        return True


WATCH_SECONDS = 0.2  # how often a worker checks that its sweep is alive (where the kernel cannot tell it)
PR_SET_PDEATHSIG = 1  # Linux prctl option: a signal the kernel sends when the parent process dies


def _watch_sweep(pid: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if not _alive(pid):
            os._exit(70)


def _die_with_parent() -> None:
    """On Linux, ask the kernel to kill this worker the moment its parent (the sweep process, or
    the forkserver, which itself exits with the sweep) dies, even by SIGKILL."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _init_worker(sweep_pid: int) -> None:
    """Worker initialiser. Ctrl-C goes to the sweep, which stops the workers itself; SIGTERM ends a
    worker; and a worker whose sweep died (even by SIGKILL) exits at once (Linux) or within
    WATCH_SECONDS, never orphaned."""
    gc.freeze()  # what this worker inherited stays shared: its collections will not touch it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    if not _alive(sweep_pid):  # the sweep died before the kernel was asked to tell us
        os._exit(70)
    threading.Thread(target=_watch_sweep, args=(sweep_pid,), daemon=True, name="watch-sweep").start()


def choose_start_method() -> str:
    """fork when this process has a single thread (workers share its imported model, copy on
    write, and start at once); otherwise forkserver, preloaded with the model (forking a
    multi-threaded process can deadlock)."""
    if threading.active_count() == 1 and "fork" in mp.get_all_start_methods():
        return "fork"
    return "forkserver"


class LocalBackend:
    name = "local"

    def __init__(self, workers: int | None = None, start_method: str | None = None, max_attempts: int = 2):
        self.workers = workers or default_workers()
        self.start_method = start_method
        self.max_attempts = max_attempts
        self._pool = None
        self._froze = False

    def describe(self) -> dict[str, Any]:
        return {"backend": self.name, "workers": self.workers, "start_method": self.start_method}

    def _new_pool(self):

        method = self.start_method or choose_start_method()
        ctx = mp.get_context(method)
        if method == "fork":
            # Objects alive now (the imported model, numpy, pandas) go to the permanent generation,
            # so no garbage collection in a worker writes to them: their pages stay shared with
            # this process instead of being copied one by one as the sweep goes on. Undone in
            # __exit__ (unfreezing is always safe: objects only become collectable again).
            gc.freeze()
            self._froze = True
        if method == "forkserver":
            # The forkserver imports the model once; every worker is forked from it ready to run.
            ctx.set_forkserver_preload([WORKER_MODULE])
        pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_init_worker, initargs=(os.getpid(),)
        )
        # Start every worker now, before the sweep starts any thread of its own (progress bar).
        with warnings.catch_warnings():
            # Python 3.12 warns about fork() whenever the process has more than one OS thread.
            # With no other Python thread running, the only others are idle native pools (OpenBLAS,
            # Arrow), which re-create their threads after fork through pthread_atfork handlers.
            warnings.filterwarnings(
                "ignore", message=r".*use of fork\(\) may lead to deadlocks", category=DeprecationWarning
            )
            try:
                wait([pool.submit(worker.warm_up) for _ in range(self.workers)])
            except BaseException:
                # Ctrl-C while the workers start: __exit__ will not run, so stop them here; left
                # alone, the interpreter would wait at exit for every queued warm-up to finish.
                self._stop(pool, interrupted=True)
                if self._froze:
                    gc.unfreeze()
                    self._froze = False
                raise
        self.start_method = method
        return pool

    def __enter__(self) -> Self:
        self._pool = self._new_pool()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        pool, self._pool = self._pool, None
        try:
            if pool is not None:
                self._stop(pool, interrupted=exc_type is not None)
        finally:
            if self._froze:  # the workers are gone: give the caller's process its collector back
                gc.unfreeze()
                self._froze = False

    @staticmethod
    def _stop(pool, interrupted: bool) -> None:
        if not interrupted:
            pool.shutdown(wait=True)
            return
        # Interrupted: do not wait for runs in progress; stop the workers now.
        procs = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(timeout=5)

    def imap_unordered(self, batches: Iterator[list[RunTask]]) -> Iterator[BatchOutcome]:

        window = 2 * self.workers + 2
        attempts: dict[int, int] = {}
        # After a worker dies, every run that was in flight is a suspect. Suspects then run one at a
        # time, alone in the pool: a death with one run in flight names its culprit for certain,
        # and the innocent runs finish normally.
        suspects: deque[RunTask] = deque()
        in_flight: dict[Any, list[RunTask]] = {}
        batches = iter(batches)
        exhausted = False

        def fill() -> None:
            nonlocal exhausted
            if suspects:
                if not in_flight:
                    task = suspects.popleft()
                    in_flight[self._pool.submit(run_batch, [task])] = [task]
                return
            while len(in_flight) < window:
                batch = None if exhausted else next(batches, None)
                if batch is None:
                    exhausted = True
                    return
                in_flight[self._pool.submit(run_batch, batch)] = batch

        fill()
        while in_flight:
            alone = len(in_flight) == 1 and len(next(iter(in_flight.values()))) == 1
            done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                batch = in_flight.pop(fut)
                try:
                    outcome = fut.result()
                except BrokenProcessPool:
                    broken = True
                    in_flight[fut] = batch  # handled with the others below
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
                    outcome = _all_died(batch, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
                yield outcome
            if broken:
                lost = [t for batch in in_flight.values() for t in batch]
                in_flight.clear()
                if alone:
                    task = lost[0]
                    attempts[task.run_id] = attempts.get(task.run_id, 0) + 1
                    if attempts[task.run_id] >= self.max_attempts:
                        yield BatchOutcome(
                            [
                                _died(
                                    task,
                                    f"a worker process died while running this run alone "
                                    f"({attempts[task.run_id]} attempts): out of memory or a "
                                    f"crash?",
                                )
                            ],
                            {},
                        )
                    else:
                        suspects.appendleft(task)
                else:
                    suspects.extend(lost)
                self._pool.shutdown(wait=False, cancel_futures=True)
                self.start_method = None  # threads may run now: choose again
                self._pool = self._new_pool()
            fill()


class DaskBackend:
    name = "dask"

    def __init__(self, address: str | None = None, client: Any = None, local_workers: int | None = None):
        self.address = address
        self._client = client
        self._own_client = client is None
        self._cluster = None
        self.local_workers = local_workers
        self.workers = 0

    @property
    def client(self) -> Any:
        """The Dask client, once entered (for tools that submit their own work, e.g. pyabc)."""
        return self._client

    def describe(self) -> dict[str, Any]:
        info: dict[str, Any] = {"backend": self.name, "workers": self.workers}
        if self._client is not None:
            info["scheduler"] = self._client.scheduler.address
        return info

    def __enter__(self) -> Self:
        from distributed import Client  # noqa: PLC0415 - the dask extra

        if self._client is None:
            addr = self.address or ""
            if addr == "local":
                from distributed import LocalCluster  # noqa: PLC0415

                self._cluster = LocalCluster(
                    n_workers=self.local_workers or default_workers(),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self._client = Client(self._cluster)
            elif addr.endswith(".json") and os.path.isfile(addr):
                self._client = Client(scheduler_file=addr)
            else:
                self._client = Client(addr, timeout="30s")
        self.workers = sum(self._client.nthreads().values()) or 1
        return self

    def __exit__(self, *exc) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def imap_unordered(self, batches: Iterator[list[RunTask]]) -> Iterator[BatchOutcome]:
        from distributed import as_completed  # noqa: PLC0415

        client = self._client
        token = uuid.uuid4().hex[:8]
        window = 2 * max(self.workers, sum(client.nthreads().values()) or 1) + 2
        batches = iter(batches)
        by_key: dict[str, list[RunTask]] = {}
        ac = as_completed()

        def submit() -> bool:
            batch = next(batches, None)
            if batch is None:
                return False
            fut = client.submit(
                run_batch, batch, key=f"bettercare-runs-{batch[0].run_id}-{len(batch)}-{token}", pure=False, retries=1
            )
            by_key[fut.key] = batch
            ac.add(fut)
            return True

        for _ in range(window):
            if not submit():
                break
        for fut in ac:
            batch = by_key.pop(fut.key)
            try:
                outcome = fut.result()
            except Exception as exc:  # noqa: BLE001 - e.g. KilledWorker: its runs are recorded as failed
                outcome = _all_died(batch, f"{type(exc).__name__}: {' '.join(str(exc).split())}")
            fut.release()
            yield outcome
            submit()


def make_backend(workers: int | None = None, scheduler: str | None = None, client: Any = None):
    """The backend for the command line's --workers / --scheduler (or a Dask client you made)."""
    if client is not None:
        return DaskBackend(client=client)
    if scheduler:
        return DaskBackend(address=scheduler, local_workers=workers)
    if workers == 0:
        return InlineBackend()
    return LocalBackend(workers)
