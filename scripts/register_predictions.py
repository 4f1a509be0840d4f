"""Posterior-predictive validation and the registered year-1 predictions (issue 14, parts 3 and 6).

    python scripts/register_predictions.py [--draws 20] [--replicates 5] [--seed 2015] [--workers 2]

Runs england-2014 on `draws` parameter sets from the shipped posterior, `replicates` seeds each.
Writes:
- docs/predictions-2015-16-registered-DATE.csv: the ensemble, one row per run (draw, seed, the
  draw's parameters, the year-1 outcomes). Its SHA-256 and date go into docs/validation.md. A
  registered file is never overwritten: a later registration (say from a better posterior) is a
  new dated file (DATE-2, DATE-3 on the same day), and the earlier ones stay in the repository.
- docs/predictions-registered.csv: the ledger of every registration (date, file, SHA-256, the
  posterior's SHA-256, draws, replicates, seed, `--note`), one row appended each time; the
  block in docs/validation.md lists it, so an earlier registration stays on record.
- docs/validation.md, between the posterior-predictive markers: the validation table with each
  interval's share from parameter uncertainty, and the registered predictions with their scoring rule.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
from pathlib import Path

import pandas as pd
from docblock import write_block

from bettercare.analysis.scoring import summary
from bettercare.analysis.validation import (
    evaluate,
    fact_cells,
    parameter_share,
    run_posterior_nationals,
    share_text,
)
from bettercare.model import posterior
from bettercare.model.outputs import fmt, kind_of

ROOT = Path(__file__).resolve().parents[1]
TODAY = dt.date.today().isoformat()
LEDGER = ROOT / "docs" / "predictions-registered.csv"


def new_file() -> Path:
    """The next registration's file: one per registration, never rewritten."""
    base = ROOT / "docs" / f"predictions-2015-16-registered-{TODAY}"
    path, k = base.with_suffix(".csv"), 1
    while path.exists():
        k += 1
        path = base.parent / f"{base.name}-{k}.csv"
    return path


# Observable in 2015-16 data against 2014-15, whatever the cause.
OBSERVABLE = [
    "realised_emergency_admissions_change",
    "realised_dtoc_days_change",
    "performance_money_released_gbp",
    "acute_trusts_in_deficit_share_end",
    "partners_joint_working_improved_share",
]
# The BCF's effect against the no-BCF counterfactual run (same seed, no fund): not observable directly.
EFFECTS = [
    "emergency_admissions_effect",
    "dtoc_days_effect",
    "care_home_admissions_2a2_effect_pct",
    "realised_savings_gbp",
]


