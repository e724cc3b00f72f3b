"""Whole subscription lifecycles driven by the billing run, with the clock moved by time-machine."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing.choices import DunningFinalAction, InvoiceStatus, PaymentStatus
from billing.gateways.sandbox import sandbox_settle
from billing.models import BillingRun, BillingSettings, Invoice, Payment
from billing.services.billing_run import billing_run_start, process_chunk
from billing.services.charging import payment_settle
from core.models import Event
from plans.choices import CouponDuration, CouponKind, IntervalUnit
from plans.models import Coupon
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_create
from tests.factories import CustomerFactory, PlanFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
S = SubscriptionStatus
DECLINED = "4000 0000 0000 0002"


@pytest.fixture
def bill(django_capture_on_commit_callbacks):
    """Runs the billing run at `moment`, the way the schedule does: find due work, process its chunks."""

    def run(moment):
        with time_machine.travel(moment, tick=False), django_capture_on_commit_callbacks(execute=True):
            return billing_run_start(
                dispatch=lambda run_id, ids: process_chunk(run_id=run_id, subscription_ids=ids),
            )

    return run


@pytest.fixture
def contract(merchant, owner):
    def make(*, at, plan, **kwargs):
        kwargs.setdefault("customer", CustomerFactory(merchant=merchant))
        with time_machine.travel(at, tick=False):
            return subscription_create(
                merchant=merchant, actor=owner, plan=plan, contract_date=at.astimezone(SP).date(), **kwargs
            )

    return make


def local_days(invoices):
    return [invoice.period_start.astimezone(SP).strftime("%d/%m/%Y") for invoice in invoices]


def test_monthly_card_renewal_for_13_months_keeps_the_31st_through_february(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=4990, interval_unit=IntervalUnit.MONTH, interval_count=1)
    start = dt.datetime(2027, 1, 31, 10, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan)

    bill(start)
    for _month in range(12):
        subscription.refresh_from_db()
        bill(subscription.next_invoice_at)

    invoices = list(subscription.invoices.order_by("period_start"))
    assert local_days(invoices) == [
        "31/01/2027", "28/02/2027", "31/03/2027", "30/04/2027", "31/05/2027", "30/06/2027", "31/07/2027",
        "31/08/2027", "30/09/2027", "31/10/2027", "30/11/2027", "31/12/2027", "31/01/2028",
    ]  # fmt: skip
    assert {invoice.status for invoice in invoices} == {InvoiceStatus.PAID}
    assert (
        Payment.objects.filter(invoice__subscription=subscription, status=PaymentStatus.SUCCEEDED).count()
        == 13
    )
    assert [invoice.number for invoice in invoices] == list(range(1, 14))
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE


def test_running_twice_at_the_same_moment_invoices_and_charges_once(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=4990)
    start = dt.datetime(2027, 3, 10, 9, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan)

    bill(start)
    assert bill(start) == []  # nothing is due any more

    assert subscription.invoices.count() == 1
    assert Payment.objects.filter(invoice__subscription=subscription).count() == 1
    run = BillingRun.objects.get()
    assert (run.due, run.processed, run.succeeded, run.failed, run.status) == (1, 1, 1, 0, "finished")


def test_a_trial_turns_active_when_its_first_invoice_is_paid(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=1990, trial_days=7)
    start = dt.datetime(2027, 5, 1, 12, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan)
    assert subscription.status == S.TRIALING

    bill(start + dt.timedelta(days=6))
    assert subscription.invoices.count() == 0  # the trial is free

    bill(start + dt.timedelta(days=7))
    subscription.refresh_from_db()
    invoice = subscription.invoices.get()
    assert (invoice.status, invoice.total) == (InvoiceStatus.PAID, 1990)
    assert invoice.period_start == start + dt.timedelta(days=7)
    assert subscription.status == S.ACTIVE


def test_a_failed_charge_is_retried_24_hours_later_and_success_reactivates(merchant, contract, bill):
    BillingSettings.objects.create(merchant=merchant, sandbox_disconnected=True)
    plan = PlanFactory(merchant=merchant, price=4990)
    start = dt.datetime(2027, 6, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan)

    bill(start)
    subscription.refresh_from_db()
    invoice = subscription.invoices.get()
    assert subscription.status == S.PAST_DUE
    assert (invoice.status, invoice.attempt_count) == (InvoiceStatus.OPEN, 1)
    assert invoice.next_attempt_at == start + dt.timedelta(hours=24)
    assert Payment.objects.get().failure_code == "gateway_unavailable"

    BillingSettings.objects.filter(merchant=merchant).update(sandbox_disconnected=False)
    bill(start + dt.timedelta(hours=23))
    assert Payment.objects.count() == 1  # not before the interval

    bill(start + dt.timedelta(hours=24))
    subscription.refresh_from_db()
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert [p.status for p in invoice.payments.order_by("attempt")] == [
        PaymentStatus.FAILED,
        PaymentStatus.SUCCEEDED,
    ]
    assert subscription.status == S.ACTIVE
    assert Event.objects.filter(type="subscription.past_due").count() == 1
    assert Event.objects.filter(type="subscription.activated").count() == 1


def test_a_card_declined_forever_expires_after_two_retries(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=4990)
    start = dt.datetime(2027, 7, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_token=DECLINED)

    for hours in (0, 24, 48):
        bill(start + dt.timedelta(hours=hours))

    subscription.refresh_from_db()
    invoice = subscription.invoices.get()
    assert invoice.status == InvoiceStatus.UNCOLLECTIBLE
    assert invoice.payments.count() == 3
    assert {p.failure_code for p in invoice.payments.all()} == {"card_declined"}
    assert subscription.status == S.EXPIRED
    assert subscription.next_invoice_at is None
    bill(start + dt.timedelta(days=40))
    assert subscription.invoices.count() == 1


def test_the_dunning_policy_may_cancel_instead_of_expiring(merchant, contract, bill):
    BillingSettings.objects.create(
        merchant=merchant, retries=1, retry_interval_hours=6, final_action=DunningFinalAction.CANCEL
    )
    plan = PlanFactory(merchant=merchant, price=4990)
    start = dt.datetime(2027, 7, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_token=DECLINED)

    bill(start)
    bill(start + dt.timedelta(hours=6))

    subscription.refresh_from_db()
    assert subscription.invoices.get().payments.count() == 2
    assert subscription.status == S.CANCELED


def test_installments_keep_being_attempted_while_unpaid_and_expire_after_the_last(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=100000, installments=3)
    start = dt.datetime(2027, 1, 15, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_token=DECLINED)

    moment = start
    for _step in range(12):
        bill(moment)
        moment += dt.timedelta(hours=24)
        subscription.refresh_from_db()
        if subscription.next_invoice_at and subscription.next_invoice_at < moment:
            moment = subscription.next_invoice_at
    for month in (1, 2):
        for hours in (0, 24, 48):
            bill(dt.datetime(2027, 1 + month, 15, 8, 0, tzinfo=SP) + dt.timedelta(hours=hours))

    subscription.refresh_from_db()
    invoices = list(subscription.invoices.order_by("period_start"))
    assert [i.installment_number for i in invoices] == [1, 2, 3]
    assert {i.status for i in invoices} == {InvoiceStatus.UNCOLLECTIBLE}
    assert subscription.status == S.EXPIRED


def test_six_installments_of_1000_reais_then_the_subscription_ends(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=100000, installments=6)
    start = dt.datetime(2027, 2, 5, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan)

    bill(start)
    for _month in range(6):
        subscription.refresh_from_db()
        if subscription.next_invoice_at is None:
            break
        bill(subscription.next_invoice_at)

    subscription.refresh_from_db()
    invoices = subscription.invoices.order_by("period_start")
    assert [i.installment_number for i in invoices] == [1, 2, 3, 4, 5, 6]
    assert sum(i.amount_paid for i in invoices) == 600000
    assert [i.lines.get().description for i in invoices][-1] == f"{plan.name} (6/6)"
    assert subscription.status == S.EXPIRED
    assert subscription.next_invoice_at is None


def test_a_boleto_waits_as_pending_until_paid(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=8990)
    start = dt.datetime(2027, 4, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_method=PaymentMethod.BOLETO)
    assert subscription.status == S.PENDING

    bill(start)
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.PENDING
    assert payment.expires_at == start + dt.timedelta(days=3)

    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        payment_settle(payment=payment)
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.invoices.get().status == InvoiceStatus.PAID


def test_an_unpaid_boleto_lapses_is_reissued_twice_and_the_subscription_expires(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=8990)
    start = dt.datetime(2027, 4, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_method=PaymentMethod.BOLETO)

    bill(start)  # boleto 1, due in 3 days
    bill(start + dt.timedelta(days=3))  # lapses
    subscription.refresh_from_db()
    assert subscription.status == S.PAST_DUE
    bill(start + dt.timedelta(days=4))  # boleto 2
    bill(start + dt.timedelta(days=7))  # lapses
    bill(start + dt.timedelta(days=8))  # boleto 3
    bill(start + dt.timedelta(days=11))  # lapses: retries exhausted

    subscription.refresh_from_db()
    payments = list(Payment.objects.order_by("attempt"))
    assert [p.attempt for p in payments] == [1, 2, 3]
    # Our own reason is the code alone, named when shown in the reader's language (FailureCode)
    assert {(p.failure_code, p.failure_message) for p in payments} == {("expired", "")}
    assert subscription.invoices.get().status == InvoiceStatus.UNCOLLECTIBLE
    assert subscription.status == S.EXPIRED


def test_a_settled_pix_cannot_be_settled_again(merchant, contract, bill):
    plan = PlanFactory(merchant=merchant, price=8990)
    start = dt.datetime(2027, 4, 1, 8, 0, tzinfo=SP)
    contract(at=start, plan=plan, payment_method=PaymentMethod.PIX)
    bill(start)
    payment = Payment.objects.get()
    with time_machine.travel(start, tick=False):
        sandbox_settle(merchant_id=merchant.pk, reference=payment.gateway_reference)
        bill(start + dt.timedelta(days=3))  # the run sees the gateway says paid
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.SUCCEEDED


def test_a_coupon_of_50_percent_for_6_months_then_full_price(merchant, contract, bill):
    coupon = Coupon.objects.create(
        merchant=merchant,
        code="METADE6",
        kind=CouponKind.PERCENT,
        percent_off=Decimal("50"),
        duration=CouponDuration.REPEATING,
        duration_in_months=6,
    )
    plan = PlanFactory(merchant=merchant, price=4990)
    start = dt.datetime(2027, 1, 10, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, coupon=coupon)

    bill(start)
    for _month in range(7):
        subscription.refresh_from_db()
        bill(subscription.next_invoice_at)

    totals = list(subscription.invoices.order_by("period_start").values_list("total", flat=True))
    assert totals == [2495] * 6 + [4990] * 2


def test_a_backdated_contract_is_charged_for_the_periods_already_passed(merchant, contract, bill):
    from billing.models import BillingSettings

    BillingSettings.objects.create(merchant=merchant, backdate_max_periods=2)  # 31/01 is 2 periods back
    plan = PlanFactory(merchant=merchant, price=4990)
    now = dt.datetime(2027, 3, 20, 8, 0, tzinfo=SP)
    with time_machine.travel(now, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=None,
            customer=CustomerFactory(merchant=merchant),
            plan=plan,
            contract_date=dt.date(2027, 1, 31),
        )
    bill(now)
    assert local_days(subscription.invoices.order_by("period_start")) == ["31/01/2027", "28/02/2027"]
    subscription.refresh_from_db()
    assert subscription.next_invoice_at.astimezone(SP).date() == dt.date(2027, 3, 31)


def test_deleting_in_the_first_month_takes_unpaid_history_along_but_never_paid_history(
    merchant, owner, contract, bill
):
    from subscribers.models import Subscription, SubscriptionTombstone
    from subscribers.services import subscription_delete

    plan = PlanFactory(merchant=merchant, price=4990)
    start = dt.datetime(2027, 8, 2, 8, 0, tzinfo=SP)
    unpaid = contract(at=start, plan=plan, payment_token=DECLINED)
    paid = contract(at=start, plan=plan)
    bill(start)

    with time_machine.travel(start + dt.timedelta(days=3), tick=False):
        tombstone = subscription_delete(subscription=unpaid, actor=owner)
        with pytest.raises(ValidationError) as refused:
            subscription_delete(subscription=paid, actor=owner)

    assert (tombstone.snapshot["invoices"], tombstone.snapshot["payments"]) == (1, 1)
    assert not Invoice.objects.filter(subscription_id=unpaid.pk).exists()
    assert refused.value.code == "has_payments"
    assert Subscription.objects.filter(pk=paid.pk).exists()
    assert SubscriptionTombstone.objects.count() == 1


def test_recording_a_payment_withdraws_the_boleto_and_its_lapse_date_changes_nothing(
    merchant, owner, contract, bill
):
    from billing.services.charging import payment_record_manual

    plan = PlanFactory(merchant=merchant, price=8990)
    start = dt.datetime(2027, 9, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_method=PaymentMethod.BOLETO)
    bill(start)
    invoice = subscription.invoices.get()
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        payment_record_manual(invoice=invoice, actor=owner, reference="TED 123")

    bill(start + dt.timedelta(days=3))  # the boleto lapses

    subscription.refresh_from_db()
    invoice.refresh_from_db()
    assert (invoice.status, invoice.next_attempt_at) == (InvoiceStatus.PAID, None)
    assert subscription.status == S.ACTIVE
    boleto = invoice.payments.get(method=PaymentMethod.BOLETO)
    # Withdrawn when the invoice was paid another way: no live boleto for a paid invoice.
    assert boleto.status == PaymentStatus.CANCELED
    assert not boleto.can_simulate()
