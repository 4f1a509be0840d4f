"""Designs: the list of parameter points an experiment runs, each validated before any run.

- factorial: every combination of the levels, the last parameter varying fastest;
- lhs: SALib's Latin hypercube, `samples` points;
- sobol: SALib's Saltelli/Sobol' sample, `samples` * (D + 2) points (`samples` * (2D + 2) with
  `second_order = true`), in SALib's order, so that `SALib.analyze.sobol` can use the outputs;
- morris: SALib's Morris trajectories, `samples` * (D + 1) points;
- file: the rows of a CSV or Parquet file, one column per parameter (any sampler's output);
- ablation: the base scenario, then each on/off switch of one parameter group (`ablate`, by default
  `mechanisms`) turned off in turn. The switches are the group's boolean fields, read from the
  pydantic model, so a switch added to the group is in the experiment without any edit.

With `posterior = true` (factorial, lhs, file), every point is crossed with `posterior_draws` sets
drawn from england-2014's posterior (`model.posterior.draw`, from the experiment's seed): point i,
draw j is design point i * draws + j, and carries the draw's values as parameter columns, except
where [parameters] or [fixed] set that parameter.

Integer parameters in sampled designs are drawn on [min - 0.5, max + 0.5] and rounded half up
(then clipped), so every whole value in [min, max] is equally likely. The raw sample matrix is
kept for the analysis (design.parquet, and the SALib problem dict in the manifest); the rows of
the result tables carry the values actually used.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from bettercare.model import posterior
from bettercare.model.scenario import Parameters, ScenarioError, build_parameters

from .spec import SAMPLED, Experiment, SpecError, canonical_json, param_info

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Design:
    kind: str
    names: list[str]  # the varied parameters, in column order
    points: list[dict[str, Any]]  # one override dict per point, values as the model validated them
    matrix: pd.DataFrame  # point_id + one column per parameter: the raw design (SALib sample as drawn)
    problem: dict[str, Any] | None = None  # SALib problem dict for sampled designs
    info: dict[str, Any] = field(default_factory=dict)
    digest: str = ""

    @property
    def n_points(self) -> int:
        return len(self.points)


def column_value(v: Any) -> Any:
    """A parameter value as stored in a table column: lists and dicts as JSON text."""
    return json.dumps(v) if isinstance(v, (list, dict, tuple)) else v


def _validated(exp: Experiment, point: dict[str, Any], where: str) -> dict[str, Any]:

    try:
        flat = build_parameters(exp.base.params, point).flat()
    except ScenarioError as exc:
        raise SpecError(f"{where}: {exc}") from None
    return {k: flat[k] for k in point}


def _factorial(exp: Experiment) -> tuple[list[dict[str, Any]], list[list[Any]], dict[str, Any]]:
    where = f"{exp.source} [parameters]"
    levels = []
    for f in exp.factors:
        lv = [_validated(exp, {f.name: v}, where)[f.name] for v in f.levels]
        seen = [canonical_json(v) for v in lv]
        if len(set(seen)) < len(seen):
            raise SpecError(f'{where}: "{f.name}" repeats a level: {list(f.levels)!r}')
        levels.append(lv)
    names = [f.name for f in exp.factors]
    points = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*levels)]
    rows = [[column_value(v) for v in p.values()] for p in points]
    return points, rows, {"levels": {n: lv for n, lv in zip(names, levels, strict=True)}}


def salib_problem(exp: Experiment) -> dict[str, Any]:
    bounds = []
    for f in exp.factors:
        if f.info.kind == "int":
            bounds.append([f.lo - 0.5, f.hi + 0.5])
        else:
            bounds.append([f.lo, f.hi])
    return {"num_vars": len(exp.factors), "names": [f.name for f in exp.factors], "bounds": bounds}


def _sampled(exp: Experiment):

    problem = salib_problem(exp)
    n = exp.samples
    given = json.loads(json.dumps(problem))  # SALib adds keys to the dict it is given; keep ours clean
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exp.design == "lhs":
            from SALib.sample import latin  # noqa: PLC0415 - optional extra

            x = latin.sample(given, n, seed=exp.seed)
        elif exp.design == "sobol":
            from SALib.sample import sobol  # noqa: PLC0415 - optional extra

            x = sobol.sample(given, n, calc_second_order=exp.second_order, seed=exp.seed)
        else:
            from SALib.sample import morris  # noqa: PLC0415 - optional extra

            x = morris.sample(given, n, num_levels=exp.morris_levels, seed=exp.seed)
    x = np.asarray(x, dtype=float)
    points = []
    for row in x:
        p = {}
        for f, v in zip(exp.factors, row, strict=True):
            if f.info.kind == "int":
                p[f.name] = int(min(max(math.floor(v + 0.5), f.lo), f.hi))
            else:
                p[f.name] = float(min(max(v, f.lo), f.hi))
        points.append(p)
    info = {"samples": n}
    if exp.design == "sobol":
        info["second_order"] = exp.second_order
    if exp.design == "morris":
        info["num_levels"] = exp.morris_levels
    return points, x.tolist(), info, problem


def _from_file(exp: Experiment):

    path = exp.design_file
    where = f"design_file '{path.name}'"
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pd.read_parquet(path)
        else:
            df = pd.read_csv(path, skipinitialspace=True)
    except Exception as exc:  # noqa: BLE001 - any reader failure is a bad input file
        raise SpecError(f"{where}: cannot be read ({type(exc).__name__}: {' '.join(str(exc).split())})") from None
    df = df.drop(columns=[c for c in ("point_id",) if c in df.columns])
    if df.empty or not len(df.columns):
        raise SpecError(f"{where}: has no design points")
    infos = {}
    for c in df.columns:
        info = param_info(str(c))
        if info is None:
            raise SpecError(f"{where}: column '{c}' is not a parameter (see `bettercare params`)")
        infos[str(c)] = info
    clash = set(infos) & set(exp.fixed)
    if clash:
        raise SpecError(f"{where}: {sorted(clash)} are both design columns and in [fixed]")
    names = [str(c) for c in df.columns]
    raw_points = []
    for i, row in enumerate(df.itertuples(index=False, name=None)):
        p = {}
        for name, v in zip(names, row, strict=True):
            v = v.item() if hasattr(v, "item") and getattr(v, "shape", None) == () else v
            if v is None or (isinstance(v, float) and math.isnan(v)):
                raise SpecError(f"{where}: row {i + 1} has no value for '{name}'")
            if infos[name].kind == "list" and isinstance(v, str):
                try:
                    v = json.loads(v)
                except json.JSONDecodeError:
                    raise SpecError(
                        f"{where}: row {i + 1}: '{name}' needs a JSON list, e.g. [\"Wigan\"], not {v!r}"
                    ) from None
            p[name] = v
        raw_points.append(p)
    return names, raw_points


BASELINE = "baseline"


def switches(group: str) -> list[str]:
    """Dotted names of the on/off switches (boolean fields) of a parameter group, in declaration order."""
    model = Parameters.model_fields[group].annotation
    return [f"{group}.{name}" for name, f in model.model_fields.items() if f.annotation is bool]


def _ablation(exp: Experiment) -> tuple[list[str], list[dict[str, Any]], dict[str, Any]]:
    """The baseline, then each switch of the group that is on in the base scenario turned off.

    Every point sets every switch, so every row carries one column per switch. A switch already
    off in the base scenario (say by [fixed]) has nothing to ablate and is listed as skipped."""
    names = switches(exp.ablate)
    flat = exp.base.params.flat()
    base = {n: flat[n] for n in names}
    on = [n for n in names if base[n]]
    points = [dict(base)] + [{**base, n: False} for n in on]
    info = {"ablate": exp.ablate, "variants": [BASELINE, *on], "skipped": [n for n in names if not base[n]]}
    return names, points, info


def variant_of(point: dict[str, Any], baseline: dict[str, Any]) -> str:
    """An ablation point's label: `baseline`, or the switch it turns off."""
    off = [k for k, v in point.items() if v != baseline.get(k)]
    return off[0] if off else BASELINE


