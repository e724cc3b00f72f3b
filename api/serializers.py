"""What the API shows of each model. Amounts are integers of minor units (centavos) with their currency."""

from rest_framework import serializers

from plans.models import Plan
from subscribers.models import Customer, Subscription


class CustomerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = ["id", "name", "email", "handle", "document", "phone", "created_at", "updated_at"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    class Meta:
        model = Plan
        fields = [
            "id",
            "name",
            "description",
            "price",
            "currency",
            "interval_unit",
            "interval_count",
            "trial_days",
            "is_active",
            "archived_at",
            "created_at",
        ]
        read_only_fields = fields


class SubscriptionSerializer(serializers.ModelSerializer):
    customer = serializers.PrimaryKeyRelatedField(read_only=True)
    plan = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Subscription
        fields = [
            "id",
            "customer",
            "plan",
            "status",
            "quantity",
            "amount",
            "currency",
            "payment_method",
            "origin",
            "contract_date",
            "started_at",
            "trial_ends_at",
            "current_period_start",
            "current_period_end",
            "next_invoice_at",
            "cancel_at",
            "access_until",
            "ended_at",
            "created_at",
        ]
        read_only_fields = fields


class AccessPlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AccessSubscriptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Subscription._meta.get_field("status").choices)
    plan = AccessPlanSerializer()
    access_until = serializers.DateTimeField(allow_null=True)


class AccessSerializer(serializers.Serializer):
    """GET /customers/{id}/access: whether the customer may use what they bought, now."""

    customer = serializers.IntegerField()
    has_access = serializers.BooleanField()
    access_until = serializers.DateTimeField(
        allow_null=True, help_text="Latest end of access among the subscriptions; null when none or unknown."
    )
    subscriptions = AccessSubscriptionSerializer(many=True)
