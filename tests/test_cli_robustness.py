"""What a new researcher tripped on (issue 16), each checked where the user meets it: the command
line as a subprocess, signals sent to it, the scripts and the documents.

Runs are tiny (one or two areas) so that the file stays quick on two cores.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pandas as pd
import pytest
from cli_process import CLI, LINUX, ROOT, ctrl_c_when

from bettercare.experiments import read_table
from bettercare.experiments.backends import MAX_WORKERS_PER_CORE, cap_workers
from bettercare.experiments.designs import run_seed
from bettercare.experiments.runner import run_sweep
from bettercare.experiments.spec import load_spec
from bettercare.experiments.store import read_commits
from bettercare.model.scenario import calibrated

WIGAN = 'areas.names=["Wigan"]'


def cli(*args: str, timeout: float = 120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, **kw)


def one_error_line(proc: subprocess.CompletedProcess, *must: str) -> str:
    """The process failed as bad input should: exit 2, nothing on stdout, one `error:` line."""
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-500:], proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for text in must:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def tiny_spec(
    dir_: Path,
    name: str = "tiny",
    replicates: int = 1,
    quick_replicates: int | None = None,
    levels: str = "[0.2, 0.8]",
    chunk_runs: int = 1,
) -> Path:
    quick = f"[quick]\nreplicates = {quick_replicates}\n" if quick_replicates else ""
    path = dir_ / f"{name}.toml"
    path.write_text(
        textwrap.dedent(f"""\
        [experiment]
        name = "{name}"
        replicates = {replicates}
        seed = 2026
        [parameters]
        "trust.initial" = {levels}
        [fixed]
        "areas.names" = ["Wigan"]
        [outputs]
        tables = ["national"]
        chunk_runs = {chunk_runs}
        """)
        + quick
    )
    return path


def wait_for(predicate, proc: subprocess.Popen, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert proc.poll() is None, f"the process ended before {what}: {proc.stderr.read() if proc.stderr else ''}"
        assert time.monotonic() < deadline, f"no {what} after {seconds} s"
        time.sleep(0.02)


def descendants(pid: int) -> list[int]:
    psutil = pytest.importorskip("psutil")
    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def running(pids: list[int]) -> list[int]:
    """The pids that are still running (a zombie has ended)."""
    psutil = pytest.importorskip("psutil")
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


# --- 1. the resume hint, 4. SIGINT ------------------------------------------------------------


def test_sigint_stops_a_quick_sweep_within_seconds_and_its_resume_hint_works(tmp_path):
    """Issue 16.1 and 16.4: after Ctrl-C the printed command resumes the --quick sweep (the old hint
    dropped --quick and was refused), committed runs are kept, and the result equals an
    uninterrupted sweep row for row."""
    spec = tiny_spec(tmp_path, "quicky", replicates=3, quick_replicates=60)
    out = tmp_path / "r2"
    proc = subprocess.Popen(
        [*CLI, "sweep", str(spec), "--quick", "--out", str(out), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: len(read_commits(out)) >= 2, proc, 90, "commits")
        committed = {i for rec in read_commits(out) for i in rec["run_ids"]}
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole group
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert took < 10, f"SIGINT took {took:.1f} s to stop the sweep"
    kept = {i for rec in read_commits(out) for i in rec["run_ids"]}
    assert committed <= kept < set(range(120)), "a committed run was lost, or the sweep had already ended"
    (hint,) = [line for line in err.splitlines() if line.startswith("resume with: ")]
    command = shlex.split(hint.removeprefix("resume with: "))
    assert command[:2] == ["bettercare", "sweep"]
    resumed = subprocess.run([*CLI, *command[1:]], capture_output=True, text=True, cwd=ROOT, timeout=180)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} of 120 runs already done" in resumed.stderr

    whole = tmp_path / "whole"
    assert run_sweep(load_spec(spec, quick=True), whole, workers=0, log=lambda _: None).exit_code == 0
    pd.testing.assert_frame_equal(read_table(out, "national"), read_table(whole, "national"), check_exact=True)


def test_resuming_with_the_spec_but_without_quick_says_how_to_resume(tmp_path):
    spec = tiny_spec(tmp_path, "q", replicates=1, quick_replicates=2, levels="[0.2]")
    out = tmp_path / "o"
    assert cli("sweep", str(spec), "--quick", "--out", str(out), "--workers", "0").returncode == 0
    line = one_error_line(cli("sweep", str(spec), "--out", str(out), "--resume"))
    assert "it was run with --quick" in line and f"bettercare sweep --out {out} --resume" in line


def test_sigint_while_the_workers_start_stops_at_once_and_leaves_no_process(tmp_path):
    """Issue 16.4: Ctrl-C during the workers' start used to leave the pool running, and the
    process waited at exit for every queued start (9 minutes at --workers 100000)."""
    spec = tiny_spec(tmp_path, "startup")
    code = textwrap.dedent(f"""
        import sys, time
        from bettercare.experiments import worker
        worker.warm_up = lambda: time.sleep(60)   # a start that takes a minute
        from bettercare.cli import app
        app(args=["sweep", {str(spec)!r}, "--out", {str(tmp_path / "o")!r}, "--workers", "2"], prog_name="bettercare")
        """)
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(lambda: len(descendants(proc.pid)) >= 2, proc, 60, "worker processes")
        workers = descendants(proc.pid)
        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert took < 10, f"SIGINT during start-up took {took:.1f} s"
    assert proc.returncode == 130, err
    assert "Traceback" not in err, err
    assert "resume with: bettercare sweep --out" in err
    time.sleep(0.5)
    assert running(workers) == [], "worker processes outlived the interrupted sweep"


@pytest.mark.skipif(not LINUX, reason="the kernel kills workers with their parent on Linux only")
def test_workers_die_at_once_with_a_killed_sweep(tmp_path):
    """Issue 16.9: workers outlived a SIGKILLed sweep by 2 s; now the kernel ends them with it."""
    spec = tiny_spec(tmp_path, "killed", replicates=100)
    proc = subprocess.Popen(
        [*CLI, "sweep", str(spec), "--out", str(tmp_path / "o"), "--workers", "2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for(lambda: len(read_commits(tmp_path / "o")) >= 1, proc, 90, "commits")
        workers = descendants(proc.pid)
        assert len(workers) >= 2
        os.kill(proc.pid, signal.SIGKILL)  # the sweep only, not its workers
        killed = time.monotonic()
        while running(workers) and time.monotonic() - killed < 5:
            time.sleep(0.01)
        outlived = time.monotonic() - killed
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    assert running(workers) == []
    assert outlived < 0.5, f"workers outlived the killed sweep by {outlived:.2f} s"


# --- 4. --workers is capped ---------------------------------------------------------------------


def test_workers_are_capped_at_the_runs_to_do_with_a_notice(tmp_path):
    spec = tiny_spec(tmp_path, "four", replicates=2)  # 4 runs
    out = tmp_path / "o"
    done = cli("sweep", str(spec), "--out", str(out), "--workers", "50")
    assert done.returncode == 0, done.stderr
    notes = [line for line in done.stderr.splitlines() if "--workers" in line]
    assert notes == ["note: --workers 50 capped at 4 (4 runs to do)"]
    assert json.loads((out / "manifest.json").read_text())["sessions"][-1]["workers"] == 4


def test_cap_workers_at_a_multiple_of_the_cores():
    assert cap_workers(100_000, 1_000, cores=2) == (
        2 * MAX_WORKERS_PER_CORE,
        f"note: --workers 100,000 capped at {2 * MAX_WORKERS_PER_CORE} "
        f"(at most {MAX_WORKERS_PER_CORE} per core on 2 cores)",
    )
    assert cap_workers(3, 1_000, cores=2) == (3, None)
    assert cap_workers(None, 1, cores=8) == (1, None)  # the default is one per core, no notice
    assert cap_workers(None, 100, cores=8) == (8, None)


def test_validate_caps_its_workers_with_a_notice():
    proc = cli("validate", "--replicates", "1", "--workers", "100000", "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines() == ["note: --workers 100,000 capped at 1 (1 run to do)"]


# --- 2. output paths that cannot be created or written ----------------------------------------


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    spec = tiny_spec(d, "small", replicates=2)
    assert run_sweep(load_spec(spec), d / "r1", workers=0, log=lambda _: None).exit_code == 0
    return d / "r1"


def unwritable_cases(tmp: Path, sweep_dir: Path, spec: Path) -> list[tuple[list[str], list[str]]]:
    a_file = tmp / "a-file"
    a_file.write_text("x")
    cases = [
        (["sweep", str(spec), "--out", str(a_file / "out")], ["--out", "a-file"]),
        (["run", "--set", WIGAN, "--out", str(a_file / "run-out")], ["--out", "Not a directory"]),
        (["report", str(sweep_dir), "--out", str(a_file / "rep.html")], ["--out", "rep.html", "cannot be written"]),
    ]
    if LINUX:
        cases += [
            (["sweep", str(spec), "--out", "/proc/x/out"], ["--out '/proc/x/out' cannot be created or written"]),
            (["sweep", str(spec), "--out", "/sys/kernel/bc-out"], ["--out '/sys/kernel/bc-out'"]),
            (["run", "--out", "/sys/kernel/run-out"], ["--out '/sys/kernel/run-out' cannot be created or written"]),
            (
                ["report", str(sweep_dir), "--out", "/sys/kernel/rep.html"],
                ["--out '/sys/kernel/rep.html' cannot be written"],
            ),
            (["report", str(sweep_dir), "--figures", "/proc/x/figs"], ["--figures '/proc/x/figs'"]),
        ]
    return cases


def test_unwritable_output_paths_give_one_error_line(tmp_path, small_sweep):
    """Issue 16.2: each of these printed a traceback and exited 1."""
    spec = tiny_spec(tmp_path, "w")
    cases = unwritable_cases(tmp_path, small_sweep, spec)
    procs = [
        subprocess.Popen([*CLI, *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for args, _ in cases
    ]
    for (args, must), p in zip(cases, procs):
        out, err = p.communicate(timeout=120)
        one_error_line(subprocess.CompletedProcess(args, p.returncode, out, err), *must)
    assert not (small_sweep / "report.html").exists()


# --- 3. params and scenarios tell the truth about england-2014 --------------------------------------


def test_params_shows_the_calibrated_values_england_2014_runs_with():
    fitted = calibrated()
    assert fitted, "bettercare/data/england-2014.toml has no calibrated parameters"
    rows = {r["name"]: r for r in json.loads(cli("params", "--json").stdout)}
    opt = rows["planning.optimism"]
    assert opt["default"] == 3.0 and opt["value"] == fitted["planning.optimism"] != 3.0
    assert opt["source"] == "calibrated" and opt["scenario"] == "england-2014"
    assert {n for n, r in rows.items() if r["source"] == "calibrated"} == set(fitted)
    assert rows["trust.initial"]["value"] == 0.5 and rows["trust.initial"]["source"] == "default"
    text = cli("params").stdout
    line = next(x for x in text.splitlines() if "incentives.council.social_care" in x)
    assert f"{fitted['incentives.council.social_care']} *" in line and "1.0" in line
    assert "calibrated" in text


def test_params_of_another_scenario_and_of_a_scenario_file(tmp_path):
    rows = {r["name"]: r for r in json.loads(cli("params", "--scenario", "high-trust", "--json").stdout)}
    assert rows["trust.initial"]["value"] == 0.85 and rows["trust.initial"]["source"] == "scenario"
    assert rows["planning.optimism"]["source"] == "calibrated"  # presets build on england-2014
    f = tmp_path / "mine.toml"
    f.write_text('[scenario]\nname = "mine"\n[deadline]\nweeks = 8\n')
    rows = {r["name"]: r for r in json.loads(cli("params", "-s", str(f), "--json").stdout)}
    assert rows["deadline.weeks"]["value"] == 8 and rows["deadline.weeks"]["scenario"] == "mine"
    one_error_line(cli("params", "--scenario", "nosuch"), "nosuch", "england-2014")


def test_scenarios_describe_england_2014_truthfully():
    text = cli("scenarios").stdout
    assert "(defaults)" not in text
    assert f"{len(calibrated())} calibrated parameters" in text
    rows = {r["name"]: r for r in json.loads(cli("scenarios", "--json").stdout)}
    assert rows["england-2014"]["calibrated"] == calibrated()
    assert rows["high-trust"]["base"] == "england-2014"


# --- 6, 7. huge or odd counts, one error style ---------------------------------------------------


@pytest.mark.parametrize(
    "args, must",
    [
        (["run", "--replicates", "100000000000000000000"], ["--replicates", "100000000000000000000", "1000000"]),
        (["run", "--replicates", "1000001"], ["--replicates", "1000001", "1000000"]),
        (["run", "--replicates", "0"], ["--replicates", "'0'", "greater than or equal to 1"]),
        (["run", "--replicates", "-1"], ["--replicates", "'-1'", "greater than or equal to 1"]),
        (["run", "--seed", "-5"], ["--seed", "'-5'", "greater than or equal to 0"]),
        (["run", "--seed", str(2**63)], ["--seed", str(2**63)]),
        (["run", "--replicates", "two"], ["--replicates", "'two'", "integer"]),
        (["run", "--nosuch"], ["--nosuch"]),
        (["validate", "--replicates", "0"], ["--replicates", "'0'"]),
        (["sweep", "--workers", "-3", "h1-trust"], ["--workers", "-3"]),
        (["report"], ["DIR"]),
        (["frobnicate"], ["frobnicate"]),
        (
            ["run", "--set", "delivery.maturity_initial_low=0.5"],
            ["maturity_initial_low (0.5)", "maturity_initial_high (0.3)"],
        ),
    ],
)
def test_option_errors_are_one_error_line_like_every_other(args, must):
    """Issue 16.6 and 16.7: these printed an OverflowError traceback or a 5-6 line Typer box."""
    one_error_line(cli(*args), *must)


@pytest.mark.skipif(not LINUX, reason="needs a pseudo-terminal")
def test_run_replicates_shows_progress_and_keeps_finished_runs_on_ctrl_c(tmp_path):
    """Issue 16.6: `run --replicates N --out DIR` showed no progress without a terminal check and
    kept nothing on Ctrl-C; now a terminal gets a bar and DIR gets every finished replicate."""
    out = tmp_path / "many"
    args = ["run", "--set", WIGAN, "--replicates", "1000000", "--seed", "5", "--out", str(out)]
    code, text, stdout = ctrl_c_when(args, r"\b([3-9]|\d\d+)/1000000\b", 120, "a progress bar at 3 runs")
    assert code == 130, text
    assert "Traceback" not in text and stdout == ""
    done = int(re.search(r"interrupted: ([\d,]+) of 1,000,000 replicates finished", text).group(1).replace(",", ""))
    assert done >= 3
    man = json.loads((out / "manifest.json").read_text())
    assert man["status"] == "interrupted" and man["replicates"] == man["runs"] == 1_000_000
    assert man["counts"]["done"] == done
    national = read_table(out, "national")  # the finished runs (workers finish them in any order)
    ids = national["run_id"].tolist()
    assert len(ids) == len(set(ids)) == done
    assert national["seed"].tolist() == [run_seed(5, i, 1_000_000) for i in ids]
    assert f"resume with: bettercare sweep --out {out} --resume" in text


def test_run_interrupted_before_any_replicate_finishes_leaves_no_empty_directory(tmp_path):
    out = tmp_path / "none"
    proc = subprocess.Popen(
        [*CLI, "run", "--replicates", "3", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        wait_for(out.exists, proc, 60, "the output directory")  # checked writable before the first run
        os.killpg(proc.pid, signal.SIGINT)  # a national run takes seconds: none has finished
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130 and "Traceback" not in err, err
    assert "interrupted: 0 of 3 replicates finished" in err
    assert not out.exists()


# --- 5. the test script and npm ------------------------------------------------------------------


def test_fetch_assets_needs_npm_only_for_what_is_missing(tmp_path):
    listed = subprocess.run(
        [sys.executable, "-m", "bettercare.workshop.assets"], capture_output=True, text=True, check=True
    ).stdout.split()
    assert listed
    bin_ = tmp_path / "bin"  # a PATH with the few tools the script uses, and no npm
    bin_.mkdir()
    for tool in ("dirname", "mkdir", "mktemp", "rm", "cat"):
        found = shutil.which(tool)
        assert found, tool
        (bin_ / tool).symlink_to(found)
    env = {"PATH": str(bin_), "PYTHON": sys.executable, "HOME": str(tmp_path)}
    bash = shutil.which("bash")
    have = tmp_path / "have"
    for spec in listed:
        (have / spec).mkdir(parents=True)
        (have / spec / "package.json").write_text("{}")
    ok = subprocess.run(
        [bash, "scripts/fetch_workshop_assets.sh", str(have)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0, ok.stderr
    assert f"all {len(listed)} already there" in ok.stdout

    shutil.rmtree(have / listed[0])
    missing = subprocess.run(
        [bash, "scripts/fetch_workshop_assets.sh", str(have)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [missing.stderr.strip()]
    assert missing.stderr.startswith("error: npm is needed to fetch 1 missing workshop asset(s)")
    assert listed[0] in missing.stderr


def test_readme_says_what_the_test_command_needs():
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("bash scripts/test.sh") : readme.index("## Using it")]
    assert "Python 3.12" in section and "npm" in section and "assets" in section


# --- 8. documents ------------------------------------------------------------------------------


def test_experiments_doc_has_no_stale_module_instruction_and_true_catalog_sizes():
    from bettercare.experiments import catalog

    doc = (ROOT / "docs" / "experiments.md").read_text()
    assert "python -m bettercare.experiments.cli" not in doc
    assert "one to three minutes" not in doc
    rows = {
        m.group(1): m for m in re.finditer(r"^\| `([\w-]+)` \|[^\n]*\| ([\d,]+) / ([\d,]+) \| ([^|\n]+) \|$", doc, re.M)
    }
    for entry in catalog.entries():
        m = rows.get(entry["name"])
        assert m is not None, f"docs/experiments.md has no catalog row (with a measured time) for {entry['name']}"
        assert int(m.group(2).replace(",", "")) == entry["runs_quick"], entry["name"]
        assert int(m.group(3).replace(",", "")) == entry["runs"], entry["name"]
        assert re.search(r"\d", m.group(4)), f"no measured --quick time for {entry['name']}"


def documented_scenario_example() -> str:
    doc = (ROOT / "docs" / "experiments.md").read_text()
    after = doc[doc.index("<!-- scenario-example") :]
    return re.search(r"```toml\n(.*?)```", after, re.S).group(1)


def test_the_documented_config_example_loads_and_runs(tmp_path):
    text = documented_scenario_example()
    data = tomllib.loads(text)
    path = tmp_path / "slow-trust.toml"
    path.write_text(text)
    rows = {r["name"]: r for r in json.loads(cli("params", "--scenario", str(path), "--json").stdout)}
    assert rows["trust.initial"]["value"] == data["trust"]["initial"]
    assert rows["deadline.weeks"]["value"] == data["deadline"]["weeks"]
    assert rows["planning.optimism"]["source"] == "calibrated"  # built on england-2014
    out = tmp_path / "o"
    proc = cli("run", "--config", str(path), "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["scenario"] == data["scenario"]["name"]
    assert result["runs"][0]["national"]["areas"] == len(data["areas"]["names"])
    man = json.loads((out / "manifest.json").read_text())
    assert man["params"]["trust.turnover"] == data["trust"]["turnover"]


# --- 9. small things -----------------------------------------------------------------------------


def test_report_shows_the_master_seed_as_written(small_sweep, tmp_path):
    proc = cli("report", str(small_sweep), "--out", str(tmp_path / "r.html"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "r.html").read_text()
    assert "<td>master seed</td><td>2026</td>" in html
    assert "2,026" not in html


def test_sweep_progress_bar_keeps_its_counts_at_80_columns():
    import io

    from rich.console import Console

    from bettercare.experiments.runner import _progress

    for width in (80, 60):
        for total, done in ((108, 18), (28_672, 12_345)):
            console = Console(width=width, color_system=None, file=io.StringIO())
            bar, _ = _progress(True, total, done, "trust-compromise-deadline", console=console)
            console.print(bar.get_renderable())
            line = console.file.getvalue().rstrip("\n")
            assert "\n" not in line and len(line) <= width
            assert f"{done}/{total}" in line and "0 failed" in line and "ETA" in line, line


def test_pyproject_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
