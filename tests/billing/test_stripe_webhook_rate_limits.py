"""The Stripe webhook's rate limits: per sending IP (before anything is looked up) and per merchant
connection (verified deliveries only). Over a limit Stripe gets a 429 with Retry-After and nothing is stored,
so Stripe's own redelivery brings the event in later: a verified event is never acknowledged and dropped."""

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from billing.choices import ProviderEventStatus as PE
from billing.models import ProviderEvent
from tests.billing.test_stripe_webhooks import SECRET, T0
from tests.factories import ProviderConnectionFactory
from tests.stripe_server import event, fixture, sign

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits_on(rate_limits_on):
    """Counted from an empty cache on a still clock (tests/conftest.py)."""


@pytest.fixture
def connection(merchant):
    return ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)


def post(client, connection, body, *, secret=SECRET, **extra):
    header = sign(body, secret, int(time.time()))
    url = reverse("billing:stripe_webhook", args=[connection.webhook_token])
    return client.post(url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=header, **extra)


def payload(n: int) -> bytes:
    return event(
        "customer.subscription.updated", fixture("subscription"), created=T0 + n, event_id=f"evt_{n}"
    )


def assert_throttled(response):
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_a_connection_over_its_limit_gets_429_and_the_redelivery_is_taken_in_later(
    client, connection, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "stripe_webhook": "2/m"}
    assert [post(client, connection, payload(n)).status_code for n in range(2)] == [200, 200]
    refused = post(client, connection, payload(2))
    assert_throttled(refused)
    # Not acknowledged and not kept: Stripe sends it again.
    assert not ProviderEvent.objects.filter(event_id="evt_2").exists()
    cache.clear()  # the window passed
    again = post(client, connection, payload(2))
    assert again.status_code == 200 and again.json()["outcome"] == "stored"
    assert ProviderEvent.objects.get(event_id="evt_2").status == PE.PENDING


def test_forged_requests_do_not_use_up_the_connections_allowance(client, connection, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "stripe_webhook": "2/m"}
    for n in range(5):
        assert post(client, connection, payload(100 + n), secret="whsec_forged").status_code == 400
    assert [post(client, connection, payload(n)).status_code for n in range(2)] == [200, 200]


def test_one_merchants_flood_does_not_throttle_another_merchant(client, connection, other_merchant, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "stripe_webhook": "1/m"}
    other = ProviderConnectionFactory(merchant=other_merchant, webhook_secret=SECRET)
    assert post(client, connection, payload(0)).status_code == 200
    assert_throttled(post(client, connection, payload(1)))
    assert post(client, other, payload(1)).status_code == 200


def test_an_ip_over_its_limit_is_refused_before_anything_is_looked_up(
    client, connection, settings, django_assert_num_queries
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "stripe_webhook_ip": "1/m"}
    assert post(client, connection, payload(0)).status_code == 200
    with django_assert_num_queries(0):
        refused = post(client, connection, payload(1))
    assert_throttled(refused)
    assert not ProviderEvent.objects.filter(event_id="evt_1").exists()
    other_ip = post(client, connection, payload(1), REMOTE_ADDR="203.0.113.7")
    assert other_ip.status_code == 200
