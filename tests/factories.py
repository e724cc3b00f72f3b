"""factory_boy factories for every model; tests build their world with these, never with fixtures files."""

import datetime as dt
import json
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.choices import ApiKeyRole, Role
from accounts.models import ApiKey, Membership, Merchant
from billing.choices import (
    MONEY_RECEIVED_STATUSES,
    BillingRunStatus,
    BillingRunTrigger,
    InvoiceKind,
    InvoiceStatus,
    PaymentProvider,
    PaymentStatus,
    StripeMode,
)
from billing.models import (
    BillingRun,
    BillingRunChunk,
    BillingSettings,
    Chargeback,
    CreditEntry,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    ProviderConnection,
    ProviderEvent,
    ProviderObjectState,
    Refund,
    SandboxCharge,
)
from core.models import Event
from notifications.automations.choices import ActionKind, Trigger
from notifications.automations.models import Automation, AutomationRun, ProviderIntegration
from notifications.models import (
    CustomerEmailSettings,
    CustomerEmailTemplate,
    EmailSending,
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
)
from notifications.webhooks.services.signing import generate_secret
from plans.choices import CouponDuration, CouponKind, IntervalUnit
from plans.models import CheckoutLink, Coupon, Plan, PlanPrice, TaxRate
from plans.services.prices import plan_price_version_add
from subscribers.choices import EventKind, PaymentMethod, SubscriptionStatus
from subscribers.models import (
    Customer,
    PriceChangeNotice,
    SchedulePhase,
    SubscriberExport,
    Subscription,
    SubscriptionEvent,
    SubscriptionSchedule,
    SubscriptionTombstone,
)

DEFAULT_PASSWORD = "senha-de-teste-123"


class MerchantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Merchant
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Lojista {n}")
    slug = factory.Sequence(lambda n: f"lojista-{n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"usuario{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = "Maria"
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)
    role = Role.OWNER


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan
        skip_postgeneration_save = True  # the price version hook saves what it changes

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Plano {n}")
    price = 4990
    currency = "BRL"
    interval_unit = IntervalUnit.MONTH
    interval_count = 1

    @factory.post_generation
    def price_version(plan, create, extracted, **kwargs):
        # Every plan has its price as version 1, as plans.services.plan_create records it.
        if create and plan.current_price_id is None:
            plan_price_version_add(plan=plan)


class PlanPriceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanPrice

    merchant = factory.SubFactory(MerchantFactory)
    plan = factory.SubFactory(PlanFactory, merchant=factory.SelfAttribute("..merchant"))
    version = factory.Sequence(lambda n: n + 100)
    amount = 5990
    currency = "BRL"
    valid_from = factory.LazyFunction(timezone.now)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Cliente {n}")
    email = factory.Sequence(lambda n: f"cliente{n}@example.com")
    handle = factory.Sequence(lambda n: f"cliente{n}")
    document = ""


class SubscriptionFactory(factory.django.DjangoModelFactory):
    """A running monthly subscription contracted today. Real journeys go through
    subscribers.services.subscription_create; this is for setting up a world quickly."""

    class Meta:
        model = Subscription

    merchant = factory.SubFactory(MerchantFactory)
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    plan = factory.SubFactory(PlanFactory, merchant=factory.SelfAttribute("..merchant"))
    quantity = 1
    status = SubscriptionStatus.ACTIVE
    plan_price = factory.LazyAttribute(lambda s: s.plan.current_price)
    amount = factory.LazyAttribute(lambda s: s.plan.price * s.quantity)
    contract_date = factory.LazyFunction(timezone.localdate)
    billing_cycle_anchor = factory.LazyFunction(timezone.now)
    started_at = factory.LazyFunction(timezone.now)
    current_period_start = factory.LazyFunction(timezone.now)
    current_period_end = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


class PriceChangeNoticeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceChangeNotice

    merchant = factory.SubFactory(MerchantFactory)
    subscription = factory.SubFactory(SubscriptionFactory, merchant=factory.SelfAttribute("..merchant"))
    old_price = factory.LazyAttribute(lambda n: n.subscription.plan_price)
    new_price = factory.SubFactory(
        PlanPriceFactory,
        merchant=factory.SelfAttribute("..merchant"),
        plan=factory.SelfAttribute("..subscription.plan"),
    )
    currency = "BRL"
    old_amount = 4990
    new_amount = 5990
    notified_at = factory.LazyFunction(timezone.now)
    notice_ends_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


class SubscriptionEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionEvent

    merchant = factory.SubFactory(MerchantFactory)
    subscription = factory.SubFactory(SubscriptionFactory, merchant=factory.SelfAttribute("..merchant"))
    kind = EventKind.CREATED
    to_status = SubscriptionStatus.ACTIVE


class SubscriptionTombstoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionTombstone

    merchant = factory.SubFactory(MerchantFactory)
    subscription_pk = factory.Sequence(lambda n: 10_000 + n)
    customer_name = "Cliente Excluído"
    plan_name = "Plano"


class SubscriberExportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriberExport

    merchant = factory.SubFactory(MerchantFactory)
    query = factory.LazyFunction(lambda: {"status": "active"})
    description = "Status: Ativa"
    status = "finished"
    row_count = 10


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    merchant = factory.SubFactory(MerchantFactory)
    type = "subscription.created"


class CouponFactory(factory.django.DjangoModelFactory):
    """A 10 % coupon for the first charge."""

    class Meta:
        model = Coupon

    merchant = factory.SubFactory(MerchantFactory)
    code = factory.Sequence(lambda n: f"CUPOM-{n}")
    name = factory.Sequence(lambda n: f"Cupom {n}")
    kind = CouponKind.PERCENT
    percent_off = Decimal("10")
    currency = "BRL"
    duration = CouponDuration.ONCE


class CheckoutLinkFactory(factory.django.DjangoModelFactory):
    """An open checkout link to a monthly plan, every payment method allowed."""

    class Meta:
        model = CheckoutLink

    merchant = factory.SubFactory(MerchantFactory)
    plan = factory.SubFactory(PlanFactory, merchant=factory.SelfAttribute("..merchant"))


class TaxRateFactory(factory.django.DjangoModelFactory):
    """ISS at 5 %, added on top of the price."""

    class Meta:
        model = TaxRate

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"ISS {n}")
    percentage = Decimal("5")
    inclusive = False


