"""The facilitator's screen: run the weeks, change the settings, free seats, export. It needs the
facilitator's key cookie, set by the one-time link the command prints."""

from __future__ import annotations

import time

import solara

from bettercare.model.areas import england

from .. import figures
from ..export import room_offers, session_zip, to_csv
from ..room import Action
from ..settings import PRESET_LABEL, WORKSHOP_PRESETS, preset_label
from .common import (
    SPEEDS,
    TIMERS,
    Clock,
    Figure,
    Message,
    Narrative,
    OutcomeCards,
    Slider,
    TopBar,
    esc,
    facilitator_key,
    room_path,
    send,
    use_room,
    use_view,
)
from .debrief import Debrief


@solara.component
def Facilitator():
    room = use_room()
    shown, set_shown = solara.use_state(0)  # which of the tables people sit at "The table" shows
    people = list(room.people)
    view = use_view(room, people[shown] if shown < len(people) else None)
    key = facilitator_key(room.name)
    section, set_section = solara.use_state("The table")
    message, set_message = solara.use_state(None)
    solara.use_effect(lambda: set_message(None), [view.tick, view.generation])  # old messages go when it moves on
    # one `do` for the page's life: the settings card, whose other argument is the settings, then
    # renders again only when a setting changes, not at every move of the table
    do = solara.use_memo(lambda: lambda kind, **kw: send(room, Action(kind, key, **kw), set_message), [id(room), key])
    if not room.is_facilitator(key):
        TopBar(view)
        with solara.Column(style={"padding": "20px"}, classes=["bc-page"]):
            solara.Error(
                "This page is for the facilitator: open the one-time link printed when the workshop "
                "was started, in this browser.",
                classes=["bc-not-facilitator"],
            )
            with solara.Link(room_path("/join", room.name)):
                solara.Button("Join the table as a participant", color="primary")
        return

    TopBar(view, f"Facilitator · {preset_label(view.settings.preset)}", show_code=True)
    with solara.Div(classes=["bc-cols"], style={"padding": "10px"}):
        with solara.Column(classes=["bc-side"]):
            Controls(room, view, do)
            SettingsCard(view.settings, do)
        with solara.Column(classes=["bc-main"]).key(f"gen-{view.generation}"):
            Clock(view)
            Message(message)
            if view.error:
                solara.Error(view.error)
            Seats(view, do)
            if view.waiting:
                with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
                    solara.Info(f"The table is {view.waiting}.", classes=["bc-waiting"], dense=True)
                    solara.Button(
                        "Let the agents answer", on_click=lambda: do("skip"), color="warning", classes=["bc-skip"]
                    )
            solara.ToggleButtonsSingle(
                section,
                values=["The table", "Debrief", "Log and export"],
                on_value=set_section,
                classes=["bc-sections"],
            )
            if section == "The table":
                if len(view.tables) > 1:
                    names = [name for _, name, _ in view.tables]
                    solara.ToggleButtonsSingle(
                        view.area_name,
                        values=names,
                        on_value=lambda v: set_shown(names.index(v)),
                        classes=["bc-table-choice"],
                    )
                TableSection(view)
            elif section == "Debrief":
                Debrief(room, view, do)
            else:
                LogExport(room, view)


@solara.component
def Controls(room, view, do):
    confirm, set_confirm = solara.use_state(False)
    with solara.Card("Run", margin=0):
        with solara.Div(classes=["bc-buttons"]):
            solara.Button(
                "Step",
                on_click=lambda: do("step", tick=view.tick),
                color="primary",
                disabled=view.busy or view.done,
                classes=["bc-step"],
            )
            if view.playing:
                solara.Button("Pause", on_click=lambda: do("pause"), classes=["bc-pause"])
            else:
                solara.Button("Play", on_click=lambda: do("play"), disabled=view.done, classes=["bc-play"])
            solara.Button("Run to the end", on_click=lambda: do("run"), disabled=view.done, classes=["bc-run"])
        solara.Button(
            "Reset…",
            on_click=lambda: set_confirm(True),
            color="error",
            text=True,
            classes=["bc-reset"],
            style={"margin-top": "12px"},
        )
        solara.lab.ConfirmationDialog(
            confirm,
            on_close=lambda: set_confirm(False),
            title="Start the room again?",
            content="Every page goes back to week 0: the offers, the log of this run's table, people's messages "
            "and the replay are cleared. People keep their seats. This cannot be undone.",
            ok="Yes, start again",
            on_ok=lambda: do("reset"),
            cancel="No, keep playing",
        )
        if view.pending_settings:
            solara.Warning(
                "Some settings change the table itself: press Reset to start again with them.",
                dense=True,
                classes=["bc-pending"],
            )
        secs = view.settings.turn_seconds
        timer = next((k for k, v in TIMERS.items() if v == secs), f"{secs} s")
        solara.Select(
            "Turn timer",
            values=list(TIMERS) if timer in TIMERS else [*TIMERS, timer],
            value=timer,
            on_value=lambda v: do("timer", data={"seconds": TIMERS.get(v, 0)}),
        )
        speed = min(SPEEDS, key=lambda k: abs(SPEEDS[k] - view.settings.play_delay))
        solara.Select(
            "Speed of play",
            values=list(SPEEDS),
            value=speed,
            on_value=lambda v: do("configure", data={"play_delay": SPEEDS.get(v, 0.6)}),
        )


