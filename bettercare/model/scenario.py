"""Validated parameters, named presets and scenario loading.

Every behaviour switch (H1-H8 in docs/ODD.md) is a field here, with a default, bounds and a
one-line description, so that `bettercare params`, sweep specs and the workshop sliders all
read one source of truth. Dotted names (`trust.initial`) address fields.
"""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .areas import england_names
from .errors import ScenarioError
from .flow_params import FlowParams


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class TrustParams(_Group):
    initial: float = Field(0.5, ge=0, le=1, description="Initial trust between partners at a table (H1)")
    centre_initial: float = Field(0.5, ge=0, le=1, description="Initial trust of local organisations in the centre")
    gain_good: float = Field(0.08, ge=0, le=1, description="Learning rate for a good experience (Jonker & Treur)")
    gain_bad: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Learning rate for a bad experience; above gain_good, trust breaks faster than it builds",
    )
    info_sharing: float = Field(
        0.8,
        ge=0,
        le=1,
        description="How much trust makes partners share what they know about scheme returns, which cuts planning optimism (H1)",
    )
    colocation: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of teams co-located in one office; adds weekly contact that builds trust (H6)",
    )
    contact_weight: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Weight of one week's contact between fully co-located teams as a good experience; "
        "small, because one week of shared office life is a small part of a relationship (H6)",
    )
    turnover: float = Field(
        0.15,
        ge=0,
        le=1,
        description="Annual turnover of the leaders who hold relationships; a newcomer's local relationships "
        "start from the prior, never above where they stood (H6)",
    )
    agreement_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of an agreement as an experience: each party's trust in its partners moves toward "
        "how much of its opening target the agreed plan gave it (H3: trust spent to meet the date)",
    )
    review_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of a quarterly review as an experience of each partner's commitments kept; "
        "a quarter of delivery weighs as much as an agreement",
    )
    standstill_weight: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Weight of the bad experience when a party conceded and its partner stood still, against a "
        "retraction's full weight: standing still breaks less trust than going back (explore: no source in hand)",
    )


class NegotiationParams(_Group):
    compromise: float = Field(
        1.0,
        ge=0.01,
        le=10,
        description="Concession exponent beta for all partners: <1 Boulware (holds out), >1 Conceder (H2)",
    )
    holdout: Literal["none", "council", "ccg", "acute"] = Field(
        "none", description="Which partner type refuses to compromise (H2)"
    )
    holdout_compromise: float = Field(
        0.0, ge=0, le=10, description="Beta of the holdout partner; 0 never concedes (H2)"
    )
    initial_concession: float = Field(
        0.0, ge=0, le=1, description="Faratin's k: the concession made at the first round"
    )
    reciprocity: float = Field(
        0.5, ge=0, le=2, description="Tit-for-tat: share of a trusted partner's concession returned (H1)"
    )
    perspective_noise: float = Field(
        0.4,
        ge=0,
        le=2,
        description="Error in estimating a partner's utility at zero trust; shrinks linearly with trust (H1)",
    )
    trust_bonus: float = Field(
        0.1, ge=0, le=0.5, description="Acceptance threshold is lowered by this times trust in the proposer"
    )
    candidates: int = Field(384, ge=16, le=4096, description="Candidate plans scored at each table")
    notice_threshold: float = Field(
        0.05,
        ge=0.001,
        le=0.5,
        description="Change in a party's normalised utility between a partner's offers that it notices as a "
        "concession or a retraction; smaller moves are noise (explore: no source in hand)",
    )
    individual_variation: float = Field(
        0.2, ge=0, le=1, description="Log-normal spread of each organisation's incentive weights"
    )


class DeadlineParams(_Group):
    weeks: int = Field(16, ge=1, le=104, description="Weeks from guidance to the first plan deadline (H3)")
    pressure: float = Field(
        1.0, ge=0, le=3, description="How strongly a short deadline raises beta and planning optimism (H3)"
    )
    penalty: float = Field(
        0.1, ge=0, le=1, description="Utility a partner loses if the centre imposes a plan (deadline penalty)"
    )
    final_weeks: int = Field(
        27, ge=1, le=104, description="Weeks from submission to escalation, after which the centre imposes plans"
    )
    reference_weeks: int = Field(16, ge=1, le=104, description="Window at which deadline pressure is neutral")


