"""The workshop's pages, in Solara: the facilitator's screen, the join page and a participant's seat.

Plain Solara rather than Mesa's SolaraViz: SolaraViz gives each browser session its own model
with its own step/play/reset controls, while a workshop needs one model shared by many
browsers, several pages (facilitator, join, seat) and steps that wait for people. The room
(`room.Room`) owns the model; these components only read it (`Room.snapshot`) and send actions
(`Room.act`). A room change wakes every open page through `use_room_version`.

Routes: `/` (welcome), `/facilitator?key=TOKEN`, `/join[?code=CODE]`, `/seat?t=TOKEN[&s=SEAT]`.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs

import solara
from solara.server import kernel_context

from . import charts, state
from .history import KIND_LABEL
from .replay import PARAMETERS, value_label
from .room import PRESET_LABEL, WORKSHOP_PRESETS, Action
from .story import LINE_LABELS, STATUS_LABEL, gbp, outcome_cards

CSS = """
.bc-root { font-size: 15px; }
.bc-top { background: #1f3b5a; color: white; padding: 10px 18px; align-items: center; }
.bc-top .bc-brand { font-size: 20px; font-weight: 600; }
.bc-code { font-size: 30px; font-weight: 700; letter-spacing: 4px; background: #ffd54f; color: #1f3b5a;
           padding: 2px 14px; border-radius: 6px; }
.bc-clock { font-size: 22px; font-weight: 600; color: #1f3b5a; }
.bc-phase { font-size: 16px; color: #555; }
.bc-current { font-size: 18px; background: #eef4fb; border-left: 5px solid #1f5fa8; padding: 8px 12px; }
.bc-lines { font-size: 14px; line-height: 1.45; }
.bc-line-week { color: #888; font-weight: 600; margin-right: 6px; }
.bc-seat { border: 2px solid #ddd; border-radius: 8px; padding: 6px 10px; min-width: 180px; background: white; }
.bc-seat-turn { border-color: #f0a500; background: #fff8e1; }
.bc-kind { font-size: 11px; text-transform: uppercase; color: #777; letter-spacing: 1px; }
.bc-card-figure { font-size: 26px; font-weight: 700; color: #1f3b5a; }
.bc-outcome { min-width: 190px; max-width: 240px; }
.bc-muted { color: #777; font-size: 13px; }
.bc-caption { color: #555; font-size: 13px; }
.bc-brief li { margin-bottom: 3px; }
.bc-big-button { font-size: 16px !important; }
.bc-slider-label { font-size: 13px; color: #333; margin-bottom: -14px; }
.bc-slider .v-input__slot { margin-bottom: 0; }
"""

_DEBUG = bool(__import__("os").environ.get("BETTERCARE_WORKSHOP_DEBUG"))
TIMERS = {"No timer": 0, "30 seconds": 30, "1 minute": 60, "2 minutes": 120, "5 minutes": 300}
SPEEDS = {"Slow": 1.5, "Normal": 0.6, "Fast": 0.2}


# --- plumbing ------------------------------------------------------------------------------------

def use_query() -> dict[str, str]:
    router = solara.use_router()
    q = parse_qs(router.search or "")
    return {k: v[0] for k, v in q.items() if v}


def use_room_version(room) -> int:
    """Re-render this page whenever the room changes (from any browser or the model's thread)."""
    version, set_version = solara.use_state(room.version)

    def connect():
        ctx = kernel_context.get_current_context()
        wake = threading.Event()
        stop = threading.Event()
        unsubscribe = room.subscribe(wake.set)

        def loop():
            while not stop.is_set():
                wake.wait()
                if stop.is_set() or ctx.closed_event.is_set():
                    break
                stop.wait(0.02)  # changes that come together (a step starting, a turn opening) render once
                wake.clear()
                try:
                    t0 = time.perf_counter()
                    with ctx:
                        set_version(room.version)
                    if _DEBUG:
                        print(f"[render] {threading.current_thread().name} v{room.version} "
                              f"{time.perf_counter() - t0:.3f}s at {time.time() % 100:.3f}", flush=True)
                except Exception:
                    break
                stop.wait(0.05)  # at most 20 renders a second, however busy the room
            unsubscribe()

        threading.Thread(target=loop, name="workshop-view", daemon=True).start()

        def cleanup():
            stop.set()
            wake.set()
        return cleanup

    solara.use_effect(connect, [id(room)])
    return version


def use_view(room):
    version = use_room_version(room)
    return solara.use_memo(room.snapshot, [version, id(room), room.version])


def send(room, action: Action, set_message=None):
    out = room.act(action)
    if set_message is not None:
        set_message((out.ok, out.message))
    return out


@solara.component
def Message(message):
    if message is None:
        return
    ok, text = message
    if ok:
        solara.Success(text, classes=["bc-message", "bc-ok"], dense=True)
    else:
        solara.Error(text, classes=["bc-message", "bc-refused"], dense=True)


@solara.component
def Countdown(deadline: float | None):
    """Seconds left on a turn timer, ticking in this browser only."""
    now, set_now = solara.use_state(time.time())

    def tick():
        if deadline is None:
            return
        ctx = kernel_context.get_current_context()
        stop = threading.Event()

        def loop():
            while not stop.wait(1.0):
                try:
                    with ctx:
                        set_now(time.time())
                except Exception:
                    return
                if time.time() > deadline + 1:
                    return
        threading.Thread(target=loop, daemon=True).start()
        return stop.set
    solara.use_effect(tick, [deadline])
    if deadline is None:
        return
    left = max(0, int(deadline - now))
    solara.Text(f"{left} s left", classes=["bc-timer"], style={"font-weight": "600", "color": "#b35c00"})


# --- shared pieces --------------------------------------------------------------------------------

@solara.component
def TopBar(view, subtitle: str = ""):
    with solara.Row(classes=["bc-top"], justify="space-between",
                    style={"background": "#1f3b5a", "color": "white", "padding": "10px 18px", "align-items": "center"}):
        with solara.Column(gap="0px", style={"background": "transparent"}):
            solara.Text("Better Care Fund workshop", classes=["bc-brand"])
            if subtitle:
                solara.Text(subtitle, style={"font-size": "14px", "opacity": "0.9"})
        with solara.Row(style={"align-items": "center", "background": "transparent"}):
            solara.Text("Room code", style={"font-size": "14px"})
            solara.Text(view.code, classes=["bc-code", "bc-room-code"])
            if view.join_url:
                solara.Text(f"join at {view.join_url}", style={"font-size": "14px"}, classes=["bc-join-url"])


@solara.component
def Clock(view):
    with solara.Column(gap="0px"):
        week = f"Week {view.week}" if view.phase not in ("delivery", "done") else f"Month {view.month}"
        solara.Text(f"{week} · {view.countdown}", classes=["bc-clock"])
        status = view.status
        if view.agreed_week is not None and status == "talking":
            status = f"plan agreed in week {view.agreed_week}, to be submitted at the deadline"
        elif view.agreed_week is not None:
            status = f"{status} (agreed in week {view.agreed_week})"
        solara.Text(f"{view.phase_label} · {view.area_name}: {status}", classes=["bc-phase", "bc-status"])


@solara.component
def Narrative(view, n: int = 8):
    if view.current:
        solara.HTML(tag="div", unsafe_innerHTML=_esc(view.current), classes=["bc-current"])
    if not view.lines:
        if not view.current:
            solara.Text("No offers yet. The first proposer opens when the facilitator steps the model.",
                        classes=["bc-muted", "bc-lines"])
        return
    with solara.Column(gap="4px", classes=["bc-lines"]):
        for week, text in view.lines[:n]:
            with solara.Row(gap="0px"):
                solara.HTML(tag="div", unsafe_innerHTML=f"<span class='bc-line-week'>Week {week}</span>"
                                                        f"{_esc(text)}")


def _esc(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"))


@solara.component
def OutcomeCards(area: dict, months: int, title: str = "After delivery"):
    solara.Text(title, style={"font-weight": "600", "font-size": "16px"})
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["bc-outcomes"]):
        for head, figure, detail in outcome_cards(area, months):
            with solara.Card(head, classes=["bc-outcome"], margin=0):
                solara.Text(figure, classes=["bc-card-figure"])
                solara.HTML(tag="div", unsafe_innerHTML=_esc(detail), classes=["bc-muted"])


@solara.component
def Slider(label: str, value, min, max, step, on_value, cls: str, integer: bool = False):
    """A slider with its label (and value) above it, findable by `cls`."""
    with solara.Column(gap="0px", classes=["bc-slider", cls]):
        solara.Text(label, classes=["bc-slider-label"])
        if integer:
            solara.SliderInt("", value=int(value), min=int(min), max=int(max), step=int(step), on_value=on_value)
        else:
            solara.SliderFloat("", value=float(value), min=min, max=max, step=step, on_value=on_value)


@solara.component
def Chart(png: bytes, caption: str = "", cls: str = "", width: str = "100%"):
    with solara.Column(gap="2px", classes=[cls] if cls else []):
        solara.Image(png, width=width, classes=["bc-chart"])
        if caption:
            solara.Text(caption, classes=["bc-caption"])


# --- the welcome page --------------------------------------------------------------------------------

@solara.component
def Home():
    room = state.room()
    view = use_view(room)
    TopBar(view)
    with solara.Column(style={"padding": "24px", "max-width": "760px"}):
        solara.Text("Welcome to the Better Care Fund partnership workshop.", style={"font-size": "20px"})
        solara.Text("Councils, CCGs and hospitals agree a pooled budget against a deadline. Take a seat at the "
                    "table: you will need the room code on the facilitator's screen.")
        with solara.Link("/join"):
            solara.Button("Join the table", color="primary", classes=["bc-big-button"])
        solara.Text("Facilitators: open the link printed when the workshop was started.", classes=["bc-muted"])


# --- joining ---------------------------------------------------------------------------------------

@solara.component
def Join():
    room = state.room()
    view = use_view(room)
    q = use_query()
    router = solara.use_router()
    code, set_code = solara.use_state(q.get("code", ""))
    name, set_name = solara.use_state("")
    message, set_message = solara.use_state(None)

    def take(seat: int):
        out = send(room, Action("join", q.get("t", ""), seat=seat, data={"code": code, "name": name}), set_message)
        if out.ok:
            router.push(f"/seat?t={out.data['token']}")

    TopBar(view, "Take a seat")
    with solara.Column(style={"padding": "20px", "max-width": "820px"}):
        solara.Text(f"The {view.area_name} table. Choose a free seat: the model's agents play the others.",
                    style={"font-size": "17px"})
        solara.InputText("Room code", value=code, on_value=set_code, continuous_update=True)
        solara.InputText("Your name", value=name, on_value=set_name, continuous_update=True)
        with solara.Row(style={"flex-wrap": "wrap"}):
            for s in view.seats:
                with solara.Column(classes=["bc-seat", f"bc-join-seat-{s.index}"], gap="2px"):
                    solara.Text(s.label, classes=["bc-kind"])
                    solara.Text(s.name, style={"font-weight": "600"})
                    if s.person:
                        solara.Text(f"taken by {s.person}", classes=["bc-muted"])
                    else:
                        solara.Button(f"Sit as {s.name}", on_click=lambda i=s.index: take(i), color="primary",
                                      small=True, classes=[f"bc-take-{s.index}"])
        Message(message)


# --- a participant's seat -------------------------------------------------------------------------------

@solara.component
def Seat():
    room = state.room()
    view = use_view(room)
    q = use_query()
    token = q.get("t", "")
    participant = room.participants.get(token)

    def presence():
        ctx = kernel_context.get_current_context()
        room.attach(token, ctx.id)
        return lambda: room.detach(token, ctx.id)
    solara.use_effect(presence, [token])

    if participant is None:
        TopBar(view, "Not seated")
        with solara.Column(style={"padding": "20px"}):
            solara.Error("This link is not a seat in this room. Join the table again.")
            with solara.Link("/join"):
                solara.Button("Join the table", color="primary")
        return
    own = room.seat_of(token)
    try:
        seat = int(q["s"]) if "s" in q else own
    except ValueError:
        seat = own
    if seat is None or not 0 <= seat < len(view.seats):
        TopBar(view, f"{participant.name}: no seat")
        with solara.Column(style={"padding": "20px"}):
            solara.Warning("You do not have a seat at the table now (you left, the facilitator freed your seat, "
                           "or the table changed). Take a free seat again.")
            with solara.Link(f"/join?t={token}"):
                solara.Button("Choose a seat", color="primary")
        return
    me = view.seats[seat]
    TopBar(view, f"{participant.name} · {me.name} ({me.label})")
    with solara.Column(style={"padding": "14px 18px"}):
        if seat != own:
            mine = view.seats[own].name if own is not None else "no seat"
            solara.Warning(f"You are looking at the seat of {me.name}. You sit as {mine}.", classes=["bc-not-yours"])
        Clock(view)
        with solara.Row(style={"align-items": "flex-start", "flex-wrap": "wrap"}):
            with solara.Column(style={"flex": "1 1 520px", "min-width": "420px"}):
                TurnPanel(room, view, token, seat)
                solara.Text("The table", style={"font-weight": "600", "font-size": "16px"})
                Narrative(view, n=6)
                Chart(charts.pool_png(view), cls="bc-pool", width="520px")
            with solara.Column(style={"flex": "1 1 380px", "min-width": "340px"}):
                Brief(room, view, token, seat)
        with solara.Row():
            solara.Button("Leave the table", on_click=lambda: send(room, Action("leave", token)), text=True,
                          classes=["bc-leave"])


def Heading(text: str):
    return solara.HTML(tag="div", unsafe_innerHTML=_esc(text), style="font-weight: 600; margin-top: 6px")


@solara.component
def Brief(room, view, token: str, seat: int):
    from .views import brief as get_brief

    b = solara.use_memo(lambda: get_brief(room, token, seat), [view.version, token, seat])
    if b is None:
        with solara.Card("Private brief"):
            solara.Text(f"The brief of {view.seats[seat].name} is private to whoever sits there.",
                        classes=["bc-muted"])
        return
    with solara.Card(f"Your brief: {b['name']}", subtitle=f"{b['label']} at the {b['area']} table",
                     classes=["bc-brief"]):
        Heading("What you care about most")
        solara.HTML(tag="ul", unsafe_innerHTML="".join(f"<li>{_esc(x)}</li>" for x in b["priorities"]))
        Heading("Your bottom line")
        bar = (f" The model's agent in your seat would now hold out for offers worth about {b['agent_bar']:.0f}."
               if b["agent_bar"] is not None else "")
        solara.HTML(tag="div", unsafe_innerHTML=_esc(
            f"If nothing is agreed, the centre imposes its minimum plan, worth {b['bottom_line']:.0f} points to you "
            f"(your best plan is worth 100).{bar}"), classes=["bc-bottom-line"])
        Heading("Pressures")
        solara.HTML(tag="ul", unsafe_innerHTML="".join(f"<li>{_esc(x)}</li>" for x in b["pressures"]))
        if b["trust"]:
            Heading("How much you trust the others (0-1)")
            solara.HTML(tag="ul", unsafe_innerHTML="".join(f"<li>{_esc(x)}</li>" for x in b["trust"]))
        if b["own_history"]:
            Chart(charts.dance_png(view, only=seat), caption="Each offer's worth to you, week by week.",
                  cls="bc-own-dance", width="100%")


@solara.component
def TurnPanel(room, view, token: str, seat: int):
    s = view.seats[seat]
    message, set_message = solara.use_state(None, key=f"msg-{seat}")
    # a new turn starts with a clean slate; a refusal stays while its turn is open
    solara.use_effect(lambda: set_message(None) if s.turn_id is not None else None, [s.turn_id])
    with solara.Card(classes=["bc-turn"]):
        if s.turn_kind == "propose":
            with solara.Row(style={"align-items": "center"}):
                solara.Text(f"Your turn: put a plan on the table (week {s.turn_week}).",
                            style={"font-size": "18px", "font-weight": "600"}, classes=["bc-your-turn"])
                Countdown(s.turn_deadline)
            PlanForm(room, view, token, seat, s.turn_id, s.turn_week, set_message).key(f"plan-{s.turn_id}")
        elif s.turn_kind == "respond":
            with solara.Row(style={"align-items": "center"}):
                solara.Text(f"Your turn: accept or reject the offer (week {s.turn_week}).",
                            style={"font-size": "18px", "font-weight": "600"}, classes=["bc-your-turn"])
                Countdown(s.turn_deadline)
            if view.current:
                solara.HTML(tag="div", unsafe_innerHTML=_esc(view.current), classes=["bc-current"])
            from .views import brief as get_brief
            b = get_brief(room, token, seat)
            if b is not None and b["offer_score"] is not None:
                solara.HTML(tag="div", unsafe_innerHTML=f"This offer is worth <b>{b['offer_score']:.0f}</b> points to "
                            f"you; your bottom line is {b['bottom_line']:.0f}.", classes=["bc-offer-score"])

            def answer(accept: bool):
                send(room, Action("respond", token, seat=seat, turn=s.turn_id, week=s.turn_week,
                                  data={"accept": accept}), set_message)
            with solara.Row():
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
def PlanForm(room, view, token: str, seat: int, turn_id: int, week: int, set_message):
    lim = solara.use_memo(room.plan_limits, [turn_id])
    start = solara.use_memo(lambda: room.plan_to_form(room.suggestion(seat)), [turn_id])
    council, set_council = solara.use_state(start["council_topup_m"])
    ccg, set_ccg = solara.use_state(start["ccg_topup_m"])
    shares, set_shares = solara.use_state(list(start["shares_pct"]))
    ambition, set_ambition = solara.use_state(start["ambition_pct"])
    data = {"council_topup_m": council, "ccg_topup_m": ccg, "shares_pct": shares, "ambition_pct": ambition}
    scored = room.score(token, seat, data)
    m = lim["minimum_gbp"]
    pool = m + (council + ccg) * 1e6

    def set_share(i, v):
        new = list(shares)
        new[i] = round(float(v), 1)
        set_shares(new)

    def load(form):
        set_council(form["council_topup_m"])
        set_ccg(form["ccg_topup_m"])
        set_shares(list(form["shares_pct"]))
        set_ambition(form["ambition_pct"])

    def submit():
        send(room, Action("propose", token, seat=seat, turn=turn_id, week=week, data=data), set_message)

    from bettercare.vocabulary.plan import FLOORS
    solara.Text("The model's agent in your seat would propose the plan below; change what you like.",
                classes=["bc-muted"])
    with solara.Row(style={"flex-wrap": "wrap"}):
        with solara.Column(style={"min-width": "260px", "flex": "1"}):
            Slider(f"Council top-up: £{council:.1f}m", council, 0, lim["max_topup_m"], 0.1, set_council,
                   "bc-plan-council")
            Slider(f"CCG top-up: £{ccg:.1f}m", ccg, 0, lim["max_topup_m"], 0.1, set_ccg, "bc-plan-ccg")
            Slider(f"Cut in emergency admissions: {ambition:.1f}%", ambition, 0, lim["ambition_max_pct"], 0.1,
                   set_ambition, "bc-plan-ambition")
        with solara.Column(style={"min-width": "300px", "flex": "1.4"}):
            for i, label in enumerate(LINE_LABELS):
                floor = FLOORS[i] * m
                floor_txt = f", floor {gbp(floor)}" if floor > 0 else ""
                Slider(f"{label[0].upper() + label[1:]}: {shares[i]:.1f}% = {gbp(shares[i] / 100 * pool)}{floor_txt}",
                       shares[i], 0, 100, 0.1, lambda v, i=i: set_share(i, v), f"bc-plan-share-{i}")
    total = sum(shares)
    summary = f"Pool {gbp(pool)} · shares add up to {total:.1f}%"
    if scored.ok:
        summary += f" · worth {scored.data['score']:.0f} points to you"
    solara.Text(summary, classes=["bc-plan-summary"], style={"font-weight": "600"})
    if not scored.ok:
        solara.Text(f"As it stands this plan would be refused: {scored.message}", classes=["bc-plan-hint"],
                    style={"color": "#b35c00"})
    with solara.Row():
        solara.Button("Put this plan on the table", on_click=submit, color="primary", classes=["bc-propose"])
        solara.Button("Back to the agent's suggestion", on_click=lambda: load(start), text=True)
        if view.offers:
            solara.Button("Start from the last offer", text=True,
                          on_click=lambda: load(room.plan_to_form(view.offers[-1].plan)))


# --- the facilitator -----------------------------------------------------------------------------------

@solara.component
def Facilitator():
    room = state.room()
    view = use_view(room)
    q = use_query()
    key = q.get("key", "")
    section, set_section = solara.use_state("The table")
    message, set_message = solara.use_state(None)
    solara.use_effect(lambda: set_message(None), [view.tick])  # an old message goes when the model moves on
    if not room.is_facilitator(key):
        TopBar(view)
        with solara.Column(style={"padding": "20px"}):
            solara.Error("This page is for the facilitator: open the link printed when the workshop was started "
                         "(it carries the facilitator's key).")
            with solara.Link("/join"):
                solara.Button("Join the table as a participant", color="primary")
        return

    def do(kind, **kw):
        send(room, Action(kind, key, **kw), set_message)

    TopBar(view, f"Facilitator · {PRESET_LABEL.get(view.settings.preset, view.settings.preset)}")
    with solara.Row(style={"align-items": "flex-start", "padding": "10px"}, gap="18px"):
        with solara.Column(style={"width": "330px", "flex": "0 0 330px"}):
            Controls(room, view, do)
            Settings(room, view, do)
        with solara.Column(style={"flex": "1", "min-width": "600px"}):
            Clock(view)
            Message(message)
            if view.error:
                solara.Error(view.error)
            Seats(view, do)
            if view.waiting:
                with solara.Row(style={"align-items": "center"}):
                    solara.Info(f"The table is {view.waiting}.", classes=["bc-waiting"], dense=True)
                    solara.Button("Let the agents answer", on_click=lambda: do("skip"), color="warning",
                                  classes=["bc-skip"])
            solara.ToggleButtonsSingle(section, values=["The table", "Debrief", "Log and export"],
                                       on_value=set_section, classes=["bc-sections"])
            if section == "The table":
                TableSection(view)
            elif section == "Debrief":
                Debrief(room, view, do)
            else:
                LogExport(room, view)


@solara.component
def Controls(room, view, do):
    with solara.Card("Run", margin=0):
        with solara.Row(style={"flex-wrap": "wrap"}):
            solara.Button("Step", on_click=lambda: do("step", tick=view.tick), color="primary",
                          disabled=view.busy or view.done, classes=["bc-step"])
            if view.playing:
                solara.Button("Pause", on_click=lambda: do("pause"), classes=["bc-pause"])
            else:
                solara.Button("Play", on_click=lambda: do("play"), disabled=view.done, classes=["bc-play"])
            solara.Button("Run to the end", on_click=lambda: do("run"), disabled=view.done, classes=["bc-run"])
            solara.Button("Reset", on_click=lambda: do("reset"), color="error", text=True, classes=["bc-reset"])
        if view.pending_settings:
            solara.Warning("Some settings change the table itself: press Reset to start again with them.",
                           dense=True, classes=["bc-pending"])
        secs = view.settings.turn_seconds
        timer = next((k for k, v in TIMERS.items() if v == secs), f"{secs} s")
        solara.Select("Turn timer", values=list(TIMERS) if timer in TIMERS else [*TIMERS, timer], value=timer,
                      on_value=lambda v: do("timer", data={"seconds": TIMERS.get(v, 0)}))
        speed = min(SPEEDS, key=lambda k: abs(SPEEDS[k] - view.settings.play_delay))
        solara.Select("Speed of play", values=list(SPEEDS), value=speed,
                      on_value=lambda v: do("configure", data={"play_delay": SPEEDS[v]}))


@solara.component
def Settings(room, view, do):
    from bettercare.model.areas import england

    all_areas = solara.use_memo(lambda: sorted(england().areas.area_name), [])
    s = view.settings
    labels = [label for _, label, _ in WORKSHOP_PRESETS]
    by_label = {label: name for name, label, _ in WORKSHOP_PRESETS}
    with solara.Card("Settings", margin=0):
        solara.Select("Scenario", values=labels, value=PRESET_LABEL.get(s.preset, labels[0]),
                      on_value=lambda v: do("configure", data={"preset": by_label[v]}))
        solara.SelectMultiple("Areas", values=list(s.areas), all_values=all_areas,
                              on_value=lambda v: do("configure", data={"areas": list(v)}))
        if len(s.areas) > 1:
            solara.Select("People sit at", values=list(s.areas), value=s.focus,
                          on_value=lambda v: do("configure", data={"focus": v}))
        Slider(f"Trust between partners: {s.trust:.2f}", s.trust, 0, 1, 0.05,
               lambda v: do("configure", data={"trust": v}), "bc-set-trust")
        Slider(f"Willingness to compromise: {s.compromise:.1f}", s.compromise, 0.1, 5, 0.1,
               lambda v: do("configure", data={"compromise": v}), "bc-set-compromise")
        Slider(f"Weeks to the first deadline: {s.deadline_weeks}", s.deadline_weeks, 2, 52, 1,
               lambda v: do("configure", data={"deadline_weeks": v}), "bc-set-deadline", integer=True)
        Slider(f"Hospitals at the table: {s.hospitals:.0%} of areas", s.hospitals, 0, 1, 0.25,
               lambda v: do("configure", data={"hospitals": v}), "bc-set-hospitals")
        solara.InputInt("Seed", value=s.seed, on_value=lambda v: do("configure", data={"seed": v}))
        solara.Text("Trust and compromise change the running model at once (new leaders, new instructions). "
                    "The rest start the room again.", classes=["bc-muted"])


@solara.component
def Seats(view, do):
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["bc-seats"]):
        for s in view.seats:
            turn = s.turn_kind is not None
            with solara.Column(classes=["bc-seat", f"bc-seat-{s.index}"] + (["bc-seat-turn"] if turn else []),
                               gap="1px"):
                solara.Text(s.label, classes=["bc-kind"])
                solara.Text(s.name, style={"font-weight": "600"})
                solara.Text(f"played by {s.person}" if s.person else "played by the model's agent",
                            classes=["bc-muted", "bc-played-by"])
                if turn:
                    solara.Text("to propose" if s.turn_kind == "propose" else "to answer",
                                style={"color": "#b35c00", "font-weight": "600"})
                if s.person:
                    solara.Button("Free this seat", on_click=lambda i=s.index: do("free_seat", seat=i), text=True,
                                  small=True)
        if view.outsiders:
            with solara.Column(classes=["bc-seat"], gap="1px", style={"opacity": "0.6"}):
                solara.Text("not at the table", classes=["bc-kind"])
                for o in view.outsiders:
                    solara.Text(o)


@solara.component
def TableSection(view):
    Narrative(view)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        Chart(charts.dance_png(view), caption=f"{len(view.offers)} offers so far. The negotiation dance: "
              "what each offer was worth to each party.", cls="bc-dance", width="600px")
        Chart(charts.trust_png(view), caption=f"Mean trust at the table: {view.mean_trust:.2f}",
              cls="bc-trust", width="370px")
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
        Chart(charts.pool_png(view), caption=_pool_caption(view), cls="bc-pool", width="416px")
        Chart(charts.trust_time_png(view), caption="Mean trust at the table, step by step.", cls="bc-trust-time",
              width="416px")
    if len(view.areas) > 1:
        solara.Text("All areas in this run", style={"font-weight": "600"})
        solara.HTML(tag="div", unsafe_innerHTML="; ".join(f"<b>{_esc(n)}</b>: {_esc(st)}" for n, st in view.areas),
                    classes=["bc-muted"])
    if view.outcome is not None:
        OutcomeCards(view.outcome["area"], view.outcome["months"])


def _pool_caption(view) -> str:
    if view.plan_now is None:
        return "Nothing on the table yet."
    word = {"agreed": "Agreed plan", "imposed": "Plan imposed by the centre", "offer": "Last offer"}[view.plan_kind]
    return f"{word}: the pool by scheme line; black marks are the mandated floors."


@solara.component
def Debrief(room, view, do):
    if view.outcome is not None:
        OutcomeCards(view.outcome["area"], view.outcome["months"], title=f"After delivery: {view.area_name}")
    else:
        solara.Info("The outcome cards appear after the delivery year: press Run to the end.", dense=True)
    Chart(charts.trust_time_png(view), caption="Trust at the table, step by step.", cls="bc-trust-time",
          width="520px")
    ReplayPanel(room, view, do)


@solara.component
def ReplayPanel(room, view, do):
    param, set_param = solara.use_state("trust")
    label, lo, hi, step, a0, b0 = PARAMETERS[param]
    a, set_a = solara.use_state(a0, key=f"a-{param}")
    b, set_b = solara.use_state(b0, key=f"b-{param}")
    frame, set_frame = solara.use_state(10_000)
    replay = room.replay
    with solara.Card("Side-by-side replay", subtitle="The same table played twice by the model's agents, one "
                     "setting changed", margin=0):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select("Compare", values=list(PARAMETERS), value=param, on_value=set_param)
            Slider(f"A: {label} = {a:g}", a, lo, hi, step, set_a, "bc-replay-a")
            Slider(f"B: {label} = {b:g}", b, lo, hi, step, set_b, "bc-replay-b")
            solara.Button("Run both", color="primary", classes=["bc-replay"],
                          on_click=lambda: (set_frame(10_000), do("replay", data={"parameter": param, "a": a, "b": b})))
        if replay is None:
            return
        n = replay.length
        k = min(frame, n - 1)
        Slider(f"Step through the runs: step {k} of {n - 1}", k, 0, n - 1, 1, set_frame, "bc-replay-step",
               integer=True)
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"}):
            for i in range(len(replay.runs)):
                ReplayColumn(replay, i, k)
        Chart(charts.cached((id(replay), "trust_time"), lambda: charts.trust_over_time(
            [(r.label, r.trust_series()) for r in replay.runs], title="Trust over time: A against B")),
            cls="bc-replay-trust", width="560px")


@solara.component
def ReplayColumn(replay, i: int, k: int):
    run = replay.runs[i]
    rec = run.recorder
    f = run.frames[min(k, len(run.frames) - 1)]
    offers = rec.offers[:f.n_offers]
    tag = "AB"[i]
    with solara.Column(style={"flex": "1 1 480px", "min-width": "420px"}, classes=[f"bc-replay-{tag}"]):
        solara.Text(f"{tag}: {run.label}", style={"font-weight": "700", "font-size": "17px"})
        week = f"week {f.week}" if f.phase not in ("delivery", "done") else f"month {f.month}"
        solara.Text(f"Step {f.tick}, {week}: {STATUS_LABEL.get(f.status, f.status)}"
                    + (f", agreed in week {f.agreed_week}" if f.agreed_week is not None else ""), classes=["bc-phase"])
        if offers:
            solara.Text(run.sentences.get(offers[-1].oid, ""), classes=["bc-lines"])
        Chart(charts.cached((id(replay), i, f.n_offers, "dance"),
                            lambda: charts.dance(rec.parties, offers, {}, title=f"{tag}: the negotiation dance",
                                                 width=6.2, height=3.2)), width="100%")
        with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
            Chart(charts.cached((id(replay), i, f.tick, "trust"),
                                lambda: charts.trust_network(rec.parties, f.trust, [o.name for o in rec.outsiders],
                                                             width=3.6, height=3.2)), width="290px")
            Chart(charts.cached((id(replay), i, f.tick, "pool"),
                                lambda: charts.pool(f.on_table, rec.minimum_gbp,
                                                    "agreed" if f.agreed_week is not None else "offer",
                                                    width=4.2, height=3.0)), width="340px")
        if k >= len(run.frames) - 1:
            OutcomeCards(run.outcome["area"], run.outcome["months"], title=f"{tag} after delivery")


@solara.component
def LogExport(room, view):
    from .export import room_offers, session_zip

    with solara.Row():
        solara.FileDownload(lambda: session_zip(room), filename=f"workshop-{view.code}.zip",
                            label="Download the session (offers CSV, charts as PNG)", mime_type="application/zip")
        solara.FileDownload(lambda: room_offers(room).to_csv(index=False), filename=f"offers-{view.code}.csv",
                            label="Offers only (CSV)", mime_type="text/csv")
    solara.Text("The log", style={"font-weight": "600"})
    with solara.Column(gap="1px", classes=["bc-log"]):
        for e in reversed(view.log):
            colour = "#333" if e.ok else "#b00020"
            solara.Text(f"{time.strftime('%H:%M:%S', time.localtime(e.time))} · {e.who}: {e.text}",
                        style={"color": colour, "font-size": "13px"})


# --- layout and routes -------------------------------------------------------------------------------------

@solara.component
def Layout(children=None):
    with solara.Column(classes=["bc-root"], gap="0px", style={"padding": "0"}):
        solara.Style(CSS)
        solara.Title("Better Care Fund workshop")
        solara.Column(children=list(children or []), gap="0px")


routes = [
    solara.Route(path="/", component=Home, label="Welcome", layout=Layout),
    solara.Route(path="facilitator", component=Facilitator, label="Facilitator"),
    solara.Route(path="join", component=Join, label="Join"),
    solara.Route(path="seat", component=Seat, label="Seat"),
]

__all__ = ["KIND_LABEL", "Layout", "routes", "value_label"]
