"""The output registry (bettercare/model/outputs.py) is the one schema: the tables `collect`
builds, the formatter and docs/outputs.md all follow it."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bettercare.model.model import BetterCareModel
from bettercare.model.outputs import (
    GROUPS,
    KIND_NOTES,
    NATIONAL_FIELDS,
    OUTPUTS,
    TABLES,
    Kind,
    columns,
    fmt,
    kind_of,
    output,
    predictions,
    render_docs,
    summary_groups,
)
from bettercare.model.results import collect
from bettercare.model.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def collected():
    sc = load_scenario("england-2014", {"areas.names": ["Wigan", "Sunderland", "Leeds"]})
    model = BetterCareModel(sc.params, rng=5, record_offers=True)
    model.run_model()
    return collect(model)


def test_collect_builds_exactly_the_registry_columns_in_order(collected):
    national, tables = collected
    assert list(national) == list(NATIONAL_FIELDS)
    assert list(tables) == [t for t in TABLES if t != "national"]
    for name, df in tables.items():
        assert len(df) > 0, name
        assert list(df.columns) == list(columns(name)), name


def test_every_output_is_declared_once_with_a_unit_and_a_meaning():
    twice = [k for k, n in Counter((o.table, o.name) for o in OUTPUTS).items() if n > 1]
    assert not twice
    for o in OUTPUTS:
        assert o.unit.strip() and o.description.strip(), o
        assert isinstance(o.kind, Kind)
    assert set(KIND_NOTES) == set(Kind)


def test_a_column_name_has_one_kind_in_every_table():
    kinds: dict[str, set[Kind]] = {}
    for o in OUTPUTS:
        kinds.setdefault(o.name, set()).add(o.kind)
    assert {n: k for n, k in kinds.items() if len(k) > 1} == {}
    assert kind_of("realised_savings_gbp") is Kind.GBP and kind_of("agreement_rate") is Kind.NUMBER


def test_groups_cover_the_national_fields_and_predictions_are_national():
    grouped = [o.name for _, items in summary_groups() for o in items]
    assert sorted(grouped) == sorted(NATIONAL_FIELDS)
    assert all(items for _, items in summary_groups()), "a group with no fields"
    assert len(GROUPS) == len({g.key for g in GROUPS})
    preds = predictions()
    assert preds and all(o.table == "national" and o.prediction for o in preds)


def test_a_bad_declaration_is_refused():
    from bettercare.model.outputs import Output

    with pytest.raises(ValueError, match="table 'people'"):
        Output("x", "people", "count", Kind.COUNT, "?")
    with pytest.raises(ValueError, match="needs a group"):
        Output("x", "national", "count", Kind.COUNT, "?")
    with pytest.raises(ValueError, match="count2"):
        Output("x", "areas", "count", "count2", "?")
    with pytest.raises(KeyError, match="areas.nope"):
        output("areas", "nope")


@pytest.mark.parametrize(
    "value,kind,shown",
    [
        (148.0, "count", "148"),
        (148.5, "count", "148.5"),
        (12345, Kind.COUNT, "12,345"),
        (-1234.4, "change", "-1,234"),
        (250.0, "change", "+250"),
        (3_845_600_000.0, "gbp", "£3,845.6m"),
        (-2_500_000.0, "gbp", "-£2.5m"),
        (0.0307, "fraction", "3.1%"),
        (-1.234, "percent", "-1.23%"),
        (0.5, "points", "+0.50 pp"),
        (1.2345, "ratio", "1.23"),
        (0.51234, "index", "0.512"),
        (12.25, "weeks", "12.2"),
        (2_345_678_901.0, "number", "2.35bn"),
        (12_345_678.0, "number", "12.3m"),
        (1234.5, "number", "1,234"),
        (12.345, "number", "12.35"),
        (20.0, "number", "20"),
        (0.012345, "number", "0.0123"),
        (0.00012, "number", "1.20e-04"),
        (0.0, "number", "0"),
        (12_345_678, "number", "12,345,678"),
        (np.int64(7), "number", "7"),
        (7, "id", "7"),
        (True, "flag", "yes"),
        (np.bool_(False), "number", "no"),
        ("imposed", "text", "imposed"),
        (None, "gbp", "-"),
        (math.nan, "count", "-"),
        (math.inf, "ratio", "inf"),
        (-math.inf, "gbp", "-inf"),
    ],
)
def test_fmt_shows_each_kind_by_its_convention(value, kind, shown):
    assert fmt(value, kind) == shown


def test_fmt_refuses_an_unknown_kind():
    with pytest.raises(ValueError, match="'share'"):
        fmt(0.5, "share")


def test_docs_outputs_page_is_generated_from_the_registry():
    page = (REPO / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert page == render_docs(), "docs/outputs.md is stale: run `python -m bettercare.model.outputs`"
    for o in OUTPUTS:
        assert f"`{o.name}`" in page


def test_the_docs_page_goes_stale_when_the_registry_changes(monkeypatch):
    import bettercare.model.outputs as registry

    before = render_docs()
    changed = tuple(
        o if o.name != "plans_imposed" else type(o)(o.name, o.table, o.unit, o.kind, "Changed.", o.group)
        for o in registry.OUTPUTS
    )
    monkeypatch.setattr(registry, "OUTPUTS", changed)
    after = render_docs()
    assert after != before and "| Changed. |" in after
