"""Two-phase charging through a remote gateway: our engine creating Stripe PaymentIntents with the official
`stripe` library, against the local Stripe stand-in (tests/stripe_server.py) on 127.0.0.1.

Double charges are counted on the stub's own ledger (the PaymentIntents it created), never on our tables.
The clock is passed explicitly (`now=`) instead of travelled: the requests run in threads and a frozen
clock would also freeze the HTTP library's timeouts."""

import datetime as dt
import time
from collections import Counter

import pytest
from django.utils import timezone

from billing.choices import Gateway, InvoiceStatus, PaymentStatus, StripeMode
from billing.gateways import ChargeRequest, remote_gateways
from billing.gateways.stripe_intents import StripeIntentsGateway
from billing.models import BillingRun, Invoice, Payment
from billing.services.batch import renew_many
from billing.services.billing_run import billing_run_start, process_chunk
from billing.services.remote_charging import (
    AWAITING_RESEND_AFTER,
    Outgoing,
    awaiting_payments,
    awaiting_requests,
    send_charges,
)
from core.events import EventType
from core.models import Event
from subscribers.choices import PaymentMethod, SubscriptionStatus
from tests.factories import PlanFactory, ProviderConnectionFactory, SubscriptionFactory
from tests.stripe_server import StripeServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def stub():
    with StripeServer() as running:
        yield running


@pytest.fixture
def engine(merchant, stub, settings):
    """The merchant's Stripe connection in our-engine mode; the library's API base is the stub."""
    settings.STRIPE_API_BASE = stub.api_base
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return ProviderConnectionFactory(merchant=merchant, mode=StripeMode.ENGINE)


def due_stripe(merchant, count, *, token="cus_123/pm_card_visa", now=None):
    now = now or timezone.now()
    plan = PlanFactory(merchant=merchant, price=4990)
    return [
        SubscriptionFactory(
            merchant=merchant,
            plan=plan,
            status=SubscriptionStatus.ACTIVE,
            payment_method=PaymentMethod.CARD,
            provider=Gateway.STRIPE,
            provider_id=f"sub_{i}",
            payment_token=token,
            billing_cycle_anchor=now - dt.timedelta(days=31),
            next_invoice_at=now - dt.timedelta(minutes=1),
        )
        for i in range(count)
    ]


def run_chunk(ids, now):
    """A billing run started at `now`, its chunks processed here; the chunks must cover `ids`."""
    (run,) = billing_run_start(now=now, dispatch=lambda *chunk: None)
    # The chunks as recorded (the dispatch runs on commit, which a test's transaction never reaches).
    chunks = [(run.pk, chunk.subscription_ids) for chunk in run.chunks.order_by("number")]
    counts = Counter()
    assert sorted(pk for _run_id, chunk in chunks for pk in chunk) == sorted(ids)
    for run_id, chunk in chunks:
        counts.update(process_chunk(run_id=run_id, subscription_ids=chunk, now=now))
    return run, counts


def test_a_due_renewal_is_charged_through_a_payment_intent_under_our_key(merchant, stub, engine):
    now = timezone.now()
    subscriptions = due_stripe(merchant, 5, now=now)
    _run, counts = run_chunk([s.pk for s in subscriptions], now)

    assert counts["succeeded"] == 5
    payments = list(Payment.objects.order_by("pk"))
    assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED] * 5
    assert all(p.gateway == Gateway.STRIPE and p.gateway_reference.startswith("pi_") for p in payments)
    assert set(Invoice.objects.values_list("status", flat=True)) == {InvoiceStatus.PAID}
    # The provider saw each of our keys once and created one PaymentIntent per key, for the right money.
    assert sorted(stub.charged_keys()) == sorted(p.idempotency_key for p in payments)
    intents = {i["id"]: i for i in stub.succeeded()}
    for payment in payments:
        intent = intents[payment.gateway_reference]
        assert (intent["amount"], intent["currency"]) == (4990, "brl")
        assert (intent["customer"], intent["payment_method"]) == ("cus_123", "pm_card_visa")
    types = Counter(Event.objects.values_list("type", flat=True))
    assert types[EventType.PAYMENT_SUCCEEDED] == 5 and types[EventType.INVOICE_PAID] == 5
    for subscription in subscriptions:
        subscription.refresh_from_db()
        assert subscription.last_payment_status == PaymentStatus.SUCCEEDED
        assert subscription.next_invoice_at > now


def test_a_declined_card_fails_the_payment_and_starts_dunning(merchant, stub, engine):
    now = timezone.now()
    (subscription,) = due_stripe(merchant, 1, token="pm_card_chargeDeclined", now=now)
    _run, counts = run_chunk([subscription.pk], now)

    assert counts["failed"] == 1
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_code == "card_declined"
    assert payment.gateway_reference.startswith("pi_")
    invoice = payment.invoice
    assert invoice.status == InvoiceStatus.OPEN and invoice.next_attempt_at is not None
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert [i["status"] for i in stub.intents.values()] == ["requires_payment_method"]
    assert Event.objects.filter(type=EventType.PAYMENT_FAILED).count() == 1


