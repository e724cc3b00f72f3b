"""Automations: running actions against a real local receiver, retries, the error badge, tests, SSRF."""

import datetime as dt
import json

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from notifications import crypto
from notifications.automations import runner, services
from notifications.automations.choices import ActionKind, RunOrigin, RunStatus, Trigger
from notifications.automations.integrations import GenericHttpAdapter, IntegrationError
from notifications.automations.models import Automation, AutomationRun, ProviderIntegration
from notifications.automations.runner import RunOutcome, record_outcome
from notifications.models import EmailSending
from notifications.retries import MAX_ATTEMPTS, RETRY_DELAYS
from subscribers.choices import CancelOrigin
from subscribers.services import subscription_cancel
from tests.factories import (
    AutomationFactory,
    AutomationRunFactory,
    EventFactory,
    ProviderIntegrationFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2027, 4, 5, 10, 0, tzinfo=dt.UTC)
CANCELED = {
    "id": 1042,
    "status": "canceled",
    "customer": {"id": 311, "email": "ana.souza@example.com", "name": "Ana Souza"},
    "plan": {"id": 7, "name": "Clube Mensal"},
    "amount": 4990,
    "currency": "BRL",
    "payment_method": "card",
    "cancel_origin": "customer",
}


def canceled_event(merchant):
    return EventFactory(merchant=merchant, type="subscription.canceled", payload=CANCELED)


def provider_rule(merchant, url, token="Bearer tok_segredo_1234", **fields):
    integration = ProviderIntegrationFactory(merchant=merchant, url=url, auth_header="X-Api-Key", token=token)
    return AutomationFactory(
        merchant=merchant,
        action=ActionKind.PROVIDER,
        webhook_url="",
        integration=integration,
        list_id="clientes-cancelados",
        tags=["cancelou", "winback"],
        **fields,
    )


def claim_one(now=None):
    (run,) = runner.claim_due_runs(now=now)
    return run


def run_once(now=None):
    run = claim_one(now)
    outcome = runner.execute_run(run, now=now)
    return record_outcome(run_id=run.pk, claim_token=run.claim_token, outcome=outcome, now=now)


# --- provider action ------------------------------------------------------------------------------
def test_provider_action_posts_the_contact_as_json_with_the_credential_header(
    merchant, receiver, allow_private
):
    provider_rule(merchant, receiver.url)
    canceled_event(merchant)

    totals = runner.automations_run(sleep=lambda s: None)

    assert totals["runs"] == 1 and totals["succeeded"] == 1
    (request,) = receiver.requests
    assert json.loads(request.body) == {
        "email": "ana.souza@example.com",
        "name": "Ana Souza",
        "list": "clientes-cancelados",
        "tags": ["cancelou", "winback"],
        "event": "subscription.canceled",
    }
    assert request.headers["x-api-key"] == "Bearer tok_segredo_1234"
    assert request.headers["content-type"] == "application/json"
    run = AutomationRun.objects.get()
    assert (run.status, run.attempt_count, run.last_status_code) == (RunStatus.SUCCEEDED, 1, 200)


def test_the_adapter_raises_a_typed_error_with_the_providers_answer(merchant, receiver, allow_private):
    integration = ProviderIntegrationFactory(merchant=merchant, url=receiver.url)
    receiver.respond((422, {"retry-after": "120"}, b'{"error":"lista inexistente"}'))

    with pytest.raises(IntegrationError) as caught:
        GenericHttpAdapter().push_contact(
            integration, {"email": "a@example.com", "name": "A"}, "x", tags=[], event_type="t"
        )

    assert caught.value.status_code == 422
    assert "lista inexistente" in str(caught.value)
    assert caught.value.retry_after == dt.timedelta(seconds=120)


