"""Dunning that ends (issue 11, defects 4, 5 and 6): an ended subscription never charges again and keeps no
live boleto/pix; installment plans end after the last installment, with access to the end of the paid time."""

import datetime as dt
import zoneinfo

import pytest
import time_machine

from billing.choices import InvoiceStatus, PaymentStatus
from billing.models import BillingRun, Invoice, Payment
from billing.services.billing_run import billing_run_start, due_subscription_ids, process_chunk
from billing.services.charging import payment_settle
from core.models import Event
from dashboard.selectors import live_state
from plans.choices import IntervalUnit
from subscribers.choices import CancelOrigin, PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_cancel, subscription_create
from tests.factories import CustomerFactory, PlanFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
S = SubscriptionStatus


@pytest.fixture
def bill(django_capture_on_commit_callbacks):
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


def event_types(merchant):
    return list(Event.objects.filter(merchant=merchant).order_by("pk").values_list("type", flat=True))


def test_a_weekly_boleto_never_paid_stops_charging_once_expired(merchant, contract, bill):
    """Defect 4: after Expirada the same run issued a new boleto, pending forever, and every tick after
    recorded a run with 1 due and nothing processed."""
    plan = PlanFactory(merchant=merchant, price=2990, interval_unit=IntervalUnit.WEEK, interval_count=1)
    start = dt.datetime(2027, 4, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_method=PaymentMethod.BOLETO)

    for day in range(0, 30):
        bill(start + dt.timedelta(days=day))
        subscription.refresh_from_db()
        if subscription.is_ended:
            break
    assert subscription.status == S.EXPIRED
    ended_on = day

    types = event_types(merchant)
    expired_at = types.index("subscription.expired")
    assert "payment.pending" not in types[expired_at:]
    assert not Payment.objects.filter(status=PaymentStatus.PENDING).exists()
    assert not Invoice.objects.filter(subscription=subscription, status=InvoiceStatus.OPEN).exists()

    runs_before = BillingRun.objects.count()
    payments_before = Payment.objects.count()
    for day in range(ended_on + 1, ended_on + 20):
        bill(start + dt.timedelta(days=day))
    assert BillingRun.objects.count() == runs_before  # nothing due, so no run and no "1 a processar"
    assert Payment.objects.count() == payments_before
    assert due_subscription_ids(start + dt.timedelta(days=60)) == {}


def test_canceling_a_boleto_subscription_voids_its_live_boleto(merchant, owner, contract, bill):
    plan = PlanFactory(merchant=merchant, price=8990)
    start = dt.datetime(2027, 4, 1, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_method=PaymentMethod.BOLETO)
    bill(start)
    with time_machine.travel(start + dt.timedelta(hours=1), tick=False):
        payment_settle(payment=Payment.objects.get())  # the first month is paid: Ativa
    renewal = dt.datetime(2027, 5, 1, 8, 0, tzinfo=SP)
    bill(renewal)
    payment = Payment.objects.get(status=PaymentStatus.PENDING)
    assert payment.can_simulate()

    with time_machine.travel(renewal + dt.timedelta(hours=2), tick=False):
        subscription_cancel(subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER)

    payment.refresh_from_db()
    invoice = payment.invoice
    invoice.refresh_from_db()
    assert payment.status == PaymentStatus.CANCELED
    assert invoice.status == InvoiceStatus.VOID
    assert not payment.can_simulate()
    types = event_types(merchant)
    assert types.index("payment.canceled") > types.index("subscription.canceled")
    assert "invoice.voided" in types
    # The lapse date passes: nothing is due for an ended subscription.
    assert due_subscription_ids(renewal + dt.timedelta(days=10)) == {}
    with pytest.raises(Exception) as refused:
        payment_settle(payment=payment)
    assert getattr(refused.value, "code", "") == "not_pending"


def test_an_installment_plan_with_an_uncollectible_middle_installment_ends(
    merchant, contract, bill, owner_client
):
    """Defect 5: "Boleto 3x": 1 paid, 2 lapses three times, 3 paid → it used to stay Ativa forever."""
    plan = PlanFactory(merchant=merchant, price=10000, installments=3)
    start = dt.datetime(2027, 1, 15, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan, payment_method=PaymentMethod.BOLETO)

    def pay_pending(moment):
        with time_machine.travel(moment, tick=False):
            for payment in Payment.objects.filter(status=PaymentStatus.PENDING):
                payment_settle(payment=payment)

    bill(start)
    pay_pending(start + dt.timedelta(hours=1))  # installment 1 paid
    second = dt.datetime(2027, 2, 15, 8, 0, tzinfo=SP)
    for day in range(0, 14):  # installment 2: three boletos lapse
        bill(second + dt.timedelta(days=day))
    assert Invoice.objects.get(installment_number=2).status == InvoiceStatus.UNCOLLECTIBLE
    third = dt.datetime(2027, 3, 15, 8, 0, tzinfo=SP)
    bill(third)
    pay_pending(third + dt.timedelta(hours=1))  # installment 3 paid

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    # Access runs to the end of the last paid period, then the plan ends.
    bill(dt.datetime(2027, 4, 15, 9, 0, tzinfo=SP))
    subscription.refresh_from_db()
    assert subscription.is_ended
    assert subscription.status == S.EXPIRED
    assert subscription.next_invoice_at is None
    assert subscription.ended_at == dt.datetime(2027, 4, 15, 8, 0, tzinfo=SP)
    # The R$ 100 still owed is shown on the subscription and counted as at risk on the dashboard.
    page = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "Em aberto: R$\xa0100,00 em 1 fatura." in page
    assert live_state(merchant=merchant)["at_risk"] == {"BRL": 10000}


