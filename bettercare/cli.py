"""The `bettercare` command line: run scenarios, list parameters, presets and areas.

Heavy modules (numpy, pandas, mesa, pydantic, the model) are imported inside the commands, so
that `bettercare --help` starts fast. Mistakes in the input (an unknown parameter, a value out
of range, a missing file) print one line starting with `error: ` and exit with code 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

try:  # Typer 0.29+ carries its own copy of click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # older Typer, on click
    from click.exceptions import ClickException, NoArgsIsHelpError, UsageError

DEFAULT_SCENARIO = "england-2014"
USAGE_ERROR = 2
MAX_REPLICATES = 1_000_000  # as in sweep specs ([experiment] replicates)
MAX_SEED = 2**63 - 1  # seeds are stored as int64
MAX_POSTERIOR_DRAWS = 100_000  # as in sweep specs ([experiment] posterior_draws)


def _posterior_option(help_text: str) -> Any:
    """The --posterior N option of `run` and `validate` (same name, bounds and metavar)."""
    return typer.Option("--posterior", metavar="N", min=1, max=MAX_POSTERIOR_DRAWS, help=help_text)


def _raw_value(args: list[str], opts: list[str]) -> str | None:
    """The text given on the command line to the option named by `opts` (its last use)."""
    value = None
    for i, token in enumerate(args):
        for opt in opts:
            if token == opt and i + 1 < len(args):
                value = args[i + 1]
            elif opt.startswith("--") and token.startswith(opt + "="):
                value = token[len(opt) + 1 :]
    return value


def usage_error_line(exc: ClickException, args: list[str]) -> str:
    """A usage error found while parsing (bad option value, unknown option, missing argument)
    as one `error:` line naming the option, the value given and what is allowed.

    Typer would print a usage line, a hint and a boxed message; bettercare prints the same one
    line as its own checks do.
    """
    param = getattr(exc, "param", None)
    opts = list(getattr(param, "opts", []) or [])
    if param is not None and opts and opts[0].startswith("-"):
        raw = _raw_value(args, opts)
        shown = "/".join(opts)
        message = f"{shown} = {raw!r} is invalid: {exc.message}" if raw is not None else f"{shown}: {exc.message}"
    else:
        message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    hint = f" (see `{ctx.command_path} --help`)" if ctx is not None else ""
    return "error: " + " ".join(str(message).split()).rstrip(".") + hint


class OneLineErrors(TyperGroup):
    """The `bettercare` command group, whose usage errors print one `error:` line and exit 2."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        args = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # `bettercare` alone: the help was shown
            sys.exit(exc.exit_code)
        except ClickException as exc:
            sys.stderr.write(usage_error_line(exc, args) + "\n")
            sys.stderr.flush()
            sys.exit(USAGE_ERROR if isinstance(exc, UsageError) else exc.exit_code)
        except typer.Abort:
            sys.stderr.write("aborted\n")
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    name="bettercare",
    cls=OneLineErrors,
    help="An agent-based model of England's Better Care Fund (2014-2017).",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


class UsageProblem(Exception):
    """A mistake in the command line or its inputs; the message is one line for the user."""


def _fail(message: str) -> NoReturn:
    one_line = " ".join(str(message).split())
    sys.stderr.write(f"error: {one_line}\n")
    sys.stderr.flush()
    raise typer.Exit(code=USAGE_ERROR)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn input mistakes into `error: ...` on stderr and exit code 2, without a traceback."""
    from bettercare.model.scenario import ScenarioError

    try:
        yield
    except (ScenarioError, UsageProblem) as exc:
        _fail(str(exc))


def _console():
    """A rich console on stdout; output that is not a terminal gets 160 columns instead of 80."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    return console


def _print_json(obj: Any) -> None:
    from bettercare.experiments.manifest import jsonable

    sys.stdout.write(json.dumps(jsonable(obj), allow_nan=False) + "\n")
    sys.stdout.flush()


