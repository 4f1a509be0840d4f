"""A participant's seat: the private brief, the turn (a plan to put on the table, or an offer to
answer) and the table as it stands. The key is in an HTTP-only cookie, never in the address."""

from __future__ import annotations

import numpy as np
import solara
from solara.server import kernel_context

from bettercare.vocabulary.plan import FLOORS

from .. import figures, plans
from ..room import Action
from ..story import LINE_LABELS, gbp
from ..views import brief as get_brief
from .common import (
    Clock,
    Countdown,
    Figure,
    Message,
    Narrative,
    Slider,
    TopBar,
    esc,
    number,
    room_path,
    seat_tokens,
    send,
    use_query,
    use_room,
    use_view,
)


def pick_token(room, tokens: list[str], want: int | None) -> str:
    """The key of this browser's participant at seat `want`, else its first seated one."""
    seated = [t for t in tokens if room.seat_of(t) is not None]
    for t in seated:
        if want is not None and room.seat_of(t) == want:
            return t
    return (seated or [t for t in tokens if t in room.participants] or [""])[0]


@solara.component
def Seat():
    room = use_room()
    q = use_query()
    try:
        want = int(q["s"]) if "s" in q else None
    except ValueError:
        want = None
    token = pick_token(room, seat_tokens(room.name), want)
    participant = room.participants.get(token)
    own = room.seat_of(token)
    seat = want if want is not None else own
    view = use_view(room, room.area_of_seat(seat))  # the table this seat is at

    def presence():
        if not token:
            return None
        ctx = kernel_context.get_current_context()
        room.attach(token, ctx.id)
        return lambda: room.detach(token, ctx.id)

    solara.use_effect(presence, [token])

    if participant is None:
        TopBar(view, "Not seated")
        with solara.Column(style={"padding": "20px"}, classes=["bc-page"]):
            solara.Error(
                "This browser has no seat in this room. Join the table (you need the room code).",
                classes=["bc-no-seat"],
            )
            with solara.Link(room_path("/join", room.name)):
                solara.Button("Join the table", color="primary")
        return
    if seat is not None and seat == view.centre.index:
        CentreSeat(room, view, token, participant, own)
        return
    if view.seat(seat) is None:
        TopBar(view, f"{participant.name}: no seat")
        with solara.Column(style={"padding": "20px"}, classes=["bc-page"]):
            solara.Warning(
                "You do not have a seat at the table now (you left, the facilitator freed your seat, "
                "or the table changed). Take a free seat again."
            )
            with solara.Link(room_path("/join", room.name)):
                solara.Button("Choose a seat", color="primary")
        return
    me = view.seat(seat)
    TopBar(view, f"{participant.name} · {me.name} ({me.label})")
    with solara.Column(style={"padding": "14px 18px"}, classes=["bc-page"]).key(f"gen-{view.generation}"):
        if seat != own:
            mine = room.party_name(own) if own is not None else "no seat"
            solara.Warning(f"You are looking at the seat of {me.name}. You sit as {mine}.", classes=["bc-not-yours"])
        Clock(view)
        if len(me.team) > 1:
            solara.Text(
                f"Your team at this seat: {me.team[0]} (moves for the team), {', '.join(me.team[1:])}",
                classes=["bc-team"],
            )
        lead = participant.role == "lead" or seat != own
        with solara.Div(classes=["bc-cols"]):
            with solara.Column(classes=["bc-col"]):
                if lead:
                    TurnPanel(room, view, token, seat)
                else:
                    MemberPanel(room, view, token, seat)
                solara.Text("The table", style={"font-weight": "600", "font-size": "16px"})
                Narrative(view, n=6)
                Figure(figures.pool(view.plan_now, view.minimum_gbp, view.plan_kind), cls="bc-pool", height=300)
            with solara.Column(classes=["bc-col-narrow"]):
                Brief(room, view, token, seat)
        with solara.Row():
            solara.Button(
                "Leave the table", on_click=lambda: send(room, Action("leave", token)), text=True, classes=["bc-leave"]
            )


VERDICT_BUTTONS = (
    ("approved", "Approve", "success", "bc-approve"),
    ("approved_with_conditions", "Approve with conditions", "warning", "bc-conditions"),
    ("not_approved", "Not approved: send it back", "error", "bc-not-approved"),
)


