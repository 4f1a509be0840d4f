"""Score the registered lever predictions of docs/mechanisms.md against the quick catalog sweeps.

    .venv/bin/python scripts/levers.py runs/findings > levers.md

For each lever row of the table "Predicted signs (registered 2026-12-02 ...)" in docs/mechanisms.md,
the contrast between the lever's highest and lowest swept level on the intermediates and on the
delivery outcomes (ADM, DTOC, 2A2, SAV), with a 95% t interval (`bettercare.analysis.effects`).
The quick sweeps draw a fresh seed per run (`spawn_key=(run_id,)`), so no two design points share
seeds and the contrasts are unpaired (Welch). Area-table variables are averaged over the areas of
a run first. Levers that no sweep varies are listed as not swept; nothing is run here.

Verdict per predicted sign: a predicted + or - is `right` if the interval excludes zero with that
sign, `wrong` if it excludes zero with the other sign, `nil` if it contains zero; a predicted 0 is
`right` if the interval contains zero and `wrong` if it excludes it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bettercare import analysis
from bettercare.model.outputs import fmt

OUTCOMES = {
    "ADM": "emergency_admissions_effect",
    "DTOC": "dtoc_days_effect",
    "2A2": "care_home_admissions_2a2_effect_pct",
    "SAV": "realised_savings_gbp",
}


@dataclass
class Lever:
    name: str
    sweep: str
    factor: str
    high: Any
    intermediates: dict[str, int]  # "table:column" (or a derived name) -> predicted sign
    outcomes: dict[str, int]  # ADM/DTOC/2A2/SAV -> predicted sign (0 = no effect)
    where: dict[str, Any] = field(default_factory=dict)
    table: str = "national"  # the table the outcomes are read from


LEVERS: list[Lever | tuple[str, str]] = [
    Lever(
        "H1 `trust.initial` 0.85 vs 0.15",
        "h1-trust",
        "trust.initial",
        0.85,
        {
            "weeks_to_agreement_mean": -1,
            "ambition_mean": -1,
            "plans_returned": -1,
            "trust_mean_end": +1,
            "integration_index_mean": +1,
        },
        {"DTOC": -1, "ADM": 0, "SAV": +1},
    ),
    Lever(
        "compromise `negotiation.compromise` 2 vs 0.5",
        "trust-compromise-deadline",
        "negotiation.compromise",
        2.0,
        {"weeks_to_agreement_mean": -1, "trust_mean_end": -1},
        {"DTOC": +1, "ADM": 0},
    ),
    Lever(
        "H3 `deadline.weeks` 40 vs 6",
        "h3-deadline",
        "deadline.weeks",
        40,
        {
            "weeks_to_agreement_mean": +1,
            "ambition_mean": -1,
            "first_round_overpromise": -1,
            "plans_returned": -1,
            "trust_mean_end": +1,
        },
        {"DTOC": -1, "ADM": 0, "SAV": 0},
    ),
    Lever(
        "H4 `acute.at_table` 1 vs 0",
        "h4-hospitals",
        "acute.at_table",
        1.0,
        {"weeks_to_agreement_mean": +1, "spend_acute_risk_share_gbp": +1, "areas:acute_defensiveness": -1},
        {"ADM": -1, "DTOC": -1, "SAV": +1},
    ),
    ("acute incentive `incentives.acute.income_loss`", "not swept"),
    (
        "H5a `pause.revised_p4p_rule` 2014 rule vs none",
        "not swept (no sweep varies it; h5-centre's quick size holds `centre.p4p_rule` = `multi_metric`)",
    ),
    Lever(
        "H5b `centre.withheld_to` centre vs nhs",
        "h5-centre",
        "centre.withheld_to",
        "centre",
        {"trust_in_centre_mean_end": -1},
        {"ADM": +1, "DTOC": +1, "SAV": -1},
    ),
    Lever(
        "H5c `centre.style` enabling vs command",
        "h5-centre",
        "centre.style",
        "enabling",
        {"trust_in_centre_mean_end": +1, "signed_off_first_6_weeks": +1, "plans_imposed": -1},
        {"ADM": 0, "DTOC": 0, "SAV": 0},
    ),
    ("council budget pressure `money.social_care_cut`", "not swept"),
    Lever(
        "H6 `trust.turnover` 0.5 vs 0.05",
        "h6-relationships",
        "trust.turnover",
        0.5,
        {"trust_mean_end": -1, "integration_index_mean": -1},
        {"DTOC": +1, "ADM": 0},
    ),
    Lever(
        "H6 `trust.colocation` 0.8 vs 0",
        "h6-relationships",
        "trust.colocation",
        0.8,
        {"trust_mean_end": +1, "integration_index_mean": +1},
        {"DTOC": -1, "ADM": 0},
    ),
    Lever(
        "H7 coterminous vs not, within runs (per 100,000 population)",
        "h7-coterminous",
        "coterminous",
        True,
        {"areas:first_agreed_week": -1},
        {"ADM": 0, "DTOC": 0},
        where={"areas.coterminous_only": False},
        table="areas",
    ),
    Lever(
        "H8a `money.new_money_share` 1 vs 0",
        "h8-no-new-money",
        "money.new_money_share",
        1.0,
        {"acute_net_deficit_gbp_end": -1, "areas:acute_defensiveness": -1},
        {"ADM": -1, "DTOC": -1, "SAV": +1},
    ),
    Lever(
        "H8b `money.divert_room` 0.6 vs 0",
        "h8-no-new-money",
        "money.divert_room",
        0.6,
        {"areas:diverted_gbp": +1},
        {"DTOC": +1, "2A2": +1, "ADM": 0},
    ),
]

PER_100K = {"emergency_admissions_effect", "dtoc_days_effect", "realised_savings_gbp"}


def verdict(lo: float, hi: float, sign: int) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "no interval"
    excludes = lo > 0 or hi < 0
    if sign == 0:
        return "wrong" if excludes else "right"
    if not excludes:
        return "nil"
    return "right" if (lo > 0) == (sign > 0) else "wrong"


def contrast(data: analysis.Results, lever: Lever, table: str, column: str) -> tuple[float, float, float]:
    df = data.table(table)
    if lever.factor not in df.columns:  # the areas table carries only some design columns
        df = df.merge(data.table("national")[["run_id", lever.factor]], on="run_id")
    for col, val in lever.where.items():
        df = df[df[col] == val]
    if column == "first_round_overpromise":
        df = df.assign(**{column: df["first_round_planned_savings_gbp"] / df["first_round_assured_savings_gbp"]})
    if table == "areas" and lever.table == "areas" and column in PER_100K:
        df = df.assign(**{column: df[column] / df["population"] * 1e5})
    e = analysis.effects(df, lever.factor, column)
    row = e[(e.kind == "effect") & (e[lever.factor] == lever.high)].iloc[0]
    return float(row.estimate), float(row.lo), float(row.hi)


def sign_text(s: int) -> str:
    return {1: "+", -1: "−", 0: "0"}[s]


def main(runs: Path) -> None:
    groups = ("intermediates", "outcomes, predicted + or −", "outcomes, predicted 0")
    counts = {g: {"right": 0, "wrong": 0, "nil": 0} for g in groups}
    print("| lever (sweep) | variable | predicted | found (95% interval) | verdict |")
    print("|---|---|---|---|---|")
    for lever in LEVERS:
        if isinstance(lever, tuple):
            print(f"| {lever[0]} | - | see the registered table | {lever[1]} | not swept |")
            continue
        data = analysis.load(runs / lever.sweep)
        cells = [("intermediates", k, s) for k, s in lever.intermediates.items()]
        cells += [("outcomes", k, s) for k, s in lever.outcomes.items()]
        for i, (group, key, sign) in enumerate(cells):
            if group == "outcomes":
                table, column, label = lever.table, OUTCOMES[key], f"{key} (`{OUTCOMES[key]}`)"
            else:
                table, column = key.split(":") if ":" in key else ("national", key)
                label = f"`{column}`"
            recorded = table in data.tables and (
                column in data.table(table).columns or column == "first_round_overpromise"
            )
            if not recorded:
                name = f"{lever.name} ({lever.sweep})" if i == 0 else ""
                print(f"| {name} | {label} | {sign_text(sign)} | not recorded by this sweep | - |")
                continue
            try:
                est, lo, hi = contrast(data, lever, table, column)
                v = verdict(lo, hi, sign)
                found = f"{fmt(est)} [{fmt(lo)}, {fmt(hi)}]"
            except Exception as exc:  # noqa: BLE001 - say so in the table, never hide a cell
                v, found = "error", str(exc)
            tally = group if group == "intermediates" else groups[2] if sign == 0 else groups[1]
            if v in counts[tally]:
                counts[tally][v] += 1
            name = f"{lever.name} ({lever.sweep})" if i == 0 else ""
            print(f"| {name} | {label} | {sign_text(sign)} | {found} | **{v}** |")
    print()
    for group, c in counts.items():
        print(f"- {group}: " + ", ".join(f"{k} {v}" for k, v in c.items()))


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/findings"))
