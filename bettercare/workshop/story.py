"""The table in plain English, and each organisation's private brief.

"NHS Wigan Borough CCG proposes a £25.3m pool with £4.1m for reablement and community health,
aiming to cut emergency admissions by 2.5%. Wigan Hospitals rejects: it would lose £2.3m of
activity income."
"""

from __future__ import annotations

import re

import numpy as np

from bettercare.vocabulary.plan import FLOORS, LINES, Feature, Slot, features, pool_relative

from .history import KIND_LABEL, OfferRow, Party

LINE_LABELS = [
    "adult social care",
    "reablement and community health",
    "admission avoidance",
    "an acute risk-share",
    "carers, DFG and Care Act duties",
]
LINE_SHORT = [
    "Social care",
    "Reablement & community",
    "Admission avoidance",
    "Acute risk-share",
    "Carers, DFG, Care Act",
]

PHASE_LABEL = {
    "planning": "Planning",
    "pause": "The pause: the centre is revising the rules",
    "revised": "Revised planning",
    "assurance": "Assurance",
    "delivery": "Delivery",
    "done": "Finished",
}
STATUS_LABEL = {
    "talking": "talking",
    "paused": "paused by the centre",
    "submitted": "plan submitted for assurance",
    "approved": "plan approved",
    "approved_with_conditions": "plan approved with conditions",
    "imposed": "plan imposed by the centre",
}
RESPONSE_VERB = {"accept": "accepts", "reject": "rejects"}


def gbp(x: float) -> str:
    """£ in millions, one decimal: £4.1m; small sums in thousands: £350k."""
    x = float(x)
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x < 1e5 and x > 0:
        return f"{sign}£{x / 1e3:,.0f}k"
    return f"{sign}£{x / 1e6:,.1f}m"


def pct(x: float, digits: int = 1) -> str:
    return f"{100 * float(x):.{digits}f}%"


def who(p: Party, people: dict[int, str] | None = None) -> str:
    name = (people or {}).get(p.index)
    return f"{p.name} ({name})" if name else p.name


def spend_gbp(plan: np.ndarray, minimum_gbp: float) -> np.ndarray:
    """GBP per scheme line."""
    plan = np.asarray(plan, float)
    return plan[LINES] * pool_relative(plan[None])[0] * minimum_gbp


def pool_gbp(plan: np.ndarray, minimum_gbp: float) -> float:
    return float(pool_relative(np.asarray(plan, float)[None])[0] * minimum_gbp)


def headline(plan: np.ndarray, minimum_gbp: float, previous: np.ndarray | None = None) -> str:
    """A £25.3m pool with £4.1m for reablement and community health, aiming to cut admissions by 2.5%."""
    spend = spend_gbp(plan, minimum_gbp)
    if previous is not None:
        line = int(np.argmax(np.abs(spend - spend_gbp(previous, minimum_gbp))))
    else:
        line = int(np.argmax(spend - FLOORS * minimum_gbp))
    pool = pool_gbp(plan, minimum_gbp)
    top = pool - minimum_gbp
    extra = f" ({gbp(top)} above the minimum)" if top > 0.05e6 else ""
    return (
        f"a {gbp(pool)} pool{extra} with {gbp(spend[line])} for {LINE_LABELS[line]}, "
        f"aiming to cut emergency admissions by {pct(plan[Slot.AMBITION])}"
    )


