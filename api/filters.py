import django_filters

from billing.choices import InvoiceStatus, PaymentStatus
from billing.models import Invoice, Payment
from core.events import EventType
from core.models import Event
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription


class SubscriptionFilter(django_filters.FilterSet):
    """Some of Assinaturas' filters; the queryset is already the key's merchant's, so ids of another
    merchant's plan or customer simply match nothing."""

    status = django_filters.MultipleChoiceFilter(choices=SubscriptionStatus.choices)
    plan = django_filters.NumberFilter(field_name="plan_id")
    customer = django_filters.NumberFilter(field_name="customer_id")
    contracted_from = django_filters.DateFilter(field_name="contract_date", lookup_expr="gte")
    contracted_to = django_filters.DateFilter(field_name="contract_date", lookup_expr="lte")

    class Meta:
        model = Subscription
        fields = ["status", "plan", "customer", "contracted_from", "contracted_to"]


class InvoiceFilter(django_filters.FilterSet):
    subscription = django_filters.NumberFilter(field_name="subscription_id")
    customer = django_filters.NumberFilter(field_name="customer_id")
    status = django_filters.MultipleChoiceFilter(choices=InvoiceStatus.choices)

    class Meta:
        model = Invoice
        fields = ["subscription", "customer", "status"]


class PaymentFilter(django_filters.FilterSet):
    invoice = django_filters.NumberFilter(field_name="invoice_id")
    subscription = django_filters.NumberFilter(field_name="invoice__subscription_id")
    status = django_filters.MultipleChoiceFilter(choices=PaymentStatus.choices)

    class Meta:
        model = Payment
        fields = ["invoice", "subscription", "status"]


class EventFilter(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(choices=EventType.choices)
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gt")

    class Meta:
        model = Event
        fields = ["type", "created_after"]
