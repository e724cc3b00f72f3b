"""Price changes (issue 16): plans keep price versions, subscriptions keep the version they were contracted
on until the merchant migrates them, and a migration reaches a subscription at its first renewal after the
notice. Time-travelled on the billing run's own functions; every amount computed by hand.

The world: a monthly plan at R$ 49,90 anchored on the 15th at 10:00 (São Paulo); on 10/01/2027 at 12:00 the
merchant changes it to R$ 59,90 with 30 days' notice, so the notice ends on 09/02 at 12:00. The renewal of
15/01 is inside the notice (R$ 49,90); the one of 15/02 is the first after it (R$ 59,90).
"""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError

from billing.choices import InvoiceKind
from billing.models import Invoice
from billing.services.batch import renew_many
from billing.services.billing_run import process_subscription
from billing.services.price_changes import (
    first_renewal_from,
    plan_price_change_apply,
    price_change_preview,
)
from billing.services.upcoming import upcoming_invoices
from core.events import EventType
from core.models import Event
from plans.models import PlanPrice
from plans.services import plan_create, plan_update
from subscribers.choices import EventKind, PaymentMethod, PriceNoticeStatus, SubscriptionStatus
from subscribers.models import PriceChangeNotice, Subscription
from subscribers.services import subscription_cancel, subscription_create, subscription_update
from subscribers.services.price_changes import notices_move
from tests.factories import CustomerFactory, PlanFactory, PriceChangeNoticeFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
S = SubscriptionStatus
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 1, 10, 12, 0, tzinfo=SP)
NOTICE_ENDS = dt.datetime(2027, 2, 9, 12, 0, tzinfo=SP)
JAN, FEB, MAR, APR = (dt.datetime(2027, m, 15, 10, 0, tzinfo=SP) for m in (1, 2, 3, 4))
CARD = "4242424242424242"


def subscription(merchant, plan, **fields):
    """An active monthly subscription anchored on the 15th; its next invoice is on 15/01."""
    defaults = {
        "status": S.ACTIVE,
        "billing_cycle_anchor": dt.datetime(2026, 12, 15, 10, 0, tzinfo=SP),
        "started_at": dt.datetime(2026, 12, 15, 10, 0, tzinfo=SP),
        "current_period_start": dt.datetime(2026, 12, 15, 10, 0, tzinfo=SP),
        "current_period_end": JAN,
        "next_invoice_at": JAN,
        "payment_token": CARD,
    }
    return SubscriptionFactory(merchant=merchant, plan=plan, **{**defaults, **fields})


def renew(subscription_id, at, *, writer="row"):
    """The billing run at `at` for one subscription: the bulk writer first when asked (it leaves what it
    does not take to the row writer, as billing_run.process_chunk does)."""
    with time_machine.travel(at, tick=False):
        if writer == "bulk" and subscription_id in renew_many(subscription_ids=[subscription_id], now=at):
            return
        process_subscription(subscription_id=subscription_id, now=at)


def charged(sub) -> list[tuple[dt.datetime, int]]:
    """(period start, plan line's unit amount) of the subscription's renewal invoices, in order."""
    return [
        (invoice.period_start.astimezone(SP), invoice.lines.order_by("pk").first().unit_amount)
        for invoice in Invoice.objects.filter(subscription=sub, kind=InvoiceKind.RECURRING).order_by(
            "period_start"
        )
    ]


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Clube", price=4990)


# --- versions ---------------------------------------------------------------------------------------
def test_a_new_plan_has_its_price_as_version_one(merchant):
    plan = plan_create(merchant=merchant, name="Clube", price=4990, interval_unit="month", interval_count=1)

    version = plan.current_price
    assert (version.version, version.amount, version.currency) == (1, 4990, "BRL")


def test_editing_the_price_adds_a_version_for_new_subscriptions_only(merchant, plan):
    sub = subscription(merchant, plan)
    fields = {
        "name": plan.name,
        "description": "",
        "currency": "BRL",
        "interval_unit": "month",
        "interval_count": 1,
        "trial_days": 0,
        "installments": None,
        "is_active": True,
    }

    plan_update(plan=plan, price=5990, **fields)
    plan_update(plan=plan, price=5990, **{**fields, "name": "Clube+"})  # same price: no new version

    assert list(plan.prices.order_by("version").values_list("version", "amount")) == [(1, 4990), (2, 5990)]
    sub.refresh_from_db()
    assert sub.plan_price.amount == 4990
    assert Event.objects.filter(type=EventType.PLAN_PRICE_CHANGED).count() == 1


