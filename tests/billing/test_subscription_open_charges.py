"""The subscription's page says when a past-due invoice is tried again, and shows the boleto line or the pix
code of a charge awaiting the customer (before, only the invoice page had them)."""

import datetime as dt

import time_machine
from django.urls import reverse

from billing.gateways.sandbox import boleto_line, pix_code
from billing.models import Payment
from subscribers.choices import PaymentMethod
from tests.billing.test_invoice_actions import START, awaiting_payment, bill, open_invoice, past_due  # noqa: F401


def page(client, subscription):
    with time_machine.travel(START + dt.timedelta(hours=1), tick=False):
        # Signed in at that moment: a session from today's clock would have expired by then.
        client.force_login(subscription.merchant.memberships.first().user)
        response = client.get(reverse("subscribers:subscription_detail", args=[subscription.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_past_due_subscription_shows_the_next_retry(client, past_due):  # noqa: F811
    invoice = open_invoice(past_due)
    assert invoice.next_attempt_at is not None

    html = page(client, past_due)

    assert "data-next-retry" in html
    retry = invoice.next_attempt_at.astimezone(START.tzinfo).strftime("%d/%m/%Y %H:%M")
    assert f"1 tentativa até agora; a próxima será em {retry}." in html


def test_an_open_boleto_shows_its_line(client, merchant, owner, bill):  # noqa: F811
    subscription = awaiting_payment(merchant, owner, bill, PaymentMethod.BOLETO)
    payment = Payment.objects.get(invoice__subscription=subscription)

    html = page(client, subscription)

    assert "Linha digitável do boleto" in html
    assert boleto_line(payment.gateway_reference, payment.amount) in html
    assert "data-pix-code" not in html


def test_an_open_pix_shows_its_code(client, merchant, owner, bill):  # noqa: F811
    subscription = awaiting_payment(merchant, owner, bill, PaymentMethod.PIX)
    payment = Payment.objects.get(invoice__subscription=subscription)

    html = page(client, subscription)

    assert pix_code(payment.gateway_reference, payment.amount).replace("&", "&amp;") in html
    assert "data-boleto-line" not in html
