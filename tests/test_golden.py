"""Results are bit-identical to the golden runs recorded before the agents refactor (issue 10).

Any difference fails, with the columns that moved and by how much. A difference that comes only
from floating-point summation order must be listed in FLOAT_ORDER with its reason, and is then
compared to a relative 1e-12.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from golden_runs import RUNS, frames, path

# (table, column): why its value may differ in the last bits.
FLOAT_ORDER: dict[tuple[str, str], str] = {}


@pytest.mark.parametrize("scenario,seed,tables", RUNS, ids=[f"{s}-{n}" for s, n, _ in RUNS])
def test_run_matches_golden(scenario, seed, tables):
    fresh = frames(scenario, seed, tables)
    for table, df in fresh.items():
        gold = pd.read_parquet(path(scenario, seed, table))
        assert list(df.columns) == list(gold.columns), f"{table}: columns changed"
        assert len(df) == len(gold), f"{table}: {len(gold)} rows became {len(df)}"
        moved = []
        for col in gold.columns:
            a, b = gold[col].to_numpy(), df[col].to_numpy()
            if (table, col) in FLOAT_ORDER:
                same = np.allclose(a.astype(float), b.astype(float), rtol=1e-12, atol=0.0, equal_nan=True)
            elif a.dtype.kind == "f" or b.dtype.kind == "f":
                same = np.array_equal(a.astype(float), b.astype(float), equal_nan=True)
            else:
                same = pd.Series(a).equals(pd.Series(b).astype(pd.Series(a).dtype)) or list(a) == list(b)
            if not same:
                moved.append(col)
        assert not moved, f"{scenario} seed {seed} {table}: changed columns {moved}"
