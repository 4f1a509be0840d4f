"""The debrief in words, written from the model's own records (the offers, the frames, the outcome row).

`table_story` tells what happened at the table people played in five sentences: the talks, the
agreement, who conceded and who held out, what trust did, and what the clock and delivery did.
`replay_story` says why two runs of the side-by-side replay differed: when they agreed, what
their plans put money into and promised, and what delivery realised, naming the mechanism the
changed setting works through in the model.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from bettercare.vocabulary.plan import Slot

from .history import Recorder, mean_off_diagonal
from .story import LINE_LABELS, STATUS_LABEL, gbp, pool_gbp, spend_gbp

MECHANISM = {
    "trust": (
        "trust lowers the bar a partner sets before accepting an offer from someone it trusts (the "
        "trust bonus), and lets partners read each other's interests better"
    ),
    "compromise": "willingness to compromise sets how fast each partner lowers its target week by week",
    "deadline_weeks": "the deadline sets how many weeks partners have before their targets must give way",
    "hospitals": "an acute trust at the table must sign the plan, and it loses activity income from every "
    "admission avoided",
}


def _num(d: dict[str, Any] | None, key: str) -> float:
    v = (d or {}).get(key)
    try:
        v = float(v)
    except (TypeError, ValueError):
        return float("nan")
    return v


def _first_agreed(rec: Recorder):
    return next((o for o in rec.offers if o.agreed), None)


def _concessions(rec: Recorder) -> list[tuple[str, float, float, int]]:
    """Per party that proposed: (name, worth of its first offer to itself, of its last, offers made)."""
    out = []
    for p in rec.parties:
        own = [o.utility[p.index] * 100 for o in rec.offers if o.proposer == p.index]
        if own:
            out.append((p.name, float(own[0]), float(own[-1]), len(own)))
    return out


def _rejections(rec: Recorder) -> list[tuple[str, int, int]]:
    out = []
    for p in rec.parties:
        asked = [
            o.responses[p.index]
            for o in rec.offers
            if o.proposer != p.index and o.responses[p.index] in ("accept", "reject")
        ]
        out.append((p.name, asked.count("reject"), len(asked)))
    return out


def room_stories(room, deadlines: dict[str, int]) -> list[tuple[str, list[str]]]:
    """Each table people sit at, the focus table first: its area's name and its story
    (`table_story`), with the area's outcome once the delivery year is over."""
    out = []
    with room._cond:
        for a in room.people:
            rec = room.recorders[a]
            rec.pull()
            outcome = room.outcome["areas"].iloc[a].to_dict() if room.outcome is not None else None
            out.append((rec.area_name, table_story(rec, outcome, deadlines)))
    return out


def table_story(rec: Recorder, outcome: dict[str, Any] | None, deadlines: dict[str, int]) -> list[str]:
    """Five sentences on what happened at this table, from its offers, frames and outcome."""
    offers = rec.offers
    if not offers:
        return [f"Nothing has been offered at the {rec.area_name} table yet."]
    weeks = sorted({o.week for o in offers})
    people = sorted({name for o in offers for name in o.people.values()})
    who = (
        f"{', '.join(people)} played at the table, the model's agents the other seats"
        if people
        else "the model's agents played every seat"
    )
    out = [
        f"At the {rec.area_name} table, {len(rec.parties)} parties made {len(offers)} offers over "
        f"{len(weeks)} weeks of talks (weeks {weeks[0]}-{weeks[-1]}); {who}."
    ]

    first = _first_agreed(rec)
    if first is not None:
        before = sum(1 for o in offers if o.oid < first.oid)
        out.append(
            f"The first agreement came in week {first.week}, on {rec.parties[first.proposer].name}'s plan: "
            f"a {gbp(pool_gbp(first.plan, rec.minimum_gbp))} pool promising a "
            f"{100 * first.plan[Slot.AMBITION]:.1f}% cut in emergency admissions, after {before} offers that failed."
        )
    else:
        out.append("No offer won every signature at the table.")

    conc = _concessions(rec)
    rej = _rejections(rec)
    if conc:
        most = max(conc, key=lambda c: c[1] - c[2])
        least = min(conc, key=lambda c: c[1] - c[2])
        hold = max(rej, key=lambda r: r[1] / r[2] if r[2] else 0)
        text = f"{most[0]} conceded most: its own offers fell from {most[1]:.0f} to {most[2]:.0f} points to itself"
        if least[0] != most[0]:
            text += f", while {least[0]} moved least ({least[1]:.0f} to {least[2]:.0f})"
        if hold[2]:
            text += f"; {hold[0]} rejected {hold[1]} of the {hold[2]} offers put to it"
        out.append(text + ".")

    trust = [(f.week, mean_off_diagonal(f.trust), f.phase) for f in rec.frames]
    if len(trust) > 1:
        steps = [(b[1] - a[1], b[0]) for a, b in zip(trust, trust[1:])]
        up = max(steps)
        down = min(steps)
        text = f"Trust at the table went from {trust[0][1]:.2f} to {trust[-1][1]:.2f}"
        if up[0] > 0.005:
            text += f"; it rose most in week {up[1]} ({up[0]:+.2f})"
        if down[0] < -0.005:
            text += f" and fell most in week {down[1]} ({down[0]:+.2f})"
        out.append(text + ".")

    clock = []
    pause = next((f for f in rec.frames if f.phase == "pause"), None)
    if pause is not None:
        held = (
            f"with the plan agreed in week {first.week} to be reopened"
            if first is not None and first.week <= pause.week
            else "with nothing agreed"
        )
        clock.append(f"The centre's pause came in week {pause.week}, {held}")
    if outcome is not None:
        verdict = STATUS_LABEL.get(str(outcome.get("verdict")), str(outcome.get("verdict")))
        adm, plan_adm = (
            _num(outcome, "realised_emergency_admissions_change"),
            _num(outcome, "planned_emergency_admissions_change"),
        )
        clock.append(
            f"in the end the plan was {verdict.replace('plan ', '')}: it promised {plan_adm:+,.0f} emergency "
            f"admissions, and delivery realised {adm:+,.0f}"
        )
    elif rec.frames:
        f = rec.frames[-1]
        clock.append(f"the table is now in week {f.week}, {STATUS_LABEL.get(f.status, f.status)}")
    if clock:
        text = "; ".join(clock)
        out.append(text[0].upper() + text[1:] + ".")
    return out[:5]


