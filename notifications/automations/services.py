"""Writes of Notificações > Automações: rules and provider integrations. The consumer that runs rules
from the outbox, and "Enviar teste", are in runner.py."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications import crypto
from notifications.attempt_notes import AUTOMATION_DISABLED, Note
from notifications.automations.choices import ActionKind, RunStatus, Trigger
from notifications.automations.models import Automation, AutomationRun, ProviderIntegration
from notifications.emails.choices import CustomerEmailKind
from notifications.retries import end_as_failed
from notifications.webhooks.services.security import url_refusal
from notifications.webhooks.services.signing import generate_secret
from subscribers.choices import CancelOrigin, PaymentMethod

# What a rule is made of, in the order the form shows it (the form takes this list).
AUTOMATION_FIELDS = (
    "name",
    "trigger",
    "plans",
    "payment_methods",
    "cancel_origins",
    "amount_min",
    "amount_max",
    "action",
    "email_kind",
    "webhook_url",
    "integration",
    "list_id",
    "tags",
    "is_enabled",
)
# An HTTP header name (RFC 9110 token); the ones the request itself sets may not be replaced.
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_RESERVED_HEADERS = {
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "user-agent",
}


def _actor(actor):
    return actor if getattr(actor, "pk", None) else None


# --- integrations --------------------------------------------------------------------------------------
def _validate_integration(*, url: str, auth_header: str, token: str | None) -> None:
    errors = {}
    refusal = url_refusal(url)
    if refusal:
        errors["url"] = refusal
    if not _HEADER_NAME.match(auth_header or "") or auth_header.lower() in _RESERVED_HEADERS:
        errors["auth_header"] = _("Informe um nome de cabeçalho HTTP válido, por exemplo Authorization.")
    if token is not None and (not token.strip() or any(ch in token for ch in "\r\n")):
        errors["token"] = _("Informe o token em uma linha só.")
    if errors:
        raise ValidationError(errors, code="invalid_integration")


def _store_token(integration: ProviderIntegration, token: str) -> None:
    token = token.strip()
    integration.token_encrypted = crypto.encrypt(token)
    integration.token_last4 = token[-4:] if len(token) >= 8 else ""


@transaction.atomic
def integration_create(
    *, merchant, name: str, url: str, auth_header: str, token: str, kind: str = "generic_http"
) -> ProviderIntegration:
    """Creates a provider integration; the token is stored encrypted and never shown back."""
    _validate_integration(url=url, auth_header=auth_header, token=token)
    integration = ProviderIntegration(
        merchant=merchant, name=name, kind=kind, url=url, auth_header=auth_header
    )
    _store_token(integration, token)
    integration.save()
    return integration


@transaction.atomic
def integration_update(
    *,
    integration: ProviderIntegration,
    name: str,
    url: str,
    auth_header: str,
    token: str | None = None,
) -> ProviderIntegration:
    """Saves the integration; an empty `token` keeps the stored one. Runs waiting to retry against it are
    brought forward, so a fixed credential is tried at once."""
    token = token or None
    _validate_integration(url=url, auth_header=auth_header, token=token)
    integration = ProviderIntegration.objects.select_for_update().get(pk=integration.pk)
    integration.name, integration.url, integration.auth_header = name, url, auth_header
    if token is not None:
        _store_token(integration, token)
    integration.save()
    AutomationRun.objects.filter(automation__integration=integration, status=RunStatus.PENDING).update(
        next_attempt_at=timezone.now()
    )
    return integration


@transaction.atomic
def integration_delete(*, integration: ProviderIntegration) -> None:
    """Deletes an integration no rule uses (a rule's action must be changed first)."""
    names = list(integration.automations.order_by("name").values_list("name", flat=True)[:5])
    if names:
        raise ValidationError(
            _("Esta integração é usada pelas automações: %(names)s. Mude a ação delas antes de excluir.")
            % {"names": ", ".join(names)},
            code="integration_in_use",
        )
    integration.delete()


# --- automations ---------------------------------------------------------------------------------------
def _validate_automation(merchant, fields: dict) -> dict:
    """Checks a rule's fields (every error at once) and returns them cleaned for the action chosen."""
    errors = {}
    if fields.get("trigger") not in Trigger.values:
        errors["trigger"] = _("Escolha um gatilho.")
    plans = list(fields.get("plans") or [])
    if any(plan.merchant_id != merchant.pk for plan in plans):
        errors["plans"] = _("Escolha planos da sua loja.")
    methods = list(fields.get("payment_methods") or [])
    if set(methods) - set(PaymentMethod.values):
        errors["payment_methods"] = _("Forma de pagamento desconhecida.")
    origins = list(fields.get("cancel_origins") or [])
    if set(origins) - set(CancelOrigin.values):
        errors["cancel_origins"] = _("Origem de cancelamento desconhecida.")
    amount_min, amount_max = fields.get("amount_min"), fields.get("amount_max")
    if amount_min is not None and amount_max is not None and amount_min > amount_max:
        errors["amount_max"] = _("O valor máximo deve ser maior ou igual ao valor mínimo.")
    action = fields.get("action")
    cleaned = {**fields, "plans": plans, "payment_methods": methods, "cancel_origins": origins}
    if action == ActionKind.EMAIL:
        if fields.get("email_kind") not in CustomerEmailKind.values:
            errors["email_kind"] = _("Escolha o e-mail a enviar.")
    elif action == ActionKind.WEBHOOK:
        url = fields.get("webhook_url") or ""
        refusal = url_refusal(url) if url else _("Informe a URL do webhook.")
        if refusal:
            errors["webhook_url"] = refusal
    elif action == ActionKind.PROVIDER:
        integration = fields.get("integration")
        if integration is None or integration.merchant_id != merchant.pk:
            errors["integration"] = _("Escolha uma integração da sua loja.")
        if not (fields.get("list_id") or "").strip():
            errors["list_id"] = _("Informe a lista do provedor.")
    else:
        errors["action"] = _("Escolha uma ação.")
    if errors:
        raise ValidationError(errors, code="invalid_automation")
    # Only the chosen action's settings are kept, so a rule never carries a stale URL or integration.
    if action != ActionKind.EMAIL:
        cleaned["email_kind"] = ""
    if action != ActionKind.WEBHOOK:
        cleaned["webhook_url"] = ""
    if action != ActionKind.PROVIDER:
        cleaned.update(integration=None, list_id="", tags=[])
    cleaned["tags"] = [tag.strip() for tag in cleaned.get("tags") or [] if tag.strip()]
    return cleaned


def _apply(automation: Automation, fields: dict) -> None:
    for name, value in fields.items():
        if name != "plans":
            setattr(automation, name, value)
    if automation.action == ActionKind.WEBHOOK and not automation.signing_secret:
        automation.signing_secret = generate_secret()


def stop_pending_runs(*, automation: Automation, now, reason: Note) -> int:
    """Ends the runs still waiting for a rule that was turned off as failed."""
    pending = AutomationRun.objects.filter(automation=automation, status=RunStatus.PENDING)
    return end_as_failed(pending, now=now, reason=reason)


@transaction.atomic
def automation_create(*, merchant, actor, **fields) -> Automation:
    """Creates a rule. A webhook rule gets its own signing secret (`automation.signing_secret`, shown
    once)."""
    unknown = set(fields) - set(AUTOMATION_FIELDS)
    if unknown:
        raise TypeError("automation_create() got unexpected fields: " + ", ".join(sorted(unknown)))
    fields = _validate_automation(merchant, fields)
    automation = Automation(merchant=merchant, currency=merchant.currency, created_by=_actor(actor))
    _apply(automation, fields)
    automation.save()
    automation.plans.set(fields["plans"])
    return automation


@transaction.atomic
def automation_update(*, automation: Automation, now=None, **fields) -> Automation:
    """Saves a rule. Turning it off ends its pending runs as failed."""
    unknown = set(fields) - set(AUTOMATION_FIELDS)
    if unknown:
        raise TypeError("automation_update() got unexpected fields: " + ", ".join(sorted(unknown)))
    now = now or timezone.now()
    automation = Automation.objects.select_for_update().get(pk=automation.pk)
    current = {name: getattr(automation, name) for name in AUTOMATION_FIELDS if name != "plans"}
    current["plans"] = list(automation.plans.all())
    fields = _validate_automation(automation.merchant, {**current, **fields})
    was_enabled = automation.is_enabled
    _apply(automation, fields)
    automation.save()
    automation.plans.set(fields["plans"])
    if was_enabled and not automation.is_enabled:
        stop_pending_runs(automation=automation, now=now, reason=Note(AUTOMATION_DISABLED))
    return automation


def automation_set_enabled(*, automation: Automation, enabled: bool) -> Automation:
    return automation_update(automation=automation, is_enabled=enabled)


@transaction.atomic
def automation_delete(*, automation: Automation) -> None:
    """Deletes the rule with its run log (the confirmation page says so); events stay."""
    Automation.objects.select_for_update().get(pk=automation.pk).delete()
