"""The output registry: every number a run returns, declared once, the twin of `Parameters`.

Each `Output` names a column of one output table (`TABLES`) with its unit, its formatting
`Kind` and what it measures. From the registry come the national fields (`NATIONAL_FIELDS`),
the column order of every table `collect` builds (a test holds them equal), the CLI's summary
groups (`summary_groups`), validation's delivery-year-1 predictions (`predictions`), the one
number formatter (`fmt`) and docs/outputs.md (`render_docs`, from the prose template
`outputs.md.in` beside this file). Regenerate the page with `python -m bettercare.model.outputs`.

This module is in the model layer and imports nothing from bettercare: the command line
imports it at start-up, so it must stay light.
"""

from __future__ import annotations

import math
import string
import sys
from dataclasses import dataclass
from enum import StrEnum
from importlib.resources import files
from pathlib import Path
from typing import Any

TABLES = ("national", "areas", "organisations", "offers", "timeseries")

# What a table's rows are, for the headings of docs/outputs.md.
TABLE_ROWS = {
    "national": "one row per run",
    "areas": "one row per area",
    "organisations": "one row per council, CCG and acute trust",
    "offers": "one row per party per offer (every week of talks at every table)",
    "timeseries": "one row per area per delivery month",
}

# The run columns in front of every table on disk (a sweep store, which `bettercare run --out`
# writes too): its run, design point, replicate and seed.
SWEEP_ID_COLUMNS = ("run_id", "point_id", "replicate", "seed")


class Kind(StrEnum):
    """How a value is shown. Each kind has one convention, used everywhere numbers are printed."""

    COUNT = "count"
    CHANGE = "change"
    GBP = "gbp"
    FRACTION = "fraction"
    PERCENT = "percent"
    POINTS = "points"
    RATIO = "ratio"
    INDEX = "index"
    WEEKS = "weeks"
    NUMBER = "number"
    ID = "id"
    FLAG = "flag"
    TEXT = "text"


# What each kind is, and a value shown as an example in docs/outputs.md.
KIND_NOTES: dict[Kind, tuple[str, Any]] = {
    Kind.COUNT: ("A count, or a mean of counts over replicates (one decimal when not whole).", 1234.5),
    Kind.CHANGE: ("A signed change in a count (admissions, bed days).", -1234),
    Kind.GBP: ("Pounds, shown in millions.", 3_800_000_000),
    Kind.FRACTION: ("A fraction in [0, 1], shown as a percentage.", 0.0307),
    Kind.PERCENT: ("A signed change already in percent.", -1.234),
    Kind.POINTS: ("A signed change in percentage points.", 0.5),
    Kind.RATIO: ("A ratio (1 = equal).", 1.234),
    Kind.INDEX: ("An index or utility in [0, 1].", 0.5123),
    Kind.WEEKS: ("Weeks since guidance.", 12.5),
    Kind.NUMBER: ("Any other number, scaled to its size (m = millions, bn = billions).", 12_345_678),
    Kind.ID: ("An identifier or position.", 7),
    Kind.FLAG: ("True or false.", True),
    Kind.TEXT: ("Text.", "approved"),
}

MISSING = "-"  # how None and NaN ("nothing to measure") are shown


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or getattr(getattr(value, "dtype", None), "kind", "") == "b"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) or getattr(getattr(value, "dtype", None), "kind", "") in ("i", "u")


def _number(x: float) -> str:
    a = abs(x)
    if a == 0:
        return "0"
    if a >= 1e9:
        return f"{x / 1e9:,.2f}bn"
    if a >= 1e6:
        return f"{x / 1e6:,.1f}m"
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:.4g}"
    if a >= 1e-3:
        return f"{x:.3g}"
    return f"{x:.2e}"


_FORMATS = {
    Kind.COUNT: lambda x: f"{x:,.0f}" if x.is_integer() else f"{x:,.1f}",
    Kind.CHANGE: lambda x: f"{x:+,.0f}",
    Kind.GBP: lambda x: f"{'-' if x < 0 else ''}£{abs(x) / 1e6:,.1f}m",
    Kind.FRACTION: lambda x: f"{100 * x:.1f}%",
    Kind.PERCENT: lambda x: f"{x:+.2f}%",
    Kind.POINTS: lambda x: f"{x:+.2f} pp",
    Kind.RATIO: lambda x: f"{x:.2f}",
    Kind.INDEX: lambda x: f"{x:.3f}",
    Kind.WEEKS: lambda x: f"{x:.1f}",
    Kind.NUMBER: _number,
    Kind.ID: lambda x: f"{x:.0f}",
}


