"""Who acts when the person is not a user of the merchant's team: a customer in the portal, or the
merchant's own system through an API key.

The services take `actor=` and record it on the timeline (`SubscriptionEvent.actor`, a user). A customer
is not a user, so the portal passes a `CustomerActor`: it has no `pk`, so every "who" column that points at
a user stays empty (`canceled_by`, `Refund.actor`), and `_record` writes who it was in the entry's data
(`{"by": "customer", "customer": id, "channel": "portal"}`) so the timeline says "pelo cliente (portal)".
The API passes an `ApiKeyActor` the same way (`{"by": "api_key", "api_key": id, "api_key_name": …,
"channel": "api"}`: "pela API (chave …)"). A provider's sync (Stripe) passes a `ProviderActor`: "pela
sincronização com Stripe".

`actor_data` says who acted in an outbox payload, for any of these, a user or nobody (the system).
"""

from dataclasses import dataclass

PORTAL = "portal"
API = "api"
PROVIDER = "provider"


@dataclass(frozen=True)
class CustomerActor:
    """The customer acting for themselves through `channel` (the portal)."""

    customer_id: int
    channel: str = PORTAL

    # Never staff: a customer's cancellation is recorded with origin "customer", not "admin".
    is_staff = False

    def timeline_data(self) -> dict:
        return {"by": "customer", "customer": self.customer_id, "channel": self.channel}


@dataclass(frozen=True)
class ApiKeyActor:
    """The merchant's own system calling the REST API with one of its keys (accounts.ApiKey). Not a user
    either: no `pk`, so `created_by`, `canceled_by` and `Refund.actor` stay empty and the timeline entry
    names the key."""

    api_key_id: int
    name: str
    channel: str = API

    is_staff = False

    def timeline_data(self) -> dict:
        return {
            "by": "api_key",
            "api_key": self.api_key_id,
            "api_key_name": self.name,
            "channel": self.channel,
        }


@dataclass(frozen=True)
class ProviderActor:
    """A payment provider's events applied by our sync (billing/services/stripe_sync.py): not a user, and
    not the merchant's team either."""

    provider: str
    provider_name: str
    channel: str = PROVIDER

    is_staff = False

    def timeline_data(self) -> dict:
        return {
            "by": "provider",
            "provider": self.provider,
            "provider_name": self.provider_name,
            "channel": self.channel,
        }


def actor_data(actor) -> dict:
    """Who acted, for an outbox payload: the same keys as the timeline's entry data for a customer, an API
    key or a provider; `{"by": "user", "user": id}` for a team member (or staff); `{"by": "system"}` for
    nobody (a task)."""
    if hasattr(actor, "timeline_data"):
        return actor.timeline_data()
    if getattr(actor, "pk", None):
        return {"by": "user", "user": actor.pk}
    return {"by": "system"}