def test_the_token_is_stored_encrypted(merchant):
    integration = services.integration_create(
        merchant=merchant,
        name="Listas",
        url="https://lists.example.com/contacts",
        auth_header="Authorization",
        token="Bearer sk_live_abcdef987654",
    )

    stored = ProviderIntegration.objects.values_list("token_encrypted", flat=True).get()
    assert "sk_live_abcdef987654" not in stored
    assert integration.token() == "Bearer sk_live_abcdef987654"
    assert integration.masked_token == "••••7654"


def test_an_unreadable_credential_fails_the_run_without_retrying(merchant, settings):
    rule = provider_rule(merchant, "https://lists.example.com/contacts")
    ProviderIntegration.objects.filter(pk=rule.integration_id).update(token_encrypted="garbage")
    canceled_event(merchant)
    runner.fan_out_all()

    run = run_once()

    assert run.status == RunStatus.FAILED and run.attempt_count == 1
    assert "credencial" in run.last_error_display


def test_the_provider_url_is_refused_when_private(merchant):
    provider_rule(merchant, "http://127.0.0.1:9/contacts")
    canceled_event(merchant)
    runner.fan_out_all()

    run = run_once()

    assert run.status == RunStatus.PENDING and run.attempt_count == 1
    assert "http" in run.last_error_display.lower() or "local" in run.last_error_display.lower()
    assert Automation.objects.get().last_error_display == run.last_error_display


def test_a_public_name_resolving_to_a_private_address_is_refused(merchant, monkeypatch):
    from notifications.webhooks.services import security

    monkeypatch.setattr(security.socket, "getaddrinfo", lambda *a, **k: [(2, 1, 6, "", ("10.0.0.5", 443))])
    provider_rule(merchant, "https://lists.example.com/contacts")
    canceled_event(merchant)
    runner.fan_out_all()

    run = run_once()

    assert "10.0.0.5" in run.last_error_display and run.status == RunStatus.PENDING


# --- webhook action -------------------------------------------------------------------------------
def test_webhook_action_posts_the_event_envelope_signed_with_the_rules_secret(
    merchant, receiver, allow_private
):
    rule = AutomationFactory(merchant=merchant, webhook_url=receiver.url)
    event = canceled_event(merchant)

    runner.automations_run(sleep=lambda s: None)

    (request,) = receiver.requests
    body = Webhook(rule.signing_secret).verify(request.body, request.headers)
    assert body["type"] == "subscription.canceled" and body["data"] == CANCELED
    assert request.headers["webhook-id"] == str(event.uid)
    assert AutomationRun.objects.get().status == RunStatus.SUCCEEDED


# --- retries and the error badge ------------------------------------------------------------------
def test_failures_follow_the_webhook_retry_schedule_and_show_the_error_badge(
    merchant, receiver, allow_private
):
    rule = provider_rule(merchant, receiver.url)
    canceled_event(merchant)
    receiver.respond(*[(500, {}, b"indisponivel")] * MAX_ATTEMPTS)
    with time_machine.travel(T0, tick=False) as clock:
        runner.fan_out_all()
        now = T0
        for attempt, delay in enumerate(RETRY_DELAYS, start=1):
            run = run_once(now)
            assert run.status == RunStatus.PENDING and run.attempt_count == attempt
            assert run.next_attempt_at == now + delay
            rule.refresh_from_db()
            assert rule.last_error_display == "HTTP 500: indisponivel" and rule.last_error_at == now
            # Not due a second before.
            assert runner.claim_due_runs(now=now + delay - dt.timedelta(seconds=1)) == []
            now += delay
            clock.move_to(now)

        run = run_once(now)

    assert run.status == RunStatus.FAILED and run.attempt_count == MAX_ATTEMPTS == 8
    assert sum(RETRY_DELAYS, dt.timedelta()) >= dt.timedelta(hours=27)
    assert len(receiver.requests) == MAX_ATTEMPTS
    rule.refresh_from_db()
    assert rule.last_error_display == "HTTP 500: indisponivel"


