"""`bettercare sweep`: run an experiment spec (a TOML file or a catalog name) into a directory.

Registered on the main app in bettercare/cli.py (`app.command("sweep")(sweep_command)`).
Exit codes: 0 every run succeeded, 1 some runs failed (see DIR/errors), 2 bad input (one line on
stderr, no traceback, no run started), 130 interrupted (resume with `--out DIR --resume`).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Annotated

import typer

EXIT_BAD_INPUT = 2


# The --scheduler option of every command that runs many runs (sweep, validate, calibrate).
SchedulerOption = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Run on a Dask cluster: tcp://host:8786, a scheduler JSON file, or 'local' for a LocalCluster "
        "(the sweep extra).",
    ),
]


def _error(message: str) -> int:
    sys.stderr.write(f"error: {' '.join(str(message).split())}\n")
    sys.stderr.flush()
    return EXIT_BAD_INPUT


def _note(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def list_catalog() -> None:
    from rich.console import Console
    from rich.table import Table

    from . import catalog

    console = Console()
    if not console.is_terminal:
        console = Console(width=160)
    table = Table(
        show_header=True,
        header_style="bold",
        caption="bettercare sweep NAME [--quick] --out DIR   (specs: bettercare/experiments/catalog/)",
    )
    table.add_column("experiment", no_wrap=True)
    table.add_column("design", no_wrap=True)
    table.add_column("runs --quick", justify="right", no_wrap=True)
    table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("description", ratio=1)
    for row in catalog.entries():
        table.add_row(row["name"], row["design"], f"{row['runs_quick']:,}", f"{row['runs']:,}", row["description"])
    console.print(table)


def _spec_from_manifest(out: Path, quick: bool):
    """The experiment recorded in a sweep directory, for `--resume --out DIR` without a spec."""
    from .spec import SpecError, parse_spec
    from .store import read_manifest

    if not (out / "manifest.json").is_file():
        raise SpecError(f"--resume: '{out}' holds no sweep to resume")
    record = read_manifest(out)
    source = str(record.get("spec_source", ""))
    if source.startswith("catalog:"):
        from .spec import load_spec

        return load_spec(source.removeprefix("catalog:"), quick=bool(record.get("quick")))
    base_dir = Path(source).resolve().parent if source else None
    return parse_spec(
        record["spec_text"], base_dir=base_dir, source=source or str(out), quick=bool(record.get("quick"))
    )


SCHEDULER_ADDRESS = re.compile(r"^(?:[a-z]+://)?(?:\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):\d{1,5}$")


def _check_scheduler(scheduler: str) -> None:
    """Refuse a --scheduler that is neither 'local', a scheduler file, nor an address with a port,
    before anything starts (Dask would raise a ValueError deep inside the sweep)."""
    from .spec import SpecError

    if scheduler == "local" or SCHEDULER_ADDRESS.match(scheduler):
        return
    if scheduler.endswith(".json"):
        if Path(scheduler).is_file():
            return
        raise SpecError(f"--scheduler '{scheduler}': no such scheduler file")
    raise SpecError(
        f"--scheduler {scheduler!r} is not a Dask scheduler: give tcp://host:port, a scheduler JSON file, or 'local'"
    )


def sweep(
    spec: str | None = None,
    out: Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = False,
    list_: bool = False,
    quick: bool = False,
    progress: bool | None = None,
    retry_failed: bool = False,
) -> int:
    """Run a sweep; returns the exit code (0 ok, 1 some runs failed, 2 bad input, 130 interrupted)."""
    from .spec import SpecError, load_spec

    if list_:
        list_catalog()
        return 0
    try:
        if workers is not None and workers < 0:
            raise SpecError(f"--workers must be 0 or more, not {workers}")
        if scheduler:
            _check_scheduler(scheduler)
        if retry_failed and out is None:
            raise SpecError("--retry-failed needs --out DIR: the sweep whose failed runs to run again")
        resume = resume or retry_failed
        if spec is None:
            if not (resume and out is not None):
                raise SpecError(
                    "give an experiment spec (a TOML file or a catalog name; see `bettercare sweep "
                    "--list`), or --resume --out DIR"
                )
            exp = _spec_from_manifest(Path(out), quick)
        else:
            exp = load_spec(spec, quick=quick)
        if out is None:
            from .spec import safe_name

            out = Path("sweeps") / (safe_name(exp.name) + ("-quick" if exp.quick else ""))
            _note(f"writing to {out}")
        if scheduler and workers not in (None, 0) and scheduler != "local":
            _note("note: --workers is ignored with a --scheduler address: the cluster decides")
        from .runner import run_sweep

        show = sys.stderr.isatty() if progress is None else progress
        result = run_sweep(
            exp,
            out,
            workers=workers,
            scheduler=scheduler,
            resume=resume,
            retry_failed=retry_failed,
            progress=show,
            log=_note,
        )
    except SpecError as exc:
        return _error(str(exc))
    except OSError as exc:
        if type(exc).__module__.startswith(("distributed", "dask")) or "connect" in str(exc).lower():
            return _error(f"cannot reach the Dask scheduler '{scheduler}': {exc}")
        raise

    rate = result.ran / result.seconds if result.seconds > 0 else 0.0
    state = "interrupted" if result.interrupted else "done"
    _note(
        f"{exp.name}: {state}; {result.done:,} of {result.total:,} runs committed, {result.failed:,} failed; "
        f"this session {result.ran:,} runs in {result.seconds:.1f} s ({rate:.2f} runs/s) -> {result.out}"
    )
    where = shlex.quote(str(result.out))
    if result.failed:
        _note(
            f"failed runs are in {result.out / 'errors'} (bettercare.experiments.read_table(dir, 'errors')); "
            f"run them again with: bettercare sweep --out {where} --retry-failed"
        )
    if result.interrupted:
        # The directory records its spec, its text and whether it was --quick: nothing else is needed.
        _note(f"resume with: bettercare sweep --out {where} --resume")
    return result.exit_code


def sweep_command(
    spec: Annotated[
        str | None,
        typer.Argument(metavar="SPEC", help="An experiment: a TOML spec file, or a catalog name (see --list)."),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Directory for the Parquet tables and manifest.json "
            "(default sweeps/NAME). Re-running into it resumes.",
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", "-w", metavar="N", help="Local worker processes (default: one per core; 0: in this process)."
        ),
    ] = None,
    scheduler: SchedulerOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue the sweep in --out (refused if the spec changed).")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Resume, and run again the runs recorded as failed.")
    ] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the catalog of named experiments and exit.")] = False,
    quick: Annotated[bool, typer.Option("--quick", help="The experiment's laptop size (fewer runs).")] = False,
) -> None:
    """Run a parameter sweep: a declarative experiment, streamed to Parquet, resumable."""
    code = sweep(spec, out, workers, scheduler, resume, list_, quick, retry_failed=retry_failed)
    if code:
        raise typer.Exit(code=code)
