"""The renewal amount always equals the subscription's effective price version: for random prices,
quantities, notices, anchors and writers (row or bulk), every renewal invoice's plan line charges the
migrated version exactly from the first period starting at or after the notice's end, the contracted one
before — and the same as Próximas faturas said before the clock moved."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.choices import InvoiceKind
from billing.models import Invoice
from billing.services.batch import renew_many
from billing.services.billing_run import process_subscription
from billing.services.price_changes import plan_price_change_apply
from billing.services.upcoming import upcoming_invoices
from plans.periods import add_months
from subscribers.choices import SubscriptionStatus
from subscribers.models import Subscription
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.postgres
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 1, 20, 12, 0, tzinfo=SP)
PERIODS = 4


class Rollback(Exception):
    pass


worlds = st.fixed_dictionaries(
    {
        "anchor": st.sampled_from(
            [dt.datetime(2026, 12, 31, 23, 30, tzinfo=SP), dt.datetime(2026, 12, 25, 10, 0, tzinfo=SP)]
        ),
        "old": st.integers(500, 50000),
        "new": st.integers(500, 50000),
        "quantity": st.integers(1, 3),
        "notice_days": st.integers(0, 90),
        "migrate": st.booleans(),
        "writer": st.sampled_from(["row", "bulk"]),
    }
)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=worlds)
def test_every_renewal_charges_the_effective_price_version(merchant, world):
    if world["old"] == world["new"]:
        return
    try:
        with transaction.atomic():
            check(merchant, world)
            raise Rollback
    except Rollback:
        pass


def check(merchant, world):
    anchor, next_at = world["anchor"], add_months(world["anchor"], 1)
    plan = PlanFactory(merchant=merchant, price=world["old"])
    sub = SubscriptionFactory(
        merchant=merchant,
        plan=plan,
        quantity=world["quantity"],
        status=SubscriptionStatus.ACTIVE,
        billing_cycle_anchor=anchor,
        started_at=anchor,
        current_period_start=anchor,
        current_period_end=next_at,
        next_invoice_at=next_at,
        amount=world["old"] * world["quantity"],
        payment_token="4242424242424242",
    )
    notice_ends = NOW + dt.timedelta(days=world["notice_days"])
    plan_price_change_apply(
        plan=plan,
        amount=world["new"],
        migrate=world["migrate"],
        notice_days=world["notice_days"],
        actor=None,
        now=NOW,
    )
    starts = [add_months(anchor, n) for n in range(1, PERIODS + 1)]
    expected = [
        world["new"] if world["migrate"] and start >= notice_ends else world["old"] for start in starts
    ]
    previewed = upcoming_invoices(Subscription.objects.get(pk=sub.pk), PERIODS, now=NOW).invoices

    for start in starts:
        with time_machine.travel(start, tick=False):
            if world["writer"] == "bulk" and sub.pk in renew_many(subscription_ids=[sub.pk], now=start):
                continue
            process_subscription(subscription_id=sub.pk, now=start)

    invoices = Invoice.objects.filter(subscription=sub, kind=InvoiceKind.RECURRING).order_by("period_start")
    charged = [invoice.lines.order_by("pk").first().unit_amount for invoice in invoices]
    assert charged == expected
    assert [invoice.total for invoice in invoices] == [amount * world["quantity"] for amount in expected]
    assert [invoice.total for invoice in previewed] == [amount * world["quantity"] for amount in expected]
