"""Pre-period fit of the flow model: `python -m bettercare.model.flow_fit [--check]`.

Runs the flow model without the BCF from 4 April 2012 (156 weeks before 1 April 2015; the first
year is the spin-up year whose admissions level is the sourced 2012-13 figure) to March 2015 for England as one area, and fits the
`calibrate` parameters to the pre-period targets of bettercare/data/inputs.toml (role
"target"): delayed days (January 2014 level, the 2014-15 monthly path, the March 2015
social-care share), the 2014-15 growth of emergency admissions and ASCOF 2A(2) 2013-14.

The model is deterministic, so a bounded least-squares fit (scipy.optimize.least_squares, trust
region reflective) is the right tool: each evaluation is exact, and ABC machinery (pyabc) is
meant for stochastic simulators. Residuals are relative errors divided by a declared tolerance.

Writes the fitted values to bettercare/data/flow-fit.toml (FlowParams defaults read them) and the
table into docs/validation.md between the flow-fit markers. `--check` refits and fails (exit 1)
if the stored values are not reproduced.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import tomli_w
from scipy.optimize import least_squares

from .flow import CARE_HOME, SOCIAL_CARE, FlowInputs, FlowModel
from .flow_params import FlowParams, bounds, calibrated_names, input_value, inputs, parameter_rows

ROOT = Path(__file__).resolve().parents[2]
FIT_FILE = ROOT / "bettercare" / "data" / "flow-fit.toml"
VALIDATION_DOC = ROOT / "docs" / "validation.md"
BEGIN, END = "<!-- flow-fit:begin -->", "<!-- flow-fit:end -->"
PRE_END = date(2015, 4, 1)
BEDS_UP = 1.1  # Gaughan et al.'s experiment: 10% more care-home beds


@dataclass(frozen=True)
class Target:
    id: str  # the inputs.toml entry
    label: str
    tolerance: float  # relative (or absolute for shares), declared before fitting


TARGETS = (
    Target("delayed_days_jan_2013", "Delayed days, January 2014 (Jan 2013 level: 'little movement' to Jan 2014)", 0.05),
    Target("delayed_days_sep_2014", "Delayed days, September 2014", 0.03),
    Target("delayed_days_jan_2015", "Delayed days, January 2015", 0.03),
    Target("delayed_days_mar_2015", "Delayed days, March 2015", 0.03),
    Target("delayed_social_care_share_mar_2015", "Social-care share of delayed days, March 2015", 0.02),
    Target("emergency_admissions_growth_2014_15", "Emergency admissions, Apr-Dec 2014 on Apr-Dec 2013", 0.005),
    Target("ascof_2a2_2013_14", "ASCOF 2A(2) 2013-14, per 100,000 aged 65+", 0.03),
)
ABSOLUTE = {"delayed_social_care_share_mar_2015", "emergency_admissions_growth_2014_15"}


def national_model(params: FlowParams) -> FlowModel:
    """England as one area at the mid-2012 population (rates are national per-capita values)."""
    model = FlowModel(params, FlowInputs.from_population(params, np.array([params.population_2012])))
    return model


def simulate(params: FlowParams, care_home_scale: float = 1.0) -> dict[str, float]:
    """The pre-period run's values for every target, plus a few for the report."""
    model = national_model(params)
    if care_home_scale != 1.0:
        model.scale_capacity(CARE_HOME, care_home_scale)
    model.run_until(PRE_END + timedelta(days=7))  # so the last step covers the end of March
    o = model.outcomes(model.start, PRE_END)
    month = {k: float(v.sum()) for k, v in o.monthly_delayed_days.items()}
    mar = o.monthly_delayed_days["2015-03"][0]
    q13 = model.outcomes(date(2013, 4, 1), date(2014, 1, 1)).emergency_admissions[0]
    q14 = model.outcomes(date(2014, 4, 1), date(2015, 1, 1)).emergency_admissions[0]
    y12 = model.outcomes(model.start, model.start + timedelta(days=365))  # the run's first year
    y13 = model.outcomes(date(2013, 4, 1), date(2014, 4, 1))
    y14 = model.outcomes(date(2014, 4, 1), PRE_END)
    return {
        "delayed_days_jan_2013": month["2014-01"],
        "delayed_days_sep_2014": month["2014-09"],
        "delayed_days_jan_2015": month["2015-01"],
        "delayed_days_mar_2015": month["2015-03"],
        "delayed_social_care_share_mar_2015": float(mar[SOCIAL_CARE] / mar.sum()),
        "emergency_admissions_growth_2014_15": float(q14 / q13 - 1),
        "ascof_2a2_2013_14": float(y13.ascof_2a2[0]),
        "emergency_admissions_2012_13": float(y12.emergency_admissions[0]),
        "ascof_2b1_2013_14": y13.ascof_2b1,
        "social_care_delayed_days_2014_15": float(y14.delayed_days[0, SOCIAL_CARE]),
        "delayed_days_2014_15": float(y14.delayed_days[0].sum()),
    }


def residuals(values: dict[str, float]) -> np.ndarray:
    out = []
    for t in TARGETS:
        ref = input_value(t.id)
        err = values[t.id] - ref if t.id in ABSOLUTE else values[t.id] / ref - 1
        out.append(err / t.tolerance)
    return np.array(out)


