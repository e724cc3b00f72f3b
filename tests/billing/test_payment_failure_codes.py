"""Why a payment failed, when our own code says it, is its `failure_code` alone (subscribers.choices.
FailureCode) shown in the reader's language; a provider's own message stays verbatim. Migration billing 0022
clears the sentences stored before, in either language, when they are exactly ours for the row's code."""

import importlib

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from billing.choices import PaymentStatus
from billing.models import Payment
from subscribers import timeline
from tests.billing.test_payment_views import payment_for
from tests.billing.test_refund_reason_codes import reader
from tests.factories import SubscriptionEventFactory

pytestmark = pytest.mark.django_db
EXPIRED_PT = "O boleto/pix venceu sem pagamento."
EXPIRED_EN = "The boleto/Pix expired without being paid."
STRIPE_SAYS = "Your card has insufficient funds."


def test_a_failed_payment_reads_in_each_readers_language_and_a_providers_message_verbatim(merchant, owner):
    lapsed = payment_for(merchant, "Ana", status=PaymentStatus.FAILED, failure_code="expired")
    payment_for(
        merchant,
        "Bia",
        status=PaymentStatus.FAILED,
        failure_code="insufficient_funds",
        failure_message=STRIPE_SAYS,
    )
    english, portuguese = reader(owner, "en"), reader(owner, "pt-br")

    listed = english.get(reverse("billing:payment_list")).content.decode()
    assert EXPIRED_EN in listed and EXPIRED_PT not in listed and STRIPE_SAYS in listed
    listed = portuguese.get(reverse("billing:payment_list")).content.decode()
    assert EXPIRED_PT in listed and STRIPE_SAYS in listed
    invoice_url = lapsed.invoice.get_absolute_url()
    assert EXPIRED_EN in english.get(invoice_url).content.decode()
    assert EXPIRED_PT in portuguese.get(invoice_url).content.decode()


def test_the_migration_clears_our_sentences_and_keeps_a_providers(merchant):
    migration = importlib.import_module("billing.migrations.0022_payment_failure_codes")
    stored = {
        # (code, message): message after
        ("expired", EXPIRED_PT): "",
        ("expired", "The payment deadline has expired."): "",
        ("card_declined", "Card declined by the issuer."): "",
        ("insufficient_funds", STRIPE_SAYS): STRIPE_SAYS,
        ("card_declined", "Saldo insuficiente."): "Saldo insuficiente.",  # another code's sentence: kept
    }
    payments = {
        key: payment_for(merchant, f"Cliente {n}", failure_code=key[0], failure_message=key[1])
        for n, key in enumerate(stored)
    }
    declined = SubscriptionEventFactory(
        merchant=merchant,
        reason_code=timeline.CHARGE_DECLINED,
        reason_params={"number": 7, "message": "Saldo insuficiente."},
    )

    migration.to_codes(apps, None)

    for key, message in stored.items():
        assert Payment.objects.get(pk=payments[key].pk).failure_message == message, key
    declined.refresh_from_db()
    assert declined.reason_params == {"number": 7, "message": "insufficient_funds"}
    with translation.override("en"):
        assert declined.reason_display == "Charge for invoice no. 7 declined: Insufficient funds."
