"""The `mechanisms` experiment (issue 13): ablation switches enumerated from their parameter group,
paired seeds, the two null models and the ablation table's intervals."""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd
import pytest
from pydantic import BaseModel, Field
from scipy.stats import t as student

from bettercare.analysis.ablation import TREND_ONLY, ablation, ablation_table, paired_interval, to_markdown
from bettercare.experiments import designs
from bettercare.experiments.nulls import fixed_plan, trend_only
from bettercare.experiments.runner import run_sweep
from bettercare.experiments.spec import SpecError, load_spec, parse_spec
from bettercare.model.model import BetterCareModel
from bettercare.model.nulls import fixed_plan_2014, plan_facts
from bettercare.model.results import collect
from bettercare.model.scenario import MechanismParams
from bettercare.vocabulary.plan import LINES, Slot, spend_shares, validate
from bettercare.vocabulary.status import Status

TWO = {"areas.names": ["Wigan", "Rutland"]}


def mechanism_switches() -> list[str]:
    return [f"mechanisms.{n}" for n, f in MechanismParams.model_fields.items() if f.annotation is bool]


# --- the design --------------------------------------------------------------------------------


def test_the_experiment_enumerates_every_switch_of_the_mechanisms_group():
    switches = mechanism_switches()
    assert "mechanisms.negotiation" in switches
    assert designs.switches("mechanisms") == switches
    for quick in (False, True):
        exp = load_spec("mechanisms", quick=quick)
        d = designs.build(exp)
        assert d.info["variants"] == ["baseline", *switches]
        assert d.n_points == designs.count_points(exp) == 1 + len(switches)
        assert d.points[0] == dict.fromkeys(switches, True)
        for name, point in zip(switches, d.points[1:]):
            assert point == {**dict.fromkeys(switches, True), name: False}


def test_a_switch_added_to_the_group_is_enumerated_without_any_edit(monkeypatch):
    class Group(BaseModel):
        negotiation: bool = Field(True)
        rate: float = Field(0.5)  # not a switch
        trial: bool = Field(True)

    class Params(BaseModel):
        mechanisms: Group = Field(default_factory=Group)

    monkeypatch.setattr(designs, "Parameters", Params)
    assert designs.switches("mechanisms") == ["mechanisms.negotiation", "mechanisms.trial"]


def test_any_group_can_be_ablated_and_switches_already_off_are_skipped():
    exp = parse_spec(
        textwrap.dedent(
            """
            [experiment]
            name = "pause-off"
            design = "ablation"
            ablate = "pause"
            replicates = 3
            paired = true
            [fixed]
            "mechanisms.negotiation" = false
            """
        )
    )
    d = designs.build(exp)
    assert d.info["variants"] == ["baseline", "pause.enabled"]
    assert d.points == [{"pause.enabled": True}, {"pause.enabled": False}]
    ablate_mech = parse_spec(
        '[experiment]\nname = "m"\ndesign = "ablation"\n[fixed]\n"mechanisms.negotiation" = false\n'
    )
    assert designs.build(ablate_mech).info["skipped"] == ["mechanisms.negotiation"]


