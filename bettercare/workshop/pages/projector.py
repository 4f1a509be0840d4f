"""The projector: a key-less, read-only view for the big screen.

Large type, the story sentence at the top, the negotiation dance and the trust chart above the
fold at 1280x720, the room code and the join address for latecomers, and no controls: nothing
on this page sends an action, so it is safe to leave on a screen anyone can photograph.
"""

from __future__ import annotations

import solara

from .. import charts
from .common import Chart, Clock, TopBar, esc, use_room, use_view


@solara.component
def Projector():
    room = use_room()
    view = use_view(room)
    TopBar(view, "On the screen", show_code=True)
    with solara.Column(classes=["bc-projector", "bc-page"], style={"padding": "8px 18px"}, gap="6px"):
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap", "gap": "24px"}):
            Clock(view)
            seats = "; ".join(f"{s.name}: {s.person or 'agent'}" + (" (to move)" if s.turn_kind else "")
                              for s in view.seats)
            solara.Text(seats, classes=["bc-muted", "bc-projector-seats"], style={"font-size": "16px"})
        story = view.current or (view.lines[0][1] if view.lines else
                                 "No offers yet: the first proposer opens when the facilitator steps the model.")
        solara.HTML(tag="div", unsafe_innerHTML=esc(story), classes=["bc-story"])
        with solara.Div(classes=["bc-cols"], style={"flex-wrap": "nowrap"}):
            Chart(charts.dance_png(view), caption=f"The negotiation dance: {len(view.offers)} offers so far",
                  cls="bc-dance", width="62%")
            Chart(charts.trust_png(view), caption=f"Trust at the table: {view.mean_trust:.2f} on average",
                  cls="bc-trust", width="38%")
        with solara.Div(classes=["bc-cols"]):
            Chart(charts.pool_png(view), cls="bc-pool", width="48%")
            with solara.Column(classes=["bc-lines"], gap="4px", style={"flex": "1 1 40%"}):
                for week, text in view.lines[1:6]:
                    label = f"Week {week}" if week >= 0 else "The centre"
                    solara.HTML(tag="div", unsafe_innerHTML=f"<span class='bc-line-week'>{label}</span>{esc(text)}")
