"""subscription_remove (Remover): access ends now."""

from core.models import Event
from subscribers.choices import CancelOrigin, CancelWhen, EventKind
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_cancel, subscription_process_due, subscription_remove
from tests.factories import UserFactory
from tests.subscribers.subscription_services.common import NOW, S, event_types, local, moment, running


# --- subscription_remove ------------------------------------------------------------------------------
def test_remove_cancels_now_and_revokes_access_now(clock, merchant, support):
    subscription = running(merchant)

    subscription_remove(subscription=subscription, actor=support, reason="Fraude")

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.cancel_at == NOW
    assert subscription.ended_at == NOW
    assert subscription.access_until == NOW
    assert subscription.access_revoked_at == NOW
    assert subscription.cancel_origin == CancelOrigin.SELLER
    assert subscription.cancel_reason == "Fraude"
    assert subscription.canceled_by == support
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status) == (EventKind.REMOVED, S.ACTIVE, S.CANCELED)
    assert event.origin == CancelOrigin.SELLER
    assert event_types() == ["subscription.access_revoked", "subscription.canceled"]
    assert moment(Event.objects.get(type="subscription.access_revoked").payload["access_until"]) == NOW


def test_remove_overrides_a_scheduled_cancellation(clock, merchant, owner):
    subscription = running(merchant)
    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )

    subscription_remove(subscription=subscription, actor=owner)

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == NOW
    assert subscription_process_due(now=local(2027, 4, 1)) == {
        "started": 0,
        "canceled": 0,
        "paused": 0,
        "resumed": 0,
    }


def test_remove_by_platform_staff_is_recorded_as_admin(clock, merchant):
    staff = UserFactory(username="equipe-plataforma", is_staff=True)

    subscription = subscription_remove(subscription=running(merchant), actor=staff)

    assert subscription.cancel_origin == CancelOrigin.ADMIN