@solara.component
def CentreSeat(room, view, token: str, participant, own: int | None):
    """The centre's seat: NHS England's assurance team, giving a verdict on each plan it reviews."""
    me = view.centre
    TopBar(view, f"{participant.name} · {me.name}")
    with solara.Column(style={"padding": "14px 18px"}, classes=["bc-page"]).key(f"gen-{view.generation}"):
        if own != me.index:
            mine = room.party_name(own) if own is not None else "no seat"
            solara.Warning(f"You are looking at the centre's seat. You sit as {mine}.", classes=["bc-not-yours"])
        Clock(view)
        with solara.Div(classes=["bc-cols"]):
            with solara.Column(classes=["bc-col"]):
                AssurancePanel(room, view, token, lead=participant.role == "lead" and own == me.index)
                solara.Text("The table", style={"font-weight": "600", "font-size": "16px"})
                Narrative(view, n=6)
            with solara.Column(classes=["bc-col-narrow"]):
                VerdictHistory(view)
        with solara.Row():
            solara.Button(
                "Leave the seat", on_click=lambda: send(room, Action("leave", token)), text=True, classes=["bc-leave"]
            )


@solara.component
def AssurancePanel(room, view, token: str, lead: bool = True):
    """The plan under review with the stress test's figures, the verdict buttons (for the seat's
    lead; team-mates see the figures) and the queue."""
    me = view.centre
    a = view.assurance
    message, set_message = solara.use_state(None, key="msg-centre")
    solara.use_effect(lambda: set_message(None) if me.turn_id is not None else None, [me.turn_id])
    with solara.Card(classes=["bc-turn", "bc-assurance"]):
        if me.agent_note:
            solara.Info(me.agent_note, dense=True, classes=["bc-agent-note"])
        f = a.get("under_review")
        if me.turn_kind == "review" and f:
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Text(
                    f"Assure {f['area']}'s plan (week {me.turn_week}).",
                    style={"font-size": "18px", "font-weight": "600"},
                    classes=["bc-your-turn"],
                )
                Countdown(me.turn_deadline)
            rows = [
                ("Savings the partners claim", gbp(f["claimed_gbp"])),
                ("What the evidence supports (your stress test)", gbp(f["realistic_gbp"])),
                ("Return per £ of scheme spend, as you estimate it", f"{f['estimated_return']:.3f}"),
                ("Claimed over supported (the ratio)", f"{f['ratio']:.2f}"),
                ("Approve at a ratio up to", f"{f['approve_ratio']:.2f} (and ambition at the target)"),
                ("With conditions at a ratio up to", f"{f['conditions_ratio']:.2f}"),
                (
                    "Cut in emergency admissions planned",
                    f"{100 * f['ambition']:.1f}% (target {100 * f['ambition_target']:.1f}%)",
                ),
                ("Times this plan was sent back", str(f["returns"])),
                ("The stress test's own verdict", VERDICT_LABEL.get(f["model_verdict"], f["model_verdict"])),
            ]
            solara.HTML(
                tag="table",
                unsafe_innerHTML="".join(f"<tr><td>{esc(k)}</td><td><b>{esc(v)}</b></td></tr>" for k, v in rows),
                classes=["bc-stress-test"],
            )

            def give(status: str):
                send(
                    room,
                    Action(
                        "verdict", token, seat=me.index, turn=me.turn_id, week=me.turn_week, data={"status": status}
                    ),
                    set_message,
                )

            if lead:
                with solara.Div(classes=["bc-buttons"]):
                    for status, label, colour, cls in VERDICT_BUTTONS:
                        solara.Button(label, on_click=lambda s=status: give(s), color=colour, classes=[cls])
            else:
                solara.Text(
                    f"{me.team[0] if me.team else 'Your team lead'} gives the verdict; talk it through together.",
                    classes=["bc-member-note"],
                )
            solara.Text("If you do not answer in time, the stress test's own verdict stands.", classes=["bc-muted"])
        elif view.done:
            solara.Text("The delivery year is over: see the facilitator's screen for the debrief.")
        else:
            solara.Text(
                "No plan is waiting for your verdict. Plans come to you once the partners submit them.",
                classes=["bc-waiting"],
            )
        if a.get("queue"):
            solara.Text(
                f"Waiting for assurance: {', '.join(a['queue'])} (you review {a['capacity']} a week).",
                classes=["bc-assurance-queue"],
            )
        Message(message)


VERDICT_LABEL = {
    "approved": "approved",
    "approved_with_conditions": "approved with conditions",
    "not_approved": "not approved (sent back)",
}


