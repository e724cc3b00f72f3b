"""Stripe webhooks into the inbound event inbox, and what each event does to our subscriptions.

The endpoint is exercised over HTTP with bodies signed the way Stripe signs them; verification is the
stripe library's own. Processing runs the billing task's service; Stripe API calls (refetches) go to the
local Stripe stand-in (tests/stripe_server.py)."""

import datetime as dt
import time

import pytest
import time_machine
from django.urls import reverse

from billing import provider_notes
from billing.choices import Gateway, InvoiceStatus, PaymentProvider
from billing.choices import ProviderEventStatus as PE
from billing.models import Chargeback, Invoice, Payment, ProviderEvent
from billing.services.provider_events import (
    _track_pending_objects,
    provider_events_process_batch,
    provider_events_reprocess,
)
from billing.services.stripe_sync import resync_subscription, stripe_address
from core.events import EventType
from core.models import Event
from subscribers.choices import CancelOrigin, EventKind, SubscriptionOrigin, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionEvent
from tests.factories import PlanFactory, ProviderConnectionFactory
from tests.stripe_server import event, fixture, sign

pytestmark = pytest.mark.django_db

SUB_ID = "sub_1PzQ8kLkdIwHu7ix0abcDEF1"
SECRET = "whsec_test_pacific_0001"
T0 = int(time.time()) - 60


@pytest.fixture
def connection(merchant):
    return ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, price=4990, currency="BRL", interval_unit="month", interval_count=1)


@pytest.fixture
def stripe_world(stripe_server):
    stripe_server.put(fixture("customer"))
    stripe_server.put(fixture("subscription"))
    return stripe_server


def post(client, connection, payload, *, secret=SECRET, timestamp=None):
    header = sign(payload, secret, timestamp if timestamp is not None else int(time.time()))
    url = reverse("billing:stripe_webhook", args=[connection.webhook_token])
    return client.post(url, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header)


def process(merchant, key=SUB_ID):
    """What the billing cluster does after a wake-up: the drain's bookkeeping, then a batch (each test has
    pending events on one object at a time). A batch whose handler fails is redone object by object
    (`provider_events_process`), so both paths run here."""
    _track_pending_objects()
    counts = provider_events_process_batch()
    assert not ProviderEvent.objects.filter(merchant=merchant, object_key=key, status=PE.PENDING).exists()
    return counts


def deliver(client, connection, event_type, obj, created, **kwargs):
    response = post(client, connection, event(event_type, obj, created=created), **kwargs)
    assert response.status_code == 200, response.content
    return response


# --- signature ----------------------------------------------------------------------------------------
def test_a_validly_signed_event_is_stored_raw_and_acknowledged(client, connection):
    payload = event("customer.subscription.created", fixture("subscription"), created=T0)
    response = post(client, connection, payload)
    assert response.status_code == 200
    assert response.json()["outcome"] == "stored"
    stored = ProviderEvent.objects.get()
    assert stored.signature_valid and stored.status == PE.PENDING
    assert (stored.merchant, stored.provider, stored.type) == (
        connection.merchant,
        PaymentProvider.STRIPE,
        "customer.subscription.created",
    )
    assert stored.body == payload.decode() and stored.object_key == SUB_ID
    assert stored.created == dt.datetime.fromtimestamp(T0, tz=dt.UTC)
    assert stored.headers["Stripe-Signature"].startswith("t=")


def test_a_wrong_secret_is_refused_and_kept_only_as_an_ignored_unsigned_record(client, connection, plan):
    payload = event("customer.subscription.created", fixture("subscription"), created=T0)
    response = post(client, connection, payload, secret="whsec_someone_else")
    assert response.status_code == 400
    stored = ProviderEvent.objects.get()
    assert not stored.signature_valid and stored.status == PE.IGNORED
    assert "signature" in stored.note.lower()
    process(connection.merchant)
    assert not Subscription.objects.exists()
    # The real delivery of the same event id is still taken in: a forged copy cannot squat its id.
    assert post(client, connection, payload).json()["outcome"] == "stored"


