"""The organisations of the Better Care Fund as Mesa agents."""

from .acute_trust import AcuteTrust
from .ccg import CCG
from .centre import Centre
from .council import Council
from .organisation import Organisation

KINDS = {"council": Council, "ccg": CCG, "acute": AcuteTrust}

__all__ = ["AcuteTrust", "CCG", "Centre", "Council", "KINDS", "Organisation"]