def reason(model, table, party: int, plan: np.ndarray) -> str:
    """Why a party dislikes a plan: the feature that costs it most against its favourite plan."""
    p = table.parties[party]
    a = table.area
    m_gbp = float(model.minimum_gbp[a])
    believed = table.believed_return()
    f = features(np.asarray(plan, float)[None], m_gbp, float(model.admissions[a]), model.rules, believed)[0]
    best = table.plans[int(np.argmax(table.utility[party]))]
    fb = features(best[None], m_gbp, float(model.admissions[a]), model.rules, believed)[0]
    loss = p.weights * (f - fb)
    k = int(np.argmin(loss))
    if loss[k] >= -1e-12:
        return "it is worth too little to it"
    spend, spend_best = spend_gbp(plan, m_gbp), spend_gbp(best, m_gbp)
    income = float(plan[Slot.AMBITION]) * float(model.admissions[a]) * model.params.costs.admission_gbp
    line_of = {
        Feature.SOCIAL_CARE: 0,
        Feature.COMMUNITY: 1,
        Feature.AVOIDANCE: 2,
        Feature.RISK_SHARE: 3,
        Feature.OTHER: 4,
    }
    if k in line_of:
        i = line_of[Feature(k)]
        return f"it puts only {gbp(spend[i])} into {LINE_LABELS[i]} (it wants {gbp(spend_best[i])})"
    if k == Feature.INCOME_LOSS:
        cover = f"; the risk-share covers {gbp(spend[3])}" if spend[3] > 0.05e6 else ""
        return f"it would lose {gbp(income)} of activity income{cover}"
    if k == Feature.COUNCIL_TOPUP:
        return f"it asks the council to add {gbp(plan[Slot.COUNCIL_TOPUP] * m_gbp)}"
    if k == Feature.CCG_TOPUP:
        return f"it asks the CCG to add {gbp(plan[Slot.CCG_TOPUP] * m_gbp)}"
    if k == Feature.NHS_OUTFLOW:
        return f"it moves {gbp(max(spend[0] - FLOORS[0] * m_gbp, 0))} of NHS money into social care"
    if k == Feature.P4P_AT_RISK:
        return "it claims more than the partners expect to deliver, so performance money is at risk"
    if k == Feature.AMBITION:
        return f"its ambition ({pct(plan[Slot.AMBITION])}) is too low (it wants {pct(best[Slot.AMBITION])})"
    if k == Feature.FREEDOM:
        return "it leaves the council too little room to spend as it sees fit"
    name = Feature(k).name
    if name == "TARGET_GAP":
        return f"its ambition ({pct(plan[Slot.AMBITION])}) falls short of the centre's target"
    if name in ("COUNCIL_POOLS_MORE", "CCG_POOLS_MORE"):
        who = "council" if name.startswith("COUNCIL") else "CCG"
        return f"it asks the {who} to pool more than the minimum, with the governance that brings"
    return "it is worth too little to it"


def offer_sentence(
    model, table, parties: list[Party], row: OfferRow, previous: np.ndarray | None, minimum_gbp: float
) -> str:
    """One week at the table in one or two sentences."""
    proposer = parties[row.proposer]
    by_agent = (
        f" (the model's agent, for its player: {row.agents[row.proposer].lower()})"
        if row.proposer in row.agents
        else ""
    )
    parts = [f"{who(proposer, row.people)}{by_agent} proposes {headline(row.plan, minimum_gbp, previous)}."]
    if payers := topup_payers(parties, row.plan, minimum_gbp):
        parts.append(payers)
    answers = []
    for j, r in enumerate(row.responses):
        if j == row.proposer or r not in RESPONSE_VERB:
            continue
        text = f"{who(parties[j], row.people)} {RESPONSE_VERB[r]}"
        if j in row.agents:
            text += f" (the model's agent answered: {row.agents[j].lower()})"
        if r == "reject" and table is not None:
            text += f": {reason(model, table, j, row.plan)}"
        answers.append(text)
    if answers:
        parts.append("; ".join(answers) + ".")
    if row.agreed:
        parts.append("Agreed.")
    return " ".join(parts)


def topup_payers(parties: list[Party], plan: np.ndarray, minimum_gbp: float) -> str:
    """Who pays the top-ups above the minimum: 'Wigan Council adds £2.1m of its own; the CCGs £4.5m.'"""
    council = float(plan[Slot.COUNCIL_TOPUP]) * minimum_gbp
    ccg = float(plan[Slot.CCG_TOPUP]) * minimum_gbp
    bits = []
    councils = [p.name for p in parties if p.kind == "council"]
    ccgs = [p.name for p in parties if p.kind == "ccg"]
    if council >= 0.05e6:
        bits.append(f"{councils[0] if len(councils) == 1 else 'the council'} adds {gbp(council)} of its own")
    if ccg >= 0.05e6:
        payer = ccgs[0] if len(ccgs) == 1 else f"the {len(ccgs)} CCGs together"
        bits.append(f"{payer} {'add' if len(ccgs) > 1 else 'adds'} {gbp(ccg)}")
    if not bits:
        return ""
    text = "; ".join(bits)
    return text[0].upper() + text[1:] + " on top of the minimum."