def _version_callback(value: bool) -> None:
    if value:
        from bettercare import __version__

        typer.echo(f"bettercare {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """An agent-based model of England's Better Care Fund (2014-2017)."""


# --- run ------------------------------------------------------------------------------------


def parse_sets(items: list[str] | None) -> dict[str, Any]:
    """`["trust.initial=0.8", ...]` -> `{"trust.initial": 0.8}`; values are parsed as TOML."""
    from bettercare.model.scenario import parse_value

    out: dict[str, Any] = {}
    for item in items or []:
        key, eq, text = item.partition("=")
        key = key.strip()
        if not eq or not key:
            raise UsageProblem(f"--set {item!r} is malformed: expected KEY=VALUE, e.g. --set trust.initial=0.8")
        out[key] = parse_value(text.strip())
    return out


def _load(scenario: str | None, config: Path | None, overrides: dict[str, Any]):
    from bettercare.model.scenario import PRESETS, load_scenario

    if scenario is not None and config is not None:
        raise UsageProblem("give either --scenario or --config, not both")
    if config is None and scenario and scenario not in PRESETS and Path(scenario).exists():
        config, option = Path(scenario), "--scenario"  # a scenario file given by --scenario
    else:
        option = "--config"
    if config is not None:
        if not config.exists():
            raise UsageProblem(f"config file '{config}' not found")
        if not config.is_file():
            wanted = "a preset name or a TOML scenario file" if option == "--scenario" else "a TOML scenario file"
            raise UsageProblem(f"{option} '{config}' is not a file: give {wanted}")
        try:
            return load_scenario(config, overrides)
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageProblem(f"{option} '{config}' cannot be read: {' '.join(str(exc).split())}") from None
    return load_scenario(scenario or DEFAULT_SCENARIO, overrides)


def _seeds_text(seeds: list[int]) -> str:
    shown = ", ".join(str(s) for s in seeds[:5])
    return shown + (f", ... ({len(seeds)} in all)" if len(seeds) > 5 else "")


def _print_summary(
    name: str,
    description: str,
    seeds: list[int],
    nationals: list[dict[str, Any]],
    summary: dict[str, dict[str, Any]],
    out: Path | None,
    draws: int = 0,
) -> None:
    from rich.table import Table

    from bettercare.model.outputs import Kind, fmt, summary_groups

    console = _console()
    r = len(seeds)
    header = (
        f"[bold]Scenario[/] {name} | [bold]seed{'s' if r > 1 else ''}[/] {_seeds_text(seeds)} | [bold]replicates[/] {r}"
    )
    if draws:
        header += f" | [bold]posterior draws[/] {draws} (runs {r:,}: intervals include parameter uncertainty)"
    console.print(header)
    if description:
        console.print(f"[dim]{description}[/]")
    table = Table(show_header=True, header_style="bold")
    table.add_column("field")
    if r == 1:
        table.add_column("value", justify="right")
    else:
        table.add_column("mean", justify="right")
        table.add_column("95% CI", justify="right")
    groups = [(g.title, [(o.name, o.kind) for o in items]) for g, items in summary_groups()]
    listed = {f for _, items in groups for f, _ in items}
    rest = [(f, Kind.NUMBER) for f in (nationals[0] if nationals else {}) if f not in listed and f in summary]
    if rest:
        groups.append(("Other", rest))
    for gi, (title, items) in enumerate(groups):
        items = [(f, k) for f, k in items if f in summary]
        if not items:
            continue
        table.add_row(f"[bold cyan]{title}[/]", *([""] * (len(table.columns) - 1)), end_section=False)
        for i, (f, kind) in enumerate(items):
            s = summary[f]
            last = i == len(items) - 1 and gi < len(groups) - 1
            if r == 1:
                table.add_row(f"  {f}", fmt(nationals[0].get(f), kind), end_section=last)
            else:
                lo, hi = s["ci95"]
                ci = "-" if lo is None else f"[{fmt(lo, kind)}, {fmt(hi, kind)}]"
                table.add_row(f"  {f}", fmt(s["mean"], kind), ci, end_section=last)
    console.print(table)
    console.print("[dim]Units and meanings: docs/outputs.md[/]")
    if out is not None:
        console.print(f"Tables and manifest written to [bold]{out}[/]")


def _scenario_ref(scenario: str | None, config: Path | None) -> str:
    """The scenario as a sweep spec names it: a preset, or the absolute path of a scenario file."""
    from bettercare.model.scenario import PRESETS

    if config is not None:
        return str(config.resolve())
    if scenario and scenario not in PRESETS and Path(scenario).exists():
        return str(Path(scenario).resolve())
    return scenario or DEFAULT_SCENARIO


def _national_rows(frame) -> list[dict[str, Any]]:
    """One dict of national fields per run (a sweep's national table, sorted by run_id); NaN is None."""
    import math

    from bettercare.model.outputs import SWEEP_ID_COLUMNS

    fields = [c for c in frame.columns if c not in SWEEP_ID_COLUMNS]
    return [
        {f: None if isinstance(v, float) and math.isnan(v) else v for f, v in zip(fields, row, strict=True)}
        for row in frame[fields].itertuples(index=False, name=None)
    ]


@app.command()
def run(
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            "-s",
            metavar="NAME",
            help=f"A preset (see `bettercare scenarios`); default {DEFAULT_SCENARIO}.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            metavar="FILE",
            help="A TOML scenario file (\\[scenario] name/base, then parameter tables; docs/experiments.md).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="Override a parameter, e.g. --set trust.initial=0.8 (TOML value; repeatable).",
        ),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=MAX_SEED, help="Master seed (one run: its seed, as in bettercare.run).")
    ] = 1,
    replicates: Annotated[
        int,
        typer.Option(
            "--replicates",
            "-r",
            min=1,
            max=MAX_REPLICATES,
            help="Independent runs (at most 1,000,000); seeds spawned from the master seed.",
        ),
    ] = 1,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Write a one-point sweep here (Parquet store and manifest.json, as `bettercare sweep`); "
            "on Ctrl-C it keeps the replicates that finished, and running again resumes.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            metavar="N",
            min=0,
            help="Local worker processes (default: this process for one run, else one per core).",
        ),
    ] = None,
    scheduler: SchedulerOption = None,
    posterior: Annotated[
        int | None,
        _posterior_option(
            "Draw N parameter sets from england-2014's calibrated posterior (parameter uncertainty) "
            "and run each --replicates times on its own seeds; --set wins over a draw."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object (runs and summary) to stdout.")
    ] = False,
) -> None:
    """Run a scenario and summarise its national outcomes."""
    with _user_errors():
        overrides = parse_sets(set_)
        sc = _load(scenario, config, overrides)
        if scheduler:
            from bettercare.experiments.cli import _check_scheduler
            from bettercare.experiments.spec import SpecError

            try:
                _check_scheduler(scheduler)
            except SpecError as exc:
                raise UsageProblem(str(exc)) from None
        draws = posterior or 0
        runs = replicates * max(1, draws)
        if workers is None and not scheduler and runs == 1:
            workers = 0  # one run: no worker process to start
        if out is None:  # a throw-away directory that keeps the national table only
            import tempfile

            with tempfile.TemporaryDirectory(prefix="bettercare-run-") as tmp:
                frame, failed, interrupted = _run_sweep(
                    Path(tmp) / "run",
                    False,
                    scenario,
                    config,
                    sc,
                    overrides,
                    seed,
                    replicates,
                    workers,
                    scheduler,
                    draws,
                )
        else:
            frame, failed, interrupted = _run_sweep(
                out, True, scenario, config, sc, overrides, seed, replicates, workers, scheduler, draws
            )
    finished = len(frame) + len(failed)
    if interrupted:
        _note(f"interrupted: {finished:,} of {runs:,} {'runs' if draws else 'replicates'} finished")
        if out is None:
            _note("nothing written: give --out DIR to keep the replicates that finish before Ctrl-C")
        elif finished:
            import shlex

            _note(f"the {finished:,} finished replicates are in {out} (manifest status: interrupted)")
            _note(f"resume with: bettercare sweep --out {shlex.quote(str(out))} --resume")
        raise typer.Exit(code=130)
    for run_id, message in failed[:5]:
        _note(f"run {run_id} failed: {message}")
    if failed:
        where = f" (all in {out / 'errors'})" if out is not None else ""
        _note(f"{len(failed):,} of {runs:,} {'runs' if draws else 'replicates'} failed{where}")
        if frame.empty:
            raise typer.Exit(code=1)
    from bettercare.analysis.summary import summarise

    nationals = _national_rows(frame)
    seeds = [int(s) for s in frame["seed"]]
    summary = summarise(nationals)
    if as_json:
        _print_json(
            {
                "scenario": sc.name,
                "posterior_draws": draws,
                "runs": [
                    {"run_id": int(i), "seed": s, "national": n}
                    for i, s, n in zip(frame["run_id"], seeds, nationals, strict=True)
                ],
                "summary": summary,
            }
        )
    else:
        _print_summary(sc.name, sc.description, seeds, nationals, summary, out, draws)
    if failed:
        raise typer.Exit(code=1)


