"""Our signatures, checked the way a receiver checks them: with the Standard Webhooks reference library."""

import base64
import datetime as dt
import json

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from notifications.webhooks.services import webhook_endpoint_rotate_secret
from notifications.webhooks.services.dispatch import request_body
from notifications.webhooks.services.signing import SECRET_PREFIX, generate_secret, sign, webhook_headers
from tests.factories import EventFactory, WebhookEndpointFactory

NOW = dt.datetime(2027, 3, 1, 12, 0, tzinfo=dt.UTC)


def signed(endpoint, event, now):
    body = request_body(event)
    headers = webhook_headers(
        secrets=endpoint.signing_secrets(now),
        msg_id=str(event.uid),
        timestamp=int(now.timestamp()),
        body=body,
    )
    return body, headers


def test_a_secret_is_whsec_and_24_random_bytes_in_base64():
    secret = generate_secret()

    assert secret.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX))) == 24
    assert generate_secret() != secret


def test_the_signature_is_hmac_sha256_of_id_timestamp_and_body():
    secret = "whsec_" + base64.b64encode(b"k" * 24).decode()

    ours = sign(secret, msg_id="msg_1", timestamp=1700000000, body=b'{"a":1}')

    theirs = Webhook(secret).sign("msg_1", dt.datetime.fromtimestamp(1700000000, tz=dt.UTC), '{"a":1}')
    assert ours == theirs


@pytest.mark.django_db
def test_a_delivery_verifies_with_the_reference_library(merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    event = EventFactory(
        merchant=merchant, type="invoice.paid", payload={"id": 7, "total": 4990, "nome": "Ação"}
    )

    body, headers = signed(endpoint, event, timezone.now())

    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["type"] == "invoice.paid"
    assert payload["version"] == 1
    assert payload["data"] == {"id": 7, "total": 4990, "nome": "Ação"}
    assert headers["webhook-id"] == str(event.uid)
    assert headers["content-type"] == "application/json"


@pytest.mark.django_db
def test_the_body_carries_the_event_time_in_utc(merchant):
    event = EventFactory(merchant=merchant, type="invoice.paid")

    document = json.loads(request_body(event))

    assert set(document) == {"version", "type", "timestamp", "data"}
    assert document["timestamp"].endswith("Z")
    assert dt.datetime.fromisoformat(document["timestamp"]) == event.created_at


@pytest.mark.django_db
def test_a_tampered_body_or_another_secret_does_not_verify(merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    event = EventFactory(merchant=merchant)
    body, headers = signed(endpoint, event, timezone.now())

    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(body.replace(b"subscription", b"invoice"), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(body, headers)


@pytest.mark.django_db
def test_during_the_grace_period_both_secrets_sign_and_afterwards_only_the_new_one(merchant, owner, settings):
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 24
    endpoint = WebhookEndpointFactory(merchant=merchant)
    old_secret = endpoint.secret
    event = EventFactory(merchant=merchant)
    with time_machine.travel(NOW, tick=False):
        endpoint = webhook_endpoint_rotate_secret(endpoint=endpoint)
        new_secret = endpoint.secret

        body, headers = signed(endpoint, event, timezone.now())

        assert new_secret != old_secret
        signatures = headers["webhook-signature"].split(" ")
        assert len(signatures) == 2 and all(s.startswith("v1,") for s in signatures)
        Webhook(new_secret).verify(body, headers)
        Webhook(old_secret).verify(body, headers)

    with time_machine.travel(NOW + dt.timedelta(hours=24, seconds=1), tick=False):
        body, headers = signed(endpoint, event, timezone.now())

        assert len(headers["webhook-signature"].split(" ")) == 1
        Webhook(new_secret).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(old_secret).verify(body, headers)
