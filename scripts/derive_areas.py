#!/usr/bin/env python3
"""Derive the 150 Health and Wellbeing Board (HWB) areas from ONS lookups.

Inputs (ONS, Open Government Licence v3.0):
  - lsoa_ccg_lad_2015.csv: "LSOA (2011) to CCG to LAD (July 2015) Lookup in England"
  - lad_cty_2015.csv: "Local Authority District to County (December 2015) Lookup in England"

Rules:
  1. Upper-tier council = the county (CTY15CD/CTY15NM) where the county code
     starts with E10 (shire county), else the district itself (LAD15CD/LAD15NM).
     Unitary authorities (E06) are absent from the county lookup and so are
     their own council. This gives 152 councils.
  2. Merge the Isles of Scilly (E06000053) into Cornwall (E06000052) and the
     City of London (E09000001) into Hackney (E09000012), keeping the absorbing
     area's code and appending the merged one to its name. This gives 150 areas.
  3. Population is approximated from the LSOA count (see POP_PER_LSOA below).
  4. CCG overlap per area: the CCG's LSOAs in the area, ``share`` = those / the
     area's LSOAs, ``ccg_share`` = those / all of that CCG's LSOAs.

Outputs (in --out): areas.csv and area_ccgs.csv.

Usage: python scripts/derive_areas.py [--ons DIR] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ONS = REPO_ROOT.parent / "shared" / "data" / "ons"
DEFAULT_OUT = REPO_ROOT / "bettercare" / "data"

LSOA_FILE = "lsoa_ccg_lad_2015.csv"
CTY_FILE = "lad_cty_2015.csv"

# Population approximation: England mid-2014 population 54.3m spread evenly
# over the 32,844 LSOAs (2011), i.e. about 1,653 people per LSOA.
# population = round(lsoa_count * 54_300_000 / 32_844)
ENGLAND_POP = 54_300_000
ENGLAND_LSOAS = 32_844

# (absorbed district code, absorbing council code)
MERGES = {
    "E06000053": "E06000052",  # Isles of Scilly -> Cornwall
    "E09000001": "E09000012",  # City of London -> Hackney
}

N_DECIMALS = 6


def population(lsoa_count):
    """Approximate population from an LSOA count (54.3m / 32,844 per LSOA)."""
    return round(lsoa_count * ENGLAND_POP / ENGLAND_LSOAS)


def round_shares(counts: pd.Series, groups: pd.Series) -> pd.Series:
    """counts / group total, rounded to N_DECIMALS so each group sums to exactly 1.

    Largest-remainder rounding: floor every share to 1e-6 units, then hand the
    leftover units to the shares with the largest remainders. Plain rounding
    can leave a group's sum up to n * 5e-7 away from 1.
    """
    unit = 10**N_DECIMALS
    exact = counts / counts.groupby(groups).transform("sum") * unit
    floored = exact.apply(math.floor)
    remainder = exact - floored
    short = (unit - floored.groupby(groups).transform("sum")).astype(int)
    rank = remainder.groupby(groups).rank(method="first", ascending=False)
    return ((floored + (rank <= short)) / unit).round(N_DECIMALS)


def load(ons_dir: Path) -> pd.DataFrame:
    """One row per LSOA with its CCG, district and upper-tier council."""
    lsoa = pd.read_csv(ons_dir / LSOA_FILE, dtype=str, encoding="utf-8")
    cty = pd.read_csv(ons_dir / CTY_FILE, dtype=str, encoding="utf-8")
    cty = cty[["LAD15CD", "CTY15CD", "CTY15NM"]]

    df = lsoa.merge(cty, on="LAD15CD", how="left", validate="many_to_one")
    is_county = df["CTY15CD"].fillna("").str.startswith("E10")
    df["council_code"] = df["CTY15CD"].where(is_county, df["LAD15CD"])
    df["council_name"] = df["CTY15NM"].where(is_county, df["LAD15NM"])
    return df


def apply_merges(df: pd.DataFrame) -> pd.DataFrame:
    """Fold the small councils into their neighbours (152 councils -> 150 areas)."""
    names = df.drop_duplicates("council_code").set_index("council_code")["council_name"]
    area_code = df["council_code"].replace(MERGES)
    area_name = area_code.map(names)
    for absorbed, absorbing in MERGES.items():
        if absorbed not in names.index or absorbing not in names.index:
            raise ValueError(f"merge {absorbed} -> {absorbing}: council not found")
        merged_name = f"{names[absorbing]} and {names[absorbed]}"
        area_name = area_name.mask(area_code == absorbing, merged_name)
    return df.assign(area_code=area_code, area_name=area_name)


def derive(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the areas table and the area-by-CCG overlap table."""
    pairs = (
        df.groupby(["area_code", "area_name", "CCG15CD", "CCG15NM"], as_index=False)
        .size()
        .rename(columns={"CCG15CD": "ccg_code", "CCG15NM": "ccg_name", "size": "lsoa_count"})
    )
    pairs["share"] = round_shares(pairs["lsoa_count"], pairs["area_code"])
    pairs["ccg_share"] = round_shares(pairs["lsoa_count"], pairs["ccg_code"])
    area_ccgs = pairs.sort_values(["area_code", "ccg_code"]).reset_index(drop=True)[
        ["area_code", "ccg_code", "ccg_name", "lsoa_count", "share", "ccg_share"]
    ]

    areas = (
        pairs.groupby(["area_code", "area_name"], as_index=False)
        .agg(lsoa_count=("lsoa_count", "sum"), n_ccgs=("ccg_code", "nunique"))
        .sort_values("area_code")
        .reset_index(drop=True)
    )
    areas["population"] = areas["lsoa_count"].map(population)
    areas = areas[["area_code", "area_name", "lsoa_count", "population", "n_ccgs"]]
    return areas, area_ccgs


