"""Every row lock billing takes, from one module, in the one order (Saleor's lock_objects.py).

Lock order (docs/billing-states.md, "Locks"): **Subscription, then its Schedule, then Invoice, then
Payment, then the Customer** (credit ledger), each by primary key. The subscription, schedule and
customer locks live in
subscribers/locks.py (subscribers locks subscriptions too and may not import billing); they are
re-exported here so billing code imports all its locks from this module.
"""

from billing.models import Invoice, Payment
from subscribers.locks import (
    lock_customer,
    lock_schedule,
    lock_subscription,
    schedules_for_update,
    subscriptions_for_update,
)
from subscribers.models import Subscription

__all__ = [
    "lock_customer",
    "lock_invoice",
    "lock_payment",
    "lock_payment_with_parents",
    "lock_schedule",
    "lock_subscription",
    "schedules_for_update",
    "subscriptions_for_update",
]


def lock_invoice(pk: int) -> Invoice:
    """The invoice under lock (only its row). Its subscription's lock, if needed, is taken first."""
    return Invoice.objects.select_for_update(of=("self",)).get(pk=pk)


def lock_payment(pk: int) -> Payment:
    """The payment under lock. Its subscription's and invoice's locks, if needed, are taken first."""
    return Payment.objects.select_for_update().get(pk=pk)


def lock_payment_with_parents(payment: Payment) -> tuple[Subscription | None, Invoice, Payment]:
    """A payment with its invoice and that invoice's subscription (None for an invoice without one), all
    locked in the documented order: Subscription, Invoice, Payment."""
    subscription_id = (
        Invoice.objects.filter(pk=payment.invoice_id).values_list("subscription_id", flat=True).get()
    )
    subscription = lock_subscription(subscription_id) if subscription_id else None
    return subscription, lock_invoice(payment.invoice_id), lock_payment(payment.pk)
