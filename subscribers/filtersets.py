import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filtersets import MerchantFilterSet
from subscribers import selectors
from subscribers.models import Customer


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
