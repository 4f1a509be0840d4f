"""Parameters of the stock-flow model of the hospital-social care interface (`flow.py`).

Every field carries a tag in `json_schema_extra`:
- "sourced": its default is a dated figure in bettercare/data/inputs.toml (`input` names it);
- "calibrate": fitted to the pre-period by `python -m bettercare.model.flow_fit`, whose result
  (bettercare/data/flow-fit.toml) supplies the default; at most 8 of these;
- "explore": a nominal value with no source in hand, varied in sensitivity analysis only.

`Parameters.flow` holds this group (dotted names `flow.<field>`). The 2015-16 change of council
adult social care without the BCF is `money.social_care_cut`, passed to `FlowModel`.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib.resources import files
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

MAX_CALIBRATE = 8


@lru_cache(maxsize=1)
def inputs() -> dict[str, dict[str, Any]]:
    """The dated inputs of bettercare/data/inputs.toml, by id."""
    with (files("bettercare") / "data" / "inputs.toml").open("rb") as fh:
        return {row["id"]: row for row in tomllib.load(fh)["input"]}


def input_value(key: str) -> float:
    return float(inputs()[key]["value"])


@lru_cache(maxsize=1)
def fitted() -> dict[str, float]:
    """Calibrated values written by the pre-period fit (bettercare/data/flow-fit.toml)."""
    path = files("bettercare") / "data" / "flow-fit.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return {k: float(v) for k, v in tomllib.load(fh).get("fitted", {}).items()}


def _sourced(key: str, description: str, **bounds: float) -> Any:
    row = inputs()[key]
    return Field(
        input_value(key),
        description=description,
        **bounds,
        json_schema_extra={"tag": "sourced", "input": key, "source": row["source"], "published": str(row["published"])},
    )


def _calibrate(name: str, nominal: float, description: str, **bounds: float) -> Any:
    return Field(
        fitted().get(name, nominal),
        description=description,
        **bounds,
        json_schema_extra={"tag": "calibrate", "nominal": nominal},
    )


def _explore(nominal: float, description: str, **bounds: float) -> Any:
    return Field(nominal, description=description, **bounds, json_schema_extra={"tag": "explore"})


class FlowParams(BaseModel):
    """The flow model's parameters. Times are in days or weeks as named; rates are a year."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # --- sourced ---------------------------------------------------------------------------
    admissions_2012_13: float = _sourced(
        "emergency_admissions_2012_13",
        "Emergency admissions in England, 2012-13: the level of the admissions trend",
        ge=1e6,
        le=2e7,
    )
    population_2012: float = _sourced(
        "population_england_mid2012",
        "England's population, mid-2012: the denominator of the admissions rate",
        ge=1e7,
        le=1e8,
    )
    older_share: float = _sourced(
        "population_65_share_mid2013",
        "Share of the population aged 65+, mid-2013 (ASCOF 2A(2) denominator)",
        ge=0.05,
        le=0.4,
    )
    asc_cash_change_2014: float = _sourced(
        "asc_cash_change_2014_15",
        "Council adult social care cash, 2014-15 on 2013-14: the counterfactual capacity path",
        ge=-0.2,
        le=0.1,
    )
    asc_cash_cut_gbp_2014: float = _sourced(
        "asc_cash_cut_gbp_2014_15",
        "Council adult social care cash cut in 2014-15, GBP: over the 1.9% it gives the national budget that scales a council's gap",
        ge=0.0,
        le=5e9,
    )
    asc_demographic_pressure_gbp: float = _sourced(
        "asc_demographic_pressure_gbp_2014_15",
        "Demographic pressure on council adult social care, GBP a year (2014-15)",
        ge=0.0,
        le=5e9,
    )
    asc_demographic_funded_share: float = _sourced(
        "asc_demographic_funded_share_2014_15",
        "Share of the demographic pressure councils funded (2014-15); the rest is a saving they must make",
        ge=0.0,
        le=1.0,
    )
    protecting_share: float = _sourced(
        "asc_transfer_protecting_share_2014_15",
        "Share of money above the pre-BCF transfer that protects existing social care: already in the counterfactual path, so it buys no new capacity",
        ge=0.0,
        le=1.0,
    )
    home_care_price_gbp_hour: float = _sourced(
        "home_care_price_paid", "Price councils paid for home care, September 2014", ge=5, le=40
    )
    home_care_sustainable_gbp_hour: float = _sourced(
        "home_care_sustainable_price",
        "Minimum sustainable price of home care: what additional home care and reablement cost",
        ge=5,
        le=40,
    )
    reablement_max_weeks: float = _sourced(
        "reablement_free_weeks", "Reablement is free for up to six weeks: the upper bound of its stay", ge=1, le=12
    )
    readmission_window_days: float = _sourced(
        "readmission_window_days", "Readmissions count returns within 30 days of discharge", ge=7, le=90
    )
    ascof_2a2_2012_13: float = _sourced(
        "ascof_2a2_2012_13",
        "ASCOF 2A(2), 2012-13: care-home admissions 65+ per 100,000 aged 65+ at the start",
        ge=100,
        le=2000,
    )
    ascof_2b1_2012_13: float = _sourced(
        "ascof_2b1_2012_13", "ASCOF 2B(1) 2012-13, percent at home 91 days after reablement", ge=50, le=100
    )
    ascof_2b1_2013_14: float = _sourced(
        "ascof_2b1_2013_14", "ASCOF 2B(1) 2013-14, percent at home 91 days after reablement", ge=50, le=100
    )

    # --- calibrate (fitted to the pre-period, April 2012 - March 2015) ----------------------
    admissions_growth: float = _calibrate(
        "admissions_growth", 0.049, "Annual growth of the emergency-admissions trend", ge=0.0, le=0.08
    )
    winter_amplitude: float = _calibrate(
        "winter_amplitude", 0.05, "Winter peak of admissions over the trend (cosine amplitude)", ge=0.0, le=0.2
    )
    wait_social_care_days: float = _calibrate(
        "wait_social_care_days",
        5.0,
        "Mean wait for home care, reablement or a care home at the starting vacancy rate",
        ge=1.0,
        le=90.0,
    )
    wait_nhs_days: float = _calibrate(
        "wait_nhs_days", 3.0, "Mean wait for NHS non-acute care at the starting vacancy rate", ge=1.0, le=90.0
    )
    vacancy_elasticity: float = _calibrate(
        "vacancy_elasticity",
        0.5,
        "Elasticity of the placement rate to vacancies (1: doubling vacancies halves the wait)",
        ge=0.0,
        le=2.0,
    )
    assessment_days: float = _calibrate(
        "assessment_days", 1.0, "Mean time to complete the discharge assessment, once medically fit", ge=0.2, le=21.0
    )
    care_home_community_rate: float = _calibrate(
        "care_home_community_rate",
        300.0,
        "Care-home admissions from the community, per 100,000 aged 65+ a year, at the start",
        ge=0.0,
        le=1500.0,
    )

    # --- explore (nominal, no source in hand) -----------------------------------------------
    supported_share: float = _explore(
        0.05,
        "Share of acute discharges needing supported discharge (illustrative: Wolstenholme & McKelvie)",
        ge=0.01,
        le=0.2,
    )
    acute_stay_days: float = _explore(6.0, "Mean emergency acute stay until medically fit", ge=2.0, le=14.0)
    winter_peak_day: float = _explore(
        290.0, "Day of the financial year (from 1 April) of the winter peak: mid-January", ge=240.0, le=330.0
    )
    share_home_care: float = _explore(0.40, "Share of assessed patients who need home care", ge=0.0, le=1.0)
    share_reablement: float = _explore(
        0.25, "Share of assessed patients who go to reablement or intermediate care", ge=0.0, le=1.0
    )
    share_care_home: float = _explore(
        0.15, "Share of assessed patients who need a care home (the rest: NHS non-acute care)", ge=0.0, le=1.0
    )
    other_delay_share: float = _explore(
        0.15, "Share of assessed patients delayed by patient choice, housing or disputes (exogenous)", ge=0.0, le=0.5
    )
    other_delay_days: float = _explore(10.0, "Mean length of such exogenous delays", ge=1.0, le=60.0)
    home_care_stay_weeks: float = _explore(52.0, "Mean length of a home-care package", ge=4.0, le=260.0)
    reablement_stay_weeks: float = _explore(
        4.0, "Mean reablement or intermediate-care stay (at most the free six weeks)", ge=0.5, le=6.0
    )
    care_home_stay_weeks: float = _explore(104.0, "Mean permanent care-home stay", ge=26.0, le=520.0)
    nhs_non_acute_stay_weeks: float = _explore(
        3.0, "Mean NHS non-acute (community hospital, rehabilitation) stay", ge=0.5, le=26.0
    )
    home_care_hospital_share: float = _explore(
        0.3, "Share of new home-care packages that start from a hospital discharge", ge=0.05, le=1.0
    )
    occupancy: float = _explore(0.9, "Occupancy of every destination's capacity at the start", ge=0.5, le=0.99)
    readmission_share: float = _explore(
        0.12, "Share of patients discharged home who are readmitted within the window", ge=0.0, le=0.3
    )
    nhs_community_change: float = _explore(
        0.0,
        "Annual change of NHS non-acute capacity without the BCF, beyond the admissions trend it is commissioned to",
        ge=-0.1,
        le=0.1,
    )
    acquisition_weeks: float = _explore(
        12.0, "Mean delay from money to working capacity (recruiting, contracting)", ge=1.0, le=52.0
    )
    home_care_ceiling: float = _explore(
        0.05,
        "Most home care and reablement that extra money can add, as a share of the starting capacity (workforce)",
        ge=0.0,
        le=1.0,
    )
    other_ceiling: float = _explore(
        0.10,
        "Most care-home or NHS non-acute capacity extra money can add, as a share of the starting capacity",
        ge=0.0,
        le=1.0,
    )
    home_care_hours_week: float = _explore(10.0, "Hours a week in a home-care package", ge=1.0, le=40.0)
    reablement_hours_week: float = _explore(10.0, "Hours a week of reablement per person", ge=1.0, le=40.0)
    care_home_fee_gbp_week: float = _explore(
        550.0, "Weekly fee councils pay for an additional care-home place", ge=300.0, le=1500.0
    )
    non_acute_bed_day_gbp: float = _explore(250.0, "Cost of an NHS non-acute bed day", ge=100.0, le=600.0)
    area_rate_sd: float = _explore(
        0.1,
        "Log-sd of an area's admissions rate about the national rate (area random effect, clipped at 2 sd)",
        ge=0.0,
        le=0.3,
    )

    @model_validator(mode="after")
    def _shares_fit(self) -> FlowParams:
        total = self.share_home_care + self.share_reablement + self.share_care_home
        if total > 1:
            raise ValueError(f"share_home_care + share_reablement + share_care_home = {total:.3f}; allowed at most 1")
        if self.reablement_stay_weeks > self.reablement_max_weeks:
            raise ValueError("reablement_stay_weeks exceeds reablement_max_weeks")
        return self


def tags() -> dict[str, str]:
    """Field name -> tag."""
    return {k: f.json_schema_extra["tag"] for k, f in FlowParams.model_fields.items()}


def calibrated_names() -> list[str]:
    return [k for k, t in tags().items() if t == "calibrate"]


def bounds(name: str) -> tuple[float, float]:
    lo = hi = None
    for m in FlowParams.model_fields[name].metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return float(lo), float(hi)


def parameter_rows() -> list[dict[str, Any]]:
    """Every flow parameter with its tag, value, bounds and source: for docs and the report."""
    p = FlowParams()
    rows = []
    for k, f in FlowParams.model_fields.items():
        extra = f.json_schema_extra
        lo, hi = bounds(k)
        rows.append(
            {
                "name": k,
                "tag": extra["tag"],
                "value": getattr(p, k),
                "lo": lo,
                "hi": hi,
                "source": extra.get("source", ""),
                "published": extra.get("published", ""),
                "description": f.description,
            }
        )
    return rows
