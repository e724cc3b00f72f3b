"""Issue 11 defect 11 with real processes: two billing clusters (`manage.py worker`, ORM broker on this
test's PostgreSQL) share a run; one is killed with SIGKILL mid-run (every process of it, as a crashed
machine would lose them); the other takes the dead cluster's chunks over in under a minute, and the run
ends finished with exact counts, every period invoiced and charged once, every outbox event there once.
"""

import datetime as dt
import signal

import pytest
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from billing.choices import PaymentStatus
from billing.models import BillingRun, BillingRunChunk, Invoice, Payment
from billing.services.billing_run import billing_run_start
from core.models import Event, WorkerHeartbeat
from subscribers.choices import SubscriptionStatus
from tests import processes
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SUBSCRIPTIONS = 200
CHUNK = 10


@pytest.fixture
def clusters(tmp_path):
    started = []

    def start(name):
        process = processes.start_worker("billing", log_path=tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        processes.kill_tree(process, signal.SIGKILL)
    with connection.cursor() as cursor:  # the trigger outlives the test's flush: it must not slow the rest
        cursor.execute(
            "DROP TRIGGER IF EXISTS slow_insert ON billing_invoice; DROP FUNCTION IF EXISTS slow_insert();"
        )
    connection.close()


def slow_invoice_inserts():
    """Each INSERT into billing_invoice takes 0.3 s more (a real PostgreSQL trigger, no mocks), so a
    run of 20 chunks lasts long enough to kill a cluster in the middle of it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE OR REPLACE FUNCTION slow_insert() RETURNS trigger AS $$
            BEGIN PERFORM pg_sleep(0.3); RETURN NULL; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER slow_insert AFTER INSERT ON billing_invoice
              FOR EACH STATEMENT EXECUTE FUNCTION slow_insert();
            """
        )


def pids_of(process) -> set[str]:
    return {str(pid) for pid in processes.descendants(process.pid)}


def test_a_billing_cluster_killed_mid_run_is_taken_over_and_the_run_counts_exactly(merchant, clusters):
    now = timezone.now()
    plan = PlanFactory(merchant=merchant, price=4990)
    due = [
        SubscriptionFactory(
            merchant=merchant,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            billing_cycle_anchor=now - dt.timedelta(days=31),
            next_invoice_at=now - dt.timedelta(minutes=1),
        )
        for _ in range(SUBSCRIPTIONS)
    ]
    slow_invoice_inserts()
    doomed, survivor = clusters("doomed"), clusters("survivor")
    assert processes.wait_for(
        lambda: WorkerHeartbeat.objects.filter(cluster="billing").count() >= 2, timeout=60
    )

    (run,) = billing_run_start(chunk_size=CHUNK)

    def doomed_holds_a_chunk():
        done = BillingRunChunk.objects.filter(run=run, status="done").count()
        claimed = BillingRunChunk.objects.filter(run=run, status="claimed").values_list(
            "claimed_by", flat=True
        )
        return done >= 3 and any(key.split(":")[1] in pids_of(doomed) for key in claimed)

    assert processes.wait_for(doomed_holds_a_chunk, timeout=60, interval=0.05), (
        "the doomed cluster never took a chunk"
    )
    processes.kill_tree(doomed, signal.SIGKILL)
    killed_at = timezone.now()

    assert processes.wait_for(lambda: BillingRun.objects.get(pk=run.pk).status != "running", timeout=90), (
        "the run never finished"
    )
    taken_over_in = (BillingRun.objects.get(pk=run.pk).finished_at - killed_at).total_seconds()
    assert taken_over_in < 60
    assert survivor.poll() is None

    run.refresh_from_db()
    assert run.status == "finished"
    assert (run.due, run.processed, run.chunks_done, run.chunks_total) == (200, 200, 20, 20)
    assert run.succeeded + run.failed <= run.processed
    # Every period invoiced once, every successful charge once, every event of a renewal there once.
    assert Invoice.objects.count() == SUBSCRIPTIONS
    assert not Invoice.objects.values("subscription").annotate(n=Count("pk")).filter(n__gt=1).exists()
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == SUBSCRIPTIONS
    assert {s.pk for s in due} == set(Invoice.objects.values_list("subscription_id", flat=True))
    for event_type in ("payment.succeeded", "invoice.paid"):
        ids = [e.payload["id"] for e in Event.objects.filter(type=event_type)]
        assert len(ids) == len(set(ids)) == SUBSCRIPTIONS, event_type
