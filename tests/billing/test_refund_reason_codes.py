"""A refund's reason the system words itself (refunded in Stripe, a withdrawal asked in the portal, a credit
balance given back without a note) is stored as a code of subscribers/timeline.py (Refund.reason_code /
reason_params) and shown in the reader's language; `payment.refunded` and the API carry the code, its params
and the pt-BR text. A reason a person typed stays verbatim."""

import datetime as dt
import importlib

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import translation

from billing.models import Refund
from billing.services.credit import credit_adjust, credit_refund
from billing.services.refunds import subscription_refund
from core.events import EventType
from core.models import Event
from subscribers.choices import EventKind, SubscriptionOrigin, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from subscribers.portal.services import portal_cancel
from subscribers.timeline import customer_reason_params
from tests.billing.test_credit import subscribed
from tests.billing.test_refunds import NOW, START, paid_subscription
from tests.billing.test_stripe_mirror_events import CHARGE, connection, mirrored, paid, processed  # noqa: F401
from tests.billing.test_stripe_webhooks import T0, deliver
from tests.factories import PaymentFactory, PlanFactory, RefundFactory
from tests.stripe_server import fixture

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def reader(user, language) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def invoice_page(user, language, refund) -> str:
    return reader(user, language).get(refund.payment.invoice.get_absolute_url()).content.decode()


def test_a_refund_made_in_stripe_is_shown_in_the_readers_language(client, owner, connection, mirrored):  # noqa: F811
    # Given a refund made in Stripe's dashboard, synced while the platform's language (pt-BR) was active
    paid(client, connection)
    deliver(client, connection, "charge.refunded", fixture("charge_refunded"), T0 + 50)
    processed(connection.merchant, CHARGE)

    refund = Refund.objects.get()
    assert (refund.reason, refund.reason_code, refund.reason_params) == ("", "refunded_in_stripe", {})
    # Then an English reader reads English, a Portuguese one Portuguese
    english = invoice_page(owner, "en", refund)
    assert "Refunded in Stripe." in english and "Reembolsado na Stripe." not in english
    assert "Reembolsado na Stripe." in invoice_page(owner, "pt-br", refund)
    # And the event carries the code and the pt-BR text
    payload = Event.objects.get(type=EventType.PAYMENT_REFUNDED).payload["refund"]
    assert (payload["reason"], payload["reason_code"], payload["reason_params"]) == (
        "Reembolsado na Stripe.",
        "refunded_in_stripe",
        {},
    )


def test_a_withdrawal_refund_asked_in_english_is_read_in_portuguese(merchant, owner):
    # Given a customer who withdraws (CDC art. 49) in the portal in English
    plan = PlanFactory(merchant=merchant, price=4990)
    subscription = paid_subscription(merchant, owner, plan, cancel=False, origin=SubscriptionOrigin.CHECKOUT)
    at = START + dt.timedelta(days=6)
    with time_machine.travel(at, tick=False), translation.override("en"):
        portal_cancel(
            subscription=subscription,
            customer=subscription.customer,
            reason_params=customer_reason_params("other"),
            now=at,
        )

    refund = Refund.objects.get(payment__invoice__subscription=subscription)
    assert (refund.reason, refund.reason_code) == ("", "withdrawal_refund")
    portuguese = "Direito de arrependimento (CDC art. 49), pedido pelo cliente no portal."
    assert portuguese in invoice_page(owner, "pt-br", refund)
    # And the subscription's refunded line says the same, in the reader's language
    line = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.REFUNDED)
    assert (line.reason, line.reason_code) == ("", "withdrawal_refund")
    with translation.override("en"):
        assert (
            line.reason_display
            == "Right of withdrawal (CDC art. 49), requested by the customer in the portal."
        )
    assert Event.objects.get(type=EventType.PAYMENT_REFUNDED).payload["refund"]["reason"] == portuguese


def test_a_refund_without_a_reason_puts_the_invoice_on_the_timeline_in_the_readers_language(merchant, owner):
    subscription = paid_subscription(merchant, owner, PlanFactory(merchant=merchant, price=4990))
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        subscription_refund(subscription=subscription, actor=owner)

    line = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.REFUNDED)
    number = subscription.invoices.get().number
    assert (line.reason, line.reason_code, line.reason_params) == ("", "payment_refunded", {"number": number})
    with translation.override("pt-br"):
        assert line.reason_display == f"Pagamento da fatura nº {number} reembolsado."


def test_a_reason_the_merchant_typed_stays_verbatim_in_every_language(merchant, owner):
    subscription = paid_subscription(merchant, owner, PlanFactory(merchant=merchant, price=4990))
    with time_machine.travel(NOW, tick=False):
        refund = subscription_refund(subscription=subscription, actor=owner, reason="Cortesia")

    assert (refund.reason, refund.reason_code) == ("Cortesia", "")
    assert "Cortesia" in invoice_page(owner, "en", refund)
    payload = Event.objects.get(type=EventType.PAYMENT_REFUNDED).payload["refund"]
    assert (payload["reason"], payload["reason_code"]) == ("Cortesia", "")


def test_a_credit_balance_refund_without_a_note_is_a_code(merchant, owner, support):
    subscription = subscribed(merchant, owner, price=10000)
    credit_adjust(customer=subscription.customer, actor=support, currency="BRL", amount=3000, note="Bônus")

    with translation.override("en"):
        (refund,) = credit_refund(customer=subscription.customer, actor=support, currency="BRL", amount=2000)

    assert (refund.reason, refund.reason_code) == ("", "credit_balance_refund")
    with translation.override("pt-br"):
        assert refund.reason_display == "Reembolso do saldo de crédito"


def test_the_api_gives_a_refunds_code_and_its_portuguese_text(merchant):
    from api.serializers import RefundSerializer

    refund = RefundFactory(merchant=merchant, reason="", reason_code="refunded_in_stripe")
    with translation.override("en"):
        data = RefundSerializer(refund).data
    assert (data["reason"], data["reason_code"], data["reason_params"]) == (
        "Reembolsado na Stripe.",
        "refunded_in_stripe",
        {},
    )


def test_the_migration_maps_the_refund_reasons_stored_before_to_their_codes(merchant):
    migration = importlib.import_module("billing.migrations.0020_refund_reason_codes")
    payment = PaymentFactory(merchant=merchant)
    stored = {
        "Reembolsado na Stripe.": "refunded_in_stripe",
        "Refunded in Stripe.": "refunded_in_stripe",
        "Right of withdrawal (CDC art. 49), requested by the customer in the portal.": "withdrawal_refund",
        "Direito de arrependimento (CDC art. 49), pedido pelo cliente no portal.": "withdrawal_refund",
        "Credit balance refund": "credit_balance_refund",
        "Reembolsado na Stripe": "",  # not exactly the sentence: kept
        "Cortesia": "",
    }
    refunds = {text: RefundFactory(merchant=merchant, payment=payment, reason=text) for text in stored}

    migration.to_codes(apps, None)

    for text, code in stored.items():
        refund = refunds[text]
        refund.refresh_from_db()
        assert (refund.reason, refund.reason_code) == ("" if code else text, code), text
    with translation.override("en"):
        assert refunds["Reembolsado na Stripe."].reason_display == "Refunded in Stripe."

    migration.to_text(apps, None)
    refunds["Refunded in Stripe."].refresh_from_db()
    assert (refunds["Refunded in Stripe."].reason, refunds["Refunded in Stripe."].reason_code) == (
        "Reembolsado na Stripe.",
        "",
    )
