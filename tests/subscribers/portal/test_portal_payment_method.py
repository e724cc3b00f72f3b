"""Trocar forma de pagamento in Minha assinatura: card ↔ boleto ↔ pix from the next invoice on, through
`subscription_change_payment_method` with the customer as actor (timeline, `subscription.updated`)."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.models import Payment
from billing.services.billing_run import process_subscription
from core.events import EventType
from core.models import Event
from subscribers.choices import EventKind
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_change_payment_method
from tests.billing.test_refunds import START, paid_subscription
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db


def url(subscription):
    return reverse(
        "portal:payment_method", kwargs={"slug": subscription.merchant.slug, "pk": subscription.pk}
    )


def test_card_to_pix_takes_effect_on_the_next_invoice(portal_client, merchant, owner):
    subscription = paid_subscription(
        merchant, owner, PlanFactory(merchant=merchant, price=4990), cancel=False
    )
    first_payment = Payment.objects.get(invoice__subscription=subscription)
    with time_machine.travel(START + dt.timedelta(days=10), tick=False):
        client = portal_client(subscription.customer)
        page = client.get(url(subscription)).content.decode()
        response = client.post(url(subscription), {"payment_method": "pix"})

    assert "Boleto" in page and "Pix" in page and 'value="card"' not in page
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.payment_method == "pix"
    assert (subscription.payment_token, subscription.card_last4) == ("", "")
    first_payment.refresh_from_db()
    assert first_payment.method == "card"
    entry = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.EDITED).latest("pk")
    assert entry.data["channel"] == "portal" and entry.data["changes"]["payment_method"] == ["card", "pix"]
    event = Event.objects.filter(merchant=merchant, type=EventType.SUBSCRIPTION_UPDATED).latest("pk")
    assert event.payload["changes"]["payment_method"] == ["card", "pix"]

    renewal = subscription.current_period_end
    with time_machine.travel(renewal, tick=False):
        process_subscription(subscription_id=subscription.pk, now=renewal)

    assert Payment.objects.filter(invoice__subscription=subscription).latest("pk").method == "pix"


def test_switching_to_card_needs_a_valid_card(portal_client, merchant, customer, subscription):
    subscription.payment_method = "boleto"
    subscription.save()
    client = portal_client(customer)

    missing = client.post(url(subscription), {"payment_method": "card"})
    invalid = client.post(url(subscription), {"payment_method": "card", "card_number": "4242 4242 4242 4241"})
    ok = client.post(url(subscription), {"payment_method": "card", "card_number": "4242 4242 4242 4242"})

    assert missing.status_code == 400 and invalid.status_code == 400
    assert ok.status_code == 302
    subscription.refresh_from_db()
    assert (subscription.payment_method, subscription.card_last4) == ("card", "4242")


@pytest.mark.parametrize("method", ["manual", "boleto", "bitcoin"])
def test_only_another_gateway_method_is_accepted(portal_client, customer, subscription, method):
    subscription.payment_method = "boleto"
    subscription.save()

    response = portal_client(customer).post(url(subscription), {"payment_method": method})

    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.payment_method == "boleto"
    assert not SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.EDITED).exists()


def test_an_ended_subscription_keeps_its_method(portal_client, customer, subscription):
    client = portal_client(customer)
    client.post(
        reverse("portal:cancel", kwargs={"slug": subscription.merchant.slug, "pk": subscription.pk}),
        {"reason": "other"},
    )

    response = client.post(url(subscription), {"payment_method": "pix"})

    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.payment_method == "card"


@pytest.mark.parametrize(
    ("method", "code"), [("manual", "payment_method_invalid"), ("card", "payment_method_unchanged")]
)
def test_the_service_refuses_manual_and_the_current_method(subscription, owner, method, code):
    with pytest.raises(ValidationError) as refused:
        subscription_change_payment_method(
            subscription=subscription, actor=owner, payment_method=method, card_number="4242424242424242"
        )

    assert refused.value.error_dict["payment_method"][0].code == code
