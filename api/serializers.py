"""What the API shows of each model. Amounts are integers of minor units (centavos) with their currency."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from billing.models import Invoice, Payment, Refund
from core.models import Event
from notifications.webhooks.choices import DisabledReason
from notifications.webhooks.models import WebhookEndpoint
from plans.choices import IntervalUnit
from plans.models import Coupon, Plan, TaxRate
from subscribers import timeline
from subscribers.choices import (
    MAX_SCHEDULE_PHASES,
    BackdateBilling,
    CancelOrigin,
    CancelWhen,
    DiscountType,
    PaymentMethod,
    PhaseAnchor,
    PhaseKind,
    PhaseProration,
    PhaseState,
    ResumeMode,
    ScheduleEndBehavior,
    failure_text,
)
from subscribers.models import ADDRESS_FIELDS, Customer, SchedulePhase, Subscription, SubscriptionSchedule
from subscribers.selectors import schedule_phases
from subscribers.services.schedules import TERM_FIELDS

# Bounds that keep amounts inside PostgreSQL's bigint and quantities sane; the services check the rest.
MAX_AMOUNT = 10**12
MAX_QUANTITY = 100_000
# Who may be named as asking for a cancellation through the API ("admin" is platform staff only).
CANCEL_ORIGINS = [
    (c.value, c.label) for c in (CancelOrigin.CUSTOMER, CancelOrigin.SELLER, CancelOrigin.PROVIDER)
]


# The API's names of the address parts: the model's without "address_" (`address.postal_code`).
ADDRESS_KEYS = {field: field.removeprefix("address_") for field in ADDRESS_FIELDS}


class AddressSerializer(serializers.Serializer):
    """A Brazilian postal address. On a write, all or nothing: CEP, logradouro (`street`), número
    (`number`), cidade and UF are required when an address is sent; `complement` and `district` (bairro)
    may be blank."""

    postal_code = serializers.CharField(
        max_length=20, allow_blank=True, default="", help_text='CEP: "01310-100" (or "01310100" on a write).'
    )
    street = serializers.CharField(max_length=150, allow_blank=True, default="", help_text="Logradouro.")
    number = serializers.CharField(max_length=20, allow_blank=True, default="", help_text='Número, or "s/n".')
    complement = serializers.CharField(max_length=100, allow_blank=True, default="")
    district = serializers.CharField(max_length=100, allow_blank=True, default="", help_text="Bairro.")
    city = serializers.CharField(max_length=100, allow_blank=True, default="")
    state = serializers.CharField(max_length=2, allow_blank=True, default="", help_text='UF: "SP".')


class CustomerSerializer(serializers.ModelSerializer):
    address = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = ["id", "name", "email", "handle", "document", "phone", "address", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(AddressSerializer(allow_null=True))
    def get_address(self, customer) -> dict | None:
        """null when the customer has no address."""
        if not customer.has_address:
            return None
        return {key: getattr(customer, field) for field, key in ADDRESS_KEYS.items()}


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
    address = AddressSerializer(
        required=False,
        allow_null=True,
        help_text="The whole address (a PATCH replaces all of it); null removes it.",
    )

    def validate(self, attrs):
        # Flattened to the services' arguments (address_postal_code…); null or {} is "no address".
        if "address" in attrs:
            address = attrs.pop("address") or {}
            attrs.update({field: address.get(key, "") for field, key in ADDRESS_KEYS.items()})
        return attrs


class DiscountFieldsMixin(serializers.Serializer):
    discount_type = serializers.ChoiceField(choices=DiscountType.choices, required=False, allow_blank=True)
    discount_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, allow_null=True, min_value=0, max_value=100
    )
    discount_amount = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=MAX_AMOUNT
    )
    discount_periods = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=1200)


# --- schedules (Programações, docs/schedules.md) ------------------------------------------------------
class SchedulePhaseSerializer(serializers.ModelSerializer):
    """One phase as saved: its terms (the same names the writes take, so a GET can be edited and sent
    back), its computed dates and where it stands against now."""

    state = serializers.ChoiceField(
        choices=PhaseState.choices, read_only=True, help_text="past (encerrada), current (atual) ou future."
    )
    plan = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    coupon = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    tax_rates = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    # Blank on a phase with terms: declared so the schema allows "" beside the modes.
    resume_mode = serializers.ChoiceField(choices=ResumeMode.choices, allow_blank=True, read_only=True)
    price_interval_unit = serializers.ChoiceField(
        choices=IntervalUnit.choices, allow_blank=True, read_only=True
    )

    class Meta:
        model = SchedulePhase
        # A phase's terms as the schedule services define them (what an edit compares), with its place.
        fields = ["position", "state", "start_at", "end_at", *TERM_FIELDS]
        read_only_fields = fields


def phase_state(schedule: SubscriptionSchedule, position: int) -> str:
    """Where a phase stands, as the editor marks it: before the running one past, then current, then
    future (a schedule not started yet has only future phases)."""
    current = schedule.current_position
    if current is None or position > current:
        return PhaseState.FUTURE
    return PhaseState.CURRENT if position == current else PhaseState.PAST


class ScheduleSerializer(serializers.ModelSerializer):
    """GET /subscriptions/{id}/schedule: the subscription's schedule (the live one, else the latest)."""

    subscription = serializers.PrimaryKeyRelatedField(read_only=True)
    current_phase = serializers.IntegerField(
        source="current_position",
        allow_null=True,
        read_only=True,
        help_text="Posição da fase em curso (de 0); null antes da primeira.",
    )
    phases = serializers.SerializerMethodField()

    class Meta:
        model = SubscriptionSchedule
        fields = [
            "id",
            "subscription",
            "status",
            "end_behavior",
            "current_phase",
            "next_phase_at",
            "created_at",
            "updated_at",
            "ended_at",
            "phases",
        ]
        read_only_fields = fields

    @extend_schema_field(SchedulePhaseSerializer(many=True))
    def get_phases(self, schedule):
        phases = schedule_phases(schedule)
        for phase in phases:
            phase.state = phase_state(schedule, phase.position)
        return SchedulePhaseSerializer(phases, many=True, context=self.context).data


