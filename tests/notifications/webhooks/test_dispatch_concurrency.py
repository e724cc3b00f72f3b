"""Several workers at once on PostgreSQL: every Event fanned out once, every delivery sent by one worker.
Real threads, real connections, real SKIP LOCKED."""

import threading

import pytest
from django.db import connections

from core.models import Event
from notifications.models import WebhookDelivery, WebhookDeliveryAttempt
from notifications.webhooks.services import dispatch
from notifications.webhooks.services.dispatch import (
    AttemptResult,
    claim_due_deliveries,
    deliver_due,
    fan_out_all,
)
from tests.factories import EventFactory, WebhookEndpointFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
EVENTS = 120


def at_once(*jobs):
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
        thread.join(timeout=120)
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def outbox(merchant):
    endpoints = [WebhookEndpointFactory(merchant=merchant) for _ in range(2)]
    events = [EventFactory(merchant=merchant, type="invoice.paid") for _ in range(EVENTS)]
    return endpoints, events


def test_concurrent_fan_outs_create_each_delivery_once(outbox, monkeypatch):
    monkeypatch.setattr(dispatch, "FAN_OUT_BATCH", 7)

    at_once(fan_out_all, fan_out_all, fan_out_all, fan_out_all)

    assert not Event.objects.filter(processed_at__isnull=True).exists()
    assert WebhookDelivery.objects.count() == 2 * EVENTS


def test_concurrent_claims_never_share_a_delivery(outbox):
    fan_out_all()

    claims = at_once(*[lambda: claim_due_deliveries(limit=25)] * 4)

    ids = [d.pk for claim in claims for d in claim]
    assert len(ids) == len(set(ids)) == 4 * 25


def test_concurrent_workers_send_every_delivery_exactly_once(outbox, monkeypatch):
    fan_out_all()
    sent, lock = [], threading.Lock()

    def fake_send(delivery, *, now=None):
        with lock:
            sent.append(delivery.pk)
        return AttemptResult(status_code=204, latency_ms=1)

    monkeypatch.setattr(dispatch, "send_delivery", fake_send)

    at_once(deliver_due, deliver_due, deliver_due)

    assert sorted(sent) == sorted(WebhookDelivery.objects.values_list("pk", flat=True))
    assert WebhookDeliveryAttempt.objects.count() == 2 * EVENTS
    assert not WebhookDelivery.objects.exclude(status="succeeded").exists()
