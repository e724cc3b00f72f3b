import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filtersets import MerchantFilterSet
from plans.models import Plan
from subscribers import selectors
from subscribers.choices import PaymentMethod, SubscriptionOrigin, SubscriptionStatus
from subscribers.models import Customer, Subscription, SubscriptionTombstone


class CustomerFilterSet(MerchantFilterSet):
    """Clientes: one search box over name, e-mail, CPF/CNPJ and @handle."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Nome, e-mail, CPF/CNPJ ou @usuário")}
        ),
    )

    class Meta:
        model = Customer
        fields = []

    def filter_q(self, queryset, name, value):
        return selectors.customer_search(queryset, query=value)


def _date_input():
    # type=date inputs send and expect ISO dates whatever the page's language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class SalespersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class SalespersonFilter(django_filters.ModelChoiceFilter):
    field_class = SalespersonChoiceField


class SubscriptionFilterSet(MerchantFilterSet):
    """Planos > Assinaturas: search, status, plan, payment method, salesperson, origin and two periods.

    Plans and salespeople offered as choices are only the current merchant's. "Desativadas entre"
    compares days on the merchant's clock.
    """

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Cliente, e-mail ou id no provedor")}
        ),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=SubscriptionStatus.choices, empty_label=_("Todas")
    )
    plan = django_filters.ModelChoiceFilter(
        label=_("Plano"), queryset=Plan.objects.none(), empty_label=_("Todos")
    )
    payment_method = django_filters.ChoiceFilter(
        label=_("Forma de pagamento"), choices=PaymentMethod.choices, empty_label=_("Todas")
    )
    salesperson = SalespersonFilter(
        label=_("Vendedor"), queryset=get_user_model().objects.none(), empty_label=_("Todos")
    )
    origin = django_filters.ChoiceFilter(
        label=_("Origem"), choices=SubscriptionOrigin.choices, empty_label=_("Todas")
    )
    contracted_from = django_filters.DateFilter(
        label=_("Contratada de"), method="filter_contracted_from", widget=_date_input()
    )
    contracted_to = django_filters.DateFilter(
        label=_("Contratada até"), method="filter_contracted_to", widget=_date_input()
    )
    deactivated_from = django_filters.DateFilter(
        label=_("Desativada de"), method="filter_deactivated_from", widget=_date_input()
    )
    deactivated_to = django_filters.DateFilter(
        label=_("Desativada até"), method="filter_deactivated_to", widget=_date_input()
    )

    class Meta:
        model = Subscription
        fields = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["plan"].queryset = Plan.objects.filter(merchant=self.merchant).order_by("name", "pk")
        self.filters["salesperson"].queryset = selectors.merchant_members_queryset(merchant=self.merchant)

    def filter_q(self, queryset, name, value):
        return selectors.subscription_search(queryset, query=value)

    def filter_contracted_from(self, queryset, name, value):
        return queryset.filter(selectors.contracted_between_q(start=value))

    def filter_contracted_to(self, queryset, name, value):
        return queryset.filter(selectors.contracted_between_q(end=value))

    def filter_deactivated_from(self, queryset, name, value):
        return queryset.filter(selectors.deactivated_between_q(merchant=self.merchant, start=value))

    def filter_deactivated_to(self, queryset, name, value):
        return queryset.filter(selectors.deactivated_between_q(merchant=self.merchant, end=value))

    def periods(self) -> dict:
        """The chosen periods as (start, end) dates, or None, for the list header's counts."""
        data = getattr(self.form, "cleaned_data", {})

        def period(prefix):
            bounds = (data.get(prefix + "_from"), data.get(prefix + "_to"))
            return bounds if any(bounds) else None

        return {"contracted": period("contracted"), "deactivated": period("deactivated")}


class TombstoneFilterSet(MerchantFilterSet):
    """Assinaturas excluídas: search by the customer's or the plan's name as they were when deleted."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Cliente ou plano")}),
    )

    class Meta:
        model = SubscriptionTombstone
        fields = []

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(customer_name__icontains=value) | Q(plan_name__icontains=value))
