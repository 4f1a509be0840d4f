"""One run, watched closely: an area's trust network at the start and the end, and its offers.

    tr = single_run_trust("england-2014", seed=1, area="Wigan")
    tr.trust_start, tr.trust_end          # DataFrames: trust of row organisation in column organisation
    tr.graph("start"), tr.graph("end")    # networkx DiGraphs with a `trust` attribute on each edge
    tr.offers                             # the area's negotiation record (the offers table)

    tr = replay("runs/tcd", run_id=17, area="Kent")   # the same for one run of a sweep

Sweeps usually keep only the national and areas tables; a run is cheap (about half a second for
all 150 areas) and deterministic given its parameters and seed, so the report replays one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd

from bettercare.model.model import BetterCareModel
from bettercare.model.results import collect
from bettercare.model.scenario import build_parameters, resolve_scenario

from .stats import load


@dataclass
class AreaTrace:
    """An area of one run: its organisations, trust among them at the start and end, its offers."""

    area_code: str
    area_name: str
    seed: int
    members: pd.DataFrame  # org_code, org_name, kind, at_table
    trust_start: pd.DataFrame  # square, indexed by org_code both ways
    trust_end: pd.DataFrame
    offers: pd.DataFrame  # rows of the offers table for this area
    areas: pd.DataFrame = field(repr=False)  # the run's areas table
    national: dict[str, float] = field(repr=False, default_factory=dict)
    overrides: dict[str, Any] = field(default_factory=dict)

    def graph(self, when: str = "end"):
        """A networkx DiGraph of the area's organisations; edge attribute `trust` at `when`."""

        m = self.trust_start if when == "start" else self.trust_end
        g = nx.DiGraph()
        for r in self.members.itertuples(index=False):
            g.add_node(r.org_code, name=r.org_name, kind=r.kind, at_table=bool(r.at_table))
        for a in m.index:
            for b in m.columns:
                if a != b and np.isfinite(m.loc[a, b]):
                    g.add_edge(a, b, trust=float(m.loc[a, b]))
        return g


def _pick_area(model, area: str | int | None) -> int:
    af = model.area_frame.reset_index(drop=True)
    if area is None:
        # The area with most organisations (the richest network), first by code on ties.
        sizes = np.array([t.n + len(t.outsiders) for t in model.tables])
        return int(np.flatnonzero(sizes == sizes.max())[0])
    if isinstance(area, (int, np.integer)):
        return int(area)
    for col in ("area_code", "area_name"):
        hit = np.flatnonzero(af[col].astype(str).str.lower().to_numpy() == str(area).lower())
        if len(hit):
            return int(hit[0])
    raise ValueError(f"no area {area!r} in this run (give an ONS code such as E08000010 or a name such as Wigan)")


def _busiest_area(model, max_orgs: int = 6) -> int:
    """The area with the most rounds of talks among those with at most `max_orgs` organisations."""
    sizes = np.array([t.n + len(t.outsiders) for t in model.tables])
    rounds = np.array([t.rounds for t in model.tables])
    ok = sizes <= max_orgs
    if not ok.any():
        ok = sizes == sizes.min()
    score = np.where(ok, rounds * 100 + sizes, -1)
    return int(np.argmax(score))


def single_run_trust(
    scenario: Any = "england-2014",
    seed: int = 1,
    area: str | int | None = None,
    overrides: dict[str, Any] | None = None,
) -> AreaTrace:
    """Run a scenario once and record one area's trust matrix at set-up and at the end.

    `scenario` is a preset name, a TOML path, a `Scenario` or a `Parameters`. `area` is an area
    code, a name, an index, None (the area with the most organisations) or "auto" (the area with
    the most rounds of talks among those with at most six organisations: a readable network).
    """

    params = resolve_scenario(scenario, overrides).params
    model = BetterCareModel(params, rng=seed)
    start_values = model.trust.values.copy()
    a = None if area == "auto" else _pick_area(model, area)
    model.run_model()
    if a is None:
        a = _busiest_area(model)
    t = model.tables[a]
    orgs = list(t.parties) + list(t.outsiders)
    codes = [o.code for o in orgs]
    idx = model.trust.index(codes)
    start = np.where(idx >= 0, start_values[idx], 1.0)
    end = model.trust.matrix(codes).copy()
    national, tables = collect(model)
    code = str(model.area_frame["area_code"].iloc[a])
    members = pd.DataFrame(
        {
            "org_code": codes,
            "org_name": [o.name for o in orgs],
            "kind": [o.kind for o in orgs],
            "at_table": [o in t.parties for o in orgs],
        }
    )
    offers = tables["offers"]
    return AreaTrace(
        area_code=code,
        area_name=str(model.area_frame["area_name"].iloc[a]),
        seed=seed,
        members=members,
        trust_start=pd.DataFrame(start, index=codes, columns=codes),
        trust_end=pd.DataFrame(end, index=codes, columns=codes),
        offers=offers[offers.area_code == code].reset_index(drop=True),
        areas=tables["areas"],
        national=national,
        overrides=dict(overrides or {}),
    )


def run_parameters(manifest: dict[str, Any], row: pd.Series | dict[str, Any]) -> dict[str, Any]:
    """The full flat parameters of one run of a sweep: the manifest's base with the row's design values."""
    params = dict(manifest.get("params", {}))
    for col in manifest.get("param_columns", []):
        v = row[col]
        if isinstance(v, str) and v[:1] in "[{":
            v = json.loads(v)
        elif isinstance(v, np.generic):
            v = v.item()
        params[col] = v
    return params


def replay(path: str | Path, run_id: int | None = None, area: str | int | None = None) -> AreaTrace:
    """Run one run of a sweep again (same parameters and seed) and trace one of its areas.

    `run_id` defaults to the run whose national `plans_agreed` is the median of the sweep.
    """

    data = load(path)
    nat = data.national
    if nat.empty:
        raise ValueError(f"'{path}' has no committed runs to replay")
    if run_id is None:
        col = "plans_agreed" if "plans_agreed" in nat.columns else None
        if col is None:
            run_id = int(nat.run_id.iloc[0])
        else:
            order = nat.sort_values([col, "run_id"], kind="stable")
            run_id = int(order.run_id.iloc[len(order) // 2])
    row = nat[nat.run_id == run_id]
    if row.empty:
        raise ValueError(f"run {run_id} is not among the committed runs of '{path}'")
    row = row.iloc[0]
    flat = run_parameters(data.manifest, row)
    params = build_parameters(None, flat)
    design = {c: row[c] for c in data.param_columns}
    trace = single_run_trust(params, seed=int(row["seed"]), area=area)
    trace.overrides = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in design.items()}
    trace.overrides["run_id"] = int(run_id)
    return trace