def fmt(value: Any, kind: str = Kind.NUMBER) -> str:
    """`value` as text by the convention of `kind` (a `Kind` or its name; ValueError if unknown).

    None and NaN are `-`, infinities `inf`/`-inf`, booleans `yes`/`no`, text is shown as it is;
    a whole integer of kind `number` keeps all its digits.
    """
    kind = Kind(kind)
    if value is None:
        return MISSING
    if isinstance(value, str) or kind is Kind.TEXT:
        return str(value)
    if _is_bool(value):
        return "yes" if value else "no"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return MISSING
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if kind is Kind.FLAG:
        return "yes" if x else "no"
    if kind is Kind.NUMBER and _is_int(value):
        return f"{int(value):,}"
    return _FORMATS[kind](x)


@dataclass(frozen=True)
class Group:
    """A group of national fields: a section of the CLI's summary and of docs/outputs.md."""

    key: str
    title: str
    note: str = ""  # prose after the group's table in docs/outputs.md


GROUPS = (
    Group("plans", "Plans and sign-off"),
    Group(
        "money",
        "Money",
        note=(
            "The pot is set by the rule in force at delivery (`pause.revised_p4p_rule` after the pause):\n"
            "`admissions_ambition` = ambition × baseline admissions × `costs.p4p_gbp_per_admission`;\n"
            "`multi_metric` = `centre.p4p_share` × the minimum. A quarter of the pot is settled each\n"
            "quarter, so a delivery period that is not a whole number of quarters leaves the rest unsettled."
        ),
    ),
    Group("savings", "Savings"),
    Group("metrics", "Metrics (over delivery, against the baseline year)"),
    Group("acute", "Acute trusts"),
    Group("trust", "Trust and integration"),
)
_GROUP_KEYS = {g.key for g in GROUPS}


@dataclass(frozen=True)
class Output:
    """One column of one output table, declared once."""

    name: str
    table: str
    unit: str
    kind: Kind
    description: str
    group: str | None = None  # national fields only: the key of their `Group`
    prediction: str | None = None  # national fields validated as a delivery-year-1 prediction: its label

    def __post_init__(self) -> None:
        if self.table not in TABLES:
            raise ValueError(f"output {self.name!r}: table {self.table!r} is not one of {list(TABLES)}")
        object.__setattr__(self, "kind", Kind(self.kind))
        if (self.table == "national") != (self.group in _GROUP_KEYS):
            raise ValueError(
                f"output {self.name!r}: a national field needs a group of {sorted(_GROUP_KEYS)}, "
                f"a table column none (got {self.group!r})"
            )
        if self.prediction is not None and self.table != "national":
            raise ValueError(f"output {self.name!r}: only national fields are predictions")


def _national(group: str, name: str, unit: str, kind: Kind, description: str, prediction: str | None = None) -> Output:
    return Output(name, "national", unit, kind, description, group, prediction)


def _column(table: str, name: str, unit: str, kind: Kind, description: str) -> Output:
    return Output(name, table, unit, kind, description)


_AREA_NATIONAL = "As the national fields, for the area."
_SPEND_LINE = "Allocation to each of the five lines; they sum to `pool_total_gbp`."
_AREA_TRUST = "Mean trust among the area's organisations (directed pairs) at the start and end."
_MATURITY = "Integration maturity at the start and end."
_MARGIN = "(Income − costs) ÷ income at the start and end; acute trusts only, NaN otherwise."
_SHARE = "Shares of the pool by line (sum to 1)."
_TOPUP = "Top-ups in the offer."

