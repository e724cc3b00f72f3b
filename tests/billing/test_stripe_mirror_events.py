"""Mirror mode: Stripe bills, and its invoice, charge and dispute events are *applied* here through our
state services — a declined charge, a voided or written-off invoice, a refund made in Stripe's dashboard,
a dispute decided by the bank. Every event goes through the real webhook endpoint, signed as Stripe signs
it, built from the recorded objects in tests/fixtures/stripe/."""

import pytest

from billing import provider_notes
from billing.choices import ChargebackStatus, Gateway, InvoiceStatus, PaymentStatus, RefundStatus
from billing.choices import ProviderEventStatus as PE
from billing.models import Chargeback, Invoice, Payment, ProviderEvent, Refund
from core.events import EventType
from core.models import Event
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from tests.billing.test_stripe_webhooks import SECRET, SUB_ID, T0, deliver, process
from tests.factories import PlanFactory, ProviderConnectionFactory
from tests.stripe_server import fixture

pytestmark = pytest.mark.django_db

CHARGE = "ch_3PzQ8kLkdIwHu7ix1Charge01"
FAILED_CHARGE = "ch_3PzQ9mLkdIwHu7ix1Failed1"
STRIPE_INVOICE = "in_1PzQ9mLkdIwHu7ixInv00002"


def processed(merchant, key=SUB_ID):
    counts = process(merchant, key)
    assert counts[PE.FAILED] == 0, list(ProviderEvent.objects.values_list("type", "last_error"))
    return counts


@pytest.fixture
def connection(merchant):
    return ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)


@pytest.fixture
def mirrored(client, connection, stripe_server):
    """A subscription Stripe created and bills (its invoices are drafted here when Stripe's arrive)."""
    PlanFactory(
        merchant=connection.merchant, price=4990, currency="BRL", interval_unit="month", interval_count=1
    )
    for name in ("customer", "subscription", "charge_failed"):
        stripe_server.put(fixture(name))
    deliver(client, connection, "customer.subscription.created", fixture("subscription"), T0)
    processed(connection.merchant)
    subscription = Subscription.objects.get(provider_id=SUB_ID)
    assert subscription.status == SubscriptionStatus.ACTIVE
    return subscription


def failed_payment(client, connection, created=T0 + 10):
    deliver(client, connection, "invoice.payment_failed", fixture("invoice_payment_failed"), created)
    processed(connection.merchant)


def paid(client, connection):
    deliver(client, connection, "invoice.paid", fixture("invoice"), T0 + 3)
    processed(connection.merchant)
    return Payment.objects.get(gateway=Gateway.STRIPE, gateway_reference=CHARGE)


# --- invoice.payment_failed ---------------------------------------------------------------------------------
def test_a_declined_stripe_charge_fails_our_payment_and_makes_the_subscription_past_due_without_retries(
    client, connection, mirrored
):
    failed_payment(client, connection)
    invoice = Invoice.objects.get(subscription=mirrored)
    assert invoice.status == InvoiceStatus.OPEN and invoice.provider_reference == STRIPE_INVOICE
    # Stripe runs its own retries: ours never schedules one for a mirrored invoice.
    assert invoice.next_attempt_at is None
    payment = Payment.objects.get(invoice=invoice, gateway=Gateway.STRIPE)
    assert payment.attempt == invoice.attempt_count
    assert (payment.status, payment.gateway, payment.gateway_reference) == (
        PaymentStatus.FAILED,
        Gateway.STRIPE,
        FAILED_CHARGE,
    )
    # The decline reason is Stripe's own, read from the charge.
    assert payment.failure_code == "insufficient_funds"
    mirrored.refresh_from_db()
    assert mirrored.status == SubscriptionStatus.PAST_DUE
    types = set(Event.objects.values_list("type", flat=True))
    assert {
        EventType.PAYMENT_FAILED,
        EventType.INVOICE_PAYMENT_FAILED,
        EventType.SUBSCRIPTION_PAST_DUE,
    } <= types

    # The same decline sent again under a new event id records nothing more.
    failed_payment(client, connection, created=T0 + 11)
    assert Payment.objects.filter(invoice=invoice, gateway=Gateway.STRIPE).count() == 1


def test_stripe_retry_succeeding_pays_the_same_invoice_and_cures_the_subscription(
    client, connection, mirrored
):
    failed_payment(client, connection)
    retried = fixture(
        "invoice_payment_failed",
        status="paid",
        paid=True,
        amount_paid=4990,
        charge="ch_3PzQ9mLkdIwHu7ixRetry01",
    )
    deliver(client, connection, "invoice.paid", retried, T0 + 20)
    processed(connection.merchant)
    invoice = Invoice.objects.get(subscription=mirrored)
    assert invoice.status == InvoiceStatus.PAID
    stripe_payments = invoice.payments.filter(gateway=Gateway.STRIPE).order_by("attempt")
    assert list(stripe_payments.values_list("status", flat=True)) == [
        PaymentStatus.FAILED,
        PaymentStatus.SUCCEEDED,
    ]
    mirrored.refresh_from_db()
    assert mirrored.status == SubscriptionStatus.ACTIVE


