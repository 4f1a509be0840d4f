"""The council: protects adult social care, values local freedom, counts the cost of its top-up."""

from bettercare.model.plan import Feature

from .organisation import Organisation


class Council(Organisation):
    kind = "council"
    BASE_WEIGHTS = {
        Feature.SOCIAL_CARE: 1.0,
        Feature.COMMUNITY: 0.2,
        Feature.AVOIDANCE: 0.1,
        Feature.COUNCIL_TOPUP: -0.8,
        Feature.P4P_AT_RISK: -1.0,
        Feature.FREEDOM: 1.0,
        Feature.AMBITION: 0.03,
    }

    @classmethod
    def base_weights(cls, params):
        w = super().base_weights(params)
        w[Feature.COUNCIL_TOPUP] = -params.incentives.council_topup_cost
        w[Feature.SOCIAL_CARE] = params.incentives.council_social_care
        w[Feature.COUNCIL_POOLS_MORE] = -params.incentives.pooling_fixed_cost
        return w
