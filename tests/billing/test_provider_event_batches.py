"""The billing workers apply inbound provider events in batches (provider_events_process_batch): objects
claimed with SKIP LOCKED, their events read together and applied in order per object against the `created`
watermark, statuses and watermarks written in bulk; a handler failure redoes the batch one object at a time
so only the failing event is marked failed."""

import datetime as dt
import json
import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django_q.models import OrmQ

from billing import provider_notes, tasks
from billing.choices import PaymentProvider
from billing.choices import ProviderEventStatus as PE
from billing.models import ProviderEvent, ProviderObjectState
from billing.services import provider_events
from billing.services.provider_events import _track_pending_objects, provider_events_process_batch
from subscribers.choices import SubscriptionStatus
from tests.factories import ProviderConnectionFactory, ProviderEventFactory, SubscriptionFactory

T0 = dt.datetime(2026, 12, 1, 12, tzinfo=dt.UTC)


def world(merchant, *, objects: int, events_per_object: int, prefix="sub_batch"):
    """Mirrored subscriptions, each with `events_per_object` pending `customer.subscription.updated` events
    one second apart, delivered newest first (the batch must still apply them oldest first)."""
    ProviderConnectionFactory(merchant=merchant)
    for n in range(objects):
        key = f"{prefix}_{n}"
        SubscriptionFactory(merchant=merchant, provider=PaymentProvider.STRIPE, provider_id=key)
        for k in reversed(range(events_per_object)):
            body = {
                "id": f"evt_{key}_{k}",
                "type": "customer.subscription.updated",
                "data": {"object": {"object": "subscription", "id": key, "status": "active"}},
            }
            ProviderEventFactory(
                merchant=merchant,
                event_id=body["id"],
                object_key=key,
                created=T0 + dt.timedelta(seconds=k),
                body=json.dumps(body),
            )
    _track_pending_objects()


@pytest.mark.django_db
def test_a_batch_applies_every_objects_events_in_order_with_a_fixed_number_of_queries(merchant):
    world(merchant, objects=20, events_per_object=3)
    with CaptureQueriesContext(connection) as captured:
        counts = provider_events_process_batch()
    assert counts == {PE.PROCESSED: 60, PE.FAILED: 0, PE.IGNORED: 0, "objects": 20, "claimed": 20}

    handler_reads = [q for q in captured.captured_queries if 'FROM "subscribers_subscription"' in q["sql"]]
    # The handler's own lookup, one per event: only the status, Stripe's being the same (nothing to load).
    assert len(handler_reads) == 60 and all(q["sql"].startswith('SELECT "status"') for q in handler_reads)
    assert set(ProviderEvent.objects.values_list("note", "note_code")) == {
        ("", provider_notes.NOTHING_CHANGED)
    }
    # Claim, events, connections, statuses, watermarks (+ the transaction's savepoint in a test).
    assert len(captured.captured_queries) - len(handler_reads) <= 7
    assert set(ProviderEvent.objects.values_list("status", "attempts")) == {(PE.PROCESSED, 1)}
    watermarks = set(ProviderObjectState.objects.values_list("watermark", flat=True))
    assert watermarks == {T0 + dt.timedelta(seconds=2)}  # none of the older ones was skipped as stale


@pytest.mark.django_db
def test_a_failing_handler_is_recorded_and_the_rest_of_the_batch_goes_through(merchant):
    world(merchant, objects=4, events_per_object=2)
    # A subscription Stripe created that matches no plan here: its handler raises.
    ProviderEventFactory(
        merchant=merchant,
        event_id="evt_unknown",
        object_key="sub_unknown",
        created=T0,
        body=json.dumps(
            {"data": {"object": {"object": "subscription", "id": "sub_unknown", "status": "active"}}}
        ),
    )
    _track_pending_objects()

    counts = provider_events_process_batch()

    assert counts == {PE.PROCESSED: 8, PE.FAILED: 1, PE.IGNORED: 0, "objects": 5, "claimed": 5}
    failed = ProviderEvent.objects.get(event_id="evt_unknown")
    assert failed.status == PE.FAILED and failed.attempts == 1 and "Traceback" in failed.last_error
    assert ProviderEvent.objects.filter(status=PE.PROCESSED, attempts=1).count() == 8


@pytest.mark.django_db
def test_an_event_older_than_what_was_applied_is_ignored_in_a_batch(merchant):
    world(merchant, objects=1, events_per_object=2)
    provider_events_process_batch()
    ProviderEventFactory(merchant=merchant, event_id="evt_late", object_key="sub_batch_0", created=T0)
    _track_pending_objects()
    assert provider_events_process_batch()[PE.IGNORED] == 1
    assert ProviderEvent.objects.get(event_id="evt_late").note_code == provider_notes.OLDER_THAN_APPLIED


@pytest.mark.django_db
def test_a_full_batch_queues_the_next_one(merchant, monkeypatch):
    monkeypatch.setattr(provider_events, "BATCH_OBJECTS", 2)
    world(merchant, objects=3, events_per_object=1)
    assert tasks.process_provider_event_batch()["objects"] == 2
    assert OrmQ.objects.count() == 1
    assert tasks.process_provider_event_batch()["objects"] == 1
    assert OrmQ.objects.count() == 1  # not full: nothing more to do


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_batching_at_once_apply_each_event_once_and_in_order(merchant):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections claiming with SKIP LOCKED")
    world(merchant, objects=40, events_per_object=3)
    start = threading.Barrier(2)
    claimed: list[int] = []

    def worker():
        try:
            start.wait()
            while True:
                counts = provider_events_process_batch(limit=5)
                claimed.append(counts["objects"])
                if not counts["objects"] and not ProviderEvent.objects.filter(status=PE.PENDING).exists():
                    break
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    # Every object's events applied by exactly one batch. A worker may lock an object the other has just
    # done (PostgreSQL rechecks the locked row, not the pending events): it finds nothing to apply there.
    assert sum(claimed) == 40
    assert set(ProviderEvent.objects.values_list("status", "attempts")) == {(PE.PROCESSED, 1)}
    assert set(ProviderObjectState.objects.values_list("watermark", flat=True)) == {
        T0 + dt.timedelta(seconds=2)
    }
    assert not ProviderEvent.objects.filter(status=PE.PENDING).exists()
    assert all(
        s == SubscriptionStatus.ACTIVE
        for s in SubscriptionFactory._meta.model.objects.values_list("status", flat=True)
    )


@pytest.mark.django_db
def test_events_of_a_disconnected_merchant_fail_in_the_batch_without_stopping_the_others(
    merchant, other_merchant
):
    world(merchant, objects=2, events_per_object=1)
    ProviderEventFactory(merchant=other_merchant, event_id="evt_orphan", object_key="sub_orphan", created=T0)
    _track_pending_objects()

    counts = provider_events_process_batch()

    assert counts == {PE.PROCESSED: 2, PE.FAILED: 1, PE.IGNORED: 0, "objects": 3, "claimed": 3}
    orphan = ProviderEvent.objects.get(event_id="evt_orphan")
    assert orphan.status == PE.FAILED and orphan.processed_at is None and "Sem conexão" in orphan.last_error
