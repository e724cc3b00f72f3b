"""Issue 11, defects 1–3: a proration credits and charges what the customer actually pays (after the
discount, with the taxes of the period) and a downgrade's net credit goes to the credit balance.

The issue's numbers: a R$ 100 plan, period 15/01 10:00 → 15/02 10:00 (31 days, São Paulo), changed on
27/01 at 16:30, so 18 days 17 h 30 min of 31 days are unused: the fraction is 449,5 h / 744 h.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal

import time_machine

from billing.choices import InvoiceKind, InvoiceStatus
from billing.models import Invoice, Payment
from billing.services.billing_run import process_subscription
from plans.choices import CouponDuration, CouponKind
from subscribers.services import subscription_create, subscription_update
from tests.factories import CouponFactory, CustomerFactory, PlanFactory, TaxRateFactory

SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SAO_PAULO)
END = dt.datetime(2027, 2, 15, 10, 0, tzinfo=SAO_PAULO)
CHANGE = dt.datetime(2027, 1, 27, 16, 30, tzinfo=SAO_PAULO)


def paid_subscription(merchant, owner, plan, **terms):
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=plan,
            contract_date=START.date(),
            **terms,
        )
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (START, END)
    return subscription


def change_plan_now(subscription, actor, plan):
    with time_machine.travel(CHANGE, tick=False):
        subscription_update(
            subscription=subscription,
            actor=actor,
            plan=plan,
            quantity=subscription.quantity,
            payment_method=subscription.payment_method,
            discount_type=subscription.discount_type,
            discount_percent=subscription.discount_percent,
            discount_amount=subscription.discount_amount,
            discount_periods=subscription.discount_periods,
            apply="now",
            now=CHANGE,
        )
    return Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)


def test_defect_1_an_upgrade_with_a_50_percent_forever_coupon_is_prorated_on_half_the_price(merchant, owner):
    plan_100 = PlanFactory(merchant=merchant, name="Cem", price=10000)
    plan_200 = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    coupon = CouponFactory(
        merchant=merchant, kind=CouponKind.PERCENT, percent_off=Decimal("50"), duration=CouponDuration.FOREVER
    )
    subscription = paid_subscription(merchant, owner, plan_100, coupon=coupon)
    assert Invoice.objects.get(subscription=subscription, kind=InvoiceKind.RECURRING).total == 5000

    invoice = change_plan_now(subscription, owner, plan_200)

    # Credit: 50,00 paid × 449,5/744 = 30,208… → 30,21; charge: 100,00 × 449,5/744 = 60,416… → 60,42.
    lines = list(invoice.lines.values_list("amount", "discount_amount"))
    assert lines == [(-6042, -3021), (12083, 6041)]
    assert invoice.total == 3021  # R$ 30,21, not R$ 60,41
    assert invoice.payments.get().amount == 3021


def test_defect_2_tax_is_charged_on_the_net_change_not_on_the_gross_charge(merchant, owner):
    plan_100 = PlanFactory(merchant=merchant, name="Cem", price=10000)
    plan_200 = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    iss = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5"), inclusive=False)
    subscription = paid_subscription(merchant, owner, plan_100, tax_rates=[iss])

    invoice = change_plan_now(subscription, owner, plan_200)

    # Credit −60,42 with its ISS −3,02; charge 120,83 with ISS 6,04: net 60,41 + 3,02 = 63,43.
    assert list(invoice.lines.values_list("amount", "tax_amount")) == [(-6042, -302), (12083, 604)]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (6041, 302, 6343)  # not 66,45
    assert invoice.payments.get().amount == 6343


def test_defect_3_a_downgrades_net_credit_goes_to_the_credit_balance_and_pays_the_next_invoice(
    merchant, owner
):
    from billing.selectors import credit_balance

    plan_100 = PlanFactory(merchant=merchant, name="Cem", price=10000)
    plan_200 = PlanFactory(merchant=merchant, name="Duzentos", price=20000)
    subscription = paid_subscription(merchant, owner, plan_200)
    payments_before = Payment.objects.count()

    invoice = change_plan_now(subscription, owner, plan_100)

    assert (invoice.subtotal, invoice.total, invoice.status) == (-6041, 0, InvoiceStatus.PAID)
    assert Payment.objects.count() == payments_before
    assert credit_balance(customer=subscription.customer, currency="BRL") == 6041

    # The next renewal (R$ 100) consumes the R$ 60,41 credit and charges only R$ 39,59.
    with time_machine.travel(END, tick=False):
        process_subscription(subscription_id=subscription.pk, now=END)
    renewal = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.RECURRING, period_start=END)
    assert (renewal.total, renewal.credit_applied, renewal.amount_due) == (10000, 6041, 3959)
    assert renewal.status == InvoiceStatus.PAID
    assert renewal.payments.get().amount == 3959
    assert credit_balance(customer=subscription.customer, currency="BRL") == 0