def phase_event(before: str, after: str, week: int, agreed_week: int | None, pause_weeks: int | None) -> str | None:
    """A sentence for a change of phase at the table, or None."""
    if after == "pause":
        held = (
            f" The plan agreed in week {agreed_week} stands for now, but will be reopened under the new rules."
            if agreed_week is not None
            else ""
        )
        span = f" for {pause_weeks} weeks" if pause_weeks else ""
        return (
            f"The centre pauses planning{span}: it stress-tests the plans and rewrites the rules. "
            f"Nobody talks until the revised guidance.{held}"
        )
    if before == "pause" and after == "revised":
        return "Revised guidance: talks reopen under the new rules, with a new deadline."
    if after == "assurance":
        return "The revised deadline has passed: the centre assures the plans it has."
    if after == "delivery":
        return "Plans are settled: the delivery year begins."
    return None


def short_line(text: str) -> str:
    """A sentence of the table cut for the projector: the proposal, then who accepts or rejects, without the
    reasons and without the top-up sentence."""

    first, _, rest = text.rstrip(".").partition(". ")
    answers = [re.sub(r"(accepts|rejects)( \([^)]*\))?:.*", r"\1", a.strip()) for a in rest.split("; ")]
    answers = [a for a in answers if re.search(r"(accepts|rejects)$", a.split(". ")[-1])]
    answers = [a.split(". ")[-1] for a in answers]
    if len(answers) > 3:
        yes = sum(a.endswith("accepts") for a in answers)
        answers = [
            f"{yes} accept{'s' if yes == 1 else ''} and {len(answers) - yes} reject"
            f"{'s' if len(answers) - yes == 1 else ''}"
        ]
    tail = "; ".join(answers)
    agreed = " Agreed." if text.endswith("Agreed.") else ""
    return first + "." + (f" {tail}." if tail else "") + agreed


def countdown(model) -> str:
    w = model.week_no
    ph = model.phase
    if ph == "planning":
        return f"{model.w1 - w} weeks to the plan deadline (week {model.w1})"
    if ph == "pause":
        return f"Revised guidance in {model.pause_end - w} weeks (week {model.pause_end})"
    if ph == "revised":
        return f"{model.w2 - w} weeks to the revised plan deadline (week {model.w2})"
    if ph == "assurance":
        return f"{model.w3 - w} weeks until the centre imposes plans (week {model.w3})"
    if ph == "delivery":
        return f"Delivery: month {model.month_no} of {model.params.delivery.months}"
    return "Delivery year over: time for the debrief"


def weeks_left(model) -> int | None:
    w = model.week_no
    return {
        "planning": model.w1 - w,
        "pause": model.pause_end - w,
        "revised": model.w2 - w,
        "assurance": model.w3 - w,
    }.get(model.phase)


# --- the private brief ------------------------------------------------------------------------

PRIORITY_TEXT = {
    Feature.SOCIAL_CARE: ("protecting adult social care", "less money for adult social care"),
    Feature.COMMUNITY: ("reablement and community health", None),
    Feature.AVOIDANCE: ("schemes that avoid emergency admissions", None),
    Feature.RISK_SHARE: ("a risk-share that pays the hospital for lost activity", None),
    Feature.OTHER: ("carers, DFG and Care Act duties", None),
    Feature.COUNCIL_TOPUP: (None, "keeping the council's own top-up small"),
    Feature.CCG_TOPUP: (None, "keeping the CCG's own top-up small"),
    Feature.AMBITION: ("a bold cut in emergency admissions", None),
    Feature.NHS_OUTFLOW: (None, "keeping NHS money in the NHS rather than moving it to social care"),
    Feature.INCOME_LOSS: (None, "protecting activity income: every avoided admission is income lost while costs stay"),
    Feature.P4P_AT_RISK: (None, "not putting money at risk under payment for performance"),
    Feature.FREEDOM: ("freedom to spend unringfenced social care money as the council sees fit", None),
}
_EXTRA_PRIORITIES = {
    "TARGET_GAP": (None, "meeting the centre's emergency-admissions target"),
    "COUNCIL_POOLS_MORE": (None, "avoiding a bigger section 75 agreement for the council's own top-up"),
    "CCG_POOLS_MORE": (None, "avoiding a bigger section 75 agreement for the CCG's own top-up"),
}
for _name, _text in _EXTRA_PRIORITIES.items():  # features the model has added since; absent ones are skipped
    if _name in Feature.__members__:
        PRIORITY_TEXT[Feature[_name]] = _text


