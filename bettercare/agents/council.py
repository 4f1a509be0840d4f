"""The council: protects adult social care, values local freedom, counts the cost of its top-up.

Its weights are `incentives.council.*` (`bettercare params`); what it does at a table is the
shared behaviour of `Organisation`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .organisation import Organisation

if TYPE_CHECKING:
    from bettercare.model.delivery import Delivery


class Council(Organisation):
    kind = "council"

    def commitment_kept(self, delivery: Delivery, area: int) -> float:
        """The share of the social-care money above the floor that reached social care: what it
        diverted (H8) is the commitment it broke."""
        committed = delivery.social_care_effective[area] + delivery.diverted[area]
        return 1.0 - float(delivery.diverted[area] / committed) if committed > 0 else 1.0
