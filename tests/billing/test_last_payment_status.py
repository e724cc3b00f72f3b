"""`sync_last_payment_status`: the subscription's newest payment (created_at, then id) over all its
invoices, written in one statement for many subscriptions (the bulk paths: phase 3 of remote charging)."""

import datetime as dt

import pytest

from billing.choices import PaymentStatus
from billing.models import Payment
from billing.services.last_payment import sync_last_payment_status
from subscribers.models import Subscription
from tests.factories import InvoiceFactory, PaymentFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_the_newest_payment_of_any_invoice_wins_and_none_means_empty(merchant):
    newer_date, older_date, tied = SubscriptionFactory.create_batch(3, merchant=merchant)
    nothing = SubscriptionFactory(merchant=merchant)
    base = dt.datetime(2026, 11, 1, 12, tzinfo=dt.UTC)

    def pay(subscription, status, created_at):
        payment = PaymentFactory(
            merchant=merchant,
            invoice=InvoiceFactory(merchant=merchant, subscription=subscription),
            status=status,
        )
        # Dates and statuses rewritten behind the ORM's back (as the bulk paths write them).
        Payment.objects.filter(pk=payment.pk).update(created_at=created_at)
        return payment

    pay(newer_date, PaymentStatus.FAILED, base)
    pay(newer_date, PaymentStatus.SUCCEEDED, base + dt.timedelta(days=30))
    pay(older_date, PaymentStatus.PENDING, base + dt.timedelta(days=30))
    pay(older_date, PaymentStatus.FAILED, base)
    pay(tied, PaymentStatus.SUCCEEDED, base)
    pay(tied, PaymentStatus.REFUNDED, base)  # same instant: the larger id is the newer
    Subscription.objects.update(last_payment_status="stale")

    changed = sync_last_payment_status([newer_date.pk, older_date.pk, tied.pk, nothing.pk, newer_date.pk])

    assert changed == 4
    assert dict(Subscription.objects.values_list("pk", "last_payment_status")) == {
        newer_date.pk: PaymentStatus.SUCCEEDED,
        older_date.pk: PaymentStatus.PENDING,
        tied.pk: PaymentStatus.REFUNDED,
        nothing.pk: "",
    }
    assert sync_last_payment_status([]) == 0


@pytest.mark.postgres
def test_a_subscription_already_showing_its_newest_status_is_not_rewritten(merchant):
    subscription = SubscriptionFactory(merchant=merchant)
    PaymentFactory(merchant=merchant, invoice=InvoiceFactory(merchant=merchant, subscription=subscription))
    assert Subscription.objects.get(pk=subscription.pk).last_payment_status == PaymentStatus.SUCCEEDED
    assert sync_last_payment_status([subscription.pk]) == 0  # no row version written for nothing
