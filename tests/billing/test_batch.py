"""The billing run's batch (billing.services.batch): plain renewals done in bulk give exactly what
`process_subscription` gives, one by one — invoices, lines, payments, sandbox charges, subscriptions,
timeline and outbox events — and everything else still goes through the per-subscription path."""

import datetime as dt
import threading
import time
import zoneinfo
from dataclasses import replace
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, connections, transaction

from billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from billing.gateways import ChargeRequest, GatewayError
from billing.gateways.base import GatewayAdapter
from billing.gateways.sandbox import SandboxGateway
from billing.models import (
    BillingRun,
    BillingSettings,
    Invoice,
    InvoiceLine,
    InvoiceSequence,
    Payment,
    SandboxCharge,
)
from billing.services import invoicing
from billing.services.batch import renew_many
from billing.services.billing_run import process_chunk, process_subscription
from billing.services.invoicing import reserve_invoice_numbers
from billing.services.renewal import invoice_charge_key
from core.models import Event
from core.outbox import emit, emit_many
from plans.choices import CouponDuration, CouponKind, IntervalUnit
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionEvent
from tests.factories import (
    CouponFactory,
    InvoiceFactory,
    MerchantFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    TaxRateFactory,
)

pytestmark = pytest.mark.django_db
S = SubscriptionStatus
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 5, 10, 9, 0, tzinfo=SP)
DUE = NOW - dt.timedelta(minutes=1)  # a period boundary: anchors keep its day and time
DECLINED = "4000000000000002"
DECLINES_AFTER_FIRST = "4000000000000341"


def months_before(moment, months):
    month = moment.month - months
    year = moment.year + (month - 1) // 12
    return moment.replace(year=year, month=(month - 1) % 12 + 1)


def due(merchant, plan, *, months_back=1, **fields):
    """A subscription whose period starting at DUE must be invoiced now (anchored `months_back` before)."""
    anchor = months_before(DUE, months_back)
    fields.setdefault("status", S.ACTIVE)
    return SubscriptionFactory(
        merchant=merchant,
        plan=plan,
        billing_cycle_anchor=anchor,
        started_at=anchor,
        current_period_start=months_before(DUE, 1),
        current_period_end=DUE,
        next_invoice_at=DUE,
        **fields,
    )


