"""The customer's credit balance on their page: balances and entries (an htmx panel), "Ajustar saldo"
(support and up) and "Reembolsar saldo" to the customer's card/pix payments."""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.generic import MerchantDetailView, MerchantUpdateView
from accounts.permissions import Action
from billing import selectors
from billing.services.credit import credit_adjust, credit_refund
from core.forms import MoneyField
from core.money import CURRENCY_CHOICES, DEFAULT_CURRENCY, format_money
from subscribers.models import Customer

CREDIT, DEBIT = "credit", "debit"


def customer_queryset():
    return Customer.objects.select_related("merchant")


class CustomerCreditView(MerchantDetailView):
    """htmx: the "Saldo de crédito" panel of a customer's page (balance per currency, latest entries)."""

    queryset = customer_queryset()
    context_object_name = "customer"
    template_name = "billing/partials/customer_credit.html"
    http_method_names = ["get", "head", "options"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            balances=selectors.credit_balances(customer=self.object),
            entries=selectors.credit_entries(customer=self.object),
        )
        return context


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
    note = forms.CharField(
        label=_("Motivo"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Diga o motivo do ajuste."),
            "max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres."),
        },
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)

    def signed_amount(self) -> int:
        amount = self.cleaned_data["amount"]
        return -amount if self.cleaned_data["direction"] == DEBIT else amount


class CustomerCreditAdjustView(MerchantUpdateView):
    """Ajustar saldo: a manual credit or debit of the customer's balance, with its reason."""

    queryset = customer_queryset()
    form_class = CreditAdjustForm
    required_action = Action.ADJUST_CREDIT
    title = _("Ajustar saldo de crédito")
    one_time_form = True  # a resent POST must not credit or debit the balance twice

    def perform(self, form):
        entry = credit_adjust(
            customer=self.object,
            actor=self.request.user,
            currency=form.cleaned_data["currency"],
            amount=form.signed_amount(),
            note=form.cleaned_data["note"],
        )
        self.success_message = _("Saldo ajustado em %(amount)s.") % {
            "amount": format_money(entry.amount, entry.currency)
        }
        return self.object


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
    note = forms.CharField(
        label=_("Motivo"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": _("O motivo pode ter no máximo %(limit_value)d caracteres.")},
    )

    def __init__(self, *args, merchant=None, instance=None, **kwargs):
        super().__init__(*args, **kwargs)


class CustomerCreditRefundView(MerchantUpdateView):
    """Reembolsar saldo: gives the balance back through the gateway of the customer's card/pix payments."""

    queryset = customer_queryset()
    form_class = CreditRefundForm
    required_action = Action.REFUND
    title = _("Reembolsar saldo de crédito")
    one_time_form = True  # a resent POST must not refund the balance twice

    def perform(self, form):
        refunds = credit_refund(
            customer=self.object,
            actor=self.request.user,
            currency=form.cleaned_data["currency"],
            amount=form.cleaned_data["amount"],
            note=form.cleaned_data["note"],
        )
        self.success_message = _("Reembolso de %(amount)s do saldo concluído.") % {
            "amount": format_money(sum(refund.amount for refund in refunds), form.cleaned_data["currency"])
        }
        return self.object
