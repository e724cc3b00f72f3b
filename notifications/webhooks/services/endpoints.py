"""Notificações > Webhooks: creating, editing, rotating the secret of and deleting endpoints."""

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.attempt_notes import ENDPOINT_DISABLED, Note
from notifications.catalog import subscribable_event_type_choices
from notifications.retries import end_as_failed
from notifications.webhooks.choices import DeliveryStatus
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint
from notifications.webhooks.services.security import url_refusal
from notifications.webhooks.services.signing import generate_secret

EDITABLE_FIELDS = frozenset({"url", "description", "all_event_types", "event_types", "is_active"})


def _validate(*, url: str, all_event_types: bool, event_types: list[str]) -> list[str]:
    """The event types to store (none when the endpoint takes all); raises ValidationError for a URL the
    SSRF rule refuses, an unknown event type or an empty choice."""
    refusal = url_refusal(url)
    if refusal:
        raise ValidationError({"url": refusal}, code="url_refused")
    if all_event_types:
        return []
    known = {value for value, _label in subscribable_event_type_choices()}
    unknown = sorted(set(event_types) - known)
    if unknown:
        raise ValidationError(
            {"event_types": _("Tipos de evento desconhecidos: %(types)s") % {"types": ", ".join(unknown)}},
            code="unknown_event_type",
        )
    if not event_types:
        raise ValidationError(
            {"event_types": _("Escolha ao menos um evento, ou marque “Todos os eventos”.")},
            code="no_event_types",
        )
    return sorted(set(event_types))


def _lock(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


def stop_pending_deliveries(*, endpoint: WebhookEndpoint, now, reason: Note, exclude_pk=None) -> int:
    """Ends the deliveries still waiting for a disabled endpoint as failed; "Reenviar falhas" sends them
    again once it is active."""
    pending = WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING)
    if exclude_pk is not None:
        pending = pending.exclude(pk=exclude_pk)
    return end_as_failed(pending, now=now, reason=reason)


@transaction.atomic
def webhook_endpoint_create(
    *,
    merchant,
    actor,
    url: str,
    description: str = "",
    all_event_types: bool = True,
    event_types: list[str] | None = None,
    is_active: bool = True,
) -> WebhookEndpoint:
    """Creates an endpoint with a fresh signing secret (`endpoint.secret`, for the one-time reveal)."""
    event_types = _validate(url=url, all_event_types=all_event_types, event_types=list(event_types or []))
    return WebhookEndpoint.objects.create(
        merchant=merchant,
        url=url,
        description=description,
        all_event_types=all_event_types,
        event_types=event_types,
        is_active=is_active,
        secret=generate_secret(),
        created_by=actor if getattr(actor, "pk", None) else None,
    )


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, now=None, **fields) -> WebhookEndpoint:
    """Saves the endpoint's settings. Turning it on again clears an automatic disable and its failure
    count; turning it off ends its pending deliveries as failed."""
    unknown = set(fields) - EDITABLE_FIELDS
    if unknown:
        raise TypeError("webhook_endpoint_update() got unexpected fields: " + ", ".join(sorted(unknown)))
    now = now or timezone.now()
    endpoint = _lock(endpoint)
    was_active = endpoint.is_active
    for name, value in fields.items():
        setattr(endpoint, name, value)
    endpoint.event_types = _validate(
        url=endpoint.url, all_event_types=endpoint.all_event_types, event_types=list(endpoint.event_types)
    )
    changed = sorted(set(fields) | {"event_types"})
    if endpoint.is_active and not was_active:
        endpoint.disabled_at, endpoint.disabled_reason = None, ""
        endpoint.failing_since, endpoint.consecutive_failed_deliveries = None, 0
        changed += ["disabled_at", "disabled_reason", "failing_since", "consecutive_failed_deliveries"]
    if was_active and not endpoint.is_active:
        stop_pending_deliveries(endpoint=endpoint, now=now, reason=Note(ENDPOINT_DISABLED))
    endpoint.save(update_fields=changed)
    return endpoint


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, now=None) -> WebhookEndpoint:
    """Issues a new secret (`endpoint.secret`, for the one-time reveal). The old one keeps signing, next to
    the new one, for settings.WEBHOOKS_SECRET_GRACE_HOURS so receivers can switch without losing events."""
    now = now or timezone.now()
    endpoint = _lock(endpoint)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + dt.timedelta(hours=settings.WEBHOOKS_SECRET_GRACE_HOURS)
    endpoint.secret = generate_secret()
    endpoint.secret_rotated_at = now
    endpoint.save(
        update_fields=["previous_secret", "previous_secret_expires_at", "secret", "secret_rotated_at"]
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Deletes the endpoint with its delivery log (the confirmation page says so); events stay."""
    _lock(endpoint).delete()
