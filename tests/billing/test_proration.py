"""Proration: the one function that computes it (properties checked with hypothesis) and the invoice a
plan or quantity change applied now produces (kind "proration", charged at once, net credit to the balance).

"Now" is 16/03/2027 10:00 in São Paulo, in the middle of a paid period 01/03 10:00 → 01/04 10:00
(31 days, of which 16 are left: the fraction is 16/31).
"""

import datetime as dt
import zoneinfo
from decimal import Decimal
from fractions import Fraction

import pytest
import time_machine
from django.core.exceptions import ValidationError
from hypothesis import given, settings
from hypothesis import strategies as st

from billing.calculations import PeriodTerms, TaxInput, compute_invoice
from billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from billing.models import Invoice, Payment
from billing.selectors import credit_balance
from billing.services.billing_run import process_subscription
from billing.services.proration import prorate_plan_change, proration_lines, subscription_change_plan
from core.models import Event
from plans.models import TaxRate
from subscribers.choices import EventKind, PaymentMethod, SubscriptionStatus
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_create, subscription_update
from tests.factories import CustomerFactory, PlanFactory

S = SubscriptionStatus
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 3, 1, 10, 0, tzinfo=SAO_PAULO)
END = dt.datetime(2027, 4, 1, 10, 0, tzinfo=SAO_PAULO)
NOW = dt.datetime(2027, 3, 16, 10, 0, tzinfo=SAO_PAULO)


# --- proration_lines: properties ---------------------------------------------------------------------
prices = st.integers(min_value=0, max_value=10_000_000)
quantities = st.integers(min_value=1, max_value=1_000)
period_seconds = st.integers(min_value=1, max_value=400 * 86_400)


@st.composite
def changes(draw):
    total = draw(period_seconds)
    elapsed = draw(st.integers(min_value=0, max_value=total))
    start = START + dt.timedelta(seconds=draw(st.integers(min_value=0, max_value=10**7)))
    return {
        "old_price": draw(prices),
        "old_quantity": draw(quantities),
        "new_price": draw(prices),
        "new_quantity": draw(quantities),
        "period_start": start,
        "period_end": start + dt.timedelta(seconds=total),
        "at": start + dt.timedelta(seconds=elapsed),
    }


def exact_net(change) -> Fraction:
    """The exact value of the change for the rest of the period (rational arithmetic, no rounding)."""
    total = int((change["period_end"] - change["period_start"]).total_seconds())
    remaining = int((change["period_end"] - change["at"]).total_seconds())
    full_difference = (
        change["new_price"] * change["new_quantity"] - change["old_price"] * change["old_quantity"]
    )
    return Fraction(full_difference * remaining, total)


@settings(max_examples=300, deadline=None)
@given(changes())
def test_credit_plus_charge_is_within_one_centavo_of_the_exact_value(change):
    credit, charge = proration_lines(**change)

    assert credit.unit_amount <= 0 <= charge.unit_amount
    assert abs(credit.unit_amount + charge.unit_amount - exact_net(change)) <= 1


@settings(max_examples=200, deadline=None)
@given(changes())
def test_each_line_is_its_full_amount_times_the_unused_fraction_rounded_once(change):
    total = int((change["period_end"] - change["period_start"]).total_seconds())
    remaining = int((change["period_end"] - change["at"]).total_seconds())

    credit, charge = proration_lines(**change)

    old_exact = Fraction(change["old_price"] * change["old_quantity"] * remaining, total)
    new_exact = Fraction(change["new_price"] * change["new_quantity"] * remaining, total)
    assert abs(-credit.unit_amount - old_exact) <= Fraction(1, 2)
    assert abs(charge.unit_amount - new_exact) <= Fraction(1, 2)
    assert all(
        isinstance(line.unit_amount, int) and line.quantity == 1 and line.proration
        for line in (credit, charge)
    )


@settings(max_examples=200, deadline=None)
@given(changes())
def test_no_drift_at_the_edges_of_the_period(change):
    at_start = proration_lines(**{**change, "at": change["period_start"]})
    at_end = proration_lines(**{**change, "at": change["period_end"]})

    assert [line.unit_amount for line in at_start] == [
        -change["old_price"] * change["old_quantity"],
        change["new_price"] * change["new_quantity"],
    ]
    assert [line.unit_amount for line in at_end] == [0, 0]


