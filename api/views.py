"""Read endpoints of the merchant API. Every queryset starts from the key's merchant (request.auth), so
another merchant's id is a 404 like an unknown one."""

from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api import serializers
from api.filters import SubscriptionFilter
from plans.models import Plan
from subscribers.models import Customer, Subscription
from subscribers.selectors import customer_access


class MerchantScopedViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return self.queryset.filter(merchant=self.request.auth.merchant)


class CustomerViewSet(MerchantScopedViewSet):
    queryset = Customer.objects.all()
    serializer_class = serializers.CustomerSerializer

    @extend_schema(responses=serializers.AccessSerializer)
    @action(detail=True, methods=["get"], url_path="access")
    def access(self, request, pk=None):
        """Does the customer have access now? The subscriptions that give it and until when."""
        customer = self.get_object()
        granted = customer_access(customer=customer, now=timezone.now())
        ends = [until for _subscription, until in granted]
        data = {
            "customer": customer.pk,
            "has_access": bool(granted),
            # Unknown (None) for any of them means no known end for the customer either.
            "access_until": max(ends) if ends and None not in ends else None,
            "subscriptions": [
                {
                    "id": subscription.pk,
                    "status": subscription.status,
                    "plan": {"id": subscription.plan_id, "name": subscription.plan.name},
                    "access_until": until,
                }
                for subscription, until in granted
            ],
        }
        return Response(serializers.AccessSerializer(data).data)


class PlanViewSet(MerchantScopedViewSet):
    queryset = Plan.objects.all()
    serializer_class = serializers.PlanSerializer


class SubscriptionViewSet(MerchantScopedViewSet):
    queryset = Subscription.objects.all()
    serializer_class = serializers.SubscriptionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SubscriptionFilter
