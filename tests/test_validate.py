"""`bettercare validate` is a report: it must run and show its sources, not pass facts."""

import json
import subprocess
import sys

import pytest

from bettercare.analysis.validation import load_facts, run_nationals
from bettercare.experiments.designs import replicate_seeds
from bettercare.model.run import run


def test_validate_runs_and_every_row_has_source_and_tolerance():
    out = subprocess.run(
        [sys.executable, "-m", "bettercare.cli", "validate", "--replicates", "2", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    rows = report["rows"]
    assert len(rows) == len(load_facts()) >= 15
    for row in rows:
        assert row["source"].strip()
        assert row["tolerance"] > 0
        assert row["reason"].strip()
        assert isinstance(row["met"], bool)
        assert row["model_mean"] is None or row["model_lo95"] <= row["model_mean"] <= row["model_hi95"]
    ids = {r["id"] for r in rows}
    assert {
        "signed_off_october",
        "signed_off_march",
        "approved_with_conditions",
        "pool_total",
        "areas_topping_up",
        "topup_council",
        "topup_ccg",
        "first_round_claimed",
        "first_round_assured",
        "ambition_mean",
        "acute_deficit_share",
    } <= ids
    preds = {p["field"] for p in report["predictions"]}
    assert "realised_emergency_admissions_change" in preds and "partners_joint_working_improved_share" in preds
    assert len(report["seeds"]) == 2


def test_validate_prints_a_table():
    out = subprocess.run(
        [sys.executable, "-m", "bettercare.cli", "validate", "--replicates", "2"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert "facts met" in out.stdout and "Predictions for delivery year 1" in out.stdout


def test_facts_file_declares_calibration_use_and_delivery_is_never_a_target():
    facts = load_facts()
    assert all(f.reason and f.source for f in facts)
    # What happened in delivery year 1 is not given (the project's reference facts leave it out on purpose): no fact may use realised outcomes.
    assert not any("realised" in f.model or "_end" in f.model for f in facts)


def test_validate_on_a_dask_local_cluster_gives_the_rows_of_the_local_run():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        args = [sys.executable, "-m", "bettercare.cli", "validate", "--replicates", "3", "--seed", "7", "--json"]
        on_dask = subprocess.run(
            args + ["--scheduler", cluster.scheduler_address], capture_output=True, text=True, timeout=600
        )
        with distributed.Client(cluster) as client:  # the scheduler saw the runs' tasks
            prefixes = client.run_on_scheduler(lambda dask_scheduler: list(dask_scheduler.task_prefixes))
    finally:
        cluster.close()
    local = subprocess.run(args + ["--workers", "1"], capture_output=True, text=True, timeout=600)
    assert on_dask.returncode == 0, on_dask.stderr
    assert local.returncode == 0, local.stderr
    assert "bettercare-runs" in prefixes, prefixes
    dask_report, local_report = json.loads(on_dask.stdout), json.loads(local.stdout)
    assert dask_report["seeds"] == local_report["seeds"] == replicate_seeds(7, 3)
    assert dask_report["rows"] == local_report["rows"]
    assert dask_report["predictions"] == local_report["predictions"]


def test_run_nationals_keeps_the_seeds_and_values_of_single_runs():
    small = {"areas.names": ["Wigan"], "delivery.months": 2}
    seeds = replicate_seeds(2014, 2)
    frame = run_nationals("england-2014", seeds, overrides=small, workers=2)
    assert frame.seed.tolist() == seeds
    for row, s in zip(frame.to_dict(orient="records"), seeds, strict=True):
        expected = run("england-2014", seed=s, overrides=small).national
        assert {k: row[k] for k in expected} == pytest.approx(expected, nan_ok=True)


def test_calibration_scores_points_through_the_backends_as_single_runs_would():
    from bettercare.analysis.calibration import FREE, _evaluate_points, to_overrides
    from bettercare.analysis.validation import distance, evaluate
    from bettercare.experiments.backends import make_backend

    points = [{k: lo for k, (lo, hi) in FREE.items()}, {k: (lo + hi) / 2 for k, (lo, hi) in FREE.items()}]
    seeds = [3, 4]
    with make_backend(workers=2) as backend:
        scored = _evaluate_points(points, seeds, backend)
    for (d, table), p in zip(scored, points, strict=True):
        import pandas as pd

        rows = pd.DataFrame([run("england-2014", seed=s, overrides=to_overrides(p)).national for s in seeds])
        assert d == pytest.approx(distance(evaluate(rows)))
        assert table.model_mean.tolist() == pytest.approx(evaluate(rows).model_mean.tolist(), nan_ok=True)
