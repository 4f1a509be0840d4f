"""Targeted refit of the centre's verdict parameters (issue 13; docs/validation.md).

Only `centre.stress_test_noise`, `centre.approve_ratio` and `centre.conditions_ratio` move; every
other parameter stays at the england-2014 fit.

Stage 1: for each stress-test noise on a grid, the first-review ratios q (claimed over
stress-tested savings) of seeds 1-6, run to the end of assurance with both thresholds at their
bounds (no returns), give the thresholds that reproduce the record's first-review shares:
`conditions_ratio` is the 96.7th percentile of q (5 of 151 returned), `approve_ratio` the q below
which 37.1% of plans are approved outright (about 56 of 151). Stage 2: each candidate, and the
current fit, on the 20 validation seeds (seed 2014): the distance over the calibration facts.
Prints one JSON line per candidate; writes nothing.

    .venv/bin/python scripts/refit_centre.py 0.2,0.27,0.335,0.4,0.5,0.6,0.75
"""

from __future__ import annotations

import json
import sys

import numpy as np

from bettercare.analysis.validation import distance, evaluate, load_facts, run_nationals
from bettercare.experiments.designs import replicate_seeds
from bettercare.model.model import BetterCareModel
from bettercare.model.scenario import calibrated
from bettercare.vocabulary.plan import Slot
from bettercare.vocabulary.status import Phase

FACTS = {f.id: f.reference for f in load_facts()}
RETURNED = FACTS["first_review_not_approved_share"]  # 0.033: 5 of 151
OUTRIGHT = FACTS["first_review_approved_share"]  # 0.371: about 56 of 151


def thresholds(noise: float, seeds: range = range(1, 7)) -> tuple[float, float]:
    """(approve_ratio, conditions_ratio) that give the record's first-review shares at this noise."""
    q, ok = [], []
    for s in seeds:
        m = BetterCareModel(
            rng=s,
            record_offers=False,
            **{"centre.stress_test_noise": noise, "centre.conditions_ratio": 100.0, "centre.approve_ratio": 50.0},
        )
        while m.phase != Phase.DELIVERY:
            m.step()
        for a, r in m.first_review.items():
            q.append(r.ratio)
            ok.append(bool(m.tables[a].plan[Slot.AMBITION] >= m.rules.ambition_target - 1e-12))
    q_arr, ok_arr = np.array(q), np.array(ok)
    conditions = float(np.quantile(q_arr, 1 - RETURNED))
    approve = float(np.sort(q_arr[ok_arr])[int(round(OUTRIGHT * len(q_arr))) - 1])
    return approve, conditions


def main(noises: list[float]) -> None:
    cal = calibrated()
    candidates = [
        ("current fit", cal["centre.stress_test_noise"], cal["centre.approve_ratio"], cal["centre.conditions_ratio"])
    ]
    candidates += [("stage 1", noise, *thresholds(noise)) for noise in noises]
    seeds = replicate_seeds(2014, 20)
    for label, noise, approve, conditions in candidates:
        overrides = {
            "centre.stress_test_noise": noise,
            "centre.approve_ratio": round(approve, 3),
            "centre.conditions_ratio": round(conditions, 3),
        }
        table = evaluate(run_nationals("england-2014", seeds, overrides, workers=2))
        row = {"label": label, **overrides, "distance": round(distance(table), 4), "met": int(table.met.sum())}
        row["rows"] = {r.id: [round(r.model_mean, 4), bool(r.met)] for r in table.itertuples()}
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main([float(x) for x in sys.argv[1].split(",")])
