"""Programações billed by the billing run (issue's done-when 1–13): the clock is moved through the
periods and the real run (subscription_process_due, then billing_run_start → process_chunk, which takes
plain renewals in bulk and the rest one at a time) bills each phase on its own terms. Amounts are
worked out by hand in each test: The Pacific sells Impressa (R$ 100), Digital (R$ 40), Impressa +
Digital (R$ 120), Premium (R$ 120) and Básico com anúncios (R$ 50), all monthly."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.db import transaction

from billing.choices import InvoiceKind, InvoiceStatus
from billing.models import CreditEntry, Invoice
from billing.services.batch import renew_many
from billing.services.billing_run import billing_run_start, process_chunk, process_subscription
from billing.services.upcoming import upcoming_invoices
from core.models import Event
from plans.choices import CouponDuration, IntervalUnit
from subscribers.choices import (
    BackdateBilling,
    CancelOrigin,
    PhaseAnchor,
    PhaseProration,
    ScheduleEndBehavior,
    ScheduleStatus,
    SubscriptionStatus,
)
from subscribers.models import Subscription
from subscribers.services import subscription_create, subscription_process_due
from subscribers.services.schedules import PhaseSpec, schedule_cancel, schedule_create, schedule_release
from tests.billing.test_batch import DUE, NOW, Rollback, due, snapshot
from tests.billing.test_upcoming_property import previewed, written
from tests.factories import CouponFactory, CustomerFactory, PlanFactory, TaxRateFactory

pytestmark = pytest.mark.django_db
S, SS = SubscriptionStatus, ScheduleStatus
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
CARD = "4242424242424242"


def at(year, month, day, hour=0, minute=0):
    return dt.datetime(year, month, day, hour, minute, tzinfo=SP)


@pytest.fixture
def catalog(merchant):
    plan = lambda name, price: PlanFactory(merchant=merchant, name=name, price=price)  # noqa: E731
    return {
        "impressa": plan("Impressa", 10000),
        "digital": plan("Digital", 4000),
        "both": plan("Impressa + Digital", 12000),
        "premium": plan("Premium", 12000),
        "basic": plan("Básico com anúncios", 5000),
        "printer": plan("Impressora", 100000),
    }


@pytest.fixture
def bill(django_capture_on_commit_callbacks):
    """Moves the clock to `moment` and runs what the scheduler runs then: due starts and cancellations,
    and the billing run with its chunks processed (bulk writer first, row writer for the rest)."""

    def run(moment):
        with time_machine.travel(moment, tick=False):
            subscription_process_due(now=moment)
            with django_capture_on_commit_callbacks(execute=True):
                billing_run_start(
                    now=moment,
                    dispatch=lambda run_id, ids: process_chunk(
                        run_id=run_id, subscription_ids=ids, now=moment
                    ),
                )

    return run


def contract(merchant, owner, plan, day, *, now, **fields):
    with time_machine.travel(now, tick=False):
        return subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=plan,
            contract_date=day,
            payment_token=CARD,
            now=now,
            **fields,
        )


def recurring(subscription):
    return list(
        Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.RECURRING).order_by("period_start")
    )


def totals(subscription):
    return [invoice.total for invoice in recurring(subscription)]


def events(subscription, prefix="subscription_schedule."):
    return list(
        Event.objects.filter(type__startswith=prefix, payload__subscription=subscription.pk)
        .order_by("pk")
        .values_list("type", flat=True)
    )


# 1. ------------------------------------------------------------------------------------------------------
def test_a_schedule_starting_next_month_waits_scheduled_and_bills_its_first_phase_on_that_date(
    merchant, owner, catalog, bill
):
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["impressa"], dt.date(2027, 2, 1), now=now)
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["impressa"], iterations=1), PhaseSpec(plan=catalog["digital"])],
        now=now,
    )
    assert subscription.status == S.SCHEDULED and schedule.status == SS.NOT_STARTED
    assert [(p.start_at, p.end_at) for p in schedule.phases.all()] == [
        (at(2027, 2, 1), at(2027, 3, 1)),
        (at(2027, 3, 1), at(2027, 4, 1)),
    ]

    bill(at(2027, 1, 31, 23, 59))
    assert recurring(subscription) == []

    bill(at(2027, 2, 1))
    schedule.refresh_from_db()
    (first,) = recurring(subscription)
    assert (first.period_start, first.period_end, first.total) == (at(2027, 2, 1), at(2027, 3, 1), 10000)
    assert first.status == InvoiceStatus.PAID
    assert schedule.status == SS.ACTIVE and schedule.current_position == 0

    bill(at(2027, 3, 1))
    assert totals(subscription) == [10000, 4000]  # Digital from the second phase
    assert events(subscription) == [
        "subscription_schedule.created",
        "subscription_schedule.phase_started",
        "subscription_schedule.phase_started",
    ]


# 2. ------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        # Whole periods since 01/01: the period 01/01 → 01/02 at R$ 100.
        (BackdateBilling.PERIODS, [(at(2027, 1, 1), 10000)]),
        # The elapsed 01/01 00:00 → 10/01 10:00 (226 h of 744 h: 3.037,63 → 3.038) beside the period
        # from now: 10.000 + 3.038.
        (BackdateBilling.PRORATED, [(at(2027, 1, 10, 10), 13038)]),
    ],
)
def test_a_backdated_start_is_charged_by_the_backdating_choice_and_the_schedule_follows(
    merchant, owner, catalog, bill, choice, expected
):
    now = at(2027, 1, 10, 10)
    subscription = contract(
        merchant, owner, catalog["impressa"], dt.date(2027, 1, 1), now=now, backdate_billing=choice
    )
    schedule = schedule_create(
        subscription=subscription, actor=owner, phases=[PhaseSpec(plan=catalog["digital"])], now=now
    )
    bill(now)
    assert [(i.period_start, i.total) for i in recurring(subscription)] == expected
    first_end = recurring(subscription)[0].period_end
    assert schedule.phases.get(position=0).end_at == first_end

    bill(first_end)
    assert totals(subscription)[-1] == 4000


# 3. ------------------------------------------------------------------------------------------------------
def test_attaching_a_schedule_copies_the_current_period_as_phase_one(merchant, owner, catalog, bill):
    now = at(2027, 1, 15, 9)
    subscription = contract(merchant, owner, catalog["digital"], dt.date(2027, 1, 15), now=now)
    bill(now)
    assert totals(subscription) == [4000]
    subscription.refresh_from_db()

    schedule = schedule_create(
        subscription=subscription, actor=owner, phases=[PhaseSpec(plan=catalog["impressa"])], now=now
    )
    phase0, phase1 = schedule.phases.order_by("position")
    assert (phase0.plan, phase0.start_at, phase0.end_at) == (
        catalog["digital"],
        subscription.current_period_start,
        subscription.current_period_end,
    )
    assert (phase1.plan, phase1.start_at) == (catalog["impressa"], at(2027, 2, 15, 9))
    assert schedule.status == SS.ACTIVE and schedule.current_position == 0

    bill(at(2027, 2, 15, 9))
    assert totals(subscription) == [4000, 10000]
    subscription.refresh_from_db()
    assert subscription.plan == catalog["impressa"]


# 4, 5, 7. ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first", "then", "expected"),
    [
        # 4. Upgrade: Impressa for a month, then Impressa + Digital (one bundled plan per phase).
        (("impressa", 1), ("both", 1), [10000, 12000, 12000]),
        # 5. Downgrade: both for a month, then Impressa only.
        (("both", 1), ("impressa", 1), [12000, 10000, 10000]),
        # 7. Quantity 1 for a month, then 2: Digital 2 × 40.
        (("digital", 1), ("digital", 2), [4000, 8000, 8000]),
    ],
)
def test_a_second_phase_bills_its_plan_and_quantity_from_the_second_month(
    merchant, owner, catalog, bill, first, then, expected
):
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog[first[0]], dt.date(2027, 2, 1), now=now)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[
            PhaseSpec(plan=catalog[first[0]], quantity=first[1], iterations=1),
            PhaseSpec(plan=catalog[then[0]], quantity=then[1], iterations=11),
        ],
        end_behavior=ScheduleEndBehavior.RELEASE,
        now=now,
    )
    for month in (2, 3, 4):
        bill(at(2027, month, 1))
    assert totals(subscription) == expected


def test_a_downgrade_for_the_rest_of_the_year_then_releases_on_its_terms(merchant, owner, catalog, bill):
    # 5, over the year: 120 in February, then Impressa from March to January (11 × 100), released.
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["both"], dt.date(2027, 2, 1), now=now)
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[
            PhaseSpec(plan=catalog["both"], iterations=1),
            PhaseSpec(plan=catalog["impressa"], iterations=11),
        ],
        now=now,
    )
    for month in range(2, 14):
        bill(at(2027 + (month - 1) // 12, (month - 1) % 12 + 1, 1))
    assert totals(subscription) == [12000] + [10000] * 11
    assert sum(totals(subscription)) == 122000
    bill(at(2028, 2, 1))  # the schedule ends: released, the subscription goes on as Impressa
    schedule.refresh_from_db()
    subscription.refresh_from_db()
    assert schedule.status == SS.COMPLETED
    assert subscription.status == S.ACTIVE and totals(subscription)[-1] == 10000


# 6. ------------------------------------------------------------------------------------------------------
def test_premium_to_basic_at_the_next_billing_date_without_proration(merchant, owner, catalog, bill):
    now = at(2027, 1, 20, 14)
    subscription = contract(merchant, owner, catalog["premium"], dt.date(2027, 1, 20), now=now)
    bill(now)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["basic"], proration=PhaseProration.NONE)],
        now=at(2027, 1, 25, 10),
    )
    bill(at(2027, 2, 20, 14))
    assert totals(subscription) == [12000, 5000]
    assert not Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.PRORATION).exists()


# 8. ------------------------------------------------------------------------------------------------------
def test_a_coupon_for_the_six_months_of_one_phase_then_six_months_without(merchant, owner, catalog, bill):
    half = CouponFactory(
        merchant=merchant, code="METADE", percent_off=Decimal("50"), duration=CouponDuration.FOREVER
    )
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["impressa"], dt.date(2027, 2, 1), now=now)
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[
            PhaseSpec(plan=catalog["impressa"], coupon=half, iterations=6),
            PhaseSpec(plan=catalog["impressa"], iterations=6),
        ],
        end_behavior=ScheduleEndBehavior.CANCEL,
        now=now,
    )
    for month in range(2, 15):
        bill(at(2027 + (month - 1) // 12, (month - 1) % 12 + 1, 1))
    # 6 × (100 − 50 %) + 6 × 100 = 300 + 600.
    assert totals(subscription) == [5000] * 6 + [10000] * 6
    assert sum(totals(subscription)) == 90000
    schedule.refresh_from_db()
    subscription.refresh_from_db()
    assert schedule.status == SS.COMPLETED
    assert subscription.status == S.CANCELED and subscription.ended_at == at(2028, 2, 1)


# 9. ------------------------------------------------------------------------------------------------------
def test_two_tax_rates_in_the_first_month_one_afterwards(merchant, owner, catalog, bill):
    iss = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5"))
    pis = TaxRateFactory(merchant=merchant, name="PIS", percentage=Decimal("0.65"))
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["impressa"], dt.date(2027, 2, 1), now=now)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[
            PhaseSpec(plan=catalog["impressa"], tax_rates=[iss, pis], iterations=1),
            PhaseSpec(plan=catalog["impressa"], tax_rates=[iss]),
        ],
        now=now,
    )
    bill(at(2027, 2, 1))
    bill(at(2027, 3, 1))
    first, second = recurring(subscription)
    # 100 + ISS 5,00 + PIS 0,65; then 100 + ISS 5,00.
    assert (first.tax, first.total) == (565, 10565)
    assert (second.tax, second.total) == (500, 10500)


# 10. -----------------------------------------------------------------------------------------------------
def test_a_released_subscription_keeps_its_terms_and_later_phases_never_happen(
    merchant, owner, catalog, bill
):
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["impressa"], dt.date(2027, 1, 10), now=now)
    bill(now)
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["digital"], iterations=1), PhaseSpec(plan=catalog["basic"])],
        now=now,
    )
    schedule_release(schedule=schedule, actor=owner, now=at(2027, 1, 20))
    for month in (2, 3, 4):
        bill(at(2027, month, 10, 10))
    assert totals(subscription) == [10000] * 4
    schedule.refresh_from_db()
    assert schedule.status == SS.RELEASED and schedule.current_position == 0
    assert "subscription_schedule.phase_started" not in events(subscription)
    assert events(subscription) == ["subscription_schedule.created", "subscription_schedule.released"]


# 11. -----------------------------------------------------------------------------------------------------
def test_cancelling_the_schedule_and_subscription_ends_now_with_access_until_the_paid_period(
    merchant, owner, catalog, bill
):
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["impressa"], dt.date(2027, 1, 10), now=now)
    bill(now)
    schedule = schedule_create(
        subscription=subscription, actor=owner, phases=[PhaseSpec(plan=catalog["digital"])], now=now
    )
    schedule_cancel(
        schedule=schedule,
        actor=owner,
        origin=CancelOrigin.CUSTOMER,
        reason="Mudou de cidade",
        now=at(2027, 1, 20, 8),
    )
    subscription.refresh_from_db()
    schedule.refresh_from_db()
    assert schedule.status == SS.CANCELED
    assert subscription.status == S.CANCELED
    assert (subscription.cancel_origin, subscription.cancel_reason) == (
        CancelOrigin.CUSTOMER,
        "Mudou de cidade",
    )
    assert subscription.access_until == at(2027, 2, 10, 10)  # the paid period's end
    bill(at(2027, 2, 10, 10))
    assert totals(subscription) == [10000]
    assert events(subscription)[-1] == "subscription_schedule.canceled"


# 12. -----------------------------------------------------------------------------------------------------
def print_customer(merchant, owner, catalog, bill):
    """A print customer since 17/11/2026 (anchor on the 17th), paid up to 17/02/2027."""
    subscription = contract(
        merchant, owner, catalog["impressa"], dt.date(2026, 11, 17), now=at(2026, 11, 17, 0, 0)
    )
    for moment in (at(2026, 11, 17), at(2026, 12, 17), at(2027, 1, 17)):
        bill(moment)
    subscription.refresh_from_db()
    assert subscription.current_period_end == at(2027, 2, 17)
    return subscription


def test_an_anchor_reset_bills_the_new_phase_on_the_first_with_the_unused_print_time_credited(
    merchant, owner, catalog, bill
):
    subscription = print_customer(merchant, owner, catalog, bill)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["digital"], anchor=PhaseAnchor.PHASE_START)],
        first_phase_end=at(2027, 2, 1),
        now=at(2027, 1, 20, 9),
    )
    bill(at(2027, 2, 1))
    subscription.refresh_from_db()
    # 01/02 → 17/02 unused of the paid 17/01 → 17/02: 16 of 31 days × R$ 100 = 51,61 credited; the
    # Digital period 01/02 → 01/03 (R$ 40) is paid from it; 11,61 stay on the balance.
    digital = recurring(subscription)[-1]
    assert (digital.period_start, digital.period_end, digital.total) == (at(2027, 2, 1), at(2027, 3, 1), 4000)
    assert (digital.credit_applied, digital.amount_due) == (4000, 0)
    assert (
        sum(CreditEntry.objects.filter(customer=subscription.customer).values_list("amount", flat=True))
        == 1161
    )
    assert subscription.next_invoice_at == at(2027, 3, 1)

    bill(at(2027, 3, 1))
    march = recurring(subscription)[-1]
    assert (march.period_start, march.total, march.credit_applied, march.amount_due) == (
        at(2027, 3, 1),
        4000,
        1161,
        2839,
    )


@pytest.mark.parametrize("proration", [PhaseProration.PRORATE, PhaseProration.NONE])
def test_proximas_faturas_of_an_anchor_reset_mid_period_is_what_billing_writes(
    merchant, owner, catalog, bill, proration
):
    subscription = print_customer(merchant, owner, catalog, bill)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["digital"], anchor=PhaseAnchor.PHASE_START, proration=proration)],
        first_phase_end=at(2027, 2, 1),
        now=at(2027, 1, 20, 9),
    )
    subscription = Subscription.objects.select_related(
        "merchant", "plan", "customer", "coupon", "pending_plan"
    ).get(pk=subscription.pk)

    preview = upcoming_invoices(subscription, 3, now=at(2027, 1, 20, 9))

    # The first Digital invoice is on the 1st (not on the 17th), for 01/02 → 01/03, R$ 40. Prorated, it is
    # paid from the unused print time credited on 01/02: 16 of 31 days × R$ 100 = 51,61; 11,61 are left
    # for March (R$ 40 − 11,61 = 28,39 due). Without proration nothing is credited.
    expected_credit = (
        [(4000, 0), (1161, 2839), (0, 4000)]
        if proration == PhaseProration.PRORATE
        else [
            (0, 4000),
            (0, 4000),
            (0, 4000),
        ]
    )
    assert [
        (i.at, i.draft.period_end, i.total, (i.credit_applied, i.amount_due)) for i in preview.invoices
    ] == [
        (at(2027, 2, 1), at(2027, 3, 1), 4000, expected_credit[0]),
        (at(2027, 3, 1), at(2027, 4, 1), 4000, expected_credit[1]),
        (at(2027, 4, 1), at(2027, 5, 1), 4000, expected_credit[2]),
    ]
    assert preview.balance == 0
    assert preview.balance_after == 0

    for moment in (at(2027, 2, 1), at(2027, 2, 17), at(2027, 3, 1), at(2027, 4, 1)):
        bill(moment)
    billed = [i for i in recurring(subscription) if i.period_start >= at(2027, 2, 1)]
    assert [written(i) for i in billed] == [previewed(i) for i in preview.invoices]


def test_without_an_anchor_reset_the_new_phase_starts_on_the_first_and_bills_on_the_17th(
    merchant, owner, catalog, bill
):
    subscription = print_customer(merchant, owner, catalog, bill)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["digital"], proration=PhaseProration.NONE)],
        first_phase_end=at(2027, 2, 1),
        now=at(2027, 1, 20, 9),
    )
    bill(at(2027, 2, 1))
    subscription.refresh_from_db()
    assert subscription.plan == catalog["digital"]
    assert subscription.next_invoice_at == at(2027, 2, 17)
    bill(at(2027, 2, 17))
    last = recurring(subscription)[-1]
    assert (last.period_start, last.total) == (at(2027, 2, 17), 4000)
    assert not Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.PRORATION).exists()


# 13. -----------------------------------------------------------------------------------------------------
def test_installments_are_one_phase_of_six_periods_that_cancels_the_subscription(
    merchant, owner, catalog, bill
):
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["printer"], dt.date(2027, 2, 1), now=now)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["printer"], iterations=6)],
        end_behavior=ScheduleEndBehavior.CANCEL,
        now=now,
    )
    for month in range(2, 10):
        bill(at(2027, month, 1))
    assert totals(subscription) == [100000] * 6
    assert sum(totals(subscription)) == 600000
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.ended_at == subscription.access_until == at(2027, 8, 1)


def test_a_one_off_price_of_500_for_six_months_needs_no_plan(merchant, owner, catalog, bill):
    now = at(2027, 1, 10, 10)
    subscription = contract(merchant, owner, catalog["printer"], dt.date(2027, 2, 1), now=now)
    plans_before = set(merchant.plans.values_list("pk", flat=True))
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[
            PhaseSpec(
                price_name="Impressora em 6 vezes",
                price_amount=50000,
                price_interval_unit=IntervalUnit.MONTH,
                price_interval_count=1,
                iterations=6,
            )
        ],
        end_behavior=ScheduleEndBehavior.CANCEL,
        now=now,
    )
    for month in range(2, 10):
        bill(at(2027, month, 1))
    invoices = recurring(subscription)
    assert [i.total for i in invoices] == [50000] * 6
    assert invoices[0].lines.get().description == "Impressora em 6 vezes"
    assert set(merchant.plans.values_list("pk", flat=True)) == plans_before
    assert Subscription.objects.get(pk=subscription.pk).status == S.CANCELED


def by_kind(events: dict) -> dict:
    """The snapshot's events per owner, the schedules' apart (a schedule's id may equal a subscription's)."""
    split = {}
    for owner, items in events.items():
        for kind, payload in items:
            key = ("schedule" if kind.startswith("subscription_schedule.") else "subscription", owner)
            split.setdefault(key, []).append((kind, payload))
    return split


# Both renewal writers enter a phase the same way. ----------------------------------------------------------
def test_the_row_writer_and_the_bulk_writer_enter_phases_alike(merchant, owner, catalog):
    iss = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5"))
    half = CouponFactory(
        merchant=merchant, code="METADE", percent_off=Decimal("50"), duration=CouponDuration.FOREVER
    )
    upgrade, one_off, ending, plain = (
        due(merchant, catalog["impressa"], payment_token=CARD) for _n in range(4)
    )
    with time_machine.travel(NOW - dt.timedelta(days=3), tick=False):
        schedule_create(
            subscription=upgrade,
            actor=owner,
            phases=[PhaseSpec(plan=catalog["both"], quantity=2, coupon=half, tax_rates=[iss])],
        )
        schedule_create(
            subscription=one_off,
            actor=owner,
            phases=[
                PhaseSpec(
                    price_name="Avulso",
                    price_amount=50000,
                    price_interval_unit=IntervalUnit.MONTH,
                    price_interval_count=1,
                    iterations=6,
                )
            ],
        )
        schedule_create(subscription=ending, actor=owner, phases=[], end_behavior=ScheduleEndBehavior.CANCEL)
    subscriptions = [upgrade, one_off, ending, plain]

    with time_machine.travel(NOW, tick=False):
        try:
            with transaction.atomic():
                row_outcomes = {
                    s.pk: process_subscription(subscription_id=s.pk, now=NOW) for s in subscriptions
                }
                expected = snapshot(subscriptions)
                raise Rollback
        except Rollback:
            pass
        bulk_outcomes = renew_many(subscription_ids=[s.pk for s in subscriptions], now=NOW)

    # The bulk writer took the three that renew (the ended one is left: nothing to renew) and wrote the same.
    assert set(bulk_outcomes) == {upgrade.pk, one_off.pk, plain.pk}
    assert {pk: row_outcomes[pk] for pk in bulk_outcomes} == bulk_outcomes
    got = snapshot(subscriptions)
    for part in ("subscriptions", "timeline", "invoices", "payments"):
        assert got[part] == expected[part], part
    assert by_kind(got["events"]) == by_kind(expected["events"])
    # 2 × R$ 120 − 50 % = 120, + ISS 5 % = 126; the one-off price 500; the plain one 100.
    by_sub = {i.subscription_id: i.total for i in Invoice.objects.filter(period_start=DUE)}
    assert by_sub == {upgrade.pk: 12600, one_off.pk: 50000, plain.pk: 10000}
    assert Subscription.objects.get(pk=ending.pk).status == S.CANCELED


def test_a_phase_entered_mid_period_with_proration_credits_the_old_terms_and_charges_the_new(
    merchant, owner, catalog, bill
):
    subscription = print_customer(merchant, owner, catalog, bill)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=catalog["digital"], proration=PhaseProration.PRORATE)],
        first_phase_end=at(2027, 2, 1),
        now=at(2027, 1, 20, 9),
    )
    bill(at(2027, 2, 1))
    # 16 of 31 days left: −R$ 100 × 16/31 = −51,61 and + R$ 40 × 16/31 = 20,65 (20,645… half up):
    # a proration invoice of 0 and R$ 30,96 to the credit balance.
    proration = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)
    assert [line.amount for line in proration.lines.order_by("pk")] == [-5161, 2065]
    assert proration.total == 0
    balance = CreditEntry.objects.filter(customer=subscription.customer).values_list("amount", flat=True)
    assert sum(balance) == 3096
    bill(at(2027, 2, 17))
    february = recurring(subscription)[-1]
    assert (february.period_start, february.total, february.credit_applied, february.amount_due) == (
        at(2027, 2, 17),
        4000,
        3096,
        904,
    )
