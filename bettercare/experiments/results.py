"""`load(dir)`: a finished (or partly finished) sweep directory, ready for analysis."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import store

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Sweep:
    """A sweep directory: its manifest, its design and its tables (committed runs only)."""

    path: Path
    manifest: dict[str, Any] = field(repr=False)

    @property
    def tables(self) -> list[str]:
        return list(self.manifest.get("tables", []))

    @property
    def param_columns(self) -> list[str]:
        return list(self.manifest.get("param_columns", []))

    @property
    def outcomes(self) -> list[str]:
        return list(self.manifest.get("outcomes", []))

    @property
    def problem(self) -> dict[str, Any] | None:
        """The SALib problem dict of a sobol/morris/lhs design (None for factorial and file)."""
        return self.manifest.get("design", {}).get("problem")

    @cached_property
    def design(self) -> pd.DataFrame:
        return store.read_design(self.path)

    def table(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        return store.read_table(self.path, name, columns)

    @property
    def errors(self) -> pd.DataFrame:
        return store.read_table(self.path, store.ERRORS)

    def done_run_ids(self) -> set[int]:
        return store.done_run_ids(self.path)

    @property
    def complete(self) -> bool:
        return len(self.done_run_ids()) == int(self.manifest.get("runs", -1))


def load(path: str | Path) -> Sweep:
    path = Path(path)
    return Sweep(path=path, manifest=store.read_manifest(path))
