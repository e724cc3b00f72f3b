"""Production: the sandbox's "pay without money" tools are off unless SANDBOX_GATEWAY_ENABLED turns them on.

The attack from the production issue: take a pix code from the e-mail, rebuild the reference, sign
{"merchant": 1, "reference": …} with the key derived from the (known) development SECRET_KEY and POST it to
/cobrancas/sandbox/callback/ — the payment was marked paid. Here the signature is even the right one.
"""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from billing.choices import InvoiceStatus, PaymentStatus
from billing.models import Invoice
from billing.services.charging import payment_settle
from tests.billing.test_sandbox_callback import body_for, pending_payment, post

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox_disabled(settings):
    settings.SANDBOX_GATEWAY_ENABLED = False


def test_a_correctly_signed_callback_is_a_404_and_pays_nothing_when_the_sandbox_is_disabled(
    sandbox_disabled, merchant
):
    payment = pending_payment(merchant)

    response = post(Client(enforce_csrf_checks=True), body_for(merchant.pk, payment.gateway_reference))

    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert Invoice.objects.get(pk=payment.invoice_id).status != InvoiceStatus.PAID


def test_simular_pagamento_is_hidden_and_refused_when_the_sandbox_is_disabled(
    sandbox_disabled, merchant, owner_client
):
    payment = pending_payment(merchant)

    page = owner_client.get(payment.invoice.get_absolute_url())
    assert page.status_code == 200
    assert "Simular pagamento" not in page.content.decode()
    url = reverse("billing:payment_settle", args=[payment.pk])
    assert owner_client.get(url).status_code == 404
    assert owner_client.post(url).status_code == 404
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_the_settle_service_refuses_when_the_sandbox_is_disabled(sandbox_disabled, merchant):
    payment = pending_payment(merchant)

    with pytest.raises(ValidationError) as caught:
        payment_settle(payment=payment)

    assert caught.value.code == "gateway_refused"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING


def test_simular_pagamento_is_offered_when_the_sandbox_is_enabled(merchant, owner_client, settings):
    settings.SANDBOX_GATEWAY_ENABLED = True
    payment = pending_payment(merchant)

    assert "Simular pagamento" in owner_client.get(payment.invoice.get_absolute_url()).content.decode()