class PhaseEndField(serializers.DateTimeField):
    """A phase's end: a date-time, or a date (YYYY-MM-DD) meaning midnight of that day on the merchant's
    clock, as the phase editor reads its date."""

    def to_internal_value(self, value):
        day = None
        if isinstance(value, str) and len(value.strip()) == 10:
            try:
                day = parse_date(value.strip())
            except ValueError:
                day = None  # a well-formed but impossible date: refused below like any invalid value
        if day is not None:
            value = self.root.context["merchant"].start_of_day(day)
        return super().to_internal_value(value)


# Phase dates are computed from ends and periods; beyond these years they leave datetime's range.
PHASE_YEARS = (2000, 2200)
MAX_PHASE_YEARS = 100
PERIOD_DAYS = {IntervalUnit.DAY: 1, IntervalUnit.WEEK: 7, IntervalUnit.MONTH: 31, IntervalUnit.YEAR: 366}


class SchedulePhaseWriteSerializer(serializers.Serializer):
    """One phase in a write: a plan or a one-off price (`price_*`), quantity, coupon or discount, tax
    rates, trial, an end (`end_date`, or `iterations` billing periods) and what entering it does; or a
    pause (`kind` pause: `end_date` and `resume_mode` only)."""

    kind = serializers.ChoiceField(choices=PhaseKind.choices, default=PhaseKind.TERMS)
    plan = MerchantScopedPrimaryKeyField(Plan, required=False, allow_null=True, default=None)
    price_name = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    price_amount = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_AMOUNT
    )
    price_interval_unit = serializers.ChoiceField(
        choices=IntervalUnit.choices, required=False, allow_blank=True, default=""
    )
    price_interval_count = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=365
    )
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY, default=1)
    coupon = MerchantScopedPrimaryKeyField(Coupon, required=False, allow_null=True, default=None)
    discount_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        required=False,
        allow_null=True,
        default=None,
        min_value=0,
        max_value=100,
    )
    tax_rates = MerchantScopedPrimaryKeyField(TaxRate, many=True, required=False, default=list)
    trial_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=730
    )
    end_date = PhaseEndField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Fim da fase: data e hora ISO 8601, ou uma data (meia-noite no fuso do lojista).",
    )
    iterations = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=120,
        help_text="Ou: a fase termina após N períodos do seu preço.",
    )
    proration = serializers.ChoiceField(choices=PhaseProration.choices, default=PhaseProration.PRORATE)
    anchor = serializers.ChoiceField(choices=PhaseAnchor.choices, default=PhaseAnchor.AUTOMATIC)
    resume_mode = serializers.ChoiceField(
        choices=ResumeMode.choices, required=False, allow_blank=True, default=""
    )

    def validate(self, data):
        price = data["plan"]
        unit, count = (
            (price.interval_unit, price.interval_count)
            if price
            else (
                data["price_interval_unit"],
                data["price_interval_count"],
            )
        )
        if unit and count and data["iterations"]:
            days = count * data["iterations"] * PERIOD_DAYS.get(unit, 1)
            if days > MAX_PHASE_YEARS * 366:
                raise serializers.ValidationError(
                    {
                        "iterations": _("Uma fase pode durar no máximo %(years)s anos.")
                        % {"years": MAX_PHASE_YEARS}
                    },
                    code="phase_too_long",
                )
        return data

    def validate_end_date(self, value):
        if value is not None and not PHASE_YEARS[0] <= value.year <= PHASE_YEARS[1]:
            raise serializers.ValidationError(
                _("Informe uma data entre %(first)s e %(last)s.")
                % {"first": PHASE_YEARS[0], "last": PHASE_YEARS[1]},
                code="date_out_of_range",
            )
        return value