def test_six_installments_keep_access_until_the_end_of_the_last_paid_month(merchant, contract, bill):
    """Defect 6: Expirada and access_revoked at the moment installment 6 was paid."""
    plan = PlanFactory(merchant=merchant, price=100000, installments=6)
    start = dt.datetime(2027, 2, 5, 8, 0, tzinfo=SP)
    subscription = contract(at=start, plan=plan)

    bill(start)
    for _month in range(5):
        subscription.refresh_from_db()
        bill(subscription.next_invoice_at)

    subscription.refresh_from_db()
    assert subscription.invoices.filter(status=InvoiceStatus.PAID).count() == 6
    assert subscription.status == S.ACTIVE  # installment 6 pays for 05/07 – 05/08
    assert subscription.current_period_end == dt.datetime(2027, 8, 5, 8, 0, tzinfo=SP)
    assert "subscription.access_revoked" not in event_types(merchant)

    bill(dt.datetime(2027, 8, 5, 8, 0, tzinfo=SP))
    subscription.refresh_from_db()
    assert subscription.status == S.EXPIRED
    assert subscription.ended_at == dt.datetime(2027, 8, 5, 8, 0, tzinfo=SP)
    assert subscription.access_until == dt.datetime(2027, 8, 5, 8, 0, tzinfo=SP)
    assert "subscription.access_revoked" in event_types(merchant)
    assert not Invoice.objects.filter(subscription=subscription, installment_number__gt=6).exists()


def test_run_now_says_nothing_is_due_for_an_ended_subscriptions_leftover_boleto(merchant, owner_client):
    """Rows left from before the fix (an expired subscription with a boleto still pending, lapsed) must not
    make "Executar agora" announce "1 assinatura(s) a processar" and then process nothing."""
    from django.urls import reverse

    from tests.factories import InvoiceFactory, PaymentFactory, SubscriptionFactory

    subscription = SubscriptionFactory(
        merchant=merchant, status=S.EXPIRED, payment_method=PaymentMethod.BOLETO
    )
    invoice = InvoiceFactory(merchant=merchant, subscription=subscription)
    PaymentFactory(
        merchant=merchant,
        invoice=invoice,
        method=PaymentMethod.BOLETO,
        status=PaymentStatus.PENDING,
        expires_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
    )

    response = owner_client.post(reverse("billing:run_now"), follow=True)

    assert "Nada a cobrar agora." in response.content.decode()
    assert not BillingRun.objects.exists()


def weekly_boleto_in_two_installments(merchant, contract):
    """Weekly boleto 2x with five retries: the plan's last period ends on day 14, while installment 1
    can still be retried after it."""
    from billing.models import BillingSettings

    BillingSettings.objects.create(merchant=merchant, retries=5)
    plan = PlanFactory(
        merchant=merchant, price=5000, installments=2, interval_unit=IntervalUnit.WEEK, interval_count=1
    )
    start = dt.datetime(2027, 6, 1, 8, 0, tzinfo=SP)
    return start, contract(at=start, plan=plan, payment_method=PaymentMethod.BOLETO)


def bill_daily_paying_installment_two(bill, subscription, start, days):
    """Runs billing once a day, the customer paying installment 2 (never 1); stops once the subscription
    ends. Returns the moment of the last run."""
    for day in range(days):
        moment = start + dt.timedelta(days=day)
        bill(moment)
        second = Payment.objects.filter(invoice__installment_number=2, status=PaymentStatus.PENDING).first()
        if second is not None:
            with time_machine.travel(moment + dt.timedelta(hours=1), tick=False):
                payment_settle(payment=second)
        subscription.refresh_from_db()
        if subscription.is_ended:
            break
    return moment


