"""Benchmark: one national delivery year of the flow model (150 areas, 52 weekly steps).

    .venv/bin/python benchmarks/bench_flow.py [--repeats 21]

Prints the median wall time per national delivery year; reports, never fails.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import date

import numpy as np

from bettercare.model.flow import DELIVERY_START, FlowDrive, FlowInputs, FlowModel
from bettercare.model.flow_params import FlowParams


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=21)
    ap.add_argument("--areas", type=int, default=150)
    args = ap.parse_args()
    params = FlowParams()
    rng = np.random.default_rng(1)
    pop = rng.uniform(1e5, 1.4e6, args.areas)
    inputs = FlowInputs.from_population(params, pop, rng=rng)
    drive = FlowDrive.none(args.areas)
    drive.extra_gbp_week[:] = 1e4
    drive.assessment_speedup[:] = 0.2
    end = date(2016, 4, 1)
    times = []
    for i in range(args.repeats + 1):
        gc.collect()
        t = time.perf_counter()
        model = FlowModel(params, inputs, start=DELIVERY_START)
        model.run_until(end, drive)
        model.outcomes(DELIVERY_START, end)
        if i:  # the first run warms up
            times.append(time.perf_counter() - t)
    print(
        f"flow model, {args.areas} areas, {len(model.history)} weekly steps: "
        f"median {statistics.median(times) * 1e3:.1f} ms per national delivery year "
        f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}, {args.repeats} repeats)"
    )


if __name__ == "__main__":
    main()
