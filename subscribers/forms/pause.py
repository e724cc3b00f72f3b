"""Pausar and Retomar (docs/pause.md): when, until when, and how the resume bills."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import ObjectActionForm, reason_field
from subscribers.choices import PauseWhen, ResumeMode
from subscribers.forms.fields import ServiceErrorsMixin, optional_date_field


class PauseForm(ServiceErrorsMixin, ObjectActionForm):
    """Pausar: now, at the end of the period or on a date; resumed by hand or on a date, in a mode."""

    when = forms.ChoiceField(
        label=_("Quando pausar"),
        choices=PauseWhen.choices,
        initial=PauseWhen.NOW,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha quando pausar.")},
    )
    at_date = optional_date_field(_("Data da pausa"), _("Somente para “Em uma data escolhida”."))
    resume_on = optional_date_field(
        _("Retomar em (opcional)"), _("Vazio: a assinatura fica pausada até ser retomada manualmente.")
    )
    resume_mode = forms.ChoiceField(
        label=_("Ao retomar na data"),
        choices=ResumeMode.choices,
        initial=ResumeMode.CONTINUE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha como retomar.")},
    )
    reason = reason_field(rows=2)


class ResumeForm(ServiceErrorsMixin, ObjectActionForm):
    """Retomar: now or on a date, starting a new period or continuing the cycle (previewed)."""

    mode = forms.ChoiceField(
        label=_("Como retomar"),
        choices=ResumeMode.choices,
        initial=ResumeMode.CONTINUE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha como retomar.")},
    )
    at_date = optional_date_field(_("Retomar em (opcional)"), _("Vazio: retoma agora."))
