"""Webhook and automation signing secrets are encrypted in their columns (Fernet, CREDENTIALS_ENCRYPTION_KEYS,
like provider tokens), readable by the app, rotated with their grace period, and re-encryptable with a new
key."""

import datetime as dt
import importlib

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from notifications import crypto
from notifications.models import Automation, ProviderIntegration, WebhookEndpoint
from notifications.webhooks.services import webhook_endpoint_create, webhook_endpoint_rotate_secret
from notifications.webhooks.services.signing import generate_secret, sign
from tests.factories import AutomationFactory, WebhookEndpointFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("notifications.migrations.0006_encrypt_signing_secrets")


def column(model, pk, name) -> str:
    """The value as stored, bypassing the field (what a database dump or backup shows)."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {connection.ops.quote_name(name)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def write_column(model, pk, name, value) -> None:
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {connection.ops.quote_name(name)} = %s WHERE id = %s", [value, pk]
        )


def test_a_new_endpoints_secret_is_not_in_its_column_but_still_signs(merchant, owner):
    endpoint = webhook_endpoint_create(merchant=merchant, actor=owner, url="https://erp.example.com/hooks")
    secret = endpoint.secret

    stored = column(WebhookEndpoint, endpoint.pk, "secret")
    reloaded = WebhookEndpoint.objects.get(pk=endpoint.pk)

    assert secret.startswith("whsec_")
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert crypto.decrypt(stored) == secret
    assert reloaded.secret == secret
    assert reloaded.signing_secrets(timezone.now()) == [secret]
    assert sign(reloaded.secret, msg_id="m", timestamp=1, body=b"{}") == sign(
        secret, msg_id="m", timestamp=1, body=b"{}"
    )


def test_rotation_keeps_both_secrets_encrypted_and_the_old_one_signing_during_the_grace(
    merchant, owner, settings
):
    settings.WEBHOOKS_SECRET_GRACE_HOURS = 24
    endpoint = WebhookEndpointFactory(merchant=merchant)
    old = endpoint.secret
    now = timezone.now()

    webhook_endpoint_rotate_secret(endpoint=endpoint, now=now)

    reloaded = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert reloaded.secret != old and reloaded.previous_secret == old
    assert old not in column(WebhookEndpoint, endpoint.pk, "previous_secret")
    assert reloaded.secret not in column(WebhookEndpoint, endpoint.pk, "secret")
    assert reloaded.signing_secrets(now + dt.timedelta(hours=23)) == [reloaded.secret, old]
    assert reloaded.signing_secrets(now + dt.timedelta(hours=25)) == [reloaded.secret]


def test_the_secret_is_still_shown_once_after_creation(owner_client):
    response = owner_client.post(
        reverse("notifications:endpoint_create"),
        {"url": "https://erp.example.com/hooks", "all_event_types": "on", "is_active": "on"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()

    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in owner_client.get(endpoint.get_absolute_url()).content.decode()


def test_an_automations_signing_secret_is_encrypted(merchant):
    automation = AutomationFactory(merchant=merchant)

    stored = column(Automation, automation.pk, "signing_secret")

    assert automation.signing_secret not in stored
    assert Automation.objects.get(pk=automation.pk).signing_secret == automation.signing_secret


def test_the_migration_encrypts_secrets_stored_in_clear_and_is_idempotent(merchant):
    endpoint = WebhookEndpointFactory(merchant=merchant)
    automation = AutomationFactory(merchant=merchant)
    current, previous, signing = generate_secret(), generate_secret(), generate_secret()
    write_column(WebhookEndpoint, endpoint.pk, "secret", current)  # as the rows were before the migration
    write_column(WebhookEndpoint, endpoint.pk, "previous_secret", previous)
    write_column(Automation, automation.pk, "signing_secret", signing)

    editor = connection.schema_editor()  # only its quoting and connection are used (no DDL)
    migration.encrypt_secrets(apps, editor)
    migration.encrypt_secrets(apps, editor)  # a second run leaves encrypted values alone

    assert current not in column(WebhookEndpoint, endpoint.pk, "secret")
    assert previous not in column(WebhookEndpoint, endpoint.pk, "previous_secret")
    assert signing not in column(Automation, automation.pk, "signing_secret")
    endpoint = WebhookEndpoint.objects.get(pk=endpoint.pk)
    assert (endpoint.secret, endpoint.previous_secret) == (current, previous)
    assert Automation.objects.get(pk=automation.pk).signing_secret == signing

    migration.decrypt_secrets(apps, editor)

    assert column(WebhookEndpoint, endpoint.pk, "secret") == current


def test_rotating_the_encryption_key_re_encrypts_everything_with_the_new_one(merchant, settings):
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_ENCRYPTION_KEYS = old_key
    endpoint = WebhookEndpointFactory(merchant=merchant)
    automation = AutomationFactory(merchant=merchant)
    integration = ProviderIntegration.objects.create(
        merchant=merchant,
        name="CRM",
        url="https://crm.example.com",
        token_encrypted=crypto.encrypt("tok-123"),
    )

    settings.CREDENTIALS_ENCRYPTION_KEYS = f"{new_key},{old_key}"
    call_command("rotate_credential_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    settings.CREDENTIALS_ENCRYPTION_KEYS = new_key  # the old key is gone (the derived one stays last)

    assert Fernet(new_key.encode()).decrypt(
        column(WebhookEndpoint, endpoint.pk, "secret").encode()
    ).decode() == (endpoint.secret)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == endpoint.secret
    assert Automation.objects.get(pk=automation.pk).signing_secret == automation.signing_secret
    assert ProviderIntegration.objects.get(pk=integration.pk).token() == "tok-123"


def test_check_deploy_flags_a_production_without_encryption_keys(settings):
    from django.core.checks import run_checks

    settings.CREDENTIALS_ENCRYPTION_KEYS = ""
    assert "notifications.E002" in {e.id for e in run_checks(include_deployment_checks=True)}

    settings.CREDENTIALS_ENCRYPTION_KEYS = Fernet.generate_key().decode()
    assert "notifications.E002" not in {e.id for e in run_checks(include_deployment_checks=True)}


def test_a_mistyped_key_is_reported_at_startup(settings):
    from django.core.checks import run_checks

    settings.CREDENTIALS_ENCRYPTION_KEYS = "not-a-key"

    assert "notifications.E001" in {e.id for e in run_checks()}
