import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filtersets import MerchantFilterSet
from notifications.catalog import EVENT_TYPES
from notifications.webhooks import selectors
from notifications.webhooks.choices import DeliveryOrigin, DeliveryStatus
from notifications.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointFilterSet(MerchantFilterSet):
    """Notificações > Webhooks: search the URL and description, active or not."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("URL ou descrição")}),
    )
    is_active = django_filters.BooleanFilter(
        label=_("Situação"),
        widget=forms.Select(choices=[("", _("Todos")), ("true", _("Ativos")), ("false", _("Desativados"))]),
    )

    class Meta:
        model = WebhookEndpoint
        fields = []

    def filter_q(self, queryset, name, value):
        return selectors.endpoint_search(queryset, query=value)


class WebhookDeliveryFilterSet(MerchantFilterSet):
    """An endpoint's delivery log: status, origin and event type."""

    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=DeliveryStatus.choices, empty_label=_("Todos")
    )
    origin = django_filters.ChoiceFilter(
        label=_("Origem"), choices=DeliveryOrigin.choices, empty_label=_("Todas")
    )
    event_type = django_filters.ChoiceFilter(
        label=_("Evento"),
        field_name="event__type",
        choices=[(t.type, t.type) for t in EVENT_TYPES],
        empty_label=_("Todos"),
    )

    class Meta:
        model = WebhookDelivery
        fields = []
