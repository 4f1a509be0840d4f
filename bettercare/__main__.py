"""`python -m bettercare ...` is the `bettercare` command."""

from bettercare.cli import app

app(prog_name="bettercare")
