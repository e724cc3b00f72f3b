"""Crash bookkeeping of the billing run (issue 11, defect 11), in one process: a chunk delivered again
after it was counted, a run whose dispatch died half-way, a chunk held by a worker that died, a chunk
that keeps killing its worker. The figures come from the chunk rows, so they stay exact.

The same with real processes killed by SIGKILL: tests/billing/test_billing_run_kill.py."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django_q.models import OrmQ

from billing.choices import PaymentStatus
from billing.models import BillingRun, BillingRunChunk, Invoice, Payment
from billing.services.billing_run import (
    billing_run_reap,
    billing_run_release,
    billing_run_start,
    process_chunk,
)
from billing.tasks import process_chunk as process_chunk_task
from core.heartbeat import beat
from subscribers.choices import SubscriptionStatus
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 5, 10, 9, 0, tzinfo=SP)
LATER = NOW + dt.timedelta(seconds=30)  # past the heartbeat's stale limit (20 s)
SUBSCRIPTIONS = 30
CHUNK = 10


@pytest.fixture
def due(merchant):
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


def start(dispatch):
    with time_machine.travel(NOW, tick=False):
        (run,) = billing_run_start(chunk_size=CHUNK, dispatch=dispatch)
    return run


def run_queued_billing_tasks():
    """Runs what sits on the billing queue (the ORM broker's rows), as the billing cluster would."""
    tasks = list(OrmQ.objects.filter(key="billing").order_by("pk"))
    for row in tasks:
        task = row.task
        assert task["func"] == "billing.tasks.process_chunk"
        with time_machine.travel(LATER, tick=False):
            process_chunk_task(*task["args"])
        row.delete()
    return len(tasks)


def assert_billed_once(due):
    for subscription in due:
        assert Invoice.objects.filter(subscription=subscription).count() == 1
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == len(due)


def test_a_chunk_delivered_again_after_it_was_counted_is_not_counted_again(due):
    dispatched = []
    run = start(lambda run_id, ids: dispatched.append((run_id, ids)))
    with time_machine.travel(NOW, tick=False):
        for run_id, ids in dispatched:
            process_chunk(run_id=run_id, subscription_ids=ids)
        process_chunk(run_id=run.pk, subscription_ids=dispatched[0][1])  # the broker delivers it again

    run.refresh_from_db()
    assert (run.status, run.due, run.processed, run.succeeded) == ("finished", 30, 30, 30)
    assert (run.chunks_done, run.chunks_total) == (3, 3)
    assert_billed_once(due)


def test_a_run_whose_dispatch_died_half_way_is_requeued_and_finished_by_the_reaper(due):
    dispatched = []
    # The process was killed after handing over the first chunk: the others never reached the queue.
    run = start(lambda run_id, ids: dispatched.append((run_id, ids)) if not dispatched else None)
    with time_machine.travel(NOW, tick=False):
        process_chunk(run_id=run.pk, subscription_ids=dispatched[0][1])
    run.refresh_from_db()
    assert (run.status, run.chunks_done) == ("running", 1)

    with time_machine.travel(NOW + dt.timedelta(seconds=5), tick=False):
        assert billing_run_reap()["requeued"] == 0  # too soon: they may still be on their way
    with time_machine.travel(LATER, tick=False):
        assert billing_run_reap()["requeued"] == 2
        assert billing_run_reap()["requeued"] == 0  # queued once, not at every pass
    assert run_queued_billing_tasks() == 2

    run.refresh_from_db()
    assert (run.status, run.processed, run.succeeded, run.chunks_done) == ("finished", 30, 30, 3)
    assert_billed_once(due)


def test_a_chunk_held_by_a_dead_worker_is_requeued_and_one_held_by_a_live_worker_is_left(due):
    run = start(lambda run_id, ids: None)
    first, second, third = BillingRunChunk.objects.filter(run=run).order_by("number")
    beat(key="host:101:dead", cluster="billing", started_at=NOW, now=NOW)  # silent since NOW
    beat(key="host:102:live", cluster="billing", started_at=NOW, now=LATER)
    BillingRunChunk.objects.filter(pk=first.pk).update(
        status="claimed", claimed_by="host:101:dead", claimed_at=NOW
    )
    BillingRunChunk.objects.filter(pk=second.pk).update(
        status="claimed", claimed_by="host:102:live", claimed_at=NOW
    )
    BillingRunChunk.objects.filter(pk=third.pk).update(status="done", processed=CHUNK, finished_at=LATER)

    with time_machine.travel(LATER, tick=False):
        outcome = billing_run_reap()

    assert outcome["requeued"] == 1
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, first.claimed_by) == ("pending", "")
    assert (second.status, second.claimed_by) == ("claimed", "host:102:live")
    (queued,) = OrmQ.objects.filter(key="billing")
    assert list(queued.task["args"]) == [run.pk, first.subscription_ids]


def test_a_stopped_workers_chunk_is_released_at_once(due):
    run = start(lambda run_id, ids: None)
    first = BillingRunChunk.objects.filter(run=run).order_by("number").first()
    BillingRunChunk.objects.filter(pk=first.pk).update(
        status="claimed", claimed_by="host:7:x", claimed_at=NOW
    )

    assert billing_run_release(keys=["host:7:x"]) == 1

    first.refresh_from_db()
    assert first.status == "pending"
    assert OrmQ.objects.filter(key="billing").count() == 1


def test_a_chunk_that_keeps_killing_its_worker_is_given_up_and_the_run_ends_failed(due):
    dispatched = []
    run = start(lambda run_id, ids: dispatched.append((run_id, ids)))
    with time_machine.travel(NOW, tick=False):
        for run_id, ids in dispatched[1:]:
            process_chunk(run_id=run_id, subscription_ids=ids)
    poison = BillingRunChunk.objects.get(run=run, number=1)
    BillingRunChunk.objects.filter(pk=poison.pk).update(
        status="claimed", claimed_by="host:9:gone", claimed_at=NOW, attempts=3
    )

    with time_machine.travel(LATER, tick=False):
        outcome = billing_run_reap()

    assert outcome["given_up"] == 1
    run.refresh_from_db()
    assert (run.status, run.processed, run.chunks_done, run.chunks_total) == ("failed", 20, 3, 3)
    assert (run.error, run.error_code, run.error_params) == (
        "",
        "chunks_given_up",
        {"count": 1, "attempts": 3},
    )
    assert "1 lote(s)" in run.error_display


def test_a_run_whose_last_completion_never_reached_it_is_settled_from_its_chunks(due):
    run = start(lambda run_id, ids: None)
    BillingRunChunk.objects.filter(run=run).update(
        status="done", processed=CHUNK, succeeded=CHUNK, finished_at=NOW
    )

    with time_machine.travel(LATER, tick=False):
        billing_run_reap()

    run.refresh_from_db()
    assert (run.status, run.processed, run.succeeded, run.chunks_done) == ("finished", 30, 30, 3)


def test_billing_work_is_queued_on_the_billing_cluster(due):
    start(lambda run_id, ids: None)
    BillingRun.objects.update(started_at=NOW)
    with time_machine.travel(LATER, tick=False):
        billing_run_reap()

    assert OrmQ.objects.filter(key="billing").count() == 3
    assert not OrmQ.objects.exclude(key="billing").exists()