class PauseParams(_Group):
    enabled: bool = Field(
        True, description="The centre pauses planning and revises the rules mid-course (2014 history)"
    )
    weeks: int = Field(14, ge=0, le=52, description="Length of the pause before revised guidance")
    revised_weeks: int = Field(10, ge=1, le=52, description="Weeks from revised guidance to the revised plan deadline")
    revised_p4p_rule: Literal["multi_metric", "admissions_ambition", "none"] = Field(
        "admissions_ambition", description="Pay-for-performance rule after the pause"
    )


class AcuteParams(_Group):
    at_table: float = Field(
        0.25, ge=0, le=1, description="Share of areas whose acute trusts sit at the table as required signatories (H4)"
    )
    deficit_sensitivity: float = Field(
        2.0, ge=0, le=10, description="How much a trust's deficit sharpens its defence of activity income (H4)"
    )
    fixed_cost_share: float = Field(
        0.7, ge=0, le=1, description="Share of an admission's cost that is fixed in the short run (marginal tariff 30%)"
    )
    margin_mean: float = Field(
        -0.005, ge=-0.2, le=0.2, description="Mean initial surplus of acute trusts as a share of income"
    )
    margin_sd: float = Field(0.02, ge=0, le=0.2, description="Spread of initial surplus across trusts")
    population_per_trust: int = Field(
        450_000, ge=50_000, le=2_000_000, description="Catchment used to size synthetic acute trusts"
    )
    emergency_income_share: float = Field(
        0.4,
        ge=0.1,
        le=0.9,
        description="Share of an acute trust's income from emergency admissions: sizes its income, and so its "
        "margin in GBP, from its emergency activity (explore: about 40%, no pre-2015 source in hand)",
    )
    drain_share: float = Field(
        0.25,
        ge=0,
        le=1,
        description="Share of the minimum (times 1 - money.new_money_share) that comes out of acute trusts' income: "
        "the half of the minimum that is existing NHS money (FACTS.md: GBP 1.9bn of the GBP 3.8bn), of which acute "
        "trusts bear half (explore: no source splits it between acute and other NHS budgets)",
    )
    exposure_scale: float = Field(
        0.1,
        ge=0.001,
        le=0.5,
        description="Share of its income a trust stands to lose to the plans (net of risk-share money) at which a trust not in deficit is fully defensive; its deficit sharpens it (H4, explore)",
    )


