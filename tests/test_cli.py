"""The `bettercare` command line, run as a subprocess (`python -m bettercare.cli`).

Most runs are restricted to two areas with `--set areas.names=[...]` so that each subprocess
is quick; one full national run (module fixture) checks the 150 areas and the `--out` layout.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bettercare.experiments import read_table
from bettercare.model.outputs import NATIONAL_FIELDS, SWEEP_ID_COLUMNS, TABLES, columns

REPO = Path(__file__).resolve().parents[1]
SMALL = 'areas.names=["Wigan","Sunderland"]'
VERSIONS = ["bettercare", "mesa", "numpy", "pandas", "pyarrow", "pydantic", "networkx", "python"]


def cli(*args: str, cwd: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bettercare.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def cli_parallel(*arglists: list[str]) -> list[subprocess.CompletedProcess]:
    """Several CLI runs at once (each is mostly import time)."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bettercare.cli", *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for a in arglists
    ]
    done = []
    for a, p in zip(arglists, procs):
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(a, p.returncode, out, err))
    return done


def ok_json(*args: str, cwd: Path | None = None):
    proc = cli(*args, cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def all_area_names() -> set[str]:
    with (files("bettercare") / "data" / "areas.csv").open() as f:
        return set(pd.read_csv(f)["area_name"])


# --- one full national run, shared --------------------------------------------------------


@pytest.fixture(scope="module")
def national(tmp_path_factory):
    out = tmp_path_factory.mktemp("national")
    data = ok_json("run", "--seed", "3", "--out", str(out), "--json")
    return out, data


def test_out_writes_a_one_point_sweep_with_five_tables_and_manifest(national):
    out, data = national
    assert {p.name for p in out.iterdir()} >= {*TABLES, "manifest.json", "design.parquet", "_commits"}
    assert not list(out.glob(".*.tmp")), "temporary files left behind"
    man = json.loads((out / "manifest.json").read_text())
    assert man["kind"] == "sweep" and man["status"] == "complete" and man["spec_source"] == "bettercare run"
    assert (man["points"], man["replicates"], man["runs"]) == (1, 1, 1)
    assert man["scenario"] == "england-2014"
    assert man["seeds"] == [3] and man["master_seed"] == 3
    for pkg in VERSIONS:
        assert man["versions"][pkg], pkg
    assert "git_dirty" in man
    git = shutil.which("git")
    if git and (REPO / ".git").exists():
        head = subprocess.run([git, "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
        assert man["git_revision"] == head
        assert isinstance(man["git_dirty"], bool)
    else:
        assert man["git_revision"] is None or re.fullmatch(r"[0-9a-f]{40}", man["git_revision"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", man["created_utc"])
    assert man["params"]["trust.initial"] == 0.5
    assert man["tables"] == list(TABLES)
    for t in TABLES:
        df = read_table(out, t)
        assert list(df.columns) == [*SWEEP_ID_COLUMNS, *columns(t)], t  # the registry's columns, in order


def test_every_row_carries_run_point_replicate_and_seed(national):
    out, _ = national
    for t in TABLES:
        df = read_table(out, t)
        assert len(df) > 0, t
        assert list(df.columns[:4]) == list(SWEEP_ID_COLUMNS), t
        assert (df["run_id"] == 0).all() and (df["point_id"] == 0).all() and (df["replicate"] == 0).all(), t
        assert (df["seed"] == 3).all(), t


def test_areas_table_has_all_150_areas(national):
    out, data = national
    areas = read_table(out, "areas")
    names = set(areas["area_name"])
    assert len(areas) == 150
    assert names == all_area_names()
    assert {"Wigan", "Kent", "Cornwall and Isles of Scilly"} <= names
    assert data["runs"][0]["national"]["areas"] == 150
    nat = read_table(out, "national")
    assert set(NATIONAL_FIELDS) <= set(nat.columns)


def test_json_shape(national):
    _, data = national
    assert set(data) >= {"runs", "summary"}
    (run,) = data["runs"]
    assert run["seed"] == 3
    assert set(run["national"]) == set(NATIONAL_FIELDS)
    for f in NATIONAL_FIELDS:
        s = data["summary"][f]
        assert s["ci95"] == [s["mean"], s["mean"]], f


# --- small runs -----------------------------------------------------------------------------


def test_same_seed_same_output_other_seed_differs():
    a, b, c = cli_parallel(
        ["run", "--set", SMALL, "--seed", "3", "--json"],
        ["run", "--set", SMALL, "--seed", "3", "--json"],
        ["run", "--set", SMALL, "--seed", "4", "--json"],
    )
    assert a.returncode == b.returncode == c.returncode == 0, a.stderr + c.stderr
    assert a.stdout == b.stdout
    ja, jc = json.loads(a.stdout), json.loads(c.stdout)
    assert ja["runs"][0]["national"]["areas"] == 2
    assert ja["runs"][0]["seed"] == 3 and jc["runs"][0]["seed"] == 4
    assert ja["runs"][0]["national"] != jc["runs"][0]["national"]


def test_replicates_json_has_distinct_seeds_and_ci():
    data = ok_json("run", "--set", SMALL, "--seed", "7", "--replicates", "2", "--json")
    runs = data["runs"]
    assert len(runs) == 2
    seeds = [r["seed"] for r in runs]
    expected = [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(7).spawn(2)]
    assert seeds == expected and len(set(seeds)) == 2
    assert set(data["summary"]) == set(NATIONAL_FIELDS)
    for f, s in data["summary"].items():
        lo, hi = s["ci95"]
        if s["mean"] is None:
            continue
        vals = [r["national"][f] for r in runs if r["national"][f] is not None]
        assert s["mean"] == pytest.approx(np.mean(vals)), f
        if len(vals) == 2:
            assert lo <= s["mean"] <= hi, f
            if vals[0] != vals[1]:
                assert lo < hi, f


def test_toml_config(tmp_path):
    cfg = tmp_path / "x.toml"
    cfg.write_text('[scenario]\nname="x"\n[trust]\ninitial=0.7\n')
    out = tmp_path / "out"
    data = ok_json("run", "--config", str(cfg), "--set", SMALL, "--out", str(out), "--json")
    assert data["scenario"] == "x"
    man = json.loads((out / "manifest.json").read_text())
    assert man["scenario"] == "x"
    assert man["params"]["trust.initial"] == 0.7
    assert man["params"]["areas.names"] == ["Wigan", "Sunderland"]
    areas = read_table(out, "areas")
    assert set(areas["area_name"]) == {"Wigan", "Sunderland"}


def test_readable_summary():
    proc = cli("run", "--set", SMALL, "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    head = proc.stdout.splitlines()[0]
    assert "england-2014" in head and "3" in head and "replicates 1" in head
    for text in ["Plans", "Money", "Savings", "Metrics", "Trust", "plans_agreed", "realised_savings_gbp"]:
        assert text in proc.stdout


# --- bad input -------------------------------------------------------------------------------


def assert_usage_error(proc: subprocess.CompletedProcess, *must: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    line = lines[0]
    assert line.startswith("error: "), line
    for text in must:
        assert text in line, (text, line)
    return line


@pytest.mark.parametrize(
    "args, must",
    [
        (["--set", "trust.initial=1.7"], ["trust.initial", "1.7", "[0, 1]"]),
        (["--set", "nosuch.param=1"], ["nosuch.param"]),
        (["--set", "trust.initial"], ["trust.initial", "KEY=VALUE"]),
        (["--set", "negotiation.holdout=nobody"], ["negotiation.holdout", "nobody", "council"]),
        (["--set", 'areas.names=["Atlantis"]'], ["areas.names", "Atlantis"]),
        (["--set", "flow.occupancy=2"], ["flow.occupancy", "2", "[0.5, 0.99]"]),
        (["--set", "flow.share_home_care=0.9"], ["flow:", "share_home_care", "at most 1"]),
        (["--scenario", "nosuch"], ["nosuch", "england-2014"]),
        (["--config", "missing.toml"], ["missing.toml"]),
        (["--scenario", "high-trust", "--config", "missing.toml"], ["--scenario", "--config"]),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, must):
    assert_usage_error(cli("run", *args, "--json", cwd=tmp_path), *must)


def test_config_with_bad_value(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[scenario]\nname="bad"\n[trust]\ninitial=7\n')
    assert_usage_error(cli("run", "--config", str(cfg)), "trust.initial", "7", "[0, 1]")


def test_config_not_toml(tmp_path):
    cfg = tmp_path / "broken.toml"
    cfg.write_text("[scenario\nname = \n")
    assert_usage_error(cli("run", "--config", str(cfg)), "broken.toml", "TOML")


def test_typer_usage_errors_still_exit_2():
    proc = cli("run", "--replicates", "0")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


# --- listings and start-up ----------------------------------------------------------------------


def test_params_json_lists_bounds():
    rows = {r["name"]: r for r in ok_json("params", "--json")}
    t = rows["trust.initial"]
    assert t["default"] == 0.5 and t["range"] == "[0, 1]" and t["description"]
    assert "negotiation.holdout" in rows and "council" in rows["negotiation.holdout"]["range"]


def test_scenarios_lists_presets():
    proc = cli("scenarios")
    assert proc.returncode == 0 and "england-2014" in proc.stdout
    rows = {r["name"]: r for r in ok_json("scenarios", "--json")}
    assert "england-2014" in rows and rows["high-trust"]["overrides"] == {"trust.initial": 0.85}


def test_areas_json():
    rows = ok_json("areas", "--json")
    assert len(rows) == 150
    assert {r["name"] for r in rows} == all_area_names()
    wigan = next(r for r in rows if r["name"] == "Wigan")
    assert wigan["population"] > 0 and wigan["ccgs"] and isinstance(wigan["coterminous"], bool)


def test_help_does_not_import_the_model():
    code = (
        "import sys, bettercare.cli; "
        "print([m for m in ('numpy', 'pandas', 'mesa', 'pydantic', 'bettercare.model') if m in sys.modules])"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    help_ = cli("--help")
    assert help_.returncode == 0 and "run" in help_.stdout