@solara.component
def VerdictHistory(view):
    with solara.Card("Your verdicts", classes=["bc-verdicts"]):
        given = view.assurance.get("verdicts", [])
        if not given:
            solara.Text("None yet.", classes=["bc-muted"])
            return
        solara.HTML(
            tag="ul",
            unsafe_innerHTML="".join(
                f"<li>Week {v['week']}: {esc(v['area'])}: {esc(VERDICT_LABEL.get(v['verdict'], v['verdict']))} "
                f"(ratio {v['ratio']:.2f}; the stress test said "
                f"{esc(VERDICT_LABEL.get(v['model_verdict'], v['model_verdict']))}) by {esc(v['by'])}</li>"
                for v in reversed(given)
            ),
        )


def Heading(text: str):
    return solara.HTML(tag="div", unsafe_innerHTML=esc(text), style="font-weight: 600; margin-top: 6px")


@solara.component
def Brief(room, view, token: str, seat: int):

    b = solara.use_memo(lambda: get_brief(room, token, seat), [view.version, token, seat])
    if b is None:
        with solara.Card("Private brief"):
            solara.Text(f"The brief of {view.seat(seat).name} is private to whoever sits there.", classes=["bc-muted"])
        return
    with solara.Card(
        f"Your brief: {b['name']}", subtitle=f"{b['label']} at the {b['area']} table", classes=["bc-brief"]
    ):
        Heading("What you care about most")
        solara.HTML(tag="ul", unsafe_innerHTML="".join(f"<li>{esc(x)}</li>" for x in b["priorities"]))
        Heading("Your bottom line")
        bar = (
            f" The model's agent in your seat would now hold out for offers worth about {b['agent_bar']:.0f}."
            if b["agent_bar"] is not None
            else ""
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=esc(
                f"If nothing is agreed, the centre imposes its minimum plan, worth {b['bottom_line']:.0f} points to you "
                f"(your best plan is worth 100).{bar}"
            ),
            classes=["bc-bottom-line"],
        )
        Heading("Pressures")
        solara.HTML(tag="ul", unsafe_innerHTML="".join(f"<li>{esc(x)}</li>" for x in b["pressures"]))
        if b["trust"]:
            Heading("How much you trust the others (0-1)")
            solara.HTML(tag="ul", unsafe_innerHTML="".join(f"<li>{esc(x)}</li>" for x in b["trust"]))
        if b["own_history"]:
            Figure(
                figures.dance(
                    view.parties,
                    view.offers,
                    view.deadlines,
                    only=room.party_of(seat),
                    title="What each offer was worth to you",
                ),
                caption="Each offer's worth to you, week by week.",
                cls="bc-own-dance",
                height=300,
            )


@solara.component
def MemberPanel(room, view, token: str, seat: int):
    """A team member's turn: watch, and, when the facilitator allows it, suggest a plan or vote."""
    me = view.seat(seat)
    message, set_message = solara.use_state(None, key=f"member-msg-{seat}")
    solara.use_effect(lambda: set_message(None) if me.turn_id is not None else None, [me.turn_id])
    advise = view.settings.team_advice and me.turn_kind in ("propose", "respond")
    lead = me.team[0] if me.team else "Your team lead"
    with solara.Card(classes=["bc-turn"]):
        what = {"propose": "is preparing the team's plan", "respond": "answers the offer for the team"}
        solara.Text(
            f"{lead} {what.get(me.turn_kind, 'moves for the team')}; talk it through together. "
            + (f"You can also send {lead} your advice below." if advise else "You see the brief and the offers."),
            classes=["bc-member-note"],
        )
        if me.turn_kind == "respond" and view.current:
            solara.HTML(tag="div", unsafe_innerHTML=esc(view.current), classes=["bc-current"])
        if advise and me.turn_kind == "propose":
            PlanForm(room, view, token, seat, me.turn_id, me.turn_week, set_message, verb="suggest", lead=lead).key(
                f"suggest-{me.turn_id}"
            )
        elif advise:

            def vote(accept: bool):
                send(
                    room,
                    Action("vote", token, seat=seat, turn=me.turn_id, week=me.turn_week, data={"accept": accept}),
                    set_message,
                )

            with solara.Div(classes=["bc-buttons"]):
                solara.Button(f"Advise {lead} to accept", on_click=lambda: vote(True), classes=["bc-vote-accept"])
                solara.Button(f"Advise {lead} to reject", on_click=lambda: vote(False), classes=["bc-vote-reject"])
        Message(message)


