"""The date test: no input of the flow model (bettercare/data/inputs.toml) and no validation fact
(bettercare/data/facts.toml) describes April 2015 or later, nor was published after June 2015 (the
full 2014-15 baseline statistics appeared in May and June 2015). Structural unit costs with no
earlier source are the only exceptions, each listed in inputs.toml with its reason."""

from __future__ import annotations

import tomllib
from datetime import date
from importlib.resources import files

PERIOD_LIMIT = date(2015, 4, 1)  # nothing describing this day or later
PUBLISHED_LIMIT = date(2015, 6, 30)


def load(name: str = "inputs.toml") -> dict:
    with (files("bettercare") / "data" / name).open("rb") as fh:
        return tomllib.load(fh)


def violations(data: dict, rows: str = "input") -> list[str]:
    exceptions = data.get("exceptions", {})
    out = []
    for row in data[rows]:
        for key in ("period_end", "published", "source"):
            if key not in row:
                out.append(f"{row['id']}: no {key}")
        if row["id"] in exceptions:
            continue
        if row.get("period_end", PERIOD_LIMIT) >= PERIOD_LIMIT:
            out.append(f"{row['id']}: describes {row.get('period_end')} (on or after {PERIOD_LIMIT})")
        if row.get("published", PUBLISHED_LIMIT) > PUBLISHED_LIMIT:
            out.append(f"{row['id']}: published {row.get('published')} (after {PUBLISHED_LIMIT})")
    for key, reason in exceptions.items():
        if not str(reason).strip():
            out.append(f"exception {key} gives no reason")
    return out


def test_every_input_is_dated_and_pre_period():
    assert violations(load()) == []


def test_every_validation_fact_is_dated_and_pre_period():
    facts = load("facts.toml")
    assert len(facts["fact"]) >= 18
    assert violations(facts, rows="fact") == []


def test_the_date_test_catches_a_late_input():
    late = {"input": [{"id": "x", "source": "s", "period_end": date(2015, 6, 30), "published": date(2015, 9, 1)}]}
    assert len(violations(late)) == 2
    assert violations({**late, "exceptions": {"x": "structural unit cost, no earlier source"}}) == []


def test_every_sourced_parameter_reads_a_dated_input():
    from bettercare.model.flow_params import FlowParams

    ids = {row["id"] for row in load()["input"]}
    for name, f in FlowParams.model_fields.items():
        if f.json_schema_extra["tag"] == "sourced":
            assert f.json_schema_extra["input"] in ids, name
