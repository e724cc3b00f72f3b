import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from dashboard.periods import DEFAULT_PRESET, MAX_CUSTOM_DAYS, Period, Preset, preset_period


def _date_input():
    # type=date inputs send and expect ISO dates whatever the page's language (as the list filters do).
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeriodForm(forms.Form):
    """The Painel's period selector, read from GET so a chosen period can be bookmarked and shared.

    `?period=last_90`, or `?period=custom&start=2026-01-01&end=2026-03-31` (dates as YYYY-MM-DD; start and
    end alone also mean a custom range)."""

    period = forms.ChoiceField(label=_("Período"), choices=Preset.choices, required=False)
    start = forms.DateField(label=_("De"), required=False, widget=_date_input(), input_formats=["%Y-%m-%d"])
    end = forms.DateField(label=_("Até"), required=False, widget=_date_input(), input_formats=["%Y-%m-%d"])

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        preset = cleaned.get("period") or (Preset.CUSTOM if start or end else DEFAULT_PRESET)
        cleaned["period"] = preset
        if preset != Preset.CUSTOM or self.errors:
            return cleaned
        if not start or not end:
            raise forms.ValidationError(
                _("Informe as duas datas do período personalizado."), code="custom_needs_dates"
            )
        if end < start:
            raise forms.ValidationError(_("A data final vem antes da inicial."), code="end_before_start")
        if (end - start).days + 1 > MAX_CUSTOM_DAYS:
            raise forms.ValidationError(
                _("Escolha um período de até %(days)s dias.") % {"days": MAX_CUSTOM_DAYS}, code="too_long"
            )
        return cleaned

    def get_period(self, *, today: dt.date) -> Period:
        """The chosen period; the default one ("este mês") when nothing, or something invalid, was sent."""
        if not self.is_bound or not self.is_valid():
            return preset_period(DEFAULT_PRESET, today=today)
        preset = self.cleaned_data["period"]
        if preset == Preset.CUSTOM:
            return Period(self.cleaned_data["start"], self.cleaned_data["end"], Preset.CUSTOM)
        return preset_period(preset, today=today)
