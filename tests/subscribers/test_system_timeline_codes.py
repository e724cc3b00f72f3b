"""The timeline lines billing and the subscription services word themselves (a charge declined, a payment
method changed, an immediate charge, a price change, …) are codes and params (subscribers/timeline.py), shown
in the reader's language whatever language the writer had; what a person typed stays as typed. Lines stored
before as text, in either language, are mapped by the migration billing_timeline_codes."""

import importlib

import pytest
import time_machine
from django.apps import apps
from django.utils import translation

from billing.models import BillingSettings
from billing.services.batch import renew_many
from billing.services.invoice_actions import invoice_charge_now, invoice_void
from core.events import EventType
from core.models import Event
from subscribers.choices import EventKind, PaymentMethod, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_change_payment_method
from tests.billing.test_batch import DECLINED, NOW, due
from tests.billing.test_stripe_mirror_events import (  # noqa: F401 (fixtures)
    STRIPE_INVOICE,
    connection,
    failed_payment,
    mirrored,
    processed,
)
from tests.billing.test_stripe_webhooks import T0, deliver
from tests.factories import InvoiceFactory, PlanFactory, SubscriptionFactory
from tests.stripe_server import fixture

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


def in_both(line) -> tuple[str, str]:
    with translation.override("pt-br"):
        portuguese = line.reason_display
    with translation.override("en"):
        english = line.reason_display
    return portuguese, english


def test_a_decline_in_the_bulk_renewal_is_a_code_and_its_event_says_it_in_portuguese(merchant):
    # Given a renewal the card declines, run while English was the active language
    BillingSettings.objects.create(merchant=merchant)
    subscription = due(merchant, PlanFactory(merchant=merchant, price=4990), payment_token=DECLINED)
    with time_machine.travel(NOW, tick=False), translation.override("en"):
        renew_many(subscription_ids=[subscription.pk], now=NOW)

    line = SubscriptionEvent.objects.get(subscription=subscription, to_status=S.PAST_DUE)
    number = subscription.invoices.get().number
    assert (line.reason, line.reason_code) == ("", "charge_declined")
    assert line.reason_params["number"] == number
    portuguese, english = in_both(line)
    assert portuguese.startswith(f"Cobrança da fatura nº {number} recusada: ")
    assert english.startswith(f"Charge for invoice no. {number} declined: ")
    payload = Event.objects.get(type=EventType.SUBSCRIPTION_PAST_DUE, payload__id=subscription.pk).payload
    assert payload["reason"] == portuguese


def test_a_payment_method_change_is_named_in_the_readers_language(merchant, owner):
    subscription = SubscriptionFactory(
        merchant=merchant, status=S.ACTIVE, payment_method=PaymentMethod.BOLETO
    )
    with translation.override("en"):
        subscription_change_payment_method(subscription=subscription, actor=owner, payment_method="pix")

    line = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.EDITED).latest("pk")
    assert (line.reason, line.reason_code, line.reason_params) == (
        "",
        "payment_method_changed",
        {"old_method": "boleto", "new_method": "pix"},
    )
    assert in_both(line) == (
        "Forma de pagamento alterada: Boleto → Pix, a partir da próxima fatura.",
        "Payment method changed: Boleto → Pix, from the next invoice.",
    )


def test_an_immediate_charge_names_the_payments_status_in_the_readers_language(merchant, support):
    subscription = SubscriptionFactory(merchant=merchant, status=S.PAST_DUE, payment_token=DECLINED)
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, number=77, attempt_count=1)
    with translation.override("pt-br"):
        invoice_charge_now(invoice=invoice, actor=support)

    line = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.BILLING).latest("pk")
    assert (line.reason_code, line.reason_params) == (
        "charge_now",
        {"number": 77, "payment_status": "failed"},
    )
    assert in_both(line) == (
        "Cobrança imediata da fatura nº 77: falhou.",
        "Immediate charge of invoice no. 77: failed.",
    )


def test_a_reason_the_staff_typed_when_voiding_stays_as_typed(merchant, support):
    subscription = SubscriptionFactory(merchant=merchant, status=S.ACTIVE)
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription, number=78)
    invoice_void(invoice=invoice, actor=support, reason="Cobrada em duplicidade")

    line = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.BILLING).latest("pk")
    assert (line.reason, line.reason_code) == ("Cobrada em duplicidade", "")
    assert in_both(line) == ("Cobrada em duplicidade", "Cobrada em duplicidade")