def fit(start: FlowParams | None = None) -> tuple[FlowParams, object]:
    names = calibrated_names()
    base = start or FlowParams()
    lo = np.array([bounds(k)[0] for k in names])
    hi = np.array([bounds(k)[1] for k in names])
    x0 = np.clip([getattr(base, k) for k in names], lo, hi)

    def params_at(x: np.ndarray) -> FlowParams:
        return base.model_copy(update=dict(zip(names, map(float, x))))

    def fun(x: np.ndarray) -> np.ndarray:
        return residuals(simulate(params_at(x)))

    result = least_squares(fun, x0, bounds=(lo, hi), x_scale=hi - lo, diff_step=1e-3, xtol=1e-8, ftol=1e-8)
    return params_at(result.x), result


def elasticity(params: FlowParams) -> float:
    """Relative fall in 2014-15 social-care delayed days for 10% more care-home beds."""
    base = simulate(params)["social_care_delayed_days_2014_15"]
    more = simulate(params, BEDS_UP)["social_care_delayed_days_2014_15"]
    return 1.0 - more / base


def table(params: FlowParams) -> str:
    """The fit as a markdown table: matched against reference, with sources."""
    values = simulate(params)
    rows = ["| target | reference | model | tolerance | within | source (published by) |", "|---|---|---|---|---|---|"]

    def fmt(key: str, v: float) -> str:
        return f"{v:.1%}" if key in ABSOLUTE else f"{v:,.1f}" if v < 1e4 else f"{v:,.0f}"

    for t in TARGETS:
        row = inputs()[t.id]
        ref, v = float(row["value"]), values[t.id]
        err = abs(v - ref) if t.id in ABSOLUTE else abs(v / ref - 1)
        tol = f"{t.tolerance:.1%}" + (" abs" if t.id in ABSOLUTE else " rel")
        rows.append(
            f"| {t.label} | {fmt(t.id, ref)} | {fmt(t.id, v)} | {tol} | {'yes' if err <= t.tolerance else 'no'} "
            f"| {row['source']} ({row['published']}) |"
        )
    for key, label in (
        ("emergency_admissions_2012_13", "Emergency admissions 2012-13 (input: matched by construction)"),
        ("ascof_2b1_2013_14", "ASCOF 2B(1) 2013-14, % (input: the reported pre-period trend, by construction)"),
    ):
        row = inputs()[key]
        rows.append(
            f"| {label} | {fmt(key, float(row['value']))} | {fmt(key, values[key])} | - | - | {row['source']} ({row['published']}) |"
        )
    lo, hi = input_value("gaughan_beds_delays_low"), input_value("gaughan_beds_delays_high")
    e = elasticity(params)
    rows.append(
        f"| Check (not fitted): fall in 2014-15 social-care delayed days for 10% more care-home beds | "
        f"{lo:.0%} to {hi:.0%} | {e:.1%} | - | {'yes' if lo <= e <= hi else 'no'} | "
        f"{inputs()['gaughan_beds_delays_low']['source']} |"
    )
    return "\n".join(rows)


def params_table(params: FlowParams) -> str:
    rows = ["| parameter | tag | value | bounds | at a bound | source / note |", "|---|---|---|---|---|---|"]
    for r in parameter_rows():
        v = getattr(params, r["name"])
        at = "yes" if r["tag"] == "calibrate" and (np.isclose(v, r["lo"]) or np.isclose(v, r["hi"])) else ""
        note = f"{r['source']} ({r['published']})" if r["tag"] == "sourced" else r["description"]
        rows.append(f"| `{r['name']}` | {r['tag']} | {v:.4g} | [{r['lo']:g}, {r['hi']:g}] | {at} | {note} |")
    return "\n".join(rows)


def write_fit(params: FlowParams, result: object) -> None:
    lines = [
        "# Calibrated flow-model parameters, written by `python -m bettercare.model.flow_fit`.",
        "# Fitted on the pre-period (4 April 2012 - 31 March 2015, no BCF); see docs/validation.md.",
        f"# least_squares: cost {result.cost:.6g}, {result.nfev} evaluations, status {result.status}.",
        "",
    ]
    fitted = {"fitted": {k: getattr(params, k) for k in calibrated_names()}}
    FIT_FILE.write_text("\n".join(lines) + "\n" + tomli_w.dumps(fitted))


def write_doc(params: FlowParams) -> None:
    section = (
        f"{BEGIN}\n_Generated by `python -m bettercare.model.flow_fit`; do not edit by hand._\n\n"
        f"{table(params)}\n\nParameters of the flow model after the fit:\n\n{params_table(params)}\n{END}"
    )
    text = VALIDATION_DOC.read_text()
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        text += "\n" + section + "\n"
    VALIDATION_DOC.write_text(text)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bettercare.model.flow_fit", description=__doc__.split("\n")[0])
    ap.add_argument(
        "--check", action="store_true", help="refit from the nominal values and compare with the stored fit"
    )
    args = ap.parse_args(argv)
    nominal = FlowParams().model_copy(
        update={k: FlowParams.model_fields[k].json_schema_extra["nominal"] for k in calibrated_names()}
    )
    params, result = fit(nominal)
    stored = FlowParams()
    if args.check:
        names = calibrated_names()
        diff = {
            k: (getattr(params, k), getattr(stored, k))
            for k in names
            if not np.isclose(getattr(params, k), getattr(stored, k), rtol=1e-3, atol=1e-6)
        }
        for k, (new, old) in diff.items():
            print(f"error: {k} refits to {new:.6g}, stored {old:.6g}", file=sys.stderr)
        print(table(params))
        return 1 if diff else 0
    write_fit(params, result)
    write_doc(params)
    print(table(params))
    print()
    print(params_table(params))
    return 0


if __name__ == "__main__":
    sys.exit(main())
