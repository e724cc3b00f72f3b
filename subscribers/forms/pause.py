"""Pausar and Retomar (docs/pause.md): when, until when, and how the resume bills."""

from django import forms
from django.utils.translation import gettext_lazy as _

from subscribers.choices import PauseWhen, ResumeMode
from subscribers.forms.fields import ServiceErrorsMixin, date_input

_INVALID_DATE = {"invalid": _("Informe uma data válida.")}


class PauseForm(ServiceErrorsMixin, forms.Form):
    """Pausar: now, at the end of the period or on a date; resumed by hand or on a date, in a mode."""

    when = forms.ChoiceField(
        label=_("Quando pausar"),
        choices=PauseWhen.choices,
        initial=PauseWhen.NOW,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha quando pausar.")},
    )
    at_date = forms.DateField(
        label=_("Data da pausa"),
        required=False,
        widget=date_input(),
        help_text=_("Somente para “Em uma data escolhida”."),
        error_messages=_INVALID_DATE,
    )
    resume_on = forms.DateField(
        label=_("Retomar em (opcional)"),
        required=False,
        widget=date_input(),
        help_text=_("Vazio: a assinatura fica pausada até ser retomada manualmente."),
        error_messages=_INVALID_DATE,
    )
    resume_mode = forms.ChoiceField(
        label=_("Ao retomar na data"),
        choices=ResumeMode.choices,
        initial=ResumeMode.CONTINUE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha como retomar.")},
    )
    reason = forms.CharField(
        label=_("Motivo"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        self.merchant = merchant
        self.instance = instance
        super().__init__(*args, **kwargs)


class ResumeForm(ServiceErrorsMixin, forms.Form):
    """Retomar: now or on a date, starting a new period or continuing the cycle (previewed)."""

    mode = forms.ChoiceField(
        label=_("Como retomar"),
        choices=ResumeMode.choices,
        initial=ResumeMode.CONTINUE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha como retomar.")},
    )
    at_date = forms.DateField(
        label=_("Retomar em (opcional)"),
        required=False,
        widget=date_input(),
        help_text=_("Vazio: retoma agora."),
        error_messages=_INVALID_DATE,
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        self.merchant = merchant
        self.instance = instance
        super().__init__(*args, **kwargs)