def table_md(rows: list[list[str]], head: list[str]) -> str:
    return "\n".join(
        ["| " + " | ".join(head) + " |", "|" + "---|" * len(head), *("| " + " | ".join(r) + " |" for r in rows)]
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--draws", type=int, default=20)
    ap.add_argument("--replicates", type=int, default=5)
    ap.add_argument("--seed", type=int, default=2015)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--note", default="", help="what this registration is (the posterior it comes from)")
    args = ap.parse_args()
    FILE = new_file()
    draws = posterior.draw(args.draws, args.seed)
    nationals = run_posterior_nationals("england-2014", draws, args.replicates, args.seed, workers=args.workers)
    names = posterior.parameter_names()
    params = pd.DataFrame([draws[d] for d in nationals["draw"]], columns=names)
    ensemble = pd.concat(
        [
            nationals[["draw", "seed"]].reset_index(drop=True),
            params,
            nationals[OBSERVABLE + EFFECTS].reset_index(drop=True),
        ],
        axis=1,
    )
    ensemble.to_csv(FILE, index=False, float_format="%.10g")
    sha = hashlib.sha256(FILE.read_bytes()).hexdigest()
    ledger = pd.read_csv(LEDGER) if LEDGER.exists() else pd.DataFrame()
    row = {
        "registered": TODAY,
        "file": FILE.name,
        "sha256": sha,
        "posterior_sha256": posterior.digest(),
        "draws": args.draws,
        "replicates": args.replicates,
        "seed": args.seed,
        "note": args.note,
    }
    ledger = pd.concat([ledger, pd.DataFrame([row])], ignore_index=True)
    ledger.to_csv(LEDGER, index=False)
    ledger_rows = [
        [
            str(r.registered),
            f"`docs/{r.file}`",
            f"`{str(r.sha256)[:16]}…`",
            f"`{str(r.posterior_sha256)[:16]}…`",
            str(r.note),
        ]
        for r in ledger.itertuples(index=False)
    ]

    table = evaluate(nationals)
    cal = table[table.calibrated_on]
    val_rows = [
        [r.fact, *fact_cells(r), "yes" if r.met else "**no**", share_text(r.parameter_share)]
        for r in table.itertuples(index=False)
    ]

    def pred_rows(fields: list[str]) -> list[list[str]]:
        s = summary(nationals, fields).set_index("outcome")
        out = []
        for f in fields:
            k = kind_of(f)
            r = s.loc[f]
            ps = parameter_share(nationals[f].to_numpy(float), nationals["draw"].to_numpy())
            out.append(
                [
                    f"`{f}`",
                    fmt(r["median"], k),
                    f"{fmt(r.lo90, k)} to {fmt(r.hi90, k)}",
                    f"{r.p_above_zero:.0%}",
                    share_text(ps),
                ]
            )
        return out

    head = ["outcome", "median", "90% range", "P(> 0)", "from parameters"]
    block = "\n".join(
        [
            f"_Generated by `python scripts/register_predictions.py --draws {args.draws} --replicates "
            f"{args.replicates} --seed {args.seed}` on {TODAY}; do not edit by hand. "
            f"{args.draws} parameter sets drawn from the shipped posterior (particles SHA-256 "
            f"`{posterior.digest()[:16]}…`), {args.replicates} seeds each: {len(nationals)} runs._",
            "",
            "#### Posterior-predictive validation",
            "",
            'Intervals hold parameter uncertainty and seed noise together; "from parameters" is the '
            "share of the variance the parameter draws explain (law of total variance; the rest is seed noise).",
            "",
            table_md(val_rows, ["fact", "reference", "mean", "95% range", "tolerance", "met", "from parameters"]),
            "",
            f"**{int(cal.met.sum())} of {len(cal)} calibration facts met** under the posterior predictive "
            f"({int(table.met.sum())} of {len(table)} rows in all).",
            "",
            "#### Registered predictions for 2015-16",
            "",
            f"Registered on **{TODAY}**, before any 2015-16 outcome was looked up. The ensemble is "
            f"`docs/{FILE.name}` ({len(ensemble)} rows: draw, seed, the draw's parameters, "
            f"the outcomes), **SHA-256 `{sha}`**. Nobody here compares it with what happened.",
            "",
            "**Scoring rule, fixed now** (`bettercare/analysis/scoring.py`): for each outcome, against the "
            "published 2015-16 value y: (1) sign: the ensemble median has the sign of y; (2) 90% coverage: y "
            "lies in the ensemble's 5-95% range; (3) CRPS over the ensemble (properscoring), in the "
            "outcome's unit, lower is better. Each is reported per outcome; none is averaged across units.",
            "",
            "**Observable change against 2014-15** (what 2015-16 data will show, whatever the cause):",
            "",
            table_md(pred_rows(OBSERVABLE), head),
            "",
            "**Effect against the no-BCF counterfactual** (the same run without the fund; not directly "
            "observable, scored only against a published counterfactual estimate if one appears):",
            "",
            table_md(pred_rows(EFFECTS), head),
            "",
            "**Every registration** (`docs/predictions-registered.csv`; earlier files stay in `docs/`, "
            "and each is scored against what happened on its own terms):",
            "",
            table_md(ledger_rows, ["registered", "file", "SHA-256", "posterior SHA-256", "note"]),
        ]
    )
    write_block("posterior-predictive", block)
    print(block)


if __name__ == "__main__":
    main()