def _agreed_plan(run) -> np.ndarray | None:
    f = run.frames[-1]
    return f.on_table if f.on_table is not None else None


def replay_story(replay) -> list[str]:
    """Why A and B differed, from the two runs' records."""
    a, b = replay.runs
    out = []
    fa, fb = _first_agreed(a.recorder), _first_agreed(b.recorder)
    wa = fa.week if fa is not None else None
    wb = fb.week if fb is not None else None
    if wa is not None and wb is not None and wa != wb:
        faster, slower = ("B", "A") if wb < wa else ("A", "B")
        out.append(
            f"{faster} ({(b if faster == 'B' else a).label}) agreed {abs(wa - wb)} week{'s' if abs(wa - wb) > 1 else ''} sooner than "
            f"{slower}: week {min(wa, wb)} against week {max(wa, wb)}."
        )
    elif wa is not None and wb is not None:
        out.append(f"Both runs first agreed in week {wa}.")
    else:
        out.append(
            f"A {'agreed in week ' + str(wa) if wa is not None else 'never agreed'} and B "
            f"{'agreed in week ' + str(wb) if wb is not None else 'never agreed'} at the table."
        )

    pa, pb = _agreed_plan(a), _agreed_plan(b)
    m = a.recorder.minimum_gbp
    if pa is not None and pb is not None:
        sa, sb = spend_gbp(pa, m), spend_gbp(pb, m)
        k = int(np.argmax(np.abs(sb - sa)))
        more, less = ("B", "A") if sb[k] > sa[k] else ("A", "B")
        diff = abs(sb[k] - sa[k])
        out.append(
            f"{more}'s final plan put {gbp(diff)} more into {LINE_LABELS[k]} than {less}'s "
            f"(pools {gbp(pool_gbp(pa, m))} and {gbp(pool_gbp(pb, m))}), and promised a "
            f"{100 * pa[Slot.AMBITION]:.1f}% (A) against {100 * pb[Slot.AMBITION]:.1f}% (B) cut in emergency admissions."
        )

    oa, ob = a.outcome.get("area"), b.outcome.get("area")
    ra, rb = _num(oa, "realised_emergency_admissions_change"), _num(ob, "realised_emergency_admissions_change")
    qa, qb = _num(oa, "planned_emergency_admissions_change"), _num(ob, "planned_emergency_admissions_change")
    if not (math.isnan(ra) or math.isnan(rb)):
        better = "B" if rb < ra else "A" if ra < rb else None
        text = (
            f"Delivery realised {ra:+,.0f} emergency admissions in A (promised {qa:+,.0f}) and {rb:+,.0f} in B "
            f"(promised {qb:+,.0f})"
        )
        sooner = (
            "B"
            if (wa is not None and wb is not None and wb < wa)
            else "A"
            if (wa is not None and wb is not None and wa < wb)
            else None
        )
        if better and sooner and better != sooner:
            text += (
                f": {sooner} agreed sooner but did worse, because what its plan funded delivered less than {better}'s"
            )
        elif better:
            text += f": {better} did better"
        out.append(text + ".")
    mech = MECHANISM.get(replay.parameter)
    if mech:
        ta = mean_off_diagonal(a.frames[-1].trust)
        tb = mean_off_diagonal(b.frames[-1].trust)
        out.append(
            f"The setting works in the model through this: {mech}. Trust ended at {ta:.2f} (A) and {tb:.2f} (B)."
        )
    return out
