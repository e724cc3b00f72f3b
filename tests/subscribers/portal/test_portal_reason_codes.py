"""The reason a customer gives in the portal is stored as the option's code plus their own words
(Subscription.cancel_reason_code "portal_cancel_request", subscribers/timeline.py), not as the option's label
in the customer's language: the merchant reads the option in their own language, wherever it is shown (the
subscription page, its timeline), and event payloads carry the code, its params and the pt-BR text. So do the
retention offer's timeline lines."""

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.utils import translation

from core.events import EventType
from core.models import Event
from subscribers.choices import CancelOrigin, EventKind, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from tests.factories import SubscriptionFactory
from tests.subscribers.portal.test_portal_actions import url

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def in_language(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def merchant_reads(user, language) -> Client:
    """The merchant's own browser (not the customer's), in `language`."""
    client = Client()
    client.force_login(user)
    return in_language(client, language)


def cancel_reason_on_page(client, subscription) -> str:
    page = client.get(subscription.get_absolute_url()).content.decode()
    start = page.index('id="cancel-reason">') + len('id="cancel-reason">')
    return page[start : page.index("</dd>", start)]


def timeline_reasons(client, subscription) -> str:
    page = client.get(subscription.get_absolute_url()).content.decode()
    return page[page.index('id="subscription-timeline"') :]


@pytest.mark.parametrize(
    ("customer_language", "merchant_language", "expected"),
    [
        ("en", "pt-br", "Está caro para mim: Too pricey for me now"),
        ("pt-br", "en", "It is too expensive for me: Too pricey for me now"),
    ],
)
def test_the_merchant_reads_the_customers_reason_in_the_merchants_language(
    portal_client, owner, customer, subscription, customer_language, merchant_language, expected
):
    # Given a customer who cancels in the portal in their own language
    client = in_language(portal_client(customer), customer_language)
    client.post(url("cancel", subscription), {"reason": "price", "details": " Too pricey for me now "})

    # Then the option is stored as its code, the customer's words as they wrote them
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert (
        subscription.cancel_reason,
        subscription.cancel_reason_code,
        subscription.cancel_reason_params,
    ) == (
        "",
        "portal_cancel_request",
        {"option": "price", "details": "Too pricey for me now"},
    )
    # And the merchant reads the option in the merchant's language, on the page and on the timeline
    reader = merchant_reads(owner, merchant_language)
    assert cancel_reason_on_page(reader, subscription) == expected
    assert expected in timeline_reasons(reader, subscription)
    line = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CANCELED)
    assert (line.reason, line.reason_code) == ("", "portal_cancel_request")


def test_the_cancellation_event_carries_the_code_its_params_and_the_portuguese_text(
    portal_client, customer, subscription
):
    client = in_language(portal_client(customer), "en")
    client.post(url("cancel", subscription), {"reason": "not_using"})

    payload = Event.objects.get(type=EventType.SUBSCRIPTION_CANCELED, payload__id=subscription.pk).payload
    assert payload["cancel_origin"] == CancelOrigin.CUSTOMER
    assert (payload["cancel_reason_code"], payload["cancel_reason_params"], payload["cancel_reason"]) == (
        "portal_cancel_request",
        {"option": "not_using", "details": ""},
        "Não estou usando o suficiente",
    )


def test_the_retention_offers_lines_are_shown_in_the_readers_language(
    portal_client, owner, customer, subscription, offer
):
    # Given a customer who asks to cancel in Portuguese, then accepts the offer
    client = in_language(portal_client(customer), "pt-br")
    client.post(url("cancel", subscription), {"reason": "missing", "details": "falta relatório"})
    client.post(url("retention", subscription), {"reason": "missing", "details": "falta relatório"})

    subscription.refresh_from_db()
    assert subscription.coupon == offer and subscription.cancel_at is None
    reverted = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CANCEL_REVERTED)
    edited = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.EDITED).latest("pk")
    assert (reverted.reason, reverted.reason_code, reverted.reason_params) == (
        "",
        "retention_cancel_reverted",
        {"code": "FICA50"},
    )
    assert (edited.reason, edited.reason_code, edited.reason_params) == (
        "",
        "retention_coupon_applied",
        {"code": "FICA50", "option": "missing", "details": "falta relatório"},
    )
    # Then an English-speaking merchant reads them in English (the customer's words stay theirs)
    timeline = timeline_reasons(merchant_reads(owner, "en"), subscription)
    assert "Retention offer accepted in the portal (coupon FICA50)." in timeline
    assert (
        "Retention offer accepted in the portal (coupon FICA50) instead of cancelling. "
        "Reason given: It lacks something I need: falta relatório"
    ) in timeline
    assert "Oferta de retenção" not in timeline