def test_an_older_decline_after_a_newer_payment_is_ignored_by_the_watermark(client, connection, mirrored):
    retried = fixture("invoice_payment_failed", status="paid", paid=True, charge="ch_3PzQ9mLkdIwHu7ixRetry01")
    deliver(client, connection, "invoice.paid", retried, T0 + 20)
    processed(connection.merchant)
    failed_payment(client, connection, created=T0 + 10)
    late = ProviderEvent.objects.get(type="invoice.payment_failed")
    assert late.status == PE.IGNORED
    assert not Payment.objects.filter(status=PaymentStatus.FAILED).exists()
    mirrored.refresh_from_db()
    assert mirrored.status == SubscriptionStatus.ACTIVE


# --- invoice.voided / invoice.marked_uncollectible --------------------------------------------------
def test_an_invoice_voided_in_stripe_is_voided_here_and_the_subscription_runs_again(
    client, connection, mirrored
):
    failed_payment(client, connection)
    voided = fixture("invoice_payment_failed", status="void")
    deliver(client, connection, "invoice.voided", voided, T0 + 30)
    processed(connection.merchant)
    invoice = Invoice.objects.get(subscription=mirrored)
    assert invoice.status == InvoiceStatus.VOID
    mirrored.refresh_from_db()
    assert mirrored.status == SubscriptionStatus.ACTIVE
    assert Event.objects.filter(type=EventType.INVOICE_VOIDED, payload__id=invoice.pk).count() == 1
    # Sent again (another event id): nothing changes twice, and no other invoice is voided in its place.
    deliver(client, connection, "invoice.voided", voided, T0 + 31)
    processed(connection.merchant)
    assert Event.objects.filter(type=EventType.INVOICE_VOIDED).count() == 1


def test_an_invoice_marked_uncollectible_in_stripe_is_written_off_here(client, connection, mirrored):
    failed_payment(client, connection)
    deliver(
        client,
        connection,
        "invoice.marked_uncollectible",
        fixture("invoice_payment_failed", status="uncollectible"),
        T0 + 30,
    )
    processed(connection.merchant)
    invoice = Invoice.objects.get(subscription=mirrored)
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE
    assert Event.objects.filter(type=EventType.INVOICE_MARKED_UNCOLLECTIBLE, payload__id=invoice.pk).exists()
    # Still owed: Stripe collecting it later settles the same invoice.
    late = fixture("invoice_payment_failed", status="paid", paid=True, charge="ch_3PzQ9mLkdIwHu7ixLate001")
    deliver(client, connection, "invoice.paid", late, T0 + 40)
    processed(connection.merchant)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID


def test_a_void_for_a_stripe_invoice_we_never_saw_voids_nothing_of_ours(client, connection, mirrored):
    failed_payment(client, connection)
    other = fixture("invoice_payment_failed", id="in_1PzQ9mLkdIwHu7ixInv00099", status="void")
    deliver(client, connection, "invoice.voided", other, T0 + 30)
    processed(connection.merchant)
    # Our open invoice stands for another Stripe invoice (linked by the decline): it stays open.
    invoice = Invoice.objects.get(subscription=mirrored)
    assert invoice.status == InvoiceStatus.OPEN and invoice.provider_reference == STRIPE_INVOICE
    assert (
        ProviderEvent.objects.get(type="invoice.voided").note_code == provider_notes.NO_OPEN_INVOICE_MATCHES
    )


# --- charge.refunded ---------------------------------------------------------------------------------------
def money_invariant(payment):
    payment.refresh_from_db()
    refunded = sum(payment.refunds.filter(status=RefundStatus.SUCCEEDED).values_list("amount", flat=True))
    assert refunded == payment.amount_refunded == payment.invoice.amount_refunded
    assert payment.amount_refunded + payment.amount_charged_back <= payment.amount