# --- billing --------------------------------------------------------------------------------------------
class BillingSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BillingSettings
        django_get_or_create = ["merchant"]

    merchant = factory.SubFactory(MerchantFactory)


class InvoiceSequenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceSequence
        django_get_or_create = ["merchant"]

    merchant = factory.SubFactory(MerchantFactory)


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An open monthly invoice of R$ 49,90 for a new subscription. Real invoices come from
    billing.services.invoicing; this sets up lists and pages quickly."""

    class Meta:
        model = Invoice

    merchant = factory.SubFactory(MerchantFactory)
    subscription = factory.SubFactory(SubscriptionFactory, merchant=factory.SelfAttribute("..merchant"))
    customer = factory.SelfAttribute("subscription.customer")
    number = factory.Sequence(lambda n: n + 1)
    kind = InvoiceKind.RECURRING
    status = InvoiceStatus.OPEN
    # Distinct starts, so several recurring invoices of one subscription never collide.
    # One day apart per invoice: (subscription, period_start) is unique for recurring invoices, and a
    # second ticking over between two factory calls must not make two of them collide.
    period_start = factory.Sequence(
        lambda n: timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=n)
    )
    period_end = factory.LazyAttribute(lambda i: i.period_start + dt.timedelta(days=30))
    currency = "BRL"
    subtotal = 4990
    discount = 0
    tax = 0
    total = factory.LazyAttribute(lambda i: i.subtotal - i.discount + i.tax)
    due_at = factory.SelfAttribute("period_start")


class InvoiceLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = InvoiceLine

    class Params:
        # Lines have no merchant of their own; the generic tests pass one for the invoice.
        merchant = factory.SubFactory(MerchantFactory)

    invoice = factory.SubFactory(InvoiceFactory, merchant=factory.SelfAttribute("..merchant"))
    description = "Plano"
    period_start = factory.SelfAttribute("invoice.period_start")
    period_end = factory.SelfAttribute("invoice.period_end")
    quantity = 1
    unit_amount = 4990
    amount = factory.LazyAttribute(lambda line: line.quantity * line.unit_amount)


class PaymentFactory(factory.django.DjangoModelFactory):
    """A succeeded card payment of its invoice through the sandbox (no sandbox ledger row behind it;
    see SandboxChargeFactory for payments the sandbox must know about)."""

    class Meta:
        model = Payment

    merchant = factory.SubFactory(MerchantFactory)
    invoice = factory.SubFactory(InvoiceFactory, merchant=factory.SelfAttribute("..merchant"))
    attempt = 1
    amount = factory.LazyAttribute(lambda p: p.invoice.total)
    currency = "BRL"
    method = PaymentMethod.CARD
    gateway = "sandbox"
    gateway_reference = factory.Sequence(lambda n: f"sbx_ch_factory{n:06d}")
    status = PaymentStatus.SUCCEEDED
    idempotency_key = factory.Sequence(lambda n: f"factory_pay_{n}")
    settled_at = factory.LazyAttribute(
        lambda p: timezone.now() if p.status in MONEY_RECEIVED_STATUSES else None
    )


class RefundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Refund

    merchant = factory.SubFactory(MerchantFactory)
    payment = factory.SubFactory(PaymentFactory, merchant=factory.SelfAttribute("..merchant"))
    amount = 1000
    reason = "Pedido do cliente"
    status = "succeeded"
    gateway_reference = factory.Sequence(lambda n: f"sbx_re_factory{n:06d}")


class CreditEntryFactory(factory.django.DjangoModelFactory):
    """A manual credit of R$ 10,00 on a customer's balance."""

    class Meta:
        model = CreditEntry

    merchant = factory.SubFactory(MerchantFactory)
    customer = factory.SubFactory(CustomerFactory, merchant=factory.SelfAttribute("..merchant"))
    currency = "BRL"
    amount = 1000
    reason = "adjustment"
    note = "Cortesia"


class ChargebackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Chargeback

    merchant = factory.SubFactory(MerchantFactory)
    payment = factory.SubFactory(PaymentFactory, merchant=factory.SelfAttribute("..merchant"))
    amount = 1000
    reason = "Fraude alegada pelo titular"
    gateway_reference = factory.Sequence(lambda n: f"sbx_dp_factory{n:06d}")


class BillingRunFactory(factory.django.DjangoModelFactory):
    """A finished manual run over ten subscriptions, one of which failed."""

    class Meta:
        model = BillingRun

    merchant = factory.SubFactory(MerchantFactory)
    trigger = BillingRunTrigger.MANUAL
    status = BillingRunStatus.FINISHED
    due = 10
    processed = 10
    succeeded = 9
    failed = 1
    chunks_total = 1
    chunks_done = 1
    finished_at = factory.LazyAttribute(
        lambda r: timezone.now() if r.status != BillingRunStatus.RUNNING else None
    )


class BillingRunChunkFactory(factory.django.DjangoModelFactory):
    """A finished chunk of ten subscriptions."""

    class Meta:
        model = BillingRunChunk

    class Params:
        merchant = factory.SubFactory(MerchantFactory)

    run = factory.SubFactory(BillingRunFactory, merchant=factory.SelfAttribute("..merchant"))
    number = factory.Sequence(lambda n: n + 1)
    subscription_ids = factory.LazyFunction(lambda: list(range(1, 11)))
    status = "done"
    processed = 10


class SandboxChargeFactory(factory.django.DjangoModelFactory):
    """A pending pix charge in the sandbox's own ledger, expiring in three days."""

    class Meta:
        model = SandboxCharge

    merchant = factory.SubFactory(MerchantFactory)
    idempotency_key = factory.Sequence(lambda n: f"factory_sbx_{n}")
    reference = factory.Sequence(lambda n: f"sbx_ch_ledger{n:06d}")
    method = PaymentMethod.PIX
    amount = 4990
    currency = "BRL"
    status = PaymentStatus.PENDING
    expires_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=3))


class ProviderConnectionFactory(factory.django.DjangoModelFactory):
    """A Stripe connection in mirror mode with a restricted test key and a webhook signing secret."""

    class Meta:
        model = ProviderConnection

    merchant = factory.SubFactory(MerchantFactory)
    provider = PaymentProvider.STRIPE
    mode = StripeMode.MIRROR
    api_key = factory.Sequence(lambda n: f"rk_test_51Factory{n:08d}Key")
    api_key_last4 = factory.LazyAttribute(lambda o: o.api_key[-4:])
    webhook_secret = factory.Sequence(lambda n: f"whsec_factory{n:08d}secret")
    webhook_secret_last4 = factory.LazyAttribute(lambda o: o.webhook_secret[-4:])
    account_id = "acct_1Nv0FGQ9RKHgCVdK"


