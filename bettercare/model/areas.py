"""The 150 HWB areas, who sits at each table, and synthetic England-like areas for scale tests.

Councils and CCGs are real (ONS lookups, see bettercare/data/README.md). Acute trusts are
synthetic: sized by population, and a small area shares its neighbour's trust, so that one
trust can sit at two tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from .errors import ScenarioError


@dataclass(frozen=True)
class Geography:
    """Areas and the organisations that sit at their tables.

    `members` has one row per (area, organisation) with the organisation's kind and `share`,
    the part of the area's population it serves.
    """

    areas: pd.DataFrame  # area_code, area_name, population, coterminous
    members: pd.DataFrame  # area_code, org_code, org_name, kind, share
    orgs: pd.DataFrame  # org_code, org_name, kind, population


@lru_cache(maxsize=1)
def _england_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    data = files("bettercare") / "data"
    with (data / "areas.csv").open() as fa, (data / "area_ccgs.csv").open() as fc:
        return pd.read_csv(fa), pd.read_csv(fc)


def england_names() -> frozenset[str]:
    return frozenset(_england_tables()[0]["area_name"])


def _assign_trusts(areas: pd.DataFrame, ccg_members: pd.DataFrame, per_trust: int) -> pd.DataFrame:
    """Synthetic acute trusts: big areas get their own, small ones share a neighbour's."""
    pops = areas.set_index("area_code")["population"]
    order = list(areas["area_code"])
    # Neighbours: areas that share a CCG are adjacent on the ground.
    shared = ccg_members.merge(ccg_members, on="org_code")
    shared = shared[shared.area_code_x != shared.area_code_y]
    neighbour = (
        shared.sort_values("share_y", ascending=False)
        .drop_duplicates("area_code_x")
        .set_index("area_code_x")["area_code_y"]
        .to_dict()
    )
    names = areas.set_index("area_code")["area_name"]
    # Areas under 30% of a catchment share a neighbour's trust; the rest have their own.
    small = pops < 0.3 * per_trust
    rows: list[tuple[str, str, str, float]] = []
    main_trust: dict[str, str] = {}
    for code in order:
        if small[code]:
            continue
        k = max(1, int(round(pops[code] / per_trust)))
        for i in range(k):
            tcode = f"AT-{code}-{i + 1}"
            suffix = f" {chr(65 + i)}" if k > 1 else ""
            rows.append((code, tcode, f"{names[code]} Hospitals{suffix}", 1.0 / k))
        main_trust[code] = f"AT-{code}-1"
    big_pos = np.flatnonzero(~small.reindex(order).to_numpy())
    for idx, code in enumerate(order):
        if not small[code]:
            continue
        host = neighbour.get(code)
        if host is None or host not in main_trust:
            # No shared CCG: nearest larger area in ONS code order (codes cluster by region).
            host = order[big_pos[np.argmin(np.abs(big_pos - idx))]]
        rows.append((code, main_trust[host], "", 1.0))
    trusts = pd.DataFrame(rows, columns=["area_code", "org_code", "org_name", "share"])
    first_name = trusts[trusts.org_name != ""].drop_duplicates("org_code").set_index("org_code")["org_name"]
    trusts["org_name"] = trusts["org_code"].map(first_name)
    trusts["kind"] = "acute"
    return trusts