def assert_nothing_charged_after_the_end(subscription):
    """The end of a subscription is after every charge it made (docs/billing-states.md)."""
    last_attempt = Payment.objects.filter(invoice__subscription=subscription).latest("created_at")
    assert subscription.ended_at >= last_attempt.created_at, (
        f"ended {subscription.ended_at}, but charged {last_attempt.amount} at {last_attempt.created_at}"
    )
    assert not Payment.objects.filter(
        invoice__subscription=subscription, created_at__gt=subscription.ended_at
    ).exists()


def test_a_middle_installment_given_up_after_the_last_period_ends_the_plan_when_its_retries_stop(
    merchant, contract, bill
):
    """Installment 1 is still being retried when the plan's last period ends (day 14): once its retries
    run out the plan ends (it used to wait for "more installments"), and it ends when its last boleto
    lapses, not back on day 14 — that dated the end before the boletos it issued on days 16 and 20 (the
    money state machine's ended_subscriptions_charge_nothing)."""
    start, subscription = weekly_boleto_in_two_installments(merchant, contract)

    moment = bill_daily_paying_installment_two(bill, subscription, start, days=30)

    assert Invoice.objects.get(installment_number=2).status == InvoiceStatus.PAID
    assert Invoice.objects.get(installment_number=1).status == InvoiceStatus.UNCOLLECTIBLE
    assert subscription.status == S.EXPIRED
    last_period_end = start + dt.timedelta(days=14)
    assert moment > last_period_end  # installment 1's retries outlived the last period
    assert Payment.objects.filter(invoice__subscription=subscription, created_at__gt=last_period_end).exists()
    assert_nothing_charged_after_the_end(subscription)
    # It ended at the run that found installment 1's last boleto lapsed, and access ran until then.
    last_lapse = Payment.objects.filter(invoice__installment_number=1).latest("created_at").expires_at
    assert last_lapse <= subscription.ended_at == moment
    assert subscription.access_until == subscription.ended_at


def test_a_change_to_an_installment_plan_counts_its_installments_from_the_change(
    merchant, owner, contract, bill
):
    """The money state machine's case (seed 224032804102504320355156445765799537021): a weekly boleto
    subscription backdated three weeks (three boletos), changed now to a 3x plan. The three weekly
    invoices are not installments of the 3x plan (issue 13: they used to be counted, and the plan
    expired without billing one installment): its first renewal is installment 1 of 3 and it runs on."""
    from billing.services.proration import subscription_change_plan

    weekly = PlanFactory(merchant=merchant, price=4990, interval_unit=IntervalUnit.WEEK, interval_count=1)
    in_three = PlanFactory(merchant=merchant, price=100000, installments=3)
    today = dt.datetime(2027, 3, 4, 10, 0, tzinfo=SP)
    with time_machine.travel(today, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=weekly,
            contract_date=dt.date(2027, 2, 12),
            payment_method=PaymentMethod.BOLETO,
            backdate_billing="periods",
            now=today,
        )
    bill(today)
    assert (
        Payment.objects.filter(invoice__subscription=subscription, status=PaymentStatus.PENDING).count() == 3
    )
    with time_machine.travel(today, tick=False):
        subscription_change_plan(
            subscription=subscription, actor=owner, plan=in_three, quantity=2, apply="now", now=today
        )

    for hours in range(0, 16 * 24, 6):
        bill(today + dt.timedelta(hours=hours))

    subscription.refresh_from_db()
    assert subscription.status != S.EXPIRED
    installments = Invoice.objects.filter(subscription=subscription, installment_number__isnull=False)
    assert [invoice.installment_number for invoice in installments.order_by("period_start")][:1] == [1]


@pytest.mark.parametrize("action", ["void", "uncollectible"])
def test_staff_settling_the_last_open_installment_after_the_last_period_ends_the_plan(
    merchant, owner, contract, bill, action
):
    """Weekly boleto 2x, five retries: installment 2 paid, installment 1 still retried when the last
    period ended (day 14). Staff void it (or write it off) on day 15: nothing is being collected any more,
    so the plan ends then — it must not stay on, with no invoice ever coming, waiting for a retry that was
    withdrawn."""
    from billing.services.invoice_actions import invoice_mark_uncollectible, invoice_void

    start, subscription = weekly_boleto_in_two_installments(merchant, contract)
    bill_daily_paying_installment_two(bill, subscription, start, days=15)
    first = Invoice.objects.get(installment_number=1)
    assert first.status == InvoiceStatus.OPEN
    assert not subscription.is_ended

    staff_at = start + dt.timedelta(days=15, hours=2)
    with time_machine.travel(staff_at, tick=False):
        settle = invoice_void if action == "void" else invoice_mark_uncollectible
        settle(invoice=first, actor=owner, now=staff_at)
    for day in range(16, 30):
        bill(start + dt.timedelta(days=day))

    subscription.refresh_from_db()
    assert subscription.status == S.EXPIRED
    assert subscription.ended_at == subscription.access_until == staff_at
