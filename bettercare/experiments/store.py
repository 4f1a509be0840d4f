"""The on-disk result store of a sweep: a chunked Parquet dataset, committed atomically.

Layout of a sweep directory DIR (docs/experiments.md):

    DIR/manifest.json              the spec, its hash, versions, git revision, times, counts
    DIR/design.parquet             point_id + the design matrix (the raw SALib sample, if any)
    DIR/national/part-00000.parquet  one directory per output table, one file per chunk
    DIR/areas/part-00000.parquet
    DIR/errors/part-00003.parquet  failed runs: ids, parameters, seed, error and traceback
    DIR/_commits/part-00000.json   the commit record of chunk 0: its run ids and its files
    DIR/_staging/                  files of a chunk being written (never read as results)

A chunk is committed in three steps: (1) each of its table files is written and fsynced under
_staging/; (2) its commit record is written to a temporary name, fsynced and renamed into
_commits/ (one `os.replace`: this is the commit point); (3) the staged files are renamed into
their table directories. A crash before (2) leaves only staged files, which the next opening
deletes; a crash after (2) is rolled forward by the next opening. So the runs that are done are
exactly the union of the run ids of the commit records, every committed run has all its rows,
and no run is ever committed twice. Every Parquet file also names its run ids in its metadata.

The one exception is a retry (`bettercare sweep --retry-failed`): a later chunk may commit again a
run that an earlier chunk committed as failed, listing it under "retried". The later commit is
the run's outcome; the earlier chunk's `errors` row for it is superseded and no longer read.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from bettercare.model.outputs import SWEEP_ID_COLUMNS

from .manifest import fsync_dir, write_atomic, write_json_atomic

COMMITS = "_commits"
STAGING = "_staging"
LOCK = ".lock"
MANIFEST = "manifest.json"
DESIGN = "design.parquet"
ERRORS = "errors"
ERROR_COLUMNS = ("error_type", "message", "traceback")
_PART = re.compile(r"^part-(\d{5,})\.json$")


class StoreError(RuntimeError):
    """The directory cannot be used as a sweep store; the message is one line for the user."""


def _write_parquet(path: Path, table: pa.Table, run_ids: list[int]) -> None:

    meta = dict(table.schema.metadata or {})
    meta.pop(b"pandas", None)
    meta[b"bettercare.run_ids"] = json.dumps(run_ids).encode()
    table = table.replace_schema_metadata(meta)
    with open(path, "wb") as f:
        pq.write_table(table, f, compression="zstd")
        f.flush()
        os.fsync(f.fileno())


def write_parquet_atomic(path: str | Path, df: pd.DataFrame) -> Path:
    """Write a DataFrame to Parquet (pyarrow, no index) via a temporary file and `os.replace`."""
    return write_atomic(path, lambda tmp: df.to_parquet(tmp, engine="pyarrow", index=False))


def read_commits(root: str | Path) -> list[dict[str, Any]]:
    """The commit records of a sweep directory, in chunk order (read-only)."""
    d = Path(root) / COMMITS
    if not d.is_dir():
        return []
    records = []
    for p in sorted(d.iterdir()):
        if _PART.match(p.name):
            with open(p, encoding="utf-8") as f:
                records.append(json.load(f))
    records.sort(key=lambda r: r["chunk"])
    return records


class Store:
    """A sweep directory opened for writing: locked, recovered, and ready to commit chunks."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self._lock_fd: int | None = None
        self.commits: list[dict[str, Any]] = []

    # -- opening ---------------------------------------------------------------------------
    def open(self) -> Store:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / COMMITS).mkdir(exist_ok=True)
        (self.root / STAGING).mkdir(exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            # A POSIX record lock: held by this process only (forked workers do not inherit it),
            # and released by the kernel when the process dies, even by SIGKILL.
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise StoreError(f"another sweep is writing to '{self.root}' right now") from None
        self._lock_fd = fd
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.recover()
        return self

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the lock
            self._lock_fd = None

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    def recover(self) -> None:
        """Roll committed chunks forward, and delete everything that was never committed."""
        self.commits = read_commits(self.root)
        referenced = set()
        for rec in self.commits:
            for info in rec["files"].values():
                final = self.root / info["path"]
                staged = self.root / STAGING / info["staged"]
                referenced.add(info["staged"])
                if final.exists():
                    continue
                if staged.exists():
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(staged, final)
                else:
                    raise StoreError(
                        f"'{self.root}' is damaged: chunk {rec['chunk']} lists {info['path']}, which is missing"
                    )
        for p in (self.root / STAGING).iterdir():
            p.unlink()  # uncommitted: the runs in it will run again
        for p in (self.root / COMMITS).iterdir():
            if not _PART.match(p.name):
                p.unlink()  # a commit record that never reached its final name
        done: set[int] = set()
        failed: set[int] = set()
        for rec in self.commits:
            ids = set(rec["run_ids"])
            retried = set(rec.get("retried", []))
            if (ids - retried) & done or not retried <= failed:
                raise StoreError(f"'{self.root}' is damaged: chunk {rec['chunk']} repeats runs of an earlier chunk")
            done |= ids
            failed = (failed - ids) | set(rec.get("failed", []))

    # -- state -----------------------------------------------------------------------------
    def done_run_ids(self) -> set[int]:
        return {i for rec in self.commits for i in rec["run_ids"]}

    def failed_run_ids(self) -> set[int]:
        """Runs whose latest commit records them as failed (a successful retry clears a failure)."""
        return _failed(self.commits)

    def next_chunk(self) -> int:
        return max((rec["chunk"] for rec in self.commits), default=-1) + 1

    # -- writing ---------------------------------------------------------------------------
    def commit(
        self, run_ids: list[int], failed: list[int], tables: dict[str, list[pa.Table]], retried: list[int] = ()
    ) -> dict[str, Any]:
        """Commit one chunk: `tables` maps a table name (or "errors") to the runs' Arrow tables.

        `retried` names runs of this chunk that an earlier chunk committed as failed."""

        k = self.next_chunk()
        stem = f"part-{k:05d}"
        run_ids = sorted(int(i) for i in run_ids)
        files: dict[str, dict[str, Any]] = {}
        for name, parts in tables.items():
            parts = [t for t in parts if t.num_rows]
            if not parts:
                continue
            table = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
            ids = sorted({int(i) for i in table.column("run_id").to_pylist()})
            staged = f"{stem}.{name}.parquet"
            _write_parquet(self.root / STAGING / staged, table, ids)
            files[name] = {"path": f"{name}/{stem}.parquet", "staged": staged, "rows": table.num_rows}
        fsync_dir(self.root / STAGING)
        record = {"chunk": k, "run_ids": run_ids, "failed": sorted(int(i) for i in failed), "files": files}
        if retried:
            stale = set(retried) - self.failed_run_ids()
            if stale or not set(retried) <= set(run_ids):
                raise ValueError(f"retried runs {sorted(stale)} were not failed runs of this sweep")
            record["retried"] = sorted(int(i) for i in retried)
        write_json_atomic(self.root / COMMITS / f"{stem}.json", record, indent=1)  # the commit point
        for info in files.values():
            final = self.root / info["path"]
            final.parent.mkdir(exist_ok=True)
            os.replace(self.root / STAGING / info["staged"], final)
        self.commits.append(record)
        return record


def _failed(commits: list[dict[str, Any]]) -> set[int]:
    failed: set[int] = set()
    for rec in commits:
        failed = (failed - set(rec["run_ids"])) | set(rec.get("failed", []))
    return failed


# --- reading -----------------------------------------------------------------------------------


def _file_for(root: Path, info: dict[str, Any]) -> Path | None:
    final = root / info["path"]
    if final.exists():
        return final
    staged = root / STAGING / info["staged"]  # committed, not yet moved: still a committed file
    return staged if staged.exists() else None


def _superseded(commits: list[dict[str, Any]]) -> dict[int, set[int]]:
    """For each chunk, its runs that a later chunk retried (their rows here are no longer read)."""
    out: dict[int, set[int]] = {}
    later: set[int] = set()
    for rec in reversed(commits):
        gone = set(rec["run_ids"]) & later
        if gone:
            out[rec["chunk"]] = gone
        later |= set(rec.get("retried", []))
    return out


def _table_parts(root: Path, name: str) -> list[tuple[Path, set[int]]]:
    commits = read_commits(root)
    superseded = _superseded(commits)
    out = []
    for rec in commits:
        info = rec["files"].get(name)
        if info is not None:
            p = _file_for(root, info)
            if p is None:
                raise StoreError(f"'{root}' is damaged: {info['path']} is missing")
            out.append((p, superseded.get(rec["chunk"], set())))
    return out


def table_files(root: str | Path, name: str) -> list[Path]:
    """The committed Parquet files of one table, in chunk order.

    After `--retry-failed`, an `errors` file may still hold rows of runs retried later; read
    through `read_table`, which drops them."""
    return [p for p, _ in _table_parts(Path(root), name)]


def read_arrow(root: str | Path, name: str, columns: Iterable[str] | None = None) -> pa.Table | None:

    parts_info = _table_parts(Path(root), name)
    if not parts_info:
        return None
    cols = list(columns) if columns is not None else None
    parts = []
    for path, gone in parts_info:
        if gone:
            table = pq.read_table(path, columns=sorted({*(cols or []), "run_id"}) if cols else None)
            table = table.filter(pc.invert(pc.is_in(table.column("run_id"), pa.array(sorted(gone), pa.int64()))))
            parts.append(table.select(cols) if cols else table)
        else:
            parts.append(pq.read_table(path, columns=cols))
    return pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]


