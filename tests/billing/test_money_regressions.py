"""Defects the money state machine (test_money_stateful.py) found, each replayed as a plain test.

Every test replays the shortest failing sequence hypothesis printed, through the same services, with the
clock moved and the schedules run the way the state machine runs them. Only defects fixed on main are
here; docs/testing.md says how to turn a new finding into one of these.
"""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.test import TestCase

from billing.choices import MONEY_RECEIVED_STATUSES, InvoiceKind, InvoiceStatus, PaymentStatus
from billing.models import CreditEntry, Invoice, Payment
from billing.selectors import credit_balance
from billing.services.billing_run import billing_run_start, process_chunk
from billing.services.proration import subscription_change_plan
from subscribers.choices import PaymentMethod, SubscriptionStatus
from subscribers.services import subscription_create, subscription_process_due, subscription_remove
from tests.factories import CustomerFactory, PlanFactory

SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SP)
CARD_OK = "4242 4242 4242 4242"
CARD_DECLINED = "4000 0000 0000 0002"


def run_schedules(moment):
    """What the per-minute schedules do at `moment` (as the state machine runs them)."""
    with time_machine.travel(moment, tick=False):
        subscription_process_due(now=moment)
        with TestCase.captureOnCommitCallbacks(execute=True):
            billing_run_start(
                now=moment, dispatch=lambda run_id, ids: process_chunk(run_id=run_id, subscription_ids=ids)
            )


def cashed(customer) -> int:
    return sum(
        Payment.objects.filter(invoice__customer=customer, status__in=MONEY_RECEIVED_STATUSES).values_list(
            "amount", flat=True
        )
    )


@pytest.fixture
def contract(merchant, owner):
    def make(*, plan, at=START, **kwargs):
        kwargs.setdefault("customer", CustomerFactory(merchant=merchant))
        kwargs.setdefault("payment_token", CARD_OK if kwargs.get("payment_method") is None else "")
        with time_machine.travel(at, tick=False):
            subscription = subscription_create(
                merchant=merchant,
                actor=owner,
                plan=plan,
                contract_date=at.astimezone(SP).date(),
                now=at,
                **kwargs,
            )
        run_schedules(at)
        subscription.refresh_from_db()
        return subscription

    return make


def test_a_downgrade_at_the_start_of_a_paid_period_credits_the_difference_and_the_renewal_uses_it(
    merchant, owner, contract
):
    # Found as: contract(plan='basico', quantity=2, card) → change_plan(plan='basico', quantity=1,
    # apply='now') at the same moment: paid 200,00, settled 100,00, balance 0 (100,00 lost).
    basico = PlanFactory(merchant=merchant, name="Básico", price=10000)
    subscription = contract(plan=basico, quantity=2)
    customer = subscription.customer
    assert subscription.invoices.get().total == 20000

    with time_machine.travel(START, tick=False):
        subscription_change_plan(
            subscription=subscription, actor=owner, plan=basico, quantity=1, apply="now", now=START
        )

    proration = subscription.invoices.get(kind=InvoiceKind.PRORATION)
    assert (proration.subtotal, proration.total, proration.status) == (-10000, 0, InvoiceStatus.PAID)
    assert credit_balance(customer=customer, currency="BRL") == 10000
    assert CreditEntry.objects.get(customer=customer).amount == 10000

    # The next period (100,00 for one seat) is paid by the credit: nothing is charged.
    next_period = dt.datetime(2027, 2, 15, 10, 0, tzinfo=SP)
    run_schedules(next_period)

    renewal = Invoice.objects.get(subscription=subscription, period_start=next_period)
    assert (renewal.total, renewal.credit_applied, renewal.status) == (10000, 10000, InvoiceStatus.PAID)
    assert credit_balance(customer=customer, currency="BRL") == 0
    assert cashed(customer) == 20000  # paid 200,00 = settled 200,00 − 100,00 credited + 100,00 renewal


def test_removing_a_past_due_card_subscription_stops_its_retries(merchant, owner, contract):
    # Found as: contract(method='declined card', plan='basico') → remove(): the subscription is
    # cancelled but its invoice stays open with a retry scheduled for 24 h later, forever.
    basico = PlanFactory(merchant=merchant, name="Básico", price=10000)
    subscription = contract(plan=basico, payment_token=CARD_DECLINED)
    invoice = subscription.invoices.get()
    assert (subscription.status, invoice.status) == (SubscriptionStatus.PAST_DUE, InvoiceStatus.OPEN)
    assert invoice.next_attempt_at == START + dt.timedelta(hours=24)

    with time_machine.travel(START, tick=False):
        subscription_remove(subscription=subscription, actor=owner, now=START)
    run_schedules(START + dt.timedelta(days=3))

    invoice.refresh_from_db()
    assert invoice.next_attempt_at is None
    assert invoice.status in (InvoiceStatus.UNCOLLECTIBLE, InvoiceStatus.VOID)
    assert Payment.objects.filter(invoice=invoice).count() == 1  # the declined first attempt only


