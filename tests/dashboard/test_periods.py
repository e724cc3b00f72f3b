"""The period selector: each preset's days on the merchant's clock, the previous equal period, GET input."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.urls import reverse

from dashboard.forms import PeriodForm
from dashboard.periods import Period, Preset, month_starts, preset_period

D = dt.date


@pytest.mark.parametrize(
    ("preset", "today", "period", "previous"),
    [
        (Preset.THIS_MONTH, D(2026, 3, 15), (D(2026, 3, 1), D(2026, 3, 15)), (D(2026, 2, 1), D(2026, 2, 15))),
        # The 31st compared with a 28-day February: the whole of February.
        (Preset.THIS_MONTH, D(2026, 3, 31), (D(2026, 3, 1), D(2026, 3, 31)), (D(2026, 2, 1), D(2026, 2, 28))),
        (
            Preset.THIS_MONTH,
            D(2026, 1, 10),
            (D(2026, 1, 1), D(2026, 1, 10)),
            (D(2025, 12, 1), D(2025, 12, 10)),
        ),
        (Preset.LAST_MONTH, D(2026, 3, 15), (D(2026, 2, 1), D(2026, 2, 28)), (D(2026, 1, 1), D(2026, 1, 31))),
        (
            Preset.LAST_MONTH,
            D(2026, 1, 5),
            (D(2025, 12, 1), D(2025, 12, 31)),
            (D(2025, 11, 1), D(2025, 11, 30)),
        ),
        (Preset.LAST_30, D(2026, 3, 15), (D(2026, 2, 14), D(2026, 3, 15)), (D(2026, 1, 15), D(2026, 2, 13))),
        (
            Preset.LAST_90,
            D(2026, 3, 15),
            (D(2025, 12, 16), D(2026, 3, 15)),
            (D(2025, 9, 17), D(2025, 12, 15)),
        ),
        (Preset.THIS_YEAR, D(2026, 3, 15), (D(2026, 1, 1), D(2026, 3, 15)), (D(2025, 1, 1), D(2025, 3, 15))),
        # 29/02 of a leap year compared with 28/02 of the year before.
        (Preset.THIS_YEAR, D(2028, 2, 29), (D(2028, 1, 1), D(2028, 2, 29)), (D(2027, 1, 1), D(2027, 2, 28))),
    ],
)
def test_each_preset_and_its_previous_equal_period(preset, today, period, previous):
    chosen = preset_period(preset, today=today)
    assert (chosen.start, chosen.end) == period
    before = chosen.previous()
    assert (before.start, before.end) == previous


def test_rolling_and_custom_periods_compare_with_the_same_number_of_days_just_before():
    custom = Period(D(2026, 1, 10), D(2026, 1, 19))
    before = custom.previous()
    assert (before.start, before.end, before.days) == (D(2025, 12, 31), D(2026, 1, 9), 10)
    last_30 = preset_period(Preset.LAST_30, today=D(2026, 3, 15))
    assert last_30.days == last_30.previous().days == 30


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValueError):
        Period(D(2026, 1, 2), D(2026, 1, 1))


def test_month_starts_are_the_last_twelve_months():
    months = month_starts(today=D(2026, 3, 15))
    assert months[0] == D(2025, 4, 1) and months[-1] == D(2026, 3, 1) and len(months) == 12


# --- GET input -------------------------------------------------------------------------------------------
TODAY = D(2026, 3, 15)


def period_from(data, today=TODAY):
    return PeriodForm(data or None).get_period(today=today)


def test_no_parameters_means_this_month():
    assert period_from({}) == Period(D(2026, 3, 1), D(2026, 3, 15), Preset.THIS_MONTH)


def test_a_preset_ignores_the_dates_sent_with_it():
    data = {"period": "last_90", "start": "2020-01-01", "end": "2020-01-31"}
    assert period_from(data) == preset_period(Preset.LAST_90, today=D(2026, 3, 15))


def test_a_custom_range_is_taken_from_iso_dates():
    data = {"period": "custom", "start": "2026-01-01", "end": "2026-01-31"}
    assert period_from(data) == Period(D(2026, 1, 1), D(2026, 1, 31), Preset.CUSTOM)
    assert period_from({"start": "2026-01-01", "end": "2026-01-31"}).preset == Preset.CUSTOM


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"period": "custom", "start": "2026-01-01"}, "custom_needs_dates"),
        ({"period": "custom", "start": "2026-02-01", "end": "2026-01-01"}, "end_before_start"),
        ({"period": "custom", "start": "2010-01-01", "end": "2026-01-01"}, "too_long"),
    ],
)
def test_an_invalid_custom_range_is_refused_with_a_reason(data, code):
    form = PeriodForm(data)
    assert not form.is_valid()
    assert form.non_field_errors().as_data()[0].code == code
    assert form.get_period(today=D(2026, 3, 15)).preset == Preset.THIS_MONTH


def test_garbage_is_refused_and_this_month_shown(owner_client, merchant):
    response = owner_client.get(reverse("dashboard:index"), {"period": "forever", "start": "31/01/2026"})
    assert response.status_code == 200
    assert response.context["period"].preset == Preset.THIS_MONTH


# --- the merchant's clock --------------------------------------------------------------------------------
def test_presets_use_the_merchants_date_not_the_servers(owner_client, merchant, settings):
    settings.TIME_ZONE = "UTC"
    # 01/04 01:00 UTC is still 31/03 22:00 in São Paulo: "este mês" is March there.
    with time_machine.travel(dt.datetime(2026, 4, 1, 1, 0, tzinfo=dt.UTC), tick=False):
        response = owner_client.get(reverse("dashboard:index"), {"period": "this_month"})
    assert response.context["period"] == Period(D(2026, 3, 1), D(2026, 3, 31), Preset.THIS_MONTH)


def test_a_merchant_in_another_time_zone_gets_its_own_today(owner_client, merchant):
    merchant.timezone = "Asia/Tokyo"
    merchant.save()
    # 31/03 20:00 UTC is already 01/04 05:00 in Tokyo.
    with time_machine.travel(dt.datetime(2026, 3, 31, 20, 0, tzinfo=dt.UTC), tick=False):
        response = owner_client.get(reverse("dashboard:index"), {"period": "this_month"})
    assert response.context["period"] == Period(D(2026, 4, 1), D(2026, 4, 1), Preset.THIS_MONTH)
    assert zoneinfo.ZoneInfo("Asia/Tokyo") == merchant.tzinfo