class CentreParams(_Group):
    style: Literal["command", "enabling"] = Field(
        "command", description="Command and control, or enabling support (H5)"
    )
    p4p_rule: Literal["multi_metric", "admissions_ambition", "none"] = Field(
        "multi_metric", description="Pay-for-performance rule at the start (H5)"
    )
    p4p_share: float = Field(
        0.263,
        ge=0,
        le=0.5,
        description="Share of the minimum pool paid on performance under multi_metric (GBP 1bn of 3.8bn)",
    )
    withheld_to: Literal["nhs", "centre"] = Field(
        "nhs", description="Where unearned performance money goes: local NHS (2014 rule) or back to the centre (H5)"
    )
    ambition_target: float = Field(
        0.0307, ge=0, le=0.2, description="Average emergency-admissions cut the revised rules ask for"
    )
    capacity: int = Field(
        30, ge=1, le=2000, description="Plans the centre can assure per week (no central programme team)"
    )
    stress_test_noise: float = Field(
        0.3, ge=0, le=3, description="Log-sd of the centre's estimate of a plan's realistic impact"
    )
    approve_ratio: float = Field(
        3.0, ge=1, le=50, description="Claimed over stress-tested savings at or below which a plan is approved outright"
    )
    conditions_ratio: float = Field(
        10.0, ge=1, le=100, description="Ratio at or below which a plan is approved with conditions; above it, resubmit"
    )
    experience_approved: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Trust experience of a plan approved outright, before any support: signed off, but judged from above (H5)",
    )
    experience_conditions: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Trust experience of a plan approved with conditions, before any support: the centre's terms on a local plan (H5). A return or an imposition is the worst experience, 0",
    )
    enabling_support: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of a verdict's shortfall from a good experience (1) that an enabling centre's support makes up, for every verdict: it brings help with its approvals, conditions, returns and impositions; command and control brings only the verdict (H5)",
    )
    resubmit_margin: float = Field(
        0.9,
        ge=0.1,
        le=1,
        description="A returned plan's believed return is capped at this share of what the centre would accept with conditions at its estimate: the partners aim a little inside the line",
    )
    support_optimism_cut: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of a returned table's planning optimism an enabling centre's support removes: it works through the schemes' evidence with the partners (H5)",
    )
    resubmit_weeks: int = Field(
        4, ge=1, le=26, description="Weeks the centre allows to resubmit a returned plan (a few weeks in autumn 2014)"
    )
    foot_dragging_trust: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Trust in the centre below which partners drag their feet over a command centre's demand to resubmit (H5)",
    )
    foot_dragging: float = Field(
        2.0,
        ge=0,
        le=10,
        description="Extra resubmission time, as a multiple of resubmit_weeks, per unit of trust in the centre below foot_dragging_trust: a demand from a distrusted centre is met slowly (H5)",
    )


class PlanningParams(_Group):
    optimism: float = Field(
        3.0,
        ge=0,
        le=30,
        description="Bias in partners' belief of scheme returns at zero trust and neutral pressure (H3)",
    )
    ambition_max: float = Field(
        0.10, ge=0.01, le=0.5, description="Largest emergency-admissions cut a candidate plan may claim"
    )
    fixed_mix_risk_share: float = Field(
        1 / 3,
        ge=0,
        le=1,
        description="Share of the plans' 'other NHS' money (about GBP 800m: mental health, primary, acute) that the "
        "fixed-plan null model (mechanisms.negotiation off) puts on the acute risk-share line, the rest on admission "
        "avoidance. No source splits it: one third, as acute is one of the three categories named (explore)",
    )
    spillover_claimed_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the social-care spill-over (DH: 34p of NHS spend saved per GBP) the partners claim as "
        "avoided emergency admissions, and again as avoided delayed days, in their plans (explore: the DH figure "
        "is not split by what it saves)",
    )
    community_dtoc_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="Share of the savings from community spend above its floor the partners claim as avoided "
        "delayed days in their planned DTOC cut (explore: no source in hand)",
    )


class MoneyParams(_Group):
    minimum_gbp: float = Field(
        3.8e9, gt=0, le=1e11, description="National minimum pooled fund, GBP, split by population"
    )
    new_money_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the NHS minimum that is new money rather than taken from NHS budgets (H8)",
    )
    divert_room: float = Field(
        0.3, ge=0, le=1, description="Councils' room to divert unringfenced social-care money to other services (H8)"
    )
    max_topup: float = Field(
        0.6, ge=0, le=2, description="Largest top-up a partner may add, as a share of the area minimum"
    )
    nhs_existing_cut: float = Field(
        0.03,
        ge=0,
        le=0.2,
        description="Relative cut in NHS-funded community and intermediate care (reablement, NHS non-acute) when the whole NHS share of the minimum comes from existing budgets; scaled by 1 - new_money_share (H8; explore: about GBP 1.9bn pro rata over roughly GBP 64bn of CCG allocations for 2014-15, a total not in the sourced inputs)",
    )
    social_care_cut: float = Field(
        0.02,
        ge=-0.2,
        le=0.2,
        description="Real-terms annual cut in council adult social care outside the pool: council-funded capacity falls by it each year from 2015-16 without the BCF",
    )


