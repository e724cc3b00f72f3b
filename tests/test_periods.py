"""plans.periods: month arithmetic clamped to the month's end, always counted from the anchor."""

import datetime as dt
import zoneinfo

import pytest

from plans.choices import IntervalUnit
from plans.periods import add_interval, add_months, period_containing

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
UTC = dt.UTC


def local(*args, tz=SAO_PAULO):
    return dt.datetime(*args, tzinfo=tz)


# --- add_months --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("months", "expected"),
    [
        (0, dt.date(2027, 1, 31)),
        (1, dt.date(2027, 2, 28)),
        (2, dt.date(2027, 3, 31)),
        (3, dt.date(2027, 4, 30)),
        (4, dt.date(2027, 5, 31)),
        (11, dt.date(2027, 12, 31)),
        (12, dt.date(2028, 1, 31)),
        (13, dt.date(2028, 2, 29)),
        (25, dt.date(2029, 2, 28)),
    ],
)
def test_add_months_clamps_the_day_to_the_end_of_the_target_month(months, expected):
    assert add_months(dt.date(2027, 1, 31), months) == expected


def test_add_months_clamps_31_january_to_29_february_in_a_leap_year():
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2028, 1, 30), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2028, 1, 29), 1) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2028, 1, 28), 1) == dt.date(2028, 2, 28)


def test_add_months_follows_the_gregorian_century_rule():
    assert add_months(dt.date(2100, 1, 31), 1) == dt.date(2100, 2, 28)  # 2100 is not a leap year
    assert add_months(dt.date(2000, 1, 31), 1) == dt.date(2000, 2, 29)  # 2000 is


def test_add_months_rolls_over_the_year():
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)
    assert add_months(dt.date(2027, 12, 15), 1) == dt.date(2028, 1, 15)


def test_add_months_goes_backwards_with_negative_months():
    assert add_months(dt.date(2027, 3, 31), -1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 1, 15), -1) == dt.date(2026, 12, 15)
    assert add_months(dt.date(2028, 3, 31), -13) == dt.date(2027, 2, 28)


def test_add_months_keeps_the_time_of_day_and_the_timezone_of_a_datetime():
    result = add_months(local(2027, 1, 31, 22, 30), 1)

    assert result == local(2027, 2, 28, 22, 30)
    assert result.tzinfo is SAO_PAULO


def test_chaining_add_months_drifts_which_is_why_periods_count_from_the_anchor():
    anchor = dt.date(2027, 1, 31)

    chained = add_months(add_months(anchor, 1), 1)

    assert chained == dt.date(2027, 3, 28)
    assert add_months(anchor, 2) == dt.date(2027, 3, 31)


# --- add_interval ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "count", "periods", "expected"),
    [
        (IntervalUnit.DAY, 1, 1, local(2027, 2, 1, 10)),
        (IntervalUnit.DAY, 10, 3, local(2027, 3, 2, 10)),
        (IntervalUnit.WEEK, 1, 1, local(2027, 2, 7, 10)),
        (IntervalUnit.WEEK, 2, 2, local(2027, 2, 28, 10)),
        (IntervalUnit.MONTH, 1, 1, local(2027, 2, 28, 10)),
        (IntervalUnit.MONTH, 1, 3, local(2027, 4, 30, 10)),
        (IntervalUnit.MONTH, 3, 1, local(2027, 4, 30, 10)),
        (IntervalUnit.MONTH, 6, 2, local(2028, 1, 31, 10)),
        (IntervalUnit.YEAR, 1, 1, local(2028, 1, 31, 10)),
        (IntervalUnit.YEAR, 2, 3, local(2033, 1, 31, 10)),
        (IntervalUnit.MONTH, 1, 0, local(2027, 1, 31, 10)),
    ],
)
def test_add_interval_steps_whole_intervals_from_the_anchor(unit, count, periods, expected):
    assert add_interval(local(2027, 1, 31, 10), unit, count, periods) == expected


def test_add_interval_yearly_from_29_february_clamps_and_comes_back_in_leap_years():
    anchor = dt.date(2028, 2, 29)

    assert add_interval(anchor, IntervalUnit.YEAR, 1, 1) == dt.date(2029, 2, 28)
    assert add_interval(anchor, IntervalUnit.YEAR, 1, 3) == dt.date(2031, 2, 28)
    assert add_interval(anchor, IntervalUnit.YEAR, 1, 4) == dt.date(2032, 2, 29)


def test_add_interval_counts_days_across_29_february():
    assert add_interval(dt.date(2028, 2, 28), IntervalUnit.DAY, 1, 2) == dt.date(2028, 3, 1)
    assert add_interval(dt.date(2027, 2, 28), IntervalUnit.DAY, 1, 2) == dt.date(2027, 3, 2)


def test_add_interval_refuses_an_unknown_unit():
    with pytest.raises(ValueError, match="fortnight"):
        add_interval(dt.date(2027, 1, 1), "fortnight", 1)


