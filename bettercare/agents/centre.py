"""The national centre (NHS England, DH, DCLG): sets the rules, assures plans, pays for performance.

It wants national ambition and savings, plans signed off on time, and dislikes implausible
plans in so far as its limited capacity lets it see them. Its review compares a plan's claimed
savings with its own noisy estimate of what the evidence supports (NAO HC 781: plans "biased
towards over-optimism").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from bettercare.vocabulary.plan import Slot, savings_basis, savings_rel
from bettercare.vocabulary.status import Status

if TYPE_CHECKING:
    from bettercare.model.negotiation import Table

# Experience of a verdict for trust in the centre, by the centre's style (H5): command and
# control meets "who are you to tell me that?"; an enabling centre brings support with conditions.
VERDICT_EXPERIENCE = {
    "command": {Status.APPROVED: 0.7, Status.CONDITIONS: 0.2, Status.NOT_APPROVED: 0.0, Status.IMPOSED: 0.0},
    "enabling": {Status.APPROVED: 0.9, Status.CONDITIONS: 0.7, Status.NOT_APPROVED: 0.5, Status.IMPOSED: 0.3},
}


@dataclass
class Review:
    """The centre's verdict on one plan, with the figures it rests on."""

    claimed_gbp: float
    assured_gbp: float  # what the centre is confident in: its estimate, capped at the claim
    estimated_return: float
    ratio: float
    verdict: Status


class Centre(mesa.Agent):
    kind = "centre"

    def __init__(self, model: mesa.Model):
        super().__init__(model)
        self.code = "CENTRE"
        self.name = "The centre"
        c = model.params.centre
        self.style = c.style
        self.capacity = c.capacity
        self.queue: list[int] = []  # area indices waiting for assurance, first in first out

    def estimate_return(self, true_mean: float) -> float:
        """Stress-tested return per GBP of scheme spend: the evidence mean, seen through noise."""
        noise = self.model.params.centre.stress_test_noise
        return true_mean * float(self.model.rng.lognormal(0.0, noise))

    def claimed_savings(self, area: int, plan: np.ndarray) -> float:
        m = self.model
        return float(plan[Slot.AMBITION] * m.admissions[area] * m.params.costs.admission_gbp)

    def review(self, area: int, plan: np.ndarray) -> Review:
        """Stress-test a plan: approve it, approve it with conditions, or send it back.

        The centre credits only what scheme evidence supports; social care's spillover onto the
        NHS (DH's 34p per GBP) is a claim the partners may make but the stress test does not count.
        """
        m = self.model
        c = m.params.centre
        claimed = self.claimed_savings(area, plan)
        est_return = self.estimate_return(m.params.delivery.return_mean)
        realistic = float(savings_rel(savings_basis(plan[None]), max(est_return, 0.0), 0.0)[0]) * m.minimum_gbp[area]
        ratio = claimed / realistic if realistic > 0 else (np.inf if claimed > 0 else 1.0)
        if ratio <= c.approve_ratio and plan[Slot.AMBITION] >= m.rules.ambition_target - 1e-12:
            verdict = Status.APPROVED
        elif ratio <= c.conditions_ratio:
            verdict = Status.CONDITIONS
        else:
            verdict = Status.NOT_APPROVED
        return Review(claimed, min(claimed, realistic), est_return, float(ratio), verdict)

    def send_back(self, table: Table, review: Review) -> int:
        """Return a plan: claims now capped by the centre's view; returns the weeks allowed to
        resubmit. Under command and control, partners who distrust the centre drag their feet."""
        c = self.model.params.centre
        # The partners must bring claims within what the centre would accept with conditions.
        table.ceiling_return = max(review.estimated_return, 1e-6) * 0.9 * c.conditions_ratio
        if c.style == "enabling":
            table.optimism_scale *= 0.5
            return 4
        trust_c = np.mean([self.model.trust.get(code, self.code) for code in table.codes])
        return int(round(4 * (1 + 2 * max(0.0, 0.5 - trust_c))))