OUTPUTS: tuple[Output, ...] = (
    # --- national: one row per run, in the order `collect` builds them -------------------------
    _national("plans", "areas", "count", Kind.COUNT, "Areas (HWB tables) in the run."),
    _national(
        "plans",
        "plans_agreed",
        "count",
        Kind.COUNT,
        "Areas whose locally agreed plan was signed off (approved or approved with conditions), i.e. "
        "not imposed. Equals `plans_approved + plans_approved_with_conditions`.",
    ),
    _national(
        "plans",
        "plans_approved",
        "count",
        Kind.COUNT,
        "Signed off outright: claimed ÷ stress-tested savings at most `centre.approve_ratio`, and "
        "ambition at least the centre's target.",
    ),
    _national(
        "plans",
        "plans_approved_with_conditions",
        "count",
        Kind.COUNT,
        "Signed off with conditions: the ratio at most `centre.conditions_ratio`.",
    ),
    _national(
        "plans",
        "plans_imposed",
        "count",
        Kind.COUNT,
        "Areas not signed off by the final deadline; the centre imposed its minimum plan (no top-ups, "
        "ambition = `centre.ambition_target`).",
    ),
    _national(
        "plans",
        "weeks_to_agreement_mean",
        "weeks since guidance",
        Kind.WEEKS,
        "Mean, over areas that ever agreed, of the first week their table agreed a plan (a first-round "
        "agreement counts even though the pause reopened it). NaN if none agreed.",
    ),
    _national(
        "plans",
        "signed_off_first_6_weeks",
        "count",
        Kind.COUNT,
        "Areas signed off in the first six weeks of assurance (weeks `w2` to `w2 + 5`).",
    ),
    _national(
        "plans",
        "first_review_approved",
        "count",
        Kind.COUNT,
        "Areas whose first review in assurance approved the plan outright (the first-round stress test "
        "of the pause is not a review in assurance). 0 without review (`mechanisms.review`).",
    ),
    _national(
        "plans",
        "first_review_conditions",
        "count",
        Kind.COUNT,
        "Areas whose first review in assurance approved the plan with conditions.",
    ),
    _national(
        "plans",
        "first_review_not_approved",
        "count",
        Kind.COUNT,
        "Areas whose first review in assurance did not approve the plan: the centre sent it back.",
    ),
    _national(
        "plans",
        "plans_returned",
        "count",
        Kind.COUNT,
        "Plans the centre sent back for resubmission, all reviews counted (an area returned twice counts twice).",
    ),
    _national(
        "money",
        "pool_minimum_gbp",
        "GBP a year",
        Kind.GBP,
        "Sum of the areas' mandated minimum pools: `money.minimum_gbp` × area population ÷ 54.3m.",
    ),
    _national(
        "money",
        "pool_total_gbp",
        "GBP a year",
        Kind.GBP,
        "Pooled budget in the final plans: minimum plus top-ups. The five `spend_*` lines add up to it.",
    ),
    _national(
        "plans",
        "areas_topping_up",
        "count",
        Kind.COUNT,
        "Areas whose pool exceeds the minimum (any council or CCG top-up).",
    ),
    _national("money", "topup_council_gbp", "GBP a year", Kind.GBP, "Voluntary council additions above the minimum."),
    _national("money", "topup_ccg_gbp", "GBP a year", Kind.GBP, "Voluntary CCG additions above the minimum."),
    _national(
        "money",
        "spend_social_care_gbp",
        "GBP a year",
        Kind.GBP,
        "Planned allocation to protecting adult social care (floor: 1.1/3.8 of the minimum).",
    ),
    _national(
        "money",
        "spend_community_health_gbp",
        "GBP a year",
        Kind.GBP,
        "Community health, reablement and discharge (floor: 0.3/3.8 of the minimum).",
    ),
    _national(
        "money",
        "spend_admission_avoidance_gbp",
        "GBP a year",
        Kind.GBP,
        "Admission avoidance: primary, community and urgent care.",
    ),
    _national(
        "money",
        "spend_acute_risk_share_gbp",
        "GBP a year",
        Kind.GBP,
        "Acute risk-share or contingency; it flows to the acute trusts.",
    ),
    _national(
        "money",
        "spend_other_gbp",
        "GBP a year",
        Kind.GBP,
        "Mandated other lines: carers' breaks, Disabled Facilities Grant and social-care capital "
        "(floor: 0.484/3.8 of the minimum).",
    ),
    _national(
        "savings",
        "first_round_planned_savings_gbp",
        "GBP a year",
        Kind.GBP,
        "Claimed savings of plans agreed by the first deadline (ambition × baseline admissions × "
        "`costs.admission_gbp`), stress-tested during the pause. 0 if `pause.enabled` is false.",
    ),
    _national(
        "savings",
        "first_round_assured_savings_gbp",
        "GBP a year",
        Kind.GBP,
        "The centre's stress-tested view of those same plans: its noisy estimate of the evidence's "
        "return × scheme spend (avoidance plus half of community health), capped at the claim.",
    ),
    _national(
        "savings",
        "planned_savings_gbp",
        "GBP a year",
        Kind.GBP,
        "Claimed savings of the final plans of all areas (an imposed plan claims the centre's ambition). "
        "Emergency admissions only.",
    ),
    _national(
        "savings",
        "assured_savings_gbp",
        "GBP a year",
        Kind.GBP,
        "The centre's stress-tested savings for the signed-off plans at their last review, capped at the "
        "claim (imposed plans excluded).",
    ),
    _national(
        "savings",
        "realised_savings_gbp",
        "GBP over delivery",
        Kind.GBP,
        "Modelled realised savings, of either sign: emergency admissions avoided × `costs.admission_gbp` "
        "plus delayed days avoided × `costs.bed_day_gbp`, each against the same areas run without the BCF "
        "in the flow model (the no-BCF counterfactual). All areas, including imposed plans. Compare with the "
        "claimed `planned_savings_gbp`.",
        prediction="Savings realised (GBP)",
    ),
    _national(
        "plans",
        "ambition_mean",
        "fraction",
        Kind.FRACTION,
        "Planned cut in emergency admissions (0.0307 = 3.07%), weighted by baseline admissions, over all "
        "areas including imposed plans.",
    ),
    _national(
        "plans",
        "plan_realism_mean",
        "ratio",
        Kind.RATIO,
        "Mean over signed-off areas of claimed savings ÷ the centre's stress-tested realistic savings at "
        "their last review (1 = claim matches the centre's view; above 1 over-promises). NaN if none; "
        "infinite (JSON `null`) if the centre's estimated return was zero or negative.",
    ),
    _national(
        "metrics",
        "planned_emergency_admissions_change",
        "admissions",
        Kind.CHANGE,
        "−Σ ambition × baseline admissions × months/12 over all areas (imposed plans included). "
        "Negative = a planned cut.",
    ),
    _national(
        "metrics",
        "emergency_admissions",
        "admissions over delivery",
        Kind.COUNT,
        "Emergency admissions in the delivery months (readmissions included), from the flow model.",
    ),
    _national(
        "metrics",
        "realised_emergency_admissions_change",
        "admissions",
        Kind.CHANGE,
        "The observable change: Σ (admissions in delivery − the flow model's 2014-15 admissions × "
        "months/12). Includes the admissions trend, so it is positive when the trend outruns the schemes.",
        prediction="Emergency admissions, change over the year (count)",
    ),
    _national(
        "metrics",
        "emergency_admissions_effect",
        "admissions",
        Kind.CHANGE,
        "The BCF's effect: Σ (admissions in delivery − admissions of the same areas without the BCF). "
        "Negative = admissions avoided.",
    ),
    _national(
        "metrics",
        "planned_dtoc_days_change",
        "bed days",
        Kind.CHANGE,
        "−Σ delayed days the plans claim to save: social-care spill-over on social care above its floor "
        "plus the table's believed scheme return on community health above its floor, ÷ "
        "`costs.bed_day_gbp`, × months/12. All areas.",
    ),
    _national(
        "metrics",
        "delayed_days_nhs",
        "delayed days over delivery",
        Kind.COUNT,
        "Delayed days as the monthly situation report counts them, attributed to the NHS: patients "
        "medically fit waiting for NHS non-acute care, or delayed by patient choice, housing or disputes.",
    ),
    _national(
        "metrics",
        "delayed_days_social_care",
        "delayed days over delivery",
        Kind.COUNT,
        "Delayed days attributed to social care: waiting for home care or a care home.",
    ),
    _national(
        "metrics",
        "delayed_days_both",
        "delayed days over delivery",
        Kind.COUNT,
        "Delayed days attributed to both: in assessment, or waiting for reablement or intermediate care.",
    ),
    _national(
        "metrics",
        "realised_dtoc_days_change",
        "bed days",
        Kind.CHANGE,
        "The observable change: Σ (delayed days in delivery, all agencies − the flow model's 2014-15 "
        "delayed days × months/12).",
        prediction="Delayed-transfer days, change over the year (days)",
    ),
    _national(
        "metrics",
        "dtoc_days_effect",
        "bed days",
        Kind.CHANGE,
        "The BCF's effect on delayed days, all agencies: Σ (delivery − the same areas without the BCF). "
        "Negative = days avoided.",
    ),
    _national(
        "metrics",
        "care_home_admissions_2a2_effect_pct",
        "percent",
        Kind.PERCENT,
        "ASCOF 2A(2) (permanent admissions to care homes aged 65+ per 100,000 aged 65+) as a relative "
        "change against the no-BCF counterfactual, in percent: 100 × (admissions ÷ counterfactual "
        "admissions − 1). A relative change because the 2014-15 baseline changed definition.",
        prediction="Permanent care-home admissions 65+ (ASCOF 2A(2)), effect (%)",
    ),
    _national(
        "metrics",
        "reablement_2b1_trend_change_points",
        "percentage points",
        Kind.POINTS,
        "ASCOF 2B(1), the share at home 91 days after reablement: its PRE-PERIOD TREND (2012-13 to "
        "2013-14, +1.0 points a year: 81.5% to 82.5%), not a mechanism. The model has none, so it is the same in every run.",
        prediction="At home 91 days after reablement, change on the pre-period trend (points)",
    ),
    _national(
        "money",
        "performance_money_released_gbp",
        "GBP over delivery",
        Kind.GBP,
        "Pay-for-performance money paid to areas at the quarterly reviews, in proportion to the cut "
        "achieved against the ambition (and, under `multi_metric`, the DTOC cut).",
        prediction="Performance money released (GBP)",
    ),
    _national(
        "money",
        "performance_money_withheld_gbp",
        "GBP over delivery",
        Kind.GBP,
        "Performance money not earned; goes to the local NHS (acute trusts) if "
        '`centre.withheld_to = "nhs"`, else back to the centre. Either way it is not spent on the '
        "area's capacity and schemes for the rest of the year (`mechanisms.p4p_capacity`).",
    ),
    _national(
        "acute",
        "acute_trusts_in_deficit_share_start",
        "fraction of acute trusts",
        Kind.FRACTION,
        "Trusts whose income is below their costs at the start (margin drawn from `acute.margin_mean`/`margin_sd`).",
    ),
    _national(
        "acute",
        "acute_trusts_in_deficit_share_end",
        "fraction of acute trusts",
        Kind.FRACTION,
        "The same after delivery: activity above baseline earns 30% of tariff and below it loses full "
        "tariff, variable costs (`1 − acute.fixed_cost_share`) follow activity, the risk-share line (and "
        'withheld money under `withheld_to = "nhs"`) flows in, and 0.25 × the area minimum × '
        "(1 − `money.new_money_share`) comes out of acute income (the NHS is taken to fund half the "
        "minimum, and acute trusts to bear half of that).",
        prediction="Acute trusts in deficit at year end",
    ),
    _national(
        "acute",
        "acute_net_deficit_gbp_end",
        "GBP",
        Kind.GBP,
        "Σ over trusts of costs − income at the end (net: surpluses offset deficits; negative = net "
        "surplus). Income and costs are annual; activity changes are over delivery, so the figure is a "
        "year-1 figure for the default 12 months.",
    ),
    _national(
        "trust",
        "trust_mean_start",
        "index 0-1",
        Kind.INDEX,
        "Mean trust over all directed relationships between local organisations (the centre excluded) "
        "at set-up (= `trust.initial`).",
    ),
    _national("trust", "trust_mean_end", "index 0-1", Kind.INDEX, "The same at the end of delivery."),
    _national(
        "trust",
        "trust_in_centre_mean_end",
        "index 0-1",
        Kind.INDEX,
        "Mean trust of local organisations in the centre at the end.",
    ),
    _national(
        "trust",
        "partners_joint_working_improved_share",
        "fraction of partners",
        Kind.FRACTION,
        "Share of the partners at the tables (councils, CCGs, acute trusts that signed) answering 'joint "
        "working improved' at the end: a partner says yes when its change in trust in its partners since "
        "set-up, plus `delivery.survey_outcome_weight` × the relative fall in the area's emergency "
        "admissions against 2014-15, is positive. Replaces `areas_joint_working_improved_share` "
        "(maturity at the end above the start).",
        prediction="Partners saying joint working improved",
    ),
    _national(
        "trust",
        "integration_index_mean",
        "index 0-1",
        Kind.INDEX,
        "Mean integration maturity (joint working) at the end, areas unweighted. Starts uniform in "
        "[0.1, 0.3] and moves towards the area's trust at `delivery.maturity_rate` a month; it speeds "
        "discharge assessment (`delivery.joint_assessment_speedup`).",
    ),
    # --- areas -----------------------------------------------------------------------------------
    _column("areas", "area_code", "text", Kind.TEXT, "HWB area."),
    _column("areas", "area_name", "text", Kind.TEXT, "HWB area."),
    _column("areas", "population", "people", Kind.COUNT, "Mid-2014 approximation (see `bettercare/data/README.md`)."),
    _column(
        "areas",
        "coterminous",
        "bool",
        Kind.FLAG,
        "One council, one CCG and one acute trust, none shared with another area.",
    ),
    _column(
        "areas",
        "acute_at_table",
        "bool",
        Kind.FLAG,
        "The acute trust(s) are required signatories (drawn with probability `acute.at_table`).",
    ),
    _column("areas", "parties", "count", Kind.COUNT, "Organisations at the table."),
    _column("areas", "first_agreed_week", "week", Kind.WEEKS, "First week the table agreed a plan; NaN if never."),
    _column("areas", "signed_off_week", "week", Kind.WEEKS, "Week the centre signed the plan off; NaN if imposed."),
    _column("areas", "verdict", "text", Kind.TEXT, "`approved`, `approved_with_conditions` or `imposed`."),
    _column(
        "areas",
        "reviews",
        "count",
        Kind.COUNT,
        "Centre reviews during assurance (the first-round stress test is not counted).",
    ),
    _column("areas", "pool_minimum_gbp", "GBP a year", Kind.GBP, _AREA_NATIONAL),
    _column("areas", "pool_total_gbp", "GBP a year", Kind.GBP, _AREA_NATIONAL),
    _column("areas", "topup_council_gbp", "GBP a year", Kind.GBP, _AREA_NATIONAL),
    _column("areas", "topup_ccg_gbp", "GBP a year", Kind.GBP, _AREA_NATIONAL),
    _column("areas", "spend_social_care_gbp", "GBP a year", Kind.GBP, _SPEND_LINE),
    _column("areas", "spend_community_health_gbp", "GBP a year", Kind.GBP, _SPEND_LINE),
    _column("areas", "spend_admission_avoidance_gbp", "GBP a year", Kind.GBP, _SPEND_LINE),
    _column("areas", "spend_acute_risk_share_gbp", "GBP a year", Kind.GBP, _SPEND_LINE),
    _column("areas", "spend_other_gbp", "GBP a year", Kind.GBP, _SPEND_LINE),
    _column("areas", "ambition", "fraction", Kind.FRACTION, "Planned cut in emergency admissions."),
    _column("areas", "planned_savings_gbp", "GBP a year", Kind.GBP, "As national; 0 for imposed plans."),
    _column("areas", "assured_savings_gbp", "GBP a year", Kind.GBP, "As national; 0 for imposed plans."),
    _column("areas", "realised_savings_gbp", "GBP over delivery", Kind.GBP, "As national."),
    _column(
        "areas",
        "plan_realism",
        "ratio",
        Kind.RATIO,
        "Claimed ÷ stress-tested savings at the last review; NaN for imposed plans.",
    ),
    _column(
        "areas",
        "true_return",
        "GBP per GBP",
        Kind.RATIO,
        "The area's true avoided-admission cost per GBP of scheme spend, drawn from "
        "`delivery.return_mean`/`return_sd`.",
    ),
    _column("areas", "planned_emergency_admissions_change", "admissions", Kind.CHANGE, "As national, for the area."),
    _column("areas", "realised_emergency_admissions_change", "admissions", Kind.CHANGE, "As national, for the area."),
    _column("areas", "emergency_admissions_effect", "admissions", Kind.CHANGE, "As national, for the area."),
    _column("areas", "planned_dtoc_days_change", "bed days", Kind.CHANGE, "As national, for the area."),
    _column("areas", "realised_dtoc_days_change", "bed days", Kind.CHANGE, "As national, for the area."),
    _column("areas", "dtoc_days_effect", "bed days", Kind.CHANGE, "As national, for the area."),
    _column("areas", "care_home_admissions_2a2_effect_pct", "percent", Kind.PERCENT, "As national, for the area."),
    _column("areas", "performance_money_released_gbp", "GBP over delivery", Kind.GBP, "As national."),
    _column("areas", "performance_money_withheld_gbp", "GBP over delivery", Kind.GBP, "As national."),
    _column(
        "areas",
        "diverted_gbp",
        "GBP a year",
        Kind.GBP,
        "Social-care money above the floor that the council diverts to other services to fill its "
        "budget gap, up to `money.divert_room` of it (none without `mechanisms.council_pressure`).",
    ),
    _column(
        "areas",
        "additional_gbp",
        "GBP a year",
        Kind.GBP,
        "Plan money that buys new capacity in the flow model: social care above the pre-BCF transfer, less "
        "what is diverted, plus community health above the reablement transfer, each less the ADASS "
        "protecting share (`flow.protecting_share`).",
    ),
    _column(
        "areas",
        "acute_defensiveness",
        "index 0-1",
        Kind.INDEX,
        "How far the acute trust(s) serving the area defend their income in delivery: each trust's "
        "share of income it stands to lose to the plans of its areas (lost tariff less variable costs, "
        "plus performance money it would be paid if the cut were missed, less risk-share money), over "
        "`acute.exposure_scale`, sharpened by its deficit after the NHS share of the minimum; averaged "
        "over the area's trusts by their shares. At 1 the admission rate rises by "
        "`delivery.defensive_admissions` and patients are declared fit `delivery.defensive_discharge` slower.",
    ),
    _column("areas", "trust_start", "index 0-1", Kind.INDEX, _AREA_TRUST),
    _column("areas", "trust_end", "index 0-1", Kind.INDEX, _AREA_TRUST),
    _column("areas", "maturity_start", "index 0-1", Kind.INDEX, _MATURITY),
    _column("areas", "maturity_end", "index 0-1", Kind.INDEX, _MATURITY),
    _column(
        "areas",
        "joint_working_improved_share",
        "fraction of partners",
        Kind.FRACTION,
        "Share of the area's partners at the table answering 'joint working improved' (see national).",
    ),
    _column(
        "areas",
        "pareto_distance",
        "normalised utility",
        Kind.NUMBER,
        "Euclidean distance, in the table's normalised utilities (one axis per party at the table), from "
        "the plan the area ended with (agreed, or imposed and scored by `Table.score`) to the nearest "
        "Pareto-optimal plan of the feasible set: the candidate plans the table believed deliverable in its "
        "last week of talks (`Table.credible`) plus its final plan. 0 = Pareto-optimal. Computed by "
        "`bettercare/model/quality.py`.",
    ),
    _column(
        "areas",
        "nash_distance",
        "normalised utility",
        Kind.NUMBER,
        "Distance from the final plan to the Nash bargaining solution: the feasible plan that every party "
        "weakly prefers to its disagreement point (`reservation`, the imposed plan less `deadline.penalty`) "
        "and that maximises the product of gains over it. NaN if no feasible plan gives every party a "
        "positive gain.",
    ),
    _column(
        "areas",
        "nash_product_ratio",
        "ratio 0-1",
        Kind.RATIO,
        "The final plan's product of gains over the disagreement point (a gain below zero counts as zero) ÷ "
        "the Nash product. 1 = as good as Nash.",
    ),
    _column(
        "areas",
        "fairness",
        "ratio",
        Kind.RATIO,
        "The smallest normalised gain: min over parties of (utility − disagreement) ÷ (best individually "
        "rational utility − disagreement). 1 = every party gets its best; 0 = someone gains nothing; "
        "negative = someone is below its disagreement point.",
    ),
    # --- organisations ---------------------------------------------------------------------------
    _column("organisations", "org_code", "text", Kind.TEXT, "See codes above."),
    _column("organisations", "org_name", "text", Kind.TEXT, "See codes above."),
    _column("organisations", "kind", "text", Kind.TEXT, "`council`, `ccg` or `acute`."),
    _column("organisations", "population", "people", Kind.COUNT, "People it serves (summed over its areas)."),
    _column("organisations", "areas", "count", Kind.COUNT, "Areas (tables) it belongs to."),
    _column(
        "organisations",
        "beta",
        "exponent",
        Kind.NUMBER,
        "Its drawn concession exponent (<1 Boulware, >1 Conceder; 0 never concedes).",
    ),
    _column("organisations", "holdout", "bool", Kind.FLAG, "It is of the type set by `negotiation.holdout`."),
    _column(
        "organisations",
        "trust_out_mean",
        "index 0-1",
        Kind.INDEX,
        "Mean trust it has in its local partners at the end.",
    ),
    _column(
        "organisations",
        "trust_in_mean",
        "index 0-1",
        Kind.INDEX,
        "Mean trust its local partners have in it at the end.",
    ),
    _column("organisations", "trust_in_centre", "index 0-1", Kind.INDEX, "Its trust in the centre at the end."),
    _column("organisations", "margin_start", "fraction of income", Kind.FRACTION, _MARGIN),
    _column("organisations", "margin_end", "fraction of income", Kind.FRACTION, _MARGIN),
    _column(
        "organisations",
        "in_deficit_end",
        "bool",
        Kind.FLAG,
        "Costs above income at the end; acute trusts only, null otherwise.",
    ),
    # --- offers ----------------------------------------------------------------------------------
    _column(
        "offers", "offer_id", "id", Kind.ID, "The offer (one per table per week of talks); shared by the parties' rows."
    ),
    _column("offers", "area_code", "text", Kind.TEXT, "The table."),
    _column("offers", "org_code", "text", Kind.TEXT, "The party this row is about."),
    _column("offers", "kind", "text", Kind.TEXT, "The party this row is about."),
    _column(
        "offers",
        "utility",
        "0-1",
        Kind.INDEX,
        "That party's utility of the offer, normalised over the candidate plans and the imposed fallback.",
    ),
    _column(
        "offers",
        "reservation",
        "0-1",
        Kind.INDEX,
        "Its walk-away value: the imposed plan's utility less `deadline.penalty`.",
    ),
    _column("offers", "target", "0-1", Kind.INDEX, "Its target that week (the concession curve)."),
    _column("offers", "response", "text", Kind.TEXT, "`proposed` (this party made the offer), `accept` or `reject`."),
    _column(
        "offers",
        "phase",
        "text",
        Kind.TEXT,
        "`planning` (before the first deadline), `revised` (after the pause) or `assurance` (resubmission).",
    ),
    _column("offers", "week", "week", Kind.WEEKS, "Week since guidance."),
    _column(
        "offers", "round", "count", Kind.COUNT, "Offers made at this table so far, this one included (never reset)."
    ),
    _column("offers", "proposer", "text", Kind.TEXT, "`org_code` of the proposer."),
    _column("offers", "candidate", "id", Kind.ID, "Index of the plan in the table's candidate list."),
    _column("offers", "council_topup", "fraction of the area minimum", Kind.FRACTION, _TOPUP),
    _column("offers", "ccg_topup", "fraction of the area minimum", Kind.FRACTION, _TOPUP),
    _column("offers", "social_care", "fraction of the pool", Kind.FRACTION, _SHARE),
    _column("offers", "community_health", "fraction of the pool", Kind.FRACTION, _SHARE),
    _column("offers", "admission_avoidance", "fraction of the pool", Kind.FRACTION, _SHARE),
    _column("offers", "acute_risk_share", "fraction of the pool", Kind.FRACTION, _SHARE),
    _column("offers", "other", "fraction of the pool", Kind.FRACTION, _SHARE),
    _column("offers", "ambition", "fraction", Kind.FRACTION, "Claimed cut in emergency admissions."),
    # --- timeseries ------------------------------------------------------------------------------
    _column("timeseries", "area_code", "text", Kind.TEXT, "Area."),
    _column(
        "timeseries",
        "month",
        "index",
        Kind.ID,
        "Delivery month, 0-based (0 = April 2015, the first month after the final deadline).",
    ),
    _column(
        "timeseries",
        "admissions",
        "admissions in the month",
        Kind.COUNT,
        "Emergency admissions in the calendar month (flow model).",
    ),
    _column(
        "timeseries",
        "counterfactual_admissions",
        "admissions in the month",
        Kind.COUNT,
        "The same area's emergency admissions without the BCF.",
    ),
    _column(
        "timeseries",
        "dtoc_days",
        "bed days in the month",
        Kind.COUNT,
        "Delayed days in the month, all agencies (situation-report definition).",
    ),
    _column("timeseries", "dtoc_days_nhs", "bed days in the month", Kind.COUNT, "Delayed days attributed to the NHS."),
    _column(
        "timeseries",
        "dtoc_days_social_care",
        "bed days in the month",
        Kind.COUNT,
        "Delayed days attributed to social care.",
    ),
    _column("timeseries", "dtoc_days_both", "bed days in the month", Kind.COUNT, "Delayed days attributed to both."),
    _column(
        "timeseries",
        "counterfactual_dtoc_days",
        "bed days in the month",
        Kind.COUNT,
        "The same area's delayed days without the BCF.",
    ),
    _column(
        "timeseries",
        "care_home_admissions_65",
        "admissions in the month",
        Kind.COUNT,
        "Permanent care-home admissions, 65+.",
    ),
    _column("timeseries", "maturity", "index 0-1", Kind.INDEX, "Integration maturity at the end of the month."),
    _column(
        "timeseries",
        "trust_mean",
        "index 0-1",
        Kind.INDEX,
        "Mean trust among the area's organisations at the end of the month.",
    ),
)


