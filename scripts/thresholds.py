"""Sign-change thresholds of the delivery outcomes over the bounds of the main parameters (issue 13).

One factorial sweep per parameter: five levels spanning its bounds in `Parameters` (log-spaced for
scale parameters), everything else at england-2014, paired seeds, run through `bettercare sweep`
like any catalog experiment. Then, for each outcome, the sign of its mean at each level (0 where
the 95% t interval contains zero) and, where the mean changes sign between two levels, the
linearly interpolated crossing.

    python scripts/thresholds.py specs DIR      # write DIR/specs/<parameter>.toml
    for f in DIR/specs/*.toml; do bettercare sweep "$f" --out "DIR/runs/$(basename "$f" .toml)"; done
    python scripts/thresholds.py table DIR      # the Markdown table (docs/mechanisms.md)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import tomli_w
from scipy import stats

from bettercare import analysis
from bettercare.model.scenario import parameter_bounds

REPLICATES = 4
SEED = 2613
OUTCOMES = {
    "emergency_admissions_effect": "ADM",
    "dtoc_days_effect": "DTOC",
    "care_home_admissions_2a2_effect_pct": "2A2",
    "realised_savings_gbp": "SAV",
}
# parameter -> levels across its bounds (checked against the bounds below)
LEVELS: dict[str, list[float]] = {
    "trust.initial": [0.0, 0.25, 0.5, 0.75, 1.0],
    "negotiation.compromise": [0.01, 0.1, 1.0, 3.0, 10.0],
    "deadline.weeks": [1, 6, 16, 40, 104],
    "acute.at_table": [0.0, 0.25, 0.5, 0.75, 1.0],
    "acute.exposure_scale": [0.001, 0.01, 0.1, 0.25, 0.5],
    "incentives.acute.income_loss": [-10.0, -5.0, -2.5, -1.0, 0.0],
    "money.social_care_cut": [-0.2, -0.1, 0.0, 0.1, 0.2],
    "money.new_money_share": [0.0, 0.25, 0.5, 0.75, 1.0],
    "money.divert_room": [0.0, 0.25, 0.5, 0.75, 1.0],
}


def write_specs(root: Path) -> None:
    (root / "specs").mkdir(parents=True, exist_ok=True)
    for name, levels in LEVELS.items():
        lo, hi = parameter_bounds(name)
        assert min(levels) >= lo and max(levels) <= hi, (name, levels, lo, hi)
        assert min(levels) == lo and max(levels) == hi, f"{name}: levels must span the bounds {lo}..{hi}"
        spec = {
            "experiment": {
                "name": f"threshold-{name}",
                "description": f"Sign-change thresholds: {name} over its bounds ({lo} to {hi})",
                "scenario": "england-2014",
                "replicates": REPLICATES,
                "seed": SEED,
                "design": "factorial",
                "paired": True,
            },
            "parameters": {name: levels},
            "outputs": {"tables": ["national"], "outcomes": list(OUTCOMES)},
        }
        (root / "specs" / f"{name}.toml").write_text(tomli_w.dumps(spec))


def sign_cells(levels: np.ndarray, groups: list[np.ndarray]) -> tuple[str, str]:
    signs, means = [], []
    for values in groups:
        m = float(values.mean())
        h = float(stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values)))
        signs.append("+" if m - h > 0 else ("−" if m + h < 0 else "0"))
        means.append(m)
    crossings = [
        levels[i] + (levels[i + 1] - levels[i]) * (0.0 - means[i]) / (means[i + 1] - means[i])
        for i in range(len(means) - 1)
        if means[i] * means[i + 1] < 0
    ]
    return " ".join(signs), ", ".join(f"{c:.3g}" for c in crossings) or "none"


def table(root: Path) -> None:
    print("| parameter | levels (its bounds) | " + " | ".join(OUTCOMES.values()) + " |")
    print("|---|---|" + "---|" * len(OUTCOMES))
    for name in LEVELS:
        data = analysis.load(root / "runs" / name)
        nat = data.national
        levels = np.array(sorted(nat[name].unique()), float)
        cells = []
        for col in OUTCOMES:
            groups = [nat.loc[nat[name] == v, col].to_numpy(float) for v in levels]
            signs, crossings = sign_cells(levels, groups)
            cells.append(f"{signs} (crosses: {crossings})")
        print(f"| `{name}` | {', '.join(f'{v:g}' for v in levels)} | " + " | ".join(cells) + " |")
    print()
    print(
        f"{REPLICATES} paired seeds per level (master seed {SEED}); a sign is shown where the 95% t "
        "interval of the level's mean excludes zero, else 0; 'crosses' interpolates the means linearly."
    )


if __name__ == "__main__":
    cmd, root = sys.argv[1], Path(sys.argv[2])
    {"specs": write_specs, "table": table}[cmd](root)
