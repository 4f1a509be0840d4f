"""Experiment specs: a TOML file (or a catalog entry) validated into an `Experiment`.

A spec names a base scenario, a design over dotted parameters, replicates, a master seed and the
output tables. Everything that can be checked before a run starts is checked here, and every
mistake raises `SpecError` with one line for the user (the command line prints it and exits 2).

    [experiment]
    name = "trust-compromise-deadline"
    scenario = "england-2014"       # a preset, or a scenario TOML path (relative to this file)
    replicates = 10
    seed = 2026
    design = "factorial"            # factorial | lhs | sobol | morris | file
    samples = 256                   # lhs: points; sobol: base samples N; morris: trajectories
    posterior = true                # optional (factorial, lhs, file): cross every point with
    posterior_draws = 20            #   draws from england-2014's posterior; [parameters] and
                                    #   [fixed] win over a draw's value

    [parameters]                    # what the design varies
    "trust.initial" = [0.2, 0.5, 0.8]                    # levels (factorial)
    "negotiation.compromise" = { min = 0.2, max = 2.0 }  # bounds (lhs, sobol, morris)

    [fixed]                         # optional: the same value in every run
    "delivery.months" = 12

    [outputs]
    tables = ["national", "areas"]
    outcomes = ["plans_agreed", "weeks_to_agreement_mean"]

    [quick]                         # optional: what `--quick` changes, for a laptop
    replicates = 2
    samples = 16
    [quick.parameters]
    "trust.initial" = [0.2, 0.8]

docs/experiments.md is the full reference.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bettercare.model import posterior
from bettercare.model.outputs import NATIONAL_FIELDS, TABLES
from bettercare.model.scenario import (
    PRESETS,
    Parameters,
    ScenarioError,
    build_parameters,
    field_info,
    load_scenario,
)

from . import catalog
from .manifest import jsonable

DESIGNS = ("factorial", "lhs", "sobol", "morris", "file", "ablation")
SAMPLED = ("lhs", "sobol", "morris")
POSTERIOR_DESIGNS = ("factorial", "lhs", "file")  # designs whose points can be crossed with posterior draws
SEED_SCHEME = "SeedSequence(seed, spawn_key=(run_id,)).generate_state(1)[0]"
ONE_RUN_SEED_SCHEME = "seed (a sweep of one run runs on the master seed itself)"
# paired = true: common random numbers, every design point runs the same seeds.
PAIRED_SEED_SCHEME = "SeedSequence(seed, spawn_key=(replicate,)).generate_state(1)[0]"


PARAMETER_GROUPS = tuple(Parameters.model_fields)


class SpecError(ValueError):
    """A bad experiment spec. The message is one line meant for the user."""


# --- the file format ---------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ExperimentSection(_Section):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=100)
    description: str = ""
    scenario: str = "england-2014"
    replicates: int = Field(1, ge=1, le=1_000_000)
    seed: int = Field(0, ge=0, lt=2**63)
    design: Literal["factorial", "lhs", "sobol", "morris", "file", "ablation"] = "factorial"
    samples: int | None = Field(None, ge=1, le=10_000_000)
    design_file: str | None = None
    ablate: str | None = None
    paired: bool = False
    second_order: bool = False
    morris_levels: int = Field(4, ge=2, le=100)
    posterior: bool = False
    posterior_draws: int = Field(20, ge=1, le=100_000)


class OutputsSection(_Section):
    tables: list[Literal[TABLES]] = ["national"]
    outcomes: list[str] = []
    chunk_runs: int | None = Field(None, ge=1, le=1_000_000)
    chunk_rows: int = Field(500_000, ge=1, le=100_000_000)
    chunk_seconds: float = Field(30.0, gt=0, le=86_400)


class QuickSection(_Section):
    replicates: int | None = Field(None, ge=1, le=1_000_000)
    samples: int | None = Field(None, ge=1, le=10_000_000)
    parameters: dict[str, Any] | None = None
    fixed: dict[str, Any] | None = None


class SpecFile(_Section):
    experiment: ExperimentSection
    parameters: dict[str, Any] = {}
    fixed: dict[str, Any] = {}
    outputs: OutputsSection = Field(default_factory=OutputsSection)
    quick: QuickSection | None = None


# --- parameter types ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ParamInfo:
    name: str
    kind: str  # "float" | "int" | "bool" | "choice" | "list" | "other"
    lo: float | None = None
    hi: float | None = None
    choices: tuple[Any, ...] = ()


def param_info(name: str) -> ParamInfo | None:
    """What a dotted parameter is: its kind, and its bounds or choices. None if unknown."""

    f = field_info(name)
    if f is None:
        return None
    ann = f.annotation
    if typing.get_origin(ann) is Literal:
        return ParamInfo(name, "choice", choices=typing.get_args(ann))
    if ann is bool:
        return ParamInfo(name, "bool")
    if typing.get_origin(ann) is list or ann is list:
        return ParamInfo(name, "list")
    lo = hi = None
    for m in f.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if ann is int:
        return ParamInfo(name, "int", lo, hi)
    if ann is float:
        return ParamInfo(name, "float", lo, hi)
    return ParamInfo(name, "other")


def _require_param(name: str, where: str) -> ParamInfo:
    info = param_info(name)
    if info is None:
        raise SpecError(f"{where}: unknown parameter '{name}' (see `bettercare params`)")
    return info


# --- the validated experiment ------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One parameter the design varies: levels (factorial) or bounds (sampled designs)."""

    name: str
    info: ParamInfo
    levels: tuple[Any, ...] | None = None
    lo: float | None = None
    hi: float | None = None


