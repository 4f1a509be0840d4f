"""Benchmarks for bettercare: national runs, scale-up, one table's negotiation vs NegMAS, CLI start-up.

Run from the project root:

    .venv/bin/python benchmarks/bench_model.py              # full run (a few minutes at most)
    .venv/bin/python benchmarks/bench_model.py --quick      # smoke run (fewer repeats)
    .venv/bin/python benchmarks/bench_model.py --repeats 11 --synthetic-repeats 5
    .venv/bin/python benchmarks/bench_model.py --against ../old-checkout --repeats 9   # A/B national runs

Everything is measured in one process, after importing and warming up once. The script only
reports: a missed target prints "missed", it never fails. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

NATIONAL = {}  # england-2014 as shipped: the 150 HWB areas
SYNTHETIC_N = 1500
SYNTHETIC = {"areas.source": "synthetic", "areas.synthetic_n": SYNTHETIC_N}
TABLE_3 = {"areas.names": ["Wigan"], "acute.at_table": 1.0}  # council + CCG + acute trust

SCALE_TARGET = 11.0  # 10x the areas in at most 11x the time
CALIBRATION_TARGET = 0.1  # s per run_national: what makes calibration comfortable (issue 14)
NEGOTIATION_TARGET = 10.0  # ours at least 10x faster than NegMAS per negotiation
ROUNDS = 16  # weeks for our table, n_steps for NegMAS (one offer per round on both sides)
NEGMAS_VALUES = (5, 5, 5, 5, 5)  # five issues, 5 values each: 3,125 outcomes (NegMAS's cheapest case)

now = time.perf_counter


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


def fmt_s(x: float) -> str:
    if x != x:  # nan
        return "n/a"
    if x >= 1.0:
        return f"{x:.3f} s"
    if x >= 1e-3:
        return f"{x * 1e3:.2f} ms"
    return f"{x * 1e6:.1f} us"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("met" if ok else "missed")


# --- 1 and 2: whole-model runs ---------------------------------------------------------------
def time_model_runs(overrides: dict, seeds: list[int]) -> dict[str, list[float]]:
    """Per seed: model construction, run_model (planning + assurance + delivery), and collect()."""
    from bettercare.model.model import BetterCareModel
    from bettercare.model.scenario import load_scenario

    try:
        from bettercare.model.results import collect
    except ImportError:  # results API moved: report the simulation only
        collect = None
    params = load_scenario("england-2014", overrides).params  # validated once, outside the timing
    out: dict[str, list[float]] = {"setup": [], "run": [], "total": [], "cpu": [], "collect": [], "areas": []}
    try:
        from bettercare.model.areas import england

        clear_geography = getattr(england, "cache_clear", lambda: None)
    except ImportError:
        clear_geography = lambda: None  # noqa: E731
    for seed in seeds:
        # England's geography is cached across runs (a sweep builds it once per worker); synthetic
        # areas are drawn afresh each run. Clear the cache so both sides build their geography.
        clear_geography()
        gc.collect()
        c0 = time.process_time()
        t0 = now()
        model = BetterCareModel(params, rng=seed)
        t1 = now()
        model.run_model()
        t2 = now()
        out["cpu"].append(time.process_time() - c0)
        out["setup"].append(t1 - t0)
        out["run"].append(t2 - t1)
        out["total"].append(t2 - t0)
        out["areas"].append(model.n_areas)
        if collect is not None:
            try:
                t3 = now()
                collect(model)
                out["collect"].append(now() - t3)
            except Exception:  # noqa: BLE001 - reporting only
                collect = None
        del model
    return out


# --- 3: one table vs NegMAS ------------------------------------------------------------------
def bench_calibration_run(repeats: int) -> dict[str, list[float]]:
    """`run()` and `run_national()` on the same seeds, alternating (the same national fields)."""
    from bettercare.model.run import run, run_national

    out: dict[str, list[float]] = {"run": [], "national": []}
    for seed in range(1, repeats + 1):
        t0 = now()
        run("england-2014", seed)
        out["run"].append(now() - t0)
        t0 = now()
        run_national("england-2014", seed)
        out["national"].append(now() - t0)
    return out


def bench_phases(repeats: int) -> dict[str, list[float]]:
    """A calibration simulation (`run_national`: no offer log, England's geography cached) step by
    step, its wall time split by the phase each step starts in: where the time goes."""
    from bettercare.model.model import BetterCareModel
    from bettercare.model.results import collect
    from bettercare.model.scenario import load_scenario

    params = load_scenario("england-2014").params
    out: dict[str, list[float]] = {}
    for seed in range(1, repeats + 1):
        gc.collect()
        spent: dict[str, float] = {}
        t0 = now()
        model = BetterCareModel(params, rng=seed, record_offers=False)
        spent["setup"] = now() - t0
        while model.running:
            phase = model.phase.name.lower()
            t1 = now()
            model.step()
            spent[phase] = spent.get(phase, 0.0) + now() - t1
        t2 = now()
        collect(model, tables=())
        spent["collect"] = now() - t2
        spent["total"] = now() - t0
        for k, v in spent.items():
            out.setdefault(k, []).append(v)
    return out


def bench_our_table(reps: int, seed: int = 1) -> dict[str, list[float]]:
    """A 3-party table (Wigan: council, CCG, acute trust), ROUNDS weeks, many times.

    talks: table.open() + table.week(w) until agreement or the deadline (scores already built).
    end-to-end: also constructs the Table (belief-error draws + scoring every candidate for
    every party, the analogue of building NegMAS's ufuns, mechanism and negotiators).
    Trust between the three parties is reset to its start value before each repetition (outside
    the timing), so every negotiation starts from the same relationships.
    """
    from bettercare.model.model import BetterCareModel
    from bettercare.model.negotiation import Table
    from bettercare.model.scenario import load_scenario

    model = BetterCareModel(load_scenario("england-2014", TABLE_3).params, rng=seed)
    base = model.tables[0]
    kinds = [p.kind for p in base.parties]
    trust0 = model.trust.matrix(base.codes)

    def negotiate(table) -> tuple[int, bool]:
        table.open(window=ROUNDS, start_week=0)
        w = 0
        while w < ROUNDS:
            agreed = table.week(w)
            w += 1
            if agreed:
                return w, True
        return w, False

    res: dict[str, list[float]] = {
        "talks": [],
        "talks_per_round": [],
        "rounds": [],
        "agreed": [],
        "e2e": [],
        "e2e_per_round": [],
        "kinds": kinds,
        "candidates": [len(model.candidates)],
    }
    for _ in range(reps):
        model.trust.store(base.codes, trust0)
        gc.collect()
        t0 = now()
        table = Table(model, base.area, base.parties, base.outsiders)
        t1 = now()
        rounds, agreed = negotiate(table)
        t2 = now()
        res["talks"].append(t2 - t1)
        res["talks_per_round"].append((t2 - t1) / rounds)
        res["e2e"].append(t2 - t0)
        res["e2e_per_round"].append((t2 - t0) / rounds)
        res["rounds"].append(rounds)
        res["agreed"].append(agreed)
    return res


def bench_negmas(reps: int, seed: int = 1) -> dict[str, list[float]] | str:
    """SAOMechanism with Boulware, Conceder and Linear time-based negotiators, ROUNDS steps.

    Five issues (NEGMAS_VALUES), LinearAdditiveUtilityFunction per party with random issue
    weights (Dirichlet) and random table value functions, reserved value 0.2.
    `one_offer_per_step=True` makes one step one offer (plus its response), like one of our
    weeks; time_limit=None so relative time (what time-based negotiators concede on) is
    step / n_steps only.
    talks: mechanism.run() only (including the negotiators' lazy set-up on their first call).
    end-to-end: also builds the mechanism, the three ufuns and the three negotiators.
    """
    try:
        import numpy as np
        from negmas import make_issue
        from negmas.preferences import LinearAdditiveUtilityFunction
        from negmas.preferences.value_fun import TableFun
        from negmas.sao import BoulwareTBNegotiator, ConcederTBNegotiator, LinearTBNegotiator, SAOMechanism
    except ImportError as exc:
        return f"n/a (negmas not importable: {exc})"
    rng = np.random.default_rng(seed)
    kinds = (BoulwareTBNegotiator, ConcederTBNegotiator, LinearTBNegotiator)

    def build():
        issues = [make_issue(values=n, name=f"issue{k}") for k, n in enumerate(NEGMAS_VALUES)]
        mech = SAOMechanism(issues=issues, n_steps=ROUNDS, time_limit=None, one_offer_per_step=True)
        for cls in kinds:
            w = rng.dirichlet(np.ones(len(NEGMAS_VALUES)))
            values = [TableFun({v: float(x) for v, x in enumerate(rng.random(n))}) for n in NEGMAS_VALUES]
            ufun = LinearAdditiveUtilityFunction(
                values=values, weights=[float(x) for x in w], outcome_space=mech.outcome_space, reserved_value=0.2
            )
            mech.add(cls(), ufun=ufun)
        return mech

    res: dict[str, list[float]] = {
        "talks": [],
        "talks_per_round": [],
        "rounds": [],
        "agreed": [],
        "e2e": [],
        "e2e_per_round": [],
        "outcomes": [int(np.prod(NEGMAS_VALUES))],
    }
    for _ in range(reps):
        gc.collect()
        t0 = now()
        mech = build()
        t1 = now()
        state = mech.run()
        t2 = now()
        rounds = max(int(state.step), 1)
        res["talks"].append(t2 - t1)
        res["talks_per_round"].append((t2 - t1) / rounds)
        res["e2e"].append(t2 - t0)
        res["e2e_per_round"].append((t2 - t0) / rounds)
        res["rounds"].append(rounds)
        res["agreed"].append(state.agreement is not None)
    return res


# --- 4: CLI start-up -------------------------------------------------------------------------
def bench_cli(n: int = 5) -> tuple[float, float] | str:
    """Median wall time of `bettercare --help` as a subprocess, and of a bare `python -c pass`."""
    exe = Path(sys.executable).parent / "bettercare"
    cmd = [str(exe)] if exe.exists() else ([shutil.which("bettercare")] if shutil.which("bettercare") else None)
    if cmd is None:
        return "n/a (cli missing)"
    env = {**os.environ, "COLUMNS": "100"}
    times = []
    for _ in range(n):
        t0 = now()
        try:
            r = subprocess.run([*cmd, "--help"], capture_output=True, env=env, timeout=120)
        except (OSError, subprocess.TimeoutExpired):
            return "n/a (cli missing)"
        times.append(now() - t0)
        if r.returncode != 0:
            return "n/a (cli missing)"
    base = []
    for _ in range(n):
        t0 = now()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True)
        base.append(now() - t0)
    return median(times), median(base)


# --- report ----------------------------------------------------------------------------------
def table(rows: list[tuple], headers: tuple) -> str:
    cols = list(zip(headers, *rows))
    widths = [max(len(str(c)) for c in col) for col in cols]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


# --- 0: this checkout against another, national runs in alternating subprocesses ------------
def national_worker(repeats: int) -> int:
    """Print the national run times (setup + run_model, seconds) of the bettercare on sys.path."""
    import json

    import bettercare

    r = time_model_runs(NATIONAL, list(range(1, repeats + 1)))
    print(json.dumps({"file": bettercare.__file__, "total": r["total"], "cpu": r["cpu"]}))
    return 0


def against(other: Path, repeats: int, rounds: int = 3) -> None:
    """Median national run here and in `other` (a checkout of older code), measured in one run.

    Each side runs in its own subprocess with its checkout first on PYTHONPATH, after its own
    warm-up; the sides alternate `rounds` times so that load on the machine falls on both alike.
    """
    import json

    sides = {"this checkout": ROOT, f"{other}": other.resolve()}
    times: dict[str, list[float]] = {k: [] for k in sides}
    cpu: dict[str, list[float]] = {k: [] for k in sides}
    files: dict[str, str] = {}
    per_round = max(1, math.ceil(repeats / rounds))
    for i in range(rounds):
        for label, root in sides.items() if i % 2 == 0 else reversed(list(sides.items())):
            env = {**os.environ, "PYTHONPATH": str(root)}
            out = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--national-worker", str(per_round)],
                env=env,
                cwd=root,
                capture_output=True,
                text=True,
            )
            if out.returncode:
                raise SystemExit(f"{label}: the national worker failed:\n{out.stderr[-2000:]}")
            rec = json.loads(out.stdout.strip().splitlines()[-1])
            times[label] += rec["total"]
            cpu[label] += rec["cpu"]
            files[label] = rec["file"]
    print(
        f"0. National run (england-2014, seeds 1-{per_round}, {rounds} alternating rounds; median of "
        f"{per_round * rounds} per side)"
    )
    rows = [
        (label, fmt_s(median(t)), fmt_s(min(t)), fmt_s(max(t)), fmt_s(median(cpu[label])), files[label])
        for label, t in times.items()
    ]
    this, that = (median(t) for t in times.values())
    this_cpu, that_cpu = (median(c) for c in cpu.values())
    rows.append(("ratio this/other", f"{this / that:.3f}x", "", "", f"{this_cpu / that_cpu:.3f}x", ""))
    print(table(rows, ("", "median wall", "min wall", "max wall", "median CPU", "package")))
    print("   CPU = process time of the run (setup + run_model): less sensitive than wall time to other work")
    print("   on the machine. Wall times are the figure to quote on a quiet machine.")
    print()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--against",
        type=Path,
        default=None,
        help="another checkout (older code): national runs A/B in one run, then exit",
    )
    ap.add_argument("--national-worker", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=None, help="national runs (default 7; --quick 3)")
    ap.add_argument("--synthetic-repeats", type=int, default=None, help="1,500-area runs (default 3; --quick 1)")
    ap.add_argument("--negotiations", type=int, default=None, help="negotiations per side (default 200; --quick 30)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke test")
    a = ap.parse_args(argv)
    if a.national_worker:
        time_model_runs(NATIONAL, [0])  # warm-up, untimed
        return national_worker(a.national_worker)
    n_nat = a.repeats or (3 if a.quick else 7)
    if a.against is not None:
        against(a.against, n_nat)
        return 0
    n_syn = a.synthetic_repeats or (1 if a.quick else 3)
    n_neg = a.negotiations or (30 if a.quick else 200)

    t_start = now()
    t0 = now()
    import bettercare  # noqa: F401
    from bettercare.model import model as _m  # noqa: F401

    import_s = now() - t0

    # Warm-up, untimed: one national run, a small synthetic run, a few negotiations both ways.
    t0 = now()
    time_model_runs(NATIONAL, [0])
    time_model_runs({"areas.source": "synthetic", "areas.synthetic_n": 15}, [0])
    bench_our_table(3, seed=0)
    neg_warm = bench_negmas(3, seed=0)
    warm_s = now() - t0

    nat = time_model_runs(NATIONAL, list(range(1, n_nat + 1)))
    syn = time_model_runs(SYNTHETIC, list(range(1, n_syn + 1)))
    ours = bench_our_table(n_neg, seed=1)
    theirs = bench_negmas(n_neg, seed=1) if not isinstance(neg_warm, str) else neg_warm
    cli = bench_cli(5)

    print("bettercare benchmark")
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpu(s); "
        f"imports {fmt_s(import_s)} and warm-up {fmt_s(warm_s)} excluded from every figure"
    )
    try:
        import mesa
        import negmas
        import numpy

        print(f"mesa {mesa.__version__}, numpy {numpy.__version__}, negmas {negmas.__version__}")
    except Exception:  # noqa: BLE001
        pass
    print()

    # 1 + 2
    print(
        f"1-2. Whole model: england-2014 rules, planning + assurance + 12 months delivery "
        f"(median; national x{n_nat} seeds, synthetic x{n_syn})"
    )
    rows = []
    for label, r in ((f"national ({nat['areas'][0]} areas)", nat), (f"synthetic ({syn['areas'][0]} areas)", syn)):
        rows.append(
            (
                label,
                fmt_s(median(r["setup"])),
                fmt_s(median(r["run"])),
                fmt_s(median(r["total"])),
                fmt_s(median(r["total"]) / r["areas"][0]),
                fmt_s(min(r["total"])),
                fmt_s(max(r["total"])),
                fmt_s(median(r["collect"])),
            )
        )
    ratio = {k: median(syn[k]) / median(nat[k]) for k in ("setup", "run", "total")}
    area_x = syn["areas"][0] / nat["areas"][0]
    rows.append(
        (
            f"ratio ({area_x:.0f}x areas)",
            f"{ratio['setup']:.2f}x",
            f"{ratio['run']:.2f}x",
            f"{ratio['total']:.2f}x",
            "",
            "",
            "",
            "",
        )
    )
    print(table(rows, ("", "setup", "run_model", "total", "per area", "min total", "max total", "collect() *")))
    print("   setup = BetterCareModel(params, rng=seed); run_model = model.run_model(); total = both.")
    print("   * collect() (results tables, what run() adds) is reported apart, not in total.")
    print()

    # 3
    print(f"3. One negotiation, 3 parties, up to {ROUNDS} rounds of one offer each (median of {n_neg})")
    if isinstance(theirs, str):
        print(f"   NegMAS: {theirs}")
        neg_ratio = float("nan")
        e2e_ratio = float("nan")
    rows = []
    for label, r in (("bettercare Table", ours), ("NegMAS SAOMechanism", theirs)):
        if isinstance(r, str):
            rows.append((label, r, "", "", "", "", ""))
            continue
        rows.append(
            (
                label,
                fmt_s(median(r["talks"])),
                fmt_s(median(r["talks_per_round"])),
                fmt_s(median(r["e2e"])),
                fmt_s(median(r["e2e_per_round"])),
                f"{statistics.mean(r['rounds']):.1f}",
                f"{sum(r['agreed']) / len(r['agreed']):.0%}",
            )
        )
    if not isinstance(theirs, str):
        neg_ratio = median(theirs["talks"]) / median(ours["talks"])
        e2e_ratio = median(theirs["e2e"]) / median(ours["e2e"])
        rows.append(
            (
                "ratio NegMAS/ours",
                f"{neg_ratio:.1f}x",
                f"{median(theirs['talks_per_round']) / median(ours['talks_per_round']):.1f}x",
                f"{e2e_ratio:.1f}x",
                f"{median(theirs['e2e_per_round']) / median(ours['e2e_per_round']):.1f}x",
                "",
                "",
            )
        )
    print(table(rows, ("", "talks", "talks/round", "end-to-end", "e2e/round", "rounds (mean)", "agreed")))
    print(
        f"   ours: Wigan table ({'/'.join(ours['kinds'])}), {ours['candidates'][0]} candidate plans x 8 slots;\n"
        f"         talks = table.open() + table.week(w) until agreement or week {ROUNDS};\n"
        f"         end-to-end adds Table() construction (belief draws, scoring every candidate)."
    )
    print(
        f"   NegMAS: SAOMechanism(n_steps={ROUNDS}, time_limit=None, one_offer_per_step=True),\n"
        f"         Boulware/Conceder/LinearTB negotiators, 5 issues x {NEGMAS_VALUES[0]} values "
        f"({int(math.prod(NEGMAS_VALUES)):,} outcomes), linear additive ufuns;\n"
        f"         talks = mechanism.run(); end-to-end adds building the mechanism, ufuns, negotiators."
    )
    print("   Both exclude BetterCareModel construction. Per round = negotiation time / rounds used.")
    print()

    # 4
    print("4. CLI start-up: `bettercare --help` as a subprocess (median of 5)")
    if isinstance(cli, str):
        print(f"   {cli}")
    else:
        print(
            table(
                [
                    ("bettercare --help", fmt_s(cli[0])),
                    ("python -c pass (baseline)", fmt_s(cli[1])),
                    ("ratio", f"{cli[0] / cli[1]:.1f}x"),
                ],
                ("", "wall time"),
            )
        )
    print()

    # 5
    cal = bench_calibration_run(n_nat)
    print(f"5. One calibration simulation: run() against run_national(), alternating (median of {n_nat})")
    print(
        table(
            [
                ("run(): every table", fmt_s(median(cal["run"]))),
                ("run_national(): the national fields ABC uses", fmt_s(median(cal["national"]))),
                ("ratio (run_national / run)", f"{median(cal['national']) / median(cal['run']):.2f}x"),
            ],
            ("", "median wall"),
        )
    )
    print()

    # 6
    phases = bench_phases(n_nat)
    print(f"6. Where a calibration simulation's time goes (run_national step by step; median of {n_nat})")
    total = median(phases["total"])
    talks = ("planning", "revised", "assurance")
    rows = [(k, fmt_s(median(v)), f"{median(v) / total:.0%}") for k, v in phases.items() if k != "total"]
    rows.append(
        (
            "weekly talks (planning + revised + assurance)",
            fmt_s(sum(median(phases[k]) for k in talks if k in phases)),
            "",
        )
    )
    rows.append(("total", fmt_s(total), "100%"))
    print(table(rows, ("phase (by the step's starting phase)", "median wall", "share")))
    print("   planning/revised/assurance weeks are the tables' talks (and the centre's reviews in assurance);")
    print("   pause = the first-round stress test, the new rules and every table rescored; delivery = 12 months.")
    print()

    # targets
    print("Targets")
    t_scale = ratio["total"] <= SCALE_TARGET
    national_s = median(nat["total"]) + median(nat["collect"])
    rows = [
        ("national run (setup + run + collect) <= 0.5 s on one core", fmt_s(national_s), verdict(national_s <= 0.5)),
        (f"{area_x:.0f}x areas in <= {SCALE_TARGET:.0f}x the time (total)", f"{ratio['total']:.2f}x", verdict(t_scale)),
        (
            "calibration simulation <= 0.1 s (issue 14's comfortable goal)",
            fmt_s(total),
            verdict(total <= CALIBRATION_TARGET),
        ),
    ]
    if not isinstance(theirs, str):
        rows.append(
            (
                f"one negotiation >= {NEGOTIATION_TARGET:.0f}x faster than NegMAS (end-to-end)",
                f"{e2e_ratio:.1f}x",
                verdict(e2e_ratio >= NEGOTIATION_TARGET),
            )
        )
        rows.append(
            (
                f"one negotiation >= {NEGOTIATION_TARGET:.0f}x faster than NegMAS (talks only)",
                f"{neg_ratio:.1f}x",
                verdict(neg_ratio >= NEGOTIATION_TARGET),
            )
        )
    else:
        rows.append((f"one negotiation >= {NEGOTIATION_TARGET:.0f}x faster than NegMAS", "n/a", verdict(None)))
    print(table(rows, ("target", "measured", "status")))
    print(f"\n(benchmark wall time {fmt_s(now() - t_start)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