# --- period_containing -------------------------------------------------------------------------------
MONTHLY_FROM_31_JANUARY = [
    # moment → (start, end): each boundary is anchor + k months, clamped, never chained.
    (local(2027, 1, 31), (local(2027, 1, 31), local(2027, 2, 28))),
    (local(2027, 2, 15, 12), (local(2027, 1, 31), local(2027, 2, 28))),
    (local(2027, 2, 27, 23, 59, 59), (local(2027, 1, 31), local(2027, 2, 28))),
    (local(2027, 2, 28), (local(2027, 2, 28), local(2027, 3, 31))),
    (local(2027, 3, 30, 23, 59), (local(2027, 2, 28), local(2027, 3, 31))),
    (local(2027, 3, 31), (local(2027, 3, 31), local(2027, 4, 30))),
    (local(2027, 4, 30), (local(2027, 4, 30), local(2027, 5, 31))),
    (local(2027, 12, 31, 8), (local(2027, 12, 31), local(2028, 1, 31))),
    (local(2028, 2, 28), (local(2028, 1, 31), local(2028, 2, 29))),
    (local(2028, 2, 29, 1), (local(2028, 2, 29), local(2028, 3, 31))),
    (local(2030, 2, 15), (local(2030, 1, 31), local(2030, 2, 28))),
]


@pytest.mark.parametrize(("moment", "expected"), MONTHLY_FROM_31_JANUARY)
def test_period_containing_a_moment_of_a_monthly_plan_anchored_on_31_january(moment, expected):
    assert period_containing(local(2027, 1, 31), IntervalUnit.MONTH, 1, moment) == expected


@pytest.mark.parametrize(
    ("unit", "count", "moment", "expected"),
    [
        (IntervalUnit.MONTH, 3, local(2027, 5, 1), (local(2027, 4, 30), local(2027, 7, 31))),
        (IntervalUnit.MONTH, 6, local(2027, 7, 31), (local(2027, 7, 31), local(2028, 1, 31))),
        (IntervalUnit.YEAR, 1, local(2029, 1, 30), (local(2028, 1, 31), local(2029, 1, 31))),
        (IntervalUnit.WEEK, 1, local(2027, 2, 14), (local(2027, 2, 14), local(2027, 2, 21))),
        (IntervalUnit.WEEK, 2, local(2027, 2, 14), (local(2027, 2, 14), local(2027, 2, 28))),
        (IntervalUnit.DAY, 10, local(2027, 2, 20, 9), (local(2027, 2, 20), local(2027, 3, 2))),
        (IntervalUnit.DAY, 1, local(2027, 3, 1, 23), (local(2027, 3, 1), local(2027, 3, 2))),
    ],
)
def test_period_containing_works_for_every_interval_unit(unit, count, moment, expected):
    assert period_containing(local(2027, 1, 31), unit, count, moment) == expected


def test_period_containing_yearly_from_29_february_comes_back_to_29_february():
    anchor = local(2028, 2, 29)

    assert period_containing(anchor, IntervalUnit.YEAR, 1, local(2029, 3, 1)) == (
        local(2029, 2, 28),
        local(2030, 2, 28),
    )
    assert period_containing(anchor, IntervalUnit.YEAR, 1, local(2032, 2, 28, 23)) == (
        local(2031, 2, 28),
        local(2032, 2, 29),
    )


@pytest.mark.parametrize(
    ("unit", "count"),
    [
        (IntervalUnit.DAY, 1),
        (IntervalUnit.DAY, 15),
        (IntervalUnit.WEEK, 1),
        (IntervalUnit.WEEK, 3),
        (IntervalUnit.MONTH, 1),
        (IntervalUnit.MONTH, 2),
        (IntervalUnit.MONTH, 3),
        (IntervalUnit.YEAR, 1),
    ],
)
def test_period_containing_always_returns_consecutive_anchor_boundaries_around_the_moment(unit, count):
    anchor = local(2027, 1, 31, 13, 45)
    boundaries = [add_interval(anchor, unit, count, k) for k in range(1200)]
    next_boundary = dict(zip(boundaries, boundaries[1:], strict=False))
    moment = anchor
    while moment < local(2030, 3, 1):
        start, end = period_containing(anchor, unit, count, moment)

        assert start <= moment < end
        assert next_boundary[start] == end
        moment += dt.timedelta(hours=37, minutes=11)


def test_period_containing_does_the_calendar_arithmetic_in_the_given_timezone():
    # 30/01 22:30 in São Paulo is already 31/01 in UTC: the period must end on 28/02 local, not 27/02.
    anchor_from_database = local(2027, 1, 30, 22, 30).astimezone(UTC)

    start, end = period_containing(
        anchor_from_database, IntervalUnit.MONTH, 1, anchor_from_database, tz=SAO_PAULO
    )

    assert start == local(2027, 1, 30, 22, 30)
    assert end == local(2027, 2, 28, 22, 30)
    assert end.tzinfo is SAO_PAULO


def test_period_containing_from_a_tokyo_midnight_anchor_clamps_in_tokyo():
    anchor_from_database = local(2027, 1, 31, tz=TOKYO).astimezone(UTC)  # 30/01 15:00 UTC

    _, end = period_containing(anchor_from_database, IntervalUnit.MONTH, 1, anchor_from_database, tz=TOKYO)

    assert end == local(2027, 2, 28, tz=TOKYO)


def test_period_containing_refuses_a_moment_before_the_anchor():
    with pytest.raises(ValueError, match="before the anchor"):
        period_containing(local(2027, 1, 31), IntervalUnit.MONTH, 1, local(2027, 1, 30, 23))
