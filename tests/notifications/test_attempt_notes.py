"""Our own words on webhook deliveries and automation runs are stored as a code and its params
(notifications/attempt_notes.py) and read in the reader's language, the words they wrap verbatim."""

import importlib

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.automations.choices import ActionKind, RunStatus
from notifications.models import AutomationRun
from notifications.webhooks.choices import DeliveryStatus
from tests.billing.test_refund_reason_codes import reader
from tests.factories import (
    AutomationFactory,
    AutomationRunFactory,
    WebhookDeliveryAttemptFactory,
    WebhookDeliveryFactory,
)

pytestmark = pytest.mark.django_db
REFUSED = "[Errno 111] Connection refused"


def test_a_failed_delivery_reads_in_each_readers_language(merchant, owner):
    delivery = WebhookDeliveryFactory(
        merchant=merchant,
        status=DeliveryStatus.FAILED,
        attempt_count=1,
        last_note_code="connection_failed",
        last_note_params={"error": REFUSED},
    )
    WebhookDeliveryAttemptFactory(
        delivery=delivery, status_code=None, note_code="read_timeout", note_params={"seconds": 10}
    )
    log = reverse("notifications:endpoint_detail", args=[delivery.endpoint_id])

    assert f"Connection failed: {REFUSED}" in reader(owner, "en").get(log).content.decode()
    assert f"Falha de conexão: {REFUSED}" in reader(owner, "pt-br").get(log).content.decode()
    assert (
        "Response timed out (10 s)." in reader(owner, "en").get(delivery.get_absolute_url()).content.decode()
    )
    assert (
        "Tempo de resposta esgotado (10 s)."
        in reader(owner, "pt-br").get(delivery.get_absolute_url()).content.decode()
    )


def test_a_failed_automation_and_a_test_e_mail_read_in_each_readers_language(merchant, owner):
    refusal = {"address": "10.0.0.5", "kind": "private"}
    rule = AutomationFactory(
        merchant=merchant,
        last_error_code="address_not_public",
        last_error_params=refusal,
        last_error_at=timezone.now(),
    )
    AutomationRunFactory(
        merchant=merchant,
        automation=rule,
        status=RunStatus.SUCCEEDED,
        last_note_code="sent_to",
        last_note_params={"email": "dono@example.com"},
    )

    english = reader(owner, "en").get(rule.get_absolute_url()).content.decode()
    portuguese = reader(owner, "pt-br").get(rule.get_absolute_url()).content.decode()

    assert "The address 10.0.0.5 is not public (private) and cannot receive webhooks." in english
    assert "Sent to dono@example.com" in english
    assert "O endereço 10.0.0.5 não é público (privado) e não pode receber webhooks." in portuguese
    assert "Enviado para dono@example.com" in portuguese


def test_a_test_e_mail_stores_its_code_not_the_workers_sentence(owner_client, owner, merchant, mailoutbox):
    rule = AutomationFactory(merchant=merchant, action=ActionKind.EMAIL, email_kind="refund_issued")

    owner_client.post(reverse("notifications:automation_send_test", args=[rule.pk]))

    run = AutomationRun.objects.get()
    assert (run.last_response_excerpt, run.last_note_code, run.last_note_params) == (
        "",
        "sent_to",
        {"email": owner.email},
    )


def test_the_migration_maps_the_sentences_stored_before_to_their_codes():
    migration = importlib.import_module("notifications.migrations.0011_attempt_note_codes")

    assert migration.error_code_of(f"Connection failed: {REFUSED}") == (
        "connection_failed",
        {"error": REFUSED},
    )
    assert migration.error_code_of("Tempo de conexão esgotado (5 s).") == ("connect_timeout", {"seconds": 5})
    assert migration.error_code_of("HTTP 500: fora do ar") == (
        "http_failed",
        {"code": 500, "response": "fora do ar"},
    )
    assert migration.error_code_of("Endereço recusado: a.example resolve para 10.0.0.7 (privado).") == (
        "resolves_not_public",
        {"host": "a.example", "address": "10.0.0.7", "kind": "private"},
    )
    assert migration.error_code_of("Endpoint disabled.") == ("endpoint_disabled", {})
    assert migration.response_code_of("Enviado para a@example.com") == ("sent_to", {"email": "a@example.com"})
    assert migration.error_code_of("ValueError: boom") is None
    assert migration.response_code_of('{"ok": true}') is None