def read_table(root: str | Path, name: str, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """One output table of a sweep (committed runs only), sorted by run_id.

    Rows of one run keep the order the model wrote them in; the result is the same whatever the
    backend, worker count or chunking. `name` is an output table ("national", "areas", ...) or
    "errors". A table with no rows yet gives an empty frame with the id columns.
    """

    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"no sweep directory '{root}'")
    cols = None
    if columns is not None:
        cols = list(dict.fromkeys(["run_id", *columns]))
    table = read_arrow(root, name, cols)
    if table is None:
        base = list(SWEEP_ID_COLUMNS) + (list(ERROR_COLUMNS) if name == ERRORS else [])
        return pd.DataFrame({c: pd.Series(dtype="object") for c in (cols or base)})
    df = table.to_pandas()
    df = df.sort_values("run_id", kind="stable").reset_index(drop=True)
    if columns is not None and "run_id" not in columns:
        df = df.drop(columns="run_id")
    return df


def read_manifest(root: str | Path) -> dict[str, Any]:
    path = Path(root) / MANIFEST
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_design(root: str | Path) -> pd.DataFrame:

    return pd.read_parquet(Path(root) / DESIGN)


def done_run_ids(root: str | Path) -> set[int]:
    return {i for rec in read_commits(root) for i in rec["run_ids"]}


def clean_temp(root: str | Path) -> None:
    """Remove stray temporary files left by an interrupted atomic JSON write."""
    with contextlib.suppress(FileNotFoundError):
        for p in Path(root).iterdir():
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                p.unlink()
