"""What billing (payments, failed charges, renewals, refunds) does to a subscription."""

from core.events import EventType
from core.outbox import emit
from subscribers.choices import (
    ENDED_STATUSES,
    CancelOrigin,
    EventKind,
)
from subscribers.models import Subscription
from subscribers.services._common import (
    CANCEL_REASON_FIELDS,
    S,
    _end_charges,
    _move,
    _payload,
    _record,
    _set_cancel_reason,
    platform_reason_text,
)

# --- billing-driven changes (called by the billing app, which holds the subscription's row lock) -----
BILLING_EVENT_TYPES = {
    S.ACTIVE: EventType.SUBSCRIPTION_ACTIVATED,
    S.PENDING: EventType.SUBSCRIPTION_PENDING,
    S.PAST_DUE: EventType.SUBSCRIPTION_PAST_DUE,
    S.EXPIRED: EventType.SUBSCRIPTION_EXPIRED,
    S.CANCELED: EventType.SUBSCRIPTION_CANCELED,
    S.REFUNDED: EventType.SUBSCRIPTION_REFUNDED,
}


def subscription_apply_billing(
    *,
    subscription: Subscription,
    now,
    to_status: str | None = None,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    data: dict | None = None,
    cancel_origin: str = CancelOrigin.SELLER,
    **fields,
) -> Subscription:
    """What a payment, a failed charge, a renewal or a refund does to a subscription: move its status
    along the transition table (with timeline entry and outbox event) and/or update its billing fields
    (periods, next_invoice_at, …). The caller holds the row lock inside its transaction.

    A billing cancellation (dunning's final action, a chargeback) is recorded as asked by `cancel_origin`:
    the seller's policy by default, the customer for a chargeback they opened with their bank.
    `reason_code` and `reason_params` (subscribers/timeline.py): the timeline line and a cancellation's
    reason are that code, translated when shown; `reason` is for words a person gave."""
    allowed = {
        "current_period_start",
        "current_period_end",
        "next_invoice_at",
        "amount",
        "plan",
        "plan_price",
        "next_plan_price",
        "next_plan_price_from",
        "quantity",
        "pending_plan",
        "pending_quantity",
        "currency",
        "access_until",
        "ended_at",
        "backdate_charge_from",
    }
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"Billing may not change {sorted(unknown)}")
    for name, value in fields.items():
        setattr(subscription, name, value)
    update = [*fields]
    from_status = subscription.status
    if to_status and to_status != from_status:
        _move(subscription, to_status)
        update.append("status")
        if to_status in (S.EXPIRED, S.CANCELED):
            # An installment plan ends when its last period does, even when the run comes later.
            subscription.ended_at = fields.get("ended_at") or now
            subscription.next_invoice_at = None
            update += ["ended_at", "next_invoice_at"]
        if to_status == S.CANCELED and not subscription.cancel_origin:
            subscription.cancel_origin = cancel_origin
            subscription.cancel_at = now
            _set_cancel_reason(subscription, reason, reason_code, reason_params)
            subscription.access_until = now
            update += ["cancel_origin", "cancel_at", *CANCEL_REASON_FIELDS, "access_until"]
    if update:
        subscription.save(update_fields=sorted({*update, "updated_at"}))
    if to_status and to_status != from_status:
        kind = {S.EXPIRED: EventKind.EXPIRED, S.REFUNDED: EventKind.REFUNDED}.get(
            to_status, EventKind.BILLING
        )
        _record(
            subscription,
            kind=kind,
            actor=None,
            from_status=from_status,
            to_status=to_status,
            reason="" if reason_code else reason,
            reason_code=reason_code,
            reason_params=reason_params,
            data=data or {},
            at=now,
        )
        emit(
            merchant=subscription.merchant,
            type=BILLING_EVENT_TYPES[to_status],
            # The reason in the platform's language: a coded one is not the writer's language either.
            payload={
                **_payload(subscription),
                "reason": platform_reason_text(reason_code, reason_params, reason),
            },
        )
        if to_status == S.ACTIVE and from_status in (S.PENDING, S.TRIALING):
            emit(
                merchant=subscription.merchant,
                type=EventType.SUBSCRIPTION_ACCESS_GRANTED,
                payload=_payload(subscription),
            )
        if to_status in (S.EXPIRED, S.CANCELED, S.REFUNDED) and from_status != S.CANCELED:
            emit(
                merchant=subscription.merchant,
                type=EventType.SUBSCRIPTION_ACCESS_REVOKED,
                payload=_payload(subscription),
            )
        if to_status in (S.EXPIRED, S.CANCELED):
            _end_charges(subscription, now=now)
        if to_status in ENDED_STATUSES and from_status not in ENDED_STATUSES:
            # Imported here: schedules applies its own terms through this module.
            from subscribers.services.schedules import schedule_end_with_subscription

            schedule_end_with_subscription(subscription, now=now)
    return subscription


def subscription_note_billing(
    *,
    subscription: Subscription,
    actor,
    now,
    reason: str = "",
    reason_code: str = "",
    reason_params: dict | None = None,
    data=None,
):
    """A line on the subscription's timeline for a billing action that leaves its status as it is (staff
    voided an invoice, charged now, …). The caller holds the row lock and emits its own event. `reason` is
    what a person typed; the system's words are `reason_code` and `reason_params` (subscribers/timeline.py).
    """
    return _record(
        subscription,
        kind=EventKind.BILLING,
        actor=actor,
        from_status=subscription.status,
        to_status=subscription.status,
        reason="" if reason_code else reason,
        reason_code=reason_code,
        reason_params=reason_params,
        data=data or {},
        at=now,
    )