class AreasParams(_Group):
    source: Literal["england", "synthetic"] = Field(
        "england", description="Real 150 HWB areas or synthetic ones drawn to match England"
    )
    synthetic_n: int = Field(150, ge=1, le=20_000, description="Number of synthetic areas (scale tests)")
    names: list[str] = Field(default_factory=list, description="Run only these areas, by name (empty: all)")
    coterminous_only: bool = Field(
        False, description="Run only areas with one council, one CCG and one acute trust (H7)"
    )
    min_ccg_share: float = Field(
        0.05, ge=0, le=1, description="Smallest population share for a CCG to sit at an area's table"
    )

    @field_validator("names")
    @classmethod
    def _known_areas(cls, names: list[str]) -> list[str]:
        unknown = sorted(set(names) - england_names())
        if unknown:
            raise ValueError(f"no such area {unknown} (see `bettercare areas`)")
        return names


class DeliveryParams(_Group):
    """The delivery year: the flow model (`flow.*`) driven by the plans through three hooks."""

    months: int = Field(12, ge=1, le=60, description="Months of delivery simulated, from April 2015")
    return_mean: float = Field(
        0.05, ge=-1, le=2, description="Mean avoided-admission cost per GBP of scheme spend (evidence: mostly null)"
    )
    return_sd: float = Field(
        0.2, ge=0, le=2, description="Spread of the true scheme return across areas (evidence: wide)"
    )
    social_care_spillover: float = Field(
        0.34,
        ge=0,
        le=2,
        description="NHS spend saved per GBP of adult social care (DH estimate): what partners claimed in their plans; delivery does not credit it",
    )
    maturity_initial_low: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Lowest joint-working maturity an area starts delivery planning with (areas draw uniformly "
        "between this and maturity_initial_high; explore: no national measure before 2015)",
    )
    maturity_initial_high: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Highest starting joint-working maturity (see maturity_initial_low; explore)",
    )

    @model_validator(mode="after")
    def _maturity_range(self) -> DeliveryParams:
        if self.maturity_initial_low > self.maturity_initial_high:
            raise ValueError(
                f"maturity_initial_low ({self.maturity_initial_low}) must not exceed "
                f"maturity_initial_high ({self.maturity_initial_high})"
            )
        return self

    maturity_rate: float = Field(
        0.03, ge=0, le=1, description="Monthly rate at which joint working (maturity) moves towards the partners' trust"
    )
    joint_assessment_speedup: float = Field(
        0.3,
        ge=0,
        le=0.9,
        description="Cut in the discharge assessment time at full joint working (maturity 1): discharge to assess, trusted assessors, seven-day social work (explore: no source in hand)",
    )
    defensive_admissions: float = Field(
        0.01, ge=0, le=0.1, description="Rise in the emergency admission rate at full acute defensiveness (explore)"
    )
    defensive_discharge: float = Field(
        0.05,
        ge=0,
        le=0.5,
        description="Slowdown in declaring patients medically fit at full acute defensiveness (explore)",
    )
    survey_outcome_weight: float = Field(
        1.0,
        ge=0,
        le=10,
        description="Weight of the measured admissions change (relative to 2014-15) in a partner's answer to 'has joint working improved?', against its change in trust (explore)",
    )


class CostParams(_Group):
    admission_gbp: float = Field(2360.0, ge=0, le=1e5, description="Average cost of an emergency admission (NAO 2018)")
    bed_day_gbp: float = Field(300.0, ge=0, le=5000, description="Cost of a hospital bed day")
    p4p_gbp_per_admission: float = Field(
        1490.0, ge=0, le=1e5, description="Performance money per avoided admission under the ambition rule"
    )
    admissions_per_person: float = Field(
        0.1038,
        ge=0,
        le=1,
        description="Emergency admissions per person a year the partners planned on (5.64m / 54.3m); delivery counts admissions in the flow model",
    )


