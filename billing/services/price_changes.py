"""Alterar preço (Planos > plano): a plan's new price version, for new subscriptions only or also for the
existing ones from their first renewal after a notice of N days — the preview and the change.

The amounts are billing's: each subscription's price per period before and after
(subscribers.pricing.subscription_amount, as `Subscription.amount` is kept), the MRR
(billing.calculations.monthly_recurring, the Painel's definition) and the first renewal the new price
reaches (the first period starting at or after the notice's end, counted from the billing-cycle anchor
like the renewal engine). The writes are plans.services.prices (the version) and
subscribers.services.price_changes (the notices, in bulk).
"""

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.calculations import monthly_recurring
from plans.models import Plan
from plans.periods import period_containing
from plans.services.prices import plan_price_change
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription, plan_price_at
from subscribers.pricing import subscription_amount
from subscribers.services._common import _payload
from subscribers.services.price_changes import NoticeRow, subscriptions_schedule_price_change

S = SubscriptionStatus
NOTICE_DAYS_DEFAULT = 30
NOTICE_DAYS_MAX = 365
# Statuses whose subscriptions still renew (a paused one after it resumes): the ones a migration reaches.
MIGRATED_STATUSES = (S.SCHEDULED, S.PENDING, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PAUSED)
# Rows read and written per round: bounded memory and statement size for a plan with 100,000 subscriptions.
CHUNK = 5000

_FIELDS = (
    "pk",
    "status",
    "customer_id",
    "customer__email",
    "customer__name",
    "plan_id",
    "quantity",
    "amount",
    "currency",
    "payment_method",
    "current_period_end",
    "cancel_at",
    "cancel_origin",
    "cancel_reason",
    "cancel_reason_code",
    "cancel_reason_params",
    "access_until",
    "next_invoice_at",
    "billing_cycle_anchor",
    "plan_price_id",
    "plan_price__plan_id",
    "plan_price__amount",
    "next_plan_price__amount",
    "next_plan_price_from",
    "discount_type",
    "discount_percent",
    "discount_amount",
)


class _Row:
    """One subscription's columns, readable like a Subscription by the payload helper."""

    __slots__ = (*_FIELDS, "customer", "plan")

    def __init__(self, values, plan):
        for name, value in zip(_FIELDS, values, strict=True):
            setattr(self, name, value)
        self.customer = _Customer(self.customer__email, self.customer__name)
        self.plan = plan


@dataclass(frozen=True)
class _Customer:
    email: str
    name: str


@dataclass(frozen=True)
class PriceChangePreview:
    """What migrating a plan's subscriptions to `new_amount` means: how many subscriptions get a notice,
    the plan's MRR (its Ativa subscriptions, as the Painel counts it) now and once every notified one pays
    the new price (those ending first stay at theirs), the notice's end and the first renewal that charges
    the new price."""

    currency: str
    old_amount: int
    new_amount: int
    count: int
    grandfathered: int  # live subscriptions left on their price when only new ones get the new price
    old_mrr: int
    new_mrr: int
    notice_ends_at: dt.datetime
    first_renewal_at: dt.datetime | None
    ending_before: int  # subscriptions ending before the new price would reach them: no notice


def first_renewal_from(*, next_start, anchor, unit: str, count: int, at, tz):
    """The first period start at or after `at` for a subscription whose next period starts at
    `next_start`: the renewal a notice ending at `at` first reaches."""
    if next_start is None or next_start >= at:
        return next_start
    anchor = min(anchor or next_start, next_start)
    start, end = period_containing(anchor, unit, count, at, tz=tz)
    return start if start >= at else end


def _affected(plan: Plan):
    # A change to another plan waiting for the next cycle takes that plan's price: no notice for this one.
    return (
        Subscription.objects.filter(merchant_id=plan.merchant_id, plan=plan, status__in=MIGRATED_STATUSES)
        .filter(Q(pending_plan__isnull=True) | Q(pending_plan=plan))
        .order_by("pk")
    )


def _rows(plan: Plan):
    """The affected subscriptions' columns, a chunk at a time (keyset pages on the primary key)."""
    last = 0
    while True:
        chunk = list(_affected(plan).filter(pk__gt=last).values_list(*_FIELDS)[:CHUNK])
        if not chunk:
            return
        yield [_Row(values, plan) for values in chunk]
        last = chunk[-1][0]


def _per_period(row: _Row, price: int) -> int:
    return subscription_amount(
        price=price,
        quantity=row.quantity,
        discount_type=row.discount_type,
        discount_percent=row.discount_percent,
        discount_amount=row.discount_amount,
    )


