from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import BillingSettings
from core.forms import IntegerField

SETTINGS_FIELDS = [
    "retries",
    "retry_interval_hours",
    "final_action",
    "boleto_pix_expiry_days",
    "sandbox_disconnected",
    "backdate_max_periods",
    "backdate_max_days",
]


class BillingSettingsForm(forms.ModelForm):
    """Configurações > Cobrança: the dunning policy and the sandbox's "gateway desconectado" switch.

    Ranges come from the model's validators; the messages (matched by code) say them in the user's words.
    """

    class Meta:
        model = BillingSettings
        fields = SETTINGS_FIELDS
        # Every number of the policy is typed in ASCII digits only (core.forms.IntegerField).
        field_classes = {
            name: IntegerField
            for name in (
                "retries",
                "retry_interval_hours",
                "boleto_pix_expiry_days",
                "backdate_max_periods",
                "backdate_max_days",
            )
        }
        error_messages = {
            "retries": {
                "required": _("Informe quantas novas tentativas fazer (0 para nenhuma)."),
                "max_value": _("São no máximo 10 novas tentativas."),
                "min_value": _("O número de tentativas não pode ser negativo."),
                "invalid": _("Informe um número inteiro."),
            },
            "retry_interval_hours": {
                "required": _("Informe o intervalo entre as tentativas, em horas."),
                "min_value": _("O intervalo deve ser de pelo menos 1 hora."),
                "max_value": _("O intervalo pode ser de no máximo 336 horas (14 dias)."),
                "invalid": _("Informe um número inteiro de horas."),
            },
            "boleto_pix_expiry_days": {
                "required": _("Informe a validade de boleto e pix, em dias."),
                "min_value": _("A validade deve ser de pelo menos 1 dia."),
                "max_value": _("A validade pode ser de no máximo 60 dias."),
                "invalid": _("Informe um número inteiro de dias."),
            },
            "backdate_max_periods": {
                "required": _("Informe quantos períodos uma contratação pode retroagir (0 para nenhum)."),
                "max_value": _("Uma contratação pode retroagir no máximo 12 períodos."),
                "min_value": _("O número de períodos não pode ser negativo."),
                "invalid": _("Informe um número inteiro de períodos."),
            },
            "backdate_max_days": {
                "required": _("Informe quantos dias uma contratação pode retroagir (0 para nenhum)."),
                "max_value": _("Uma contratação pode retroagir no máximo 366 dias."),
                "min_value": _("O número de dias não pode ser negativo."),
                "invalid": _("Informe um número inteiro de dias."),
            },
            "final_action": {"required": _("Escolha o que fazer quando as tentativas acabarem.")},
        }

    def __init__(self, *args, merchant=None, **kwargs):
        super().__init__(*args, **kwargs)

    def settings_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in SETTINGS_FIELDS}


class RecordPaymentForm(forms.Form):
    """Registrar pagamento: an offline payment of the whole open amount, with an optional reference."""

    reference = forms.CharField(
        label=_("Referência"),
        required=False,
        max_length=100,
        help_text=_("Opcional: comprovante, id da transferência ou do PayPal."),
        error_messages={"max_length": _("A referência pode ter no máximo 100 caracteres.")},
    )
