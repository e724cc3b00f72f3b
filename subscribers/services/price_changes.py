"""A plan's new price reaching its subscriptions: the notices (written in bulk), the renewal that applies
one, and what a plan switch or an ending does to a waiting notice.

The amounts come from billing (billing.services.price_changes computes them with the billing functions
and calls these writers); here is what changes on the subscriptions and their notices, each notice moved
only along PRICE_NOTICE_TRANSITIONS.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from core.bulk import in_values, insert_rows
from core.events import EventType
from core.outbox import emit_many
from subscribers import timeline
from subscribers.choices import PRICE_NOTICE_TRANSITIONS, EventKind, PriceNoticeStatus
from subscribers.models import PriceChangeNotice, Subscription, SubscriptionEvent
from subscribers.services._common import _record

N = PriceNoticeStatus
# What subscription_plan_switch may change beside `plan`.
PRICE_VERSION_FIELDS = ["plan_price", "next_plan_price", "next_plan_price_from"]


@dataclass(frozen=True)
class NoticeRow:
    """One subscription's notice as billing computed it, and its outbox payload (the subscription's)."""

    subscription_id: int
    old_price_id: int | None
    currency: str
    old_amount: int
    new_amount: int
    effective_at: dt.datetime | None
    payload: dict


def notices_move(notices, *, to: str, **fields) -> int:
    """Moves the notices of a queryset to `to`, refusing (ValidationError) when any of them may not go
    there: the one way a notice's status changes."""
    for status in set(notices.values_list("status", flat=True)):
        if to not in PRICE_NOTICE_TRANSITIONS[status]:
            raise ValidationError(
                _("Um aviso de reajuste %(from)s não pode passar a %(to)s.")
                % {"from": N(status).label.lower(), "to": N(to).label.lower()},
                code="invalid_transition",
            )
    return notices.update(status=to, **fields)


def subscriptions_schedule_price_change(
    *, merchant_id: int, new_price, rows: Sequence[NoticeRow], notice_ends_at, actor, now
) -> int:
    """Records a notice for each of `rows`' subscriptions and points them at `new_price` from the first
    period starting at or after `notice_ends_at`, with a timeline line and a
    `subscription.price_change_scheduled` event each — a fixed number of statements per call, so a plan
    with 100,000 subscriptions is migrated in a few bulk writes. A notice still waiting from an earlier
    change of the same subscriptions becomes void (the newest price wins). Runs in the caller's
    transaction, which holds the plan's lock."""
    if not rows:
        return 0
    ids = [row.subscription_id for row in rows]
    notices_move(
        PriceChangeNotice.objects.filter(subscription_id__in=in_values(ids), status=N.SCHEDULED),
        to=N.VOID,
    )
    Subscription.objects.filter(pk__in=in_values(ids)).update(
        next_plan_price=new_price, next_plan_price_from=notice_ends_at, updated_at=now
    )
    insert_rows(
        PriceChangeNotice,
        [
            {
                "merchant_id": merchant_id,
                "subscription_id": row.subscription_id,
                "old_price_id": row.old_price_id,
                "new_price_id": new_price.pk,
                "currency": row.currency,
                "old_amount": row.old_amount,
                "new_amount": row.new_amount,
                "notified_at": now,
                "notice_ends_at": notice_ends_at,
                "effective_at": row.effective_at,
                "status": N.SCHEDULED.value,
                "applied_at": None,
            }
            for row in rows
        ],
    )
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    insert_rows(
        SubscriptionEvent,
        [
            {
                "merchant_id": merchant_id,
                "subscription_id": row.subscription_id,
                "kind": EventKind.PRICE_CHANGE_SCHEDULED.value,
                "from_status": row.payload["status"],
                "to_status": row.payload["status"],
                "actor_id": actor_id,
                "origin": "",
                "reason": "",
                "reason_code": timeline.PRICE_CHANGE_SCHEDULED,
                "reason_params": _notice_reason_params(row, notice_ends_at),
                "data": _notice_data(row, new_price, notice_ends_at),
                "created_at": now,
            }
            for row in rows
        ],
    )
    emit_many(
        (
            merchant_id,
            EventType.SUBSCRIPTION_PRICE_CHANGE_SCHEDULED,
            {**row.payload, **_notice_data(row, new_price, notice_ends_at)},
        )
        for row in rows
    )
    return len(rows)


def _notice_data(row: NoticeRow, new_price, notice_ends_at) -> dict:
    return {
        "old_amount": row.old_amount,
        "new_amount": row.new_amount,
        "notice_ends_at": notice_ends_at.isoformat(),
        "effective_at": row.effective_at.isoformat() if row.effective_at else None,
        "plan_price_version": new_price.version,
    }


def _notice_reason_params(row: NoticeRow, notice_ends_at) -> dict:
    """The timeline line's params (subscribers/timeline.py's PRICE_CHANGE_SCHEDULED)."""
    return {
        "old_amount": row.old_amount,
        "new_amount": row.new_amount,
        "currency": row.currency,
        "date": notice_ends_at.date().isoformat(),
    }


def subscription_price_change_apply(*, subscription: Subscription, amount: int, now) -> None:
    """The renewal of the first period starting at or after the notice's end: the migrated version
    becomes the subscription's (`amount`, its new price per period, computed by billing), the notice is
    applied and the timeline says so. The caller (the billing run) holds the subscription's lock."""
    new_price = subscription.next_plan_price
    old_amount = subscription.amount
    subscription.plan_price = new_price
    subscription.next_plan_price = None
    subscription.next_plan_price_from = None
    subscription.amount = amount
    subscription.save(
        update_fields=["plan_price", "next_plan_price", "next_plan_price_from", "amount", "updated_at"]
    )
    notices_move(
        PriceChangeNotice.objects.filter(subscription=subscription, new_price=new_price, status=N.SCHEDULED),
        to=N.APPLIED,
        applied_at=now,
    )
    _record(
        subscription,
        kind=EventKind.PRICE_CHANGED,
        actor=None,
        from_status=subscription.status,
        to_status=subscription.status,
        reason_code=timeline.PRICE_CHANGED,
        reason_params={"old_amount": old_amount, "new_amount": amount, "currency": subscription.currency},
        data={"old_amount": old_amount, "new_amount": amount, "plan_price_version": new_price.version},
        at=now,
    )


def subscription_plan_switch(subscription: Subscription, plan) -> list[str]:
    """Puts the subscription on `plan` at the plan's current price version (a notice waiting for the old
    plan's price no longer applies: void). Returns the fields to save; the caller saves them."""
    if plan.pk != subscription.plan_id or subscription.plan_price_id is None:
        if subscription.next_plan_price_id is not None and subscription.pk:
            price_notices_void([subscription.pk])
        subscription.plan_price_id = plan.current_price_id
        subscription.next_plan_price = None
        subscription.next_plan_price_from = None
    subscription.plan = plan
    return ["plan", *PRICE_VERSION_FIELDS]


def price_notices_void(subscription_ids) -> int:
    """The waiting notices of subscriptions that ended or left the plan: they will never apply."""
    return notices_move(
        PriceChangeNotice.objects.filter(subscription_id__in=in_values(subscription_ids), status=N.SCHEDULED),
        to=N.VOID,
    )
