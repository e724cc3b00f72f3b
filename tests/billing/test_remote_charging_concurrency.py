"""Two billing workers charging through a remote gateway at the same time, on real PostgreSQL connections:
the same chunk delivered twice, and two chunks of one run side by side. Each period is invoiced once and
charged once — counted on the provider stub's own ledger."""

import datetime as dt
import threading

import pytest
from django.db import connections
from django.utils import timezone

from billing.choices import Gateway, PaymentStatus, StripeMode
from billing.models import BillingRun, Invoice, Payment
from billing.services.billing_run import process_chunk
from subscribers.choices import PaymentMethod, SubscriptionStatus
from tests.factories import PlanFactory, ProviderConnectionFactory, SubscriptionFactory
from tests.stripe_server import StripeServer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SUBSCRIPTIONS = 40


@pytest.fixture
def stub():
    # Slow enough that the two workers' requests overlap.
    with StripeServer(latency=0.05) as running:
        yield running


@pytest.fixture
def engine(merchant, stub, settings):
    settings.STRIPE_API_BASE = stub.api_base
    return ProviderConnectionFactory(merchant=merchant, mode=StripeMode.ENGINE)


@pytest.fixture
def due(merchant):
    now = timezone.now()
    plan = PlanFactory(merchant=merchant, price=4990)
    return [
        SubscriptionFactory(
            merchant=merchant,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            payment_method=PaymentMethod.CARD,
            provider=Gateway.STRIPE,
            payment_token="pm_card_visa",
            billing_cycle_anchor=now - dt.timedelta(days=31),
            next_invoice_at=now - dt.timedelta(minutes=1),
        )
        for _ in range(SUBSCRIPTIONS)
    ]


def at_once(*jobs):
    """Runs the jobs in real threads (each its own database connection) released together."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def worker(index, job):
        try:
            barrier.wait(timeout=30)
            results[index] = job()
        except Exception as exc:  # re-raised below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    if errors:
        raise errors[0]
    return results


def assert_each_period_charged_once(stub, subscriptions):
    keys = stub.charged_keys()
    assert len(keys) == len(set(keys)) == len(subscriptions), "a key was charged twice, or one is missing"
    for subscription in subscriptions:
        invoices = Invoice.objects.filter(subscription=subscription)
        assert invoices.count() == 1
        assert Payment.objects.filter(invoice__in=invoices, status=PaymentStatus.SUCCEEDED).count() == 1
    assert Payment.objects.count() == len(subscriptions)
    assert sorted(Payment.objects.values_list("gateway_reference", flat=True)) == sorted(stub.intents)


def test_the_same_chunk_on_two_workers_at_once_charges_each_period_once(due, stub, engine):
    ids = [s.pk for s in due]
    run = BillingRun.objects.create(merchant=due[0].merchant, due=len(ids), chunks_total=1)
    results = at_once(
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids),
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids),
    )
    assert_each_period_charged_once(stub, due)
    # Each success was recorded by exactly one of them.
    assert sum(r["succeeded"] for r in results) == len(ids)


def test_two_chunks_side_by_side_charge_each_period_once(due, stub, engine):
    ids = [s.pk for s in due]
    half = len(ids) // 2
    run = BillingRun.objects.create(merchant=due[0].merchant, due=len(ids), chunks_total=2)
    results = at_once(
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids[:half]),
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids[half:]),
    )
    assert_each_period_charged_once(stub, due)
    assert [r["succeeded"] for r in results] == [half, len(ids) - half]