def build(exp: Experiment) -> Design:
    """The design of a validated experiment; raises SpecError on an invalid point."""

    problem = None
    names = [f.name for f in exp.factors]
    if exp.design == "factorial":
        points, rows, info = _factorial(exp)
    elif exp.design == "ablation":
        names, points, info = _ablation(exp)
        rows = [list(p.values()) for p in points]
    elif exp.design in SAMPLED:
        points, rows, info, problem = _sampled(exp)
    else:
        names, raw = _from_file(exp)
        points = []
        rows = []
        for i, p in enumerate(raw):
            points.append(_validated(exp, p, f"design_file '{exp.design_file.name}' row {i + 1}"))
            rows.append([column_value(v) for v in p.values()])
        info = {"file": str(exp.design_file)}
    if exp.posterior_draws:
        names, points, rows, info["posterior"] = _cross_posterior(exp, names, points, rows)
    if (
        exp.design in SAMPLED or exp.design == "ablation" or len(exp.factors) > 1 or exp.posterior_draws
    ):  # whole points too (catches cross-field rules)
        points = [_validated(exp, p, f"{exp.source} design point {i}") for i, p in enumerate(points)]
    matrix = pd.DataFrame(rows, columns=names) if names else pd.DataFrame(index=range(len(points)))
    matrix.insert(0, "point_id", pd.Series(range(len(points)), dtype="int64"))
    digest = hashlib.sha256(canonical_json({"names": names, "points": points}).encode()).hexdigest()
    info = {"kind": exp.design, "parameters": names, "points": len(points), **info}
    return Design(kind=exp.design, names=names, points=points, matrix=matrix, problem=problem, info=info, digest=digest)


