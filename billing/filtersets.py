import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from billing import selectors
from billing.choices import (
    BillingRunStatus,
    BillingRunTrigger,
    Gateway,
    InvoiceStatus,
    PaymentProvider,
    PaymentStatus,
    ProviderEventStatus,
)
from billing.models import BillingRun, Invoice, Payment, ProviderEvent
from core.filtersets import MerchantFilterSet
from subscribers.choices import PaymentMethod


def _date_input():
    # type=date inputs send and expect ISO dates whatever the page's language.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _CreatedBetweenMixin(django_filters.FilterSet):
    """The period filters ("De" / "Até"): days on the merchant's clock, both included."""

    created_from = django_filters.DateFilter(
        label=_("De"), method="filter_created_from", widget=_date_input()
    )
    created_to = django_filters.DateFilter(label=_("Até"), method="filter_created_to", widget=_date_input())

    def filter_created_from(self, queryset, name, value):
        return queryset.filter(selectors.created_between_q(merchant=self.merchant, start=value))

    def filter_created_to(self, queryset, name, value):
        return queryset.filter(selectors.created_between_q(merchant=self.merchant, end=value))


class InvoiceFilterSet(MerchantFilterSet, _CreatedBetweenMixin):
    """Cobranças > Faturas: search, status, the subscription's payment method and the creation period."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Cliente, e-mail ou número")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=InvoiceStatus.choices, empty_label=_("Todas")
    )
    payment_method = django_filters.ChoiceFilter(
        label=_("Forma de pagamento"),
        field_name="subscription__payment_method",
        choices=PaymentMethod.choices,
        empty_label=_("Todas"),
    )

    class Meta:
        model = Invoice
        fields = []

    def filter_q(self, queryset, name, value):
        return selectors.invoice_search(queryset, query=value)


class PaymentFilterSet(MerchantFilterSet, _CreatedBetweenMixin):
    """Cobranças > Pagamentos: search, status, method, gateway and the period."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Cliente, e-mail, nº da fatura ou referência")}
        ),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=PaymentStatus.choices, empty_label=_("Todos")
    )
    method = django_filters.ChoiceFilter(
        label=_("Forma de pagamento"), choices=PaymentMethod.choices, empty_label=_("Todas")
    )
    gateway = django_filters.ChoiceFilter(label=_("Gateway"), choices=Gateway.choices, empty_label=_("Todos"))

    class Meta:
        model = Payment
        fields = []

    def filter_q(self, queryset, name, value):
        return selectors.payment_search(queryset, query=value)


class BillingRunFilterSet(MerchantFilterSet):
    """Cobranças > Execuções: status and origin."""

    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=BillingRunStatus.choices, empty_label=_("Todas")
    )
    trigger = django_filters.ChoiceFilter(
        label=_("Origem"), choices=BillingRunTrigger.choices, empty_label=_("Todas")
    )

    class Meta:
        model = BillingRun
        fields = []


class ProviderEventFilterSet(MerchantFilterSet):
    """Notificações > Eventos recebidos: provider, type (prefix, e.g. "invoice."), status."""

    provider = django_filters.ChoiceFilter(
        label=_("Provedor"), choices=PaymentProvider.choices, empty_label=_("Todos")
    )
    type = django_filters.CharFilter(label=_("Tipo"), lookup_expr="startswith")
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ProviderEventStatus.choices, empty_label=_("Todos")
    )

    class Meta:
        model = ProviderEvent
        fields = []
