"""Fairness between merchants (issue 12): one merchant's backlog of due webhook deliveries must not make
another merchant's deliveries wait behind it. Claims take the merchants in turns."""

import datetime as dt

import pytest
from django.utils import timezone

from core.models import Event
from notifications.models import WebhookDelivery
from notifications.webhooks.services.dispatch import claim_due_deliveries
from tests.factories import MerchantFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db
BACKLOG = 400


def deliveries(merchant, count, *, due_since):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    events = Event.objects.bulk_create(
        Event(merchant=merchant, type="invoice.paid", payload={"id": n}) for n in range(count)
    )
    return WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            merchant=merchant,
            endpoint=endpoint,
            event=event,
            next_attempt_at=due_since + dt.timedelta(seconds=n),
        )
        for n, event in enumerate(events)
    )


def test_a_big_backlog_of_one_merchant_does_not_hold_back_another_merchants_deliveries():
    now = timezone.now()
    busy, quiet, other = MerchantFactory(), MerchantFactory(), MerchantFactory()
    deliveries(busy, BACKLOG, due_since=now - dt.timedelta(hours=2))  # older than everyone else's
    quiet_ones = deliveries(quiet, 3, due_since=now - dt.timedelta(minutes=1))
    other_ones = deliveries(other, 1, due_since=now - dt.timedelta(seconds=30))

    first = claim_due_deliveries(now=now, limit=10)

    claimed = [d.pk for d in first]
    assert {d.pk for d in quiet_ones + other_ones} <= set(claimed)
    assert len(claimed) == 10
    by_merchant = [d.merchant_id for d in first]
    assert by_merchant.count(busy.pk) == 6


def test_within_a_merchant_the_oldest_due_delivery_goes_first():
    now = timezone.now()
    merchant = MerchantFactory()
    made = deliveries(merchant, 5, due_since=now - dt.timedelta(minutes=5))

    assert [d.pk for d in claim_due_deliveries(now=now, limit=2)] == [made[0].pk, made[1].pk]
