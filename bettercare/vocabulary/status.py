"""Where the model is in the year, and where each area's plan stands.

Both are `StrEnum`s, so they compare equal to their values and print as them in tables.
"""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """The 2014 timetable (docs/ODD.md, "Process overview and scheduling")."""

    PLANNING = "planning"
    PAUSE = "pause"
    REVISED = "revised"
    ASSURANCE = "assurance"
    DELIVERY = "delivery"
    DONE = "done"


class Status(StrEnum):
    """An area's plan: still talked over, waiting for the centre, or the centre's verdict."""

    TALKING = "talking"
    PAUSED = "paused"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    CONDITIONS = "approved_with_conditions"
    NOT_APPROVED = "not_approved"
    IMPOSED = "imposed"


SIGNED_OFF = (Status.APPROVED, Status.CONDITIONS)