@dataclass
class Experiment:
    """A validated spec, with the base scenario resolved. Build the design with `designs.build`."""

    name: str
    description: str
    scenario: str  # as written: preset name or path
    scenario_ref: str  # preset name or absolute path
    base: Any  # bettercare.model.scenario.Scenario: the scenario with [fixed] applied
    replicates: int
    seed: int
    design: str
    samples: int | None
    design_file: Path | None
    second_order: bool
    morris_levels: int
    factors: list[Factor]
    fixed: dict[str, Any]
    tables: list[str]
    outcomes: list[str]
    chunk_runs: int | None
    chunk_rows: int
    chunk_seconds: float
    quick: bool
    source: str  # the spec file path, or "catalog:NAME"
    text: str  # the spec file's text, as read
    data: dict[str, Any] = field(default_factory=dict)  # the parsed TOML (quick not yet applied)
    ablate: str | None = None  # design = "ablation": the parameter group whose switches go off in turn
    paired: bool = False  # every design point runs the same seeds (common random numbers)
    posterior_draws: int = 0  # > 0: every design point is crossed with this many posterior draws

    def seed_scheme(self, runs: int) -> str:
        """How the experiment's `runs` runs are seeded (`designs.seed_of`). Part of the spec hash:
        sweeps of more than one run keep the scheme, and hash, they always had, so their stores
        still resume; a sweep of one run runs on the master seed, as `bettercare run` does."""
        if self.paired:
            return PAIRED_SEED_SCHEME
        return ONE_RUN_SEED_SCHEME if runs == 1 else SEED_SCHEME

    def resolved(self) -> dict[str, Any]:
        """The spec as it will run (after --quick), for the manifest and the hash."""
        return {
            "name": self.name,
            "description": self.description,
            "scenario": self.scenario_ref,
            "replicates": self.replicates,
            "seed": self.seed,
            "design": self.design,
            "samples": self.samples,
            "design_file": str(self.design_file) if self.design_file else None,
            "second_order": self.second_order,
            "morris_levels": self.morris_levels,
            "ablate": self.ablate,
            "paired": self.paired,
            "posterior_draws": self.posterior_draws,
            "parameters": {
                f.name: (list(f.levels) if f.levels is not None else {"min": f.lo, "max": f.hi}) for f in self.factors
            },
            "fixed": self.fixed,
            "tables": self.tables,
            "outcomes": self.outcomes,
            "quick": self.quick,
        }


def _one_line(err: ValidationError, where: str) -> str:
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"])
    if e["type"] == "missing":
        return f"{where}: [{loc.rpartition('.')[0] or loc}] needs '{loc.rpartition('.')[2]}'"
    if e["type"] == "extra_forbidden":
        return f"{where}: unknown key '{loc}'"
    msg = e["msg"].replace("\n", " ")
    return f"{where}: {loc} = {e.get('input')!r} is invalid: {msg}"


