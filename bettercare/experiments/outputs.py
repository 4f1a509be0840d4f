"""Tidy output tables on disk: every row says which run, seed, scenario and parameters made it.

Layout of an output directory (docs/outputs.md): one Parquet file per table, concatenated over
runs, and `manifest.json`, written last, so its presence means the directory is complete.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bettercare.model.outputs import RUN_ID_COLUMNS

from .manifest import write_atomic, write_json_atomic

if TYPE_CHECKING:
    import pandas as pd

    from bettercare.model.results import RunResult


def param_columns(params: dict[str, Any]) -> dict[str, Any]:
    """Flat parameters as column values: lists and dicts become JSON text, scalars stay as they are."""
    return {k: json.dumps(v) if isinstance(v, (list, dict, tuple)) else v for k, v in params.items()}


def tag(df: pd.DataFrame, run_id: int, seed: int | None, scenario: str, params: dict[str, Any]) -> pd.DataFrame:
    """A copy of `df` with run_id, seed and scenario first and one column per parameter last."""

    n = len(df)
    ids = pd.DataFrame(
        {
            "run_id": pd.Series([run_id] * n, dtype="int64"),
            "seed": pd.Series([seed] * n, dtype="Int64"),
            "scenario": pd.Series([scenario] * n, dtype="string"),
        }
    )
    cols = param_columns(params)
    clash = set(cols) & set(df.columns) | set(RUN_ID_COLUMNS) & set(df.columns)
    if clash:
        raise ValueError(f"output columns clash with run columns: {sorted(clash)}")
    prm = pd.DataFrame({k: [v] * n for k, v in cols.items()}, index=range(n))
    return pd.concat([ids, df.reset_index(drop=True), prm], axis=1)


def tidy_tables(results: Sequence[RunResult], run_ids: Sequence[int] | None = None) -> dict[str, pd.DataFrame]:
    """Each table concatenated over runs, tagged by `tag()`. Run ids default to 0, 1, 2..."""

    if run_ids is None:
        run_ids = range(len(results))
    parts: dict[str, list[pd.DataFrame]] = {}
    for rid, res in zip(run_ids, results, strict=True):
        for name, df in res.tables().items():
            parts.setdefault(name, []).append(tag(df, rid, res.seed, res.scenario, res.params))
    return {name: pd.concat(dfs, ignore_index=True) for name, dfs in parts.items()}


def write_parquet_atomic(path: str | Path, df: pd.DataFrame) -> Path:
    """Write a DataFrame to Parquet (pyarrow, no index) via a temporary file and `os.replace`."""
    return write_atomic(path, lambda tmp: df.to_parquet(tmp, engine="pyarrow", index=False))


def write_outputs(
    out_dir: str | Path, tables: dict[str, pd.DataFrame], manifest_record: dict[str, Any]
) -> dict[str, Any]:
    """Write `<name>.parquet` for every table, then `manifest.json` listing the files.

    Returns the manifest as written. Its `files` entry gives each table's file, row count and
    own columns; every table also carries `id_columns` first and `param_columns` last.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    param_names = list(manifest_record.get("params", {}))
    skip = set(RUN_ID_COLUMNS) | set(param_names)
    files = {}
    for name, df in tables.items():
        fname = f"{name}.parquet"
        write_parquet_atomic(out / fname, df)
        files[name] = {"file": fname, "rows": int(len(df)), "columns": [str(c) for c in df.columns if c not in skip]}
    record = {**manifest_record, "id_columns": list(RUN_ID_COLUMNS), "param_columns": param_names, "files": files}
    write_json_atomic(out / "manifest.json", record)
    return record