def test_a_partial_then_full_refund_in_stripe_become_our_refunds_once_each(client, connection, mirrored):
    payment = paid(client, connection)
    deliver(client, connection, "charge.refunded", fixture("charge_refunded"), T0 + 50)
    processed(connection.merchant, CHARGE)
    refund = Refund.objects.get(payment=payment)
    assert (refund.amount, refund.gateway_reference, refund.status) == (
        1000,
        "re_3PzQ8kLkdIwHu7ix1Refund01",
        RefundStatus.SUCCEEDED,
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    money_invariant(payment)
    assert Event.objects.filter(type=EventType.PAYMENT_REFUNDED).count() == 1

    # Stripe sends the same state again under a new event id: nothing more is recorded.
    deliver(client, connection, "charge.refunded", fixture("charge_refunded"), T0 + 51)
    processed(connection.merchant, CHARGE)
    assert Refund.objects.filter(payment=payment).count() == 1

    # The rest is refunded: the charge now lists both refunds.
    second = fixture("refund", id="re_3PzQ8kLkdIwHu7ix1Refund02", amount=3990, created=1765152000)
    full = fixture("charge_refunded", amount_refunded=4990, refunded=True)
    full["refunds"]["data"] = [second, fixture("refund")]
    deliver(client, connection, "charge.refunded", full, T0 + 60)
    processed(connection.merchant, CHARGE)
    assert sorted(Refund.objects.filter(payment=payment).values_list("gateway_reference", "amount")) == [
        ("re_3PzQ8kLkdIwHu7ix1Refund01", 1000),
        ("re_3PzQ8kLkdIwHu7ix1Refund02", 3990),
    ]
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    money_invariant(payment)
    # A running Stripe subscription keeps running: its own events say when it ends.
    mirrored.refresh_from_db()
    assert mirrored.status == SubscriptionStatus.ACTIVE


def test_a_refund_event_without_the_refund_list_records_the_amount_from_the_charge(
    client, connection, mirrored
):
    payment = paid(client, connection)
    charge = fixture("charge", amount_refunded=2500, refunded=False)  # API versions that omit `refunds`
    deliver(client, connection, "charge.refunded", charge, T0 + 50)
    processed(connection.merchant, CHARGE)
    refund = Refund.objects.get(payment=payment)
    assert refund.amount == 2500 and refund.gateway_reference == f"{CHARGE}:2500"
    money_invariant(payment)
    # An older event with a smaller cumulative amount, delivered late, changes nothing.
    deliver(client, connection, "charge.refunded", fixture("charge", amount_refunded=1000), T0 + 40)
    processed(connection.merchant, CHARGE)
    assert Refund.objects.filter(payment=payment).count() == 1
    money_invariant(payment)


def test_a_refund_never_takes_back_more_than_is_left_after_a_chargeback(client, connection, mirrored):
    payment = paid(client, connection)
    deliver(client, connection, "charge.dispute.created", fixture("dispute", amount=3000), T0 + 45)
    processed(connection.merchant, CHARGE)
    deliver(client, connection, "charge.refunded", fixture("charge", amount_refunded=4990), T0 + 50)
    processed(connection.merchant, CHARGE)
    # Charged back: nothing of it is ours to refund any more.
    assert not Refund.objects.filter(payment=payment).exists()
    money_invariant(payment)


# --- charge.dispute.closed -----------------------------------------------------------------------
def test_a_dispute_won_in_stripe_gives_the_payment_back(client, connection, mirrored):
    payment = paid(client, connection)
    settled_at = payment.settled_at
    deliver(client, connection, "charge.dispute.created", fixture("dispute"), T0 + 45)
    processed(connection.merchant, CHARGE)
    chargeback = Chargeback.objects.get(payment=payment)
    assert chargeback.status == ChargebackStatus.OPEN
    deliver(client, connection, "charge.dispute.closed", fixture("dispute", status="won"), T0 + 90)
    processed(connection.merchant, CHARGE)
    chargeback.refresh_from_db()
    payment.refresh_from_db()
    assert chargeback.status == ChargebackStatus.WON and chargeback.closed_at is not None
    assert (payment.status, payment.amount_charged_back, payment.settled_at) == (
        PaymentStatus.SUCCEEDED,
        0,
        settled_at,
    )
    closed = Event.objects.get(type=EventType.CHARGEBACK_CLOSED)
    assert closed.payload["status"] == "won" and closed.payload["payment"]["status"] == "succeeded"
    # The money was received once: winning it back is not a second payment.succeeded.
    assert Event.objects.filter(type=EventType.PAYMENT_SUCCEEDED).count() == 1
    # The subscription the chargeback ended stays ended.
    mirrored.refresh_from_db()
    assert mirrored.status == SubscriptionStatus.CANCELED


def test_a_dispute_lost_in_stripe_keeps_the_chargeback(client, connection, mirrored):
    payment = paid(client, connection)
    deliver(client, connection, "charge.dispute.created", fixture("dispute"), T0 + 45)
    deliver(client, connection, "charge.dispute.closed", fixture("dispute", status="lost"), T0 + 90)
    processed(connection.merchant, CHARGE)
    chargeback = Chargeback.objects.get(payment=payment)
    payment.refresh_from_db()
    assert chargeback.status == ChargebackStatus.LOST
    assert (payment.status, payment.amount_charged_back) == (PaymentStatus.CHARGED_BACK, 4990)
    # Closed again (a redelivery under another id): decided once.
    deliver(client, connection, "charge.dispute.closed", fixture("dispute", status="won"), T0 + 95)
    processed(connection.merchant, CHARGE)
    chargeback.refresh_from_db()
    assert chargeback.status == ChargebackStatus.LOST
    assert Event.objects.filter(type=EventType.CHARGEBACK_CLOSED).count() == 1


def test_a_lost_dispute_whose_creation_never_arrived_is_recorded_and_closed(client, connection, mirrored):
    payment = paid(client, connection)
    deliver(client, connection, "charge.dispute.closed", fixture("dispute", status="lost"), T0 + 90)
    processed(connection.merchant, CHARGE)
    chargeback = Chargeback.objects.get(payment=payment)
    assert chargeback.status == ChargebackStatus.LOST and chargeback.amount == 4990
