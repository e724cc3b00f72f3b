"""Próximas faturas (billing.services.upcoming.upcoming_invoices): the next 12 invoices of a subscription,
amounts computed by hand here, drafted by the functions the billing run bills with."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine

from billing.choices import InvoiceKind, InvoiceStatus
from billing.models import Invoice
from billing.services.billing_run import process_subscription
from billing.services.upcoming import TermsInForce, upcoming_invoices
from plans.choices import CouponDuration, CouponKind
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import (
    CouponFactory,
    CreditEntryFactory,
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
    TaxRateFactory,
)

pytestmark = pytest.mark.django_db
S = SubscriptionStatus
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=SP)
NEXT = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SP)  # the next invoice; the anchor's day and time


def month(n: int, day: int = 15) -> dt.datetime:
    """NEXT moved n months (the anchor's day of month)."""
    index = NEXT.month - 1 + n
    return NEXT.replace(year=NEXT.year + index // 12, month=index % 12 + 1, day=day)


def subscription(merchant, plan, **fields):
    """An active monthly subscription anchored on the 15th, its next invoice on NEXT."""
    defaults = {
        "status": S.ACTIVE,
        "billing_cycle_anchor": month(-1),
        "started_at": month(-1),
        "current_period_start": month(-1),
        "current_period_end": NEXT,
        "next_invoice_at": NEXT,
    }
    created = SubscriptionFactory(merchant=merchant, plan=plan, **{**defaults, **fields})
    return (
        Subscription.objects.select_related("merchant", "plan", "customer", "coupon", "pending_plan")
        .prefetch_related("tax_rates")
        .get(pk=created.pk)
    )


def test_a_plain_subscription_shows_twelve_monthly_invoices_at_its_price(merchant):
    plan = PlanFactory(merchant=merchant, name="Digital", price=4990)

    preview = upcoming_invoices(subscription(merchant, plan), now=NOW)

    assert [invoice.at for invoice in preview.invoices] == [month(n) for n in range(12)]
    assert {invoice.total for invoice in preview.invoices} == {4990}
    assert preview.invoices[0].draft.period_end == month(1)
    assert [line.description for line in preview.invoices[0].lines] == ["Digital"]
    assert (preview.ends_at, preview.end_reason) == (None, "")


def test_a_coupon_of_three_months_discounts_three_invoices_then_ends(merchant):
    plan = PlanFactory(merchant=merchant, price=10000)
    coupon = CouponFactory(
        merchant=merchant,
        code="METADE3",
        kind=CouponKind.PERCENT,
        percent_off=Decimal("50"),
        duration=CouponDuration.REPEATING,
        duration_in_months=3,
    )
    # Applied on 15/12 (the period before NEXT): it covers 15/12, 15/01 and 15/02; 15/03 pays in full.
    sub = subscription(merchant, plan, coupon=coupon, coupon_applied_at=month(-1))

    invoices = upcoming_invoices(sub, now=NOW).invoices

    assert [(i.total, i.discount) for i in invoices[:3]] == [(5000, 5000), (5000, 5000), (10000, 0)]
    assert [i.discount_source for i in invoices[:3]] == ["METADE3", "METADE3", ""]
    assert [i.discount_ended for i in invoices[:3]] == ["", "", "METADE3"]
    assert {i.total for i in invoices[2:]} == {10000}


def test_a_manual_discount_for_two_periods_counts_the_periods_already_billed(merchant):
    plan = PlanFactory(merchant=merchant, price=10000)
    sub = subscription(merchant, plan, discount_type="fixed", discount_amount=1500, discount_periods=2)
    InvoiceFactory(merchant=merchant, subscription=sub, status=InvoiceStatus.PAID, kind=InvoiceKind.RECURRING)

    invoices = upcoming_invoices(sub, now=NOW).invoices

    # One period billed with it already: one more at R$ 85,00, then R$ 100,00.
    assert [i.total for i in invoices[:3]] == [8500, 10000, 10000]
    assert invoices[1].discount_ended == "manual"


def test_installments_end_after_the_last_one(merchant):
    course = PlanFactory(merchant=merchant, name="Impressora", price=100000, installments=6)
    sub = subscription(merchant, course)
    for n in (1, 2):
        InvoiceFactory(merchant=merchant, subscription=sub, status=InvoiceStatus.PAID, installment_number=n)

    preview = upcoming_invoices(sub, now=NOW)

    # Installments 3 to 6 of R$ 1.000,00: R$ 4.000,00 still to come, then the plan ends.
    assert [i.draft.installment_number for i in preview.invoices] == [3, 4, 5, 6]
    assert [i.lines[0].description for i in preview.invoices] == [f"Impressora ({n}/6)" for n in (3, 4, 5, 6)]
    assert sum(i.total for i in preview.invoices) == 400000
    assert preview.invoices[-1].draft.last_installment
    assert (preview.end_reason, preview.ends_at) == ("installments", month(4))


def test_a_scheduled_cancellation_leaves_no_invoice_after_it(merchant):
    plan = PlanFactory(merchant=merchant, price=4990)
    # Cancels on 20/03: the invoices of 15/01, 15/02 and 15/03 are still billed, 15/04 is not.
    sub = subscription(merchant, plan, cancel_at=month(2, day=20))

    preview = upcoming_invoices(sub, now=NOW)

    assert [i.at for i in preview.invoices] == [month(0), month(1), month(2)]
    assert (preview.end_reason, preview.ends_at) == ("cancel", month(2, day=20))


def test_a_cancellation_on_the_renewal_date_bills_nothing_more(merchant):
    sub = subscription(merchant, PlanFactory(merchant=merchant), cancel_at=NEXT)

    preview = upcoming_invoices(sub, now=NOW)

    assert preview.invoices == ()
    assert preview.end_reason == "cancel"


def test_a_pending_plan_change_bills_the_new_plan_from_the_next_invoice(merchant):
    basic = PlanFactory(merchant=merchant, name="Básico", price=4990)
    premium = PlanFactory(merchant=merchant, name="Premium", price=9990)
    sub = subscription(merchant, basic, pending_plan=premium, pending_quantity=2)

    invoices = upcoming_invoices(sub, now=NOW).invoices

    # 2 × R$ 99,90 from 15/01 on.
    assert {(i.plan_name, i.total) for i in invoices} == {("Premium", 19980)}
    assert [i.plan_changes for i in invoices[:2]] == [True, False]
    assert (invoices[0].lines[0].quantity, invoices[0].lines[0].unit_amount) == (2, 9990)


def test_taxes_exclusive_and_inclusive_are_on_every_invoice(merchant):
    plan = PlanFactory(merchant=merchant, price=4990)
    sub = subscription(merchant, plan, quantity=2)
    iss = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5"))
    icms = TaxRateFactory(merchant=merchant, name="ICMS", percentage=Decimal("18"), inclusive=True)
    sub.tax_rates.set([iss, icms])

    invoice = upcoming_invoices(sub, now=NOW).invoices[0]

    # Base 2 × 49,90 = 99,80. ISS 5 % exclusive: 4,99 added. ICMS 18 % inclusive: 99,80 − 99,80/1,18
    # = 99,80 − 84,58 = 15,22, contained in the price (not added).
    assert invoice.subtotal == 9980
    assert {d["name"]: d["amount"] for d in invoice.lines[0].tax_details} == {"ISS": 499, "ICMS": 1522}
    assert (invoice.tax, invoice.total) == (499 + 1522, 9980 + 499)


def test_the_credit_balance_pays_the_next_invoices_first(merchant):
    plan = PlanFactory(merchant=merchant, price=10000)
    sub = subscription(merchant, plan)
    CreditEntryFactory(merchant=merchant, customer=sub.customer, amount=15000, currency="BRL")

    preview = upcoming_invoices(sub, now=NOW)

    # R$ 150,00 of credit: all of the first R$ 100,00, half of the second.
    first, second, third = preview.invoices[:3]
    assert [(i.credit_applied, i.amount_due) for i in (first, second, third)] == [
        (10000, 0),
        (5000, 5000),
        (0, 10000),
    ]
    assert (preview.balance, preview.balance_after) == (15000, 0)


def test_a_trial_bills_its_first_invoice_when_it_ends(merchant):
    plan = PlanFactory(merchant=merchant, price=4990, trial_days=14)
    trial_end = dt.datetime(2027, 1, 20, 10, 0, tzinfo=SP)
    sub = subscription(
        merchant,
        plan,
        status=S.TRIALING,
        trial_ends_at=trial_end,
        billing_cycle_anchor=trial_end,
        current_period_start=trial_end - dt.timedelta(days=14),
        current_period_end=trial_end,
        next_invoice_at=trial_end,
    )

    invoices = upcoming_invoices(sub, now=NOW).invoices

    assert [i.at for i in invoices[:2]] == [trial_end, trial_end.replace(month=2)]
    assert [i.trial_ends for i in invoices[:2]] == [True, False]


def test_a_contract_not_started_yet_starts_on_its_date_after_its_trial(merchant):
    plan = PlanFactory(merchant=merchant, price=4990, trial_days=7)
    start = dt.datetime(2027, 2, 1, 0, 0, tzinfo=SP)
    sub = subscription(
        merchant,
        plan,
        status=S.SCHEDULED,
        billing_cycle_anchor=start,
        started_at=None,
        current_period_start=None,
        current_period_end=None,
        next_invoice_at=None,
    )

    invoices = upcoming_invoices(sub, now=NOW).invoices

    assert invoices[0].at == start + dt.timedelta(days=7)
    assert invoices[0].trial_ends


def test_an_ended_subscription_has_no_upcoming_invoice(merchant):
    sub = subscription(merchant, PlanFactory(merchant=merchant), status=S.CANCELED, next_invoice_at=None)

    assert upcoming_invoices(sub, now=NOW).invoices == ()


def test_the_terms_seam_gives_each_period_its_own_terms(merchant):
    """How a schedule plugs its phases in: a function of the period start."""
    print_plan = PlanFactory(merchant=merchant, name="Impressa", price=8000)
    digital = PlanFactory(merchant=merchant, name="Digital", price=3000)
    sub = subscription(merchant, print_plan)

    def phases(period_start):
        plan = print_plan if period_start < month(2) else digital
        return TermsInForce(plan=plan, quantity=1)

    invoices = upcoming_invoices(sub, 4, terms_for=phases, now=NOW).invoices

    assert [(i.plan_name, i.total) for i in invoices] == [
        ("Impressa", 8000),
        ("Impressa", 8000),
        ("Digital", 3000),
        ("Digital", 3000),
    ]


def test_a_one_off_price_bills_instead_of_the_plan_as_the_billing_run_does(merchant):
    plan = PlanFactory(merchant=merchant, name="Impressora", price=99999)
    custom = {"name": "Impressora em 6x", "amount": 50000, "interval_unit": "month", "interval_count": 1}
    sub = subscription(merchant, plan, custom_price=custom)

    invoices = upcoming_invoices(sub, 2, now=NOW).invoices
    with time_machine.travel(NEXT, tick=False):
        process_subscription(subscription_id=sub.pk, now=NEXT)

    # R$ 500,00 a month (the one-off price), not the plan's R$ 999,99; the run wrote the same.
    assert [(i.plan_name, i.total) for i in invoices] == [("Impressora em 6x", 50000)] * 2
    written = Invoice.objects.get(subscription=sub, period_start=NEXT)
    assert (written.total, written.lines.get().description) == (50000, "Impressora em 6x")