def _finite(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _factor(name: str, value: Any, design: str, where: str) -> Factor:
    info = _require_param(name, where)
    sampled = design in SAMPLED
    if isinstance(value, list):
        if sampled:
            raise SpecError(
                f'{where}: "{name}" gives levels, but design = "{design}" samples: '
                f"give bounds {{ min = ..., max = ... }} instead"
            )
        if design == "file":
            raise SpecError(
                f'{where}: with design = "file" the points come from design_file; '
                f'move "{name}" to [fixed] or into the file'
            )
        if not value:
            raise SpecError(f'{where}: "{name}" has no levels')
        return Factor(name, info, levels=tuple(value))
    if isinstance(value, dict):
        extra = set(value) - {"min", "max"}
        if extra or not {"min", "max"} <= set(value):
            raise SpecError(f'{where}: "{name}" bounds must be {{ min = ..., max = ... }}, not {value!r}')
        if not sampled:
            raise SpecError(
                f'{where}: "{name}" gives bounds, but design = "{design}" needs levels: '
                f'give a list of values, or use design = "lhs", "sobol" or "morris"'
            )
        if info.kind not in ("float", "int"):
            raise SpecError(
                f'{where}: "{name}" is a {info.kind} parameter: it can only be varied in a factorial or file design'
            )
        lo, hi = value["min"], value["max"]
        if not (_finite(lo) and _finite(hi)):
            raise SpecError(f'{where}: "{name}" bounds must be finite numbers, not {lo!r} and {hi!r}')
        if not lo < hi:
            raise SpecError(f'{where}: "{name}" bounds are empty: min = {lo!r} must be below max = {hi!r}')
        if (info.lo is not None and lo < info.lo) or (info.hi is not None and hi > info.hi):
            raise SpecError(f'{where}: "{name}" bounds [{lo}, {hi}] leave the allowed range [{info.lo}, {info.hi}]')
        if info.kind == "int" and not (float(lo).is_integer() and float(hi).is_integer()):
            raise SpecError(f'{where}: "{name}" is an integer parameter: its bounds must be whole numbers')
        return Factor(name, info, lo=float(lo), hi=float(hi))
    raise SpecError(
        f'{where}: "{name}" must be a list of levels or {{ min = ..., max = ... }} bounds, not '
        f"{value!r} (a constant belongs in [fixed])"
    )


def _read(source: str | Path) -> tuple[str, Path | None, str]:
    """(text, directory for relative paths, source label) of a spec path or catalog name."""

    path = Path(source)
    if path.is_file():
        try:
            return path.read_text(encoding="utf-8"), path.resolve().parent, str(path)
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"{path}: cannot be read ({exc})") from None
    if str(source) in catalog.names():
        return catalog.text(str(source)), None, f"catalog:{source}"
    if path.suffix == ".toml" or path.parent != Path("."):
        raise SpecError(f"spec file '{source}' not found")
    raise SpecError(f"no spec file or catalog experiment named '{source}' (see `bettercare sweep --list`)")


def load_spec(source: str | Path, quick: bool = False) -> Experiment:
    """Read and validate a spec file or a catalog experiment (by name)."""
    text, base_dir, label = _read(source)
    return parse_spec(text, base_dir=base_dir, source=label, quick=quick)


