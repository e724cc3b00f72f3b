"""Pausar / retomar, time-travelled through the billing run and the due task: no invoice while paused,
periods frozen, what each resume mode charges (computed by hand here), pauses and resumes on a date,
open boletos voided, coupons frozen or not, and the preview equal to the bill."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing.choices import InvoiceKind, InvoiceStatus, PaymentStatus
from billing.models import BillingSettings, Invoice, Payment
from billing.services.billing_run import due_subscription_ids, process_subscription
from billing.services.pause import resume_preview
from core.models import Event
from plans.choices import CouponDuration
from subscribers.choices import (
    CancelOrigin,
    CancelWhen,
    EventKind,
    PauseAccess,
    PauseCoupons,
    PauseWhen,
    PaymentMethod,
    ResumeMode,
    SubscriptionAction,
)
from subscribers.services import (
    subscription_cancel,
    subscription_pause,
    subscription_pause_cancel,
    subscription_process_due,
    subscription_resume,
)
from tests.factories import CouponFactory, PlanFactory
from tests.subscribers.subscription_services.common import NOW, S, local, running

pytestmark = pytest.mark.django_db

PRICE = 3000  # R$ 30,00 a month


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, price=PRICE)


def paid_through_march(merchant, plan, **fields):
    """Active, anchor 31/01, current period 28/02 → 31/03 (paid), next renewal 31/03."""
    return running(merchant, plan=plan, amount=PRICE, next_invoice_at=local(2027, 3, 31), **fields)


def billing_tick(subscription, now) -> str:
    """What the billing run does for this subscription at `now` (found as due work, then processed)."""
    due = due_subscription_ids(now).get(subscription.merchant_id, [])
    if subscription.pk not in due:
        return "not due"
    return process_subscription(subscription_id=subscription.pk, now=now)


def types(*names):
    return list(Event.objects.filter(type__in=names).order_by("pk").values_list("type", flat=True))


# --- pausing -----------------------------------------------------------------------------------------------
def test_pause_now_issues_no_invoice_and_the_period_does_not_advance(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)

    subscription_pause(subscription=subscription, actor=owner, when=PauseWhen.NOW, reason="Viagem")

    subscription.refresh_from_db()
    assert subscription.status == S.PAUSED
    assert subscription.paused_at == local(2027, 3, 15, 14)
    # The merchant's default: access until the paid period ends, then none.
    assert subscription.access_until == local(2027, 3, 31)
    event = subscription.events.get(kind=EventKind.PAUSED)
    assert (event.from_status, event.to_status, event.actor, event.reason) == (
        S.ACTIVE,
        S.PAUSED,
        owner,
        "Viagem",
    )
    assert types("subscription.paused", "subscription.access_revoked") == ["subscription.paused"]

    for day in (local(2027, 3, 31, 1), local(2027, 4, 30, 1), local(2027, 5, 31, 1)):
        clock.move_to(day)
        assert billing_tick(subscription, day) == "not due"
        assert process_subscription(subscription_id=subscription.pk, now=day) == "skipped"

    subscription.refresh_from_db()
    assert subscription.invoices.count() == 0
    assert (subscription.current_period_start, subscription.current_period_end) == (
        local(2027, 2, 28),
        local(2027, 3, 31),
    )


def test_access_ends_at_once_when_the_merchant_says_so(clock, merchant, plan, owner):
    BillingSettings.objects.create(merchant=merchant, pause_access=PauseAccess.NONE)
    subscription = paid_through_march(merchant, plan)

    subscription_pause(subscription=subscription, actor=owner)

    subscription.refresh_from_db()
    assert subscription.access_until == local(2027, 3, 15, 14)
    assert types("subscription.paused", "subscription.access_revoked") == [
        "subscription.paused",
        "subscription.access_revoked",
    ]


def test_pause_at_period_end_renews_nothing_at_that_date(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)

    subscription_pause(subscription=subscription, actor=owner, when=PauseWhen.PERIOD_END)

    subscription.refresh_from_db()
    assert (subscription.status, subscription.pause_at) == (S.ACTIVE, local(2027, 3, 31))
    assert not subscription.can(SubscriptionAction.PAUSE)
    # The billing run comes first at the period's end: the renewal it would make is not due.
    at = local(2027, 3, 31, 0, 0, 30)
    clock.move_to(at)
    assert billing_tick(subscription, at) == "not due"
    assert process_subscription(subscription_id=subscription.pk, now=at) == "skipped"
    assert subscription_process_due(now=at)["paused"] == 1
    assert subscription_process_due(now=at)["paused"] == 0  # idempotent

    subscription.refresh_from_db()
    assert subscription.status == S.PAUSED
    assert subscription.invoices.count() == 0


def test_pause_on_a_date_then_resume_on_a_date_by_the_due_task(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)

    subscription_pause(
        subscription=subscription,
        actor=owner,
        when=PauseWhen.DATE,
        at_date=dt.date(2027, 3, 20),
        resume_on=dt.date(2027, 5, 10),
        resume_mode=ResumeMode.NEW_PERIOD,
    )
    assert subscription_process_due(now=local(2027, 3, 19, 23, 59))["paused"] == 0

    clock.move_to(local(2027, 3, 20, 0, 1))
    assert subscription_process_due()["paused"] == 1
    subscription.refresh_from_db()
    assert subscription.status == S.PAUSED
    assert subscription.resume_at == local(2027, 5, 10)

    clock.move_to(local(2027, 3, 31, 1))
    assert billing_tick(subscription, local(2027, 3, 31, 1)) == "not due"

    clock.move_to(local(2027, 5, 10, 0, 0))
    assert subscription_process_due() == {"started": 0, "canceled": 0, "paused": 0, "resumed": 1}
    assert subscription_process_due()["resumed"] == 0  # idempotent

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    (invoice,) = subscription.invoices.all()
    # A new period from the resume: a whole month at full price.
    assert (invoice.kind, invoice.total, invoice.status) == (InvoiceKind.RECURRING, PRICE, InvoiceStatus.PAID)
    assert (invoice.period_start, invoice.period_end) == (local(2027, 5, 10), local(2027, 6, 10))
    assert subscription.next_invoice_at == local(2027, 6, 10)
    resumed = subscription.events.get(kind=EventKind.RESUMED)
    assert resumed.actor is None and resumed.data["mode"] == ResumeMode.NEW_PERIOD


def test_a_date_not_in_the_future_is_refused(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)

    with pytest.raises(ValidationError) as excinfo:
        subscription_pause(
            subscription=subscription, actor=owner, when=PauseWhen.DATE, at_date=dt.date(2027, 3, 15)
        )

    assert excinfo.value.error_dict["at_date"][0].code == "date_not_future"


def test_a_scheduled_pause_may_be_taken_back(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)
    subscription_pause(subscription=subscription, actor=owner, when=PauseWhen.PERIOD_END)

    subscription_pause_cancel(subscription=subscription, actor=owner)

    subscription.refresh_from_db()
    assert subscription.pause_at is None
    at = local(2027, 3, 31, 0, 1)
    clock.move_to(at)
    assert billing_tick(subscription, at) == "succeeded"
    assert subscription_process_due()["paused"] == 0


# --- resuming ------------------------------------------------------------------------------------------
def test_resume_continuing_the_cycle_charges_the_rest_of_the_period_prorated(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)
    subscription_pause(subscription=subscription, actor=owner)
    resume_at = local(2027, 5, 10, 14)
    clock.move_to(resume_at)

    preview = resume_preview(subscription=subscription, mode=ResumeMode.CONTINUE, at=resume_at)
    subscription_resume(subscription=subscription, actor=owner, mode=ResumeMode.CONTINUE)

    # The old cycle (anchor 31/01) puts 10/05 in the period 30/04 → 31/05: 31 days = 744 h. From 10/05 14:00
    # to 31/05 00:00 there are 20 days and 10 h = 490 h left: R$ 30,00 × 490/744 = 19,758… → R$ 19,76.
    expected = 1976
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.billing_cycle_anchor == local(2027, 1, 31)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        local(2027, 4, 30),
        local(2027, 5, 31),
    )
    (invoice,) = subscription.invoices.all()
    assert (invoice.kind, invoice.total, invoice.status) == (
        InvoiceKind.PRORATION,
        expected,
        InvoiceStatus.PAID,
    )
    assert (invoice.period_start, invoice.period_end) == (resume_at, local(2027, 5, 31))
    assert preview["charge_now"]["total"] == expected
    assert preview["next_invoice"]["at"] == local(2027, 5, 31)
    assert preview["next_invoice"]["total"] == PRICE
    assert types("subscription.paused", "subscription.resumed") == [
        "subscription.paused",
        "subscription.resumed",
    ]

    # Then the cycle goes on: the next renewal is a whole month at the end of that period.
    clock.move_to(local(2027, 5, 31, 1))
    assert billing_tick(subscription, local(2027, 5, 31, 1)) == "succeeded"
    renewal = subscription.invoices.get(kind=InvoiceKind.RECURRING)
    assert (renewal.total, renewal.period_start, renewal.period_end) == (
        PRICE,
        local(2027, 5, 31),
        local(2027, 6, 30),
    )


def test_resume_continuing_inside_the_paid_period_charges_nothing(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)
    subscription_pause(subscription=subscription, actor=owner)
    clock.move_to(local(2027, 3, 20, 9))

    preview = resume_preview(subscription=subscription, mode=ResumeMode.CONTINUE, at=local(2027, 3, 20, 9))
    subscription_resume(subscription=subscription, actor=owner, mode=ResumeMode.CONTINUE)

    subscription.refresh_from_db()
    assert subscription.invoices.count() == 0
    assert subscription.next_invoice_at == local(2027, 3, 31)
    assert subscription.access_until is None
    assert preview["charge_now"] is None
    assert preview["next_invoice"]["total"] == PRICE


def test_resume_with_a_new_period_charges_a_whole_period_from_the_resume(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)
    subscription_pause(subscription=subscription, actor=owner)
    resume_at = local(2027, 5, 10, 14)
    clock.move_to(resume_at)

    preview = resume_preview(subscription=subscription, mode=ResumeMode.NEW_PERIOD, at=resume_at)
    subscription_resume(subscription=subscription, actor=owner, mode=ResumeMode.NEW_PERIOD)

    subscription.refresh_from_db()
    assert subscription.billing_cycle_anchor == resume_at
    (invoice,) = subscription.invoices.all()
    assert (invoice.kind, invoice.total, invoice.status) == (InvoiceKind.RECURRING, PRICE, InvoiceStatus.PAID)
    assert (invoice.period_start, invoice.period_end) == (resume_at, local(2027, 6, 10, 14))
    assert subscription.next_invoice_at == local(2027, 6, 10, 14)
    assert preview["charge_now"] == {
        "total": PRICE,
        "period_start": resume_at,
        "period_end": local(2027, 6, 10, 14),
    }
    assert preview["next_invoice"]["at"] == local(2027, 6, 10, 14)


def test_resume_is_refused_unless_paused(clock, merchant, plan, owner):
    with pytest.raises(ValidationError) as excinfo:
        subscription_resume(subscription=paid_through_march(merchant, plan), actor=owner)

    assert excinfo.value.code == "cannot_resume"


# --- past due, boleto, cancel, coupons ----------------------------------------------------------------
def test_pausing_a_past_due_subscription_voids_its_open_boleto(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan, status=S.PAST_DUE, payment_method=PaymentMethod.BOLETO)
    at = local(2027, 3, 31, 1)
    clock.move_to(at)
    process_subscription(subscription_id=subscription.pk, now=at)
    invoice = subscription.invoices.get()
    boleto = Payment.objects.get(invoice=invoice)
    assert (invoice.status, boleto.status, boleto.method) == (
        InvoiceStatus.OPEN,
        PaymentStatus.PENDING,
        PaymentMethod.BOLETO,
    )

    subscription_pause(subscription=subscription, actor=owner)

    invoice.refresh_from_db()
    boleto.refresh_from_db()
    subscription.refresh_from_db()
    assert (subscription.status, invoice.status, boleto.status) == (
        S.PAUSED,
        InvoiceStatus.VOID,
        PaymentStatus.CANCELED,
    )
    # A past-due customer's period was not paid: no access is kept.
    assert subscription.access_until == at
    assert subscription.events.get(kind=EventKind.PAUSED).data["invoices_voided"] == 1
    assert {"invoice.voided", "payment.canceled"} <= set(Event.objects.values_list("type", flat=True))


def test_a_paused_subscription_may_be_cancelled(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)
    subscription_pause(subscription=subscription, actor=owner)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.NOW
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == local(2027, 3, 31)  # what the pause left of the paid time


@pytest.mark.parametrize(
    ("rule", "applied_at"),
    [
        (PauseCoupons.KEEP_COUNTING, local(2027, 1, 31)),
        # Paused 15/03 14:00 → resumed 28/04 14:00: 44 days later, so the 3 months count from 16/03.
        (PauseCoupons.FREEZE, local(2027, 3, 16)),
    ],
)
def test_coupon_months_keep_counting_or_freeze_per_the_merchants_rule(
    clock, merchant, plan, owner, rule, applied_at
):
    BillingSettings.objects.create(merchant=merchant, pause_coupons=rule)
    coupon = CouponFactory(merchant=merchant, duration=CouponDuration.REPEATING, duration_in_months=3)
    subscription = paid_through_march(merchant, plan, coupon=coupon, coupon_applied_at=local(2027, 1, 31))
    subscription_pause(subscription=subscription, actor=owner)
    clock.move_to(local(2027, 4, 28, 14))

    subscription_resume(subscription=subscription, actor=owner, mode=ResumeMode.CONTINUE)

    subscription.refresh_from_db()
    assert subscription.coupon_applied_at == applied_at


def test_no_invoice_exists_for_the_paused_time(clock, merchant, plan, owner):
    subscription = paid_through_march(merchant, plan)
    subscription_pause(subscription=subscription, actor=owner)
    clock.move_to(local(2027, 7, 1, 10))
    subscription_resume(subscription=subscription, actor=owner, mode=ResumeMode.NEW_PERIOD)

    starts = list(Invoice.objects.filter(subscription=subscription).values_list("period_start", flat=True))
    assert starts == [local(2027, 7, 1, 10)]