def _phases_field(**kwargs):
    return SchedulePhaseWriteSerializer(many=True, max_length=MAX_SCHEDULE_PHASES, **kwargs)


class ScheduleCreateSerializer(serializers.Serializer):
    """POST /subscriptions/{id}/schedule (schedule_create). A running subscription keeps its current terms
    as phase 0, until its current period ends; `phases` follow it. One not started yet (a future contract)
    takes `phases` from its start."""

    end_behavior = serializers.ChoiceField(
        choices=ScheduleEndBehavior.choices,
        default=ScheduleEndBehavior.RELEASE,
        help_text="release: continua nas condições da última fase; cancel: termina com a última fase.",
    )
    phases = _phases_field(default=list)


RUNNING_PRORATION_HELP = (
    "O que a mudança de quantidade, cupom ou impostos da fase atual cobra agora: prorate "
    "(credita o tempo não usado e cobra o resto do período) ou none (vale a partir da próxima fatura)."
)


class ScheduleUpdateSerializer(serializers.Serializer):
    """PATCH /subscriptions/{id}/schedule (schedule_update): `phases` replaces the whole sequence, the
    phases that ended and the running one included (as GET shows them); what is not sent stays."""

    end_behavior = serializers.ChoiceField(choices=ScheduleEndBehavior.choices, required=False)
    phases = _phases_field(required=False)
    running_proration = serializers.ChoiceField(
        choices=PhaseProration.choices, default=PhaseProration.NONE, help_text=RUNNING_PRORATION_HELP
    )


class SchedulePreviewSerializer(serializers.Serializer):
    """POST /subscriptions/{id}/schedule/preview: the schedule as it would be created (no schedule yet:
    the phases after phase 0) or updated (the whole sequence), with the running phase's proration choice
    as PATCH takes it; nothing is saved."""

    end_behavior = serializers.ChoiceField(choices=ScheduleEndBehavior.choices, required=False)
    phases = _phases_field()
    running_proration = serializers.ChoiceField(
        choices=PhaseProration.choices, default=PhaseProration.NONE, help_text=RUNNING_PRORATION_HELP
    )


