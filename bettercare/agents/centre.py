"""The national centre (NHS England, DH, DCLG): sets the rules, assures plans, pays for performance.

It wants national ambition and savings, plans signed off on time, and dislikes implausible
plans in so far as its limited capacity lets it see them. Its review compares a plan's claimed
savings with its own noisy estimate of what the evidence supports (NAO HC 781: plans "biased
towards over-optimism").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import mesa
import numpy as np

from bettercare.vocabulary.plan import Slot, savings_basis, savings_rel
from bettercare.vocabulary.status import Status

if TYPE_CHECKING:
    from bettercare.model.negotiation import Table


@dataclass
class Review:
    """The centre's verdict on one plan, with the figures it rests on."""

    claimed_gbp: float
    assured_gbp: float  # what the centre is confident in: its estimate, capped at the claim
    estimated_return: float
    ratio: float
    verdict: Status
    by: str = "model"  # who gave the verdict: the model's stress test, or a person in the centre's seat


VERDICTS = (Status.APPROVED, Status.CONDITIONS, Status.NOT_APPROVED)


@dataclass(frozen=True)
class Verdict:
    """A verdict given from outside the model, and who gave it."""

    status: Status
    by: str


class Reviewer(Protocol):
    """Someone who may take the centre's assurance decision (a person in a workshop).

    Consulted after the stress test with the model's own `Review`; returns a `Verdict`, or None
    to let the model's verdict stand.
    """

    def review(self, centre: Centre, area: int, review: Review) -> Verdict | None: ...


def check_verdict(status: object) -> Status:
    """The verdict as a `Status`, or ValueError if it is not one the centre may give at assurance."""
    allowed = {str(v) for v in VERDICTS}
    if not isinstance(status, str) or status not in allowed:
        raise ValueError(f"A verdict must be one of {', '.join(sorted(allowed))}; got {str(status)[:40]!r}.")
    return Status(status)


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
        self.reviewer: Reviewer | None = None  # a person taking the verdicts; None: the model decides

    def estimate_return(self, true_mean: float) -> float:
        """Stress-tested return per GBP of scheme spend: the evidence mean, seen through noise."""
        noise = self.model.params.centre.stress_test_noise
        return true_mean * float(self.model.rng.lognormal(0.0, noise))

    def claimed_savings(self, area: int, plan: np.ndarray) -> float:
        m = self.model
        return float(plan[Slot.AMBITION] * m.admissions[area] * m.params.costs.admission_gbp)

    def review(self, area: int, plan: np.ndarray) -> Review:
        """Assure a plan: the stress test's verdict, unless a reviewer gives another.

        The reviewer sees the stress test's figures; its verdict is checked (only the three
        assurance verdicts) and recorded with who gave it. The stress test draws its noise
        first either way, so a reviewer changes verdicts, never the random stream.
        """
        review = self.stress_test(area, plan)
        if self.reviewer is not None:
            given = self.reviewer.review(self, area, review)
            if given is not None:
                review.verdict = check_verdict(given.status)
                review.by = given.by
        return review

    def stress_test(self, area: int, plan: np.ndarray) -> Review:
        """Stress-test a plan: approve it, approve it with conditions, or send it back.

        The centre credits only what scheme evidence supports; social care's spillover onto the
        NHS (DH's 34p per GBP) is a claim the partners may make but the stress test does not count.
        """
        m = self.model
        c = m.params.centre
        claimed = self.claimed_savings(area, plan)
        est_return = self.estimate_return(m.params.delivery.return_mean)
        realistic = (
            float(
                savings_rel(
                    savings_basis(plan[None]), max(est_return, 0.0), 0.0, m.params.planning.spillover_claimed_share
                )[0]
            )
            * m.minimum_gbp[area]
        )
        ratio = claimed / realistic if realistic > 0 else (np.inf if claimed > 0 else 1.0)
        if ratio <= c.approve_ratio and plan[Slot.AMBITION] >= m.rules.ambition_target - 1e-12:
            verdict = Status.APPROVED
        elif ratio <= c.conditions_ratio:
            verdict = Status.CONDITIONS
        else:
            verdict = Status.NOT_APPROVED
        return Review(claimed, min(claimed, realistic), est_return, float(ratio), verdict)

    def verdict_experience(self, verdict: Status) -> float:
        """How the partners live a verdict, for their trust in the centre (H5).

        A verdict's own experience is how far the partners got their plan through as they made
        it: approved outright, with conditions, or (the worst, 0) returned or imposed. An enabling
        centre brings support with every verdict, making up `centre.enabling_support` of the
        shortfall from a good experience; command and control brings only the verdict, and meets
        "who are you to tell me that?".
        """
        c = self.model.params.centre
        own = {Status.APPROVED: c.experience_approved, Status.CONDITIONS: c.experience_conditions}.get(verdict, 0.0)
        if c.style == "enabling":
            return own + c.enabling_support * (1.0 - own)
        return own

    def send_back(self, table: Table, review: Review) -> int:
        """Return a plan; returns the weeks allowed to resubmit it.

        Under either style the partners must bring their claims within what the centre would
        accept with conditions at its estimate (with `centre.resubmit_margin` to spare). An
        enabling centre returns the plan with support: it works through the evidence with the
        partners, removing `centre.support_optimism_cut` of their optimism. Command and control
        returns it with a demand: partners who distrust the centre drag their feet over it.
        """
        c = self.model.params.centre
        table.ceiling_return = max(review.estimated_return, 1e-6) * c.resubmit_margin * c.conditions_ratio
        if c.style == "enabling":
            table.optimism_scale *= 1.0 - c.support_optimism_cut
            return c.resubmit_weeks
        trust_c = float(np.mean([self.model.trust.get(code, self.code) for code in table.codes]))
        distrust = max(0.0, c.foot_dragging_trust - trust_c)
        return int(round(c.resubmit_weeks * (1.0 + c.foot_dragging * distrust)))
