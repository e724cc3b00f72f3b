"""What the API shows of each model. Amounts are integers of minor units (centavos) with their currency."""

from django.urls import reverse
from rest_framework import serializers

from billing.models import Invoice, Payment, Refund
from core.models import Event
from notifications.webhooks.choices import DisabledReason
from notifications.webhooks.models import WebhookEndpoint
from plans.models import Coupon, Plan, TaxRate
from subscribers.choices import BackdateBilling, CancelOrigin, CancelWhen, DiscountType, PaymentMethod
from subscribers.models import Customer, Subscription

# Bounds that keep amounts inside PostgreSQL's bigint and quantities sane; the services check the rest.
MAX_AMOUNT = 10**12
MAX_QUANTITY = 100_000


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


# --- writes: the request bodies, validated here and handed to the screens' services ------------------
class MerchantScopedPrimaryKeyField(serializers.PrimaryKeyRelatedField):
    """An id of one of the key's merchant's rows (the serializer's context["merchant"]); another
    merchant's id is refused like an id that does not exist."""

    def __init__(self, model=None, **kwargs):
        self.model = model
        kwargs.setdefault("queryset", model.objects.none())
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.model.objects.filter(merchant=self.root.context["merchant"])


class CustomerWriteSerializer(serializers.Serializer):
    """POST /customers and PATCH /customers/{id}: normalized and checked by customer_create/update."""

    name = serializers.CharField(max_length=200)
    email = serializers.CharField(max_length=254)
    handle = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    document = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")


class DiscountFieldsMixin(serializers.Serializer):
    discount_type = serializers.ChoiceField(choices=DiscountType.choices, required=False, allow_blank=True)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, min_value=0, max_value=100
    )
    discount_amount = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_AMOUNT
    )
    discount_periods = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1200)


class SubscriptionCreateSerializer(DiscountFieldsMixin):
    """POST /subscriptions: contracted through subscription_create with origin "api"."""

    customer = MerchantScopedPrimaryKeyField(Customer)
    plan = MerchantScopedPrimaryKeyField(Plan)
    contract_date = serializers.DateField(
        required=False, help_text="Data de contratação (YYYY-MM-DD); hoje, no fuso do lojista, se omitida."
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.CARD)
    payment_token = serializers.CharField(
        required=False, allow_blank=True, default="", write_only=True, max_length=100
    )
    coupon = MerchantScopedPrimaryKeyField(Coupon, required=False, allow_null=True, default=None)
    tax_rates = MerchantScopedPrimaryKeyField(TaxRate, many=True, required=False, default=list)
    backdate_billing = serializers.ChoiceField(
        choices=BackdateBilling.choices, default=BackdateBilling.PERIODS
    )
    notify_customer = serializers.BooleanField(default=False)


class SubscriptionUpdateSerializer(DiscountFieldsMixin):
    """PATCH /subscriptions/{id}: what is sent changes, the rest stays (subscription_update). A plan or
    quantity change applies `now` (prorated) or at the `next_cycle`; `coupon: null` removes the coupon."""

    plan = MerchantScopedPrimaryKeyField(Plan, required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, required=False)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices, required=False)
    coupon = MerchantScopedPrimaryKeyField(Coupon, required=False, allow_null=True)
    tax_rates = MerchantScopedPrimaryKeyField(TaxRate, many=True, required=False)
    apply = serializers.ChoiceField(choices=[("now", "now"), ("next_cycle", "next_cycle")], default="now")


class CancelTermsSerializer(serializers.Serializer):
    """When a cancellation takes effect (the query of GET /subscriptions/{id}/cancel_preview)."""

    when = serializers.ChoiceField(choices=CancelWhen.choices, default=CancelWhen.NOW)
    at_date = serializers.DateField(
        required=False, allow_null=True, default=None, help_text="Com when=date: a data (YYYY-MM-DD), futura."
    )
    credit_unused_time = serializers.BooleanField(
        default=False, help_text="Só com when=now: credita ao cliente o tempo pago não usado."
    )


