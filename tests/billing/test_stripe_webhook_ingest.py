"""The webhook's accept path stores the event with one INSERT and queues no task per event: it wakes the
billing cluster at most once per window per web process, and the wake-up's drain queues processing batches
for the objects with pending events (billing/services/provider_events.py)."""

import time

import pytest
from django.urls import reverse
from django_q.models import OrmQ

from billing.models import ProviderEvent, ProviderObjectState
from billing.services import provider_events
from tests.billing.test_stripe_webhooks import SECRET, T0
from tests.factories import ProviderConnectionFactory
from tests.stripe_server import event, fixture, sign

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(merchant):
    return ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)


def post(client, connection, n: int, sub: str):
    body = event(
        "customer.subscription.updated", fixture("subscription", id=sub), created=T0 + n, event_id=f"e{n}"
    )
    url = reverse("billing:stripe_webhook", args=[connection.webhook_token])
    header = sign(body, SECRET, int(time.time()))
    return client.post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def test_a_burst_of_events_wakes_the_cluster_once_and_the_drain_queues_a_batch_for_the_objects(
    client, connection, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(provider_events, "_last_wake", 0.0)
    monkeypatch.setattr(provider_events, "WAKE_WINDOW", 60.0)  # the whole burst inside one window
    with django_capture_on_commit_callbacks(execute=True):
        for n, sub in enumerate(["sub_a", "sub_b", "sub_a", "sub_c"]):
            assert post(client, connection, n, sub).status_code == 200
    assert ProviderEvent.objects.filter(signature_valid=True).count() == 4
    assert OrmQ.objects.count() == 1  # one wake-up, not one task per event

    # The drain (run once the window closed) tracks the 3 objects and queues one batch for them.
    assert provider_events.provider_events_drain(not_before=0) == 3
    assert OrmQ.objects.count() == 1 + 1
    assert set(ProviderObjectState.objects.values_list("object_key", flat=True)) == {
        "sub_a",
        "sub_b",
        "sub_c",
    }


def test_an_event_after_the_window_wakes_the_cluster_again(
    client, connection, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(provider_events, "_last_wake", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, connection, 0, "sub_a").status_code == 200
    monkeypatch.setattr(provider_events, "_last_wake", time.time() - provider_events.WAKE_WINDOW - 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert post(client, connection, 1, "sub_a").status_code == 200
    assert OrmQ.objects.count() == 2