def _finish(areas: pd.DataFrame, ccg_members: pd.DataFrame, per_trust: int) -> Geography:
    trust_members = _assign_trusts(areas, ccg_members, per_trust)
    council_members = pd.DataFrame(
        {
            "area_code": areas.area_code,
            "org_code": "LA-" + areas.area_code,
            "org_name": areas.area_name + " Council",
            "kind": "council",
            "share": 1.0,
        }
    )
    members = pd.concat([council_members, ccg_members, trust_members], ignore_index=True)
    pop = areas.set_index("area_code")["population"]
    members["population"] = members["share"] * members["area_code"].map(pop)
    orgs = members.groupby(["org_code", "org_name", "kind"], as_index=False, sort=False)["population"].sum()
    n_areas = members.groupby("org_code")["area_code"].nunique()
    per_area = members.groupby(["area_code", "kind"]).size().unstack(fill_value=0)
    solo = members.assign(only_here=members.org_code.map(n_areas) == 1).groupby("area_code")["only_here"].all()
    cot = (per_area.get("ccg", 0) == 1) & (per_area.get("acute", 0) == 1) & solo
    areas = areas.assign(coterminous=areas.area_code.map(cot).fillna(False).astype(bool))
    return Geography(areas=areas.reset_index(drop=True), members=members.drop(columns="population"), orgs=orgs)


@lru_cache(maxsize=8)
def england(min_ccg_share: float = 0.05, population_per_trust: int = 450_000) -> Geography:
    """The 150 real HWB areas with their CCGs (those above `min_ccg_share` of the area).

    Cached: it depends on these two numbers only, and every run of a sweep asks for it again.
    Treat the frames as read-only (`select` and the model copy what they change).
    """
    areas, links = _england_tables()
    links = links[links.share >= min_ccg_share].copy()
    links["share"] = links["share"] / links.groupby("area_code")["share"].transform("sum")
    ccg_members = pd.DataFrame(
        {
            "area_code": links.area_code,
            "org_code": links.ccg_code,
            "org_name": links.ccg_name,
            "kind": "ccg",
            "share": links.share,
        }
    )
    return _finish(areas[["area_code", "area_name", "population"]].copy(), ccg_members, population_per_trust)


def synthetic(n: int, rng: np.random.Generator, population_per_trust: int = 450_000) -> Geography:
    """N areas drawn to match England: population and CCG counts resampled, shares Dirichlet.

    About one CCG in eight spans two neighbouring areas, as in England (26 of 209).
    """
    real, links = _england_tables()
    pops = rng.choice(real.population.to_numpy(), size=n) * rng.lognormal(0.0, 0.1, size=n)
    k_ccg = rng.choice(real.n_ccgs.to_numpy(), size=n)
    codes = [f"S{i:05d}" for i in range(n)]
    areas = pd.DataFrame(
        {
            "area_code": codes,
            "area_name": [f"Synthetic area {i + 1}" for i in range(n)],
            "population": pops.round().astype(int),
        }
    )
    rows = []
    prev_last = None
    for i, code in enumerate(codes):
        shares = rng.dirichlet(np.full(k_ccg[i], 2.0))
        ccgs = [f"SCCG{i:05d}-{j + 1}" for j in range(k_ccg[i])]
        if prev_last is not None and rng.random() < 0.125:
            ccgs[0] = prev_last
        prev_last = ccgs[-1]
        rows += [(code, c, f"Synthetic CCG {c[4:]}", "ccg", s) for c, s in zip(ccgs, shares)]
    ccg_members = pd.DataFrame(rows, columns=["area_code", "org_code", "org_name", "kind", "share"])
    return _finish(areas, ccg_members, population_per_trust)


def select(geo: Geography, names: list[str], coterminous_only: bool) -> Geography:
    """Restrict a geography to named areas and/or coterminous ones."""
    keep = geo.areas
    if names:
        unknown = sorted(set(names) - set(keep.area_name))
        if unknown:
            raise ScenarioError(f"areas.names = {unknown!r} is invalid: no such area (see `bettercare areas`)")
        keep = keep[keep.area_name.isin(names)]
    if coterminous_only:
        keep = keep[keep.coterminous]
    members = geo.members[geo.members.area_code.isin(keep.area_code)]
    orgs = geo.orgs[geo.orgs.org_code.isin(members.org_code)]
    return Geography(
        areas=keep.reset_index(drop=True), members=members.reset_index(drop=True), orgs=orgs.reset_index(drop=True)
    )
