"""`bettercare workshop`: the command that starts the workshop room.

Register it on the main app with one line (cli.py):

    from bettercare.workshop.cli import workshop; app.command()(workshop)

Every setting on the facilitator's screen has a flag here, so a room can be rebuilt the same.
This module imports nothing heavy, so `bettercare --help` stays fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def workshop(
    host: Annotated[
        str,
        typer.Option(
            help="Address to listen on. 127.0.0.1 keeps the room on this machine; "
            "0.0.0.0 lets laptops on the network join (with the room code)."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    session: Annotated[
        str | None,
        typer.Option(
            "--session",
            metavar="NAME",
            help="Save every step to NAME.sqlite in $BETTERCARE_WORKSHOP_SESSIONS (default "
            "~/.local/share/bettercare/workshop); the same NAME after a restart resumes the room: week, log, "
            "settings, key, room code and participants' seats. Settings flags are ignored when resuming.",
        ),
    ] = None,
    scenario: Annotated[
        str,
        typer.Option("--scenario", "-s", metavar="NAME", help="Preset to start with (the facilitator can change it)."),
    ] = "england-2014",
    area: Annotated[
        list[str] | None,
        typer.Option("--area", metavar="NAME", help="Area to start with, by name (repeatable; default Wigan)."),
    ] = None,
    focus: Annotated[
        str | None, typer.Option(metavar="NAME", help="The area people sit at (one of --area; default the first).")
    ] = None,
    table: Annotated[
        list[str] | None,
        typer.Option(
            "--table",
            metavar="NAME",
            help="Another area whose table people sit at, at the same time as the focus area's (repeatable; "
            "each one of --area, sharing no organisation with the others).",
        ),
    ] = None,
    trust: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="Trust between partners (default: the scenario's).")
    ] = None,
    compromise: Annotated[
        float | None,
        typer.Option(
            min=0.05, max=10.0, help="Willingness to compromise (<1 holds out, >1 concedes; default: the scenario's)."
        ),
    ] = None,
    deadline_weeks: Annotated[
        int | None, typer.Option(min=1, max=104, help="Weeks to the first deadline (default: the scenario's).")
    ] = None,
    hospitals: Annotated[
        float | None,
        typer.Option(
            min=0.0, max=1.0, help="Share of areas whose acute trust sits at the table (default: the scenario's)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the model.")] = 1,
    turn_seconds: Annotated[int, typer.Option(min=0, max=3600, help="Turn timer in seconds (0: none).")] = 0,
    play_delay: Annotated[float, typer.Option(min=0.0, max=10.0, help="Seconds between weeks when playing.")] = 0.6,
    seats_per_browser: Annotated[int, typer.Option(min=1, max=6, help="Seats one browser may hold.")] = 1,
    team_size: Annotated[
        int,
        typer.Option(
            min=1, max=8, help="Laptops that may share one seat: the first to join moves, the others see the brief."
        ),
    ] = 1,
    team_advice: Annotated[
        bool,
        typer.Option(
            "--team-advice/--no-team-advice",
            help="Team members may suggest plans and vote on offers, as advice to the member who moves.",
        ),
    ] = False,
    rooms: Annotated[
        int,
        typer.Option(
            min=1,
            max=6,
            help="Rooms on this server, each with its own code, key "
            "and session file (room N at the same pages with ?room=N).",
        ),
    ] = 1,
    room_code: Annotated[
        str | None,
        typer.Option(
            "--room-code",
            metavar="CODE",
            help="A fixed room code of 3-12 letters and digits (e.g. printed on handouts); default: a random one.",
        ),
    ] = None,
) -> None:
    """Start the workshop room: a browser app where trainers run the partnership and participants take a seat."""
    from bettercare.model.scenario import ScenarioError

    from .server import WorkshopError, serve
    from .settings import Settings

    try:
        areas = list(area) if area else ([focus] if focus else None)
        if focus is not None and areas and focus not in areas:
            raise WorkshopError(f"--focus {focus!r} is not one of the --area values ({', '.join(areas)})")
        for name in table or []:
            if name not in (areas or []):
                raise WorkshopError(f"--table {name!r} is not one of the --area values ({', '.join(areas or [])})")
        settings = Settings.for_preset(
            scenario,
            areas,
            focus=focus,
            trust=trust,
            compromise=compromise,
            deadline_weeks=deadline_weeks,
            hospitals=hospitals,
            seed=seed,
            turn_seconds=turn_seconds,
            play_delay=play_delay,
            seats_per_browser=seats_per_browser,
            team_size=team_size,
            team_advice=team_advice,
            tables=list(table or []),
        )
        serve(settings, host=host, port=port, room_code=room_code, session=session, rooms=rooms)
    except (WorkshopError, ScenarioError) as exc:
        sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
        raise typer.Exit(code=2) from None
    except KeyboardInterrupt:
        pass


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(workshop)
    app()
