"""PayPal in manual tracking: a subscription carries provider "paypal" and the PayPal subscription id; each
payment is recorded by hand (Registrar pagamento) with the PayPal transaction id. Nothing is charged."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.choices import Gateway, InvoiceStatus
from billing.services.charging import payment_record_manual
from tests.factories import InvoiceFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def paypal_invoice(merchant):
    subscription = SubscriptionFactory(
        merchant=merchant, provider="paypal", provider_id="I-BW452GLLEP1G", payment_method="manual"
    )
    return InvoiceFactory(merchant=merchant, subscription=subscription, customer=subscription.customer)


def test_a_paypal_payment_needs_its_transaction_id(paypal_invoice, owner):
    with pytest.raises(ValidationError) as exc:
        payment_record_manual(invoice=paypal_invoice, actor=owner, reference="")
    assert exc.value.message_dict["reference"] == ["Informe o id da transação no PayPal."]
    paypal_invoice.refresh_from_db()
    assert paypal_invoice.status == InvoiceStatus.OPEN


def test_registrar_pagamento_records_the_paypal_transaction(client, owner, paypal_invoice):
    client.force_login(owner)
    url = reverse("billing:invoice_record_payment", args=[paypal_invoice.pk])
    page = client.get(url)
    assert "Id da transação no PayPal" in page.content.decode()
    response = client.post(url, {"reference": "", "form_token": page.context["form_token"]})
    assert response.status_code == 200 and paypal_invoice.payments.count() == 0
    client.post(url, {"reference": "8MC585209K746392H", "form_token": client.get(url).context["form_token"]})
    payment = paypal_invoice.payments.get()
    assert (payment.gateway, payment.gateway_reference) == (Gateway.PAYPAL, "8MC585209K746392H")
    paypal_invoice.refresh_from_db()
    assert paypal_invoice.status == InvoiceStatus.PAID
