"""Benchmark of `bettercare sweep`: worker scaling, mesa.batch_run, and memory against sweep size.

Run from the project root:

    .venv/bin/python benchmarks/bench_sweep.py            # about 4 minutes on 2 cores
    .venv/bin/python benchmarks/bench_sweep.py --quick    # smoke run, about 1.5 minutes

Every measurement runs in a fresh child process (this script with --child ...), so each starts
from the same state: interpreter start, imports, worker start-up, runs and writing are all inside
the measured wall time. Meanwhile this process samples the memory of the child's whole process
tree (the child, its forkserver and workers, or batch_run's spawned pool) every 20 ms with psutil
and keeps the peak of the sum. Two sums are reported: PSS (proportional set size: a page shared
by n processes counts 1/n in each; the fair figure for forked workers that share the imported
model) and RSS (every process's resident memory counted in full, shared pages counted again in
each process). Targets are printed as met or missed; the script never fails because of one.

Sections:
1. Throughput of our sweep with 1 and with 2 local workers on the same design (national runs),
   timed without memory sampling (reading PSS costs CPU that the workers need on 2 cores).
   Target: 2 workers give at least 1.8x the runs per second of 1 worker.
2. Our sweep against `mesa.batch_run` on the same model, design, seeds and process count, for
   national runs. batch_run gets `BatchRunAdapter`, a mesa.Model whose step() advances
   BetterCareModel one step and which stops through `running`; its DataCollector reports the
   national fields at the end, the same one row per run that our sweep writes to national/. The
   adapter makes the same model call as the sweep's worker (no offer log, national fields only).
   Targets: at least 1.5x faster, with a lower peak memory (PSS).
3. The same comparison on one-area runs (Wigan), where a run takes about 10 ms and the harness's
   own per-run costs (start-up, task dispatch, result handling) weigh most.
4. Peak memory of our sweep for 100 runs against 1,000 runs of a one-area model writing all five
   tables. Target: 1,000 runs peak no more than 20% above 100 runs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCALING_TARGET = 1.8
BATCH_SPEED_TARGET = 1.5
MEMORY_GROWTH_TARGET = 1.20

# The design of sections 1 and 2: national england-2014 runs, a 3 x 3 factorial.
LEVELS = {"trust.initial": [0.2, 0.5, 0.8], "negotiation.compromise": [0.5, 1.0, 2.0]}
SEED = 2026
SHORT_FIXED = {"areas.names": ["Wigan"]}  # section 3: one-area runs, about 10 ms each


def design_spec(replicates: int, fixed: dict | None = None, name: str = "bench-national") -> str:
    params = "\n".join(f'"{k}" = {json.dumps(v)}' for k, v in LEVELS.items())
    fixed_toml = "".join(f'"{k}" = {json.dumps(v)}\n' for k, v in (fixed or {}).items())
    return (
        textwrap.dedent(f"""\
        [experiment]
        name = "{name}"
        replicates = {replicates}
        seed = {SEED}
        design = "factorial"
        [parameters]
        """)
        + params
        + ("\n[fixed]\n" + fixed_toml if fixed else "\n")
        + '[outputs]\ntables = ["national"]\n'
    )


def memory_spec(runs: int) -> str:
    levels = [round(0.05 + 0.9 * i / 9, 3) for i in range(10)]
    return textwrap.dedent(f"""\
        [experiment]
        name = "bench-memory-{runs}"
        replicates = {runs // 10}
        seed = 7
        design = "factorial"
        [parameters]
        "trust.initial" = {json.dumps(levels)}
        [fixed]
        "areas.names" = ["Wigan"]
        [outputs]
        tables = ["national", "areas", "organisations", "timeseries", "offers"]
        """)


# --- the batch_run side ------------------------------------------------------------------------

import mesa  # noqa: E402 - the batch_run side imports Mesa only here, after the setup above


class BatchRunAdapter(mesa.Model):
    """BetterCareModel behind mesa.batch_run's interface.

    batch_run calls `BatchRunAdapter(**point, rng=replicate)`. Keyword names are the dotted
    parameter names; `rng` carries the replicate index, from which the adapter derives the very
    seed the sweep gives that run (so both sides make identical runs).
    """

    def __init__(self, rng=None, **params):
        from bettercare.experiments.designs import run_seed
        from bettercare.model.model import BetterCareModel
        from bettercare.model.scenario import load_scenario

        names = list(LEVELS)
        point = 0
        for name in names:  # the factorial point index, last parameter fastest, as in the sweep
            point = point * len(LEVELS[name]) + LEVELS[name].index(params[name])
        replicate = int(rng)
        self.run_id = point * _REPLICATES + replicate
        seed = run_seed(SEED, self.run_id, math.prod(map(len, LEVELS.values())) * _REPLICATES)
        super().__init__(rng=seed)
        # The same model call as the sweep's worker: no offer log, since no offers table is kept.
        scenario = load_scenario("england-2014", {**params, **_FIXED})
        self.inner = BetterCareModel(scenario.params, rng=seed, record_offers=False)
        self.national: dict = {}
        self.datacollector = mesa.DataCollector(model_reporters={"run_id": "run_id", "national": "national"})

    def step(self) -> None:
        self.inner.step()
        if self.inner.done:
            from bettercare.model.results import collect

            self.national, _ = collect(self.inner, tables=())  # national fields only, as the sweep
            self.running = False
            self.datacollector.collect(self)


_REPLICATES = int(os.environ.get("BENCH_SWEEP_REPLICATES", "1"))
_FIXED = json.loads(os.environ.get("BENCH_SWEEP_FIXED", "{}"))  # fixed overrides of section 3


# --- children ----------------------------------------------------------------------------------


def child_sweep(spec_path: str, out: str, workers: int) -> dict:
    t0 = time.perf_counter()
    from bettercare.experiments.runner import run_sweep
    from bettercare.experiments.spec import load_spec

    t1 = time.perf_counter()
    res = run_sweep(load_spec(spec_path), out, workers=workers, progress=False, log=lambda s: None)
    t2 = time.perf_counter()
    return {"runs": res.ran, "failed": res.failed, "import_s": t1 - t0, "sweep_s": t2 - t1}


def child_batch(workers: int, out: str) -> dict:
    import pandas as pd

    t1 = time.perf_counter()
    results = mesa.batch_run(
        BatchRunAdapter,
        parameters=LEVELS,
        number_processes=workers,
        rng=list(range(_REPLICATES)),
        data_collection_period=-1,
        max_steps=100_000,
        display_progress=False,
    )
    t2 = time.perf_counter()
    rows = [{"run_id": r["run_id"], **r["national"]} for r in results]
    pd.DataFrame(rows).sort_values("run_id").to_parquet(Path(out) / "batch_national.parquet", index=False)
    return {"runs": len(results), "failed": 0, "import_s": 0.0, "sweep_s": t2 - t1}


# --- the parent: run a child, sample its tree's memory -----------------------------------------


def measure(args: list[str], env: dict | None = None, sample_memory: bool = True) -> dict:
    """Run a child; with `sample_memory`, sample its process tree's memory every 20 ms.

    Reading PSS (/proc/*/smaps) costs CPU, which on a 2-core machine competes with the workers,
    so timings come from runs without sampling and memory from separate sampled runs."""
    import psutil

    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    t0 = time.perf_counter()
    proc = psutil.Popen(
        cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})}
    )
    peak = {"pss": 0, "rss": 0, "procs": 0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                procs = [proc, *proc.children(recursive=True)]
            except psutil.Error:
                break
            pss = rss = 0
            n = 0
            for p in procs:
                try:
                    info = p.memory_full_info()
                except psutil.Error:
                    continue
                pss += getattr(info, "pss", info.rss)
                rss += info.rss
                n += 1
            peak["pss"] = max(peak["pss"], pss)
            peak["rss"] = max(peak["rss"], rss)
            peak["procs"] = max(peak["procs"], n)
            stop.wait(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    if sample_memory:
        thread.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    if sample_memory:
        thread.join()
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed ({proc.returncode}):\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    return {
        **result,
        "wall_s": wall,
        "peak_pss_mb": peak["pss"] / 2**20,
        "peak_rss_mb": peak["rss"] / 2**20,
        "max_procs": peak["procs"],
    }


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer runs (noisier)")
    ap.add_argument(
        "--replicates", type=int, default=None, help="replicates of the 3x3 national design (default 6; quick 2)"
    )
    ap.add_argument(
        "--short-replicates",
        type=int,
        default=None,
        help="replicates of the 3x3 one-area design of section 3 (default 100; quick 20)",
    )
    ap.add_argument(
        "--repeats",
        type=int,
        default=1,
        help="alternating repeats of each side in sections 1-3 (the medians are compared)",
    )
    ap.add_argument("--child", choices=["sweep", "batch"], help=argparse.SUPPRESS)
    ap.add_argument("--spec", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=2, help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child == "sweep":
        print(json.dumps(child_sweep(args.spec, args.out, args.workers)))
        return 0
    if args.child == "batch":
        print(json.dumps(child_batch(args.workers, args.out)))
        return 0

    import pandas as pd

    reps = args.replicates or (2 if args.quick else 6)
    mem_small, mem_large = (50, 500) if args.quick else (100, 1000)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        import distributed  # noqa: F401 - only to report the version
        import psutil  # noqa: F401

        import bettercare

        print("bettercare sweep benchmark")
        print(
            f"  python {platform.python_version()}, bettercare {bettercare.__version__}, mesa {mesa.__version__}, "
            f"{os.cpu_count()} CPUs, load average at start {os.getloadavg()[0]:.2f}"
        )
        n_runs = 9 * reps
        (tmp / "national.toml").write_text(design_spec(reps))
        print(
            f"  design of sections 1-2: england-2014 (150 areas), trust.initial x negotiation.compromise "
            f"(3 x 3) x {reps} replicates = {n_runs} national runs"
        )

        # 1. scaling
        print("\n1. Throughput, local worker processes (wall time of the child process, everything included)")
        print("  (timed without memory sampling; memory in section 2 comes from separate sampled runs)")
        runs_1, runs_2 = [], []
        for k in range(args.repeats):  # alternating, so that drifting load hits both sides alike
            runs_1.append(
                measure(
                    [
                        "--child",
                        "sweep",
                        "--spec",
                        str(tmp / "national.toml"),
                        "--out",
                        str(tmp / f"w1-{k}"),
                        "--workers",
                        "1",
                    ],
                    sample_memory=False,
                )
            )
            runs_2.append(
                measure(
                    [
                        "--child",
                        "sweep",
                        "--spec",
                        str(tmp / "national.toml"),
                        "--out",
                        str(tmp / f"w2-{k}"),
                        "--workers",
                        "2",
                    ],
                    sample_memory=False,
                )
            )

        def median_run(rs: list[dict]) -> dict:
            return sorted(rs, key=lambda r: r["wall_s"])[(len(rs) - 1) // 2]

        one, two = median_run(runs_1), median_run(runs_2)
        for label, r, rs in (("1 worker ", one, runs_1), ("2 workers", two, runs_2)):
            print(
                f"  {label}: {r['runs']} runs in {r['wall_s']:.2f} s = {r['runs'] / r['wall_s']:.2f} runs/s "
                f"(sweep call {r['sweep_s']:.2f} s = {r['runs'] / r['sweep_s']:.2f} runs/s); "
                f"repeats {', '.join(f'{x["wall_s"]:.2f}' for x in rs)}"
            )
        speedup = one["wall_s"] / two["wall_s"]
        speedup_call = one["sweep_s"] / two["sweep_s"]
        print(
            f"  speed-up 2 vs 1 workers: {speedup:.2f}x wall ({speedup_call:.2f}x sweep call); "
            f"target >= {SCALING_TARGET}x: {verdict(speedup >= SCALING_TARGET)}"
        )

        # 2 and 3. batch_run, on long (model-bound) and short (harness-bound) runs
        from bettercare.experiments import read_table

        short_reps = args.short_replicates or (20 if args.quick else 100)
        (tmp / "short.toml").write_text(design_spec(short_reps, SHORT_FIXED, "bench-one-area"))
        cases = [
            (
                "2",
                f"national runs (150 areas, {n_runs} runs): the model's own work dominates both sides",
                tmp / "national.toml",
                reps,
                {},
            ),
            (
                "3",
                f"one-area runs (Wigan, {9 * short_reps} runs): per-run overheads of the harness dominate",
                tmp / "short.toml",
                short_reps,
                SHORT_FIXED,
            ),
        ]
        for number, title, spec, r, fixed in cases:
            print(f"\n{number}. Our sweep vs mesa.batch_run on {title}")
            print(
                "  same model call, design, seeds and 2 processes on both sides; child wall time, median of "
                f"{args.repeats} alternating repeat(s)"
            )
            env = {"BENCH_SWEEP_REPLICATES": str(r), "BENCH_SWEEP_FIXED": json.dumps(fixed)}
            ours_t, batch_t = [], []
            for k in range(args.repeats):
                out = tmp / f"s{number}-{k}"
                ours_t.append(
                    measure(
                        ["--child", "sweep", "--spec", str(spec), "--out", str(out), "--workers", "2"],
                        sample_memory=False,
                    )["wall_s"]
                )
                batch_t.append(
                    measure(["--child", "batch", "--out", str(tmp), "--workers", "2"], env=env, sample_memory=False)[
                        "wall_s"
                    ]
                )
            ours_mem = measure(
                ["--child", "sweep", "--spec", str(spec), "--out", str(tmp / f"s{number}-mem"), "--workers", "2"]
            )
            batch_mem = measure(["--child", "batch", "--out", str(tmp), "--workers", "2"], env=env)
            t_ours, t_batch = statistics.median(ours_t), statistics.median(batch_t)
            print(
                f"  bettercare sweep : {t_ours:.2f} s (repeats {', '.join(f'{x:.2f}' for x in ours_t)}); "
                f"peak PSS {ours_mem['peak_pss_mb']:.0f} MB (RSS {ours_mem['peak_rss_mb']:.0f} MB, "
                f"{ours_mem['max_procs']} processes); results on disk as Parquet"
            )
            print(
                f"  mesa.batch_run   : {t_batch:.2f} s (repeats {', '.join(f'{x:.2f}' for x in batch_t)}); "
                f"peak PSS {batch_mem['peak_pss_mb']:.0f} MB (RSS {batch_mem['peak_rss_mb']:.0f} MB, "
                f"{batch_mem['max_procs']} processes); results in memory"
            )
            a = read_table(tmp / f"s{number}-mem", "national").drop(columns=["point_id", "replicate", "seed", *LEVELS])
            b = pd.read_parquet(tmp / "batch_national.parquet")[a.columns]  # from the last batch child
            same = a.reset_index(drop=True).equals(b.reset_index(drop=True))
            faster = t_batch / t_ours
            lower = ours_mem["peak_pss_mb"] < batch_mem["peak_pss_mb"]
            print(f"  identical national rows on both sides: {same}")
            print(
                f"  speed: ours {faster:.2f}x faster; target >= {BATCH_SPEED_TARGET}x: "
                f"{verdict(faster >= BATCH_SPEED_TARGET)}"
            )
            print(
                f"  memory: ours {ours_mem['peak_pss_mb']:.0f} MB vs {batch_mem['peak_pss_mb']:.0f} MB PSS "
                f"({ours_mem['peak_rss_mb']:.0f} vs {batch_mem['peak_rss_mb']:.0f} MB RSS); "
                f"target lower: {verdict(lower)}"
            )

        # 4. memory against sweep size
        print("\n4. Peak memory against sweep size (Wigan only, all five tables, 2 workers)")
        mem = {}
        for n in (mem_small, mem_large):
            (tmp / f"mem{n}.toml").write_text(memory_spec(n))
            mem[n] = measure(
                ["--child", "sweep", "--spec", str(tmp / f"mem{n}.toml"), "--out", str(tmp / f"m{n}"), "--workers", "2"]
            )
            rows = sum(
                len(read_table(tmp / f"m{n}", t, columns=["run_id"]))
                for t in ("national", "areas", "organisations", "timeseries", "offers")
            )
            print(
                f"  {n:>5} runs: {mem[n]['wall_s']:.2f} s, {rows:,} rows written, peak PSS {mem[n]['peak_pss_mb']:.0f} MB "
                f"(RSS {mem[n]['peak_rss_mb']:.0f} MB)"
            )
        growth = mem[mem_large]["peak_pss_mb"] / mem[mem_small]["peak_pss_mb"]
        growth_rss = mem[mem_large]["peak_rss_mb"] / mem[mem_small]["peak_rss_mb"]
        print(
            f"  {mem_large} runs vs {mem_small}: {100 * (growth - 1):+.1f}% PSS ({100 * (growth_rss - 1):+.1f}% RSS); "
            f"target <= +{100 * (MEMORY_GROWTH_TARGET - 1):.0f}%: {verdict(growth <= MEMORY_GROWTH_TARGET)}"
        )
        print(f"\n  load average at end {os.getloadavg()[0]:.2f} (the machine may be shared: compare on a quiet one)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