class ProviderEventFactory(factory.django.DjangoModelFactory):
    """A verified Stripe event waiting to be processed. Real ones come from stripe_event_receive."""

    class Meta:
        model = ProviderEvent

    merchant = factory.SubFactory(MerchantFactory)
    provider = PaymentProvider.STRIPE
    event_id = factory.Sequence(lambda n: f"evt_factory{n:08d}")
    type = "customer.subscription.updated"
    created = factory.LazyFunction(timezone.now)
    object_key = factory.Sequence(lambda n: f"sub_factory{n:08d}")
    body = factory.LazyAttribute(
        lambda o: json.dumps({"id": o.event_id, "type": o.type, "data": {"object": {"id": o.object_key}}})
    )
    signature_valid = True


class ProviderObjectStateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderObjectState

    merchant = factory.SubFactory(MerchantFactory)
    provider = PaymentProvider.STRIPE
    object_key = factory.Sequence(lambda n: f"sub_factory{n:08d}")
    watermark = factory.LazyFunction(timezone.now)


# --- notifications ----------------------------------------------------------------------------------------
class WebhookEndpointFactory(factory.django.DjangoModelFactory):
    """An active endpoint taking every event. Real ones come from webhook_endpoint_create (URL rule)."""

    class Meta:
        model = WebhookEndpoint

    merchant = factory.SubFactory(MerchantFactory)
    url = factory.Sequence(lambda n: f"https://hooks{n}.example.com/recorrente")
    description = "ERP"
    secret = factory.LazyFunction(generate_secret)


class WebhookDeliveryFactory(factory.django.DjangoModelFactory):
    """A delivery of a fresh event to a fresh endpoint of the same merchant, due now."""

    class Meta:
        model = WebhookDelivery

    merchant = factory.SubFactory(MerchantFactory)
    endpoint = factory.SubFactory(WebhookEndpointFactory, merchant=factory.SelfAttribute("..merchant"))
    event = factory.SubFactory(
        EventFactory,
        merchant=factory.SelfAttribute("..merchant"),
        type="invoice.paid",
        payload={"id": 1, "status": "paid"},
    )
    next_attempt_at = factory.LazyFunction(timezone.now)


class WebhookDeliveryAttemptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WebhookDeliveryAttempt

    class Params:
        # Attempts have no merchant of their own; the generic tests pass one for the delivery.
        merchant = factory.SubFactory(MerchantFactory)

    delivery = factory.SubFactory(WebhookDeliveryFactory, merchant=factory.SelfAttribute("..merchant"))
    number = 1
    attempted_at = factory.LazyFunction(timezone.now)
    status_code = 500
    latency_ms = 42


class ProviderIntegrationFactory(factory.django.DjangoModelFactory):
    """A generic HTTP/JSON provider with an encrypted token ("tok_…" + 4 digits)."""

    class Meta:
        model = ProviderIntegration
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Provedor {n}")
    url = factory.Sequence(lambda n: f"https://lists{n}.example.com/contacts")
    auth_header = "Authorization"

    @factory.post_generation
    def token(obj, create, extracted, **kwargs):
        from notifications import crypto

        value = extracted or "Bearer tok_segredo_1234"
        obj.token_encrypted, obj.token_last4 = crypto.encrypt(value), value[-4:]
        if create:
            obj.save(update_fields=["token_encrypted", "token_last4"])


class AutomationFactory(factory.django.DjangoModelFactory):
    """An enabled rule: a webhook call when a subscription is canceled (any origin), no conditions."""

    class Meta:
        model = Automation
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Automação {n}")
    trigger = Trigger.CANCELED_ANY
    action = ActionKind.WEBHOOK
    webhook_url = factory.Sequence(lambda n: f"https://automations{n}.example.com/hook")
    signing_secret = factory.LazyFunction(generate_secret)


class AutomationRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AutomationRun

    merchant = factory.SubFactory(MerchantFactory)
    automation = factory.SubFactory(AutomationFactory, merchant=factory.SelfAttribute("..merchant"))
    event = factory.SubFactory(
        EventFactory, merchant=factory.SelfAttribute("..merchant"), type="subscription.canceled"
    )
    event_type = factory.SelfAttribute("event.type")
    next_attempt_at = factory.LazyFunction(timezone.now)


# model → factory, so generic tests (isolation, admin) can build "an object of merchant B" for any model.
class CustomerEmailSettingsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerEmailSettings

    merchant = factory.SubFactory(MerchantFactory)


