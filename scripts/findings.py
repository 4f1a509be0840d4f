"""Compute every number of docs/findings.md from the quick catalog sweeps, as Markdown tables.

    bash scripts/findings.sh runs/findings          # runs the sweeps, then this script
    .venv/bin/python scripts/findings.py runs/findings > findings-tables.md

RUNS holds one sweep directory per catalog experiment, named as the experiment. Each check is
one effect estimate (`bettercare.analysis.effects`, 95% t interval over replicates) with the
direction the behaviour predicts. The verdict is read off the interval, never adjusted:
`shown` (interval excludes zero, predicted sign), `opposite` (excludes zero, other sign) or
`not shown` (interval contains zero).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bettercare import analysis
from bettercare.model.outputs import fmt


@dataclass
class Check:
    claim: str
    table: str
    factor: str | list[str]
    outcome: str
    level: Any  # the level compared with the reference (a tuple for an interaction)
    sign: int  # +1 or -1: the direction the behaviour predicts
    kind: str = "effect"
    where: dict[str, Any] = field(default_factory=dict)  # rows to keep first (column -> value)
    derive: str | None = None  # a derived outcome (see DERIVED)


DERIVED = {
    "agreement_rate": lambda d: d["plans_agreed"] / d["areas"],
    "first_round_overpromise": lambda d: d["first_round_planned_savings_gbp"] / d["first_round_assured_savings_gbp"],
    "signed_off": lambda d: (d["verdict"] != "imposed").astype(float),
}

CHECKS: dict[str, list[Check]] = {
    "trust-compromise-deadline": [
        Check("higher initial trust: more plans agreed", "national", "trust.initial", "plans_agreed", 0.8, +1),
        Check(
            "higher initial trust: faster agreement", "national", "trust.initial", "weeks_to_agreement_mean", 0.8, -1
        ),
        Check("higher initial trust: larger pool", "national", "trust.initial", "pool_total_gbp", 0.8, +1),
        Check(
            "higher initial trust: more realistic plans (realism nearer 1)",
            "national",
            "trust.initial",
            "plan_realism_mean",
            0.8,
            -1,
        ),
        Check(
            "more compromise (beta 2 vs 0.5): faster agreement",
            "national",
            "negotiation.compromise",
            "weeks_to_agreement_mean",
            2.0,
            -1,
        ),
        Check("more compromise: more plans agreed", "national", "negotiation.compromise", "plans_agreed", 2.0, +1),
        Check(
            "longer deadline (40 vs 6 weeks): more realistic plans",
            "national",
            "deadline.weeks",
            "plan_realism_mean",
            40,
            -1,
        ),
        Check("longer deadline: more plans agreed", "national", "deadline.weeks", "plans_agreed", 40, +1),
        Check(
            "longer deadline: more emergency admissions avoided (effect against the no-BCF year)",
            "national",
            "deadline.weeks",
            "emergency_admissions_effect",
            40,
            -1,
        ),
        Check(
            "trust x deadline: trust's effect on realism larger at 40 weeks",
            "national",
            ["trust.initial", "deadline.weeks"],
            "plan_realism_mean",
            (0.8, 40),
            -1,
            kind="interaction",
        ),
        Check(
            "higher trust: agreements nearer the Pareto frontier", "areas", "trust.initial", "pareto_distance", 0.8, -1
        ),
        Check("higher trust: fairer agreements", "areas", "trust.initial", "fairness", 0.8, +1),
    ],
    "h1-trust": [
        Check("H1 trust speeds agreement", "national", "trust.initial", "weeks_to_agreement_mean", 0.85, -1),
        Check("H1 trust enlarges voluntary pooling (pool)", "national", "trust.initial", "pool_total_gbp", 0.85, +1),
        Check(
            "H1 trust enlarges voluntary pooling (areas topping up)",
            "national",
            "trust.initial",
            "areas_topping_up",
            0.85,
            +1,
        ),
        Check("H1 trust makes plans more realistic", "national", "trust.initial", "plan_realism_mean", 0.85, -1),
        Check(
            "H1 ... because partners share information: trust's effect on realism with sharing 0.8 minus "
            "with sharing 0",
            "national",
            ["trust.initial", "trust.info_sharing"],
            "plan_realism_mean",
            (0.85, 0.8),
            -1,
            kind="interaction",
        ),
        Check(
            "H1 with information sharing off (0), trust's effect on realism",
            "national",
            "trust.initial",
            "plan_realism_mean",
            0.85,
            -1,
            where={"trust.info_sharing": 0.0},
        ),
    ],
    "h2-holdout": [
        Check(
            "H2 a council holdout: fewer plans agreed", "national", "negotiation.holdout", "plans_agreed", "council", -1
        ),
        Check("H2 a CCG holdout: fewer plans agreed", "national", "negotiation.holdout", "plans_agreed", "ccg", -1),
        Check(
            "H2 an acute holdout: fewer plans agreed", "national", "negotiation.holdout", "plans_agreed", "acute", -1
        ),
        Check(
            "H2 a council holdout: more plans imposed",
            "national",
            "negotiation.holdout",
            "plans_imposed",
            "council",
            +1,
        ),
        Check(
            "H2 a CCG holdout: slower agreement",
            "national",
            "negotiation.holdout",
            "weeks_to_agreement_mean",
            "ccg",
            +1,
        ),
        Check(
            "H2 a council holdout: slower agreement",
            "national",
            "negotiation.holdout",
            "weeks_to_agreement_mean",
            "council",
            +1,
        ),
    ],
    "h3-deadline": [
        Check(
            "H3 longer deadline (40 vs 6 weeks): less over-promising (realism)",
            "national",
            "deadline.weeks",
            "plan_realism_mean",
            40,
            -1,
        ),
        Check(
            "H3 longer deadline: first-round claims nearer the stress test",
            "national",
            "deadline.weeks",
            "first_round_overpromise",
            40,
            -1,
            derive="first_round_overpromise",
        ),
        Check(
            "H3 with pressure off (0): the deadline's effect on realism",
            "national",
            "deadline.weeks",
            "plan_realism_mean",
            40,
            -1,
            where={"deadline.pressure": 0.0},
        ),
        Check(
            "H3 pressure x deadline: the deadline's effect on realism, pressure 1 minus pressure 0",
            "national",
            ["deadline.weeks", "deadline.pressure"],
            "plan_realism_mean",
            (40, 1.0),
            -1,
            kind="interaction",
        ),
        Check(
            "H3 trust is spent to meet the date: trust at the end higher with 40 weeks",
            "national",
            "deadline.weeks",
            "trust_mean_end",
            40,
            +1,
        ),
    ],
    "h4-hospitals": [
        Check(
            "H4 hospitals at the table (1 vs 0): fewer plans agreed",
            "national",
            "acute.at_table",
            "plans_agreed",
            1.0,
            -1,
        ),
        Check(
            "H4 hospitals at the table: slower agreement",
            "national",
            "acute.at_table",
            "weeks_to_agreement_mean",
            1.0,
            +1,
        ),
        Check(
            "H4 hospitals at the table: more emergency admissions avoided",
            "national",
            "acute.at_table",
            "emergency_admissions_effect",
            1.0,
            -1,
        ),
        Check(
            "H4 hospitals at the table: more delayed days avoided",
            "national",
            "acute.at_table",
            "dtoc_days_effect",
            1.0,
            -1,
        ),
        Check(
            "H4 hospitals at the table: larger realised savings",
            "national",
            "acute.at_table",
            "realised_savings_gbp",
            1.0,
            +1,
        ),
        Check(
            "H4 hospitals at the table: smaller acute net deficit",
            "national",
            "acute.at_table",
            "acute_net_deficit_gbp_end",
            1.0,
            -1,
        ),
        Check(
            "H4 hospitals at the table: higher integration",
            "national",
            "acute.at_table",
            "integration_index_mean",
            1.0,
            +1,
        ),
        Check(
            "H4 within runs (at_table 0.5): areas with their trust at the table agree later",
            "areas",
            "acute_at_table",
            "first_agreed_week",
            True,
            +1,
            where={"acute.at_table": 0.5},
        ),
        Check(
            "H4 within runs: areas with their trust at the table have a less defensive trust",
            "areas",
            "acute_at_table",
            "acute_defensiveness",
            True,
            -1,
            where={"acute.at_table": 0.5},
        ),
    ],
    "h5-centre": [
        Check(
            "H5 money back to the centre (vs NHS): lower trust among partners",
            "national",
            "centre.withheld_to",
            "trust_mean_end",
            "centre",
            -1,
        ),
        Check(
            "H5 money back to the centre: lower trust in the centre",
            "national",
            "centre.withheld_to",
            "trust_in_centre_mean_end",
            "centre",
            -1,
        ),
        Check(
            "H5 money back to the centre: lower integration (retrenchment)",
            "national",
            "centre.withheld_to",
            "integration_index_mean",
            "centre",
            -1,
        ),
        Check(
            "H5 an enabling centre (vs command): more trust in the centre",
            "national",
            "centre.style",
            "trust_in_centre_mean_end",
            "enabling",
            +1,
        ),
        Check(
            "H5 an enabling centre: more trust among partners",
            "national",
            "centre.style",
            "trust_mean_end",
            "enabling",
            +1,
        ),
    ],
    "h6-relationships": [
        Check("H6 co-location (0.8 vs 0) builds trust", "national", "trust.colocation", "trust_mean_end", 0.8, +1),
        Check("H6 co-location raises integration", "national", "trust.colocation", "integration_index_mean", 0.8, +1),
        Check("H6 turnover (0.5 vs 0.05) erodes trust", "national", "trust.turnover", "trust_mean_end", 0.5, -1),
        Check("H6 turnover lowers integration", "national", "trust.turnover", "integration_index_mean", 0.5, -1),
        Check("H6 turnover slows agreement", "national", "trust.turnover", "weeks_to_agreement_mean", 0.5, +1),
    ],
    "h7-coterminous": [
        Check(
            "H7 within national runs: coterminous areas agree sooner",
            "areas",
            "coterminous",
            "first_agreed_week",
            True,
            -1,
            where={"areas.coterminous_only": False},
        ),
        Check(
            "H7 within national runs: coterminous areas are signed off more often",
            "areas",
            "coterminous",
            "signed_off",
            True,
            +1,
            where={"areas.coterminous_only": False},
            derive="signed_off",
        ),
        Check(
            "H7 within national runs: coterminous areas end with more trust",
            "areas",
            "coterminous",
            "trust_end",
            True,
            +1,
            where={"areas.coterminous_only": False},
        ),
        Check(
            "H7 within national runs: coterminous areas reach higher integration",
            "areas",
            "coterminous",
            "maturity_end",
            True,
            +1,
            where={"areas.coterminous_only": False},
        ),
    ],
    "h8-no-new-money": [
        Check(
            "H8 new money (share 1 vs 0): smaller acute net deficit",
            "national",
            "money.new_money_share",
            "acute_net_deficit_gbp_end",
            1.0,
            -1,
        ),
        Check(
            "H8 new money: fewer acute trusts in deficit",
            "national",
            "money.new_money_share",
            "acute_trusts_in_deficit_share_end",
            1.0,
            -1,
        ),
        Check(
            "H8 new money: more emergency admissions avoided",
            "national",
            "money.new_money_share",
            "emergency_admissions_effect",
            1.0,
            -1,
        ),
        Check(
            "H8 new money: more delayed days avoided",
            "national",
            "money.new_money_share",
            "dtoc_days_effect",
            1.0,
            -1,
        ),
        Check(
            "H8 room to divert: fewer delayed days avoided",
            "national",
            "money.divert_room",
            "dtoc_days_effect",
            0.6,
            +1,
        ),
        Check(
            "H8 room to divert (0.6 vs 0): more care-home admissions",
            "national",
            "money.divert_room",
            "care_home_admissions_2a2_effect_pct",
            0.6,
            +1,
        ),
        Check(
            "H8 room to divert: smaller realised savings",
            "national",
            "money.divert_room",
            "realised_savings_gbp",
            0.6,
            -1,
        ),
    ],
}


def verdict(lo: float, hi: float, sign: int) -> str:
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "no interval"
    if lo > 0 or hi < 0:
        return "shown" if (lo > 0) == (sign > 0) else "opposite"
    return "not shown"


def lv(v: Any) -> str:
    """A level as text: numpy scalars as Python, whole floats as integers, tuples joined."""
    if isinstance(v, tuple):
        return "(" + ", ".join(lv(x) for x in v) + ")"
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def run_check(data: analysis.Results, c: Check) -> dict[str, Any]:
    df = data.table(c.table)
    for col, val in c.where.items():
        df = df[df[col] == val]
    if c.derive:
        df = df.assign(**{c.outcome: DERIVED[c.derive](df)})
    e = analysis.effects(df, c.factor, c.outcome)
    rows = e[e.kind == c.kind]
    if c.kind == "interaction":
        f0, f1 = c.factor
        row = rows[(rows[f0] == c.level[0]) & (rows[f1] == c.level[1])].iloc[0]
        ref = row["reference"]
    else:
        row = rows[rows[c.factor] == c.level].iloc[0]
        ref = row["reference"]
    means = e[e.kind == "mean"]
    return {
        "claim": c.claim,
        "outcome": c.outcome,
        "contrast": f"{lv(c.level)} vs {lv(ref)}",
        "estimate": row.estimate,
        "lo": row.lo,
        "hi": row.hi,
        "n": int(row.n),
        "reference_mean": float(means.estimate.iloc[0]) if c.kind == "effect" and len(means) else np.nan,
        "verdict": verdict(row.lo, row.hi, c.sign),
    }


def main(runs: Path) -> None:
    rev = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False).stdout.strip()
    print(f"<!-- generated by scripts/findings.py {runs} at git {rev} -->\n")
    for name, checks in CHECKS.items():
        path = runs / name
        if not (path / "manifest.json").exists():
            print(f"### {name}\n\n(no sweep at {path})\n")
            continue
        data = analysis.load(path)
        m = data.manifest
        print(f"### {name}\n")
        print(
            f"Sweep: {m.get('runs')} runs ({m.get('points')} points x {m.get('replicates')} replicates), "
            f"{m['counts'].get('failed', 0)} failed; git {str(m.get('git_revision'))[:10]}"
            f"{' (dirty)' if m.get('git_dirty') else ''}; levels "
            f"{json.dumps(m['design'].get('levels', {}))}.\n"
        )
        print("| claim | outcome | contrast | effect | 95% interval | runs | reference mean | verdict |")
        print("|---|---|---|---|---|---|---|---|")
        for c in checks:
            try:
                r = run_check(data, c)
            except Exception as exc:  # noqa: BLE001 - say so in the table, never hide a check
                print(f"| {c.claim} | {c.outcome} | - | - | - | - | - | error: {exc} |")
                continue
            print(
                f"| {r['claim']} | `{r['outcome']}` | {r['contrast']} | {fmt(r['estimate'])} | "
                f"[{fmt(r['lo'])}, {fmt(r['hi'])}] | {r['n']} | {fmt(r['reference_mean'])} | **{r['verdict']}** |"
            )
        print()


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "runs/findings"))