@solara.component
def SettingsCard(s, do):

    all_areas = solara.use_memo(lambda: sorted(england().areas.area_name), [])
    names = [name for name, _, _ in WORKSHOP_PRESETS]
    if s.preset not in names:
        names.append(s.preset)  # a preset started from the command line shows as itself
    labels = [preset_label(n) for n in names]
    by_label = dict(zip(labels, names))
    with solara.Card("Settings", margin=0):
        solara.Select(
            "Scenario",
            values=labels,
            value=preset_label(s.preset),
            on_value=lambda v: do("configure", data={"preset": by_label.get(v, v)}),
        )
        solara.SelectMultiple(
            "Areas",
            values=list(s.areas),
            all_values=all_areas,
            on_value=lambda v: do("configure", data={"areas": list(v)}),
        )
        if len(s.areas) > 1:
            solara.Select(
                "People sit at",
                values=list(s.areas),
                value=s.focus,
                on_value=lambda v: do("configure", data={"focus": v}),
            )
            with solara.Div(classes=["bc-set-tables"]):
                solara.SelectMultiple(
                    "People also sit at (tables at the same time)",
                    values=[t for t in s.tables if t in s.areas and t != s.focus],
                    all_values=[a for a in s.areas if a != s.focus],
                    on_value=lambda v: do("configure", data={"tables": list(v)}),
                )
        Slider(
            f"Trust between partners: {s.trust:.2f}",
            s.trust,
            0,
            1,
            0.05,
            lambda v: do("configure", data={"trust": v}),
            "bc-set-trust",
        )
        Slider(
            f"Willingness to compromise: {s.compromise:.1f}",
            s.compromise,
            0.1,
            5,
            0.1,
            lambda v: do("configure", data={"compromise": v}),
            "bc-set-compromise",
        )
        Slider(
            f"Weeks to the first deadline: {s.deadline_weeks}",
            s.deadline_weeks,
            2,
            52,
            1,
            lambda v: do("configure", data={"deadline_weeks": v}),
            "bc-set-deadline",
            integer=True,
        )
        Slider(
            f"Hospitals at the table: {s.hospitals:.0%} of areas",
            s.hospitals,
            0,
            1,
            0.25,
            lambda v: do("configure", data={"hospitals": v}),
            "bc-set-hospitals",
        )
        solara.InputInt("Seed", value=s.seed, on_value=lambda v: do("configure", data={"seed": v}))
        Slider(
            f"Laptops per seat (a team): {s.team_size}",
            s.team_size,
            1,
            8,
            1,
            lambda v: do("configure", data={"team_size": v}),
            "bc-set-team",
            integer=True,
        )
        with solara.Div(classes=["bc-set-team-advice"]):
            solara.Checkbox(
                label="Team members may suggest plans and vote on offers (advice to the one who moves)",
                value=s.team_advice,
                on_value=lambda v: do("configure", data={"team_advice": v}),
            )
        Slider(
            f"Seats one browser may hold: {s.seats_per_browser}",
            s.seats_per_browser,
            1,
            6,
            1,
            lambda v: do("configure", data={"seats_per_browser": v}),
            "bc-set-seats",
            integer=True,
        )
        solara.Text(
            "Trust and compromise change the running model at once (new leaders, new instructions). "
            "The rest start the room again. Each setting is also a flag of `bettercare workshop`.",
            classes=["bc-muted"],
        )