class CouncilWeights(_Group):
    """A council's utility weights over plan features (bettercare/vocabulary/plan.py, `Feature`)."""

    social_care: float = Field(
        1.0, ge=0, le=10, description="Value a council puts on protecting adult social care (square root of spend)"
    )
    community: float = Field(
        0.2,
        ge=0,
        le=10,
        description="Value a council puts on community health, reablement and discharge (square root of spend)",
    )
    avoidance: float = Field(
        0.1, ge=0, le=10, description="Value a council puts on admission-avoidance schemes (square root of spend)"
    )
    council_topup: float = Field(
        -0.8, ge=-10, le=0, description="Council's utility per unit of its own top-up (share of the minimum): a cost"
    )
    p4p_at_risk: float = Field(
        -1.0,
        ge=-10,
        le=0,
        description="Council's utility per unit of performance money the area may lose (share of the minimum)",
    )
    freedom: float = Field(
        1.0, ge=0, le=10, description="Value a council puts on unringfenced social-care money it may divert (H8)"
    )
    ambition: float = Field(0.03, ge=0, le=10, description="Value a council puts on each 3% of claimed admissions cut")
    target_gap: float = Field(
        -1.0, ge=-10, le=0, description="Council's utility per 3% of ambition short of the centre's target"
    )
    council_pools_more: float = Field(
        -0.1,
        ge=-5,
        le=0,
        description="Council's utility of topping up at all: a section 75 agreement to negotiate and govern (times an exponential draw per organisation)",
    )
    gap_filling: float = Field(
        1.0,
        ge=0,
        le=10,
        description="Council's extra utility per unit of social-care money (share of the minimum) that fills its budget gap, and extra cost per unit of its own top-up while the NHS money leaves the gap unfilled: the shadow price of money under pressure (explore; scaled by the council's own draw of its social_care weight)",
    )


class CCGWeights(_Group):
    """A CCG's utility weights over plan features."""

    social_care: float = Field(
        0.1, ge=0, le=10, description="Value a CCG puts on protecting adult social care (square root of spend)"
    )
    community: float = Field(
        0.6,
        ge=0,
        le=10,
        description="Value a CCG puts on community health, reablement and discharge (square root of spend)",
    )
    avoidance: float = Field(
        0.8, ge=0, le=10, description="Value a CCG puts on admission-avoidance schemes (square root of spend)"
    )
    ccg_topup: float = Field(
        -0.8, ge=-10, le=0, description="CCG's utility per unit of its own top-up (share of the minimum): a cost"
    )
    nhs_outflow: float = Field(
        -0.6,
        ge=-10,
        le=0,
        description="CCG's utility per unit of NHS money moved to social care above the floor (share of the minimum)",
    )
    ambition: float = Field(0.3, ge=0, le=10, description="Value a CCG puts on each 3% of claimed admissions cut")
    p4p_at_risk: float = Field(
        -0.5,
        ge=-10,
        le=0,
        description="CCG's utility per unit of performance money the area may lose (share of the minimum)",
    )
    target_gap: float = Field(
        -1.0, ge=-10, le=0, description="CCG's utility per 3% of ambition short of the centre's target"
    )
    ccg_pools_more: float = Field(
        -0.1,
        ge=-5,
        le=0,
        description="CCG's utility of topping up at all: a section 75 agreement to negotiate and govern (times an exponential draw per organisation)",
    )
    existing_services: float = Field(
        -0.6,
        ge=-10,
        le=0,
        description="CCG's extra utility per unit of NHS money moved to social care above the floor, times the share of the NHS minimum that is not new money: a pound moved is a pound its existing services lose (H8; explore, scaled by the CCG's own draw of its nhs_outflow weight)",
    )


class AcuteWeights(_Group):
    """An acute trust's utility weights over plan features."""

    income_loss: float = Field(
        -1.0,
        ge=-10,
        le=0,
        description="Acute trust's utility per unit of activity income lost against fixed costs, before its deficit sharpens it (H4)",
    )
    risk_share: float = Field(
        1.5, ge=0, le=10, description="Value an acute trust puts on the acute risk-share line (share of the minimum)"
    )
    community: float = Field(
        0.3,
        ge=0,
        le=10,
        description="Value an acute trust puts on community health, reablement and discharge (square root of spend)",
    )
    target_gap: float = Field(
        -1.0, ge=-10, le=0, description="Acute trust's utility per 3% of ambition short of the centre's target"
    )


