"""The CCG: wants emergency admissions down and its books balanced.

NHS money moved to social care above the floor is money it no longer controls; under the
revised 2014 rule, unearned performance money comes back to the local NHS, so the money at risk
weighs less. Its weights are `incentives.ccg.*`.
"""

from .organisation import Organisation


class CCG(Organisation):
    kind = "ccg"
