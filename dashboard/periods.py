"""The Painel's periods: presets and custom ranges of whole days on the merchant's clock, and the previous
equal period each one is compared with.

A period is a closed range of dates [start, end]; as instants it is [start_of_day(start),
start_of_day(end + 1 day)) in the merchant's time zone, the same half-open range the list filters
("Desativada de/até", "De/Até") use, so a number and the list it links to count the same rows.
"""

import calendar
import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from plans.periods import add_months

# A custom range longer than this is refused: the charts and the comparison stop being useful and the
# queries stop being cheap.
MAX_CUSTOM_DAYS = 366 * 5


class Preset(models.TextChoices):
    THIS_MONTH = "this_month", _("Este mês")
    LAST_MONTH = "last_month", _("Mês passado")
    LAST_30 = "last_30", _("Últimos 30 dias")
    LAST_90 = "last_90", _("Últimos 90 dias")
    THIS_YEAR = "this_year", _("Este ano")
    CUSTOM = "custom", _("Personalizado")


DEFAULT_PRESET = Preset.THIS_MONTH


@dataclass(frozen=True)
class Period:
    """Whole days [start, end], both included, on the merchant's clock."""

    start: dt.date
    end: dt.date
    preset: str = Preset.CUSTOM

    def __post_init__(self):
        if self.end < self.start:
            raise ValueError(f"Period ends ({self.end}) before it starts ({self.start}).")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def previous(self) -> "Period":
        """The period this one is compared with.

        Calendar presets look one month (or year) back over the same days: "este mês" up to the 21st is
        compared with the 1st–21st of last month (clamped to that month's end), "mês passado" with the
        whole month before it, "este ano" with the same days of last year. Rolling presets and custom
        ranges are compared with the same number of days immediately before.
        """
        if self.preset == Preset.THIS_MONTH:
            start = add_months(self.start, -1)
            last_day = calendar.monthrange(start.year, start.month)[1]
            end = start.replace(day=min(self.end.day, last_day))
            return Period(start, end, self.preset)
        if self.preset == Preset.LAST_MONTH:
            start = add_months(self.start, -1)
            return Period(start, month_end(start), self.preset)
        if self.preset == Preset.THIS_YEAR:
            return Period(add_months(self.start, -12), add_months(self.end, -12), self.preset)
        end = self.start - dt.timedelta(days=1)
        return Period(end - dt.timedelta(days=self.days - 1), end, self.preset)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def preset_period(preset: str, *, today: dt.date) -> Period:
    """The dates a preset covers, given today's date on the merchant's clock (up to today, inclusive)."""
    if preset == Preset.THIS_MONTH:
        return Period(today.replace(day=1), today, preset)
    if preset == Preset.LAST_MONTH:
        start = add_months(today.replace(day=1), -1)
        return Period(start, month_end(start), preset)
    if preset == Preset.LAST_30:
        return Period(today - dt.timedelta(days=29), today, preset)
    if preset == Preset.LAST_90:
        return Period(today - dt.timedelta(days=89), today, preset)
    if preset == Preset.THIS_YEAR:
        return Period(today.replace(month=1, day=1), today, preset)
    raise ValueError(f"Not a preset with fixed dates: {preset!r}")


def month_starts(*, today: dt.date, count: int = 12) -> list[dt.date]:
    """The first day of each of the last `count` months, the current one last."""
    first = today.replace(day=1)
    return [add_months(first, -offset) for offset in range(count - 1, -1, -1)]