def parse_spec(text: str, base_dir: Path | None = None, source: str = "<spec>", quick: bool = False) -> Experiment:
    """Validate spec text. Relative paths in it are taken from `base_dir` (default: the cwd)."""

    where = source
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{where}: not valid TOML ({exc})") from None
    if "experiment" not in data:
        raise SpecError(f"{where}: needs an [experiment] table with at least a name")
    try:
        spec = SpecFile.model_validate(data)
    except ValidationError as err:
        raise SpecError(_one_line(err, where)) from None
    ex, outs = spec.experiment, spec.outputs

    replicates, samples = ex.replicates, ex.samples
    parameters, fixed = dict(spec.parameters), dict(spec.fixed)
    if quick and spec.quick is not None:
        q = spec.quick
        replicates = q.replicates or replicates
        samples = q.samples or samples
        if q.parameters is not None:
            parameters = dict(q.parameters)
        if q.fixed is not None:
            fixed = {**fixed, **q.fixed}

    design = ex.design
    if design in SAMPLED:
        if samples is None:
            raise SpecError(f'{where}: design = "{design}" needs samples = N in [experiment]')
        if not parameters:
            raise SpecError(f'{where}: design = "{design}" needs at least one parameter with bounds in [parameters]')
        if design == "sobol" and samples & (samples - 1):
            raise SpecError(
                f'{where}: design = "sobol" needs samples to be a power of 2 (e.g. 64, 256, 1024), not {samples}'
            )
    if design == "ablation":
        if parameters:
            raise SpecError(
                f'{where}: design = "ablation" varies the switches of its group itself: [parameters] must be empty'
            )
        ablate = ex.ablate or "mechanisms"
        if ablate not in PARAMETER_GROUPS:
            raise SpecError(f"{where}: ablate = '{ablate}' is not a parameter group ({', '.join(PARAMETER_GROUPS)})")
    elif ex.ablate is not None:
        raise SpecError(f'{where}: ablate is only read with design = "ablation", not "{design}"')
    else:
        ablate = None
    if design == "file" and not ex.design_file:
        raise SpecError(f'{where}: design = "file" needs design_file = "points.csv" in [experiment]')
    if design != "file" and ex.design_file:
        raise SpecError(f'{where}: design_file is only read with design = "file", not "{design}"')

    factors = [_factor(name, value, design, f"{where} [parameters]") for name, value in parameters.items()]
    if ex.posterior and design not in POSTERIOR_DESIGNS:
        raise SpecError(
            f"{where}: posterior = true works with design = {' or '.join(map(repr, POSTERIOR_DESIGNS))}, not "
            f'"{design}" (crossing with posterior draws would break its sample order)'
        )
    if ex.posterior:
        try:
            posterior.particles()
        except ScenarioError as exc:
            raise SpecError(f"{where}: posterior = true: {exc}") from None
    for name in fixed:
        _require_param(name, f"{where} [fixed]")
        if name in parameters:
            raise SpecError(f'{where}: "{name}" is both in [parameters] and in [fixed]')

    def rel(p: str) -> Path:
        q = Path(p).expanduser()
        return q if q.is_absolute() or base_dir is None else base_dir / q

    scenario_ref = ex.scenario
    if ex.scenario not in PRESETS:
        sp = rel(ex.scenario)
        if not sp.is_file():
            raise SpecError(
                f"{where}: scenario '{ex.scenario}' is neither a preset ({', '.join(PRESETS)}) nor a scenario file"
            )
        scenario_ref = str(sp.resolve())
    try:
        base = load_scenario(scenario_ref)
        base_params = build_parameters(base.params, fixed)
    except ScenarioError as exc:
        raise SpecError(f"{where}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{where}: scenario '{ex.scenario}' cannot be read ({exc})") from None
    base = type(base)(name=base.name, description=base.description, params=base_params)
    fixed = {k: base_params.flat()[k] for k in fixed}

    design_file = None
    if ex.design_file:
        design_file = rel(ex.design_file).resolve()
        if not design_file.is_file():
            raise SpecError(f"{where}: design_file '{ex.design_file}' not found")

    unknown = [o for o in outs.outcomes if o not in NATIONAL_FIELDS]
    if unknown:
        raise SpecError(f"{where}: [outputs] outcomes {unknown} are not national fields (see docs/outputs.md)")
    tables = list(dict.fromkeys(outs.tables))
    if not tables:
        raise SpecError(f"{where}: [outputs] tables is empty: name at least one of {', '.join(TABLES)}")

    return Experiment(
        name=ex.name,
        description=ex.description,
        scenario=ex.scenario,
        scenario_ref=scenario_ref,
        base=base,
        replicates=replicates,
        seed=ex.seed,
        design=design,
        samples=samples,
        design_file=design_file,
        second_order=ex.second_order,
        morris_levels=ex.morris_levels,
        factors=factors,
        fixed=fixed,
        tables=tables,
        outcomes=list(outs.outcomes),
        chunk_runs=outs.chunk_runs,
        chunk_rows=outs.chunk_rows,
        chunk_seconds=outs.chunk_seconds,
        quick=quick,
        source=source,
        text=text,
        data=data,
        ablate=ablate,
        paired=ex.paired,
        posterior_draws=ex.posterior_draws if ex.posterior else 0,
    )


def canonical_json(obj: Any) -> str:

    return json.dumps(jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def spec_hash(exp: Experiment, design_digest: str, runs: int) -> str:
    """A hash of everything that decides the results: base parameters, design points, seeds, tables.

    The name, description, outcomes and chunking are left out: changing them does not change a
    single row, so a sweep may be resumed across such edits.
    """
    payload = {
        "base_params": exp.base.params.flat(),
        "design": exp.design,
        "factors": [f.name for f in exp.factors],
        "design_digest": design_digest,
        "replicates": exp.replicates,
        "seed": exp.seed,
        "seed_scheme": exp.seed_scheme(runs),
        "tables": sorted(exp.tables),
    }
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name)


RUN_SOURCE = "bettercare run"  # the spec source of a `bettercare run --out` directory


def run_experiment(
    scenario: str,
    overrides: dict[str, Any],
    replicates: int,
    seed: int,
    name: str,
    description: str = "",
    tables: tuple[str, ...] = TABLES,
    posterior_draws: int = 0,
) -> Experiment:
    """`bettercare run` as an experiment: one design point (the scenario with `overrides`) run
    `replicates` times, or, with `posterior_draws` N, N posterior draws of it run `replicates`
    times each. `scenario` is a preset name or a scenario file path. It is a one-point sweep,
    written by the sweep's store and resumable with `bettercare sweep --out DIR --resume` (the
    manifest keeps this spec's text)."""
    name = (re.sub(r"^[^A-Za-z0-9]+", "", safe_name(name)) or "run")[:100]
    spec = {
        "experiment": {
            "name": name,
            "description": description,
            "scenario": scenario,
            "replicates": int(replicates),
            "seed": int(seed),
            "design": "factorial",
            **({"posterior": True, "posterior_draws": int(posterior_draws)} if posterior_draws else {}),
        },
        "fixed": dict(overrides),
        "outputs": {"tables": list(tables)},
    }
    text = tomli_w.dumps(spec)
    return parse_spec(text, source=RUN_SOURCE)
