"""Two or more workers, a duplicated task, a crash mid-chunk: each period is invoiced once and charged
at most once. Real threads, real PostgreSQL connections, real row locks."""

import datetime as dt
import threading
import zoneinfo

import pytest
import time_machine
from django.db import connection, connections

from billing.choices import PaymentStatus
from billing.models import BillingRun, Invoice, Payment
from billing.services.billing_run import billing_run_start, process_chunk, process_subscription
from subscribers.choices import SubscriptionStatus
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 5, 10, 9, 0, tzinfo=SP)
SUBSCRIPTIONS = 60


@pytest.fixture
def due(merchant):
    """Subscriptions whose next period must be invoiced now."""
    plan = PlanFactory(merchant=merchant, price=4990)
    return [
        SubscriptionFactory(
            merchant=merchant,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            billing_cycle_anchor=NOW - dt.timedelta(days=31),
            next_invoice_at=NOW - dt.timedelta(minutes=1),
        )
        for _ in range(SUBSCRIPTIONS)
    ]


def at_once(*jobs):
    """Runs the jobs in real threads released together; returns their results, re-raising errors."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [None] * len(jobs), []

    def worker(index, job):
        try:
            with time_machine.travel(NOW, tick=False):
                barrier.wait(timeout=30)
                results[index] = job()
        except Exception as exc:  # reported below, with the thread's traceback
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


def assert_exactly_once(subscriptions):
    for subscription in subscriptions:
        invoices = Invoice.objects.filter(subscription=subscription)
        assert invoices.count() == 1, f"subscription {subscription.pk}: {invoices.count()} invoices"
        assert Payment.objects.filter(invoice__in=invoices, status=PaymentStatus.SUCCEEDED).count() == 1
    assert Payment.objects.count() == len(subscriptions)


def test_two_workers_on_the_same_chunk_invoice_and_charge_each_period_once(due):
    ids = [s.pk for s in due]
    run = BillingRun.objects.create(merchant=due[0].merchant, due=len(ids), chunks_total=2)

    results = at_once(
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids),
        lambda: process_chunk(run_id=run.pk, subscription_ids=list(reversed(ids))),
    )

    assert_exactly_once(due)
    assert sum(r["succeeded"] for r in results) == SUBSCRIPTIONS  # every one billed by exactly one worker
    run.refresh_from_db()
    assert (run.status, run.chunks_done) == ("finished", 2)


def test_two_billing_runs_started_at_once_by_two_clusters(due):
    def cluster():
        dispatched = []
        runs = billing_run_start(
            chunk_size=7, dispatch=lambda run_id, chunk: dispatched.append((run_id, chunk))
        )
        # billing_run_start dispatches on commit; outside a transaction that is immediately.
        for run_id, chunk in dispatched:
            process_chunk(run_id=run_id, subscription_ids=chunk)
        return runs

    at_once(cluster, cluster, cluster)

    assert_exactly_once(due)


def test_a_task_delivered_twice_after_a_worker_died_half_way(due):
    ids = [s.pk for s in due]
    with time_machine.travel(NOW, tick=False):
        for subscription_id in ids[: SUBSCRIPTIONS // 2]:  # the worker that died got this far
            process_subscription(subscription_id=subscription_id)
    run = BillingRun.objects.create(merchant=due[0].merchant, due=len(ids), chunks_total=1)

    at_once(
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids),
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids),
    )

    assert_exactly_once(due)


def test_an_exception_mid_chunk_fails_one_subscription_and_a_rerun_completes_it(due):
    victim = due[SUBSCRIPTIONS // 2]
    with connection.cursor() as cursor:
        # A real database failure for one subscription, injected below our code: no mocks.
        cursor.execute(
            f"""
            CREATE FUNCTION fail_invoice() RETURNS trigger AS $$
            BEGIN
              IF NEW.subscription_id = {victim.pk} THEN RAISE EXCEPTION 'injected failure'; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER fail_invoice BEFORE INSERT ON billing_invoice
              FOR EACH ROW EXECUTE FUNCTION fail_invoice();
            """
        )
    ids = [s.pk for s in due]
    run = BillingRun.objects.create(merchant=due[0].merchant, due=len(ids), chunks_total=1)

    (counts,) = at_once(lambda: process_chunk(run_id=run.pk, subscription_ids=ids))

    assert counts["failed"] == 1
    assert not Invoice.objects.filter(subscription=victim).exists()
    assert Invoice.objects.count() == SUBSCRIPTIONS - 1
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER fail_invoice ON billing_invoice; DROP FUNCTION fail_invoice();")

    at_once(
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids),
        lambda: process_chunk(run_id=run.pk, subscription_ids=ids),
    )

    assert_exactly_once(due)
