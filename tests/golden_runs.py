"""The golden runs: what the model produced before a refactor that must change no result.

`python tests/golden_runs.py` records them into tests/golden/ (one Parquet file per run and
table); tests/test_golden.py compares fresh runs with them. Re-record only in a commit that
changes the model's behaviour on purpose, and say so in its message.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from bettercare import run
from bettercare.model.scenario import PRESETS

GOLDEN = Path(__file__).parent / "golden"

# (scenario, seed, tables kept beyond the national fields)
RUNS: list[tuple[str, int, tuple[str, ...]]] = [
    ("england-2014", 1, ("areas", "offers")),
    ("england-2014", 2, ("areas",)),
    ("england-2014", 3, ("areas",)),
    *[(name, 1, ("areas",)) for name in PRESETS if name != "england-2014"],
]


def frames(scenario: str, seed: int, tables: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    r = run(scenario, seed=seed)
    out = {"national": pd.DataFrame([r.national])}
    for name in tables:
        out[name] = getattr(r, name).reset_index(drop=True)
    return out


def path(scenario: str, seed: int, table: str) -> Path:
    return GOLDEN / f"{scenario}__seed{seed}__{table}.parquet"


def record() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for scenario, seed, tables in RUNS:
        for table, df in frames(scenario, seed, tables).items():
            df.to_parquet(path(scenario, seed, table), index=False)
        print(f"recorded {scenario} seed {seed}")


if __name__ == "__main__":
    sys.exit(record())