@solara.component
def TeamAdvice(room, view, token: str, seat: int):
    """What the team's members advise on the open turn (only the team sees it)."""
    advice = room.team_advice(token, seat) or []
    if not advice:
        return
    votes = [a for a in advice if "accept" in a]
    plans_ = [a for a in advice if "plan" in a]
    with solara.Card("Your team's advice", classes=["bc-team-advice"]):
        if votes:
            yes = [a["name"] for a in votes if a["accept"]]
            no = [a["name"] for a in votes if not a["accept"]]
            solara.Text(
                f"Accept: {len(yes)}{' (' + ', '.join(yes) + ')' if yes else ''} · "
                f"Reject: {len(no)}{' (' + ', '.join(no) + ')' if no else ''}",
                classes=["bc-team-votes"],
            )
        for a in plans_:
            solara.Text(
                f"{a['name']} suggests a plan: load it with the button under the form.", classes=["bc-team-plan"]
            )


@solara.component
def TurnPanel(room, view, token: str, seat: int):
    s = view.seat(seat)
    message, set_message = solara.use_state(None, key=f"msg-{seat}")
    # a new turn starts with a clean slate; a refusal stays while its turn is open
    solara.use_effect(lambda: set_message(None) if s.turn_id is not None else None, [s.turn_id])
    with solara.Card(classes=["bc-turn"]):
        if s.agent_note:
            solara.Info(s.agent_note, dense=True, classes=["bc-agent-note"])
        TeamAdvice(room, view, token, seat)
        if s.turn_kind == "propose":
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Text(
                    f"Your turn: put a plan on the table (week {s.turn_week}).",
                    style={"font-size": "18px", "font-weight": "600"},
                    classes=["bc-your-turn"],
                )
                Countdown(s.turn_deadline)
            PlanForm(room, view, token, seat, s.turn_id, s.turn_week, set_message).key(f"plan-{s.turn_id}")
        elif s.turn_kind == "respond":
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
                solara.Text(
                    f"Your turn: accept or reject the offer (week {s.turn_week}).",
                    style={"font-size": "18px", "font-weight": "600"},
                    classes=["bc-your-turn"],
                )
                Countdown(s.turn_deadline)
            if view.current:
                solara.HTML(tag="div", unsafe_innerHTML=esc(view.current), classes=["bc-current"])
            b = get_brief(room, token, seat)
            if b is not None and b["offer_score"] is not None:
                solara.HTML(
                    tag="div",
                    unsafe_innerHTML=f"This offer is worth <b>{min(b['offer_score'], 100):.0f}</b> "
                    f"points to you; your bottom line is {b['bottom_line']:.0f}.",
                    classes=["bc-offer-score"],
                )

            def answer(accept: bool):
                send(
                    room,
                    Action("respond", token, seat=seat, turn=s.turn_id, week=s.turn_week, data={"accept": accept}),
                    set_message,
                )

            with solara.Div(classes=["bc-buttons"]):
                solara.Button("Accept", on_click=lambda: answer(True), color="success", classes=["bc-accept"])
                solara.Button("Reject", on_click=lambda: answer(False), color="error", classes=["bc-reject"])
        else:
            if view.done:
                solara.Text("The delivery year is over: see the facilitator's screen for the debrief.")
            elif view.waiting:
                solara.Text(f"Waiting: {view.waiting}.", classes=["bc-waiting"])
            else:
                solara.Text("Not your turn. The facilitator advances the weeks.", classes=["bc-waiting"])
        Message(message)


@solara.component
def ShareBox(i: int, value: float, on_value):
    """A typed share (%), read on Enter or on leaving the box; it then shows the balanced value.

    The box's text is this component's own state, so the form's value and a person's typing
    never fight: the text follows the form whenever the form's value changes.
    """
    text, set_text = solara.use_state(f"{value:.1f}")
    typed = solara.use_ref(text)
    typed.current = text
    solara.use_effect(lambda: set_text(f"{value:.1f}"), [value])
    box = solara.v.TextField(
        v_model=text,
        on_v_model=set_text,
        label="%",
        dense=True,
        hide_details=True,
        class_=f"bc-share-input bc-share-input-{i}",
    )

    def changed(*_):
        balanced = on_value(i, typed.current)
        set_text(f"{balanced:.1f}")

    solara.v.use_event(box, "change", changed)
    return box