def _notice(row: _Row, *, plan, old_plan_price: int, new_amount: int, notice_ends_at, tz) -> NoticeRow | None:
    """The row's notice, or None when the subscription ends before the new price would reach it."""
    start = row.next_invoice_at or row.billing_cycle_anchor
    effective = first_renewal_from(
        next_start=start,
        anchor=row.billing_cycle_anchor,
        unit=plan.interval_unit,
        count=plan.interval_count,
        at=notice_ends_at,
        tz=tz,
    )
    if row.cancel_at is not None and (effective is None or row.cancel_at <= effective):
        return None
    old_unit = plan_price_at(
        plan_price=old_plan_price,
        contracted=row.plan_price__amount if row.plan_price__plan_id == row.plan_id else None,
        scheduled=row.next_plan_price__amount,
        scheduled_from=row.next_plan_price_from,
        period_start=effective,
    )
    return NoticeRow(
        subscription_id=row.pk,
        old_price_id=row.plan_price_id,
        currency=row.currency,
        old_amount=_per_period(row, old_unit),
        new_amount=_per_period(row, new_amount),
        effective_at=effective,
        payload=_payload(row),
    )


def _check(*, amount, notice_days) -> None:
    errors = {}
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        errors["amount"] = ValidationError(_("Informe o novo preço."), code="invalid_amount")
    if not isinstance(notice_days, int) or not 0 <= notice_days <= NOTICE_DAYS_MAX:
        errors["notice_days"] = ValidationError(
            _("O aviso deve ter de 0 a %(max)s dias.") % {"max": NOTICE_DAYS_MAX}, code="invalid_notice"
        )
    if errors:
        raise ValidationError(errors)


def price_change_preview(
    *, plan: Plan, amount: int, notice_days: int = NOTICE_DAYS_DEFAULT, now: dt.datetime | None = None
) -> PriceChangePreview:
    """What `plan_price_change_apply(migrate=True)` would do now, computed by the same functions; writes
    nothing."""
    now = now or timezone.now()
    _check(amount=amount, notice_days=notice_days)
    notice_ends_at = now + dt.timedelta(days=notice_days)
    tz = plan.merchant.tzinfo
    count = ending = live = 0
    first = None
    old_active, new_active = [], []
    for chunk in _rows(plan):
        for row in chunk:
            live += 1
            notice = _notice(
                row,
                plan=plan,
                old_plan_price=plan.price,
                new_amount=amount,
                notice_ends_at=notice_ends_at,
                tz=tz,
            )
            if notice is None:
                # Ends before the new price reaches it: it stays in the MRR at its price, before and after.
                ending += 1
                if row.status == S.ACTIVE:
                    old_active.append(row.amount)
                    new_active.append(row.amount)
                continue
            count += 1
            if notice.effective_at is not None and (first is None or notice.effective_at < first):
                first = notice.effective_at
            if row.status == S.ACTIVE:
                old_active.append(row.amount)
                new_active.append(notice.new_amount)
    unit, every = plan.interval_unit, plan.interval_count
    return PriceChangePreview(
        currency=plan.currency,
        old_amount=plan.price,
        new_amount=amount,
        count=count,
        grandfathered=live,
        old_mrr=monthly_recurring(old_active, unit=unit, count=every),
        new_mrr=monthly_recurring(new_active, unit=unit, count=every),
        notice_ends_at=notice_ends_at,
        first_renewal_at=first,
        ending_before=ending,
    )


@transaction.atomic
def plan_price_change_apply(
    *,
    plan: Plan,
    amount: int,
    migrate: bool,
    actor,
    notice_days: int = NOTICE_DAYS_DEFAULT,
    now: dt.datetime | None = None,
) -> tuple:
    """Alterar preço: `amount` becomes the plan's price version for new subscriptions from now
    (`plan.price_changed`). With `migrate`, every subscription of the plan that still renews also gets
    it from its first renewal after a notice of `notice_days` days: a notice each (with its e-mail, from
    `subscription.price_change_scheduled`), the renewals inside the notice at the old price. A
    subscription that ends before then is not notified and never charged the new price.

    Returns (the new PlanPrice, how many subscriptions were notified)."""
    now = now or timezone.now()
    _check(amount=amount, notice_days=notice_days)
    notice_ends_at = now + dt.timedelta(days=notice_days) if migrate else None
    old_plan_price = plan.price
    version, _old = plan_price_change(
        plan=plan,
        amount=amount,
        now=now,
        existing="migrated" if migrate else "grandfathered",
        notice_ends_at=notice_ends_at,
    )
    if not migrate:
        return version, 0
    plan = version.plan
    tz = plan.merchant.tzinfo
    notified = 0
    for chunk in _rows(plan):
        rows = [
            notice
            for row in chunk
            if (
                notice := _notice(
                    row,
                    plan=plan,
                    old_plan_price=old_plan_price,
                    new_amount=amount,
                    notice_ends_at=notice_ends_at,
                    tz=tz,
                )
            )
        ]
        notified += subscriptions_schedule_price_change(
            merchant_id=plan.merchant_id,
            new_price=version,
            rows=rows,
            notice_ends_at=notice_ends_at,
            actor=actor,
            now=now,
        )
    return version, notified