def test_price_unchanged_and_archived_plans_are_refused(merchant, plan):
    with pytest.raises(ValidationError) as same:
        plan_price_change_apply(plan=plan, amount=4990, migrate=False, actor=None)
    plan.archived_at = NOW
    plan.save()
    with pytest.raises(ValidationError) as archived:
        plan_price_change_apply(plan=plan, amount=5990, migrate=False, actor=None)

    assert same.value.error_dict["amount"][0].code == "price_unchanged"
    assert archived.value.code == "plan_archived"


@pytest.mark.parametrize("days", [-1, 366])
def test_a_notice_outside_zero_to_365_days_is_refused(merchant, plan, days):
    with pytest.raises(ValidationError) as refused:
        plan_price_change_apply(plan=plan, amount=5990, migrate=True, notice_days=days, actor=None)

    assert refused.value.error_dict["notice_days"][0].code == "invalid_notice"
    assert PlanPrice.objects.filter(plan=plan).count() == 1


# --- grandfathered vs migrated ----------------------------------------------------------------------
@pytest.mark.parametrize("writer", ["row", "bulk"])
def test_grandfathered_subscriptions_keep_their_price_and_new_ones_pay_the_new(merchant, plan, writer):
    old = subscription(merchant, plan)
    with time_machine.travel(NOW, tick=False):
        plan_price_change_apply(plan=plan, amount=5990, migrate=False, actor=None, now=NOW)
        new = subscription_create(
            merchant=merchant,
            actor=None,
            customer=CustomerFactory(merchant=merchant),
            plan=plan,
            contract_date=NOW.date(),
            payment_token=CARD,
            now=NOW,
        )

    renew(new.pk, NOW, writer=writer)
    for at in (JAN, FEB, MAR):
        renew(old.pk, at, writer=writer)

    assert charged(old) == [(JAN, 4990), (FEB, 4990), (MAR, 4990)]
    assert new.plan_price.version == 2
    assert [amount for _at, amount in charged(new)] == [5990]
    assert not PriceChangeNotice.objects.exists()


@pytest.mark.parametrize("writer", ["row", "bulk"])
def test_migrated_subscriptions_renew_at_the_old_price_inside_the_notice_then_at_the_new(
    merchant, plan, writer
):
    sub = subscription(merchant, plan, quantity=2)

    plan_price_change_apply(plan=plan, amount=5990, migrate=True, notice_days=30, actor=None, now=NOW)
    for at in (JAN, FEB, MAR):
        renew(sub.pk, at, writer=writer)

    # 2 × 49,90 on 15/01 (inside the notice); 2 × 59,90 from 15/02, the first renewal after 09/02 12:00.
    assert charged(sub) == [(JAN, 4990), (FEB, 5990), (MAR, 5990)]
    assert list(
        Invoice.objects.filter(subscription=sub).order_by("period_start").values_list("total", flat=True)
    ) == [
        9980,
        11980,
        11980,
    ]
    sub.refresh_from_db()
    assert (sub.plan_price.version, sub.next_plan_price_id, sub.amount) == (2, None, 11980)
    notice = PriceChangeNotice.objects.get(subscription=sub)
    assert (notice.status, notice.old_amount, notice.new_amount) == (PriceNoticeStatus.APPLIED, 9980, 11980)
    assert (notice.notice_ends_at, notice.effective_at, notice.applied_at) == (NOTICE_ENDS, FEB, FEB)
    kinds = list(sub.events.order_by("created_at", "pk").values_list("kind", flat=True))
    assert kinds.count(EventKind.PRICE_CHANGE_SCHEDULED) == 1
    assert kinds.count(EventKind.PRICE_CHANGED) == 1


def test_a_renewal_exactly_at_the_notice_end_already_pays_the_new_price(merchant, plan):
    sub = subscription(merchant, plan)
    # Notice of 36 days minus 2 hours from 10/01 12:00 ends on 15/02 10:00: the renewal of 15/02 itself.
    now = FEB - dt.timedelta(days=36)

    plan_price_change_apply(plan=plan, amount=5990, migrate=True, notice_days=36, actor=None, now=now)
    for at in (JAN, FEB):
        renew(sub.pk, at)

    assert charged(sub) == [(JAN, 4990), (FEB, 5990)]