def _note(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _run_sweep(
    out: Path,
    keep: bool,
    scenario,
    config,
    sc,
    overrides,
    seed: int,
    replicates: int,
    workers,
    scheduler,
    draws: int = 0,
):
    """The runs of `bettercare run`: a one-point sweep into `out` through the sweep's runner, backend
    and store (all tables when the user keeps `out`, else the national table only). Returns (the
    national table sorted by run_id, [(run_id, error)] of the failed runs, interrupted)."""
    import shutil

    import pandas as pd

    from bettercare.experiments.manifest import check_writable_dir
    from bettercare.experiments.spec import SpecError, run_experiment
    from bettercare.model.outputs import TABLES

    try:
        created = check_writable_dir(out, "--out")
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None
    tables = TABLES if keep else ("national",)
    result = None
    try:
        exp = run_experiment(
            _scenario_ref(scenario, config), overrides, replicates, seed, sc.name, sc.description, tables, draws
        )
        from bettercare.experiments.runner import run_sweep

        result = run_sweep(exp, out, workers=workers, scheduler=scheduler, progress=sys.stderr.isatty(), log=_note)
    except SpecError as exc:
        if created and not any(out.iterdir()):
            out.rmdir()
        raise UsageProblem(str(exc)) from None
    except KeyboardInterrupt:  # before the sweep took over Ctrl-C: nothing committed
        pass
    if result is None or (result.interrupted and result.done == 0):
        if created:
            shutil.rmtree(out, ignore_errors=True)
        return pd.DataFrame(), [], True
    from bettercare.experiments.store import ERRORS, read_table

    errors = read_table(out, ERRORS)
    failed = [(int(r.run_id), f"{r.error_type}: {r.message}") for r in errors.itertuples(index=False)]
    return read_table(out, "national"), failed, result.interrupted


# --- listings -------------------------------------------------------------------------------


def scenario_parameter_rows(scenario: str = DEFAULT_SCENARIO) -> list[dict[str, Any]]:
    """`parameter_table()` with the value each parameter takes in `scenario` and where it comes from.

    `source` is "calibrated" (fitted by `bettercare calibrate`, bettercare/data/england-2014.toml),
    "scenario" (set by the preset or scenario file) or "default" (the value in `Parameters`).
    Every preset and scenario file builds on england-2014, so its calibrated values apply to all.
    """
    from bettercare.model.scenario import calibrated, parameter_table

    sc = _load(scenario or DEFAULT_SCENARIO, None, {})
    values = sc.params.flat()
    fitted = calibrated()
    rows = []
    for row in parameter_table():
        name = row["name"]
        value = values[name]
        if name in fitted and value == fitted[name]:
            source = "calibrated"
        elif value != row["default"]:
            source = "scenario"
        else:
            source = "default"
        rows.append({**row, "scenario": sc.name, "value": value, "source": source})
    return rows


@app.command()
def params(
    scenario: Annotated[
        str,
        typer.Option(
            "--scenario",
            "-s",
            metavar="NAME|FILE",
            help="Show each parameter's value in this preset or scenario TOML file.",
        ),
    ] = DEFAULT_SCENARIO,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False,
) -> None:
    """Every parameter: its default, its value in a scenario (calibrated ones marked), range, description."""
    with _user_errors():
        rows = scenario_parameter_rows(scenario)
    if as_json:
        _print_json(rows)
        return
    from rich.table import Table

    name = rows[0]["scenario"] if rows else scenario
    fitted = sum(r["source"] == "calibrated" for r in rows)
    table = Table(
        show_header=True,
        header_style="bold",
        show_lines=False,
        caption=f"{name}: * = calibrated ({fitted} parameters, bettercare/data/england-2014.toml; "
        "docs/validation.md), + = set by the scenario; default = the value in `Parameters()`",
    )
    table.add_column("parameter", no_wrap=True)
    table.add_column("default", justify="right", no_wrap=True)
    table.add_column(name, justify="right", no_wrap=True)
    table.add_column("range", ratio=1, min_width=10)
    table.add_column("description", ratio=2, min_width=20)
    mark = {"calibrated": " *", "scenario": " +", "default": "  "}
    group = None
    for row in rows:
        g = row["name"].split(".")[0]
        if group is not None and g != group:
            table.add_section()
        group = g
        table.add_row(
            row["name"],
            json.dumps(row["default"]),
            json.dumps(row["value"]) + mark[row["source"]],
            row["range"],
            row["description"],
        )
    _console().print(table)


@app.command()
def scenarios(as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False) -> None:
    """The named presets, their descriptions and the parameters they change from england-2014."""
    from bettercare.model.scenario import PRESETS, calibrated

    fitted = calibrated()
    rows = []
    for name, (desc, changes) in PRESETS.items():
        row = {"name": name, "description": desc, "overrides": dict(changes)}
        if name == DEFAULT_SCENARIO:
            row["calibrated"] = dict(fitted)
        else:
            row["base"] = DEFAULT_SCENARIO
        rows.append(row)
    if as_json:
        _print_json(rows)
        return
    from rich.table import Table

    table = Table(show_header=True, header_style="bold")
    table.add_column("scenario", no_wrap=True)
    table.add_column("description", ratio=3)
    table.add_column("changes", ratio=2)
    for row in rows:
        if row["name"] == DEFAULT_SCENARIO:
            changes = (
                f"the defaults with {len(fitted)} calibrated parameters (`bettercare params` marks them)"
                if fitted
                else "the defaults (no calibration found)"
            )
        else:
            changes = f"{DEFAULT_SCENARIO} with " + ", ".join(
                f"{k}={json.dumps(v)}" for k, v in row["overrides"].items()
            )
        table.add_row(row["name"], row["description"], changes)
    _console().print(table)


@app.command()
def areas(as_json: Annotated[bool, typer.Option("--json", help="Print JSON to stdout.")] = False) -> None:
    """The 150 health and wellbeing board areas: population, CCGs at the table, coterminosity."""
    from bettercare.model.areas import england

    geo = england()
    ccgs = geo.members[geo.members.kind == "ccg"].groupby("area_code", sort=False)["org_name"].agg(list)
    rows = [
        {
            "area_code": a.area_code,
            "name": a.area_name,
            "population": int(a.population),
            "ccgs": ccgs.get(a.area_code, []),
            "coterminous": bool(a.coterminous),
        }
        for a in geo.areas.itertuples(index=False)
    ]
    if as_json:
        _print_json(rows)
        return
    from rich.table import Table

    table = Table(
        show_header=True,
        header_style="bold",
        caption=f"{len(rows)} areas; {sum(r['coterminous'] for r in rows)} coterminous",
    )
    table.add_column("code", no_wrap=True)
    table.add_column("area", min_width=12)
    table.add_column("population", justify="right", no_wrap=True)
    table.add_column("CCGs", justify="right", no_wrap=True)
    table.add_column("cot.", no_wrap=True)
    table.add_column("CCG names", ratio=1, min_width=20)
    for r in rows:
        table.add_row(
            r["area_code"],
            r["name"],
            f"{r['population']:,}",
            str(len(r["ccgs"])),
            "yes" if r["coterminous"] else "",
            "; ".join(r["ccgs"]),
        )
    _console().print(table)


@app.command()
def validate(
    replicates: Annotated[
        int, typer.Option("--replicates", "-r", min=1, max=MAX_REPLICATES, help="Runs of england-2014 to average.")
    ] = 20,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=MAX_SEED, help="Master seed; replicate seeds are spawned from it.")
    ] = 2014,
    workers: Annotated[
        int, typer.Option("--workers", min=1, help="Processes to run on (capped at the runs and at 2 per core).")
    ] = 2,
    scheduler: SchedulerOption = None,
    posterior: Annotated[
        int | None,
        _posterior_option(
            "Posterior-predictive: N parameter sets drawn from the calibrated posterior, each run "
            "--replicates times; intervals then hold parameter uncertainty and seed noise, with each one's share."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON objects.")] = False,
) -> None:
    """Compare england-2014 with the public record: one row per reference fact (a report; exit 0)."""
    from bettercare.analysis.validation import evaluate, predictions, run_nationals, run_posterior_nationals
    from bettercare.experiments.backends import cap_workers
    from bettercare.experiments.designs import replicate_seeds
    from bettercare.model import posterior as shipped

    draws = posterior or 0
    workers, notice = cap_workers(workers, replicates * max(1, draws))
    if notice:
        _note(notice)
    with _user_errors():
        if draws:
            sets = shipped.draw(draws, seed)
            nationals = run_posterior_nationals(
                DEFAULT_SCENARIO, sets, replicates, seed, workers=workers, scheduler=scheduler
            )
            seeds = [int(s) for s in nationals["seed"]]
        else:
            seeds = replicate_seeds(seed, replicates)
            nationals = run_nationals(DEFAULT_SCENARIO, seeds, workers=workers, scheduler=scheduler)
    table = evaluate(nationals)
    preds = predictions(nationals)
    if as_json:
        _print_json(
            {
                "rows": table.drop(columns=["kind"]).to_dict(orient="records"),
                "predictions": preds.drop(columns=["kind"]).to_dict(orient="records"),
                "seeds": seeds,
                "posterior_draws": draws,
                **({"posterior_sha256": shipped.digest()} if draws else {}),
            }
        )
        return
    _print_validation(table, preds, replicates, seed, draws)


def _print_validation(table, preds, replicates: int, seed: int, draws: int) -> None:
    from rich.table import Table

    from bettercare.analysis.validation import fact_cells, share_text
    from bettercare.model.outputs import fmt

    met = int(table.met.sum())
    runs = f"{draws} posterior draws x {replicates} replicates" if draws else f"{replicates} replicates"
    spread = "runs (parameters and seeds)" if draws else "replicates"
    out = Table(
        show_header=True,
        header_style="bold",
        title=f"england-2014 against the public record ({runs}, seed {seed})",
        caption=f"{met} of {len(table)} facts met (model mean within tolerance); interval = 2.5-97.5% of {spread}"
        + ("; from parameters = share of the variance the posterior draws explain" if draws else ""),
    )
    columns = [
        ("fact", {"ratio": 3, "min_width": 24}),
        ("source", {"ratio": 2, "min_width": 16}),
        ("reference", {"justify": "right"}),
        ("model mean", {"justify": "right"}),
        ("95% interval", {"justify": "right"}),
        ("tolerance", {"justify": "right"}),
        ("met", {}),
    ]
    if draws:
        columns.append(("from parameters", {"justify": "right"}))
    for col, kw in columns:
        out.add_column(col, **kw)
    for r in table.itertuples(index=False):
        cells = [r.fact, r.source, *fact_cells(r), "[green]yes[/green]" if r.met else "[red]no[/red]"]
        out.add_row(*cells, *([share_text(r.parameter_share)] if draws else []))
    console = _console()
    console.print(out)
    pred = Table(
        show_header=True,
        header_style="bold",
        title="Predictions for delivery year 1 (2015-16), never calibrated on",
        caption=f"interval = 2.5-97.5% of {spread}",
    )
    for col in ("outcome", "mean", "95% interval", *(["from parameters"] if draws else [])):
        pred.add_column(col, justify="left" if col == "outcome" else "right")
    for r in preds.itertuples(index=False):
        cells = [r.outcome, fmt(r.mean, r.kind), f"{fmt(r.lo95, r.kind)} to {fmt(r.hi95, r.kind)}"]
        pred.add_row(*cells, *([share_text(r.parameter_share)] if draws else []))
    console.print(pred)


@app.command()
def calibrate(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="ABC: folder of the history (abc.db) and posterior; re-running continues.",
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="abc: ABC-SMC posterior (pyabc); point: the older one-point fit.")
    ] = "abc",
    population: Annotated[int, typer.Option("--population", min=2, help="ABC: particles per generation.")] = 100,
    generations: Annotated[int, typer.Option("--generations", min=1, help="ABC: most generations in this chunk.")] = 10,
    max_simulations: Annotated[
        int, typer.Option("--max-simulations", min=1, help="ABC: most simulations over every chunk.")
    ] = 60_000,
    minutes: Annotated[float, typer.Option("--minutes", min=0.1, max=600, help="ABC: wall time of this chunk.")] = 55.0,
    sets: Annotated[
        list[str] | None,
        typer.Option("--set", metavar="NAME=VALUE", help="ABC: fix a parameter (e.g. a few areas for a smoke run)."),
    ] = None,
    samples: Annotated[int, typer.Option("--samples", min=2, help="point: Latin hypercube points.")] = 200,
    replicates: Annotated[int, typer.Option("--replicates", min=1, help="point: seeds per point.")] = 2,
    refine: Annotated[
        int, typer.Option("--refine", min=0, help="point: rounds of local search from the best point.")
    ] = 20,
    seed: Annotated[
        int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the design and of the runs.")
    ] = 2014,
    workers: Annotated[int, typer.Option("--workers", min=1, help="Processes to run on (at most 2 per core).")] = 2,
    scheduler: SchedulerOption = None,
    seeds_per_particle: Annotated[
        int,
        typer.Option(
            "--seeds-per-particle",
            min=1,
            max=16,
            help="ABC: runs per particle, whose mean is the particle's data (less seed noise, k times the cost).",
        ),
    ] = 1,
    write: Annotated[
        bool, typer.Option("--write/--dry-run", help="point: write the fit into the england-2014 scenario.")
    ] = True,
    ship: Annotated[
        bool,
        typer.Option(
            "--ship",
            help="ABC: copy the posterior and its record into the package as england-2014's posterior "
            "(what `run --posterior`, `validate --posterior` and `posterior = true` draw from).",
        ),
    ] = False,
) -> None:
    """Fit england-2014 to the planning and assurance facts: an ABC-SMC posterior (default) over the
    parameters the screening kept, or the older one-point fit (docs/validation.md)."""
    with _user_errors():
        if method not in ("abc", "point"):
            raise UsageProblem(f"--method must be abc or point, not {method!r}")
        if method == "abc":
            if out is None:
                raise UsageProblem("--out DIR is needed: the folder of the ABC history and posterior")
            from bettercare.experiments.manifest import unwritable_dir

            problem = unwritable_dir(out)
            if problem is not None:
                raise UsageProblem(f"--out '{out}' cannot be created or written: {problem}")
            fixed = parse_sets(sets)
            _load(None, None, fixed)  # a bad --set is one line here, not a failed particle later
            _calibrate_abc(
                out,
                population,
                generations,
                max_simulations,
                minutes,
                fixed,
                seed,
                workers,
                scheduler,
                seeds_per_particle,
            )
            if ship:
                from bettercare.analysis.abc import ship_posterior

                typer.echo(f"shipped as england-2014's posterior: {', '.join(map(str, ship_posterior(out)))}")
            return
    _calibrate_point(samples, replicates, refine, seed, workers, scheduler, write)


