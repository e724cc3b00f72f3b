"""Row locks on subscribers' rows, and the one order every service takes its locks in.

Lock order (docs/billing-states.md, "Locks"): **Subscription, then its Schedule, then Invoice, then
Payment, then the Customer** (the credit ledger's lock), each row by primary key with
`SELECT … FOR UPDATE`. A service that needs several takes them in that order and never goes back for an
earlier kind, so two workers, or a worker and a person, never wait on each other in a circle. The Invoice
and Payment locks are billing's (billing/locks.py, which also re-exports these so billing code takes every
lock from one module); they live there because subscribers may not import billing (the app layers),
while both apps lock subscriptions.

Every subscription lock locks only the subscription's own row (`of=("self",)`): without it PostgreSQL
would also lock the joined merchant, plan and customer rows, serialising every write of a merchant and
making the SKIP LOCKED workers skip unrelated subscriptions of the same merchant.
"""

from django.db.models import QuerySet

from subscribers.models import Customer, Subscription, SubscriptionSchedule

# What the services read from a locked subscription, fetched with it.
SUBSCRIPTION_RELATED = (
    "merchant",
    "plan",
    "customer",
    "coupon",
    "pending_plan",
    "plan_price",
    "next_plan_price",
)


def subscriptions_for_update(*, skip_locked: bool = False) -> QuerySet[Subscription]:
    """Subscriptions to lock (only their own rows); `skip_locked` leaves rows another transaction holds
    out instead of waiting (the billing run's workers)."""
    return Subscription.objects.select_for_update(skip_locked=skip_locked, of=("self",))


def lock_subscription(pk: int, *, skip_locked: bool = False) -> Subscription | None:
    """The subscription re-read under its lock, so two requests cannot both act on the same old status;
    None when it is gone or, with `skip_locked`, held by another transaction."""
    return (
        subscriptions_for_update(skip_locked=skip_locked)
        .select_related(*SUBSCRIPTION_RELATED)
        .filter(pk=pk)
        .first()
    )


def schedules_for_update() -> QuerySet[SubscriptionSchedule]:
    """Schedules to lock; taken after their subscription's lock, never before it."""
    return SubscriptionSchedule.objects.select_for_update()


def lock_schedule(pk: int) -> SubscriptionSchedule:
    """The schedule under lock; its subscription's lock is taken first."""
    return schedules_for_update().get(pk=pk)


def lock_customer(pk: int) -> Customer:
    """The customer row under lock: what serialises every change to their credit balance. Last in the
    order: taken after any subscription, invoice and payment lock of the same transaction."""
    return Customer.objects.select_for_update(of=("self",)).get(pk=pk)
