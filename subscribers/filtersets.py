import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_filters import fields as filter_fields

from core.filtersets import MerchantFilterSet
from plans.models import Plan
from subscribers import selectors
from subscribers.choices import (
    ENDED_STATUSES,
    CancelOrigin,
    ExportStatus,
    PaymentMethod,
    SubscriptionOrigin,
    SubscriptionStatus,
)
from subscribers.models import Customer, SubscriberExport, Subscription, SubscriptionTombstone


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


class _LoadedChoiceIterator(filter_fields.ModelChoiceIterator):
    """The field's choices from the rows it has already read (see OneQueryModelChoiceField)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        if self.field.null_label is not None:
            yield (self.field.null_value, self.field.null_label)
        for obj in self.field.loaded_choices():
            yield self.choice(obj)

    def __len__(self):
        extra = (self.field.empty_label is not None) + (self.field.null_label is not None)
        return len(self.field.loaded_choices()) + extra


class OneQueryModelChoiceField(filter_fields.ModelChoiceField):
    """A model choice that reads its choices once per form, for the select and for checking the chosen
    value alike (a plain ModelChoiceField runs one query to validate and another to render): a filtered
    list stays within its query budget."""

    iterator = _LoadedChoiceIterator

    def _set_queryset(self, queryset):
        self._loaded = None
        super()._set_queryset(queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def loaded_choices(self) -> list:
        if self._loaded is None:
            self._loaded = list(self.queryset)
        return self._loaded

    def to_python(self, value):
        if self.null_label is not None and value == self.null_value:
            return value
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        key = self.to_field_name or "pk"
        if isinstance(value, self.queryset.model):
            value = getattr(value, key)
        for obj in self.loaded_choices():
            if str(obj.serializable_value(key)) == str(value):
                return obj
        raise ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )


class OneQueryModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = OneQueryModelChoiceField


class SalespersonChoiceField(OneQueryModelChoiceField):
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
    plan = OneQueryModelChoiceFilter(label=_("Plano"), queryset=Plan.objects.none(), empty_label=_("Todos"))
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


class SubscriberExportFilterSet(MerchantFilterSet):
    """Assinantes > Exportações: by how the export ended."""

    status = django_filters.ChoiceFilter(
        label=_("Situação"), choices=ExportStatus.choices, empty_label=_("Todas")
    )

    class Meta:
        model = SubscriberExport
        fields = []


SUBSCRIBED_PRESETS = [
    ("last_7", _("Últimos 7 dias")),
    ("last_30", _("Últimos 30 dias")),
    ("this_month", _("Este mês")),
]
GROUP_INACTIVE = "inactive"


class SubscriberFilterSet(SubscriptionFilterSet):
    """Assinantes: the Assinaturas filters, with subscription and cancellation periods and who canceled.

    Reuses the parent's search, status, plan and payment method filters and its period methods; the
    periods get the names this screen's URLs use, and "Assinou" adds presets counted on the merchant's
    clock. `group=inactive` (the "Assinantes inativos" export shortcut) keeps canceled, expired and
    refunded subscriptions.
    """

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("Nome, e-mail, @usuário, CPF/CNPJ ou id no provedor")}
        ),
    )
    origin = None
    contracted_from = None
    contracted_to = None
    deactivated_from = None
    deactivated_to = None
    subscribed = django_filters.ChoiceFilter(
        label=_("Assinou"),
        method="filter_subscribed",
        choices=SUBSCRIBED_PRESETS,
        empty_label=_("Qualquer data"),
    )
    subscribed_from = django_filters.DateFilter(
        label=_("Assinou de"), method="filter_contracted_from", widget=_date_input()
    )
    subscribed_to = django_filters.DateFilter(
        label=_("Assinou até"), method="filter_contracted_to", widget=_date_input()
    )
    canceled_from = django_filters.DateFilter(
        label=_("Cancelada de"), method="filter_canceled_from", widget=_date_input()
    )
    canceled_to = django_filters.DateFilter(
        label=_("Cancelada até"), method="filter_canceled_to", widget=_date_input()
    )
    cancel_origin = django_filters.ChoiceFilter(
        label=_("Quem cancelou"), choices=CancelOrigin.choices, empty_label=_("Todos")
    )
    group = django_filters.ChoiceFilter(
        label=_("Situação"),
        method="filter_group",
        choices=[(GROUP_INACTIVE, _("Inativos"))],
        empty_label=_("Todos"),
        widget=forms.HiddenInput,
    )

    class Meta:
        model = Subscription
        fields = []

    def filter_q(self, queryset, name, value):
        return selectors.subscriber_search(queryset, query=value)

    def filter_canceled_from(self, queryset, name, value):
        queryset = self.filter_deactivated_from(queryset, name, value)
        return selectors.subscriber_order_sorting_matches(queryset)

    def filter_canceled_to(self, queryset, name, value):
        queryset = self.filter_deactivated_to(queryset, name, value)
        return selectors.subscriber_order_sorting_matches(queryset)

    def filter_subscribed(self, queryset, name, value):
        bounds = selectors.subscribed_preset_range(value, today=self.merchant.localdate())
        if bounds is None:
            return queryset
        start, end = bounds
        return queryset.filter(selectors.contracted_between_q(start=start, end=end))

    def filter_group(self, queryset, name, value):
        if value == GROUP_INACTIVE:
            return queryset.filter(status__in=ENDED_STATUSES)
        return queryset