def test_a_crash_between_sending_and_recording_resumes_without_a_second_charge(merchant, stub, engine):
    now = timezone.now()
    subscriptions = due_stripe(merchant, 6, now=now)
    ids = [s.pk for s in subscriptions]

    # Phase 1 commits the invoices and the awaiting payments; phase 2 sends them; then the worker dies
    # before phase 3 (its answers are lost with it).
    outcomes = renew_many(subscription_ids=ids, now=now)
    assert set(outcomes.values()) == {"awaiting"}
    sent = send_charges(awaiting_requests(ids))
    assert len(sent) == 6 and len(stub.intents) == 6
    assert awaiting_payments().count() == 6  # nothing recorded: still awaiting in the database

    # The retried chunk: nothing is due to draft any more, the awaiting payments are sent again under
    # the same keys and the provider answers with the PaymentIntents it already created.
    run = BillingRun.objects.create(merchant=merchant, due=6, chunks_total=1)
    counts = process_chunk(run_id=run.pk, subscription_ids=ids, now=now)

    assert counts["succeeded"] == 6
    assert len(stub.calls("POST", "/v1/payment_intents")) == 12  # every charge was asked twice …
    assert len(stub.intents) == 6  # … and created once
    keys = stub.charged_keys()
    assert len(keys) == len(set(keys)) == 6
    payments = Payment.objects.all()
    assert payments.count() == 6 and Invoice.objects.count() == 6
    assert set(payments.values_list("status", flat=True)) == {PaymentStatus.SUCCEEDED}
    assert {p.gateway_reference for p in payments} == set(stub.intents)


def test_awaiting_charges_left_by_a_dead_worker_are_picked_up_by_a_later_run(merchant, stub, engine):
    now = timezone.now()
    subscriptions = due_stripe(merchant, 3, now=now)
    ids = [s.pk for s in subscriptions]
    renew_many(subscription_ids=ids, now=now)  # phase 1 only: the worker died before sending
    assert stub.requests == []

    # Soon after, the charges are not due for anyone else (their worker may still be sending) …
    assert billing_run_start(now=now, dispatch=lambda *a: None) == []
    # … but once they are stale, a later run finds them and charges each once.
    later = timezone.now() + AWAITING_RESEND_AFTER + dt.timedelta(seconds=1)
    _run, counts = run_chunk(ids, later)
    assert counts["succeeded"] == 3
    assert len(stub.intents) == 3
    assert awaiting_payments().count() == 0
    assert Invoice.objects.count() == 3  # no period invoiced again


def test_an_unknown_outcome_stays_awaiting_and_is_never_retried_under_a_new_key(merchant, stub, engine):
    now = timezone.now()
    (subscription,) = due_stripe(merchant, 1, now=now)
    stub.stop()  # the provider is unreachable: the request's outcome is unknown
    run = BillingRun.objects.create(merchant=merchant, due=1, chunks_total=1)
    counts = process_chunk(run_id=run.pk, subscription_ids=[subscription.pk], now=now)
    assert counts["succeeded"] == counts["failed"] == 0
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PENDING and payment.gateway_reference == ""
    assert payment.attempt == 1
    assert Invoice.objects.get().next_attempt_at is None  # no dunning retry (a new key) was scheduled


def test_sending_honours_the_concurrency_bound_and_the_rate_limit(stub):
    stub.latency = 0.05
    bound, rate, count = 3, 40.0, 24

    def factory(merchant_id):
        return StripeIntentsGateway(
            api_key="sk_test_bound", api_base=stub.api_base, max_concurrency=bound, rate_per_second=rate
        )

    outgoing = [
        Outgoing(
            payment_id=i,
            subscription_id=i,
            gateway=Gateway.STRIPE,
            request=ChargeRequest(
                merchant_id=1,
                idempotency_key=f"bound-{i}",
                amount=100,
                currency="BRL",
                method=PaymentMethod.CARD,
                payment_token="pm_card_visa",
            ),
        )
        for i in range(count)
    ]
    started = time.monotonic()
    with remote_gateways.override(Gateway.STRIPE, factory):
        answers = send_charges(outgoing)
    elapsed = time.monotonic() - started

    assert all(a.status == PaymentStatus.SUCCEEDED for a in answers.values())
    assert 2 <= stub.max_in_flight <= bound  # really concurrent, never above the bound
    arrivals = stub.arrivals
    span = arrivals[-1] - arrivals[0]
    assert span >= (count - 1) / rate * 0.95  # started no faster than the rate
    assert elapsed >= (count - 1) / rate * 0.95


def test_in_mirror_mode_our_run_never_renews_a_stripe_subscription(merchant, stub, settings):
    settings.STRIPE_API_BASE = stub.api_base
    connection = ProviderConnectionFactory(merchant=merchant, mode=StripeMode.MIRROR)
    now = timezone.now()
    (mirrored,) = due_stripe(merchant, 1, now=now)
    (own,) = due_stripe(merchant, 1, token="", now=now)
    own.provider = ""  # a sandbox card of the same merchant
    own.save(update_fields=["provider"])

    _run, counts = run_chunk([own.pk], now)
    assert counts["succeeded"] == 1
    assert not Invoice.objects.filter(subscription=mirrored).exists()  # Stripe bills it
    assert stub.requests == []
    # Even when due work brings it into a chunk, the per-subscription path leaves its renewal to Stripe.
    run = BillingRun.objects.create(merchant=merchant, due=1, chunks_total=1)
    process_chunk(run_id=run.pk, subscription_ids=[mirrored.pk], now=now)
    assert not Invoice.objects.filter(subscription=mirrored).exists()

    # Switched to our engine, the next run renews and charges it through Stripe.
    connection.mode = StripeMode.ENGINE
    connection.save(update_fields=["mode"])
    _run, counts = run_chunk([mirrored.pk], now)
    assert counts["succeeded"] == 1
    assert Payment.objects.get(invoice__subscription=mirrored).gateway == Gateway.STRIPE
    assert len(stub.intents) == 1
