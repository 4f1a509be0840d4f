"""`python -m bettercare.workshop`: the same as `bettercare workshop`."""

from .cli import main

main()
