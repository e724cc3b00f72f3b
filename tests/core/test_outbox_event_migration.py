"""The outbox Event moved from notifications to core (core.0003_outbox_event, notifications.0007): an existing
database keeps every event, what points at them, and its id sequence, both ways."""

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from core.events import EventType
from core.models import Event
from core.outbox import emit
from notifications.models import EmailSending, WebhookDelivery
from tests.factories import MerchantFactory

BEFORE = [("core", "0002_worker_heartbeat"), ("notifications", "0006_encrypt_signing_secrets")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    ContentType.objects.clear_cache()
    return executor.loader.project_state(targets).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def tables():
    return set(connection.introspection.table_names())


@pytest.mark.django_db(transaction=True)
def test_an_existing_outbox_moves_to_core_with_its_rows_and_what_points_at_them():
    merchant = MerchantFactory()
    written_in_core = emit(merchant=merchant, type=EventType.INVOICE_PAID, payload={"id": 3})
    try:
        old = migrate(BEFORE)
        assert "notifications_event" in tables() and "core_event" not in tables()
        OldEvent = old.get_model("notifications", "Event")
        assert OldEvent.objects.get(pk=written_in_core.pk).uid == written_in_core.uid
        event = OldEvent.objects.create(
            merchant_id=merchant.pk, type="subscription.canceled", payload={"id": 7, "status": "canceled"}
        )
        endpoint = old.get_model("notifications", "WebhookEndpoint").objects.create(
            merchant_id=merchant.pk, url="https://example.com/hook", secret="whsec_test"
        )
        delivery = old.get_model("notifications", "WebhookDelivery").objects.create(
            merchant_id=merchant.pk, endpoint=endpoint, event=event
        )
        sending = old.get_model("notifications", "EmailSending").objects.create(
            merchant_id=merchant.pk, kind="canceled", recipient="a@example.com", subject="Tchau", event=event
        )
        assert ContentType.objects.filter(app_label="notifications", model="event").exists()
    finally:
        migrate(latest())

    assert "core_event" in tables() and "notifications_event" not in tables()
    moved = Event.objects.get(pk=event.pk)
    assert (moved.uid, moved.type, moved.payload, moved.merchant_id) == (
        event.uid,
        "subscription.canceled",
        {"id": 7, "status": "canceled"},
        merchant.pk,
    )
    assert Event.objects.filter(pk=written_in_core.pk).exists()
    assert WebhookDelivery.objects.get(pk=delivery.pk).event == moved
    assert EmailSending.objects.get(pk=sending.pk).event == moved
    assert ContentType.objects.get_for_model(Event).app_label == "core"
    assert not ContentType.objects.filter(app_label="notifications", model="event").exists()
    # The id sequence came along: a new event gets the next id, not one already taken.
    assert emit(merchant=merchant, type=EventType.INVOICE_CREATED, payload={}).pk > event.pk
