"""Assurance: the centre stress-tests each plan's claimed savings with limited capacity.

A plan's claim is its ambition times the area's admissions at average cost; the centre's view
is its noisy estimate of the evidence's return on the schemes the plan funds. The ratio of the
two decides the verdict (NAO HC 781: plans "biased towards over-optimism").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .plan import Slot, savings_basis, savings_rel

if TYPE_CHECKING:
    from .model import BetterCareModel
    from .negotiation import Table

APPROVED = "approved"
CONDITIONS = "approved_with_conditions"
NOT_APPROVED = "not_approved"
IMPOSED = "imposed"

# Experience of a verdict for trust in the centre, by the centre's style (H5): command and
# control meets "who are you to tell me that?"; an enabling centre brings support with conditions.
VERDICT_EXPERIENCE = {
    "command": {APPROVED: 0.7, CONDITIONS: 0.2, NOT_APPROVED: 0.0, IMPOSED: 0.0},
    "enabling": {APPROVED: 0.9, CONDITIONS: 0.7, NOT_APPROVED: 0.5, IMPOSED: 0.3},
}


@dataclass
class Review:
    claimed_gbp: float
    assured_gbp: float  # what the centre is confident in: its estimate, capped at the claim
    estimated_return: float
    ratio: float
    verdict: str


def claimed_savings(model: BetterCareModel, area: int, plan: np.ndarray) -> float:
    return float(plan[Slot.AMBITION] * model.admissions[area] * model.params.costs.admission_gbp)


def stress_test(model: BetterCareModel, area: int, plan: np.ndarray) -> Review:
    c = model.params.centre
    claimed = claimed_savings(model, area, plan)
    est_return = model.centre.estimate_return(model.params.delivery.return_mean)
    # The centre credits only what scheme evidence supports; social care's spillover onto the NHS
    # (DH's 34p per GBP) is a claim the partners may make but the stress test does not count.
    realistic = float(savings_rel(savings_basis(plan[None]), max(est_return, 0.0), 0.0)[0]) * model.minimum_gbp[area]
    ratio = claimed / realistic if realistic > 0 else (np.inf if claimed > 0 else 1.0)
    target = model.rules.ambition_target
    if ratio <= c.approve_ratio and plan[Slot.AMBITION] >= target - 1e-12:
        verdict = APPROVED
    elif ratio <= c.conditions_ratio:
        verdict = CONDITIONS
    else:
        verdict = NOT_APPROVED
    return Review(claimed, min(claimed, realistic), est_return, float(ratio), verdict)


def resubmission(model: BetterCareModel, table: Table, review: Review) -> int:
    """Send a plan back: claims now capped by the centre's view; weeks allowed to resubmit.

    Under command and control, partners who distrust the centre drag their feet.
    """
    c = model.params.centre
    # The partners must bring claims within what the centre would accept with conditions.
    table.ceiling_return = max(review.estimated_return, 1e-6) * 0.9 * c.conditions_ratio
    if c.style == "enabling":
        table.optimism_scale *= 0.5
        return 4
    trust_c = np.mean([model.trust.get(code, "CENTRE") for code in table.codes])
    return int(round(4 * (1 + 2 * max(0.0, 0.5 - trust_c))))
