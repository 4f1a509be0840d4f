"""The two cluster routes docs/experiments.md gives, run for real on this machine.

- dask-jobqueue's `SLURMCluster`, exactly as the docs call it. The only stand-in is SLURM itself:
  `sbatch` and `scancel` on PATH are small scripts that run the job script dask-jobqueue writes
  as a local process group (and kill it). Everything else, the job script, the worker command
  line, the scheduler and the sweep, is the real thing.
- The batch-script route: `dask scheduler --scheduler-file`, `dask worker --scheduler-file`, then
  `bettercare sweep ... --scheduler scheduler.json`, all as subprocesses.

Both must give the rows of a local sweep of the same spec.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from bettercare.experiments import read_table
from bettercare.experiments.runner import run_sweep
from bettercare.experiments.spec import load_spec

pytestmark = pytest.mark.slow
BIN = Path(sys.executable).parent

SPEC = """
[experiment]
name = "cluster-route"
replicates = 2
seed = 11
design = "factorial"
[parameters]
"trust.initial" = [0.3, 0.7]
[fixed]
"areas.names" = ["Wigan", "Rutland"]
[outputs]
tables = ["national", "areas"]
chunk_runs = 2
"""


def _spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(SPEC)
    return path


def _tables(out: Path) -> dict[str, pd.DataFrame]:
    return {name: read_table(out, name) for name in ("national", "areas")}


def _same_as_local(tmp_path: Path, out: Path) -> None:
    local = tmp_path / "local"
    assert run_sweep(load_spec(_spec(tmp_path)), local, workers=0).exit_code == 0
    a, b = _tables(out), _tables(local)
    assert len(a["national"]) == 4 and len(a["areas"]) == 8
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_exact=True, obj=name)


FAKE_SBATCH = """#!/bin/bash
# Stand-in for SLURM's sbatch: keep a copy of the job script, run it as its own process group.
set -eu
mkdir -p "$FAKE_SLURM_DIR"
script=$(mktemp --suffix=.sh "$FAKE_SLURM_DIR/job-XXXXXX")  # unique: sbatch calls may overlap
cp "$1" "$script"
setsid bash "$script" </dev/null >"$script.log" 2>&1 &
echo "Submitted batch job $!"
"""

FAKE_SCANCEL = """#!/bin/bash
for id in "$@"; do kill -TERM -- "-$id" 2>/dev/null || true; done
"""


def test_docs_slurm_route_runs_a_sweep_through_dask_jobqueue(tmp_path, monkeypatch):
    jobqueue = pytest.importorskip("dask_jobqueue")
    from distributed import Client

    fake_bin = tmp_path / "fake-slurm-bin"
    fake_bin.mkdir()
    for name, text in (("sbatch", FAKE_SBATCH), ("scancel", FAKE_SCANCEL)):
        (fake_bin / name).write_text(text)
        (fake_bin / name).chmod(0o755)
    jobs = tmp_path / "jobs"
    monkeypatch.setenv("FAKE_SLURM_DIR", str(jobs))
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")

    # As in docs/experiments.md, with a short wall time and this machine's interpreter.
    cluster = jobqueue.SLURMCluster(
        cores=1,
        processes=1,
        memory="2GB",
        walltime="00:10:00",
        job_extra_directives=["--account=my-project"],
        python=sys.executable,
    )
    try:
        cluster.scale(jobs=2)
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=120)
            result = run_sweep(load_spec(_spec(tmp_path)), tmp_path / "out", client=client)
            workers = client.scheduler_info()["workers"]
        assert result.exit_code == 0 and result.done == 4
        assert len(workers) == 2 and all(w["nthreads"] == 1 for w in workers.values())
    finally:
        cluster.close()
    scripts = sorted(jobs.glob("job-*.sh"))
    assert len(scripts) == 2
    text = scripts[0].read_text()
    assert "#SBATCH --account=my-project" in text and "#SBATCH -t 00:10:00" in text
    assert sys.executable in text  # the workers ran this environment's Python
    _same_as_local(tmp_path, tmp_path / "out")


def test_docs_batch_script_route_scheduler_file_and_cli(tmp_path):
    sched_file = tmp_path / "scheduler.json"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [
        subprocess.Popen(
            [
                str(BIN / "dask"),
                "scheduler",
                "--scheduler-file",
                str(sched_file),
                "--port",
                "0",
                "--dashboard-address",
                ":0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sched_file.exists(), "the dask scheduler did not write its scheduler file"
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "dask"),
                    "worker",
                    "--scheduler-file",
                    str(sched_file),
                    "--nthreads",
                    "1",
                    "--nworkers",
                    "2",
                    "--no-dashboard",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        )
        from distributed import Client

        with Client(scheduler_file=str(sched_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
        done = subprocess.run(
            [
                str(BIN / "bettercare"),
                "sweep",
                str(_spec(tmp_path)),
                "--out",
                str(tmp_path / "out"),
                "--scheduler",
                str(sched_file),
            ],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert "4 of 4 runs committed, 0 failed" in done.stderr
        manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
        assert manifest["sessions"][0]["backend"] == "dask" and manifest["sessions"][0]["workers"] == 2
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
    _same_as_local(tmp_path, tmp_path / "out")
