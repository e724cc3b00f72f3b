import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.filtersets import MerchantFilterSet
from plans import selectors
from plans.choices import IntervalPreset, PlanStatus
from plans.models import CheckoutLink, Coupon, Plan, TaxRate

STATUS_FILTER_CHOICES = [
    (PlanStatus.ACTIVE, _("Ativos")),
    (PlanStatus.INACTIVE, _("Inativos")),
    (PlanStatus.ARCHIVED, _("Arquivados")),
]


class PlanFilterSet(MerchantFilterSet):
    """Planos list: search by name or description, interval preset and status (archived hidden by default)."""

    q = django_filters.CharFilter(
        label=_("Buscar"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Nome ou descrição")}),
    )
    interval = django_filters.ChoiceFilter(
        label=_("Intervalo"),
        choices=IntervalPreset.choices,
        method="filter_interval",
        empty_label=_("Todos"),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=STATUS_FILTER_CHOICES,
        method="filter_status",
        empty_label=_("Não arquivados"),
    )

    class Meta:
        model = Plan
        fields = ["q", "interval", "status"]

    def __init__(self, data=None, *args, **kwargs):
        # Always bound, so the "not archived" default below also applies to the bare list URL.
        super().__init__(data if data is not None else {}, *args, **kwargs)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_interval(self, queryset, name, value):
        return queryset.filter(selectors.interval_preset_q(value))

    def filter_status(self, queryset, name, value):
        return queryset.filter(selectors.plan_status_q(value))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Without a status choice the list shows what is still on sale or paused, never archived plans.
        if not self.form.cleaned_data.get("status"):
            queryset = queryset.filter(selectors.plan_status_q(None))
        return queryset


COUPON_STATUS_FILTER_CHOICES = [
    (selectors.COUPON_ACTIVE, _("Ativos")),
    (selectors.COUPON_INACTIVE, _("Inativos")),
    (selectors.COUPON_EXPIRED, _("Expirados")),
]


class CouponFilterSet(MerchantFilterSet):
    """Cupons list: search by code or name, and status (active, inactive, expired)."""

    q = django_filters.CharFilter(
        label=_("Buscar"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Código ou nome")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=COUPON_STATUS_FILTER_CHOICES,
        method="filter_status",
        empty_label=_("Todos"),
    )

    class Meta:
        model = Coupon
        fields = ["q", "status"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(code__icontains=value) | Q(name__icontains=value))

    def filter_status(self, queryset, name, value):
        return queryset.filter(selectors.coupon_status_q(value, now=timezone.now()))


TAX_RATE_STATUS_FILTER_CHOICES = [("active", _("Ativos")), ("inactive", _("Inativos"))]


class TaxRateFilterSet(MerchantFilterSet):
    """Impostos list: search by name or description, and active / inactive."""

    q = django_filters.CharFilter(
        label=_("Buscar"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Nome ou descrição")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=TAX_RATE_STATUS_FILTER_CHOICES,
        method="filter_status",
        empty_label=_("Todos"),
    )

    class Meta:
        model = TaxRate
        fields = ["q", "status"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))

    def filter_status(self, queryset, name, value):
        return queryset.filter(is_active=value == "active")


CHECKOUT_LINK_STATUS_FILTER_CHOICES = [("active", _("Ativos")), ("inactive", _("Inativos"))]


class CheckoutLinkFilterSet(MerchantFilterSet):
    """Links de pagamento: search by the link's or the plan's name, and active / inactive."""

    q = django_filters.CharFilter(
        label=_("Buscar"),
        method="filter_search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Nome do link ou do plano")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=CHECKOUT_LINK_STATUS_FILTER_CHOICES,
        method="filter_status",
        empty_label=_("Todos"),
    )

    class Meta:
        model = CheckoutLink
        fields = ["q", "status"]

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(plan__name__icontains=value))

    def filter_status(self, queryset, name, value):
        return queryset.filter(is_active=value == "active")
