"""Reads for the catalog screens."""

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)

from plans.choices import PRESET_INTERVALS, CouponStatus, IntervalPreset, IntervalUnit, PlanStatus
from plans.models import CheckoutLink, Coupon, Plan, TaxRate, coupon_expired_q

# Rough length of one interval unit in days: only used to sort plans by how often they charge.
_APPROXIMATE_DAYS = {
    IntervalUnit.DAY: 1,
    IntervalUnit.WEEK: 7,
    IntervalUnit.MONTH: 30,
    IntervalUnit.YEAR: 365,
}


def plan_list_queryset() -> QuerySet[Plan]:
    """Plans with the annotations the list sorts on (interval length, archived flag); views scope it."""
    return Plan.objects.annotate(
        interval_days=Case(
            *(
                When(interval_unit=unit, then=F("interval_count") * Value(days))
                for unit, days in _APPROXIMATE_DAYS.items()
            ),
            default=F("interval_count"),
            output_field=IntegerField(),
        ),
        archived=ExpressionWrapper(Q(archived_at__isnull=False), output_field=BooleanField()),
    )


def interval_preset_q(preset: str) -> Q:
    """The condition matching plans whose interval is `preset`; "custom" is every other combination."""
    if preset == IntervalPreset.CUSTOM:
        q = Q()
        for unit, count in PRESET_INTERVALS.values():
            q &= ~Q(interval_unit=unit, interval_count=count)
        return q
    unit, count = PRESET_INTERVALS[IntervalPreset(preset)]
    return Q(interval_unit=unit, interval_count=count)


def plan_status_q(status: str | None) -> Q:
    """The condition for a status filter; no status means "not archived" (archived plans stay hidden)."""
    if status == PlanStatus.ACTIVE:
        return Q(archived_at__isnull=True, is_active=True)
    if status == PlanStatus.INACTIVE:
        return Q(archived_at__isnull=True, is_active=False)
    if status == PlanStatus.ARCHIVED:
        return Q(archived_at__isnull=False)
    return Q(archived_at__isnull=True)


# A coupon's status is derived (active flag + expiry), never stored; the list filters and shows it.
# The values and labels are plans.choices.CouponStatus (with its badge colours).
COUPON_ACTIVE = CouponStatus.ACTIVE
COUPON_INACTIVE = CouponStatus.INACTIVE
COUPON_EXPIRED = CouponStatus.EXPIRED
COUPON_STATUS_LABELS = dict(CouponStatus.choices)


def coupon_list_queryset() -> QuerySet[Coupon]:
    """Coupons with `redemptions`, the number of subscriptions using each one (one query for a page)."""
    return Coupon.objects.with_redemptions()


def coupon_status(coupon: Coupon, *, now) -> str:
    """Expired wins over the active flag: an expired coupon cannot be redeemed either way (whether it can
    be redeemed, usage included, is Coupon.redemption_refusal)."""
    if coupon.is_expired(now=now):
        return COUPON_EXPIRED
    return COUPON_ACTIVE if coupon.is_active else COUPON_INACTIVE


def coupon_status_q(status: str, *, now) -> Q:
    """The condition for the coupon status filter, matching `coupon_status`."""
    expired = coupon_expired_q(now=now)
    if status == COUPON_ACTIVE:
        return Q(is_active=True) & ~expired
    if status == COUPON_INACTIVE:
        return Q(is_active=False) & ~expired
    if status == COUPON_EXPIRED:
        return expired
    return Q()


def tax_rate_list_queryset() -> QuerySet[TaxRate]:
    """Tax rates with `subscription_count`, how many subscriptions carry each one."""
    return TaxRate.objects.annotate(subscription_count=Count("subscriptions"))


def checkout_link_list_queryset() -> QuerySet[CheckoutLink]:
    """Checkout links with their plan and coupon (the list shows both): one query per page."""
    return CheckoutLink.objects.select_related("plan", "coupon")