def summarise(df: pd.DataFrame, areas: pd.DataFrame, area_ccgs: pd.DataFrame) -> None:
    """Print the figures used to check the derivation."""
    council_ccgs = df.groupby("council_code")["CCG15CD"].nunique()
    ccg_areas = area_ccgs.groupby("ccg_code")["area_code"].nunique()
    ccg_councils = df.groupby("CCG15CD")["council_code"].nunique()
    print(f"LSOAs:                              {len(df)}")
    print(f"councils (before merge):            {len(council_ccgs)}")
    print(f"councils with a single CCG:         {(council_ccgs == 1).sum()}")
    print(f"areas (after merge):                {len(areas)}")
    print(f"areas with a single CCG:            {(areas['n_ccgs'] == 1).sum()}")
    print(f"distinct CCGs:                      {area_ccgs['ccg_code'].nunique()}")
    print(f"CCGs spanning >1 council:           {(ccg_councils > 1).sum()}")
    print(f"CCGs spanning >1 area:              {(ccg_areas > 1).sum()}")
    mx = areas["n_ccgs"].max()
    top = ", ".join(areas.loc[areas["n_ccgs"] == mx, "area_name"])
    print(f"max CCGs per area:                  {mx} ({top})")
    print(f"mean CCGs per area:                 {areas['n_ccgs'].mean():.3f}")
    print(f"area-CCG pairs:                     {len(area_ccgs)}")
    print(f"total population:                   {areas['population'].sum():,}")
    cols = ["area_code", "area_name", "lsoa_count", "population", "n_ccgs"]
    by_pop = areas.sort_values(["population", "area_code"], ascending=[False, True])
    print("\n5 largest areas:")
    print(by_pop.head(5)[cols].to_string(index=False))
    print("\n5 smallest areas:")
    print(by_pop.tail(5).iloc[::-1][cols].to_string(index=False))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--ons", type=Path, default=DEFAULT_ONS, help=f"directory with the ONS lookups (default {DEFAULT_ONS})"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output directory (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)

    df = apply_merges(load(args.ons))
    areas, area_ccgs = derive(df)

    args.out.mkdir(parents=True, exist_ok=True)
    areas.to_csv(args.out / "areas.csv", index=False, encoding="utf-8", lineterminator="\n")
    area_ccgs.to_csv(
        args.out / "area_ccgs.csv", index=False, encoding="utf-8", lineterminator="\n", float_format=f"%.{N_DECIMALS}f"
    )
    print(f"wrote {args.out / 'areas.csv'} ({len(areas)} rows)")
    print(f"wrote {args.out / 'area_ccgs.csv'} ({len(area_ccgs)} rows)\n")
    summarise(df, areas, area_ccgs)


if __name__ == "__main__":
    main()
