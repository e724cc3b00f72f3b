"""The one-click retention offer: the merchant's coupon, shown only after the customer asks to cancel;
the request is recorded before the offer shows (at the end of the paid period, nothing charged again), so a
customer who closes the tab is cancelled (Decreto 11.034); accepting takes the cancellation back and keeps
the subscription with the coupon (timeline, subscription.cancel_reverted, subscription.updated)."""

import pytest
from django.urls import reverse

from core.events import EventType
from core.models import Event
from subscribers.choices import EventKind, SubscriptionAction, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from tests.billing.test_billing_settings import VALID
from tests.factories import CouponFactory

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def url(name, subscription):
    return reverse(f"portal:{name}", kwargs={"slug": subscription.merchant.slug, "pk": subscription.pk})


def test_the_offer_comes_only_after_the_request_and_one_click_keeps_the_subscription(
    portal_client, merchant, customer, subscription, offer, owner_client
):
    client = portal_client(customer)
    before = client.get(url("cancel", subscription)).content.decode()

    asked = client.post(url("cancel", subscription), {"reason": "price", "details": "caro"})

    assert "FICA50" not in before
    page = asked.content.decode()
    assert asked.status_code == 200 and "FICA50" in page and "50% de desconto · por 3 meses" in page
    subscription.refresh_from_db()
    # The request is recorded before the offer is answered: nothing more is charged, access runs to the
    # end of the period paid.
    assert subscription.status == S.ACTIVE and subscription.cancel_requested_at is not None
    assert subscription.cancel_at == subscription.current_period_end

    accepted = client.post(url("retention", subscription), {"reason": "price", "details": "caro"})

    assert accepted.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE and subscription.coupon == offer
    assert subscription.cancel_requested_at is None and subscription.cancel_at is None
    entry = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.EDITED).latest("pk")
    assert entry.data["channel"] == "portal" and entry.data["changes"]["coupon"] == [None, offer.pk]
    assert "Oferta de retenção aceita" in entry.reason_display
    assert "Está caro para mim: caro" in entry.reason_display
    event = Event.objects.filter(merchant=merchant, type=EventType.SUBSCRIPTION_UPDATED).latest("pk")
    assert event.payload["changes"]["coupon"] == [None, offer.pk]
    assert not Event.objects.filter(merchant=merchant, type=EventType.SUBSCRIPTION_CANCELED).exists()
    assert Event.objects.filter(merchant=merchant, type=EventType.SUBSCRIPTION_CANCEL_REVERTED).exists()


def test_leaving_the_offer_unanswered_keeps_the_cancellation(portal_client, customer, subscription, offer):
    """Closing the tab, or "Não, obrigado", on the offer: the cancellation asked for stands."""
    client = portal_client(customer)

    asked = client.post(url("cancel", subscription), {"reason": "other"})

    assert url("cancel_done", subscription) in asked.content.decode()  # "Não, obrigado" goes there
    subscription.refresh_from_db()
    assert subscription.cancel_at == subscription.current_period_end and subscription.coupon is None
    assert not subscription.can(SubscriptionAction.CANCEL)
    done = client.get(url("cancel_done", subscription))
    assert done.status_code == 200


def test_an_offer_switched_off_in_between_is_refused_and_nothing_changes(
    portal_client, customer, subscription, offer
):
    client = portal_client(customer)
    client.post(url("cancel", subscription), {"reason": "other"})
    offer.is_active = False
    offer.save()

    response = client.post(url("retention", subscription), {"reason": "other"})

    assert response.status_code == 302 and response["Location"] == url("cancel", subscription)
    subscription.refresh_from_db()
    assert subscription.coupon is None and subscription.cancel_at is not None  # still cancelled


def test_without_an_offer_the_request_cancels_at_once(portal_client, customer, subscription):
    response = portal_client(customer).post(url("cancel", subscription), {"reason": "other"})

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED


def test_the_settings_take_only_the_merchants_own_coupon(owner_client, merchant, other_merchant):
    foreign = CouponFactory(merchant=other_merchant)
    own = CouponFactory(merchant=merchant, code="FICA")
    form = {key: value for key, value in VALID.items() if key != "sandbox_disconnected"}

    refused = owner_client.post(reverse("billing:settings"), {**form, "portal_retention_coupon": foreign.pk})
    saved = owner_client.post(reverse("billing:settings"), {**form, "portal_retention_coupon": own.pk})

    assert refused.status_code == 200
    assert saved.status_code == 302
    summary = owner_client.get(reverse("accounts:settings")).content.decode()
    assert "Cupom FICA" in summary.split('id="portal-retention-coupon">', 1)[1].split("</dd>", 1)[0]
