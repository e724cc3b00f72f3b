"""The row locks come from one place (subscribers/locks.py, billing/locks.py) and are taken in the order
docs/billing-states.md writes down: Subscription, then Invoice, then Payment, then the Customer."""

import re
import threading

import pytest
from django.db import OperationalError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from billing.locks import (
    lock_customer,
    lock_payment_with_parents,
    lock_subscription,
    subscriptions_for_update,
)
from billing.models import Invoice, Payment
from subscribers.models import Customer, Subscription
from tests.factories import PaymentFactory

pytestmark = pytest.mark.postgres

ORDER = [Subscription._meta.db_table, Invoice._meta.db_table, Payment._meta.db_table, Customer._meta.db_table]


def locked_tables(queries) -> list[str]:
    """The table each FOR UPDATE statement reads, in the order they ran."""
    tables = []
    for query in queries:
        if "FOR UPDATE" in query["sql"]:
            tables.append(re.search(r'FROM "(\w+)"', query["sql"]).group(1))
    return tables


def nowait(model, pk) -> bool:
    """Whether another connection could lock the row right now (False: someone holds it)."""
    try:
        with transaction.atomic():
            model.objects.select_for_update(nowait=True).get(pk=pk)
    except OperationalError:
        return False
    return True


@pytest.mark.django_db
def test_a_payment_and_its_parents_are_locked_subscription_first_then_invoice_then_payment(merchant):
    payment = PaymentFactory(merchant=merchant)

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        subscription, invoice, locked = lock_payment_with_parents(payment)
        lock_customer(subscription.customer_id)

    assert (subscription.pk, invoice.pk, locked.pk) == (
        payment.invoice.subscription_id,
        payment.invoice_id,
        payment.pk,
    )
    assert locked_tables(queries) == ORDER


@pytest.mark.django_db
def test_a_subscription_lock_reads_what_the_services_use_and_locks_only_its_own_row(merchant):
    payment = PaymentFactory(merchant=merchant)
    pk = payment.invoice.subscription_id

    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        subscription = lock_subscription(pk)
        subscription.merchant, subscription.plan, subscription.customer  # noqa: B018 (no further query)

    assert len(queries) == 1
    assert 'FOR UPDATE OF "subscribers_subscription"' in queries[0]["sql"]


@pytest.mark.django_db(transaction=True)
def test_a_waiting_service_holds_nothing_further_down_the_order(merchant):
    """While one transaction holds the subscription, another locking the same payment waits at the
    subscription: its invoice and payment stay free (no circle can form), and it goes on once released."""
    payment = PaymentFactory(merchant=merchant)
    subscription_pk = payment.invoice.subscription_id
    holding, release, waiter_done = threading.Event(), threading.Event(), threading.Event()
    errors = []

    def holder():
        try:
            with transaction.atomic():
                lock_subscription(subscription_pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def waiter():
        try:
            holding.wait(timeout=30)
            with transaction.atomic():
                lock_payment_with_parents(payment)
            waiter_done.set()
        except Exception as exc:  # reported by the test below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=waiter)]
    for thread in threads:
        thread.start()
    try:
        assert holding.wait(timeout=30)
        assert not waiter_done.wait(timeout=1)  # stuck behind the subscription lock
        with transaction.atomic():
            assert lock_subscription(subscription_pk, skip_locked=True) is None
        assert nowait(Invoice, payment.invoice_id)
        assert nowait(Payment, payment.pk)
    finally:
        release.set()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors
    assert waiter_done.is_set()


@pytest.mark.django_db(transaction=True)
def test_skip_locked_batches_leave_out_rows_another_transaction_holds(merchant):
    first, second = PaymentFactory(merchant=merchant), PaymentFactory(merchant=merchant)
    ids = [first.invoice.subscription_id, second.invoice.subscription_id]
    holding, release = threading.Event(), threading.Event()

    def holder():
        try:
            with transaction.atomic():
                lock_subscription(ids[0])
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            free = list(
                subscriptions_for_update(skip_locked=True).filter(pk__in=ids).values_list("pk", flat=True)
            )
    finally:
        release.set()
        thread.join(timeout=30)
    assert free == [ids[1]]
