import django_filters

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