@settings(max_examples=200, deadline=None)
@given(changes())
def test_the_invoice_total_is_the_sum_of_its_lines(change):
    totals = compute_invoice(lines=proration_lines(**change))

    assert totals.subtotal == sum(line.amount for line in totals.lines)
    assert totals.total == max(sum(line.amount for line in totals.lines), 0)


@settings(max_examples=100, deadline=None)
@given(changes(), st.decimals(min_value=0, max_value=30, places=2))
def test_with_an_exclusive_tax_the_total_is_the_lines_plus_their_tax(change, percentage):
    terms = PeriodTerms(
        taxes=(TaxInput(tax_rate_id=None, name="ISS", percentage=percentage, inclusive=False),)
    )

    totals = compute_invoice(lines=proration_lines(**change, old_terms=terms, new_terms=terms))

    assert totals.net == sum(line.amount + line.tax_amount for line in totals.lines)
    assert totals.total == max(totals.net, 0)
    assert totals.lines[0].tax_amount <= 0  # a credit gives back the tax of what it credits


def test_a_change_outside_the_period_is_clamped_to_it():
    change = {
        "old_price": 4990,
        "old_quantity": 1,
        "new_price": 9990,
        "new_quantity": 1,
        "period_start": START,
        "period_end": END,
    }

    before = proration_lines(**change, at=START - dt.timedelta(days=3))
    after = proration_lines(**change, at=END + dt.timedelta(days=3))

    assert [line.unit_amount for line in before] == [-4990, 9990]
    assert [line.unit_amount for line in after] == [0, 0]


def test_half_a_centavo_rounds_up_once_per_line():
    # 1 centavo over a two-second period, changed after one second: exactly half a centavo each.
    credit, charge = proration_lines(
        old_price=1,
        old_quantity=1,
        new_price=3,
        new_quantity=1,
        period_start=START,
        period_end=START + dt.timedelta(seconds=2),
        at=START + dt.timedelta(seconds=1),
    )

    assert (credit.unit_amount, charge.unit_amount) == (-1, 2)  # 0,5 → 1 and 1,5 → 2, half up


def test_lines_say_what_they_are_for():
    credit, charge = proration_lines(
        old_price=4990,
        old_quantity=2,
        new_price=9990,
        new_quantity=1,
        period_start=START,
        period_end=END,
        at=NOW,
        old_name="Básico",
        new_name="Ouro",
    )

    assert credit.description == "Crédito pelo tempo não usado: Básico × 2"
    assert charge.description == "Tempo restante: Ouro × 1"
    assert (credit.period_start, credit.period_end) == (NOW, END)


# --- the proration invoice ---------------------------------------------------------------------------
@pytest.fixture
def basic(merchant):
    return PlanFactory(merchant=merchant, name="Básico", price=4990)


@pytest.fixture
def gold(merchant):
    return PlanFactory(merchant=merchant, name="Ouro", price=9990)


def paid_subscription(merchant, owner, plan, **overrides):
    """Contracted on START and its first period invoiced and paid by the billing run (sandbox card)."""
    with time_machine.travel(START, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=plan,
            contract_date=START.date(),
            **overrides,
        )
        process_subscription(subscription_id=subscription.pk, now=START)
    subscription.refresh_from_db()
    assert (subscription.current_period_start, subscription.current_period_end) == (START, END)
    return subscription


def change_now(subscription, actor, plan, quantity=None, **overrides):
    return subscription_update(
        subscription=subscription,
        actor=actor,
        plan=plan,
        quantity=quantity or subscription.quantity,
        payment_method=overrides.pop("payment_method", subscription.payment_method),
        apply="now",
        now=overrides.pop("now", NOW),
        **overrides,
    )


def proration_invoice(subscription) -> Invoice:
    return Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)