def priorities(party, n: int = 4) -> list[str]:
    """What an organisation cares about most, from its own utility weights."""
    w = np.asarray(party.weights, float)
    order = np.argsort(-np.abs(w))
    out = []
    for k in order:
        if abs(w[k]) < 1e-9 or len(out) >= n:
            break
        good, bad = PRIORITY_TEXT.get(Feature(int(k)), (None, None))
        text = good if w[k] > 0 else bad
        if text:
            out.append(text[0].upper() + text[1:])
    return out


def pressures(model, table, party: int) -> list[str]:
    p = table.parties[party]
    prm = model.params
    out = []
    left = weeks_left(model)
    if left is not None and model.phase != "pause":
        out.append(f"The clock: {countdown(model)}. If no plan is agreed by then, the centre imposes its minimum plan.")
    if p.holdout:
        out.append("Your board has told you not to give ground: hold to your priorities.")
    if p.kind == "acute":
        margin = getattr(p, "margin", 0.0)
        if margin < 0:
            out.append(f"Your trust runs a deficit of {pct(-margin)} of income; your board watches every pound.")
        else:
            out.append(f"Your trust has a small surplus ({pct(margin)} of income).")
        out.append(f"About {pct(prm.acute.fixed_cost_share, 0)} of an admission's cost is fixed in the short run.")
    if p.kind == "council" and prm.money.social_care_cut > 0:
        out.append(f"Adult social care is being cut by {pct(prm.money.social_care_cut, 0)} a year outside the pool.")
    if p.kind == "ccg":
        to = "the local NHS" if prm.centre.withheld_to == "nhs" else "the centre"
        out.append(f"Performance money the area does not earn goes back to {to}.")
    rule = model.rules.p4p_rule
    if rule == "multi_metric":
        share = pct(prm.centre.p4p_share, 0)
        out.append(f"Under the current rules {share} of the minimum pool is paid on performance.")
    elif rule == "admissions_ambition":
        out.append("Under the revised rules, performance money depends on meeting your emergency-admissions ambition.")
    if not any(o.kind == "acute" for o in table.parties) and table.outsiders:
        out.append("The acute trust is not at the table, but it will feel whatever you agree.")
    return out


def trust_lines(table, party: int, trust: np.ndarray, parties: list[Party]) -> list[str]:
    out = []
    for j, q in enumerate(parties):
        if j != party:
            out.append(f"{q.name} ({KIND_LABEL.get(q.kind, q.kind)}): {trust[party, j]:.2f}")
    return out


def outcome_cards(area: dict, months: int) -> list[tuple[str, str, str]]:
    """(title, headline figure, detail) for the debrief, from one row of the model's areas table."""

    def num(k):
        v = area.get(k)
        return float(v) if v is not None and v == v else float("nan")

    adm, adm_plan = num("realised_emergency_admissions_change"), num("planned_emergency_admissions_change")
    dtoc, dtoc_plan = num("realised_dtoc_days_change"), num("planned_dtoc_days_change")
    topups = num("topup_council_gbp") + num("topup_ccg_gbp")
    agreed = area.get("first_agreed_week")
    verdict = STATUS_LABEL.get(str(area.get("verdict")), str(area.get("verdict")))
    when = (
        f"first agreed in week {int(agreed)}"
        if agreed is not None and agreed == agreed
        else "never agreed at the table"
    )

    def cue(x: float) -> str:
        """Fewer admissions or delayed days is better; say so beside the sign."""
        if x != x or abs(x) < 0.5:
            return ""
        return " ▼ fewer: better" if x < 0 else " ▲ more: worse"

    return [
        (
            "Emergency admissions",
            f"{adm:+,.0f}{cue(adm)}",
            f"over {months} months of delivery; the plan promised {adm_plan:+,.0f}",
        ),
        (
            "Delayed days",
            f"{dtoc:+,.0f}{cue(dtoc)}",
            f"days of delayed transfers of care; the plan promised {dtoc_plan:+,.0f}",
        ),
        (
            "Money",
            gbp(num("pool_total_gbp")),
            f"pooled ({gbp(topups)} of top-ups); performance money {gbp(num('performance_money_released_gbp'))} released, "
            f"{gbp(num('performance_money_withheld_gbp'))} withheld; savings realised {gbp(num('realised_savings_gbp'))}",
        ),
        (
            "Trust",
            f"{num('trust_start'):.2f} → {num('trust_end'):.2f}",
            f"joint working {num('maturity_start'):.2f} → {num('maturity_end'):.2f}",
        ),
        ("The plan", verdict[0].upper() + verdict[1:], when),
    ]
