"""Sobol' indices over the posterior's parameters, for every national outcome (issue 14, part 7):
the registered year-1 outcomes first, then every other field of the national table.

    python scripts/posterior_sobol.py spec DIR --samples 32     # DIR/sobol-32.toml
    python scripts/posterior_sobol.py spec DIR --samples 64     # DIR/sobol-64.toml
    bettercare sweep DIR/sobol-32.toml --out DIR/sobol-32       # (and 64): through the sweep engine
    python scripts/posterior_sobol.py table DIR/sobol-32 DIR/sobol-64

The box is each parameter's weighted 5-95% posterior range (the shipped particles), so the
indices say which of the calibrated parameters' remaining uncertainty drives each outcome. One run
per point: seed noise is in every output, which SALib's intervals then carry. Convergence is N
against 2N: the table writes both, and docs/validation.md gets it between the sobol markers.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd
import tomli_w
from docblock import write_block

from bettercare.analysis.abc_checks import weighted_quantiles
from bettercare.analysis.indices import sensitivity
from bettercare.model import posterior
from bettercare.model.outputs import NATIONAL_FIELDS

OUTCOMES = [
    "realised_emergency_admissions_change",
    "realised_dtoc_days_change",
    "performance_money_released_gbp",
    "acute_trusts_in_deficit_share_end",
    "partners_joint_working_improved_share",
    "emergency_admissions_effect",
    "dtoc_days_effect",
    "care_home_admissions_2a2_effect_pct",
    "realised_savings_gbp",
]


def write_spec(out: Path, samples: int, replicates: int = 1) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    particles = posterior.particles()
    w = particles["weight"].to_numpy(float)
    box = {}
    for name in posterior.parameter_names():
        lo, hi = weighted_quantiles(particles[name].to_numpy(float), w, (0.05, 0.95))
        if hi <= lo:
            sys.exit(f"error: {name} has no posterior spread ({lo}); cannot be a Sobol' factor")
        box[name] = {"min": lo, "max": hi}
    spec = {
        "experiment": {
            "name": f"posterior-sobol-{samples}",
            "description": "Sobol' indices over the posterior's 5-95% box (scripts/posterior_sobol.py)",
            "scenario": "england-2014",
            "replicates": replicates,
            # every point runs the same seeds (common random numbers), and the indices are of the
            # mean over them, so seed noise is averaged and shared instead of booked to a parameter
            "paired": replicates > 1,
            "seed": 2029,
            "design": "sobol",
            "samples": samples,
        },
        "parameters": box,
        "outputs": {"tables": ["national"], "outcomes": OUTCOMES},
    }
    path = out / (f"sobol-{samples}.toml" if replicates == 1 else f"sobol-{samples}x{replicates}.toml")
    path.write_text(tomli_w.dumps(spec))
    print(f"wrote {path}")
    return path


def every_outcome() -> list[str]:
    """Every national field of the output registry but `areas` (how many areas ran: a setting)."""
    return [f for f in NATIONAL_FIELDS if f != "areas"]


def top_three_rows(a: pd.DataFrame, b: pd.DataFrame, outcomes: list[str]) -> list[str]:
    """One row per outcome: its top three parameters by ST at 2N, the same parameters at N, and
    whether N ranks the same three first."""
    rows = []
    for outcome in outcomes:
        sa = a[(a.outcome == outcome) & (a["index"] == "ST")].set_index("parameter")
        sb = b[(b.outcome == outcome) & (b["index"] == "ST")].set_index("parameter")
        if sb.empty:
            rows.append(
                f"| `{outcome}` | (not analysable: {b.attrs.get('skipped', {}).get(outcome, 'no values')}) | | |"
            )
            continue
        top = sb["value"].sort_values(ascending=False).index[:3]
        cells_b = ", ".join(f"{p.split('.', 1)[1]} {sb.loc[p, 'value']:.2f} ±{sb.loc[p, 'conf']:.2f}" for p in top)
        cells_a = ", ".join(
            f"{p.split('.', 1)[1]} {sa.loc[p, 'value']:.2f} ±{sa.loc[p, 'conf']:.2f}" if p in sa.index else "-"
            for p in top
        )
        top_a = list(sa["value"].sort_values(ascending=False).index[:3]) if not sa.empty else []
        same = "yes, same order" if top_a == list(top) else ("yes, other order" if set(top_a) == set(top) else "no")
        rows.append(f"| `{outcome}` | {cells_b} | {cells_a} | {same} |")
    return rows


def agreement_line(rows: list[str]) -> str:
    """How many outcomes' top three parameters N and 2N agree on."""
    cells = [r.rsplit("|", 2)[-2].strip() for r in rows if "not analysable" not in r]
    sets = sum(c.startswith("yes") for c in cells)
    order = sum(c == "yes, same order" for c in cells)
    return (
        f"The same three parameters lead at N and 2N for {sets} of {len(cells)} analysable outcomes "
        f"({order} in the same order)."
    )


def table(small: Path, large: Path) -> str:
    rest = [o for o in every_outcome() if o not in OUTCOMES]
    a = sensitivity(small, OUTCOMES + rest)
    b = sensitivity(large, OUTCOMES + rest)

    def n_and_k(path: Path, default: str) -> tuple[str, int]:
        m = re.search(r"(\d+)(?:x(\d+))?$", path.name)  # sobol-64, or sobol-32x4 (4 paired seeds a point)
        return (m.group(1), int(m.group(2) or 1)) if m else (default, 1)

    (n_a, _), (n_b, k) = n_and_k(small, "N"), n_and_k(large, "2N")
    per_point = "one run per point" if k == 1 else f"each point the mean of the same {k} seeds"
    text = "\n".join(
        [
            f"_Generated by `python scripts/posterior_sobol.py table`; Sobol' total-order indices (ST, SALib, "
            f"95% half-width) over the posterior's 5-95% box, {per_point}; N = {n_a} and {n_b}._",
            "",
            f"| outcome | top three by ST, N = {n_b} | the same parameters, N = {n_a} | same top three |",
            "|---|---|---|---|",
            *(registered := top_three_rows(a, b, OUTCOMES)),
            "",
            agreement_line(registered),
            "",
            f"**Every other national outcome** (the same runs; planning, assurance, money and trust): "
            f"{len(rest)} fields.",
            "",
            f"| outcome | top three by ST, N = {n_b} | the same parameters, N = {n_a} | same top three |",
            "|---|---|---|---|",
            *(others := top_three_rows(a, b, rest)),
            "",
            agreement_line(others),
        ]
    )
    return text


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("spec")
    s.add_argument("dir", type=Path)
    s.add_argument("--samples", type=int, default=32)
    s.add_argument("--replicates", type=int, default=1, help="seeds per point, the same at every point (default 1)")
    t = sub.add_parser("table")
    t.add_argument("small", type=Path)
    t.add_argument("large", type=Path)
    args = ap.parse_args()
    if args.cmd == "spec":
        write_spec(args.dir, args.samples, args.replicates)
        return
    text = table(args.small, args.large)
    write_block("posterior-sobol", text)
    print(text)


if __name__ == "__main__":
    main()
