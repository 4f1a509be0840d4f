"""Tables that wait for people talk at the same time, with exactly the sequential result.

The workshop seats people at several tables; `BetterCareModel._talk_together` runs those tables'
weeks in threads so that one table's people do not wait for another's. These tests play slow
"people" (seats that wait a random while, releasing the shared lock as a person's seat does) at
every table, including areas that share CCGs, and check the run against the plain
sequential one: the same offers, in the same order, and the same national results.
"""

from __future__ import annotations

import random
import threading

import numpy as np
import pandas as pd
import pytest

from bettercare.model.model import BetterCareModel
from bettercare.model.results import collect

# Hartlepool and Stockton-on-Tees share two CCGs (so a relationship: the order of their weeks
# matters), as do Rutland and Leicestershire; Bournemouth, Poole and Dorset share one CCG.
AREAS = ["Hartlepool", "Stockton-on-Tees", "Rutland", "Leicestershire", "Bournemouth", "Poole", "Dorset", "Wigan"]
SETTINGS = {"areas.names": AREAS, "acute.at_table": 1.0, "deadline.weeks": 6}


class SlowSeat:
    """An organisation's own answers, given after a random wait that releases the lock."""

    def __init__(self, org, cond: threading.Condition, jitter: random.Random, busy: dict):
        self.org, self.cond, self.jitter, self.busy = org, cond, jitter, busy

    def _wait(self, table) -> None:
        with self.cond:  # held already when tables talk together; re-entrant
            self.busy["now"].add(table.area)
            self.busy["most"] = max(self.busy["most"], len(self.busy["now"]))
            self.cond.wait(self.jitter.uniform(0.0, 0.004))
            self.busy["now"].discard(table.area)

    def propose(self, table, party: int) -> int:
        self._wait(table)
        return self.org.propose(table, party)

    def respond(self, table, party: int, offer: int) -> bool:
        self._wait(table)
        return self.org.respond(table, party, offer)


def _run(together: bool, seed: int, jitter_seed: int = 0):
    model = BetterCareModel(rng=seed, **SETTINGS)
    busy = {"now": set(), "most": 0}
    if together:
        model.table_condition = threading.Condition(threading.RLock())
        jitter = random.Random(jitter_seed)
        for t in model.tables:
            t.negotiators = [SlowSeat(o, model.table_condition, jitter, busy) for o in t.parties]
        model.waiting_tables = frozenset(range(model.n_areas))
    while model.running:
        model.step()
    national, tables = collect(model, tables=["areas", "offers"])
    return national, tables, busy["most"]


@pytest.mark.parametrize("seed", [1, 7])
def test_tables_together_match_the_sequential_run(seed):
    national, tables, _ = _run(False, seed)
    for jitter_seed in (0, 1):
        n2, t2, most = _run(True, seed, jitter_seed)
        assert most >= 2, "no two tables ever waited at once: the tables did not talk together"
        pd.testing.assert_frame_equal(tables["offers"], t2["offers"])
        pd.testing.assert_frame_equal(tables["areas"], t2["areas"])
        for k, v in national.items():
            if isinstance(v, float) and np.isnan(v):
                assert np.isnan(n2[k]), k
            else:
                assert n2[k] == v, k


def test_an_error_at_one_table_reaches_the_model():
    model = BetterCareModel(rng=2, **SETTINGS)
    model.table_condition = threading.Condition(threading.RLock())

    class Broken:
        def propose(self, table, party):
            raise RuntimeError("a seat broke")

        def respond(self, table, party, offer):
            raise RuntimeError("a seat broke")

    model.tables[1].negotiators = [Broken() for _ in model.tables[1].parties]
    model.waiting_tables = frozenset(range(model.n_areas))
    with pytest.raises(RuntimeError, match="a seat broke"):
        model.step()
    assert model._staged is None
