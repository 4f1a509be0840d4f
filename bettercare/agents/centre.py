"""The national centre (NHS England, DH, DCLG): sets the rules, assures plans, pays for performance.

It wants national ambition and savings, plans signed off on time, and dislikes implausible
plans in so far as its limited capacity lets it see them.
"""

from __future__ import annotations

import mesa


class Centre(mesa.Agent):
    kind = "centre"

    def __init__(self, model):
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