def _cross_posterior(exp: Experiment, names: list[str], points: list[dict[str, Any]], rows: list[list[Any]]):
    """Every point crossed with the experiment's posterior draws (draw varying fastest)."""
    try:
        draws = posterior.draw(exp.posterior_draws, exp.seed)
        extra = [n for n in posterior.parameter_names() if n not in names and n not in exp.fixed]
        sha = posterior.digest()
    except ScenarioError as exc:
        raise SpecError(f"{exp.source}: posterior = true: {exc}") from None
    crossed_points = [{**{k: d[k] for k in extra}, **p} for p in points for d in draws]
    crossed_rows = [[*row, *(d[k] for k in extra)] for row in rows for d in draws]
    info = {"draws": len(draws), "parameters": extra, "sha256": sha}
    return [*names, *extra], crossed_points, crossed_rows, info


def run_seed(master: int, run_id: int, runs: int) -> int:
    """The seed of run `run_id` of `runs` runs with master seed `master`: the one rule for sweeps,
    `bettercare run` and validation.

    A set of one run uses the master seed itself, so `bettercare run --seed S`, a one-point,
    one-replicate sweep with seed S and `bettercare.run(scenario, seed=S)` give the same rows.
    Otherwise run i takes one 32-bit word of `SeedSequence(master, spawn_key=(i,))`, which is
    exactly `SeedSequence(master).spawn(n)[i]`: the seed depends on the run's index alone, not on
    the order runs complete, the backend or the chunking, and replicate streams are independent.
    """
    if runs == 1:
        return int(master)
    return child_seed(master, run_id)


def child_seed(master: int, i: int) -> int:
    """One 32-bit word of `SeedSequence(master, spawn_key=(i,))`, the i-th child of `SeedSequence(master)`."""
    return int(np.random.SeedSequence(master, spawn_key=(i,)).generate_state(1)[0])


def replicate_seeds(master: int, r: int) -> list[int]:
    """The seeds of `r` replicates of one scenario with master seed `master` (`run_seed` of each)."""
    if r < 1:
        raise ValueError(f"replicates must be at least 1, not {r}")
    return [run_seed(master, i, r) for i in range(r)]


def seed_of(exp: Experiment, run_id: int, runs: int) -> int:
    """The seed of run `run_id` of `exp`, a sweep of `runs` runs: `run_seed` of the run, or, for a
    paired experiment (common random numbers), the child of its replicate, so that every design
    point runs the same seeds."""
    if exp.paired:
        return child_seed(exp.seed, run_id % exp.replicates)
    return run_seed(exp.seed, run_id, runs)


def count_points(exp: Experiment) -> int:
    """How many design points `build(exp)` makes, without building it (files are read)."""
    return _count_base_points(exp) * max(1, exp.posterior_draws)


def _count_base_points(exp: Experiment) -> int:
    d = len(exp.factors)
    if exp.design == "ablation":
        flat = exp.base.params.flat()
        return 1 + sum(bool(flat[n]) for n in switches(exp.ablate))
    if exp.design == "factorial":
        return math.prod(len(f.levels) for f in exp.factors)
    if exp.design == "lhs":
        return exp.samples
    if exp.design == "sobol":
        return exp.samples * (2 * d + 2 if exp.second_order else d + 2)
    if exp.design == "morris":
        return exp.samples * (d + 1)
    return len(_from_file(exp)[1])