@pytest.fixture
def world(merchant):
    """A chunk mixing plain renewals (batched) with everything the per-subscription path keeps.
    Returns (plain subscriptions, the others), each in pk order."""
    BillingSettings.objects.create(merchant=merchant)
    monthly = PlanFactory(merchant=merchant, name="Mensal", price=4990)
    annual = PlanFactory(merchant=merchant, name="Anual", price=49900, interval_unit=IntervalUnit.YEAR)
    installments = PlanFactory(merchant=merchant, name="Curso", price=100000, installments=6)
    iss = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5"))
    icms = TaxRateFactory(merchant=merchant, name="ICMS", percentage=Decimal("12.5"), inclusive=True)
    inactive = TaxRateFactory(merchant=merchant, name="Antigo", percentage=Decimal("3"), is_active=False)
    once = CouponFactory(merchant=merchant, code="BEMVINDO", percent_off=Decimal("10"))
    fixed = CouponFactory(
        merchant=merchant,
        code="MENOS10",
        kind=CouponKind.FIXED,
        percent_off=None,
        amount_off=1000,
        duration=CouponDuration.REPEATING,
        duration_in_months=3,
    )
    free = CouponFactory(
        merchant=merchant, code="GRATIS", percent_off=Decimal("100"), duration=CouponDuration.FOREVER
    )

    plain = [
        due(merchant, monthly),
        due(merchant, annual, quantity=3, months_back=12),
        due(
            merchant,
            monthly,
            quantity=2,
            discount_type="percent",
            discount_percent=Decimal("15"),
            discount_periods=1,
        ),
        due(merchant, monthly, coupon=once, coupon_applied_at=DUE),
        due(merchant, monthly, coupon=fixed, coupon_applied_at=months_before(DUE, 1)),
        due(merchant, monthly, coupon=free, coupon_applied_at=months_before(DUE, 1)),  # total 0
        due(merchant, monthly, quantity=4),  # taxes, below
        due(merchant, monthly, payment_token=DECLINED),
        due(merchant, annual, payment_token=DECLINES_AFTER_FIRST, months_back=12),
        due(merchant, monthly, payment_token=DECLINES_AFTER_FIRST),
        due(merchant, monthly, quantity=2, discount_type="fixed", discount_amount=990),
        due(merchant, monthly, payment_method=PaymentMethod.BOLETO),  # a boleto issued, pending
        due(merchant, installments),  # installment 1 of 6
    ]
    plain[6].tax_rates.add(iss, icms, inactive)
    # One period already billed: the manual discount (first period only) no longer applies.
    InvoiceFactory(
        merchant=merchant,
        subscription=plain[2],
        number=9001,
        status=InvoiceStatus.PAID,
        period_start=months_before(DUE, 1),
        period_end=DUE,
    )

    trialing = due(merchant, monthly, status=S.TRIALING, trial_ends_at=DUE)
    past_due = due(merchant, monthly, status=S.PAST_DUE)
    unpaid = InvoiceFactory(
        merchant=merchant,
        subscription=past_due,
        number=9002,
        period_start=months_before(DUE, 1),
        period_end=DUE,
        attempt_count=1,
        next_attempt_at=NOW - dt.timedelta(hours=1),
    )
    PaymentFactory(
        merchant=merchant,
        invoice=unpaid,
        status=PaymentStatus.FAILED,
        idempotency_key=f"inv_{unpaid.pk}_att_1",
    )
    others = [
        trialing,
        due(merchant, monthly, pending_plan=annual),
        due(merchant, monthly, pending_quantity=5),
        due(merchant, monthly, months_back=2),  # two periods behind: anchored 2 months back, due since 1
        past_due,
        due(merchant, monthly, cancel_at=DUE),  # ends before the period: nothing due
        due(merchant, monthly, payment_method=PaymentMethod.MANUAL),
    ]
    others[3].next_invoice_at = months_before(DUE, 1)
    others[3].save(update_fields=["next_invoice_at"])
    return plain, others


# --- snapshots ----------------------------------------------------------------------------------------
def _fields(obj, *, exclude=()):
    skip = {"id", "created_at", "updated_at", *exclude}
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields if f.attname not in skip}


def snapshot(subscriptions) -> dict:
    """Everything billing wrote for these subscriptions, with database ids (which differ between two runs)
    replaced by what they stand for."""
    ids = [s.pk for s in subscriptions]
    invoices = list(
        Invoice.objects.filter(subscription_id__in=ids).order_by("subscription_id", "period_start", "kind")
    )
    invoice_key = {inv.pk: (inv.subscription_id, inv.period_start.isoformat(), inv.kind) for inv in invoices}
    payments = list(
        Payment.objects.filter(invoice__in=invoices).order_by(
            "invoice__subscription_id", "invoice__period_start", "attempt"
        )
    )
    payment_key = {p.pk: (*invoice_key[p.invoice_id], p.attempt) for p in payments}
    charges = {c.idempotency_key: c for c in SandboxCharge.objects.all()}
    world = {"subscriptions": {}, "invoices": [], "payments": [], "events": {}, "timeline": {}}
    for subscription in Subscription.objects.filter(pk__in=ids).order_by("pk"):
        world["subscriptions"][subscription.pk] = _fields(subscription)
        world["timeline"][subscription.pk] = [
            _fields(e, exclude=("merchant_id", "subscription_id"))
            for e in SubscriptionEvent.objects.filter(subscription=subscription).order_by("pk")
        ]
        world["events"][subscription.pk] = []
    for invoice in invoices:
        lines = [
            _fields(line, exclude=("invoice_id",)) for line in InvoiceLine.objects.filter(invoice=invoice)
        ]
        world["invoices"].append((_fields(invoice, exclude=("number",)), lines))
    for payment in payments:
        assert payment.idempotency_key == invoice_charge_key(payment.invoice, payment.attempt) or (
            payment.idempotency_key.startswith(("factory_pay_", "inv_"))
        )
        charge = charges.get(payment.idempotency_key)
        ledger = None
        if charge is not None:
            assert charge.reference == payment.gateway_reference
            ledger = _fields(charge, exclude=("idempotency_key", "reference", "merchant_id"))
        row = _fields(payment, exclude=("invoice_id", "gateway_reference", "idempotency_key"))
        world["payments"].append((payment_key[payment.pk], row, ledger))
    for event in Event.objects.order_by("pk"):
        payload = dict(event.payload)
        if event.type.startswith("invoice."):
            owner = payload["subscription"]
            payload.update(id=invoice_key[payload["id"]], number="<number>")
        elif event.type.startswith("payment."):
            owner = invoice_key[payload["invoice"]][0]
            payload.update(id=payment_key[payload["id"]], invoice=invoice_key[payload["invoice"]])
        else:
            owner = payload["id"]
        world["events"].setdefault(owner, []).append((event.type, payload))
    return world