@pytest.mark.parametrize(
    "payload",
    [b'{"id": "evt_1", "type": "x\x00"}', b'{"id": "evt_\\u0000", "object": "event"}'],
    ids=["raw NUL in the body", "NUL in the event id"],
)
def test_a_forged_body_with_a_nul_is_refused_not_a_server_error(client, connection, payload):
    """PostgreSQL's text columns take no NUL character: the ignored record keeps a replacement for it."""
    response = post(client, connection, payload, secret="whsec_someone_else")
    assert response.status_code == 400
    stored = ProviderEvent.objects.get()
    assert "\x00" not in stored.body + stored.event_id and not stored.signature_valid


def test_a_stale_timestamp_is_refused(client, connection):
    payload = event("customer.subscription.created", fixture("subscription"), created=T0)
    response = post(client, connection, payload, timestamp=int(time.time()) - 301)
    assert response.status_code == 400
    assert not ProviderEvent.objects.filter(signature_valid=True).exists()
    assert post(client, connection, payload, timestamp=int(time.time()) - 290).status_code == 200


def test_another_merchants_token_does_not_accept_this_merchants_secret(client, connection, other_merchant):
    other = ProviderConnectionFactory(merchant=other_merchant)
    payload = event("customer.subscription.created", fixture("subscription"), created=T0)
    assert post(client, other, payload).status_code == 400
    assert not ProviderEvent.objects.filter(merchant=other_merchant, signature_valid=True).exists()


def test_an_unknown_or_disconnected_token_is_404(client, connection):
    payload = event("customer.subscription.created", fixture("subscription"), created=T0)
    connection.is_active = False
    connection.save()
    assert post(client, connection, payload).status_code == 404


# --- inbox semantics ----------------------------------------------------------------------------------
def test_a_redelivered_processed_event_is_acknowledged_and_not_applied_twice(
    client, connection, plan, stripe_world
):
    obj = fixture("subscription")
    deliver(client, connection, "customer.subscription.created", obj, T0)
    assert process(connection.merchant)[PE.PROCESSED] == 1
    again = deliver(client, connection, "customer.subscription.created", obj, T0)
    assert again.json()["outcome"] == "duplicate"
    assert process(connection.merchant)[PE.PROCESSED] == 0
    assert ProviderEvent.objects.count() == 1
    assert Subscription.objects.filter(provider_id=SUB_ID).count() == 1


def test_out_of_order_updated_before_created_keeps_the_newer_state(client, connection, plan, stripe_world):
    created_obj = fixture("subscription", status="active")
    updated_obj = fixture("subscription", status="past_due")
    deliver(client, connection, "customer.subscription.updated", updated_obj, T0 + 10)
    process(connection.merchant)
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    assert subscription.status == SubscriptionStatus.PAST_DUE
    deliver(client, connection, "customer.subscription.created", created_obj, T0)
    process(connection.merchant)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    late = ProviderEvent.objects.get(type="customer.subscription.created")
    assert late.status == PE.IGNORED and late.note_code == provider_notes.OLDER_THAN_APPLIED


def test_two_events_of_the_same_second_refetch_the_subscription_from_stripe(
    client, connection, plan, stripe_world
):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    process(connection.merchant)
    # Stripe now says canceled; the event of the same second carries a stale "active" body.
    stripe_world.put(fixture("subscription", status="canceled"))
    deliver(client, connection, "customer.subscription.updated", fixture("subscription"), T0)
    process(connection.merchant)
    assert stripe_world.calls("GET", f"/v1/subscriptions/{SUB_ID}")
    assert Subscription.objects.get(provider_id=SUB_ID).status == SubscriptionStatus.CANCELED


