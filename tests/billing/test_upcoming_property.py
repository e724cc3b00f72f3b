"""Issue 13 #14 for subscriptions without a schedule: the preview of the next 12 invoices equals, line by
line, what the billing run then writes when the clock is moved through those periods — through the row
writer (process_subscription) and through the bulk writer (renew_many, with process_subscription for
what it leaves, as billing_run.process_chunk does).

Random subscriptions: price, quantity, coupon (percent or fixed; once, N months or forever, applied
before the next invoice), manual discount for N periods, exclusive and inclusive taxes, installments
(some already billed), a pending plan/quantity change, a one-off price, a scheduled cancellation, a credit
balance. Each example runs in a savepoint rolled back at its end. `HYPOTHESIS_PROFILE=long` explores
more.
"""

import datetime as dt
import os
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.choices import InvoiceKind, InvoiceStatus
from billing.models import BillingSettings, Invoice
from billing.services.batch import renew_many
from billing.services.billing_run import process_subscription
from billing.services.upcoming import upcoming_invoices
from plans.choices import CouponDuration, CouponKind
from plans.periods import add_months
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from subscribers.services import subscription_process_due
from tests.factories import (
    CouponFactory,
    CreditEntryFactory,
    InvoiceFactory,
    PlanFactory,
    SubscriptionFactory,
    TaxRateFactory,
)

pytestmark = pytest.mark.postgres
S = SubscriptionStatus
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 1, 20, 12, 0, tzinfo=SP)
ANCHORS = [
    dt.datetime(2026, 12, 31, 23, 30, tzinfo=SP),  # clamps through February
    dt.datetime(2026, 12, 25, 10, 0, tzinfo=SP),
]
EXAMPLES = 60 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 6
TAXES = [("ISS", Decimal("5"), False), ("ICMS", Decimal("18"), True), ("PIS", Decimal("0.65"), False)]


class Rollback(Exception):
    pass


coupons = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {
            "kind": st.sampled_from([CouponKind.PERCENT, CouponKind.FIXED]),
            "percent": st.integers(1, 100),
            "amount": st.integers(100, 8000),
            "duration": st.sampled_from(list(CouponDuration)),
            "months": st.integers(1, 6),
        }
    ),
)
worlds = st.fixed_dictionaries(
    {
        "anchor": st.sampled_from(ANCHORS),
        "price": st.integers(100, 50000),
        "quantity": st.integers(1, 3),
        "coupon": coupons,
        "manual": st.one_of(st.none(), st.tuples(st.integers(1, 60), st.none() | st.integers(1, 4))),
        "taxes": st.lists(st.sampled_from(range(len(TAXES))), unique=True, max_size=3),
        "installments": st.one_of(st.none(), st.tuples(st.integers(2, 8), st.integers(0, 1))),
        "pending": st.one_of(st.none(), st.tuples(st.integers(100, 50000), st.integers(1, 3))),
        "cancel_after_months": st.one_of(st.none(), st.integers(0, 11)),
        "credit": st.sampled_from([0, 0, 2500, 30000]),
        "one_off_price": st.one_of(st.none(), st.integers(100, 50000)),
        "writer": st.sampled_from(["row", "bulk"]),
    }
)