def outputs(table: str) -> tuple[Output, ...]:
    """The outputs of one table, in column order."""
    if table not in TABLES:
        raise ValueError(f"unknown output table {table!r}; choose from {list(TABLES)}")
    return tuple(o for o in OUTPUTS if o.table == table)


def columns(table: str) -> tuple[str, ...]:
    """The column names of one table, in order (the national fields for "national")."""
    return tuple(o.name for o in outputs(table))


def output(table: str, name: str) -> Output:
    """The output `name` of `table`; KeyError if it is not declared."""
    for o in outputs(table):
        if o.name == name:
            return o
    raise KeyError(f"{table}.{name} is not a declared output (bettercare/model/outputs.py)")


NATIONAL_FIELDS = columns("national")


def kind_of(name: str) -> Kind:
    """The kind a column of this name is declared with (the same in every table), else `number`."""
    for o in OUTPUTS:
        if o.name == name:
            return o.kind
    return Kind.NUMBER


def summary_groups() -> list[tuple[Group, tuple[Output, ...]]]:
    """The national fields by group, groups in `GROUPS` order, fields in registry order."""
    national = outputs("national")
    return [(g, tuple(o for o in national if o.group == g.key)) for g in GROUPS]


def predictions() -> tuple[Output, ...]:
    """The national fields validation shows as delivery-year-1 predictions (never calibrated on)."""
    return tuple(o for o in outputs("national") if o.prediction is not None)