def test_a_success_clears_the_error_badge(merchant, receiver, allow_private):
    rule = provider_rule(merchant, receiver.url)
    canceled_event(merchant)
    receiver.respond(503)
    with time_machine.travel(T0, tick=False):
        runner.fan_out_all()
        run_once(T0)
        rule.refresh_from_db()
        assert rule.last_error_display

        run = run_once(T0 + RETRY_DELAYS[0])

    rule.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED and run.attempt_count == 2
    assert (rule.last_error_display, rule.last_error_code, rule.last_error_at) == ("", "", None)
    assert rule.last_run_at == T0 + RETRY_DELAYS[0]


def test_retry_after_is_honoured(merchant, receiver, allow_private):
    provider_rule(merchant, receiver.url)
    canceled_event(merchant)
    receiver.respond((429, {"retry-after": "3600"}, b"slow down"))
    with time_machine.travel(T0, tick=False):
        runner.fan_out_all()
        run = run_once(T0)

    assert run.next_attempt_at == T0 + dt.timedelta(hours=1)


def test_410_gone_ends_the_run_at_once(merchant, receiver, allow_private):
    AutomationFactory(merchant=merchant, webhook_url=receiver.url)
    canceled_event(merchant)
    receiver.respond(410)
    runner.fan_out_all()

    run = run_once()

    assert run.status == RunStatus.FAILED and run.attempt_count == 1


def test_a_lease_taken_over_changes_nothing(merchant):
    run = AutomationRunFactory(merchant=merchant)
    claimed = claim_one()
    AutomationRun.objects.filter(pk=run.pk).update(claim_token=None, claimed_until=None)

    record_outcome(run_id=run.pk, claim_token=claimed.claim_token, outcome=RunOutcome(True))

    run.refresh_from_db()
    assert run.status == RunStatus.PENDING and run.attempt_count == 0


def test_an_expired_lease_is_claimed_again(merchant):
    AutomationRunFactory(merchant=merchant)
    with time_machine.travel(T0, tick=False):
        first = claim_one(T0)
        assert runner.claim_due_runs(now=T0 + dt.timedelta(minutes=1)) == []
        again = claim_one(T0 + dt.timedelta(minutes=6))
    assert again.pk == first.pk and again.claim_token != first.claim_token


def test_runs_of_a_disabled_rule_are_not_claimed_and_disabling_ends_them(merchant):
    run = AutomationRunFactory(merchant=merchant)

    services.automation_set_enabled(automation=run.automation, enabled=False)

    assert runner.claim_due_runs() == []
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.last_error_display == "Automação desativada."


def test_fixing_the_integration_brings_waiting_runs_forward(merchant):
    rule = provider_rule(merchant, "https://lists.example.com/contacts")
    run = AutomationRunFactory(
        merchant=merchant, automation=rule, next_attempt_at=timezone.now() + dt.timedelta(hours=5)
    )

    services.integration_update(
        integration=rule.integration,
        name="Listas",
        url="https://lists.example.com/contacts",
        auth_header="X-Api-Key",
        token="novo-token-5678",
    )

    run.refresh_from_db()
    assert run.next_attempt_at <= timezone.now()
    integration = ProviderIntegration.objects.get()
    assert integration.token() == "novo-token-5678" and integration.token_last4 == "5678"


def test_an_empty_token_keeps_the_stored_one(merchant):
    integration = ProviderIntegrationFactory(merchant=merchant, token="Bearer guardado-4321")

    services.integration_update(
        integration=integration,
        name="Outro nome",
        url=integration.url,
        auth_header="Authorization",
        token="",
    )

    integration.refresh_from_db()
    assert integration.token() == "Bearer guardado-4321" and integration.name == "Outro nome"


# --- Enviar teste -----------------------------------------------------------------------------------------
def test_send_test_runs_the_provider_action_now_with_a_sample(merchant, receiver, allow_private):
    rule = provider_rule(merchant, receiver.url, trigger=Trigger.PAST_DUE)

    run = runner.automation_send_test(automation=rule, actor=None)

    assert run.status == RunStatus.SUCCEEDED and run.origin == RunOrigin.TEST and run.event is None
    (request,) = receiver.requests
    document = json.loads(request.body)
    assert document["event"] == "subscription.past_due" and document["test"] is True
    assert document["email"] == "ana.souza@example.com"