class IncentiveParams(_Group):
    """Each kind's utility weights: u(plan) = features(plan) @ weights, before individual draws.

    A feature a kind has no field for carries no weight for that kind.
    """

    council: CouncilWeights = Field(default_factory=CouncilWeights)
    ccg: CCGWeights = Field(default_factory=CCGWeights)
    acute: AcuteWeights = Field(default_factory=AcuteWeights)


class MechanismParams(_Group):
    """Switches for the ablation experiment (`mechanisms` in the catalog; docs/mechanisms.md).

    Each switch turns one causal mechanism on or off; it never writes an effect in. All are on
    in every preset.
    """

    agreement_experience: bool = Field(
        True,
        description="An agreement is an experience of trust: each party's trust in its partners moves toward how "
        "well the agreed plan served it against its opening target (H3). False: agreement leaves trust alone",
    )
    review_experience: bool = Field(
        True,
        description="The quarterly review's experiences: partners' trust in each organisation moves with that "
        "organisation's commitments kept, money withheld to the centre lowers trust in the centre, and left-out "
        "defensive trusts sour on the planners. False: delivery moves no trust",
    )
    info_sharing: bool = Field(
        True,
        description="Trusting partners share what they know, which cuts the table's optimism about scheme "
        "returns (trust.info_sharing, H1). False: optimism is the same at any trust",
    )
    acute_exposure: bool = Field(
        True,
        description="Acute trusts' admission and discharge practice turns defensive with what they stand to lose to the plans (income, margin, risk-share and performance money); off: defensiveness 0, trusts play straight (H4, H8)",
    )
    p4p_capacity: bool = Field(
        True,
        description="Performance money withheld in a quarter is not spent on the area's capacity and schemes for the rest of the year; off: withheld money leaves capacity unchanged (H5)",
    )
    council_pressure: bool = Field(
        True,
        description="Councils face a budget gap (ADASS 2014: the cut and the unfunded demographic pressure): it makes social-care money that fills the gap worth more and the council's own top-up dearer, makes the council save by buying fewer placements, and is what it diverts unringfenced money to fill. False: no gap, so none of these",
    )
    nhs_funding_drain: bool = Field(
        True,
        description="The NHS share of the minimum that is not new money is taken from existing NHS services: NHS-funded community and intermediate care shrinks on the BCF path, and the CCG counts money moved to social care as taken from its own services (H8). False: neither",
    )
    negotiation: bool = Field(
        True,
        description="Local negotiation, assurance and trust dynamics. False is the fixed-plan null model: every area "
        "gets the same plan (the 2014 plans' published spend by line and top-ups, the 3.07% ambition), signed off at "
        "once with no talks and no assurance, and trust stays at its initial value; delivery runs as usual",
    )
    review: bool = Field(
        True,
        description="The centre stress-tests plans (the first round and assurance) and returns those it does not approve; off, it approves every submitted plan unseen: no stress test, no returns, no verdict experiences",
    )


class Parameters(_Group):
    trust: TrustParams = Field(default_factory=TrustParams)
    negotiation: NegotiationParams = Field(default_factory=NegotiationParams)
    incentives: IncentiveParams = Field(default_factory=IncentiveParams)
    deadline: DeadlineParams = Field(default_factory=DeadlineParams)
    pause: PauseParams = Field(default_factory=PauseParams)
    acute: AcuteParams = Field(default_factory=AcuteParams)
    centre: CentreParams = Field(default_factory=CentreParams)
    planning: PlanningParams = Field(default_factory=PlanningParams)
    money: MoneyParams = Field(default_factory=MoneyParams)
    areas: AreasParams = Field(default_factory=AreasParams)
    delivery: DeliveryParams = Field(default_factory=DeliveryParams)
    costs: CostParams = Field(default_factory=CostParams)
    flow: FlowParams = Field(default_factory=FlowParams)
    mechanisms: MechanismParams = Field(default_factory=MechanismParams)

    def flat(self) -> dict[str, Any]:
        """Dotted name -> value, for output rows and manifests."""
        return _flatten(self.model_dump())


