"""Migration billing 0009 gives payments partly refunded or charged back before these statuses existed
(they stayed `succeeded`, the amounts told the story) their status, and the list's last payment with it."""

import importlib

from django.apps import apps

from billing.choices import PaymentStatus
from billing.models import Payment
from tests.factories import InvoiceFactory, PaymentFactory, SubscriptionFactory

migration = importlib.import_module("billing.migrations.0009_payment_refund_chargeback_statuses")


def test_old_partial_refunds_and_chargebacks_get_their_status(db, merchant):
    subscription = SubscriptionFactory(merchant=merchant)
    old = PaymentFactory(
        merchant=merchant, invoice=InvoiceFactory(merchant=merchant, subscription=subscription)
    )
    newest = PaymentFactory(
        merchant=merchant, invoice=InvoiceFactory(merchant=merchant, subscription=subscription)
    )
    untouched = PaymentFactory(merchant=merchant, amount=5000)
    full = PaymentFactory(merchant=merchant, amount=5000, status=PaymentStatus.REFUNDED)
    # As the code before these statuses left them: succeeded, with the amounts.
    Payment.objects.filter(pk=old.pk).update(amount_refunded=1000)
    Payment.objects.filter(pk=newest.pk).update(amount_refunded=500, amount_charged_back=1000)
    Payment.objects.filter(pk=full.pk).update(amount_refunded=5000)

    migration.statuses_from_amounts(apps, None)

    statuses = dict(Payment.objects.values_list("pk", "status"))
    assert statuses == {
        old.pk: PaymentStatus.PARTIALLY_REFUNDED,
        newest.pk: PaymentStatus.CHARGED_BACK,
        untouched.pk: PaymentStatus.SUCCEEDED,
        full.pk: PaymentStatus.REFUNDED,
    }
    subscription.refresh_from_db()
    assert subscription.last_payment_status == PaymentStatus.CHARGED_BACK
