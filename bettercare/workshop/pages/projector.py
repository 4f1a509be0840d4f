"""The projector: a key-less, read-only view for the big screen.

Large type, the story sentence at the top, the negotiation dance and the trust chart above the
fold at 1280x720, the room code and the join address for latecomers, and no controls: nothing
on this page sends an action, so it is safe to leave on a screen anyone can photograph.
"""

from __future__ import annotations

import solara

from .. import figures
from ..story import short_line
from .common import Clock, Figure, TopBar, esc, room_path, use_query, use_room, use_view


@solara.component
def Projector():
    """With people at several tables, `?table=N` shows the Nth (1 is the focus table)."""
    room = use_room()
    q = use_query()
    try:
        pick = int(q.get("table", "1")) - 1
    except ValueError:
        pick = 0
    people = list(room.people)
    view = use_view(room, people[pick] if 0 <= pick < len(people) else None)
    TopBar(view, "On the screen", show_code=True)
    with solara.Column(classes=["bc-projector", "bc-page"], style={"padding": "8px 18px"}, gap="6px"):
        if len(view.tables) > 1:
            links = " · ".join(
                f"<b>{esc(name)}</b>"
                if a == view.area
                else f"<a href='{room_path(f'/projector?table={k + 1}', room.name)}'>{esc(name)}</a>"
                for k, (a, name, _) in enumerate(view.tables)
            )
            solara.HTML(tag="div", unsafe_innerHTML=f"Tables: {links}", classes=["bc-projector-tables"])
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap", "gap": "24px"}):
            Clock(view)
            people = [s for s in view.seats if s.person]
            shown = view.seats if len(view.seats) <= 4 else people
            seats = "; ".join(f"{s.name}: {s.person or 'agent'}" + (" (to move)" if s.turn_kind else "") for s in shown)
            if len(shown) < len(view.seats):
                seats += ("; " if seats else "") + f"the model's agents play {len(view.seats) - len(shown)} seats"
            if view.centre is not None and view.centre.person:
                c = view.centre
                seats += f"; {c.name}: {c.person}" + (" (to give a verdict)" if c.turn_kind else "")
            solara.Text(seats, classes=["bc-muted", "bc-projector-seats"], style={"font-size": "16px"})
        story = view.current or (
            view.lines[0][1]
            if view.lines
            else "No offers yet: the first proposer opens when the facilitator steps the model."
        )
        solara.HTML(tag="div", unsafe_innerHTML=esc(short_line(story)), classes=["bc-story"])
        with solara.Div(classes=["bc-cols"], style={"flex-wrap": "nowrap"}):
            Figure(figures.dance(view.parties, view.offers, view.deadlines), cls="bc-dance", height=340, grow="1.6 1 0")
            Figure(figures.trust(view.parties, view.trust, view.outsiders), cls="bc-trust", height=340, grow="1 1 0")
        with solara.Div(classes=["bc-cols"]):
            Figure(
                figures.pool(view.plan_now, view.minimum_gbp, view.plan_kind), cls="bc-pool", height=300, grow="1 1 45%"
            )
            with solara.Column(classes=["bc-lines"], gap="4px", style={"flex": "1 1 40%"}):
                for week, text in view.lines[1:6]:
                    label = f"Week {week}" if week >= 0 else "The centre"
                    solara.HTML(tag="div", unsafe_innerHTML=f"<span class='bc-line-week'>{label}</span>{esc(text)}")