@solara.component
def Seats(view, do, controls: bool = True):
    several = len(view.tables) > 1
    seats = [s for _, _, ss in view.tables for s in ss] if several else list(view.seats)
    tables = {s.index: name for _, name, ss in view.tables for s in ss}
    with solara.Row(style={"flex-wrap": "wrap"}, classes=["bc-seats"]):
        for s in [*seats, view.centre]:
            turn = s.turn_kind is not None
            with solara.Column(
                classes=["bc-seat", f"bc-seat-{s.index}"] + (["bc-seat-turn"] if turn else []), gap="1px"
            ):
                solara.Text(
                    f"{s.label} · {tables[s.index]}" if several and s.index in tables else s.label, classes=["bc-kind"]
                )
                solara.Text(s.name, style={"font-weight": "600"})
                solara.Text(
                    f"played by {', '.join(s.team)}" if s.person else "played by the model's agent",
                    classes=["bc-muted", "bc-played-by"],
                )
                if turn:
                    solara.Text(
                        {"propose": "to propose", "respond": "to answer"}.get(s.turn_kind, "to give a verdict"),
                        style={"color": "#b35c00", "font-weight": "600"},
                    )
                if s.person and controls:
                    solara.Button(
                        "Free this seat", on_click=lambda i=s.index: do("free_seat", seat=i), text=True, small=True
                    )
        if view.outsiders:
            with solara.Column(classes=["bc-seat"], gap="1px", style={"opacity": "0.6"}):
                solara.Text("not at the table", classes=["bc-kind"])
                for o in view.outsiders:
                    solara.Text(o)


@solara.component
def TableSection(view):
    Narrative(view)
    with solara.Div(classes=["bc-cols"]):
        Figure(
            figures.dance(view.parties, view.offers, view.deadlines),
            caption=f"{len(view.offers)} offers so far. The negotiation dance: what each offer was worth to "
            "each party.",
            cls="bc-dance",
            height=380,
            grow="1.5 1 520px",
        )
        Figure(
            figures.trust(view.parties, view.trust, view.outsiders),
            caption=f"Mean trust at the table: {view.mean_trust:.2f}",
            cls="bc-trust",
            height=380,
        )
    with solara.Div(classes=["bc-cols"]):
        Figure(
            figures.pool(view.plan_now, view.minimum_gbp, view.plan_kind),
            caption=pool_caption(view),
            cls="bc-pool",
            height=300,
        )
        Figure(
            figures.trust_over_time([(view.area_name, view.trust_history)]),
            caption="Mean trust at the table, step by step.",
            cls="bc-trust-time",
            height=300,
        )
    if len(view.areas) > 1:
        solara.Text("All areas in this run", style={"font-weight": "600"})
        solara.HTML(
            tag="div",
            unsafe_innerHTML="; ".join(f"<b>{esc(n)}</b>: {esc(st)}" for n, st in view.areas),
            classes=["bc-muted"],
        )
    if view.outcome is not None:
        OutcomeCards(view.outcome["area"], view.outcome["months"])


def pool_caption(view) -> str:
    if view.plan_now is None:
        return "Nothing on the table yet."
    word = {"agreed": "Agreed plan", "imposed": "Plan imposed by the centre", "offer": "Last offer"}[view.plan_kind]
    if view.plan_kind == "agreed" and view.phase == "pause":
        word = "Agreed plan, to be reopened after the pause"
    return f"{word}: the pool by scheme line; black marks are the mandated floors."


@solara.component
def LogExport(room, view):

    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FileDownload(
            lambda: session_zip(room),
            filename=f"workshop-{view.code}.zip",
            label="Download the session (offers CSV, charts as PNG)",
            mime_type="application/zip",
        )
        solara.FileDownload(
            lambda: to_csv(room_offers(room)),
            filename=f"offers-{view.code}.csv",
            label="Offers only (CSV)",
            mime_type="text/csv",
        )
    solara.Text("The log", style={"font-weight": "600"})
    with solara.Column(gap="1px", classes=["bc-log"]):
        for e in reversed(view.log):
            colour = "#333" if e.ok else "#b00020"
            solara.Text(
                f"{time.strftime('%H:%M:%S', time.localtime(e.time))} · {e.who}: {e.text}",
                style={"color": colour, "font-size": "13px"},
            )


__all__ = ["Facilitator", "PRESET_LABEL", "Seats", "TableSection", "pool_caption"]
