"""The organisations of the Better Care Fund as Mesa agents: what each one *does*.

`Organisation` holds the decisions every party at a table makes (propose, respond, learn, with
a `Stance` per table); `Council`, `CCG` and `AcuteTrust` are its kinds (the acute trust also
closes its books at year end); the `Centre` reviews plans.
"""

from .acute_trust import AcuteTrust
from .ccg import CCG
from .centre import VERDICTS, Centre, Review, Reviewer, Verdict, check_verdict
from .council import Council
from .organisation import Organisation, Stance

KINDS = {"council": Council, "ccg": CCG, "acute": AcuteTrust}

__all__ = [
    "AcuteTrust",
    "CCG",
    "Centre",
    "Council",
    "KINDS",
    "Organisation",
    "Review",
    "Reviewer",
    "Stance",
    "VERDICTS",
    "Verdict",
    "check_verdict",
]