def test_an_upgrade_now_bills_the_difference_for_the_rest_of_the_period_and_charges_it(
    merchant, owner, basic, gold
):
    subscription = paid_subscription(merchant, owner, basic)
    Event.objects.all().delete()

    with time_machine.travel(NOW, tick=False):
        change_now(subscription, owner, gold)

    invoice = proration_invoice(subscription)
    lines = list(invoice.lines.values_list("description", "amount", "proration"))
    # 4.990 × 16/31 = 2.575,48… → 2.575; 9.990 × 16/31 = 5.156,12… → 5.156
    assert lines == [
        ("Crédito pelo tempo não usado: Básico × 1", -2575, True),
        ("Tempo restante: Ouro × 1", 5156, True),
    ]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (2581, 0, 2581)
    assert (invoice.period_start, invoice.period_end) == (NOW, END)
    assert invoice.number == 2  # after the first period's invoice
    assert invoice.status == InvoiceStatus.PAID
    payment = invoice.payments.get()
    assert (payment.status, payment.amount) == (PaymentStatus.SUCCEEDED, 2581)
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.amount, subscription.status) == (gold, 9990, S.ACTIVE)
    assert subscription.pending_plan is None
    assert list(Event.objects.order_by("pk").values_list("type", flat=True)) == [
        "invoice.created",
        "payment.succeeded",
        "invoice.paid",
        "subscription.updated",
    ]
    created = Event.objects.get(type="invoice.created").payload
    assert (created["kind"], created["total"], created["credited_to_balance"]) == ("proration", 2581, 0)


def test_the_edit_timeline_entry_notes_the_proration(merchant, owner, basic, gold):
    subscription = paid_subscription(merchant, owner, basic)

    with time_machine.travel(NOW, tick=False):
        change_now(subscription, owner, gold)

    event = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.EDITED)
    invoice = proration_invoice(subscription)
    assert event.actor == owner
    assert event.data["apply"] == "now"
    assert event.data["changes"]["plan"] == [basic.pk, gold.pk]
    assert event.data["proration"] == {
        "invoice": invoice.pk,
        "number": invoice.number,
        "credit": 2575,
        "charge": 5156,
        "total": 2581,
        "credited_to_balance": 0,
        "credit_applied": 0,
        "payment_status": "succeeded",
    }


def test_a_quantity_increase_now_charges_the_extra_seats(merchant, owner, basic):
    subscription = paid_subscription(merchant, owner, basic)

    with time_machine.travel(NOW, tick=False):
        change_now(subscription, owner, basic, quantity=3)

    invoice = proration_invoice(subscription)
    # 3 × 4.990 = 14.970 × 16/31 = 7.726,45… → 7.726; credit 2.575
    assert list(invoice.lines.values_list("amount", flat=True)) == [-2575, 7726]
    assert invoice.total == 5151
    subscription.refresh_from_db()
    assert (subscription.quantity, subscription.amount) == (3, 14970)


def test_a_downgrade_puts_the_credit_on_the_balance_with_a_zero_invoice_and_refunds_nothing(
    merchant, owner, basic, gold
):
    subscription = paid_subscription(merchant, owner, gold)
    payments_before = Payment.objects.count()

    with time_machine.travel(NOW, tick=False):
        change_now(subscription, owner, basic)

    invoice = proration_invoice(subscription)
    assert list(invoice.lines.values_list("amount", flat=True)) == [-5156, 2575]
    assert (invoice.subtotal, invoice.total, invoice.status) == (-2581, 0, InvoiceStatus.PAID)
    assert Payment.objects.count() == payments_before
    assert not invoice.payments.exists()
    created = Event.objects.get(type="invoice.created", payload__kind="proration").payload
    assert created["credited_to_balance"] == 2581
    event = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.EDITED)
    assert event.data["proration"]["credited_to_balance"] == 2581
    assert credit_balance(customer=subscription.customer, currency="BRL") == 2581
    assert "payment_status" not in event.data["proration"]


