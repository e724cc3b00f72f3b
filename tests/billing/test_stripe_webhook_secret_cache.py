"""The webhook endpoint keeps each connection's decrypted signing secret per process (no SELECT, no
decryption per delivery), yet a rotation or a disconnection takes effect at the next delivery, whichever
process made it: the INSERT that stores an event checks the connection row is still active with the same
stored secret, and a miss there reads it again (billing/services/provider_events.py)."""

import time

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.choices import ProviderEventStatus as PE
from billing.models import ProviderConnection, ProviderEvent
from billing.services import provider_events
from billing.services.providers import provider_disconnect, stripe_rotate
from tests.billing.test_stripe_webhooks import SECRET, T0
from tests.factories import ProviderConnectionFactory
from tests.stripe_server import event, fixture, sign

pytestmark = pytest.mark.django_db
NEW_SECRET = "whsec_test_rotated_0002"


@pytest.fixture
def connection(merchant):
    return ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)


def post(client, connection, n: int, *, secret=SECRET):
    body = event(
        "customer.subscription.updated", fixture("subscription"), created=T0 + n, event_id=f"evt_{n}"
    )
    url = reverse("billing:stripe_webhook", args=[connection.webhook_token])
    return client.post(
        url, body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sign(body, secret, int(time.time()))
    )


def warm(client, connection):
    """A first delivery, so this process has the connection (and its old secret) cached."""
    assert post(client, connection, 0).json()["outcome"] == "stored"
    assert provider_events._endpoints[connection.webhook_token].secret == SECRET


def test_the_second_delivery_reads_neither_the_connection_nor_decrypts_its_secret(
    client, connection, monkeypatch
):
    warm(client, connection)
    monkeypatch.setattr(provider_events.crypto, "decrypt", None)  # a call would raise TypeError
    with CaptureQueriesContext(db_connection) as captured:
        assert post(client, connection, 1).json()["outcome"] == "stored"
    # The INSERT alone (the savepoint around it is the test's transaction: the endpoint runs in autocommit).
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1 and statements[0].startswith('INSERT INTO "billing_providerevent"')


def test_after_a_rotation_the_new_secret_is_accepted_and_the_old_one_refused(client, connection):
    warm(client, connection)
    stripe_rotate(connection=connection, webhook_secret=NEW_SECRET)

    assert post(client, connection, 1, secret=NEW_SECRET).json()["outcome"] == "stored"
    refused = post(client, connection, 2, secret=SECRET)
    assert refused.status_code == 400
    assert not ProviderEvent.objects.filter(event_id="evt_2", signature_valid=True).exists()
    assert ProviderEvent.objects.get(event_id="evt_2").status == PE.IGNORED


def test_a_rotation_is_seen_even_when_the_cached_secret_still_verifies_the_old_signature(client, connection):
    """The cache says the old secret and the delivery is signed with it: only the INSERT's check of the stored
    secret can refuse it."""
    warm(client, connection)
    # Another process rotates: nothing tells this one.
    other = ProviderConnection.objects.get(pk=connection.pk)
    other.webhook_secret = NEW_SECRET
    other.save()
    assert provider_events._endpoints[connection.webhook_token].secret == SECRET

    assert post(client, connection, 1, secret=SECRET).status_code == 400
    assert not ProviderEvent.objects.filter(event_id="evt_1", signature_valid=True).exists()
    assert provider_events._endpoints[connection.webhook_token].secret == NEW_SECRET
    assert post(client, connection, 1, secret=NEW_SECRET).json()["outcome"] == "stored"


def test_a_disconnection_answers_404_at_once(client, connection):
    warm(client, connection)
    provider_disconnect(connection=connection)
    assert post(client, connection, 1).status_code == 404
    assert not ProviderEvent.objects.filter(event_id="evt_1").exists()


def test_a_redelivery_with_a_warm_cache_is_still_a_duplicate(client, connection):
    warm(client, connection)
    again = post(client, connection, 0)
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert ProviderEvent.objects.filter(event_id="evt_0").count() == 1
