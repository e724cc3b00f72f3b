"""Billing-period arithmetic: the one place that adds intervals to dates.

Periods are always counted from the billing-cycle anchor, never chained from the previous period, so
the day of month is clamped per period and comes back: 31/01 → 28/02 (29/02) → 31/03.
"""

import calendar
import datetime as dt

from plans.choices import IntervalUnit


def add_months(value, months: int):
    """`value` (date or datetime) plus `months` calendar months, the day clamped to the month's end."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def add_interval(anchor, unit: str, count: int, periods: int = 1):
    """The boundary `periods` intervals of `count` `unit`s after `anchor`."""
    steps = count * periods
    if unit == IntervalUnit.DAY:
        return anchor + dt.timedelta(days=steps)
    if unit == IntervalUnit.WEEK:
        return anchor + dt.timedelta(weeks=steps)
    if unit == IntervalUnit.MONTH:
        return add_months(anchor, steps)
    if unit == IntervalUnit.YEAR:
        return add_months(anchor, 12 * steps)
    raise ValueError(f"Unknown interval unit: {unit!r}")


def period_containing(anchor, unit: str, count: int, moment, *, tz=None):
    """(start, end) of the period that contains `moment`, counted from `anchor` (moment >= anchor).

    Pass the merchant's timezone as `tz`: "day of month" is a local notion, and an anchor read back from
    the database is in UTC, where 30/01 22:00 in São Paulo is already 31/01.
    """
    if tz is not None:
        anchor, moment = anchor.astimezone(tz), moment.astimezone(tz)
    if moment < anchor:
        raise ValueError(f"{moment!r} is before the anchor {anchor!r}: no period contains it.")
    index = 0
    if unit in (IntervalUnit.MONTH, IntervalUnit.YEAR):
        months_per = count * (12 if unit == IntervalUnit.YEAR else 1)
        index = max(((moment.year - anchor.year) * 12 + moment.month - anchor.month) // months_per - 1, 0)
    else:
        days = count * (7 if unit == IntervalUnit.WEEK else 1)
        index = max((moment - anchor).days // days - 1, 0)
    start = add_interval(anchor, unit, count, index)
    while True:
        end = add_interval(anchor, unit, count, index + 1)
        if moment < end:
            return start, end
        index, start = index + 1, end
