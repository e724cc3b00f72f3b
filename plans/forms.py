from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import IntegerField, MoneyField, PercentField
from core.percent import DISCOUNT_PERCENT, TAX_PERCENT
from plans.choices import PRESET_INTERVALS, CouponDuration, CouponKind, IntervalPreset, IntervalUnit
from plans.models import CheckoutLink, Coupon, Plan, TaxRate
from plans.services import coupon_code_errors, normalize_coupon_code


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
    interval_count = IntegerField(
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
    trial_days = IntegerField(
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
    installments = IntegerField(
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


class CouponForm(forms.ModelForm):
    """Create / edit a coupon. Checks single fields; the rules across fields and rows (value per kind,
    months per duration, unique code, terms fixed once used) live in `plans.services` and come back
    onto their fields through the view.
    """

    code = forms.CharField(
        label=_("Código"),
        max_length=40,
        help_text=_("O que o cliente digita. Letras sem acento, números e hífen; guardado em maiúsculas."),
        error_messages={
            "required": _("Informe o código do cupom."),
            "max_length": _("O código pode ter no máximo %(limit_value)d caracteres."),
        },
    )
    percent_off = PercentField(
        label=_("Desconto (%)"),
        required=False,
        percent_range=DISCOUNT_PERCENT,
        help_text=_("Por exemplo 15 ou 12,5."),
        error_messages={
            "max_decimal_places": _("Use no máximo 2 casas decimais."),
            "invalid": _("Informe um percentual, por exemplo 12,5."),
        },
    )
    amount_off = MoneyField(
        label=_("Desconto (valor)"),
        required=False,
        min_value=Decimal("0.01"),
        help_text=_("Valor abatido de cada cobrança com desconto, por exemplo 10,00."),
        error_messages={"min_value": _("O desconto deve ser de pelo menos R$ 0,01.")},
    )
    duration_in_months = IntegerField(
        label=_("Meses"),
        required=False,
        min_value=1,
        max_value=120,
        help_text=_("Somente para “Por N meses”."),
        error_messages={
            "min_value": _("Informe por quantos meses o desconto vale (pelo menos 1)."),
            "max_value": _("O desconto pode durar no máximo 120 meses."),
            "invalid": _("Informe um número inteiro de meses."),
        },
    )
    max_redemptions = IntegerField(
        label=_("Limite de usos"),
        required=False,
        min_value=1,
        help_text=_("Quantas assinaturas podem usar o cupom. Vazio: sem limite."),
        error_messages={
            "min_value": _("O limite de usos deve ser pelo menos 1. Deixe vazio para não limitar."),
            "invalid": _("Informe um número inteiro."),
        },
    )
    expires_at = forms.DateTimeField(
        label=_("Válido até"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Depois disso o cupom não pode mais ser usado. Vazio: não expira."),
        error_messages={"invalid": _("Informe data e hora, por exemplo 31/12/2025 23:59.")},
    )

    class Meta:
        model = Coupon
        fields = [
            "code",
            "name",
            "kind",
            "percent_off",
            "amount_off",
            "currency",
            "duration",
            "duration_in_months",
            "max_redemptions",
            "expires_at",
            "is_active",
        ]
        error_messages = {
            "kind": {"required": _("Escolha o tipo de desconto.")},
            "duration": {"required": _("Escolha por quanto tempo o desconto vale.")},
            "currency": {"required": _("Escolha a moeda do desconto.")},
        }

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        if not self.instance.pk and merchant is not None:
            self.fields["currency"].initial = merchant.currency

    def clean_code(self):
        code = normalize_coupon_code(self.cleaned_data.get("code"))
        errors = coupon_code_errors(code)
        if errors:
            raise forms.ValidationError(errors)
        return code

    def clean(self):
        cleaned_data = super().clean()
        # Values of the fields the chosen kind / duration does not use are stale (typed before switching):
        # they must neither be saved nor block the form, as with the plan form's custom interval.
        unused = []
        if cleaned_data.get("kind") == CouponKind.PERCENT:
            unused.append("amount_off")
        elif cleaned_data.get("kind") == CouponKind.FIXED:
            unused.append("percent_off")
        if cleaned_data.get("duration") in (CouponDuration.ONCE, CouponDuration.FOREVER):
            unused.append("duration_in_months")
        for name in unused:
            cleaned_data[name] = None
            self.errors.pop(name, None)
        return cleaned_data

    def coupon_fields(self) -> dict:
        """The cleaned values as the coupon services take them."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class TaxRateForm(forms.ModelForm):
    """Create / edit a tax rate; the percentage accepts "5,5" and "5,5%"."""

    percentage = PercentField(
        label=_("Alíquota (%)"),
        percent_range=TAX_PERCENT,
        help_text=_("Por exemplo 5 para ISS de 5% ou 0,65 para PIS."),
        error_messages={
            "required": _("Informe a alíquota."),
            "max_decimal_places": _("Use no máximo 4 casas decimais."),
            "invalid": _("Informe um percentual, por exemplo 5,5."),
        },
    )

    class Meta:
        model = TaxRate
        fields = ["name", "description", "percentage", "inclusive", "is_active"]
        error_messages = {"name": {"required": _("Informe o nome do imposto.")}}

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)

    def tax_rate_fields(self) -> dict:
        """The cleaned values as the tax-rate services take them."""
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class CheckoutLinkForm(forms.ModelForm):
    """Create / edit a checkout link: the plan and coupon lists stay inside the merchant; the rules across
    fields (a coupon in the plan's currency, at least one payment method) are the services'."""

    max_completions = IntegerField(
        label=_("Limite de assinaturas"),
        required=False,
        min_value=1,
        help_text=_("Quantas assinaturas o link aceita no total. Vazio: sem limite."),
        error_messages={
            "min_value": _("O limite deve ser pelo menos 1. Deixe vazio para não limitar."),
            "invalid": _("Informe um número inteiro."),
        },
    )
    expires_at = forms.DateTimeField(
        label=_("Válido até"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("Depois disso o link sai do ar. Vazio: não expira."),
        error_messages={"invalid": _("Informe data e hora, por exemplo 31/12/2025 23:59.")},
    )
    brand_color = forms.CharField(
        label=_("Cor da página"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "color"}),
        help_text=_("A cor dos botões e do topo da página pública."),
    )

    class Meta:
        model = CheckoutLink
        fields = [
            "plan",
            "name",
            "coupon",
            "allow_card",
            "allow_boleto",
            "allow_pix",
            "max_completions",
            "expires_at",
            "success_url",
            "brand_color",
            "is_active",
        ]
        error_messages = {"plan": {"required": _("Escolha o plano.")}}

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        plans = Plan.objects.filter(merchant=merchant, archived_at__isnull=True)
        self.fields["plan"].queryset = plans
        self.fields["coupon"].queryset = Coupon.objects.filter(merchant=merchant, is_active=True)
        self.fields["coupon"].required = False
        self.fields["coupon"].help_text = _("Aplicado automaticamente; o cliente não precisa digitar.")

    def checkout_link_fields(self) -> dict:
        """The cleaned values as the checkout-link services take them."""
        data = {name: self.cleaned_data[name] for name in self._meta.fields}
        data["brand_color"] = data["brand_color"] or ""
        return data
