"""Ending: cancel now / at period end / on a date, remove (revoke access), re-add."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.events import EventType
from core.outbox import emit
from subscribers import extension_points
from subscribers.choices import (
    CancelOrigin,
    CancelWhen,
    EventKind,
    SubscriptionAction,
)
from subscribers.locks import lock_subscription
from subscribers.models import Subscription
from subscribers.services._common import (
    CANCEL_REASON_FIELDS,
    S,
    _end_charges,
    _field_error,
    _move,
    _payload,
    _record,
    _refuse,
    _set_cancel_reason,
    refusal_message,
)
from subscribers.services.schedules import schedule_end_with_subscription


# --- cancel, remove, re-add ------------------------------------------------------------------------
def cancellation_preview(*, subscription: Subscription, when: str, at_date: dt.date | None = None, now=None):
    """(effective_at, access_until) for a cancellation, so the screen can say "poderá usar até …"
    before the user confirms. Raises ValidationError for a date that is not in the future."""
    now = now or timezone.now()
    merchant = subscription.merchant
    paid_until = now
    if subscription.status == S.ACTIVE and subscription.current_period_end:
        paid_until = max(subscription.current_period_end, now)
    elif subscription.status == S.TRIALING and subscription.trial_ends_at:
        paid_until = max(subscription.trial_ends_at, now)
    elif subscription.status == S.PAUSED and subscription.access_until:
        paid_until = max(subscription.access_until, now)  # what the pause left of the paid time
    if when == CancelWhen.NOW:
        return now, paid_until
    if when == CancelWhen.PERIOD_END:
        if subscription.status == S.SCHEDULED or not subscription.current_period_end:
            return now, now
        end = max(subscription.current_period_end, now)
        return end, end
    if when == CancelWhen.DATE:
        if at_date is None:
            raise _field_error("at_date", _("Escolha a data do cancelamento."), "date_required")
        if at_date <= merchant.localdate(now):
            raise _field_error(
                "at_date", _("Escolha uma data futura; para hoje, use “Imediatamente”."), "date_not_future"
            )
        effective = merchant.start_of_day(at_date)
        return effective, effective
    raise _field_error("when", _("Escolha quando cancelar."), "when_required")


def _effective_origin(actor, origin):
    # Platform staff act for the platform: their cancellations are recorded as "admin", always.
    if getattr(actor, "is_staff", False):
        return CancelOrigin.ADMIN
    if origin not in (CancelOrigin.CUSTOMER, CancelOrigin.SELLER, CancelOrigin.PROVIDER):
        raise _field_error("origin", _("Informe quem pediu o cancelamento."), "origin_required")
    return origin


@transaction.atomic
def subscription_cancel(
    *,
    subscription: Subscription,
    actor,
    origin: str,
    when: str = CancelWhen.NOW,
    at_date: dt.date | None = None,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    credit_unused_time: bool = False,
    now: dt.datetime | None = None,
) -> Subscription:
    """Cancels now, at the end of the current period, or on a chosen date. A future end is recorded
    now and carried out by `subscription_process_due` at that time.

    With `credit_unused_time` (only with `when="now"`), access ends now and the unused rest of the paid
    period is credited to the customer's credit balance, at what it cost (billing, through the named
    extension point subscribers.cancel_credit, in this transaction). Otherwise nothing is credited:
    cancelling now or on a date keeps no money back, and access runs as `cancellation_preview` says.

    `reason` is what a person typed; a reason the system words itself (a provider's cancellation, the
    platform's admin) is `reason_code` and its `reason_params` (subscribers/timeline.py), translated when
    shown."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.CANCEL, now=now)
    origin = _effective_origin(actor, origin)
    if credit_unused_time and when != CancelWhen.NOW:
        raise _field_error(
            "credit_unused_time",
            _("Só o cancelamento imediato pode creditar o tempo não usado."),
            "credit_needs_now",
        )
    effective_at, access_until = cancellation_preview(
        subscription=subscription, when=when, at_date=at_date, now=now
    )
    credit_note = None
    if credit_unused_time:
        # The credit is computed while the subscription still holds its paid period.
        credit_note = extension_points.cancel_credit(subscription=subscription, now=now)
        access_until = now
    subscription.cancel_requested_at = now
    subscription.cancel_when = when
    subscription.cancel_origin = origin
    _set_cancel_reason(subscription, reason, reason_code, reason_params)
    subscription.canceled_by = actor if getattr(actor, "pk", None) else None
    subscription.access_until = access_until
    subscription.cancel_at = effective_at
    fields = [
        "cancel_requested_at",
        "cancel_when",
        "cancel_origin",
        *CANCEL_REASON_FIELDS,
        "canceled_by",
        "access_until",
        "cancel_at",
        "updated_at",
    ]
    if effective_at <= now:
        _end(
            subscription,
            actor=actor,
            kind=EventKind.CANCELED,
            now=now,
            fields=fields,
            data={"credit": credit_note} if credit_note else None,
        )
    else:
        subscription.save(update_fields=fields)
        # The status does not change yet: the timeline must not read "Ativa → Cancelada" while still Ativa
        # (the entry's data says when it will).
        _record(
            subscription,
            kind=EventKind.CANCEL_SCHEDULED,
            actor=actor,
            from_status=subscription.status,
            to_status=subscription.status,
            origin=origin,
            reason=subscription.cancel_reason,
            reason_code=subscription.cancel_reason_code,
            reason_params=subscription.cancel_reason_params,
            data={"cancel_at": effective_at.isoformat(), "access_until": access_until.isoformat()},
            at=now,
        )
        emit(
            merchant=subscription.merchant,
            type=EventType.SUBSCRIPTION_CANCEL_SCHEDULED,
            payload=_payload(subscription),
        )
    return subscription


@transaction.atomic
def subscription_cancel_revert(
    *,
    subscription: Subscription,
    actor,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    now=None,
) -> Subscription:
    """Desfazer cancelamento: takes back a cancellation scheduled for a later date, before it takes effect;
    the subscription goes on as if it had never been asked (renewals resume on its cycle).

    `reason` is what a person typed; a reason the system words itself (the portal's retention offer) is
    `reason_code` and its `reason_params` (subscribers/timeline.py), translated when shown."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.REVERT_CANCEL, now=now)
    if subscription.cancel_at <= now:  # can() asks the real clock; the service asks the caller's
        raise ValidationError(
            refusal_message(subscription, SubscriptionAction.REVERT_CANCEL), code="cannot_revert_cancel"
        )
    reverted = {
        "cancel_at": subscription.cancel_at.isoformat(),
        "cancel_origin": subscription.cancel_origin,
        "cancel_reason": subscription.cancel_reason,
        "cancel_reason_code": subscription.cancel_reason_code,
        "cancel_reason_params": subscription.cancel_reason_params,
    }
    subscription.cancel_requested_at = None
    subscription.cancel_when = ""
    subscription.cancel_at = None
    subscription.cancel_origin = ""
    _set_cancel_reason(subscription, "", "", None)
    subscription.canceled_by = None
    subscription.access_until = None
    subscription.save(
        update_fields=[
            "cancel_requested_at",
            "cancel_when",
            "cancel_at",
            "cancel_origin",
            *CANCEL_REASON_FIELDS,
            "canceled_by",
            "access_until",
            "updated_at",
        ]
    )
    _record(
        subscription,
        kind=EventKind.CANCEL_REVERTED,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason="" if reason_code else (reason or "").strip(),
        reason_code=reason_code,
        reason_params=reason_params,
        data=reverted,
        at=now,
    )
    emit(
        merchant=subscription.merchant,
        type=EventType.SUBSCRIPTION_CANCEL_REVERTED,
        payload={**_payload(subscription), "reverted_cancel_at": reverted["cancel_at"]},
    )
    return subscription


def _end(subscription, *, actor, kind, now, fields, ended_at=None, data=None):
    from_status = _move(subscription, S.CANCELED)
    subscription.ended_at = ended_at or now
    subscription.next_invoice_at = None
    subscription.save(update_fields=[*fields, "status", "ended_at", "next_invoice_at", "updated_at"])
    _record(
        subscription,
        kind=kind,
        actor=actor,
        from_status=from_status,
        to_status=S.CANCELED,
        origin=subscription.cancel_origin,
        reason=subscription.cancel_reason,
        reason_code=subscription.cancel_reason_code,
        reason_params=subscription.cancel_reason_params,
        data={
            "access_until": subscription.access_until.isoformat() if subscription.access_until else None,
            **(data or {}),
        },
        at=now,
    )
    emit(merchant=subscription.merchant, type=EventType.SUBSCRIPTION_CANCELED, payload=_payload(subscription))
    _end_charges(subscription, now=now)
    schedule_end_with_subscription(subscription, now=now, actor=actor)


@transaction.atomic
def subscription_remove(*, subscription: Subscription, actor, reason: str = "", now=None) -> Subscription:
    """Revokes access now: an immediate cancellation by the seller, with no refund."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.REMOVE, now=now)
    subscription.cancel_requested_at = now
    subscription.cancel_when = CancelWhen.NOW
    subscription.cancel_origin = _effective_origin(actor, CancelOrigin.SELLER)
    _set_cancel_reason(subscription, reason, "", None)
    subscription.canceled_by = actor if getattr(actor, "pk", None) else None
    subscription.cancel_at = now
    subscription.access_until = now
    subscription.access_revoked_at = now
    fields = [
        "cancel_requested_at",
        "cancel_when",
        "cancel_origin",
        *CANCEL_REASON_FIELDS,
        "canceled_by",
        "cancel_at",
        "access_until",
        "access_revoked_at",
    ]
    _end(subscription, actor=actor, kind=EventKind.REMOVED, now=now, fields=fields)
    emit(
        merchant=subscription.merchant,
        type=EventType.SUBSCRIPTION_ACCESS_REVOKED,
        payload=_payload(subscription),
    )
    return subscription


@transaction.atomic
def subscription_readd(*, subscription: Subscription, actor, now=None) -> Subscription:
    """For a running subscription whose customer lost access: grants access again. The event says
    `readded`, and the access e-mail follows from it (notifications' outbox consumer)."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.READD, now=now)
    if subscription.access_revoked_at is not None:
        subscription.access_revoked_at = None
        subscription.save(update_fields=["access_revoked_at", "updated_at"])
    _record(
        subscription,
        kind=EventKind.READDED,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        at=now,
    )
    emit(
        merchant=subscription.merchant,
        type=EventType.SUBSCRIPTION_ACCESS_GRANTED,
        payload={**_payload(subscription), "readded": True},
    )
    return subscription