class SubscriptionCancelSerializer(CancelTermsSerializer):
    """POST /subscriptions/{id}/cancel (subscription_cancel): who asked, when, why."""

    origin = serializers.ChoiceField(
        choices=[
            (c.value, c.label) for c in (CancelOrigin.CUSTOMER, CancelOrigin.SELLER, CancelOrigin.PROVIDER)
        ],
        help_text="Quem pediu o cancelamento.",
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class RefundCreateSerializer(serializers.Serializer):
    """POST /subscriptions/{id}/refund (subscription_refund): the last payment, in full without amount."""

    amount = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_AMOUNT
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


# --- previews (nothing is saved) -------------------------------------------------------------------
class PreviewNowSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    credited = serializers.IntegerField()
    credit_applied = serializers.IntegerField()
    charged = serializers.IntegerField()


class PreviewNextInvoiceSerializer(serializers.Serializer):
    at = serializers.DateTimeField(allow_null=True)
    total = serializers.IntegerField()
    discount = serializers.IntegerField()
    tax = serializers.IntegerField()
    credit_applied = serializers.IntegerField()
    amount_due = serializers.IntegerField()


class ChangePreviewSerializer(serializers.Serializer):
    """What the change would do to the customer's money (billing's preview for the edit screen)."""

    currency = serializers.CharField()
    balance = serializers.IntegerField(help_text="Saldo de crédito do cliente agora.")
    balance_after = serializers.IntegerField(required=False)
    now = PreviewNowSerializer(allow_null=True, help_text="Cobrado ou creditado agora (null: nada).")
    next_invoice = PreviewNextInvoiceSerializer(allow_null=True)


class CancelPreviewSerializer(serializers.Serializer):
    effective_at = serializers.DateTimeField()
    access_until = serializers.DateTimeField()
    currency = serializers.CharField()
    credit_available = serializers.IntegerField()
    credited = serializers.IntegerField()
    paid_until = serializers.DateTimeField(allow_null=True)
    next_invoice = PreviewNextInvoiceSerializer(allow_null=True)


# --- billing and notifications --------------------------------------------------------------------
class InvoiceSerializer(serializers.ModelSerializer):
    subscription = serializers.PrimaryKeyRelatedField(read_only=True)
    customer = serializers.PrimaryKeyRelatedField(read_only=True)
    pdf = serializers.SerializerMethodField(help_text="Endereço do PDF da fatura (com a mesma chave).")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "subscription",
            "customer",
            "kind",
            "status",
            "period_start",
            "period_end",
            "currency",
            "subtotal",
            "discount",
            "tax",
            "total",
            "credit_applied",
            "amount_paid",
            "amount_refunded",
            "due_at",
            "paid_at",
            "created_at",
            "pdf",
        ]
        read_only_fields = fields

    def get_pdf(self, invoice) -> str:
        path = reverse("api:invoice-pdf", kwargs={"pk": invoice.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class PaymentSerializer(serializers.ModelSerializer):
    invoice = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "invoice",
            "attempt",
            "amount",
            "currency",
            "method",
            "status",
            "failure_code",
            "failure_message",
            "amount_refunded",
            "amount_charged_back",
            "expires_at",
            "settled_at",
            "created_at",
        ]
        read_only_fields = fields


class RefundSerializer(serializers.ModelSerializer):
    payment = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Refund
        fields = [
            "id",
            "payment",
            "amount",
            "reason",
            "status",
            "failure_code",
            "failure_message",
            "created_at",
        ]
        read_only_fields = fields


class EventSerializer(serializers.ModelSerializer):
    """An outbox event, as webhook receivers get it (`data` is the webhook's payload)."""

    data = serializers.JSONField(source="payload", read_only=True)

    class Meta:
        model = Event
        fields = ["id", "uid", "type", "data", "created_at"]
        read_only_fields = fields


class WebhookEndpointSerializer(serializers.ModelSerializer):
    # Blank while the endpoint is enabled: declared so the schema allows "" beside the reasons.
    disabled_reason = serializers.ChoiceField(
        choices=DisabledReason.choices, allow_blank=True, read_only=True
    )
    event_types = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, default=list
    )

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "all_event_types",
            "event_types",
            "is_active",
            "disabled_at",
            "disabled_reason",
            "created_at",
        ]
        read_only_fields = ["id", "disabled_at", "disabled_reason", "created_at"]
        extra_kwargs = {"url": {"validators": []}}


class WebhookEndpointCreatedSerializer(WebhookEndpointSerializer):
    """The answer to POST /webhook_endpoints: the signing secret, shown this once."""

    secret = serializers.CharField(read_only=True)

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = [*WebhookEndpointSerializer.Meta.read_only_fields, "secret"]
