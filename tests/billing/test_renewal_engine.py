"""The renewal engine (billing.services.renewal): one draft, two writers that write the same rows and
events; idempotency keys that survive a crash; the first charge right after a contract."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection, transaction
from django_q.conf import Conf

from billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from billing.models import BillingSettings, Invoice, Payment, SandboxCharge
from billing.services.batch import renew_many
from billing.services.billing_run import process_subscription
from billing.services.invoicing import subscription_taxes
from billing.services.renewal import charge_key, draft_renewal
from core.models import Event
from plans.choices import CouponDuration
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_create
from tests.billing.test_batch import DECLINED, DUE, NOW, Rollback, due, months_before, snapshot
from tests.factories import (
    CouponFactory,
    CustomerFactory,
    InvoiceFactory,
    MerchantFactory,
    PlanFactory,
    TaxRateFactory,
)

pytestmark = pytest.mark.django_db
S = SubscriptionStatus


@pytest.fixture
def mix(merchant):
    """Every kind of renewal the bulk writer takes, for two merchants (one without retries)."""
    BillingSettings.objects.create(merchant=merchant)
    strict = MerchantFactory(slug="sem-retentativas")
    BillingSettings.objects.create(merchant=strict, retries=0)
    monthly = PlanFactory(merchant=merchant, name="Mensal", price=4990)
    course = PlanFactory(merchant=merchant, name="Curso", price=100000, installments=6)
    strict_plan = PlanFactory(merchant=strict, name="Mensal", price=4990)
    iss = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5"))
    coupon = CouponFactory(
        merchant=merchant, code="METADE", percent_off=Decimal("50"), duration=CouponDuration.FOREVER
    )
    subscriptions = [
        due(merchant, monthly),
        due(merchant, monthly, coupon=coupon, coupon_applied_at=months_before(DUE, 1)),
        due(merchant, monthly, quantity=2),  # taxed, below
        due(merchant, course),  # installment 1 of 6
        due(merchant, course),  # installment 6 of 6: paid, the plan ends when its period does
        due(merchant, monthly, payment_method=PaymentMethod.BOLETO),
        due(merchant, monthly, payment_method=PaymentMethod.PIX),
        due(merchant, monthly, payment_token=DECLINED),  # retry scheduled, past due
        due(strict, strict_plan, payment_token=DECLINED),  # no retry left: dunning's final action
    ]
    subscriptions[2].tax_rates.add(iss)
    for n in range(1, 6):
        InvoiceFactory(
            merchant=merchant,
            subscription=subscriptions[4],
            number=9000 + n,
            status=InvoiceStatus.PAID,
            installment_number=n,
            period_start=months_before(DUE, 6 - n),
            period_end=months_before(DUE, 5 - n),
        )
    return subscriptions


@time_machine.travel(NOW, tick=False)
def test_the_row_writer_and_the_bulk_writer_write_the_same_rows_and_events(mix):
    # Given the mix, billed one subscription at a time (the row writer), then undone.
    try:
        with transaction.atomic():
            row_outcomes = {s.pk: process_subscription(subscription_id=s.pk, now=NOW) for s in mix}
            expected = snapshot(mix)
            raise Rollback
    except Rollback:
        pass

    # When the same mix is billed by the bulk writer.
    bulk_outcomes = renew_many(subscription_ids=[s.pk for s in mix], now=NOW)

    # Then it took every one of them and wrote exactly what the row writer wrote.
    assert bulk_outcomes == row_outcomes
    got = snapshot(mix)
    for part in ("subscriptions", "timeline", "invoices", "payments", "events"):
        assert got[part] == expected[part], part
    # And the outcomes are the ones each kind of renewal must have.
    statuses = {s.pk: s.status for s in type(mix[0]).objects.filter(pk__in=[s.pk for s in mix])}
    # The last installment pays for its month: the plan stays active until that period ends (defect 6).
    assert [statuses[s.pk] for s in mix] == [S.ACTIVE] * 4 + [S.ACTIVE] + [S.ACTIVE] * 2 + [
        S.PAST_DUE,
        S.EXPIRED,
    ]
    pending = Payment.objects.filter(invoice__subscription__in=mix[5:7])
    assert {(p.method, p.status, p.expires_at) for p in pending} == {
        (PaymentMethod.BOLETO, PaymentStatus.PENDING, NOW + dt.timedelta(days=3)),
        (PaymentMethod.PIX, PaymentStatus.PENDING, NOW + dt.timedelta(days=3)),
    }
    retry = Invoice.objects.get(subscription=mix[7], period_start=DUE)
    assert (retry.status, retry.next_attempt_at) == (InvoiceStatus.OPEN, NOW + dt.timedelta(hours=24))
    assert Invoice.objects.get(subscription=mix[8], period_start=DUE).status == InvoiceStatus.UNCOLLECTIBLE
    assert Invoice.objects.get(subscription=mix[1], period_start=DUE).total == 2495
    assert Invoice.objects.get(subscription=mix[3], period_start=DUE).installment_number == 1
    types = list(
        Event.objects.filter(type__startswith="subscription.", payload__id=mix[7].pk).values_list(
            "type", flat=True
        )
    )
    assert types == ["subscription.past_due"]


@time_machine.travel(NOW, tick=False)
def test_a_draft_is_pure_and_carries_the_key_the_charge_is_sent_under(merchant):
    plan = PlanFactory(merchant=merchant, price=4990)
    subscription = due(merchant, plan)
    queries_before = Invoice.objects.count(), Payment.objects.count()

    draft = draft_renewal(
        subscription=subscription,
        plan=plan,
        periods_billed=0,
        taxes=subscription_taxes(subscription),
        tz=merchant.tzinfo,
        now=NOW,
    )

    assert (Invoice.objects.count(), Payment.objects.count()) == queries_before
    assert (draft.period_start, draft.totals.total, draft.charge.amount) == (DUE, 4990, 4990)
    process_subscription(subscription_id=subscription.pk, now=NOW)
    assert Payment.objects.get(invoice__subscription=subscription).idempotency_key == (
        draft.charge.idempotency_key
    )


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("writer", ["row", "bulk"])
def test_a_renewal_rolled_back_by_a_crash_is_retried_under_the_same_key(merchant, writer):
    # Given a renewal whose transaction is rolled back after the charge was sent (a crash).
    plan = PlanFactory(merchant=merchant, price=4990)
    subscription = due(merchant, plan)

    def renew():
        if writer == "row":
            process_subscription(subscription_id=subscription.pk, now=NOW)
        else:
            assert renew_many(subscription_ids=[subscription.pk], now=NOW) == {subscription.pk: "succeeded"}
        payment = Payment.objects.get(invoice__subscription=subscription)
        return payment.invoice_id, payment.idempotency_key

    try:
        with transaction.atomic():
            first_invoice, first_key = renew()
            raise Rollback
    except Rollback:
        pass
    assert not Invoice.objects.filter(subscription=subscription).exists()

    # When it is retried.
    second_invoice, second_key = renew()

    # Then the gateway sees the same key, though PostgreSQL's sequence gave the invoice another id (SQLite
    # hands the rolled-back id out again, which is why the key must not depend on it on either).
    if connection.vendor == "postgresql":
        assert second_invoice != first_invoice
    assert (
        second_key
        == first_key
        == charge_key(
            subscription_id=subscription.pk, kind=InvoiceKind.RECURRING, period_start=DUE, attempt=1
        )
    )
    assert SandboxCharge.objects.get().idempotency_key == first_key


def test_keys_differ_per_subscription_period_kind_and_attempt():
    start = dt.datetime(2027, 5, 10, 12, tzinfo=dt.UTC)
    keys = {
        charge_key(subscription_id=1, kind=InvoiceKind.RECURRING, period_start=start, attempt=1),
        charge_key(subscription_id=2, kind=InvoiceKind.RECURRING, period_start=start, attempt=1),
        charge_key(subscription_id=1, kind=InvoiceKind.PRORATION, period_start=start, attempt=1),
        charge_key(
            subscription_id=1,
            kind=InvoiceKind.RECURRING,
            period_start=start + dt.timedelta(microseconds=1),
            attempt=1,
        ),
        charge_key(subscription_id=1, kind=InvoiceKind.RECURRING, period_start=start, attempt=2),
    }
    assert len(keys) == 5
    assert all(len(key) <= 80 for key in keys)  # Payment.idempotency_key's length


# --- the first charge ---------------------------------------------------------------------------------
@pytest.fixture
def tasks_run_at_once(monkeypatch):
    """django-q2 in sync mode: async_task runs the task in this process when it is called."""
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.mark.parametrize("days_back", [0, 10])
def test_a_contract_dated_today_or_earlier_is_charged_on_commit(
    merchant, owner, tasks_run_at_once, django_capture_on_commit_callbacks, days_back
):
    plan = PlanFactory(merchant=merchant, price=4990)
    customer = CustomerFactory(merchant=merchant)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=customer,
            plan=plan,
            contract_date=merchant.localdate() - dt.timedelta(days=days_back),
        )
        assert not Invoice.objects.filter(subscription=subscription).exists()  # not before the commit

    assert len(callbacks) == 1
    invoice = Invoice.objects.get(subscription=subscription)
    assert (invoice.status, invoice.total) == (InvoiceStatus.PAID, 4990)
    subscription.refresh_from_db()
    assert subscription.next_invoice_at > invoice.period_start


def test_a_future_contract_or_a_running_trial_enqueues_nothing(
    merchant, owner, tasks_run_at_once, django_capture_on_commit_callbacks
):
    plan = PlanFactory(merchant=merchant, price=4990)
    trial = PlanFactory(merchant=merchant, price=4990, trial_days=7)
    customer = CustomerFactory(merchant=merchant)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        subscription_create(
            merchant=merchant,
            actor=owner,
            customer=customer,
            plan=plan,
            contract_date=merchant.localdate() + dt.timedelta(days=3),
        )
        subscription_create(
            merchant=merchant, actor=owner, customer=customer, plan=trial, contract_date=merchant.localdate()
        )

    assert callbacks == []
    assert not Invoice.objects.exists()