# --- docs/outputs.md ----------------------------------------------------------------------------

TEMPLATE = "outputs.md.in"
DOCS_PAGE = Path("docs") / "outputs.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_table(items: tuple[Output, ...], first: str) -> str:
    """A Markdown table; consecutive outputs with the same unit, kind and meaning share a row."""
    rows: list[tuple[list[str], Output]] = []
    for o in items:
        if rows and (rows[-1][1].unit, rows[-1][1].kind, rows[-1][1].description) == (o.unit, o.kind, o.description):
            rows[-1][0].append(o.name)
        else:
            rows.append(([o.name], o))
    lines = [f"| {first} | unit | shown as | meaning |", "|---|---|---|---|"]
    for names, o in rows:
        lines.append(
            f"| {', '.join(f'`{n}`' for n in names)} | {_cell(o.unit)} | `{o.kind}` | {_cell(o.description)} |"
        )
    return "\n".join(lines)


def _kinds_table() -> str:
    lines = ["| kind | what it is | example |", "|---|---|---|"]
    for kind, (note, example) in KIND_NOTES.items():
        lines.append(f"| `{kind}` | {note} | `{fmt(example, kind)}` |")
    return "\n".join(lines)


def _national_sections() -> str:
    parts = []
    for group, items in summary_groups():
        parts.append(f"### {group.title}\n\n{_markdown_table(items, 'field')}")
        if group.note:
            parts.append(group.note)
    return "\n\n".join(parts)


def _table_section(table: str) -> str:
    return f"### `{table}`: {TABLE_ROWS[table]}\n\n{_markdown_table(outputs(table), 'column')}"


def render_docs() -> str:
    """docs/outputs.md: the prose template filled with the registry's tables."""
    template = string.Template((files("bettercare.model") / TEMPLATE).read_text(encoding="utf-8"))
    return template.substitute(
        kinds=_kinds_table(),
        national=_national_sections(),
        sweep_id_columns=", ".join(f"`{c}`" for c in SWEEP_ID_COLUMNS),
        **{table: _table_section(table) for table in TABLES if table != "national"},
    )


def main(argv: list[str]) -> int:
    """`python -m bettercare.model.outputs [PATH]`: write the page (default docs/outputs.md)."""
    path = Path(argv[0]) if argv else DOCS_PAGE
    path.write_text(render_docs(), encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