def test_send_test_of_a_webhook_rule_is_signed(merchant, receiver, allow_private):
    rule = AutomationFactory(merchant=merchant, webhook_url=receiver.url, trigger=Trigger.CANCELED_BY_ADMIN)

    run = runner.automation_send_test(automation=rule, actor=None)

    (request,) = receiver.requests
    body = Webhook(rule.signing_secret).verify(request.body, request.headers)
    assert body["data"]["cancel_origin"] == "admin"
    assert request.headers["webhook-id"] == str(run.uid)


def test_a_failed_test_is_not_retried_and_shows_on_the_rule(merchant, receiver, allow_private):
    rule = AutomationFactory(merchant=merchant, webhook_url=receiver.url)
    receiver.respond((500, {}, b"quebrado"))

    run = runner.automation_send_test(automation=rule, actor=None)

    assert run.status == RunStatus.FAILED and run.next_attempt_at is None
    rule.refresh_from_db()
    assert rule.last_error_display == "HTTP 500: quebrado"
    assert runner.claim_due_runs() == []


def test_a_test_whose_request_died_is_ended_by_the_next_pass(merchant):
    run = AutomationRunFactory(
        merchant=merchant,
        event=None,
        event_type="subscription.canceled",
        origin=RunOrigin.TEST,
        claimed_until=timezone.now(),
    )

    runner.automations_run(sleep=lambda s: None)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "interrompido" in run.last_error_display


def test_an_email_rules_test_sends_the_sample_to_the_tester_not_to_a_customer(merchant, owner, mailoutbox):
    owner.email = "dono@loja.example"
    owner.save()
    rule = AutomationFactory(merchant=merchant, action=ActionKind.EMAIL, email_kind="subscription_canceled")

    run = runner.automation_send_test(automation=rule, actor=owner)

    assert run.status == RunStatus.SUCCEEDED and run.origin == RunOrigin.TEST
    (message,) = mailoutbox
    assert message.to == ["dono@loja.example"]
    assert message.subject.startswith("[TESTE]")
    assert not EmailSending.objects.exists()  # a test is not a customer e-mail


def test_an_email_rules_test_needs_an_e_mail_on_the_tester(merchant, owner, mailoutbox):
    owner.email = ""
    owner.save()
    rule = AutomationFactory(merchant=merchant, action=ActionKind.EMAIL, email_kind="subscription_canceled")

    with pytest.raises(ValidationError):
        runner.automation_send_test(automation=rule, actor=owner)
    assert not AutomationRun.objects.exists() and not mailoutbox


def test_the_email_action_sends_the_template_to_the_events_customer_once(
    merchant, owner, mailoutbox, django_capture_on_commit_callbacks
):
    subscription = SubscriptionFactory(
        merchant=merchant, customer__email="bia@example.com", customer__name="Bia Lima"
    )
    rule = AutomationFactory(
        merchant=merchant,
        trigger=Trigger.CANCELED_BY_CUSTOMER,
        action=ActionKind.EMAIL,
        webhook_url="",
        email_kind="refund_issued",
    )
    with django_capture_on_commit_callbacks(execute=True):
        subscription_cancel(subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER)
    runner.fan_out_all()
    mailoutbox.clear()  # what the built-in e-mails consumer would send is not this rule's business

    with django_capture_on_commit_callbacks(execute=True):
        run = run_once()

    assert run.status == RunStatus.SUCCEEDED
    sending = EmailSending.objects.get(kind="refund_issued")
    assert (sending.recipient, sending.subscription, sending.event) == (
        "bia@example.com",
        subscription,
        run.event,
    )
    assert sending.dedupe_key == f"automation:{rule.pk}:{run.event_id}"
    (message,) = mailoutbox
    assert message.to == ["bia@example.com"]

    # The same run again (a retried task) does not e-mail twice: the dedupe key holds.
    with django_capture_on_commit_callbacks(execute=True):
        runner.execute_run(run)
    assert EmailSending.objects.filter(kind="refund_issued").count() == 1
    assert len(mailoutbox) == 1