def test_a_handler_failure_is_recorded_then_reprocessar_applies_it(client, connection, stripe_world):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    assert process(connection.merchant)[PE.FAILED] == 1
    failed = ProviderEvent.objects.get()
    assert failed.status == PE.FAILED and failed.attempts == 1
    assert "Traceback" in failed.last_error and "price_1PzQ7xLkdIwHu7ixMensal" in failed.last_error
    assert not Subscription.objects.exists()

    PlanFactory(merchant=connection.merchant, price=4990, currency="BRL", interval_unit="month")
    assert provider_events_reprocess(merchant=connection.merchant, ids=[failed.pk]) == 1
    assert process(connection.merchant)[PE.PROCESSED] == 1
    failed.refresh_from_db()
    assert failed.status == PE.PROCESSED and failed.attempts == 2 and failed.last_error == ""
    assert Subscription.objects.get(provider_id=SUB_ID).provider == PaymentProvider.STRIPE


def test_a_failed_event_delivered_again_is_retried(client, connection, stripe_world):
    obj = fixture("subscription")
    deliver(client, connection, "customer.subscription.created", obj, T0)
    process(connection.merchant)
    PlanFactory(merchant=connection.merchant, price=4990, currency="BRL", interval_unit="month")
    assert deliver(client, connection, "customer.subscription.created", obj, T0).json()["outcome"] == "retry"
    assert process(connection.merchant)[PE.PROCESSED] == 1


def test_reprocessar_never_touches_another_merchants_events(client, connection, other_merchant):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    process(connection.merchant)
    mine = ProviderEvent.objects.get()
    assert provider_events_reprocess(merchant=other_merchant, ids=[mine.pk]) == 0


# --- what the events do -------------------------------------------------------------------------------
def test_a_subscription_created_in_stripe_appears_here(client, connection, plan, stripe_world):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    process(connection.merchant)
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    assert subscription.merchant == connection.merchant
    assert (subscription.provider, subscription.origin) == (
        PaymentProvider.STRIPE,
        SubscriptionOrigin.PROVIDER,
    )
    assert subscription.plan == plan and subscription.status == SubscriptionStatus.ACTIVE
    assert (subscription.customer.email, subscription.customer.name) == ("ana.souza@example.com", "Ana Souza")


def test_a_stripe_side_cancellation_ends_ours_with_origin_provider(client, connection, plan, stripe_world):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    deliver(
        client,
        connection,
        "customer.subscription.deleted",
        fixture("subscription", status="canceled"),
        T0 + 5,
    )
    process(connection.merchant)
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    assert subscription.status == SubscriptionStatus.CANCELED
    assert subscription.cancel_origin == CancelOrigin.PROVIDER
    assert subscription.ended_at is not None
    ended = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CANCELED)
    assert ended.origin == CancelOrigin.PROVIDER


def test_invoice_paid_settles_our_invoice_and_a_dispute_becomes_a_chargeback(
    client, connection, plan, stripe_world
):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    deliver(client, connection, "invoice.paid", fixture("invoice"), T0 + 3)
    counts = process(connection.merchant)
    assert counts[PE.PROCESSED] == 2, ProviderEvent.objects.values_list("type", "status", "last_error")
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    payment = Payment.objects.get(invoice__subscription=subscription, gateway=Gateway.STRIPE)
    assert payment.gateway_reference == "ch_3PzQ8kLkdIwHu7ix1Charge01"
    assert payment.invoice.status == InvoiceStatus.PAID

    # The same invoice.paid under another event id (Stripe retried with a new event) pays nothing twice.
    deliver(client, connection, "invoice.paid", fixture("invoice"), T0 + 4)
    process(connection.merchant)
    assert Payment.objects.filter(gateway=Gateway.STRIPE).count() == 1

    deliver(client, connection, "charge.dispute.created", fixture("dispute"), T0 + 100)
    counts = process(connection.merchant, key="ch_3PzQ8kLkdIwHu7ix1Charge01")
    assert counts[PE.PROCESSED] == 1, ProviderEvent.objects.values_list("type", "last_error")
    chargeback = Chargeback.objects.get(payment=payment)
    assert chargeback.gateway_reference == "dp_1PzQAbLkdIwHu7ixDisp0001" and chargeback.amount == 4990


