"""The debrief: outcome cards, trust over time and the side-by-side replay."""

from __future__ import annotations

import solara

from .. import figures
from ..debrief import replay_story, room_stories
from ..replay import PARAMETERS
from ..story import STATUS_LABEL
from .common import Figure, OutcomeCards, Slider, esc


@solara.component
def Story(title: str, sentences: list[str], cls: str):
    with solara.Card(title, margin=0, classes=[cls]):
        solara.HTML(
            tag="ol",
            unsafe_innerHTML="".join(f"<li>{esc(s)}</li>" for s in sentences),
            style="font-size: 16px; line-height: 1.5",
        )


@solara.component
def Debrief(room, view, do):
    stories = solara.use_memo(lambda: room_stories(room, view.deadlines), [view.version])
    for name, story in stories:
        Story(f"What happened at the {name} table", story, "bc-debrief-story")
    if view.outcome is not None:
        OutcomeCards(view.outcome["area"], view.outcome["months"], title=f"After delivery: {view.area_name}")
    else:
        solara.Info("The outcome cards appear after the delivery year: press Run to the end.", dense=True)
    Figure(
        figures.trust_over_time([(view.area_name, view.trust_history)]),
        caption="Trust at the table, step by step.",
        cls="bc-trust-time",
        height=300,
    )
    ReplayPanel(room, view, do)


@solara.component
def ReplayPanel(room, view, do):
    param, set_param = solara.use_state("trust")
    label, lo, hi, step, a0, b0 = PARAMETERS[param]
    a, set_a = solara.use_state(a0, key=f"a-{param}")
    b, set_b = solara.use_state(b0, key=f"b-{param}")
    frame, set_frame = solara.use_state(10_000)
    replay = room.replay
    with solara.Card(
        "Side-by-side replay",
        subtitle="The same table played twice by the model's agents, one setting changed",
        margin=0,
    ):
        with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
            solara.Select(
                "Compare",
                values=list(PARAMETERS),
                value=param,
                on_value=lambda v: set_param(v if v in PARAMETERS else param),
            )
            Slider(f"A: {label} = {a:g}", a, lo, hi, step, set_a, "bc-replay-a")
            Slider(f"B: {label} = {b:g}", b, lo, hi, step, set_b, "bc-replay-b")
            solara.Button(
                "Run both",
                color="primary",
                classes=["bc-replay"],
                on_click=lambda: (set_frame(10_000), do("replay", data={"parameter": param, "a": a, "b": b})),
            )
        if replay is None:
            return

        Story("Why A and B differed", replay_story(replay), "bc-replay-story")
        n = replay.length
        k = min(frame, n - 1)
        Slider(f"Step through the runs: step {k} of {n - 1}", k, 0, n - 1, 1, set_frame, "bc-replay-step", integer=True)
        with solara.Div(classes=["bc-cols"]):
            for i in range(len(replay.runs)):
                ReplayColumn(replay, i, k)
        Figure(
            figures.trust_over_time(
                [(r.label, r.trust_series()) for r in replay.runs], title="Trust over time: A against B"
            ),
            cls="bc-replay-trust",
            height=300,
        )


@solara.component
def ReplayColumn(replay, i: int, k: int):
    run = replay.runs[i]
    rec = run.recorder
    f = run.frames[min(k, len(run.frames) - 1)]
    offers = rec.offers[: f.n_offers]
    tag = "AB"[i]
    with solara.Column(classes=["bc-col", f"bc-replay-{tag}"]):
        solara.Text(f"{tag}: {run.label}", style={"font-weight": "700", "font-size": "17px"})
        week = f"week {f.week}" if f.phase not in ("delivery", "done") else f"month {f.month}"
        solara.Text(
            f"Step {f.tick}, {week}: {STATUS_LABEL.get(f.status, f.status)}"
            + (f", agreed in week {f.agreed_week}" if f.agreed_week is not None else ""),
            classes=["bc-phase"],
        )
        if offers:
            solara.Text(run.sentences.get(offers[-1].oid, ""), classes=["bc-lines"])
        Figure(figures.dance(rec.parties, offers, {}, title=f"{tag}: the negotiation dance"), height=320)
        with solara.Div(classes=["bc-cols"]):
            Figure(figures.trust(rec.parties, f.trust, [o.name for o in rec.outsiders]), height=300, grow="1 1 280px")
            Figure(
                figures.pool(f.on_table, rec.minimum_gbp, "agreed" if f.agreed_week is not None else "offer"),
                height=300,
                grow="1 1 320px",
            )
        if k >= len(run.frames) - 1:
            OutcomeCards(run.outcome["area"], run.outcome["months"], title=f"{tag} after delivery")
