"""Contratar plano / Nova assinatura."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import autocomplete
from plans.models import Coupon
from subscribers.choices import BackdateBilling, DiscountType, PaymentMethod
from subscribers.forms.fields import CardNumberInput, CouponChoiceField, coupon_label, date_input
from subscribers.forms.terms import SubscriptionTermsForm
from subscribers.models import Customer
from subscribers.validators import card_digits

# How many customers the contract form's select lists up front (and without JavaScript); the autocomplete
# (static/js/autocomplete.js over `subscribers:customer_lookup`) finds any other customer of the merchant.
CUSTOMER_CHOICES_SHOWN = 30

# "Desconto" on the contract form: a coupon is one more choice, exclusive with a manual discount.
DISCOUNT_COUPON = "coupon"


def customer_label(customer: Customer) -> str:
    """How a customer reads in the contract form's select and its autocomplete's results."""
    return f"{customer.name} — {customer.email}"


class SubscriptionForm(SubscriptionTermsForm):
    """Contratar plano. With `customer` the page fixes the customer (the customer's Recorrências tab) and
    the form does not offer the choice; `actor` is the default salesperson.

    A coupon and a manual discount are exclusive, and a chosen coupon wins: the manual discount fields
    are then ignored and the service receives discount type "none". The card number is only read for
    payment method "card"; blank means the sandbox's default test card.
    """

    # The box around the discount fields is titled "Desconto" already (subscription_form.html).
    discount_type = forms.ChoiceField(
        label=_("Tipo de desconto"),
        choices=[
            (DiscountType.NONE, DiscountType.NONE.label),
            (DISCOUNT_COUPON, _("Cupom")),
            (DiscountType.PERCENT, DiscountType.PERCENT.label),
            (DiscountType.FIXED, DiscountType.FIXED.label),
        ],
        required=False,
        initial=DiscountType.NONE,
    )
    coupon = CouponChoiceField(
        label=_("Cupom"),
        queryset=Coupon.objects.none(),
        required=False,
        empty_label=_("Escolha o cupom"),
        help_text=_("Cupons ativos, dentro da validade e com usos disponíveis."),
        error_messages={"invalid_choice": _("Cupom não encontrado.")},
    )
    card_number = forms.CharField(
        label=_("Cartão"),
        required=False,
        widget=CardNumberInput(
            attrs={
                "inputmode": "numeric",
                "autocomplete": "cc-number",
                "maxlength": 23,
                "spellcheck": "false",
            }
        ),
        help_text=_(
            "Número do cartão, com ou sem espaços. Cartões de teste do sandbox: "
            "4242 4242 4242 4242 aprovado; 4000 0000 0000 0002 recusado; 4000 0000 0000 9995 saldo "
            "insuficiente; 4000 0000 0000 0341 aprovado na primeira cobrança e recusado depois. "
            "Em branco: 4242 4242 4242 4242."
        ),
    )

    customer = forms.ModelChoiceField(
        label=_("Cliente"),
        queryset=Customer.objects.none(),
        # The autocomplete's placeholder: the box is searched by typing.
        empty_label=_("Digite para buscar o cliente"),
        error_messages={
            "required": _("Escolha o cliente."),
            "invalid_choice": _("Escolha um cliente da lista."),
        },
    )
    contract_date = forms.DateField(
        label=_("Data de contratação"),
        widget=date_input(),
        help_text=_("Hoje ou antes começa agora; uma data futura deixa a assinatura agendada."),
        error_messages={
            "required": _("Informe a data de contratação."),
            "invalid": _("Informe uma data válida."),
        },
    )
    notify_customer = forms.BooleanField(
        label=_("Avisar o cliente por e-mail"), required=False, initial=False
    )
    plan_phases = forms.BooleanField(
        label=_("Programar fases"),
        required=False,
        initial=False,
        help_text=_(
            "Depois de contratar, abre o editor de programação: por exemplo, começar no dia 1º do mês que "
            "vem, trocar de plano, quantidade, cupom ou impostos em datas futuras, ou parcelar em N vezes."
        ),
    )
    # Rendered beside its amounts by the contract preview (subscribers/partials/contract_preview.html), only
    # for a contract date in the past.
    backdate_billing = forms.ChoiceField(
        label=_("Cobrança retroativa"),
        choices=BackdateBilling.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Escolha como cobrar o tempo retroativo.")},
    )

    field_order = [
        "customer",
        "contract_date",
        "plan",
        "quantity",
        "payment_method",
        "card_number",
        "notify_customer",
        "backdate_billing",
        "discount_type",
        "coupon",
        "discount_percent",
        "discount_amount",
        "discount_periods",
        "tax_rates",
        "salesperson",
        "plan_phases",
    ]

    def __init__(self, *args, merchant=None, customer=None, actor=None, **kwargs):
        super().__init__(*args, merchant=merchant, **kwargs)
        self.fixed_customer = customer
        if customer is not None:
            del self.fields["customer"]
        else:
            field = self.fields["customer"]
            field.queryset = Customer.objects.filter(merchant=merchant).order_by("name", "pk")
            field.label_from_instance = customer_label
            autocomplete(field.widget, url=reverse("subscribers:customer_lookup"))
            # Validation accepts any of the merchant's customers; the select only lists the chosen one
            # and the first few, the autocomplete searches the rest on the server.
            chosen = self.data.get(self.add_prefix("customer")) or self.initial.get("customer")
            shown = list(field.queryset[:CUSTOMER_CHOICES_SHOWN])
            if chosen and str(chosen).isdigit() and all(str(c.pk) != str(chosen) for c in shown):
                shown = [*field.queryset.filter(pk=chosen), *shown]
            field.widget.choices = [
                ("", field.empty_label),
                *((c.pk, field.label_from_instance(c)) for c in shown),
            ]
        self.fields["contract_date"].initial = timezone.localdate
        if actor is not None and self.fields["salesperson"].queryset.filter(pk=actor.pk).exists():
            self.fields["salesperson"].initial = actor.pk
        self._limit_coupon_choices()

    def _limit_coupon_choices(self):
        """Any of the merchant's coupons is accepted, so the service can say why one no longer applies
        (inactive, expired, used up); the select lists only those that can be redeemed now, plus the one
        chosen."""
        field = self.fields["coupon"]
        field.queryset = Coupon.objects.filter(merchant=self.merchant).order_by("code", "pk")
        usable = list(field.queryset.redeemable(now=timezone.now()))
        chosen = self.data.get(self.add_prefix("coupon"))
        if chosen and str(chosen).isdigit() and all(str(c.pk) != str(chosen) for c in usable):
            usable = [*field.queryset.filter(pk=chosen), *usable]
        field.widget.choices = [("", field.empty_label), *((c.pk, coupon_label(c)) for c in usable)]

    def clean(self):
        # A chosen coupon wins over a manual discount: decide before the manual fields are required.
        if self.cleaned_data.get("coupon") is not None:
            self.cleaned_data["discount_type"] = DISCOUNT_COUPON
        cleaned_data = super().clean()
        if cleaned_data.get("discount_type") == DISCOUNT_COUPON:
            if cleaned_data.get("coupon") is None and "coupon" not in self.errors:
                self.add_error("coupon", _("Escolha o cupom."))
            cleaned_data["discount_type"] = DiscountType.NONE
            cleaned_data["discount_periods"] = None
        else:
            cleaned_data["coupon"] = None
        self._clean_backdate_billing(cleaned_data)
        if cleaned_data.get("payment_method") == PaymentMethod.CARD and cleaned_data.get("card_number"):
            try:
                cleaned_data["card_number"] = card_digits(cleaned_data["card_number"])
            except ValidationError as error:
                self.add_error("card_number", error)
        else:
            cleaned_data["card_number"] = ""
        return cleaned_data

    def _clean_backdate_billing(self, cleaned_data):
        """A contract date in the past needs the merchant's choice of what to charge now, made with the
        amounts in sight: a form sent without the choice (the preview never shown, e.g. without
        JavaScript) comes back with the preview and the default selected, to be confirmed."""
        contract_date = cleaned_data.get("contract_date")
        today = self.merchant.localdate() if self.merchant is not None else timezone.localdate()
        if contract_date is None or contract_date >= today:
            cleaned_data["backdate_billing"] = BackdateBilling.PERIODS
        elif not cleaned_data.get("backdate_billing") and "backdate_billing" not in self.errors:
            self.add_error(
                "backdate_billing",
                _("A data de contratação é retroativa: veja quanto cada opção cobra agora e escolha uma."),
            )

    def contract_fields(self) -> dict:
        """The cleaned values as subscription_create takes them."""
        data = dict(self.cleaned_data)
        data["payment_token"] = data.pop("card_number", "")
        data.pop("plan_phases", None)  # where to go next, not a term of the contract
        return data