def test_an_invoice_voided_in_stripe_says_so_in_the_readers_language(client, connection, mirrored):  # noqa: F811
    failed_payment(client, connection)
    deliver(client, connection, "invoice.voided", fixture("invoice_payment_failed", status="void"), T0 + 30)
    processed(connection.merchant)

    # The line of the void itself (the one after it says the subscription runs again)
    line = SubscriptionEvent.objects.get(
        subscription=mirrored, kind=EventKind.BILLING, from_status=S.PAST_DUE, to_status=S.PAST_DUE
    )
    assert (line.reason, line.reason_code, line.reason_params) == (
        "",
        "stripe_invoice_voided",
        {"id": STRIPE_INVOICE},
    )
    assert in_both(line) == (
        f"Fatura {STRIPE_INVOICE} anulada na Stripe.",
        f"Invoice {STRIPE_INVOICE} voided in Stripe.",
    )


OLD_LINES = [
    # (stored before, in either language; the code and params it becomes)
    ("Pagamento da fatura nº 58 aprovado.", "payment_approved", {"number": 58}),
    ("Payment for invoice no. 58 approved.", "payment_approved", {"number": 58}),
    (
        "Cobrança da fatura nº 12 recusada: Cartão recusado.",
        "charge_declined",
        {"number": 12, "message": "Cartão recusado."},
    ),
    ("Nothing to pay on this invoice.", "invoice_nothing_due", {}),
    ("Cobrança imediata da fatura nº 7: falhou.", "charge_now", {"number": 7, "payment_status": "failed"}),
    ("Immediate charge of invoice no. 7: paid.", "charge_now", {"number": 7, "payment_status": "succeeded"}),
    ("All 6 installments have been paid.", "installments_paid", {"count": 6}),
    (
        "O parcelamento terminou com 2 de 6 parcelas não pagas.",
        "installments_ended_unpaid",
        {"unpaid": 2, "count": 6},
    ),
    ("Fatura nº 9 anulada.", "invoice_voided", {"number": 9}),
    ("Cartão alterado: final — → final 4242.", "card_changed", {"old": None, "new": "4242"}),
    (
        "Payment method changed: Credit card → Pix, from the next invoice.",
        "payment_method_changed",
        {"old_method": "card", "new_method": "pix"},
    ),
    ("Pausa agendada desfeita.", "pause_undone", {}),
    ("Paused in Stripe.", "paused_in_stripe", {}),
    ("Fatura in_1PzQ9m anulada na Stripe.", "stripe_invoice_voided", {"id": "in_1PzQ9m"}),
    (
        "Invoice in_1PzQ9m marked uncollectible in Stripe.",
        "stripe_invoice_uncollectible",
        {"id": "in_1PzQ9m"},
    ),
    (
        "2ª via da fatura nº 3: novo boleto, válido até 10/03/2026.",
        "charge_reissued",
        {"number": 3, "method": "boleto", "date": "2026-03-10"},
    ),
    (
        "Novo preço em vigor: R$\xa049,90 → R$\xa01.059,90 por período.",
        "price_changed",
        {"old_amount": 4990, "new_amount": 105990, "currency": "BRL"},
    ),
    (
        "Price change from R$49.90 to R$59.90 per period; notice until 01/04/2026.",
        "price_change_scheduled",
        {"old_amount": 4990, "new_amount": 5990, "currency": "BRL", "date": "2026-04-01"},
    ),
    # Not one of the sentences: kept as typed.
    ("Cobrança imediata da fatura nº 7: talvez.", "", {}),
    ("Pagamento combinado por telefone", "", {}),
]


def test_the_migration_maps_the_lines_stored_before_to_their_codes(merchant):
    migration = importlib.import_module("subscribers.migrations.0026_billing_timeline_codes")
    subscription = SubscriptionFactory(merchant=merchant, currency="BRL")
    lines = [
        SubscriptionEvent.objects.create(
            merchant=merchant, subscription=subscription, kind=EventKind.BILLING, reason=stored
        )
        for stored, _code, _params in OLD_LINES
    ]

    migration.to_codes(apps, None)

    for line, (stored, code, params) in zip(lines, OLD_LINES, strict=True):
        line.refresh_from_db()
        assert (line.reason, line.reason_code, line.reason_params) == (
            "" if code else stored,
            code,
            params,
        ), stored
        portuguese, english = in_both(line)
        if code:
            assert portuguese != english, stored
            # A date reads in the reader's format now (it was always dd/mm/aaaa before).
            assert stored in (portuguese, english) or "date" in params, stored
        else:
            assert portuguese == english == stored

    # And reversed, the pt-BR sentence comes back
    migration.to_text(apps, None)
    lines[1].refresh_from_db()
    assert (lines[1].reason, lines[1].reason_code) == ("Pagamento da fatura nº 58 aprovado.", "")