def _calibrate_abc(
    out, population, generations, max_simulations, minutes, fixed, seed, workers, scheduler, seeds_per_particle=1
) -> None:
    from bettercare.analysis.abc import calibrate_abc
    from bettercare.experiments.backends import make_backend

    def go(client=None):
        return calibrate_abc(
            out,
            population=population,
            generations=generations,
            max_simulations=max_simulations,
            minutes=minutes,
            seed=seed,
            workers=workers,
            client=client,
            fixed=fixed,
            seeds_per_particle=seeds_per_particle,
            echo=_note,
        )

    if scheduler:
        with make_backend(scheduler=scheduler) as backend:  # the sweeps' Dask cluster, shared
            record = go(backend.client)
    else:
        record = go()
    typer.echo(
        f"generations {record['generations']}, simulations {record['simulations']}, "
        f"final epsilon {record['final_epsilon']:.3g} (1: every fact within tolerance), "
        f"{record['particles_with_every_fact_met']:.0%} of the last generation meet every fact; "
        f"wrote {out / 'posterior.parquet'}, {out / 'record.json'} and {out / 'report.md'} "
        "(generations, identifiability, the parameters the facts do not inform)"
    )


def _calibrate_point(samples, replicates, refine, seed, workers, scheduler, write) -> None:
    from rich.progress import Progress

    from bettercare.analysis.calibration import calibrate as fit
    from bettercare.analysis.calibration import write_scenario
    from bettercare.experiments.backends import cap_workers

    workers, notice = cap_workers(workers, samples * replicates)
    if notice:
        _note(notice)
    with Progress(transient=True) as bar:
        task = bar.add_task("calibrating", total=None)
        record = fit(
            samples=samples,
            replicates=replicates,
            refine=refine,
            seed=seed,
            workers=workers,
            scheduler=scheduler,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    record.pop("table")
    typer.echo(
        f"distance {record['distance']} (stage 1 best {record['stage1_best_distance']}); "
        f"{record['rows_met']} of {record['rows']} calibration facts met"
    )
    for k, v in record["parameters"].items():
        typer.echo(f"  {k} = {v}")
    if write:
        path = write_scenario(record)
        typer.echo(f"wrote {path}")


@app.command()
def screen(
    out: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Sweep directory of the screening; re-running resumes.")
    ],
    trajectories: Annotated[int, typer.Option("--trajectories", min=2, help="Morris trajectories (r).")] = 8,
    replicates: Annotated[int, typer.Option("--replicates", min=1, help="Seeds per point (common to all).")] = 2,
    seed: Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Seed of the design and the runs.")] = 2015,
    quick: Annotated[bool, typer.Option("--quick", help="Two trajectories, one seed: a smoke run.")] = False,
    workers: Annotated[int | None, typer.Option("--workers", "-w", min=0, help="Local processes.")] = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Morris screening of the calibration and explore parameters on the calibration facts: which
    parameters the facts can inform (bettercare/analysis/screening.py; docs/validation.md)."""
    import tempfile

    from bettercare.analysis.screening import KEEP, ranking, spec_text
    from bettercare.analysis.screening import screen as morris_screen
    from bettercare.experiments.cli import sweep

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "screening.toml"
        spec.write_text(spec_text(trajectories, replicates, seed))
        code = sweep(str(spec), out, workers, scheduler, resume=(out / "manifest.json").is_file(), quick=quick)
    if code:
        raise typer.Exit(code=code)
    indices = morris_screen(out)
    ranked = ranking(indices)
    indices.to_csv(out / "screening_indices.csv", index=False)
    ranked.to_csv(out / "screening.csv", index=False)
    from rich.table import Table

    table = Table(title=f"Morris mu* of the calibration distance (kept: the top {KEEP} with any effect)")
    for col in ("parameter", "mu*", "95% interval", "sigma", "moves most", "kept"):
        table.add_column(col)
    for r in ranked.itertuples(index=False):
        table.add_row(
            r.parameter,
            f"{r.mu_star:.3g}",
            f"[{r.mu_star_lo:.3g}, {r.mu_star_hi:.3g}]",
            f"{r.sigma:.3g}",
            r.moves_most,
            "yes" if r.kept else "",
        )
    _console().print(table)
    typer.echo(f"wrote {out / 'screening.csv'} and {out / 'screening_indices.csv'}")


@app.command()
def report(
    sweep_dir: Annotated[
        Path, typer.Argument(metavar="DIR", help="A sweep directory (bettercare sweep ... --out DIR).")
    ],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="FILE", help="HTML file to write; default DIR/report.html.")
    ] = None,
    area: Annotated[
        str, typer.Option("--area", help="Area for the trust network and negotiation dance: a name or code, or 'auto'.")
    ] = "auto",
    run_id: Annotated[
        int | None, typer.Option("--run", min=0, help="Run to replay for those figures; default the median run.")
    ] = None,
    figures: Annotated[
        Path | None, typer.Option("--figures", metavar="DIR", help="Also write every figure here as PNG and SVG.")
    ] = None,
    interval: Annotated[str, typer.Option("--interval", help="Intervals of effects: t or bootstrap.")] = "t",
) -> None:
    """One self-contained HTML report of a sweep: spec, effects, figures, sensitivity, errors."""
    with _user_errors():
        if not (sweep_dir / "manifest.json").is_file():
            raise UsageProblem(f"'{sweep_dir}' is not a sweep directory (no manifest.json)")
        if interval not in ("t", "bootstrap"):
            raise UsageProblem(f"--interval must be t or bootstrap, not {interval!r}")
        from bettercare.experiments.manifest import os_error_text, unwritable_dir

        target = out if out is not None else sweep_dir / "report.html"
        if target.is_dir():
            raise UsageProblem(f"--out '{target}' is a directory: give the HTML file to write")
        problem = unwritable_dir(target.parent)  # refuse before the report is built, not after
        if problem is not None:
            raise UsageProblem(f"--out '{target}' cannot be written: {problem}")
        problem = None if figures is None else unwritable_dir(figures)
        if problem is not None:
            raise UsageProblem(f"--figures '{figures}' cannot be created or written: {problem}")
        from bettercare.analysis.report import write_report

        try:
            path = write_report(sweep_dir, out, area=area, run_id=run_id, interval=interval, figures_dir=figures)
        except ValueError as exc:  # e.g. an unknown --area or --run
            raise UsageProblem(str(exc)) from None
        except OSError as exc:
            raise UsageProblem(f"the report cannot be written: {os_error_text(exc)}") from None
    typer.echo(f"wrote {path}")


from bettercare.experiments.cli import SchedulerOption, sweep_command  # noqa: E402  (light: no heavy imports)

app.command("sweep")(sweep_command)

from bettercare.workshop.cli import workshop  # noqa: E402  (light: typer only)

app.command()(workshop)

if __name__ == "__main__":
    app(prog_name="bettercare")