def test_the_migration_emits_the_plan_event_and_one_notice_event_per_subscription(merchant, plan):
    subs = [subscription(merchant, plan) for _ in range(3)]
    ended = subscription(merchant, plan, status=S.CANCELED, next_invoice_at=None)

    version, notified = plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)

    assert notified == 3
    plan_event = Event.objects.get(type=EventType.PLAN_PRICE_CHANGED)
    assert plan_event.payload["existing"] == "migrated"
    assert (plan_event.payload["old_amount"], plan_event.payload["amount"]) == (4990, 5990)
    notices = Event.objects.filter(type=EventType.SUBSCRIPTION_PRICE_CHANGE_SCHEDULED)
    assert sorted(e.payload["id"] for e in notices) == sorted(s.pk for s in subs)
    payload = notices.first().payload
    assert (payload["old_amount"], payload["new_amount"], payload["plan_price_version"]) == (4990, 5990, 2)
    assert dt.datetime.fromisoformat(payload["effective_at"]) == FEB
    assert not PriceChangeNotice.objects.filter(subscription=ended).exists()
    assert version.version == 2


# --- cancellation before the notice ends ------------------------------------------------------------
def test_a_customer_who_cancels_during_the_notice_is_never_charged_the_new_price(merchant, plan):
    sub = subscription(merchant, plan)
    plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)
    renew(sub.pk, JAN)

    with time_machine.travel(JAN + dt.timedelta(days=5), tick=False):
        subscription_cancel(
            subscription=Subscription.objects.get(pk=sub.pk),
            actor=None,
            origin="customer",
            when="now",
            now=JAN + dt.timedelta(days=5),
        )
    for at in (FEB, MAR):
        renew(sub.pk, at)

    assert charged(sub) == [(JAN, 4990)]
    assert PriceChangeNotice.objects.get(subscription=sub).status == PriceNoticeStatus.VOID


def test_a_cancellation_scheduled_before_the_first_new_renewal_gets_no_notice(merchant, plan):
    ending = subscription(merchant, plan, cancel_at=FEB)  # ends with the period of 15/01
    later = subscription(merchant, plan, cancel_at=MAR + dt.timedelta(days=3))

    _version, notified = plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)
    for at in (JAN, FEB, MAR):
        renew(ending.pk, at)
        renew(later.pk, at)

    assert notified == 1
    assert not PriceChangeNotice.objects.filter(subscription=ending).exists()
    assert charged(ending) == [(JAN, 4990)]
    assert charged(later) == [(JAN, 4990), (FEB, 5990), (MAR, 5990)]


# --- preview ----------------------------------------------------------------------------------------
def test_the_preview_counts_subscriptions_mrr_and_the_first_renewal_affected(merchant, plan):
    subscription(merchant, plan)  # 49,90
    subscription(merchant, plan, quantity=3)  # 149,70
    # 10 % off: 44,91 now, 53,91 after (59,90 − 5,99).
    subscription(merchant, plan, discount_type="percent", discount_percent=Decimal("10"), amount=4491)
    # Past due: notified, but not in the MRR (the Painel counts Ativa only).
    subscription(merchant, plan, status=S.PAST_DUE)
    # Its next renewal on 12/02 is the first after 09/02: the earliest affected.
    subscription(
        merchant,
        plan,
        billing_cycle_anchor=dt.datetime(2026, 12, 12, 9, 0, tzinfo=SP),
        next_invoice_at=dt.datetime(2027, 1, 12, 9, 0, tzinfo=SP),
        current_period_end=dt.datetime(2027, 1, 12, 9, 0, tzinfo=SP),
        status=S.TRIALING,
    )
    subscription(merchant, plan, cancel_at=FEB)  # ends first: no notice
    subscription(merchant, PlanFactory(merchant=merchant, price=4990))  # another plan

    preview = price_change_preview(plan=plan, amount=5990, notice_days=30, now=NOW)

    assert (preview.count, preview.ending_before, preview.grandfathered) == (5, 1, 6)
    # Ativa today: 49,90 + 149,70 + 44,91 + 49,90 (the one ending); after: 59,90 + 179,70 + 53,91, and the
    # one ending keeps its 49,90.
    assert preview.old_mrr == 4990 + 14970 + 4491 + 4990
    assert preview.new_mrr == 5990 + 17970 + 5391 + 4990
    assert preview.notice_ends_at == NOTICE_ENDS
    assert preview.first_renewal_at == dt.datetime(2027, 2, 12, 9, 0, tzinfo=SP)
    assert PlanPrice.objects.filter(plan=plan).count() == 1  # nothing written