def test_removing_a_past_due_boleto_subscription_withdraws_its_live_boleto(merchant, owner, contract):
    # Found as: contract(method=boleto, plan='basico') → time_passes(8 days) → remove(): the boleto
    # issued after the first one lapsed stays payable ("Simular pagamento") on a cancelled subscription,
    # and once its date passes it stays pending forever (no run expires it).
    basico = PlanFactory(merchant=merchant, name="Básico", price=10000)
    subscription = contract(plan=basico, payment_method=PaymentMethod.BOLETO)
    run_schedules(START + dt.timedelta(days=3))  # boleto 1 lapses: past due
    run_schedules(START + dt.timedelta(days=4))  # boleto 2, due in 3 days
    second = Payment.objects.get(invoice__subscription=subscription, status=PaymentStatus.PENDING)
    assert second.expires_at == START + dt.timedelta(days=7)

    removed_at = START + dt.timedelta(days=4)
    with time_machine.travel(removed_at, tick=False):
        subscription_remove(subscription=subscription, actor=owner, now=removed_at)
    run_schedules(START + dt.timedelta(days=9))

    second.refresh_from_db()
    assert second.status != PaymentStatus.PENDING
    assert not second.can_simulate()
    assert subscription.invoices.get().status in (InvoiceStatus.VOID, InvoiceStatus.UNCOLLECTIBLE)
    assert Payment.objects.filter(invoice__subscription=subscription).count() == 2


EDIT = dt.datetime(2027, 1, 27, 16, 30, tzinfo=SP)


def edit_terms(subscription, owner, **changes):
    """An edit of the subscription's other terms at EDIT, its plan kept (a coupon or tax rate added
    mid-period applies from the next invoice on)."""
    from subscribers.services import subscription_update

    with time_machine.travel(EDIT, tick=False):
        subscription_update(
            subscription=subscription,
            actor=owner,
            plan=subscription.plan,
            quantity=subscription.quantity,
            payment_method=subscription.payment_method,
            now=EDIT,
            **changes,
        )


@pytest.mark.parametrize(
    ("added", "credit_net", "total"),
    [
        # A 50 % coupon added mid-period: the period was paid in full, so its unused part is credited in
        # full (60,42), and the rest at ouro with the coupon costs as much (60,42): nothing to charge.
        ("coupon", -6042, 0),
        # ISS 5 % added mid-period: no tax was paid on the period, none is credited (60,42); the rest at
        # ouro costs 120,83 + 6,04 tax.
        ("tax", -6042, 6645),
    ],
)
def test_an_upgrade_after_a_mid_period_edit_credits_what_was_charged_for_the_period(
    merchant, owner, contract, added, credit_net, total
):
    # Found as: contract(basico) → edit(coupon 50 % forever | ISS 5 % exclusive) → change_plan(ouro, now):
    # the credit was computed with the terms after the edit (−30,21 with the coupon, −63,44 with the tax),
    # overcharging 30,21 or crediting 3,02 of tax never paid.
    from billing.calculations import line_net
    from plans.choices import CouponDuration
    from tests.factories import CouponFactory, TaxRateFactory

    basico = PlanFactory(merchant=merchant, name="Básico", price=10000)
    ouro = PlanFactory(merchant=merchant, name="Ouro", price=20000)
    subscription = contract(plan=basico)
    assert subscription.invoices.get().total == 10000
    if added == "coupon":
        coupon = CouponFactory(merchant=merchant, percent_off=50, duration=CouponDuration.FOREVER)
        edit_terms(subscription, owner, coupon=coupon)
    else:
        edit_terms(subscription, owner, tax_rates=[TaxRateFactory(merchant=merchant)])
    subscription.refresh_from_db()

    with time_machine.travel(EDIT, tick=False):
        subscription_change_plan(
            subscription=subscription, actor=owner, plan=ouro, quantity=1, apply="now", now=EDIT
        )

    proration = subscription.invoices.get(kind=InvoiceKind.PRORATION)
    credit_line, _charge_line = proration.lines.order_by("pk")
    assert line_net(credit_line) == credit_net
    assert proration.total == total
