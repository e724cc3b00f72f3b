from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import MoneyField
from plans.choices import PRESET_INTERVALS, IntervalPreset, IntervalUnit
from plans.models import Plan


class PlanForm(forms.ModelForm):
    """Create / edit a plan. The interval is picked from presets; "Personalizado" asks for "a cada N unidade".

    Field checks (required, numbers, ranges) live here; the plan-wide rules (minimum price per currency)
    live in `Plan.clean`, which Django's ModelForm validation and the services both run.
    """

    price = MoneyField(
        label=_("Preço"),
        min_value=Decimal("0"),
        help_text=_("Valor cobrado a cada intervalo, por exemplo 49,90."),
        error_messages={
            "required": _("Informe o preço do plano."),
            "min_value": _("O preço não pode ser negativo."),
        },
    )
    interval_preset = forms.ChoiceField(
        label=_("Intervalo de cobrança"),
        choices=IntervalPreset.choices,
        initial=IntervalPreset.MONTHLY,
        error_messages={"required": _("Escolha o intervalo de cobrança.")},
    )
    interval_count = forms.IntegerField(
        label=_("A cada"),
        required=False,
        min_value=1,
        max_value=365,
        help_text=_("Somente para o intervalo personalizado."),
        error_messages={
            "min_value": _("O intervalo deve ser de pelo menos 1."),
            "max_value": _("O intervalo pode ser de no máximo 365."),
            "invalid": _("Informe um número inteiro."),
        },
    )
    interval_unit = forms.ChoiceField(
        label=_("Unidade"),
        required=False,
        choices=[("", "---------"), *IntervalUnit.choices],
    )
    trial_days = forms.IntegerField(
        label=_("Dias de teste"),
        min_value=0,
        max_value=365,
        initial=0,
        help_text=_("0 para cobrar desde o primeiro dia."),
        error_messages={
            "required": _("Informe os dias de teste (0 para nenhum)."),
            "min_value": _("Os dias de teste não podem ser negativos."),
            "max_value": _("O período de teste pode ter no máximo 365 dias."),
            "invalid": _("Informe um número inteiro de dias."),
        },
    )
    installments = forms.IntegerField(
        label=_("Número de parcelas"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Deixe vazio para cobrar até a assinatura ser cancelada."),
        error_messages={
            "min_value": _(
                "O número de parcelas deve ser pelo menos 1. Deixe vazio para cobrar até o cancelamento."
            ),
            "max_value": _("O número de parcelas pode ser no máximo 120."),
            "invalid": _("Informe um número inteiro de parcelas."),
        },
    )

    class Meta:
        model = Plan
        fields = [
            "name",
            "description",
            "price",
            "currency",
            "interval_count",
            "interval_unit",
            "trial_days",
            "installments",
            "is_active",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "name": {"required": _("Informe o nome do plano.")},
            "currency": {"required": _("Escolha a moeda do plano.")},
        }

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["interval_preset"].initial = self.instance.interval_preset
        elif merchant is not None:
            self.fields["currency"].initial = merchant.currency
        # The preset select comes right after the price, before the custom "a cada N" pair.
        self.order_fields(["name", "description", "price", "currency", "interval_preset"])

    def clean(self):
        cleaned_data = super().clean()
        preset = cleaned_data.get("interval_preset")
        if preset == IntervalPreset.CUSTOM:
            if cleaned_data.get("interval_count") is None and "interval_count" not in self.errors:
                self.add_error(
                    "interval_count", _("Informe a cada quantos dias, semanas, meses ou anos o plano cobra.")
                )
            if not cleaned_data.get("interval_unit"):
                self.add_error("interval_unit", _("Escolha a unidade do intervalo personalizado."))
        elif preset:
            unit, count = PRESET_INTERVALS[IntervalPreset(preset)]
            cleaned_data["interval_unit"] = unit.value
            cleaned_data["interval_count"] = count
            # A stale custom value must not block a preset that does not use it.
            for name in ("interval_count", "interval_unit"):
                self.errors.pop(name, None)
        return cleaned_data

    def plan_fields(self) -> dict:
        """The cleaned values as the plan services take them (the preset is resolved to unit + count)."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}