def test_a_tax_added_mid_period_applies_to_the_charge_not_to_the_time_paid_without_it(
    merchant, owner, basic, gold
):
    subscription = paid_subscription(merchant, owner, basic)
    subscription.tax_rates.add(
        TaxRate.objects.create(merchant=merchant, name="ISS", percentage=Decimal("5"), inclusive=False)
    )

    with time_machine.travel(NOW, tick=False):
        change_now(subscription, owner, gold)

    invoice = proration_invoice(subscription)
    # The period was paid without the tax added since: its unused part is credited as paid (no tax);
    # the rest at the new plan carries the rates in force now. (With the tax from the start both sides
    # carry it: tests/billing/test_money_proration.py.)
    assert list(invoice.lines.values_list("amount", "tax_amount")) == [(-2575, 0), (5156, 258)]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (2581, 258, 2839)
    assert invoice.payments.get().amount == 2839


def test_a_declined_card_leaves_the_proration_invoice_open_for_dunning(merchant, owner, basic, gold):
    subscription = paid_subscription(merchant, owner, basic)
    subscription.payment_token = "4000 0000 0000 0002"
    subscription.save(update_fields=["payment_token"])

    with time_machine.travel(NOW, tick=False):
        change_now(subscription, owner, gold)

    invoice = proration_invoice(subscription)
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.next_attempt_at == NOW + dt.timedelta(hours=24)
    assert invoice.payments.get().status == PaymentStatus.FAILED
    subscription.refresh_from_db()
    assert (subscription.plan, subscription.status) == (gold, S.PAST_DUE)


@pytest.mark.parametrize("status", [S.TRIALING, S.PENDING, S.SCHEDULED])
def test_nothing_is_prorated_without_a_paid_period(merchant, owner, basic, gold, status):
    subscription = paid_subscription(merchant, owner, basic)
    subscription.status = status
    subscription.save(update_fields=["status"])

    with time_machine.travel(NOW, tick=False):
        change_now(subscription, owner, gold)

    subscription.refresh_from_db()
    assert subscription.plan == gold
    assert not Invoice.objects.filter(kind=InvoiceKind.PRORATION).exists()


def test_nothing_is_prorated_once_the_period_is_over(merchant, owner, basic, gold):
    subscription = paid_subscription(merchant, owner, basic)

    with time_machine.travel(END, tick=False):
        note = prorate_plan_change(subscription=subscription, old_plan=gold, old_quantity=1, now=END)

    assert note is None
    assert not Invoice.objects.filter(kind=InvoiceKind.PRORATION).exists()


def test_a_plan_in_another_currency_cannot_be_prorated(merchant, owner, basic):
    subscription = paid_subscription(merchant, owner, basic)
    dollars = PlanFactory(merchant=merchant, name="Gold USD", price=2000, currency="USD")

    with time_machine.travel(NOW, tick=False), pytest.raises(ValidationError) as excinfo:
        change_now(subscription, owner, dollars)

    assert excinfo.value.error_dict["plan"][0].code == "currency_mismatch"
    subscription.refresh_from_db()
    assert subscription.plan == basic
    assert not Invoice.objects.filter(kind=InvoiceKind.PRORATION).exists()
    assert not SubscriptionEvent.objects.filter(kind=EventKind.EDITED).exists()


def test_subscription_change_plan_keeps_every_other_term(merchant, owner, basic, gold):
    subscription = paid_subscription(merchant, owner, basic, payment_method=PaymentMethod.CARD)

    with time_machine.travel(NOW, tick=False):
        subscription_change_plan(subscription=subscription, actor=owner, plan=gold, quantity=2, apply="now")

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.quantity, subscription.payment_method) == (gold, 2, "card")
    assert proration_invoice(subscription).total == 10312 - 2575  # 19.980 × 16/31 = 10.311,7… → 10.312


def test_subscription_change_plan_for_the_next_cycle_only_schedules_it(merchant, owner, basic, gold):
    subscription = paid_subscription(merchant, owner, basic)

    with time_machine.travel(NOW, tick=False):
        subscription_change_plan(
            subscription=subscription, actor=owner, plan=gold, quantity=1, apply="next_cycle"
        )

    subscription.refresh_from_db()
    assert (subscription.plan, subscription.pending_plan, subscription.pending_quantity) == (
        basic,
        gold,
        None,
    )
    assert not Invoice.objects.filter(kind=InvoiceKind.PRORATION).exists()