def test_the_preview_of_an_annual_plan_gives_its_mrr_per_month(merchant):
    plan = PlanFactory(merchant=merchant, price=120000, interval_unit="year")
    subscription(merchant, plan, next_invoice_at=JAN)

    preview = price_change_preview(plan=plan, amount=150000, now=NOW)

    assert (preview.old_mrr, preview.new_mrr) == (10000, 12500)


def test_first_renewal_from_steps_whole_periods_from_the_anchor():
    anchor = dt.datetime(2027, 1, 31, 10, 0, tzinfo=SP)
    # Next renewal on 28/02 (31/01 clamped); a notice ending on 15/04 first reaches 30/04 (clamped too).
    first = first_renewal_from(
        next_start=dt.datetime(2027, 2, 28, 10, 0, tzinfo=SP),
        anchor=anchor,
        unit="month",
        count=1,
        at=dt.datetime(2027, 4, 15, 0, 0, tzinfo=SP),
        tz=SP,
    )
    assert first == dt.datetime(2027, 4, 30, 10, 0, tzinfo=SP)


# --- Próximas faturas ---------------------------------------------------------------------------------
def test_proximas_faturas_shows_the_new_price_from_the_first_renewal_after_the_notice(merchant, plan):
    sub = subscription(merchant, plan)
    plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)
    sub = Subscription.objects.select_related(
        "merchant", "plan", "customer", "plan_price", "next_plan_price"
    ).get(pk=sub.pk)

    invoices = upcoming_invoices(sub, 4, now=NOW).invoices

    assert [(i.at.astimezone(SP), i.total) for i in invoices] == [
        (JAN, 4990),
        (FEB, 5990),
        (MAR, 5990),
        (APR, 5990),
    ]
    for at in (JAN, FEB, MAR, APR):
        renew(sub.pk, at)
    assert charged(sub) == [(JAN, 4990), (FEB, 5990), (MAR, 5990), (APR, 5990)]


def test_proximas_faturas_of_a_grandfathered_subscription_keeps_its_price(merchant, plan):
    sub = subscription(merchant, plan)
    plan_price_change_apply(plan=plan, amount=5990, migrate=False, actor=None, now=NOW)
    sub = Subscription.objects.get(pk=sub.pk)

    assert {i.total for i in upcoming_invoices(sub, 3, now=NOW).invoices} == {4990}


# --- plan switches and edits ----------------------------------------------------------------------------
def test_changing_to_another_plan_drops_the_waiting_notice(merchant, plan):
    sub = subscription(merchant, plan, status=S.SCHEDULED, started_at=None, next_invoice_at=None)
    other = PlanFactory(merchant=merchant, price=9990)
    plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)
    sub.refresh_from_db()

    subscription_update(
        subscription=sub,
        actor=None,
        plan=other,
        quantity=1,
        payment_method=PaymentMethod.CARD,
        salesperson=None,
        discount_type="",
        discount_percent=None,
        discount_amount=None,
        discount_periods=None,
        apply="now",
        now=NOW,
    )

    sub.refresh_from_db()
    assert (sub.plan_price_id, sub.next_plan_price_id) == (other.current_price_id, None)
    assert PriceChangeNotice.objects.get(subscription=sub).status == PriceNoticeStatus.VOID


def test_a_notice_cannot_leave_a_final_status(merchant):
    sub = subscription(merchant, PlanFactory(merchant=merchant))
    notice = PriceChangeNoticeFactory(merchant=merchant, subscription=sub, status=PriceNoticeStatus.APPLIED)

    with pytest.raises(ValidationError) as refused:
        notices_move(PriceChangeNotice.objects.filter(pk=notice.pk), to=PriceNoticeStatus.VOID)
    assert refused.value.code == "invalid_transition"


def test_a_paused_subscription_is_notified_too(merchant, plan):
    paused = subscription(merchant, plan, status=S.PAUSED)

    _version, notified = plan_price_change_apply(plan=plan, amount=5990, migrate=True, actor=None, now=NOW)

    assert notified == 1
    assert PriceChangeNotice.objects.get(subscription=paused).new_amount == 5990
