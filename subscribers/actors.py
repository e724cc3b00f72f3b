"""Who acts when the person is not a user of the merchant's team: a customer in the portal.

The services take `actor=` and record it on the timeline (`SubscriptionEvent.actor`, a user). A customer
is not a user, so the portal passes a `CustomerActor`: it has no `pk`, so every "who" column that points at
a user stays empty (`canceled_by`, `Refund.actor`), and `_record` writes who it was in the entry's data
(`{"by": "customer", "customer": id, "channel": "portal"}`) so the timeline says "pelo cliente (portal)".
"""

from dataclasses import dataclass

PORTAL = "portal"


@dataclass(frozen=True)
class CustomerActor:
    """The customer acting for themselves through `channel` (the portal)."""

    customer_id: int
    channel: str = PORTAL

    # Never staff: a customer's cancellation is recorded with origin "customer", not "admin".
    is_staff = False

    def timeline_data(self) -> dict:
        return {"by": "customer", "customer": self.customer_id, "channel": self.channel}