class ScheduleCancelSerializer(serializers.Serializer):
    """POST /subscriptions/{id}/schedule/cancel (schedule_cancel): the schedule and its subscription end
    now, with who asked and why."""

    origin = serializers.ChoiceField(choices=CANCEL_ORIGINS, help_text="Quem pediu o cancelamento.")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class UpcomingLineSerializer(serializers.Serializer):
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_amount = serializers.IntegerField()
    amount = serializers.IntegerField()
    discount_amount = serializers.IntegerField()
    tax_amount = serializers.IntegerField()
    proration = serializers.BooleanField()
    period_start = serializers.DateTimeField(allow_null=True)
    period_end = serializers.DateTimeField(allow_null=True)


class UpcomingInvoiceSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="Data da fatura (início do período).")
    period_end = serializers.DateTimeField(source="draft.period_end")
    installment_number = serializers.IntegerField(source="draft.installment_number", allow_null=True)
    plan_name = serializers.CharField()
    lines = UpcomingLineSerializer(many=True)
    subtotal = serializers.IntegerField()
    discount = serializers.IntegerField()
    tax = serializers.IntegerField()
    total = serializers.IntegerField()
    credit_applied = serializers.IntegerField()
    amount_due = serializers.IntegerField()


class UpcomingInvoicesSerializer(serializers.Serializer):
    """Próximas faturas: the next invoices as the billing run will write them (billing.services.upcoming)."""

    currency = serializers.CharField()
    balance = serializers.IntegerField(help_text="Saldo de crédito do cliente agora.")
    balance_after = serializers.IntegerField(help_text="Saldo depois destas faturas.")
    ends_at = serializers.DateTimeField(allow_null=True)
    end_reason = serializers.CharField(
        allow_blank=True, help_text="Por que a cobrança termina nelas (cancel, pause, installments) ou vazio."
    )
    invoices = UpcomingInvoiceSerializer(many=True)


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
    schedule = ScheduleCreateSerializer(
        required=False,
        allow_null=True,
        default=None,
        help_text="Uma programação desde o início (as fases de POST /subscriptions/{id}/schedule).",
    )


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

    origin = serializers.ChoiceField(choices=CANCEL_ORIGINS, help_text="Quem pediu o cancelamento.")
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


class SchedulePreviewAnswerSerializer(UpcomingInvoicesSerializer):
    """The schedule preview: Próximas faturas with the schedule as it would be saved, and what saving it
    charges or credits now for a change to the running phase (running_proration "prorate")."""

    now = serializers.SerializerMethodField()

    @extend_schema_field(PreviewNowSerializer(allow_null=True))
    def get_now(self, upcoming):
        now = self.context.get("now")
        return PreviewNowSerializer(now).data if now else None


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


def platform_failure_text(obj) -> str:
    """Why a payment or refund failed, as the API says it: in pt-BR (the platform's language) when it is
    one of our codes, whoever reads; a provider's message as it gave it."""
    with translation.override(settings.LANGUAGE_CODE):
        return failure_text(obj.failure_code, obj.failure_message)


_FAILURE_HELP = "Por que falhou, em português; a mensagem do provedor como ele a deu."


class PaymentSerializer(serializers.ModelSerializer):
    invoice = serializers.PrimaryKeyRelatedField(read_only=True)
    failure_message = serializers.SerializerMethodField(help_text=_FAILURE_HELP)

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

    def get_failure_message(self, payment) -> str:
        return platform_failure_text(payment)


class RefundSerializer(serializers.ModelSerializer):
    """A refund, its reason as the `payment.refunded` event says it: `reason_code` and `reason_params` when
    the system worded it, and `reason`, the text in pt-BR whoever wrote it (verbatim when a person did)."""

    payment = serializers.PrimaryKeyRelatedField(read_only=True)
    reason = serializers.SerializerMethodField(help_text="O motivo, em português.")
    failure_message = serializers.SerializerMethodField(help_text=_FAILURE_HELP)

    class Meta:
        model = Refund
        fields = [
            "id",
            "payment",
            "amount",
            "reason",
            "reason_code",
            "reason_params",
            "status",
            "failure_code",
            "failure_message",
            "created_at",
        ]
        read_only_fields = fields

    def get_reason(self, refund) -> str:
        return timeline.platform_reason_text(refund.reason_code, refund.reason_params, refund.reason)

    def get_failure_message(self, refund) -> str:
        return platform_failure_text(refund)


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
