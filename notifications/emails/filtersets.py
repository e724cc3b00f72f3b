import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from core.filtersets import MerchantFilterSet
from notifications.emails import selectors
from notifications.emails.choices import CustomerEmailKind, EmailSendingStatus
from notifications.emails.models import EmailSending


class EmailSendingFilterSet(MerchantFilterSet):
    """Notificações > E-mails enviados: search the recipient or subject, by e-mail kind and status."""

    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Buscar"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("E-mail do cliente ou assunto")}),
    )
    kind = django_filters.ChoiceFilter(
        label=_("E-mail"), choices=CustomerEmailKind.choices, empty_label=_("Todos")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=EmailSendingStatus.choices, empty_label=_("Todos")
    )

    class Meta:
        model = EmailSending
        fields = []

    def filter_q(self, queryset, name, value):
        return selectors.email_sending_search(queryset, query=value)