class CustomerEmailTemplateFactory(factory.django.DjangoModelFactory):
    """A merchant's own subject for the "assinatura criada" e-mail (the bodies stay the default)."""

    class Meta:
        model = CustomerEmailTemplate

    merchant = factory.SubFactory(MerchantFactory)
    kind = "subscription_created"
    subject = "Bem-vindo ao {{ assinatura.plano }}"


class EmailSendingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmailSending

    merchant = factory.SubFactory(MerchantFactory)
    kind = "subscription_created"
    recipient = "ana.souza@example.com"
    subject = "Sua assinatura está confirmada"
    body_text = "Olá, Ana!"
    subscription = factory.SubFactory(SubscriptionFactory, merchant=factory.SelfAttribute("..merchant"))
    status = "sent"
    sent_at = factory.LazyFunction(timezone.now)


class SubscriptionScheduleFactory(factory.django.DjangoModelFactory):
    """A schedule row for admin and isolation walks; real schedules go through schedule_create."""

    class Meta:
        model = SubscriptionSchedule

    merchant = factory.SubFactory(MerchantFactory)
    subscription = factory.SubFactory(SubscriptionFactory, merchant=factory.SelfAttribute("..merchant"))


class SchedulePhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchedulePhase

    class Params:
        merchant = factory.SubFactory(MerchantFactory)

    schedule = factory.SubFactory(SubscriptionScheduleFactory, merchant=factory.SelfAttribute("..merchant"))
    position = 0
    start_at = factory.LazyFunction(timezone.now)
    end_at = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=30))


class ApiKeyFactory(factory.django.DjangoModelFactory):
    """A key with a known secret is made with accounts.services.api_key_create; this one is for walks."""

    class Meta:
        model = ApiKey

    merchant = factory.SubFactory(MerchantFactory)
    name = factory.Sequence(lambda n: f"Chave {n}")
    role = ApiKeyRole.READ_ONLY
    prefix = "rk_live_abcd"
    secret_hash = factory.Sequence(lambda n: f"{n:064x}")


FACTORY_FOR_MODEL = {
    ApiKey: ApiKeyFactory,
    SubscriptionSchedule: SubscriptionScheduleFactory,
    SchedulePhase: SchedulePhaseFactory,
    BillingRunChunk: BillingRunChunkFactory,
    Merchant: MerchantFactory,
    Membership: MembershipFactory,
    Plan: PlanFactory,
    PlanPrice: PlanPriceFactory,
    PriceChangeNotice: PriceChangeNoticeFactory,
    Customer: CustomerFactory,
    Subscription: SubscriptionFactory,
    SubscriptionEvent: SubscriptionEventFactory,
    SubscriptionTombstone: SubscriptionTombstoneFactory,
    SubscriberExport: SubscriberExportFactory,
    Event: EventFactory,
    Coupon: CouponFactory,
    CheckoutLink: CheckoutLinkFactory,
    TaxRate: TaxRateFactory,
    BillingSettings: BillingSettingsFactory,
    InvoiceSequence: InvoiceSequenceFactory,
    Invoice: InvoiceFactory,
    InvoiceLine: InvoiceLineFactory,
    Payment: PaymentFactory,
    Refund: RefundFactory,
    Chargeback: ChargebackFactory,
    CreditEntry: CreditEntryFactory,
    BillingRun: BillingRunFactory,
    SandboxCharge: SandboxChargeFactory,
    ProviderConnection: ProviderConnectionFactory,
    ProviderEvent: ProviderEventFactory,
    ProviderObjectState: ProviderObjectStateFactory,
    WebhookEndpoint: WebhookEndpointFactory,
    WebhookDelivery: WebhookDeliveryFactory,
    WebhookDeliveryAttempt: WebhookDeliveryAttemptFactory,
    ProviderIntegration: ProviderIntegrationFactory,
    Automation: AutomationFactory,
    AutomationRun: AutomationRunFactory,
    CustomerEmailSettings: CustomerEmailSettingsFactory,
    CustomerEmailTemplate: CustomerEmailTemplateFactory,
    EmailSending: EmailSendingFactory,
}


def show_every_column(monkeypatch, table_name: str) -> None:
    """Makes every column of a configurable table ("Configurar tabela") shown by default, for tests about
    what the columns render rather than which are shown."""
    import dataclasses

    from core.table_config import CONFIGURABLE_TABLES

    config = CONFIGURABLE_TABLES[table_name]
    every = tuple(name for name, _header in config.choices())
    monkeypatch.setitem(CONFIGURABLE_TABLES, table_name, dataclasses.replace(config, default=every))
