"""Checks on the packaged HWB area data (bettercare/data/areas.csv, area_ccgs.csv)."""

from importlib.resources import files

import pandas as pd
import pytest

DATA = files("bettercare") / "data"


@pytest.fixture(scope="module")
def areas() -> pd.DataFrame:
    with (DATA / "areas.csv").open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"area_code": str})


@pytest.fixture(scope="module")
def area_ccgs() -> pd.DataFrame:
    with (DATA / "area_ccgs.csv").open("r", encoding="utf-8") as f:
        return pd.read_csv(f, dtype={"area_code": str, "ccg_code": str})


def test_150_unique_areas(areas, area_ccgs):
    assert len(areas) == 150
    assert areas["area_code"].is_unique
    assert set(area_ccgs["area_code"]) == set(areas["area_code"])


def test_shares_sum_to_one_per_area(area_ccgs):
    sums = area_ccgs.groupby("area_code")["share"].sum()
    assert ((sums - 1).abs() <= 1e-6).all(), sums[(sums - 1).abs() > 1e-6]


def test_ccg_shares_sum_to_one_per_ccg(area_ccgs):
    sums = area_ccgs.groupby("ccg_code")["ccg_share"].sum()
    assert ((sums - 1).abs() <= 1e-6).all(), sums[(sums - 1).abs() > 1e-6]


def test_209_ccgs(area_ccgs):
    assert area_ccgs["ccg_code"].nunique() == 209


def test_n_ccgs_matches_overlap(areas, area_ccgs):
    counts = area_ccgs.groupby("area_code")["ccg_code"].nunique()
    assert (areas.set_index("area_code")["n_ccgs"] == counts).all()


@pytest.mark.parametrize("name", ["Kent", "Surrey"])
def test_kent_and_surrey_have_seven_ccgs(areas, name):
    row = areas.loc[areas["area_name"] == name]
    assert len(row) == 1
    assert row["n_ccgs"].item() == 7


@pytest.mark.parametrize("name", ["Cornwall and Isles of Scilly", "Hackney and City of London"])
def test_merged_areas_present(areas, name):
    assert (areas["area_name"] == name).sum() == 1


def test_population_total(areas):
    total = areas["population"].sum()
    assert abs(total - 54_300_000) <= 0.01 * 54_300_000