def numbers():
    return sorted(
        Invoice.objects.filter(kind=InvoiceKind.RECURRING, number__lt=9000).values_list("number", flat=True)
    )


class Rollback(Exception):
    pass


def one_by_one_then_roll_back(subscriptions):
    """The reference: process_subscription for each, snapshotted, then undone."""
    outcomes = []
    try:
        with transaction.atomic():
            for subscription in subscriptions:
                outcomes.append(process_subscription(subscription_id=subscription.pk, now=NOW))
            reference = snapshot(subscriptions), numbers()
            raise Rollback
    except Rollback:
        pass
    return reference, outcomes


def tally(outcomes):
    return {
        "processed": len(outcomes),
        "succeeded": outcomes.count("succeeded"),
        "failed": outcomes.count("failed"),
    }


# --- equivalence --------------------------------------------------------------------------------------
@time_machine.travel(NOW, tick=False)
def test_a_batched_chunk_writes_exactly_what_one_subscription_at_a_time_writes(merchant, world):
    plain, others = world
    everything = sorted(plain + others, key=lambda s: s.pk)
    (expected, expected_numbers), outcomes = one_by_one_then_roll_back(everything)
    run = BillingRun.objects.create(merchant=merchant, due=len(everything), chunks_total=1)

    counts = process_chunk(run_id=run.pk, subscription_ids=[s.pk for s in everything], now=NOW)

    got = snapshot(everything)
    for part in ("subscriptions", "timeline", "invoices", "payments", "events"):
        assert got[part] == expected[part], part
    assert numbers() == expected_numbers  # the same numbers, no gaps (assigned in another order)
    assert counts == tally(outcomes)
    run.refresh_from_db()
    assert (run.processed, run.succeeded, run.failed, run.status) == (
        counts["processed"],
        counts["succeeded"],
        counts["failed"],
        "finished",
    )


@time_machine.travel(NOW, tick=False)
def test_the_batch_takes_the_plain_renewals_and_leaves_the_rest_alone(world):
    plain, others = world

    outcomes = renew_many(subscription_ids=[s.pk for s in plain + others], now=NOW)

    assert sorted(outcomes) == [s.pk for s in plain]
    declined = {plain[7].pk, plain[9].pk}  # 4000…0002, and 4000…0341 charged for the second time
    assert {pk for pk, outcome in outcomes.items() if outcome == "failed"} == declined
    assert not Invoice.objects.filter(subscription__in=others, period_start__gte=DUE).exists()
    assert Subscription.objects.get(pk=plain[7].pk).status == S.PAST_DUE
    # Bulk-inserted payments send no signal: the batch writes each subscription's last payment status.
    assert Subscription.objects.get(pk=plain[0].pk).last_payment_status == "succeeded"
    assert Subscription.objects.get(pk=plain[7].pk).last_payment_status == "failed"
    free = Invoice.objects.get(subscription=plain[5], period_start=DUE)
    assert (free.total, free.status, free.payments.count()) == (0, InvoiceStatus.PAID, 0)
    taxed = Invoice.objects.get(subscription=plain[6], period_start=DUE)
    assert [d["name"] for d in taxed.lines.get().tax_details] == ["ICMS", "ISS"]  # active ones, by name
    assert (taxed.subtotal, taxed.tax, taxed.total) == (19960, 998 + 2218, 19960 + 998)


