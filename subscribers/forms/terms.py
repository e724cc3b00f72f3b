"""The terms contracting (`contract`) and editing (`edit`) share."""

from decimal import Decimal

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from core.forms import IntegerField, MoneyField, PercentField, autocomplete
from core.percent import DISCOUNT_PERCENT
from plans.models import Plan, TaxRate
from subscribers.choices import DiscountType, PaymentMethod
from subscribers.forms.fields import SalespersonChoiceField, ServiceErrorsMixin, TaxRateChoiceField


class SubscriptionTermsForm(ServiceErrorsMixin, forms.Form):
    """The terms shared by contracting and editing: plan, quantity, payment method, discount, salesperson.

    Choices are scoped to the merchant; the services check the same rules again for every other caller.
    """

    plan = forms.ModelChoiceField(
        label=_("Plano"),
        queryset=Plan.objects.none(),
        empty_label=_("Escolha o plano"),
        error_messages={
            "required": _("Escolha o plano."),
            "invalid_choice": _("Escolha um plano ativo da lista."),
        },
    )
    quantity = IntegerField(
        label=_("Quantidade"),
        min_value=1,
        max_value=100_000,
        initial=1,
        error_messages={
            "required": _("Informe a quantidade."),
            "min_value": _("A quantidade deve ser pelo menos 1."),
            "max_value": _("A quantidade pode ser no máximo 100.000."),
            "invalid": _("Informe um número inteiro."),
        },
    )
    payment_method = forms.ChoiceField(
        label=_("Forma de pagamento"),
        choices=PaymentMethod.choices,
        initial=PaymentMethod.CARD,
        error_messages={"required": _("Escolha a forma de pagamento.")},
    )
    discount_type = forms.ChoiceField(
        label=_("Tipo de desconto"), choices=DiscountType.choices, required=False, initial=DiscountType.NONE
    )
    discount_percent = PercentField(
        label=_("Desconto (%)"),
        required=False,
        percent_range=DISCOUNT_PERCENT,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "invalid": _("Informe um percentual, por exemplo 10 ou 12,5."),
            "max_decimal_places": _("Use no máximo duas casas decimais."),
        },
    )
    discount_amount = MoneyField(
        label=_("Desconto (valor)"),
        required=False,
        min_value=Decimal("0.01"),
        error_messages={"min_value": _("O desconto deve ser maior que zero.")},
    )
    discount_periods = IntegerField(
        label=_("Por quantos períodos"),
        required=False,
        min_value=1,
        max_value=1200,
        help_text=_("Deixe vazio para aplicar o desconto sempre."),
        error_messages={
            "min_value": _("O desconto deve valer por pelo menos 1 período."),
            "max_value": _("O desconto pode valer por no máximo 1.200 períodos."),
            "invalid": _("Informe um número inteiro de períodos."),
        },
    )
    salesperson = SalespersonChoiceField(
        label=_("Vendedor responsável"),
        queryset=get_user_model().objects.none(),
        required=False,
        error_messages={"invalid_choice": _("O vendedor responsável precisa fazer parte da equipe.")},
    )
    tax_rates = TaxRateChoiceField(
        label=_("Impostos"),
        queryset=TaxRate.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Somados a cada fatura (ou já inclusos no preço, conforme o imposto)."),
        error_messages={
            "invalid_choice": _("Escolha impostos ativos da lista."),
            "invalid_pk_value": _("Escolha impostos ativos da lista."),
        },
    )

    def __init__(self, *args, merchant=None, **kwargs):
        self.merchant = merchant
        super().__init__(*args, **kwargs)
        self.fields["plan"].queryset = Plan.objects.filter(
            merchant=merchant, is_active=True, archived_at__isnull=True
        ).order_by("name", "pk")
        self.fields["tax_rates"].queryset = TaxRate.objects.filter(
            merchant=merchant, is_active=True
        ).order_by("name", "pk")
        self.fields["salesperson"].queryset = (
            get_user_model()
            .objects.filter(memberships__merchant=merchant, is_active=True)
            .order_by("first_name", "last_name", "username")
        )
        # Typed-to-filter selects (static/js/autocomplete.js): every active plan and team member is listed,
        # the autocomplete only finds them by a part of the name, from the keyboard.
        for name in ("plan", "salesperson"):
            autocomplete(self.fields[name].widget)

    def clean(self):
        cleaned_data = super().clean()
        discount_type = cleaned_data.get("discount_type") or DiscountType.NONE
        cleaned_data["discount_type"] = discount_type
        required = {
            DiscountType.PERCENT: ("discount_percent", _("Informe o percentual de desconto.")),
            DiscountType.FIXED: ("discount_amount", _("Informe o valor do desconto.")),
        }.get(discount_type)
        if required and cleaned_data.get(required[0]) is None and required[0] not in self.errors:
            self.add_error(*required)
        # A value typed for a discount type that was not chosen is not kept.
        if discount_type != DiscountType.PERCENT:
            cleaned_data["discount_percent"] = None
        if discount_type != DiscountType.FIXED:
            cleaned_data["discount_amount"] = None
        if discount_type == DiscountType.NONE:
            cleaned_data["discount_periods"] = None
        return cleaned_data
