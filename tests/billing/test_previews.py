"""Previews (billing.services.previews): what the edit and cancel screens show before confirming is
exactly what confirming at that instant bills — charged now, credited to the balance, next invoice."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing.choices import InvoiceKind
from billing.models import Invoice
from billing.selectors import credit_balance
from billing.services.billing_run import process_subscription
from billing.services.previews import cancellation_money_preview, subscription_change_preview
from core.models import Event
from plans.choices import CouponDuration, CouponKind
from subscribers.choices import EventKind
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_cancel, subscription_create, subscription_update
from tests.factories import CouponFactory, CustomerFactory, PlanFactory

pytestmark = pytest.mark.django_db
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
START = dt.datetime(2027, 1, 15, 10, 0, tzinfo=SP)
END = dt.datetime(2027, 2, 15, 10, 0, tzinfo=SP)
CHANGE = dt.datetime(2027, 1, 27, 16, 30, tzinfo=SP)


@pytest.fixture
def plans(merchant):
    return PlanFactory(merchant=merchant, name="Cem", price=10000), PlanFactory(
        merchant=merchant, name="Duzentos", price=20000
    )


@pytest.fixture
def half_off(merchant):
    return CouponFactory(
        merchant=merchant,
        code="METADE",
        kind=CouponKind.PERCENT,
        percent_off=Decimal("50"),
        duration=CouponDuration.FOREVER,
    )


def paid(merchant, owner, plan, **terms):
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
    return subscription


def edit(subscription, owner, **values):
    values.setdefault("quantity", subscription.quantity)
    values.setdefault("apply", "now")
    with time_machine.travel(CHANGE, tick=False):
        subscription_update(
            subscription=subscription,
            actor=owner,
            payment_method=subscription.payment_method,
            now=CHANGE,
            **values,
        )


def test_the_upgrade_preview_is_what_is_charged_and_what_the_next_invoice_is(
    merchant, owner, plans, half_off
):
    cem, duzentos = plans
    subscription = paid(merchant, owner, cem, coupon=half_off)

    preview = subscription_change_preview(subscription=subscription, plan=duzentos, quantity=1, now=CHANGE)

    assert (preview["now"]["total"], preview["now"]["charged"], preview["now"]["credited"]) == (3021, 3021, 0)
    assert preview["next_invoice"]["at"] == END
    assert (preview["next_invoice"]["total"], preview["next_invoice"]["amount_due"]) == (10000, 10000)
    edit(subscription, owner, plan=duzentos)
    invoice = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)
    assert invoice.payments.get().amount == preview["now"]["charged"]
    with time_machine.travel(END, tick=False):
        process_subscription(subscription_id=subscription.pk, now=END)
    assert Invoice.objects.get(subscription=subscription, period_start=END).total == 10000


def test_the_downgrade_preview_says_what_is_credited_and_what_the_next_invoice_consumes(
    merchant, owner, plans
):
    cem, duzentos = plans
    subscription = paid(merchant, owner, duzentos)

    preview = subscription_change_preview(subscription=subscription, plan=cem, quantity=1, now=CHANGE)

    assert (preview["now"]["total"], preview["now"]["credited"], preview["now"]["charged"]) == (0, 6041, 0)
    assert preview["next_invoice"] | {"at": None} == {
        "at": None,
        "total": 10000,
        "discount": 0,
        "tax": 0,
        "credit_applied": 6041,
        "amount_due": 3959,
    }
    assert preview["balance_after"] == 0
    edit(subscription, owner, plan=cem)
    assert credit_balance(customer=subscription.customer, currency="BRL") == preview["now"]["credited"]
    with time_machine.travel(END, tick=False):
        process_subscription(subscription_id=subscription.pk, now=END)
    renewal = Invoice.objects.get(subscription=subscription, period_start=END)
    assert (renewal.credit_applied, renewal.amount_due) == (6041, 3959)


def test_a_change_for_the_next_cycle_charges_nothing_now(merchant, owner, plans):
    cem, duzentos = plans
    subscription = paid(merchant, owner, cem)

    preview = subscription_change_preview(
        subscription=subscription, plan=duzentos, quantity=1, apply="next_cycle", now=CHANGE
    )

    assert preview["now"] is None
    assert preview["next_invoice"]["total"] == 20000


def test_adding_a_coupon_discounts_from_the_next_invoice_with_an_event(merchant, owner, plans, half_off):
    cem, _duzentos = plans
    subscription = paid(merchant, owner, cem)

    preview = subscription_change_preview(
        subscription=subscription, plan=cem, quantity=1, coupon=half_off, now=CHANGE
    )
    edit(subscription, owner, plan=cem, coupon=half_off)

    assert preview["now"] is None
    assert preview["next_invoice"]["total"] == 5000
    subscription.refresh_from_db()
    assert (subscription.coupon, subscription.coupon_applied_at) == (half_off, CHANGE)
    edited = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.EDITED)
    assert edited.data["changes"]["coupon"] == [None, half_off.pk]
    assert Event.objects.filter(
        type="subscription.updated", payload__changes__coupon=[None, half_off.pk]
    ).exists()
    with time_machine.travel(END, tick=False):
        process_subscription(subscription_id=subscription.pk, now=END)
    assert Invoice.objects.get(subscription=subscription, period_start=END).total == 5000

    removed = subscription_change_preview(
        subscription=subscription, plan=cem, quantity=1, coupon=None, now=END
    )
    assert removed["next_invoice"]["total"] == 10000


def test_an_expired_coupon_cannot_be_added(merchant, owner, plans):
    cem, _duzentos = plans
    subscription = paid(merchant, owner, cem)
    old = CouponFactory(merchant=merchant, is_active=False)

    with pytest.raises(ValidationError) as excinfo:
        edit(subscription, owner, plan=cem, coupon=old)

    assert "coupon" in excinfo.value.error_dict


def test_cancel_now_with_credit_puts_the_unused_time_on_the_balance(merchant, owner, plans, half_off):
    cem, _duzentos = plans
    subscription = paid(merchant, owner, cem, coupon=half_off)

    preview = cancellation_money_preview(
        subscription=subscription, when="now", credit_unused_time=True, now=CHANGE
    )
    with time_machine.travel(CHANGE, tick=False):
        subscription_cancel(subscription=subscription, actor=owner, origin="seller", credit_unused_time=True)

    assert preview["credited"] == preview["credit_available"] == 3021  # 50,00 paid × 449,5/744
    assert credit_balance(customer=subscription.customer, currency="BRL") == 3021
    subscription.refresh_from_db()
    assert subscription.access_until == CHANGE
    canceled = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CANCELED)
    assert canceled.data["credit"]["credited_to_balance"] == 3021


def test_cancelling_on_a_date_credits_nothing_and_says_so(merchant, owner, plans):
    cem, _duzentos = plans
    subscription = paid(merchant, owner, cem)

    preview = cancellation_money_preview(subscription=subscription, when="date", now=CHANGE)
    with time_machine.travel(CHANGE, tick=False), pytest.raises(ValidationError) as excinfo:
        subscription_cancel(
            subscription=subscription,
            actor=owner,
            origin="seller",
            when="date",
            at_date=dt.date(2027, 2, 1),
            credit_unused_time=True,
        )

    assert preview["credited"] == 0 and preview["credit_available"] > 0
    assert excinfo.value.error_dict["credit_unused_time"][0].code == "credit_needs_now"
    assert credit_balance(customer=subscription.customer, currency="BRL") == 0


def test_the_cancel_preview_says_which_renewal_is_still_billed_before_the_cancellation(
    merchant, owner, plans
):
    cem, _duzentos = plans
    subscription = paid(merchant, owner, cem)
    after_renewal = dt.datetime(2027, 2, 20, tzinfo=SP)

    later = cancellation_money_preview(
        subscription=subscription, when="date", effective_at=after_renewal, now=CHANGE
    )
    at_period_end = cancellation_money_preview(
        subscription=subscription, when="period_end", effective_at=END, now=CHANGE
    )

    assert (later["next_invoice"]["at"], later["next_invoice"]["amount_due"]) == (END, 10000)
    assert at_period_end["next_invoice"] is None


def test_an_unpaid_period_is_not_credited_on_cancellation(merchant, owner, plans):
    cem, _duzentos = plans
    declined = paid(merchant, owner, cem, payment_token="4000000000000002")  # the first charge declined
    assert (declined.status, declined.current_period_end) == ("past_due", END)

    preview = cancellation_money_preview(
        subscription=declined, when="now", credit_unused_time=True, now=CHANGE
    )
    with time_machine.travel(CHANGE, tick=False):
        subscription_cancel(subscription=declined, actor=owner, origin="seller", credit_unused_time=True)

    assert (preview["credit_available"], preview["credited"]) == (0, 0)
    assert credit_balance(customer=declined.customer, currency="BRL") == 0