@time_machine.travel(NOW, tick=False)
def test_running_the_same_chunk_twice_changes_nothing_the_second_time(merchant, world):
    plain, others = world
    ids = [s.pk for s in plain + others]
    run = BillingRun.objects.create(merchant=merchant, due=len(ids), chunks_total=2)
    process_chunk(run_id=run.pk, subscription_ids=ids, now=NOW)
    before = snapshot(plain + others), Event.objects.count(), SandboxCharge.objects.count()

    counts = process_chunk(run_id=run.pk, subscription_ids=ids, now=NOW)

    assert (snapshot(plain + others), Event.objects.count(), SandboxCharge.objects.count()) == before
    assert counts == {"processed": len(ids), "succeeded": 0, "failed": 0}


@time_machine.travel(NOW, tick=False)
def test_a_unique_violation_rolls_the_batch_back_and_the_chunk_goes_one_by_one(merchant, world):
    plain, others = world
    # The period is already invoiced (paid, so the subscription still looks plain): the batch's insert
    # hits invoice_unique_recurring_period, and the per-subscription path skips that period.
    InvoiceFactory(
        merchant=merchant, subscription=plain[0], number=9003, status=InvoiceStatus.PAID, period_start=DUE
    )
    everything = sorted(plain + others, key=lambda s: s.pk)
    (expected, _numbers), outcomes = one_by_one_then_roll_back(everything)
    run = BillingRun.objects.create(merchant=merchant, due=len(everything), chunks_total=1)

    counts = process_chunk(run_id=run.pk, subscription_ids=[s.pk for s in everything], now=NOW)

    got = snapshot(everything)
    for part in ("subscriptions", "timeline", "invoices", "payments", "events"):
        assert got[part] == expected[part], part
    assert counts == tally(outcomes)
    assert Invoice.objects.filter(subscription=plain[0], period_start=DUE).count() == 1


@time_machine.travel(NOW, tick=False)
def test_what_the_batch_does_not_take_goes_to_the_per_subscription_path(merchant, monkeypatch):
    plan = PlanFactory(merchant=merchant)
    subscriptions = [due(merchant, plan) for _ in range(3)]
    seen = []
    monkeypatch.setattr(
        "billing.services.billing_run.process_subscription",
        lambda *, subscription_id, now=None: seen.append(subscription_id) or "skipped",
    )
    # Already renewed by someone else between the scan and the chunk: not due any more.
    Subscription.objects.filter(pk=subscriptions[1].pk).update(next_invoice_at=NOW + dt.timedelta(days=30))
    run = BillingRun.objects.create(merchant=merchant, due=3, chunks_total=1)

    counts = process_chunk(run_id=run.pk, subscription_ids=[s.pk for s in subscriptions], now=NOW)

    assert seen == [subscriptions[1].pk]
    assert counts == {"processed": 3, "succeeded": 2, "failed": 0}


# --- gateway: charge_many -------------------------------------------------------------------------------
def requests_for(merchant, other):
    def request(key, method="card", token="", amount=4990, currency="BRL", merchant_id=merchant.pk):
        return ChargeRequest(
            merchant_id=merchant_id,
            idempotency_key=key,
            amount=amount,
            currency=currency,
            method=method,
            payment_token=token,
        )

    return [
        request("k1"),
        request("k2", token="4000 0000 0000 0002"),
        request("k3", token="4000000000009995"),
        request("k4", token=DECLINES_AFTER_FIRST),
        request("k5", token="4111111111111111"),
        request("k6", method="boleto"),
        request("k7", method="pix", amount=100),
        request("k8", method="pix", currency="USD"),
        request("k9", token=DECLINES_AFTER_FIRST),
        request("k10", merchant_id=other.pk),  # a disconnected merchant
    ]


def comparable(results):
    return [(r.status, r.failure_code, r.failure_message, r.expires_at, sorted(r.details)) for r in results]


def ledger():
    return [_fields(row, exclude=("reference",)) for row in SandboxCharge.objects.order_by("idempotency_key")]


