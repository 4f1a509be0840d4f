"""The welcome page and the join page. Neither shows the room code: people get it from the
facilitator's or the projector's screen, and wrong codes are rate-limited."""

from __future__ import annotations

import solara

from ..access import LINKS, SEAT_COOKIE, Link, cookie_name
from ..room import Action
from .common import Message, Redirect, TopBar, browser_id, room_path, seat_tokens, send, use_query, use_room, use_view


@solara.component
def Home():
    room = use_room()
    view = use_view(room)
    TopBar(view)
    with solara.Column(style={"padding": "24px", "max-width": "760px"}, classes=["bc-page"]):
        solara.Text("Welcome to the Better Care Fund partnership workshop.", style={"font-size": "20px"})
        solara.Text(
            "Councils, CCGs and hospitals agree a pooled budget against a deadline. Take a seat at the "
            "table: you will need the room code the facilitator shows."
        )
        with solara.Link(room_path("/join", room.name)):
            solara.Button("Join the table", color="primary", classes=["bc-big-button"])
        solara.Text("Facilitators: open the link printed when the workshop was started.", classes=["bc-muted"])


@solara.component
def Join():
    room = use_room()
    view = use_view(room)
    q = use_query()
    code, set_code = solara.use_state(q.get("code", ""))
    name, set_name = solara.use_state("")
    message, set_message = solara.use_state(None)
    go, set_go = solara.use_state("")
    tokens = seat_tokens(room.name)

    def take(seat: int):
        out = send(
            room,
            Action(
                "join", tokens[0] if tokens else "", seat=seat, client=browser_id(), data={"code": code, "name": name}
            ),
            set_message,
        )
        if out.ok:
            keep = [t for t in tokens if room.seat_of(t) is not None and t != out.data["token"]]
            allowed = room.settings.seats_per_browser
            value = ".".join(([out.data["token"]] + keep)[: max(allowed, 1)])
            set_go(
                f"/k/{LINKS.issue(Link(cookie_name(SEAT_COOKIE, room.name), value, room_path('/seat', room.name), room.name))}"
            )

    TopBar(view, "Take a seat")
    if go:
        Redirect(url=go)
        with solara.Column(style={"padding": "20px"}):
            solara.Text("Opening your seat…")
            solara.HTML(tag="a", unsafe_innerHTML="Open my seat", attributes={"href": go})
        return
    with solara.Column(style={"padding": "20px", "max-width": "820px"}, classes=["bc-page"]):
        names = [name for _, name, _ in view.tables]
        where = f"The {view.area_name} table" if len(names) < 2 else f"{len(names)} tables: {', '.join(names)}"
        solara.Text(
            f"{where}. Choose a free seat: the model's agents play the others. "
            "The centre's seat gives NHS England's assurance verdicts on every area's plan.",
            style={"font-size": "17px"},
        )
        solara.InputText("Room code", value=code, on_value=set_code, continuous_update=True)
        solara.InputText("Your name", value=name, on_value=set_name, continuous_update=True)

        def card(s):
            with solara.Column(classes=["bc-seat", f"bc-join-seat-{s.index}"], gap="2px"):
                solara.Text(s.label, classes=["bc-kind"])
                solara.Text(s.name, style={"font-weight": "600"})
                if s.person:
                    solara.Text(f"taken by {', '.join(s.team)}", classes=["bc-muted"])
                    if len(s.team) < view.team_size:
                        solara.Button(
                            f"Join {s.person}'s team",
                            on_click=lambda i=s.index: take(i),
                            small=True,
                            classes=[f"bc-take-{s.index}", "bc-join-team"],
                        )
                else:
                    solara.Button(
                        f"Sit as {s.name}",
                        on_click=lambda i=s.index: take(i),
                        color="primary",
                        small=True,
                        classes=[f"bc-take-{s.index}"],
                    )

        for _area, table_name, seats in view.tables or [(view.area, view.area_name, view.seats)]:
            if len(names) > 1:
                solara.Text(f"The {table_name} table", classes=["bc-table-name"], style={"font-weight": "600"})
            with solara.Row(style={"flex-wrap": "wrap"}):
                for s in seats:
                    card(s)
        with solara.Row(style={"flex-wrap": "wrap"}):
            card(view.centre)
        Message(message)
