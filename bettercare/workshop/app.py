"""The workshop's routes: one Solara app whose pages live in `pages/`.

Plain Solara rather than Mesa's SolaraViz: SolaraViz gives each browser session its own model
with its own step/play/reset controls, while a workshop needs one model shared by many
browsers, several pages and steps that wait for people. The room (`room.Room`) owns the model;
the pages only read it (`Room.snapshot`) and send actions (`Room.act`).

Routes: `/` (welcome), `/join`, `/seat[?s=SEAT]`, `/facilitator`, `/projector`. Keys are never in
an address: `/k/NONCE` one-time links (served in front of Solara by `server.Gate`) set them in
HTTP-only cookies.
"""

from __future__ import annotations

import solara

from .pages.common import CSS, guarded
from .pages.facilitator import Facilitator
from .pages.join import Home, Join
from .pages.projector import Projector
from .pages.seat import Seat


@solara.component
def Layout(children=None):
    with solara.Column(classes=["bc-root"], gap="0px", style={"padding": "0"}):
        solara.Style(CSS)
        solara.Title("Better Care Fund workshop")
        solara.Column(children=list(children or []), gap="0px")


routes = [  # every page inside an error boundary: no traceback ever reaches a page
    solara.Route(path="/", component=guarded(Home), label="Welcome", layout=Layout),
    solara.Route(path="facilitator", component=guarded(Facilitator), label="Facilitator"),
    solara.Route(path="projector", component=guarded(Projector), label="Projector"),
    solara.Route(path="join", component=guarded(Join), label="Join"),
    solara.Route(path="seat", component=guarded(Seat), label="Seat"),
]

__all__ = ["Layout", "routes"]
