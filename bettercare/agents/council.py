"""The council: protects adult social care, values local freedom, counts the cost of its top-up.

Its weights are `incentives.council.*` (`bettercare params`); what it does at a table is the
shared behaviour of `Organisation`.
"""

from .organisation import Organisation


class Council(Organisation):
    kind = "council"