def test_paired_experiments_run_common_seeds_across_variants():
    exp = load_spec("mechanisms", quick=True)
    assert exp.paired
    R = exp.replicates
    n = designs.count_points(exp) * R
    seeds = [designs.seed_of(exp, i, n) for i in range(n)]
    first = seeds[:R]
    assert len(set(first)) == R
    assert seeds == first * (len(seeds) // R)
    assert first == [designs.child_seed(exp.seed, r) for r in range(R)]


@pytest.mark.parametrize(
    "body, message",
    [
        ('design = "ablation"\n[parameters]\n"trust.initial" = [0.2]', "must be empty"),
        ('design = "ablation"\nablate = "nonsense"', "not a parameter group"),
        ('design = "factorial"\nablate = "mechanisms"', "only read with"),
    ],
)
def test_bad_ablation_specs_say_why(body, message):
    with pytest.raises(SpecError, match=message):
        parse_spec(f'[experiment]\nname = "x"\n{body}\n')


# --- the null models ---------------------------------------------------------------------------


def test_the_fixed_plan_is_the_published_2014_mix_and_a_valid_plan():
    f = plan_facts()
    plan = fixed_plan_2014(3.8e9, 1 / 3)
    assert validate(plan, 0.6, 0.10) is None
    pool = 1 + plan[Slot.COUNCIL_TOPUP] + plan[Slot.CCG_TOPUP]
    assert pool * 3.8e9 == pytest.approx(3.8e9 + f["topup_council"] + f["topup_ccg"])
    shares = plan[LINES]
    total = f["share_social_care"] + f["share_community_health"] + f["share_other_nhs"] + f["share_other"]
    assert shares[0] == pytest.approx(f["share_social_care"] / total)
    assert shares[1] == pytest.approx(f["share_community_health"] / total)
    assert shares[2] + shares[3] == pytest.approx(f["share_other_nhs"] / total)
    assert shares[3] == pytest.approx(shares[2] / 2)
    assert plan[Slot.AMBITION] == pytest.approx(0.0307)


def test_the_fixed_plan_null_gives_every_area_the_same_plan_and_runs_delivery():
    names = ["Wigan", "Rutland", "Sunderland", "Kent"]
    model = BetterCareModel(rng=4, **{"mechanisms.negotiation": False, "areas.names": names, "trust.turnover": 0.5})
    model.run_model()
    plans = np.stack([t.plan for t in model.tables])
    expected = fixed_plan_2014(model.params.money.minimum_gbp, model.params.planning.fixed_mix_risk_share)
    assert plans.shape[0] == len(names)
    np.testing.assert_allclose(plans, np.broadcast_to(expected, plans.shape))
    assert all(s == Status.APPROVED for s in model.status)
    assert model.week_no == 0 and not model._offers and not model.reviews  # no talks, no assurance
    assert model.delivery is not None and model.delivery.months_done == model.params.delivery.months
    assert (model.delivery.admissions > 0).all()
    # No trust dynamics: even with fast turnover, every relationship keeps its initial trust.
    assert model.trust.mean() == pytest.approx(model.params.trust.initial)
    national, _ = collect(model, tables=[])
    assert math.isnan(national["weeks_to_agreement_mean"])
    assert national["plans_imposed"] == 0
    assert national["ambition_mean"] == pytest.approx(plan_facts()["ambition_mean"])
    s = spend_shares(expected[None])[0]
    assert national["spend_social_care_gbp"] / national["pool_total_gbp"] == pytest.approx(s[0] / s.sum())
    assert national["emergency_admissions_effect"] != 0  # the plan's money and schemes act


def test_the_fixed_plan_evaluator_is_the_negotiation_switch_off():
    rows = fixed_plan(seeds=[7, 8], overrides=TWO)
    assert rows.seed.tolist() == [7, 8]
    m = BetterCareModel(rng=8, **{**TWO, "mechanisms.negotiation": False})
    m.run_model()
    assert rows.iloc[1]["emergency_admissions_effect"] == pytest.approx(
        collect(m, tables=[])[0]["emergency_admissions_effect"]
    )


def test_trend_only_has_zero_effects_and_the_counterfactuals_observable_change():
    trend = trend_only(overrides=TWO)
    for k in ("emergency_admissions_effect", "dtoc_days_effect", "care_home_admissions_2a2_effect_pct"):
        assert trend[k] == 0.0
    assert trend["realised_savings_gbp"] == 0.0
    model = BetterCareModel(rng=3, **TWO)
    model.run_model()
    nat, _ = collect(model, tables=[])
    assert nat["emergency_admissions_effect"] != 0
    # A run's observable change less its effect is its counterfactual's observable change.
    assert trend["realised_emergency_admissions_change"] == pytest.approx(
        nat["realised_emergency_admissions_change"] - nat["emergency_admissions_effect"], rel=1e-9
    )
    assert trend["realised_dtoc_days_change"] == pytest.approx(
        nat["realised_dtoc_days_change"] - nat["dtoc_days_effect"], rel=1e-9
    )
    assert trend["emergency_admissions"] == pytest.approx(float(model.delivery.admissions_cf.sum()))


# --- the ablation table ------------------------------------------------------------------------


def synthetic_metrics() -> pd.DataFrame:
    seeds = [11, 12, 13, 14, 15]
    base_effect = np.array([-10.0, -20.0, 5.0, 0.0, -5.0])
    off_effect = np.array([-4.0, -18.0, 9.0, 7.0, -1.0])  # differences 6, 2, 4, 7, 4
    rows = []
    for point, effect, weeks in ((0, base_effect, 8.0), (1, off_effect, np.nan)):
        for r, s in enumerate(seeds):
            rows.append(
                {
                    "run_id": point * 5 + r,
                    "point_id": point,
                    "replicate": r,
                    "seed": s,
                    "emergency_admissions_effect": effect[r],
                    "realised_emergency_admissions_change": 100.0 + effect[r],
                    "weeks_to_agreement_mean": weeks + r,
                }
            )
    # The variant's runs come in another order: pairing is by seed, not by row.
    return pd.DataFrame(rows).sample(frac=1, random_state=0)


def test_the_ablation_table_pairs_by_seed_and_gives_t_intervals():
    table = ablation_table(synthetic_metrics(), {0: "baseline", 1: "mechanisms.trial"})
    row = table[(table.switch == "mechanisms.trial") & (table.variable == "emergency_admissions_effect")].iloc[0]
    d = np.array([6.0, 2.0, 4.0, 7.0, 4.0])
    half = student.ppf(0.975, 4) * d.std(ddof=1) / math.sqrt(5)
    assert row["n"] == 5
    assert row["diff_mean"] == pytest.approx(4.6)
    assert row["diff_low"] == pytest.approx(4.6 - half)
    assert row["diff_high"] == pytest.approx(4.6 + half)
    assert row["baseline_mean"] == pytest.approx(-6.0)
    # Undefined in the variant (nobody talked): no difference at all.
    weeks = table[(table.switch == "mechanisms.trial") & (table.variable == "weeks_to_agreement_mean")].iloc[0]
    assert weeks["n"] == 0 and math.isnan(weeks["diff_mean"])
    # Trend only: zero effect, so the difference is minus the baseline's effect, seed by seed;
    # the observable change is the counterfactual's (100 in every run here).
    trend = table[table.variant == TREND_ONLY].set_index("variable")
    assert trend.loc["emergency_admissions_effect", "diff_mean"] == pytest.approx(6.0)
    assert trend.loc["emergency_admissions_effect", "variant_mean"] == 0.0
    assert trend.loc["realised_emergency_admissions_change", "variant_mean"] == pytest.approx(100.0)
    assert trend.loc["weeks_to_agreement_mean", "n"] == 0
    assert table.attrs["seeds"] == [11, 12, 13, 14, 15]
    assert set(table.groupby(["variant", "variable"]).size()) == {1}  # tidy: one row per pair
    md = to_markdown(table)
    assert "mechanisms.trial off" in md and TREND_ONLY in md and "11, 12, 13, 14, 15" in md


def test_paired_interval_edge_cases():
    assert paired_interval(np.array([np.nan]))[0] == 0
    n, mean, sd, lo, hi = paired_interval(np.array([3.0]))
    assert (n, mean) == (1, 3.0) and math.isnan(lo)
    n, mean, sd, lo, hi = paired_interval(np.array([1.0, 1.0, 1.0]))
    assert (lo, hi) == (1.0, 1.0)


def test_a_tiny_ablation_sweep_gives_the_table(tmp_path):
    spec = textwrap.dedent(
        """
        [experiment]
        name = "tiny-mechanisms"
        design = "ablation"
        ablate = "mechanisms"
        paired = true
        replicates = 2
        seed = 5
        [fixed]
        "areas.names" = ["Wigan", "Rutland"]
        [outputs]
        tables = ["national", "areas", "timeseries"]
        """
    )
    result = run_sweep(parse_spec(spec), tmp_path / "out", workers=0)
    assert result.exit_code == 0
    table = ablation(tmp_path / "out")
    fixed = table[table.switch == "mechanisms.negotiation"].set_index("variable")
    assert fixed.loc["trust_at_delivery", "variant_mean"] == pytest.approx(0.5)  # trust.initial, held
    assert fixed.loc["plans_returned", "variant_mean"] == 0
    assert fixed.loc["weeks_to_agreement_mean", "n"] == 0
    assert fixed.loc["emergency_admissions_effect", "n"] == 2
    assert table.attrs["params"]["seed_scheme"].startswith("SeedSequence(seed, spawn_key=(replicate,))")
    assert len(table.attrs["seeds"]) == 2