@solara.component
def PlanForm(
    room, view, token: str, seat: int, turn_id: int, week: int, set_message, verb: str = "propose", lead: str = ""
):
    """The plan form: `verb` propose puts the plan on the table; suggest sends it to the team's lead."""
    lim = solara.use_memo(lambda: room.plan_limits(seat), [turn_id])
    start = solara.use_memo(lambda: room.plan_to_form(room.suggestion(seat), seat), [turn_id])
    council, set_council = solara.use_state(start["council_topup_m"])
    ccg, set_ccg = solara.use_state(start["ccg_topup_m"])
    shares, set_shares = solara.use_state(list(start["shares_pct"]))
    ambition, set_ambition = solara.use_state(start["ambition_pct"])
    data = {"council_topup_m": council, "ccg_topup_m": ccg, "shares_pct": shares, "ambition_pct": ambition}
    scored = room.score(token, seat, data)
    m = lim["minimum_gbp"]
    pool = m + (council + ccg) * 1e6
    floors = plans.floors_pct(council, ccg, m)

    def clip(v, hi, default):
        return min(max(round(number(v, default), 1), 0.0), hi)

    def set_share(i, v) -> float:
        new = plans.balance(shares, i, number(v, shares[i]), floors)
        set_shares(new)
        return new[i]

    def load(form):
        set_council(form["council_topup_m"])
        set_ccg(form["ccg_topup_m"])
        set_shares(list(form["shares_pct"]))
        set_ambition(form["ambition_pct"])

    def submit():
        send(room, Action(verb, token, seat=seat, turn=turn_id, week=week, data=data), set_message)

    suggested = [a for a in (room.team_advice(token, seat) or []) if "plan" in a] if verb == "propose" else []

    solara.Text(
        "The model's agent in your seat would propose the plan below; change what you like. Moving one "
        "share moves the others, so the shares always add up to 100%.",
        classes=["bc-muted"],
    )
    with solara.Div(classes=["bc-cols"]):
        with solara.Column(classes=["bc-col-narrow"]):
            Slider(
                f"Council top-up: £{council:.1f}m",
                council,
                0,
                lim["max_topup_m"],
                0.1,
                lambda v: set_council(clip(v, lim["max_topup_m"], council)),
                "bc-plan-council",
            )
            Slider(
                f"CCG top-up: £{ccg:.1f}m",
                ccg,
                0,
                lim["max_topup_m"],
                0.1,
                lambda v: set_ccg(clip(v, lim["max_topup_m"], ccg)),
                "bc-plan-ccg",
            )
            Slider(
                f"Cut in emergency admissions: {ambition:.1f}%",
                ambition,
                0,
                lim["ambition_max_pct"],
                0.1,
                lambda v: set_ambition(clip(v, lim["ambition_max_pct"], ambition)),
                "bc-plan-ambition",
            )
        with solara.Column(classes=["bc-col-narrow"]):
            for i, label in enumerate(LINE_LABELS):
                floor = FLOORS[i] * m
                floor_txt = f", floor {gbp(floor)}" if floor > 0 else ""
                with solara.Div(classes=["bc-share-row"]):
                    Slider(
                        f"{label[0].upper() + label[1:]}: {gbp(shares[i] / 100 * pool)}{floor_txt}",
                        shares[i],
                        0,
                        100,
                        0.1,
                        lambda v, i=i: set_share(i, v),
                        f"bc-plan-share-{i}",
                    )
                    ShareBox(i, shares[i], set_share)
    total = sum(shares)
    summary = f"Pool {gbp(pool)} · shares add up to {total:.1f}%"
    if scored.ok:
        summary += f" · worth {scored.data['score']:.0f} of 100 points to you"
    solara.Text(summary, classes=["bc-plan-summary"], style={"font-weight": "600"})
    if not scored.ok:
        solara.Text(
            f"As it stands this plan would be refused: {scored.message}",
            classes=["bc-plan-hint"],
            style={"color": "#b35c00"},
        )
    with solara.Div(classes=["bc-buttons"]):
        if verb == "propose":
            solara.Button("Put this plan on the table", on_click=submit, color="primary", classes=["bc-propose"])
        else:
            solara.Button(f"Suggest this plan to {lead}", on_click=submit, color="primary", classes=["bc-suggest"])
        solara.Button(
            "Make 100%", on_click=lambda: set_shares(plans.make_100(shares, floors)), text=True, classes=["bc-make-100"]
        )
        solara.Button(
            "Back to the agent's suggestion", on_click=lambda: load(start), text=True, classes=["bc-back-to-agent"]
        )
        if view.offers:
            solara.Button(
                "Start from the last offer",
                text=True,
                classes=["bc-last-offer"],
                on_click=lambda: load(room.plan_to_form(view.offers[-1].plan, seat)),
            )
        for a in suggested:
            solara.Button(
                f"Load {a['name']}'s suggestion",
                text=True,
                classes=["bc-load-suggestion"],
                on_click=lambda a=a: load(room.plan_to_form(np.asarray(a["plan"]), seat)),
            )
