"""The CCG: wants emergency admissions down and its books balanced.

NHS money moved to social care above the floor is money it no longer controls; under the
revised 2014 rule, unearned performance money comes back to the local NHS, so the money at risk
weighs less.
"""

from bettercare.model.plan import Feature

from .organisation import Organisation


class CCG(Organisation):
    kind = "ccg"
    BASE_WEIGHTS = {
        Feature.SOCIAL_CARE: 0.1,
        Feature.COMMUNITY: 0.6,
        Feature.AVOIDANCE: 0.8,
        Feature.CCG_TOPUP: -0.8,
        Feature.NHS_OUTFLOW: -0.6,
        Feature.AMBITION: 0.3,
        Feature.P4P_AT_RISK: -0.5,
    }

    @classmethod
    def base_weights(cls, params):
        w = super().base_weights(params)
        w[Feature.AVOIDANCE] = params.incentives.ccg_avoidance
        w[Feature.COMMUNITY] = params.incentives.ccg_community
        w[Feature.CCG_TOPUP] = -params.incentives.ccg_topup_cost
        w[Feature.AMBITION] = params.incentives.ccg_ambition
        w[Feature.CCG_POOLS_MORE] = -params.incentives.pooling_fixed_cost
        return w