def test_the_email_action_fails_without_retry_when_the_subscription_is_gone(merchant):
    rule = AutomationFactory(
        merchant=merchant, action=ActionKind.EMAIL, webhook_url="", email_kind="refund_issued"
    )
    event = EventFactory(merchant=merchant, type="subscription.canceled", payload={**CANCELED, "id": 987654})
    run = AutomationRunFactory(merchant=merchant, automation=rule, event=event, event_type=event.type)

    outcome = runner.execute_run(run)

    assert not outcome.succeeded and not outcome.retryable
    assert str(outcome.error) == "A assinatura do evento não existe mais."


# --- services' refusals -----------------------------------------------------------------------------------
def rule_fields(**overrides):
    fields = {
        "name": "Reconquista",
        "trigger": Trigger.CANCELED_BY_CUSTOMER,
        "action": ActionKind.WEBHOOK,
        "webhook_url": "https://crm.example.com/hook",
    }
    fields.update(overrides)
    return fields


def test_create_keeps_only_the_chosen_actions_settings_and_a_signing_secret(merchant):
    rule = services.automation_create(
        merchant=merchant, actor=None, **rule_fields(list_id="x", email_kind="refund_issued")
    )
    assert rule.signing_secret.startswith("whsec_")
    assert (rule.list_id, rule.email_kind, rule.currency) == ("", "", merchant.currency)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount_min": 5000, "amount_max": 4000}, "amount_max"),
        ({"webhook_url": "http://example.com/hook"}, "webhook_url"),
        ({"webhook_url": "https://10.0.0.1/hook"}, "webhook_url"),
        ({"action": ActionKind.PROVIDER, "list_id": "x"}, "integration"),
        ({"action": ActionKind.EMAIL}, "email_kind"),
        ({"trigger": "nope"}, "trigger"),
        ({"payment_methods": ["cheque"]}, "payment_methods"),
    ],
)
def test_create_refuses_invalid_rules(merchant, overrides, field):
    with pytest.raises(ValidationError) as caught:
        services.automation_create(merchant=merchant, actor=None, **rule_fields(**overrides))
    assert field in caught.value.message_dict
    assert not Automation.objects.exists()


def test_plans_and_integrations_of_another_merchant_are_refused(merchant, other_merchant):
    from tests.factories import PlanFactory

    with pytest.raises(ValidationError) as caught:
        services.automation_create(
            merchant=merchant,
            actor=None,
            **rule_fields(
                plans=[PlanFactory(merchant=other_merchant)],
                action=ActionKind.PROVIDER,
                integration=ProviderIntegrationFactory(merchant=other_merchant),
                list_id="x",
            ),
        )
    assert {"plans", "integration"} <= set(caught.value.message_dict)


def test_an_integration_in_use_cannot_be_deleted(merchant):
    rule = provider_rule(merchant, "https://lists.example.com/contacts")

    with pytest.raises(ValidationError):
        services.integration_delete(integration=rule.integration)
    services.automation_delete(automation=rule)
    services.integration_delete(integration=ProviderIntegration.objects.get())
    assert not ProviderIntegration.objects.exists()


def test_keys_can_be_rotated(settings):
    from cryptography.fernet import Fernet

    old = crypto.encrypt("segredo")
    settings.CREDENTIALS_ENCRYPTION_KEYS = Fernet.generate_key().decode()

    assert crypto.decrypt(old) == "segredo"  # the derived key still decrypts
    assert crypto.decrypt(crypto.encrypt("novo")) == "novo"


def test_the_scheduled_task_is_declared():
    from core.management.commands.setup_schedules import declared_schedules

    assert dict(declared_schedules())["notifications: run automations from the outbox"] == (
        "notifications.tasks.run_automations",
        1,
        "notifications",
    )