def build(merchant, world) -> Subscription:
    anchor = world["anchor"]
    next_at = add_months(anchor, 1)
    installments = world["installments"]
    plan = PlanFactory(
        merchant=merchant, name="Plano", price=world["price"], installments=installments and installments[0]
    )
    fields = {}
    if world["coupon"]:
        c = world["coupon"]
        fields["coupon"] = CouponFactory(
            merchant=merchant,
            code="CUPOM",
            kind=c["kind"],
            percent_off=Decimal(c["percent"]) if c["kind"] == CouponKind.PERCENT else None,
            amount_off=c["amount"] if c["kind"] == CouponKind.FIXED else None,
            currency="BRL",
            duration=c["duration"],
            duration_in_months=c["months"] if c["duration"] == CouponDuration.REPEATING else None,
        )
        fields["coupon_applied_at"] = anchor
    if world["manual"]:
        percent, periods = world["manual"]
        fields.update(discount_type="percent", discount_percent=Decimal(percent), discount_periods=periods)
    if world["pending"] and not installments:
        price, quantity = world["pending"]
        fields.update(
            pending_plan=PlanFactory(merchant=merchant, name="Novo", price=price), pending_quantity=quantity
        )
    if world["one_off_price"] and not installments:
        # A schedule phase's one-off price: billed instead of the plan's.
        fields["custom_price"] = {
            "name": "Avulso",
            "amount": world["one_off_price"],
            "interval_unit": "month",
            "interval_count": 1,
        }
    if world["cancel_after_months"] is not None:
        fields["cancel_at"] = add_months(next_at, world["cancel_after_months"]) + dt.timedelta(days=3)
    subscription = SubscriptionFactory(
        merchant=merchant,
        plan=plan,
        quantity=world["quantity"],
        status=S.ACTIVE,
        billing_cycle_anchor=anchor,
        started_at=anchor,
        current_period_start=anchor,
        current_period_end=next_at,
        next_invoice_at=next_at,
        **fields,
    )
    rates = [
        TaxRateFactory(merchant=merchant, name=TAXES[i][0], percentage=TAXES[i][1], inclusive=TAXES[i][2])
        for i in world["taxes"]
    ]
    subscription.tax_rates.set(rates)
    # The period before: already invoiced (and paid), so coupons "once" and discount periods count it.
    InvoiceFactory(
        merchant=merchant,
        subscription=subscription,
        customer=subscription.customer,
        number=900001,
        status=InvoiceStatus.PAID,
        period_start=anchor,
        period_end=next_at,
        installment_number=1 if installments else None,
    )
    if installments and installments[1]:
        # One more installment billed earlier (a backdated course): fewer left.
        InvoiceFactory(
            merchant=merchant,
            subscription=subscription,
            customer=subscription.customer,
            number=900002,
            status=InvoiceStatus.PAID,
            period_start=add_months(anchor, -1),
            period_end=anchor,
            installment_number=2,
        )
    if world["credit"]:
        CreditEntryFactory(merchant=merchant, customer=subscription.customer, amount=world["credit"])
    return Subscription.objects.select_related("merchant", "plan", "customer", "coupon", "pending_plan").get(
        pk=subscription.pk
    )


def bill_at(moment, subscription_id, writer):
    """What the schedules do at `moment`: due contract work, then the billing run for this subscription."""
    with time_machine.travel(moment, tick=False):
        subscription_process_due(now=moment)
        if writer == "bulk" and subscription_id in renew_many(subscription_ids=[subscription_id], now=moment):
            return
        process_subscription(subscription_id=subscription_id, now=moment)


def previewed(invoice):
    draft = invoice.draft
    return {
        "period": (draft.period_start, draft.period_end),
        "installment": draft.installment_number,
        "totals": (draft.totals.subtotal, draft.totals.discount, draft.totals.tax, draft.totals.total),
        "credit": (invoice.credit_applied, invoice.amount_due),
        "lines": [
            (
                line.description,
                line.quantity,
                line.unit_amount,
                line.amount,
                line.discount_amount,
                line.tax_amount,
                line.tax_details,
                line.period_start,
                line.period_end,
                line.proration,
            )
            for line in invoice.lines
        ],
    }


def written(invoice):
    return {
        "period": (invoice.period_start, invoice.period_end),
        "installment": invoice.installment_number,
        "totals": (invoice.subtotal, invoice.discount, invoice.tax, invoice.total),
        "credit": (invoice.credit_applied, invoice.total - invoice.credit_applied),
        "lines": [
            (
                line.description,
                line.quantity,
                line.unit_amount,
                line.amount,
                line.discount_amount,
                line.tax_amount,
                line.tax_details,
                line.period_start,
                line.period_end,
                line.proration,
            )
            for line in invoice.lines.order_by("pk")
        ],
    }


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds)
def test_the_preview_is_what_the_billing_run_writes(merchant, world):
    try:
        with transaction.atomic():
            BillingSettings.objects.get_or_create(merchant=merchant)
            subscription = build(merchant, world)
            next_at = subscription.next_invoice_at

            preview = upcoming_invoices(subscription, 12, now=NOW)

            # The clock moves through every previewed date, and on past the end when billing ends sooner.
            moments = {invoice.at for invoice in preview.invoices}
            if len(preview.invoices) < 12:
                moments |= {add_months(next_at.astimezone(SP), n) for n in range(13)}
            if subscription.cancel_at:
                moments.add(subscription.cancel_at)
            for moment in sorted(moments):
                bill_at(moment, subscription.pk, world["writer"])

            invoices = Invoice.objects.filter(
                subscription=subscription, kind=InvoiceKind.RECURRING, period_start__gte=next_at
            ).order_by("period_start")
            assert [written(i) for i in invoices] == [previewed(i) for i in preview.invoices]
            if preview.end_reason:
                subscription.refresh_from_db()
                assert subscription.status in (S.CANCELED, S.EXPIRED)
            raise Rollback
    except Rollback:
        pass