@time_machine.travel(NOW, tick=False)
def test_sandbox_charge_many_answers_what_charge_answers_one_by_one(merchant):
    other = MerchantFactory(slug="desligado")
    BillingSettings.objects.create(merchant=other, sandbox_disconnected=True)
    requests = requests_for(merchant, other)
    gateway = SandboxGateway()
    try:
        with transaction.atomic():
            one_by_one = [gateway.charge(r) for r in requests]
            expected_ledger = ledger()
            raise Rollback
    except Rollback:
        pass

    results = gateway.charge_many(requests)

    assert comparable(results) == comparable(one_by_one)
    assert ledger() == expected_ledger
    assert [r.status for r in results[3:4] + results[8:9]] == ["succeeded", "failed"]
    references = {row.idempotency_key: row.reference for row in SandboxCharge.objects.all()}
    assert [r.reference for r in results] == [references[r.idempotency_key] for r in requests]


@time_machine.travel(NOW, tick=False)
def test_sandbox_charge_many_is_idempotent_per_key(merchant):
    other = MerchantFactory(slug="desligado")
    requests = requests_for(merchant, other)
    gateway = SandboxGateway()
    first = gateway.charge_many(requests[:5])

    again = gateway.charge_many(requests)  # five known keys, five new ones

    assert again[:5] == first
    assert SandboxCharge.objects.count() == len(requests)
    assert [gateway.charge(r) for r in requests] == again


@time_machine.travel(NOW, tick=False)
def test_sandbox_charge_many_refuses_a_bad_request_before_charging_anything(merchant):
    gateway = SandboxGateway()
    good = ChargeRequest(
        merchant_id=merchant.pk, idempotency_key="a", amount=100, currency="BRL", method="card"
    )
    gateway.charge(good)

    with pytest.raises(GatewayError):
        gateway.charge_many(
            [replace(good, idempotency_key="b"), replace(good, idempotency_key="c", method="manual")]
        )
    with pytest.raises(GatewayError):
        gateway.charge_many([replace(good, amount=200)])  # key "a" again, another amount

    assert list(SandboxCharge.objects.values_list("idempotency_key", flat=True)) == ["a"]


def test_the_default_charge_many_charges_one_after_the_other():
    class Echo(GatewayAdapter):
        def charge(self, request):
            return request.idempotency_key

    requests = [
        ChargeRequest(merchant_id=1, idempotency_key=k, amount=1, currency="BRL", method="card")
        for k in "xyz"
    ]
    assert Echo().charge_many(requests) == ["x", "y", "z"]


# --- outbox: emit_many --------------------------------------------------------------------------------
def test_emit_many_writes_the_rows_emit_writes(merchant):
    payload = {"when": NOW, "amount": Decimal("1.50"), "nested": {"list": [1, "dois"]}, "none": None}
    emit(merchant=merchant, type="invoice.paid", payload=payload)

    assert emit_many([(merchant, "invoice.paid", payload), (merchant.pk, "payment.failed", {"id": 1})]) == 2

    first, second, third = Event.objects.order_by("pk")
    assert (second.merchant_id, second.type, second.payload) == (first.merchant_id, first.type, first.payload)
    assert (third.merchant_id, third.type, third.payload) == (merchant.pk, "payment.failed", {"id": 1})
    assert len({first.uid, second.uid, third.uid}) == 3 and second.created_at is not None