OLD_ROWS = [
    # (stored before, in either language; the code and params it becomes)
    (
        "Está caro para mim: Muito caro agora",
        "portal_cancel_request",
        {"option": "price", "details": "Muito caro agora"},
    ),
    ("It is too expensive for me", "portal_cancel_request", {"option": "price", "details": ""}),
    (
        "Another reason: moving: abroad",
        "portal_cancel_request",
        {"option": "other", "details": "moving: abroad"},
    ),
    ("Tive problemas com o serviço", "portal_cancel_request", {"option": "problems", "details": ""}),
    # Not exactly an option: kept as typed.
    ("Está caro para mim!", "", {}),
    ("Mudou de cidade", "", {}),
]


def test_the_migration_maps_the_portal_reasons_stored_before_to_their_codes(merchant):
    # Given customers' cancellations stored before codes existed, as the label in their language
    migration = importlib.import_module("subscribers.migrations.0025_portal_reason_codes")
    rows = []
    for stored, _code, _params in OLD_ROWS:
        subscription = SubscriptionFactory(
            merchant=merchant, status=S.CANCELED, cancel_origin=CancelOrigin.CUSTOMER, cancel_reason=stored
        )
        SubscriptionEvent.objects.create(
            merchant=merchant,
            subscription=subscription,
            kind=EventKind.CANCELED,
            to_status=S.CANCELED,
            origin=CancelOrigin.CUSTOMER,
            reason=stored,
        )
        rows.append(subscription)
    # And a seller's reason that happens to read like an option: not the portal's, left alone
    seller = SubscriptionFactory(
        merchant=merchant, status=S.CANCELED, cancel_origin=CancelOrigin.SELLER, cancel_reason="Outro motivo"
    )
    # And the retention offer's lines and a refund's line, in either language
    lines = {
        "Oferta de retenção aceita no portal (cupom FICA50).": (
            "retention_cancel_reverted",
            {"code": "FICA50"},
        ),
        "Retention offer accepted in the portal (coupon FICA50) instead of cancelling. "
        "Reason given: It lacks something I need: falta": (
            "retention_coupon_applied",
            {"code": "FICA50", "option": "missing", "details": "falta"},
        ),
        "Oferta de retenção aceita no portal (cupom FICA50) em vez de cancelar. Motivo do pedido: sei lá": (
            "",
            {},
        ),
        "Reembolsado na Stripe.": ("refunded_in_stripe", {}),
        "Right of withdrawal (CDC art. 49), requested by the customer in the portal.": (
            "withdrawal_refund",
            {},
        ),
        "Pagamento da fatura nº 12 reembolsado.": ("payment_refunded", {"number": 12}),
        "Pagamento da fatura nº 12 aprovado.": ("", {}),
    }
    events = {
        text: SubscriptionEvent.objects.create(
            merchant=merchant, subscription=seller, kind=EventKind.EDITED, reason=text
        )
        for text in lines
    }

    # When the migration runs
    migration.to_codes(apps, None)

    # Then each exact option (with the customer's words after it) became its code; any other text stays
    for subscription, (stored, code, params) in zip(rows, OLD_ROWS, strict=True):
        subscription.refresh_from_db()
        line = SubscriptionEvent.objects.get(subscription=subscription)
        expected_text = "" if code else stored
        assert (subscription.cancel_reason, subscription.cancel_reason_code) == (expected_text, code), stored
        assert subscription.cancel_reason_params == params
        assert (line.reason, line.reason_code, line.reason_params) == (expected_text, code, params)
    seller.refresh_from_db()
    assert (seller.cancel_reason, seller.cancel_reason_code) == ("Outro motivo", "")
    for text, (code, params) in lines.items():
        event = events[text]
        event.refresh_from_db()
        assert (event.reason, event.reason_code, event.reason_params) == ("" if code else text, code, params)
    with translation.override("en"):
        assert rows[0].cancel_reason_display == "It is too expensive for me: Muito caro agora"

    # And reversed, the pt-BR text comes back
    migration.to_text(apps, None)
    rows[1].refresh_from_db()
    assert (rows[1].cancel_reason, rows[1].cancel_reason_code) == ("Está caro para mim", "")
    events["Reembolsado na Stripe."].refresh_from_db()
    assert events["Reembolsado na Stripe."].reason == "Reembolsado na Stripe."
