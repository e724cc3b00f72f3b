"""subscription_readd (Re-adicionar): access granted again."""

from django.core import mail

from core.models import Event
from subscribers.choices import EventKind
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_readd
from tests.subscribers.subscription_services.common import NOW, S, event_types, local, running


# --- subscription_readd -------------------------------------------------------------------------------
def test_readd_grants_access_again_with_an_event_that_says_readded(clock, merchant, owner):
    subscription = running(merchant, access_revoked_at=local(2027, 3, 10))

    subscription_readd(subscription=subscription, actor=owner)

    subscription.refresh_from_db()
    assert subscription.access_revoked_at is None
    assert subscription.status == S.ACTIVE
    # The access e-mail follows from this event (notifications' consumer), not from the service.
    assert mail.outbox == []
    assert Event.objects.get().payload["readded"] is True
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status, event.actor) == (
        EventKind.READDED,
        S.ACTIVE,
        S.ACTIVE,
        owner,
    )
    assert event.created_at == NOW
    assert event_types() == ["subscription.access_granted"]


def test_readd_of_a_trialing_subscription_grants_access_each_time(clock, merchant, owner):
    subscription = running(merchant, status=S.TRIALING, trial_ends_at=local(2027, 3, 20))

    subscription_readd(subscription=subscription, actor=owner)
    subscription_readd(subscription=subscription, actor=owner)

    assert Event.objects.filter(type="subscription.access_granted", payload__readded=True).count() == 2
    assert SubscriptionEvent.objects.filter(kind=EventKind.READDED).count() == 2
