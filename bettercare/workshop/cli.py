"""`bettercare workshop`: the command that starts the workshop room.

Register it on the main app with one line (cli.py):

    from bettercare.workshop.cli import workshop; app.command()(workshop)

This module imports nothing heavy, so `bettercare --help` stays fast.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer


def workshop(
    host: Annotated[str, typer.Option(help="Address to listen on. 127.0.0.1 keeps the room on this machine; "
                                           "0.0.0.0 lets laptops on the network join (with the room code).")
                    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8765,
    scenario: Annotated[str, typer.Option("--scenario", "-s", metavar="NAME",
                                          help="Preset to start with (the facilitator can change it).")
                        ] = "england-2014",
    area: Annotated[list[str] | None, typer.Option("--area", metavar="NAME",
                                                   help="Area to start with, by name (repeatable; default Wigan).")
                    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the model.")] = 1,
    room_code: Annotated[str | None, typer.Option("--room-code", metavar="CODE",
                                                  help="A fixed room code (e.g. printed on handouts); "
                                                       "default: a random one.")] = None,
) -> None:
    """Start the workshop room: a browser app where trainers run the partnership and participants take a seat."""
    from bettercare.model.scenario import ScenarioError

    from .server import WorkshopError, serve

    try:
        serve(host=host, port=port, preset=scenario, areas=area, seed=seed, room_code=room_code)
    except (WorkshopError, ScenarioError) as exc:
        sys.stderr.write(f"error: {' '.join(str(exc).split())}\n")
        raise typer.Exit(code=2) from None


def main() -> None:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(workshop)
    app()