# --- PostgreSQL: numbers reserved in their own transaction ------------------------------------------------
def in_thread(job):
    """Runs `job` in a thread of its own (its own connection, committing for real), at NOW."""
    box = {}

    def worker():
        try:
            with time_machine.travel(NOW, tick=False):
                box["result"] = job()
        except Exception as exc:  # re-raised below
            box["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join(timeout=120)
    if "error" in box:
        raise box["error"]
    return box["result"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_numbers_are_reserved_outside_the_chunk_and_a_failed_batch_leaves_only_a_gap(merchant):
    plan = PlanFactory(merchant=merchant)
    subscriptions = [due(merchant, plan) for _ in range(6)]
    victim = subscriptions[3]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION fail_payment() RETURNS trigger AS $$
            BEGIN
              IF NEW.invoice_id IN (SELECT id FROM billing_invoice WHERE subscription_id = {victim.pk})
              THEN RAISE EXCEPTION 'injected failure'; END IF;
              RETURN NEW;
            END $$ LANGUAGE plpgsql;
            CREATE TRIGGER fail_payment BEFORE INSERT ON billing_payment
              FOR EACH ROW EXECUTE FUNCTION fail_payment();
            """
        )
    ids = [s.pk for s in subscriptions]
    run = BillingRun.objects.create(merchant=merchant, due=6, chunks_total=1)
    try:
        counts = in_thread(lambda: process_chunk(run_id=run.pk, subscription_ids=ids))
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER fail_payment ON billing_payment; DROP FUNCTION fail_payment();")

    assert counts == {"processed": 6, "succeeded": 5, "failed": 1}
    # The batch reserved 1–6 and rolled back: a gap. One by one, the others got 7–11 (the victim's
    # number went back with its transaction). The sandbox ledger rolled back with the batch: the
    # failed batch charged nobody, and nobody was charged twice.
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [7, 8, 9, 10, 11]
    assert InvoiceSequence.objects.get(merchant=merchant).last_number == 11
    assert SandboxCharge.objects.count() == Payment.objects.count() == 5
    assert not Invoice.objects.filter(subscription=victim).exists()

    counts = in_thread(lambda: process_chunk(run_id=run.pk, subscription_ids=ids))

    assert counts == {"processed": 6, "succeeded": 1, "failed": 0}
    assert Invoice.objects.filter(subscription=victim).count() == 1
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [7, 8, 9, 10, 11, 12]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_that_commits_uses_consecutive_numbers_without_holding_the_sequence(merchant):
    plan = PlanFactory(merchant=merchant)
    subscriptions = [due(merchant, plan) for _ in range(5)]
    run = BillingRun.objects.create(merchant=merchant, due=5, chunks_total=1)

    counts = in_thread(lambda: process_chunk(run_id=run.pk, subscription_ids=[s.pk for s in subscriptions]))

    assert counts == {"processed": 5, "succeeded": 5, "failed": 0}
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2, 3, 4, 5]
    assert Event.objects.filter(type="invoice.paid").count() == 5


@time_machine.travel(NOW, tick=False)
def test_sandbox_charge_many_with_a_key_twice_charges_it_once(merchant):
    request = ChargeRequest(
        merchant_id=merchant.pk, idempotency_key="a", amount=100, currency="BRL", method="card"
    )

    first, second = SandboxGateway().charge_many([request, request])

    assert first == second and first.status == "succeeded"
    assert SandboxCharge.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_sandbox_charge_many_answers_a_key_already_in_the_ledger_with_its_first_answer(merchant):
    requests = [
        ChargeRequest(merchant_id=merchant.pk, idempotency_key=key, amount=100, currency="BRL", method="card")
        for key in ("a", "b")
    ]
    # "a" was charged before (by an earlier batch, or by another process a moment ago).
    SandboxCharge.objects.create(
        merchant=merchant, idempotency_key="a", reference="sbx_ch_other", method="card", amount=100,
        currency="BRL", status="succeeded",
    )  # fmt: skip

    first, second = SandboxGateway().charge_many(requests)

    assert (first.reference, first.status) == ("sbx_ch_other", "succeeded")
    assert second.status == "succeeded" and SandboxCharge.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_numbering_connection_closed_by_the_server_is_opened_again(merchant):
    def job():
        first = reserve_invoice_numbers(merchant.pk, 3, own_transaction=True)
        side = invoicing._numbering.connection
        pid = side.connection.info.backend_pid
        with connection.cursor() as cursor:  # as the idle-session timeout (or a restart) would
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
            for _attempt in range(50):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [pid])
                if cursor.fetchone() == (0,):
                    break
                time.sleep(0.1)
        second = reserve_invoice_numbers(merchant.pk, 2, own_transaction=True)
        return list(first), list(second), invoicing._numbering.connection is not side

    assert in_thread(job) == ([1, 2, 3], [4, 5], True)
    assert InvoiceSequence.objects.get(merchant=merchant).last_number == 5