def _flatten(nested: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, dict):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _groups(model: type[BaseModel], prefix: str = ""):
    """(dotted name, field info) of every leaf parameter, in declaration order."""
    for key, f in model.model_fields.items():
        ann = f.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _groups(ann, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", f


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = "england-2014"
    description: str = ""
    params: Parameters = Field(default_factory=Parameters)


PRESETS: dict[str, tuple[str, dict[str, Any]]] = {
    "england-2014": (
        "The 2014 history, calibrated: a short window, the pause, the 3.07% ambition, command-style assurance",
        {},
    ),
    "high-trust": ("H1: partners start with high trust", {"trust.initial": 0.85}),
    "low-trust": ("H1: partners start with low trust", {"trust.initial": 0.15}),
    "holdout-council": ("H2: the council refuses to compromise", {"negotiation.holdout": "council"}),
    "holdout-ccg": ("H2: the CCG refuses to compromise", {"negotiation.holdout": "ccg"}),
    "short-deadline": ("H3: six weeks to plan", {"deadline.weeks": 6}),
    "long-deadline": ("H3: forty weeks to plan before the pause", {"deadline.weeks": 40}),
    "hospitals-out": ("H4: acute trusts are left out of every table", {"acute.at_table": 0.0}),
    "hospitals-in": ("H4: acute trusts sign every plan", {"acute.at_table": 1.0}),
    "enabling-centre": ("H5: an enabling centre; unearned money stays local", {"centre.style": "enabling"}),
    "p4p-takeaway": ("H5: unearned performance money goes back to the centre", {"centre.withheld_to": "centre"}),
    "co-located": (
        "H6: co-located teams with stable leaders (Sunderland)",
        {"trust.colocation": 0.8, "trust.turnover": 0.05},
    ),
    "high-turnover": ("H6: leaders turn over fast", {"trust.turnover": 0.5}),
    "coterminous": ("H7: coterminous areas only (Wigan)", {"areas.coterminous_only": True}),
    "new-money": ("H8: the NHS minimum is new money, not taken from NHS budgets", {"money.new_money_share": 1.0}),
    "ringfenced": ("H8: councils cannot divert social-care money", {"money.divert_room": 0.0}),
}


@lru_cache(maxsize=1)
def _fields() -> dict[str, Any]:
    return dict(_groups(Parameters))


def field_info(dotted: str):
    """The pydantic field of a dotted parameter name, or None if there is no such parameter."""
    return _fields().get(dotted)


def parameter_bounds(dotted: str) -> tuple[float | None, float | None]:
    """A numeric parameter's closed bounds (its pydantic ge/le); None where it has none."""
    lo = hi = None
    for m in field_info(dotted).metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    return lo, hi


def describe_range(dotted: str) -> str:
    """The allowed values of a field, as a user reads them."""
    info = field_info(dotted)
    if info is None:
        return "unknown"
    ann = info.annotation
    if getattr(ann, "__origin__", None) is Literal:
        return "one of " + ", ".join(repr(a) for a in ann.__args__)
    lo = hi = None
    open_lo = False
    for m in info.metadata:
        if getattr(m, "gt", None) is not None:
            lo, open_lo = m.gt, True
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if ann is bool:
        return "true or false"
    if getattr(ann, "__origin__", None) is list:
        return 'a list, e.g. ["Wigan", "Sunderland"]'
    if lo is not None or hi is not None:
        return f"{'(' if open_lo else '['}{lo}, {hi}]"
    return getattr(ann, "__name__", str(ann))


def parameter_table() -> list[dict[str, Any]]:
    """Every parameter: dotted name, default, allowed range and description."""
    defaults = Parameters().flat()
    return [
        {"name": name, "default": defaults[name], "range": describe_range(name), "description": f.description or ""}
        for name, f in _fields().items()
    ]


def _one_line(err: ValidationError, values: dict[str, Any]) -> str:
    e = err.errors()[0]
    loc = ".".join(str(p) for p in e["loc"] if not isinstance(p, int))
    if e["type"] == "extra_forbidden":
        return f"unknown parameter '{loc}' (see `bettercare params`)"
    value = values.get(loc, e.get("input"))
    if e["type"] == "value_error":
        msg = e["msg"].removeprefix("Value error, ")
        if isinstance(value, dict):  # a group's own check (e.g. flow shares): the message names the fields
            return f"{loc}: {msg}"
        return f"{loc} = {value!r} is invalid: {msg}"
    return f"{loc} = {value!r} is invalid: allowed {describe_range(loc)}"


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for dotted, value in flat.items():
        *groups, key = dotted.split(".")
        if not groups or groups[0] not in Parameters.model_fields:
            raise ScenarioError(f"unknown parameter '{dotted}' (see `bettercare params`)")
        node = nested
        for g in groups:
            node = node.setdefault(g, {})
        node[key] = value
    return nested


def build_parameters(base: Parameters | None = None, overrides: dict[str, Any] | None = None) -> Parameters:
    """Apply dotted overrides to a base, validating every value."""
    merged = (base or Parameters()).flat()
    overrides = dict(overrides or {})
    for k in overrides:
        if k not in merged:
            raise ScenarioError(f"unknown parameter '{k}' (see `bettercare params`)")
    merged.update(overrides)
    try:
        return Parameters.model_validate(_nest(merged))
    except ValidationError as err:
        raise ScenarioError(_one_line(err, merged)) from None


def parse_value(text: str) -> Any:
    """Parse a command-line value with TOML rules, falling back to a bare string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


@lru_cache(maxsize=1)
def calibrated() -> dict[str, Any]:
    """Parameters `bettercare calibrate` fitted for england-2014 (bettercare/data/england-2014.toml)."""
    path = files("bettercare") / "data" / "england-2014.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return dict(tomllib.load(fh).get("parameters", {}))


def resolve_scenario(
    scenario: str | Path | Scenario | Parameters = "england-2014", overrides: dict[str, Any] | None = None
) -> Scenario:
    """A preset name, TOML path, Scenario or Parameters, with dotted `overrides` applied and
    validated: the one way every entry point (run, replicates, traces) turns what it was given
    into a Scenario."""
    if isinstance(scenario, Parameters):
        return Scenario(name="custom", description="", params=build_parameters(scenario, overrides))
    if isinstance(scenario, Scenario):
        if not overrides:
            return scenario
        return Scenario(
            name=scenario.name, description=scenario.description, params=build_parameters(scenario.params, overrides)
        )
    return load_scenario(scenario, overrides)


def load_scenario(name_or_path: str | Path = "england-2014", overrides: dict[str, Any] | None = None) -> Scenario:
    """A preset by name, or a TOML file with `[scenario]` and dotted or nested parameter tables."""
    text = str(name_or_path)
    if text in PRESETS:
        desc, preset = PRESETS[text]
        flat = {**preset, **(overrides or {})}
        base = build_parameters(None, calibrated())
        return Scenario(name=text, description=desc, params=build_parameters(base, flat))
    path = Path(text)
    if not path.exists():
        raise ScenarioError(f"no scenario named '{text}': choose one of {', '.join(PRESETS)} or give a TOML file")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: not valid TOML ({exc})") from None
    meta = data.pop("scenario", {})
    base_name = meta.get("base", "england-2014")
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    flat.update(overrides or {})
    base = load_scenario(base_name)
    return Scenario(
        name=meta.get("name", path.stem),
        description=meta.get("description", ""),
        params=build_parameters(base.params, flat),
    )
