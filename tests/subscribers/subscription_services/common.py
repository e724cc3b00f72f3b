"""What the subscription service tests share: the frozen "now", and helpers to contract a subscription
or build one already running."""

import datetime as dt
import zoneinfo

from core.models import Event
from subscribers.choices import SubscriptionStatus
from subscribers.services import subscription_create
from tests.factories import SubscriptionFactory

S = SubscriptionStatus
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 3, 15, 14, 0, tzinfo=SAO_PAULO)
TODAY = NOW.date()


def local(*args):
    return dt.datetime(*args, tzinfo=SAO_PAULO)


def create(merchant, owner, customer, plan, **overrides):
    data = {"contract_date": TODAY}
    data.update(overrides)
    return subscription_create(merchant=merchant, actor=owner, customer=customer, plan=plan, **data)


def moment(iso: str) -> dt.datetime:
    """A datetime read back from a JSON payload (DjangoJSONEncoder writes UTC as "…Z")."""
    return dt.datetime.fromisoformat(iso)


def event_types():
    return sorted(Event.objects.values_list("type", flat=True))


def running(merchant, status=S.ACTIVE, **fields):
    """A started subscription whose current period runs 28/02/2027 → 31/03/2027 (anchor 31/01)."""
    values = {
        "merchant": merchant,
        "status": status,
        "contract_date": dt.date(2027, 1, 31),
        "billing_cycle_anchor": local(2027, 1, 31),
        "started_at": local(2027, 1, 31),
        "current_period_start": local(2027, 2, 28),
        "current_period_end": local(2027, 3, 31),
    }
    values.update(fields)
    return SubscriptionFactory(**values)
