import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filtersets import MerchantFilterSet
from notifications.automations import selectors
from notifications.automations.choices import ActionKind, Trigger
from notifications.automations.models import Automation, ProviderIntegration


class AutomationFilterSet(MerchantFilterSet):
    """Notificações > Automações: search the name, on or off, trigger, action."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Nome ou URL")}),
    )
    is_enabled = django_filters.BooleanFilter(
        label=_("Situação"),
        widget=forms.Select(choices=[("", _("Todas")), ("true", _("Ativas")), ("false", _("Inativas"))]),
    )
    trigger = django_filters.ChoiceFilter(label=_("Gatilho"), choices=Trigger.choices, empty_label=_("Todos"))
    action = django_filters.ChoiceFilter(label=_("Ação"), choices=ActionKind.choices, empty_label=_("Todas"))

    class Meta:
        model = Automation
        fields = []

    def filter_q(self, queryset, name, value):
        return selectors.automation_search(queryset, query=value)


class ProviderIntegrationFilterSet(MerchantFilterSet):
    q = django_filters.CharFilter(
        field_name="name",
        lookup_expr="icontains",
        label=_("Buscar"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Nome")}),
    )

    class Meta:
        model = ProviderIntegration
        fields = []
