"""BetterCareModel as a Mesa user meets it: `running`, dotted keyword arguments, `batch_run`."""

from __future__ import annotations

import warnings

import mesa
import pytest

from bettercare.model.model import BetterCareModel
from bettercare.model.scenario import ScenarioError, calibrated, load_scenario

SMALL = {"areas.names": ["Wigan", "Sunderland"]}


def test_while_running_step_ends_at_the_end_of_delivery():
    model = BetterCareModel(**SMALL, rng=1)
    steps = 0
    while model.running:
        model.step()
        steps += 1
        assert steps < 500
    assert model.phase == "done" and model.month_no == model.params.delivery.months


def test_batch_run_with_dotted_parameter_names():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        rows = mesa.batch_run(
            BetterCareModel,
            parameters={"trust.initial": [0.2, 0.8], **{k: [v] for k, v in SMALL.items()}},
            iterations=2,
            display_progress=False,
        )
    assert len(rows) == 4
    assert sorted({r["trust.initial"] for r in rows}) == [0.2, 0.8]
    assert all(r["phase"] == "done" for r in rows)


def test_a_model_built_without_parameters_is_england_2014_calibrated():
    model = BetterCareModel(**SMALL, rng=1)
    expected = load_scenario("england-2014").params.flat()
    got = model.params.flat()
    cal = calibrated()
    assert cal, "england-2014 ships calibrated values"
    for name, value in cal.items():
        assert got[name] == pytest.approx(value) == pytest.approx(expected[name])


def test_a_bad_keyword_parameter_is_one_clear_error():
    with pytest.raises(ScenarioError, match=r"trust.initial = 1.7 is invalid: allowed \[0, 1\]"):
        BetterCareModel(**{"trust.initial": 1.7})
    with pytest.raises(ScenarioError, match="unknown parameter 'trust.nope'"):
        BetterCareModel(**{"trust.nope": 1})