def test_an_invoice_for_an_unknown_subscription_fetches_the_subscription_from_stripe(
    client, connection, plan, stripe_world
):
    deliver(client, connection, "invoice.paid", fixture("invoice"), T0)
    assert process(connection.merchant)[PE.PROCESSED] == 1
    assert stripe_world.calls("GET", f"/v1/subscriptions/{SUB_ID}")
    assert Invoice.objects.filter(subscription__provider_id=SUB_ID, status=InvoiceStatus.PAID).exists()


def test_ressincronizar_brings_the_subscription_to_what_stripe_says(client, connection, plan, stripe_world):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    process(connection.merchant)
    stripe_world.put(fixture("subscription", status="past_due"))
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=1)):
        resync_subscription(subscription=subscription, now=dt.datetime.now(tz=dt.UTC))
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE


def test_paused_and_resumed_in_stripe_pause_and_resume_ours(client, connection, plan, stripe_world):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    deliver(
        client, connection, "customer.subscription.paused", fixture("subscription", status="paused"), T0 + 5
    )
    process(connection.merchant)
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    assert subscription.status == SubscriptionStatus.PAUSED
    deliver(
        client, connection, "customer.subscription.resumed", fixture("subscription", status="active"), T0 + 9
    )
    process(connection.merchant)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


# --- customers ------------------------------------------------------------------------------------------
BR_ADDRESS = {
    "line1": "Av. Paulista, 1000",
    "line2": "Apto 12",
    "city": "São Paulo",
    "state": "SP",
    "postal_code": "01310100",
    "country": "BR",
}


def test_stripes_brazilian_address_maps_to_ours_and_an_unreadable_one_is_left_out():
    assert stripe_address(BR_ADDRESS) == {
        "address_postal_code": "01310-100",
        "address_street": "Av. Paulista",
        "address_number": "1000",
        "address_complement": "Apto 12",
        "address_district": "",
        "address_city": "São Paulo",
        "address_state": "SP",
    }
    assert stripe_address({**BR_ADDRESS, "line1": "Rua B, s/n"})["address_number"] == "s/n"
    assert stripe_address(None) is None
    assert stripe_address({**BR_ADDRESS, "country": "US", "state": "CA"}) is None
    assert stripe_address({**BR_ADDRESS, "line1": "Av. Paulista"}) is None  # no number to read: not guessed
    assert stripe_address({**BR_ADDRESS, "postal_code": "0131"}) is None
    assert stripe_address({**BR_ADDRESS, "state": "São Paulo"}) is None


def test_customer_updated_in_stripe_brings_the_name_and_address_as_the_syncs(
    client, connection, plan, stripe_world
):
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    process(connection.merchant)
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    customer_obj = {**fixture("customer"), "name": "Ana S. Souza", "address": BR_ADDRESS}

    deliver(client, connection, "customer.updated", customer_obj, T0 + 5)
    process(connection.merchant, key=customer_obj["id"])

    customer = subscription.customer
    customer.refresh_from_db()
    assert customer.name == "Ana S. Souza"
    assert customer.address_lines == ["Av. Paulista, 1000 — Apto 12", "São Paulo – SP", "01310-100"]
    event = Event.objects.get(type=EventType.CUSTOMER_UPDATED)
    assert event.payload["changed"] == ["name", "address"]
    assert event.payload["actor"] == {
        "by": "provider",
        "provider": "stripe",
        "provider_name": "Stripe",
        "channel": "provider",
    }
    line = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CUSTOMER_UPDATED)
    assert line.data["by"] == "provider"
    assert (
        ProviderEvent.objects.get(type="customer.updated").note_display
        == "Cliente atualizado: nome, endereço."
    )

    # The same again: nothing changes, nothing is recorded.
    deliver(client, connection, "customer.updated", customer_obj, T0 + 10)
    process(connection.merchant, key=customer_obj["id"])
    assert Event.objects.filter(type=EventType.CUSTOMER_UPDATED).count() == 1
