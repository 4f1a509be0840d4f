"""bettercare: an agent-based model of England's Better Care Fund.

`from bettercare import run` is the entry point; heavy imports happen on first use, so that
the command line starts fast.
"""

from __future__ import annotations

from bettercare import arithmetic

arithmetic.pin()  # before anything imports numpy: the same bits on every machine (arithmetic.py)

__version__ = "0.1.0"
__all__ = ["run", "__version__"]


def __getattr__(name: str):
    if name == "run":
        from bettercare.model.run import run

        return run
    raise AttributeError(f"module 'bettercare' has no attribute {name!r}")
