"""Reads for the catalog screens."""

from django.db.models import BooleanField, Case, ExpressionWrapper, F, IntegerField, Q, QuerySet, Value, When

from plans.choices import PRESET_INTERVALS, IntervalPreset, IntervalUnit, PlanStatus
from plans.models import Plan

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
