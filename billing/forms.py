"""The billing app's forms: Configurações > Cobrança, Registrar pagamento, Reembolsar, Registrar chargeback,
Ajustar saldo and Reembolsar saldo. The views in `billing/views/` build them; the services check every
rule again under their locks."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.models import BillingSettings
from billing.services.refunds import refundable_amount
from core.forms import IntegerField, MoneyField, ObjectActionForm, reason_field
from core.money import CURRENCY_CHOICES, DEFAULT_CURRENCY, format_money

SETTINGS_FIELDS = [
    "retries",
    "retry_interval_hours",
    "final_action",
    "boleto_pix_expiry_days",
    "sandbox_disconnected",
    "backdate_max_periods",
    "backdate_max_days",
    "pause_coupons",
    "pause_access",
    "customers_may_pause",
    "portal_retention_coupon",
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
        coupon = self.fields["portal_retention_coupon"]
        # The merchant's own coupons only (another merchant's id is "not one of the choices").
        coupon.queryset = coupon.queryset.filter(merchant=merchant, is_active=True).order_by("code")
        coupon.empty_label = _("Sem oferta com um clique")

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

    def __init__(self, *args, paypal: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if paypal:
            # A PayPal-tracked subscription's payment is identified by its PayPal transaction id.
            field = self.fields["reference"]
            field.required = True
            field.label = _("Id da transação no PayPal")
            field.help_text = _("Como aparece na sua conta PayPal.")


class RefundForm(ObjectActionForm):
    """How much to give back (blank: everything still refundable) and why. The service checks the
    amount again against the payment under its lock."""

    amount = MoneyField(
        label=_("Valor a reembolsar"),
        required=False,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("O valor do reembolso deve ser maior que zero.")},
    )
    reason = reason_field()

    def __init__(self, *args, payment=None, **kwargs):
        super().__init__(*args, **kwargs)
        if payment is not None:
            remaining = format_money(refundable_amount(payment), payment.currency)
            self.fields["amount"].currency = payment.currency
            self.fields["amount"].help_text = _(
                "Deixe em branco para reembolsar o total ainda reembolsável: %(amount)s."
            ) % {"amount": remaining}
            self.fields["amount"].widget.attrs["placeholder"] = remaining


class ChargebackForm(ObjectActionForm):
    """How much the bank took back (blank: everything still ours) and the bank's reason and reference."""

    amount = MoneyField(
        label=_("Valor contestado"),
        required=False,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("O valor do chargeback deve ser maior que zero.")},
    )
    reason = reason_field(_("Motivo informado pelo banco"))
    gateway_reference = forms.CharField(
        label=_("Referência da disputa no gateway"),
        required=False,
        max_length=100,
        error_messages={"max_length": _("A referência pode ter no máximo %(limit_value)d caracteres.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        instance = self.instance
        if instance is not None:
            available = format_money(instance.chargeable_amount, instance.currency)
            self.fields["amount"].currency = instance.currency
            self.fields["amount"].help_text = _("Deixe em branco para o total: %(amount)s.") % {
                "amount": available
            }
            self.fields["amount"].widget.attrs["placeholder"] = available


# Ajustar saldo: which way the amount moves the customer's credit balance.
CREDIT, DEBIT = "credit", "debit"


class CreditAdjustForm(forms.Form):
    """Ajustar saldo: credit or debit an amount, with the reason (the service refuses a negative balance)."""

    direction = forms.ChoiceField(
        label=_("Tipo de ajuste"),
        choices=[(CREDIT, _("Creditar (aumenta o saldo)")), (DEBIT, _("Debitar (diminui o saldo)"))],
        initial=CREDIT,
        widget=forms.RadioSelect,
        error_messages={"required": _("Escolha creditar ou debitar.")},
    )
    currency = forms.ChoiceField(label=_("Moeda"), choices=CURRENCY_CHOICES, initial=DEFAULT_CURRENCY)
    amount = MoneyField(
        label=_("Valor"),
        min_value=Decimal("0.01"),
        error_messages={
            "required": _("Informe o valor do ajuste."),
            "min_value": _("O valor deve ser maior que zero."),
        },
    )
    note = reason_field(required=True, required_message=_("Diga o motivo do ajuste."))

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)

    def signed_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        return -amount if self.cleaned_data["direction"] == DEBIT else amount


class CreditRefundForm(forms.Form):
    """Reembolsar saldo: how much of the balance (blank: all of it) goes back to the card/pix payments."""

    currency = forms.ChoiceField(label=_("Moeda"), choices=CURRENCY_CHOICES, initial=DEFAULT_CURRENCY)
    amount = MoneyField(
        label=_("Valor"),
        required=False,
        min_value=Decimal("0.01"),
        help_text=_("Em branco: o saldo inteiro. Devolvido aos últimos pagamentos por cartão ou pix."),
        error_messages={"min_value": _("O valor deve ser maior que zero.")},
    )
    note = reason_field()

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)


class PlanPriceChangeForm(forms.Form):
    """Alterar preço: the new price, who gets it and the notice existing subscriptions are given. The
    rules (a price that differs, an active plan, the notice's range) are the service's."""

    EXISTING_CHOICES = [
        ("new_only", _("Somente novas assinaturas (as atuais mantêm o preço)")),
        ("migrate", _("Também as assinaturas atuais, a partir da primeira renovação depois do aviso")),
    ]

    amount = MoneyField(
        label=_("Novo preço"),
        min_value=Decimal("0"),
        help_text=_("Valor cobrado a cada intervalo, por exemplo 59,90."),
        error_messages={"required": _("Informe o novo preço.")},
    )
    existing = forms.ChoiceField(
        label=_("Quem passa a pagar o novo preço"),
        choices=EXISTING_CHOICES,
        initial="new_only",
        widget=forms.RadioSelect,
    )
    notice_days = IntegerField(
        label=_("Dias de aviso"),
        min_value=0,
        max_value=365,
        initial=30,
        help_text=_("O novo preço vale a partir da primeira renovação depois desse prazo."),
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = instance
        if instance is not None:
            self.fields["amount"].currency = instance.currency
            self.fields["amount"].initial = instance.price

    @property
    def migrate(self) -> bool:
        return self.cleaned_data.get("existing") == "migrate"
