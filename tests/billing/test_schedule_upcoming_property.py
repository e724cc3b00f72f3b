"""Issue 13 #14 with schedules: Próximas faturas of a subscription with a random schedule equals, line by
line, what the billing run writes when the clock moves through those periods (row writer or bulk writer).

Random schedules attached to a running subscription: 1–3 phases after the current one, each a plan or a
one-off price (monthly or every 2 months), a quantity, a coupon or a manual discount, tax rates, 1–3
periods, the anchor kept or reset, and the end behaviour release or cancel. The first new phase starts
at the next billing date, or between two billing dates (22/01, paid up to the 25th or the 31st) resetting
or keeping the anchor, prorated (resetting: the unused paid time credited; keeping: a plan change
"agora" whose net credit goes to the balance, or whose net charge takes from it; either way paying the
first invoices) or not. A phase may instead end on a date a few days after its start, inside a billing
period: the next one (prorated or not) is entered between two billing dates of a later period, or of the
same one (two changes in one period, each prorated). A pause block may follow the first new phase
(until 10/09, resumed with a new period or in the current cycle), then the next phase's terms bill from
the resume (its rest charged on them). Besides the invoices, the credit balance left must be the
preview's: every proration in between moved it. The helpers are the schedule-less property test's
(tests/billing/test_upcoming_property.py)."""

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from billing.choices import InvoiceKind, InvoiceStatus
from billing.models import BillingSettings, Invoice
from billing.selectors import credit_balance
from billing.services.upcoming import upcoming_invoices
from core.models import Event
from plans.choices import CouponDuration, CouponKind, IntervalUnit
from plans.periods import add_months
from subscribers.choices import (
    PhaseAnchor,
    PhaseProration,
    ResumeMode,
    ScheduleEndBehavior,
    SubscriptionStatus,
)
from subscribers.models import Subscription
from subscribers.services.schedules import PhaseSpec, phase_dates, schedule_create
from tests.billing.test_upcoming_property import (
    ANCHORS,
    NOW,
    SP,
    TAXES,
    Rollback,
    bill_at,
    previewed,
    written,
)
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
EXAMPLES = 40 if os.environ.get("HYPOTHESIS_PROFILE") == "long" else 5

phases = st.fixed_dictionaries(
    {
        "price": st.integers(100, 50000),
        "one_off_months": st.one_of(st.none(), st.sampled_from([1, 2])),
        "quantity": st.integers(1, 3),
        "discount": st.sampled_from(["none", "coupon", "manual"]),
        "taxes": st.lists(st.sampled_from(range(len(TAXES))), unique=True, max_size=2),
        "iterations": st.integers(1, 3),
        "anchor": st.sampled_from(list(PhaseAnchor)),
        "proration": st.sampled_from(list(PhaseProration)),  # on entering it (the first one's: "proration")
        # Or it ends on a date this many days after its start, inside a period: the next phase is entered
        # between two billing dates of a later period, or of the same one (two changes in one period).
        "end_days": st.one_of(st.none(), st.integers(1, 3), st.integers(4, 45)),
    }
)
worlds = st.fixed_dictionaries(
    {
        "anchor": st.sampled_from(ANCHORS),
        "price": st.integers(100, 50000),
        "phases": st.lists(phases, min_size=1, max_size=3),
        "end": st.sampled_from(list(ScheduleEndBehavior)),
        "writer": st.sampled_from(["row", "bulk"]),
        "switch": st.sampled_from(["billing_date", "mid_period"]),
        "proration": st.sampled_from(list(PhaseProration)),
        # A balance a net charge or the invoices consume; a large one lasts until the later prorations.
        "credit": st.sampled_from([0, 0, 3000, 200000]),
        "pause": st.sampled_from([None, *ResumeMode]),
    }
)
# After the first new phase's last possible end (3 periods of 2 months from late February).
PAUSE_UNTIL = dt.datetime(2027, 9, 10, tzinfo=SP)
MID_PERIOD = dt.datetime(2027, 1, 22, tzinfo=SP)  # after NOW, before either anchor's next billing date
MONTHLY = (IntervalUnit.MONTH, 1)  # the subscription's plan (PlanFactory)


def build(merchant, owner, world) -> Subscription:
    anchor = world["anchor"]
    next_at = add_months(anchor, 1)
    subscription = SubscriptionFactory(
        merchant=merchant,
        plan=PlanFactory(merchant=merchant, name="Atual", price=world["price"]),
        # In a trial until the next billing date (nothing paid yet), or active with that period paid.
        status=S.TRIALING if world.get("trial") else S.ACTIVE,
        trial_ends_at=next_at if world.get("trial") else None,
        billing_cycle_anchor=anchor,
        started_at=anchor,
        current_period_start=anchor,
        current_period_end=next_at,
        next_invoice_at=next_at,
    )
    if not world.get("trial"):
        InvoiceFactory(
            merchant=merchant,
            subscription=subscription,
            customer=subscription.customer,
            number=900001,
            status=InvoiceStatus.PAID,
            period_start=anchor,
            period_end=next_at,
        )
    if world.get("credit"):
        CreditEntryFactory(merchant=merchant, customer=subscription.customer, amount=world["credit"])
    rates = [
        TaxRateFactory(merchant=merchant, name=name, percentage=percentage, inclusive=inclusive)
        for name, percentage, inclusive in TAXES
    ]
    coupon = CouponFactory(
        merchant=merchant,
        code="METADE",
        kind=CouponKind.PERCENT,
        percent_off=Decimal("50"),
        duration=CouponDuration.FOREVER,
    )
    specs = []
    for n, phase in enumerate(world["phases"]):
        price = {}
        if phase["one_off_months"]:
            price = {
                "price_name": f"Avulso {n}",
                "price_amount": phase["price"],
                "price_interval_unit": IntervalUnit.MONTH,
                "price_interval_count": phase["one_off_months"],
            }
        else:
            price = {"plan": PlanFactory(merchant=merchant, name=f"Plano {n}", price=phase["price"])}
        specs.append(
            PhaseSpec(
                **price,
                quantity=phase["quantity"],
                coupon=coupon if phase["discount"] == "coupon" else None,
                discount_percent=Decimal("10") if phase["discount"] == "manual" else None,
                tax_rates=[rates[i] for i in phase["taxes"]],
                iterations=phase["iterations"],
                anchor=phase["anchor"],
                proration=phase.get("proration", PhaseProration.PRORATE),
            )
        )
    mid_period = world.get("switch") == "mid_period"
    if mid_period:
        # Entered between two billing dates: reset or kept anchor (a plan change "agora", its own proration
        # invoice, whose net credit the later invoices consume), prorated or not.
        specs[0].proration = world["proration"]
    first_start = MID_PERIOD if mid_period else next_at
    for n, phase in enumerate(world["phases"]):
        # Not the last one (it lasts one period, or the schedule ends there), nor one after a pause.
        if phase.get("end_days") and n < len(specs) - 1 and not (n and world.get("pause")):
            # Ends on a date, at the merchant's midnight `end_days` after its start: inside a billing period,
            # so the next phase is entered between two billing dates (of the same period as this one's
            # start, or of a later one).
            start = phase_dates(specs[: n + 1], start=first_start, anchor=anchor, tz=SP, interval=MONTHLY)[n][
                0
            ]
            day = start.astimezone(SP).date() + dt.timedelta(days=phase["end_days"])
            specs[n].iterations, specs[n].end_date = None, dt.datetime.combine(day, dt.time(), tzinfo=SP)
    if world.get("pause"):
        if len(specs) == 1:
            specs.append(PhaseSpec(plan=PlanFactory(merchant=merchant, name="Depois", price=world["price"])))
        # The phase after a pause runs on the resume's cycle (no anchor reset of its own).
        specs[1].anchor = PhaseAnchor.AUTOMATIC
        specs.insert(1, PhaseSpec.pause(end_date=PAUSE_UNTIL, resume_mode=world["pause"]))
    subscription = Subscription.objects.select_related("merchant", "plan", "customer", "coupon").get(
        pk=subscription.pk
    )
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=specs,
        end_behavior=world["end"],
        first_phase_end=MID_PERIOD if mid_period else None,
        now=NOW,
    )
    return Subscription.objects.select_related("merchant", "plan", "customer", "coupon", "pending_plan").get(
        pk=subscription.pk
    )


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds)
# A pause block is always tried, in both resume modes (random worlds draw it one time in three).
@example(  # a prorated change kept on the anchor mid-period, then a pause from the next billing date
    world={
        "anchor": ANCHORS[0],
        "price": 1664,
        "phases": [
            {
                "price": 255,
                "one_off_months": None,
                "quantity": 1,
                "discount": "none",
                "taxes": [],
                "iterations": 1,
                "anchor": PhaseAnchor.AUTOMATIC,
            },
            {
                "price": 429,
                "one_off_months": None,
                "quantity": 2,
                "discount": "none",
                "taxes": [],
                "iterations": 2,
                "anchor": PhaseAnchor.AUTOMATIC,
            },
        ],
        "end": ScheduleEndBehavior.RELEASE,
        "writer": "row",
        "switch": "mid_period",
        "proration": PhaseProration.PRORATE,
        "credit": 0,
        "pause": ResumeMode.NEW_PERIOD,
    }
)
@example(
    world={
        "anchor": ANCHORS[0],
        "price": 9900,
        "phases": [
            {
                "price": 4000,
                "one_off_months": None,
                "quantity": 2,
                "discount": "coupon",
                "taxes": [0],
                "iterations": 2,
                "anchor": PhaseAnchor.AUTOMATIC,
            }
        ],
        "end": ScheduleEndBehavior.CANCEL,
        "writer": "row",
        "switch": "billing_date",
        "proration": PhaseProration.NONE,
        "pause": ResumeMode.NEW_PERIOD,
    }
)
@example(
    world={
        "anchor": ANCHORS[1],
        "price": 12345,
        "phases": [
            {
                "price": 3000,
                "one_off_months": 2,
                "quantity": 1,
                "discount": "manual",
                "taxes": [],
                "iterations": 1,
                "anchor": PhaseAnchor.AUTOMATIC,
            },
            {
                "price": 5000,
                "one_off_months": None,
                "quantity": 1,
                "discount": "none",
                "taxes": [1],
                "iterations": 3,
                "anchor": PhaseAnchor.AUTOMATIC,
            },
        ],
        "end": ScheduleEndBehavior.RELEASE,
        "writer": "bulk",
        "switch": "mid_period",
        "proration": PhaseProration.PRORATE,
        "pause": ResumeMode.CONTINUE,
    }
)
def test_the_preview_of_a_scheduled_subscription_is_what_the_billing_run_writes(merchant, owner, world):
    try:
        with transaction.atomic():
            BillingSettings.objects.get_or_create(merchant=merchant)
            subscription = build(merchant, owner, world)
            next_at = subscription.next_invoice_at

            preview = upcoming_invoices(subscription, 12, now=NOW)

            moments = {invoice.at for invoice in preview.invoices} | {MID_PERIOD, PAUSE_UNTIL}
            if len(preview.invoices) < 12:
                moments |= {add_months(next_at.astimezone(SP), n) for n in range(13)}
            if preview.ends_at is not None:  # a schedule cancelling after 12 months ends there
                moments.add(preview.ends_at)
            for moment in sorted(moments):
                bill_at(moment, subscription.pk, world["writer"])

            invoices = Invoice.objects.filter(
                subscription=subscription, kind=InvoiceKind.RECURRING, period_start__gt=NOW
            ).order_by("period_start")
            assert [written(i) for i in invoices] == [previewed(i) for i in preview.invoices]
            # Every proration in between (a phase entered in a later period, two in one period, the rest
            # of a period charged at a resume) took from or gave to the balance what the preview says.
            assert credit_balance(customer=subscription.customer_id, currency="BRL") == preview.balance_after
            if world.get("pause"):
                # Nothing previewed (nor billed) inside the pause block; paused and resumed once.
                pause = subscription.schedules.get().phases.get(kind="pause")
                assert not [i for i in preview.invoices if pause.start_at <= i.at < pause.end_at]
                for kind in ("subscription.paused", "subscription.resumed"):
                    assert Event.objects.filter(type=kind, payload__id=subscription.pk).count() == 1
            if world["end"] == ScheduleEndBehavior.CANCEL:
                assert preview.end_reason == "cancel"
                subscription.refresh_from_db()
                assert subscription.status == S.CANCELED
            raise Rollback
    except Rollback:
        pass


def test_a_schedule_changes_the_previewed_terms_at_its_phase_boundary(merchant, owner):
    # Impressa R$ 100 until 25/01, then Digital × 2 (R$ 40) for two months, then cancelled.
    world = {
        "anchor": ANCHORS[1],
        "price": 10000,
        "phases": [
            {
                "price": 4000,
                "one_off_months": None,
                "quantity": 2,
                "discount": "none",
                "taxes": [],
                "iterations": 2,
                "anchor": PhaseAnchor.AUTOMATIC,
            }
        ],
        "end": ScheduleEndBehavior.CANCEL,
    }
    BillingSettings.objects.get_or_create(merchant=merchant)
    subscription = build(merchant, owner, world)
    preview = upcoming_invoices(subscription, 12, now=NOW)
    assert [(i.at.astimezone(SP).date(), i.total) for i in preview.invoices] == [
        (dt.date(2027, 1, 25), 8000),
        (dt.date(2027, 2, 25), 8000),
    ]
    assert (preview.end_reason, preview.ends_at.astimezone(SP).date()) == ("cancel", dt.date(2027, 3, 25))


def test_a_prorated_downgrade_kept_on_the_anchor_mid_period_credits_the_next_invoice(merchant, owner):
    # R$ 100 a month paid for 25/12 10:00 → 25/01 10:00; from 22/01 00:00 R$ 40, keeping the 25th, "Ratear
    # agora". Unused: 3 days 10 hours of 31 days = 295200 / 2678400 s. Credit of the old terms
    # 10000 × 295200 / 2678400 = 1102.15 → 1102, charge of the new ones 4000 × … = 440.86 → 441: a proration
    # invoice of net −661, credited to the balance, which pays the first R$ 40 invoice on 25/01 in part.
    world = {
        "anchor": ANCHORS[1],
        "price": 10000,
        "phases": [
            {
                "price": 4000,
                "one_off_months": None,
                "quantity": 1,
                "discount": "none",
                "taxes": [],
                "iterations": 2,
                "anchor": PhaseAnchor.AUTOMATIC,
            }
        ],
        "end": ScheduleEndBehavior.RELEASE,
        "switch": "mid_period",
        "proration": PhaseProration.PRORATE,
    }
    BillingSettings.objects.get_or_create(merchant=merchant)
    subscription = build(merchant, owner, world)

    preview = upcoming_invoices(subscription, 3, now=NOW)

    assert [
        (i.at.astimezone(SP).date(), i.total, i.credit_applied, i.amount_due) for i in preview.invoices
    ] == [
        (dt.date(2027, 1, 25), 4000, 661, 3339),
        (dt.date(2027, 2, 25), 4000, 0, 4000),
        (dt.date(2027, 3, 25), 4000, 0, 4000),
    ]
    assert (preview.balance, preview.balance_after) == (0, 0)
    for moment in [MID_PERIOD, *(invoice.at for invoice in preview.invoices)]:
        bill_at(moment, subscription.pk, "row")
    proration = Invoice.objects.get(subscription=subscription, kind=InvoiceKind.PRORATION)
    assert (proration.total, proration.credit_applied) == (0, 0)
    invoices = Invoice.objects.filter(
        subscription=subscription, kind=InvoiceKind.RECURRING, period_start__gt=NOW
    ).order_by("period_start")
    assert [written(i) for i in invoices] == [previewed(i) for i in preview.invoices]


def _phase(price, **values):
    return {
        "price": price,
        "one_off_months": None,
        "quantity": 1,
        "discount": "none",
        "taxes": [],
        "iterations": 1,
        "anchor": PhaseAnchor.AUTOMATIC,
        **values,
    }


def _bill_through(subscription, preview, *moments):
    for moment in sorted({*moments, *(invoice.at for invoice in preview.invoices)}):
        bill_at(moment, subscription.pk, "row")
    invoices = Invoice.objects.filter(
        subscription=subscription, kind=InvoiceKind.RECURRING, period_start__gt=NOW
    ).order_by("period_start")
    assert [written(i) for i in invoices] == [previewed(i) for i in preview.invoices]
    assert credit_balance(customer=subscription.customer_id, currency="BRL") == preview.balance_after
    return list(
        Invoice.objects.filter(subscription=subscription, kind=InvoiceKind.PRORATION)
        .order_by("pk")
        .values_list("total", "credit_applied")
    )


def _dates(preview):
    return [(i.at.astimezone(SP).date(), i.total, i.credit_applied, i.amount_due) for i in preview.invoices]


def test_a_prorated_phase_entered_inside_a_later_period_is_previewed_with_its_proration(merchant, owner):
    # R$ 100 a month on the 25th (10:00). Phase 1: R$ 100 from 25/01 until 10/02 00:00, a date inside the
    # period 25/01 → 25/02 that the preview itself bills; phase 2: R$ 40, "Ratear agora", keeping the 25th.
    # The 25/01 invoice (paid when due: the preview's assumption) is credited for 10/02 00:00 → 25/02 10:00,
    # 15 days 10 hours = 1332000 s of 31 days = 2678400 s: 10000 × 1332000 / 2678400 = 4973.12 → 4973; the
    # new terms charge 4000 × 1332000 / 2678400 = 1989.25 → 1989. Net −2984 to the balance, which pays the
    # 25/02 invoice in part: 4000 − 2984 = 1016.
    world = {
        "anchor": ANCHORS[1],
        "price": 10000,
        "phases": [_phase(10000, end_days=16), _phase(4000, iterations=2, proration=PhaseProration.PRORATE)],
        "end": ScheduleEndBehavior.RELEASE,
        "switch": "billing_date",
    }
    BillingSettings.objects.get_or_create(merchant=merchant)
    subscription = build(merchant, owner, world)
    phase = subscription.schedules.get().phases.get(position=2)
    assert phase.start_at == dt.datetime(2027, 2, 10, tzinfo=SP)

    preview = upcoming_invoices(subscription, 3, now=NOW)

    assert _dates(preview) == [
        (dt.date(2027, 1, 25), 10000, 0, 10000),
        (dt.date(2027, 2, 25), 4000, 2984, 1016),
        (dt.date(2027, 3, 25), 4000, 0, 4000),
    ]
    assert _bill_through(subscription, preview, phase.start_at) == [(0, 0)]


def test_two_phases_entered_in_one_period_are_each_previewed_with_their_proration(merchant, owner):
    # R$ 100 paid for 25/12 10:00 → 25/01 10:00 (2678400 s). From 22/01 00:00 R$ 80, "Ratear agora": unused
    # 3 days 10 hours = 295200 s, credit 10000 × 295200 / 2678400 = 1102.15 → 1102, charge 8000 × … = 881.72
    # → 882, net −220. From 23/01 00:00 R$ 40, "Ratear agora": unused 2 days 10 hours = 208800 s; the credit
    # is of what the 22/01 change charged, 882 for 22/01 00:00 → 25/01 10:00: 882 × 208800 / 295200 =
    # 623.85 → 624, the charge 4000 × 208800 / 2678400 = 311.83 → 312, net −312. The balance, 220 + 312 =
    # 532, pays the 25/01 invoice in part: 4000 − 532 = 3468.
    world = {
        "anchor": ANCHORS[1],
        "price": 10000,
        "phases": [_phase(8000, end_days=1), _phase(4000, iterations=2, proration=PhaseProration.PRORATE)],
        "end": ScheduleEndBehavior.RELEASE,
        "switch": "mid_period",
        "proration": PhaseProration.PRORATE,
    }
    BillingSettings.objects.get_or_create(merchant=merchant)
    subscription = build(merchant, owner, world)

    preview = upcoming_invoices(subscription, 2, now=NOW)

    assert _dates(preview) == [
        (dt.date(2027, 1, 25), 4000, 532, 3468),
        (dt.date(2027, 2, 25), 4000, 0, 4000),
    ]
    assert (preview.balance, preview.balance_after) == (0, 0)
    assert _bill_through(subscription, preview, MID_PERIOD, dt.datetime(2027, 1, 23, tzinfo=SP)) == [
        (0, 0),
        (0, 0),
    ]


def test_the_rest_charged_at_a_continued_resume_is_previewed_on_the_next_phase_terms(merchant, owner):
    # A balance of R$ 100. Phase 1: R$ 1 for 25/01 → 25/02 (paid from the balance: 9900 left), then paused
    # until 10/09 00:00, resumed "continuar" on phase 2: R$ 30 × 2 with ISS 5 % (exclusive). The cycle's
    # period holding the resume is 25/08 10:00 → 25/09 10:00 (2678400 s); its rest, 1332000 s, is charged
    # on phase 2's terms: 6000 × 1332000 / 2678400 = 2983.87 → 2984, ISS 5 % of 2984 = 149.2 → 149, total
    # 3133, paid from the balance (6767 left). The 25/09 invoice, 6000 + 300 = 6300, takes 6300 of it; the
    # 25/10 one the 467 left: 6300 − 467 = 5833.
    world = {
        "anchor": ANCHORS[1],
        "price": 10000,
        "phases": [_phase(100), _phase(3000, quantity=2, taxes=[0], iterations=2)],
        "end": ScheduleEndBehavior.RELEASE,
        "switch": "billing_date",
        "credit": 10000,
        "pause": ResumeMode.CONTINUE,
    }
    BillingSettings.objects.get_or_create(merchant=merchant)
    subscription = build(merchant, owner, world)

    preview = upcoming_invoices(subscription, 3, now=NOW)

    assert _dates(preview) == [
        (dt.date(2027, 1, 25), 100, 100, 0),
        (dt.date(2027, 9, 25), 6300, 6300, 0),
        (dt.date(2027, 10, 25), 6300, 467, 5833),
    ]
    assert (preview.balance, preview.balance_after) == (10000, 0)
    assert _bill_through(subscription, preview, dt.datetime(2027, 2, 25, 10, tzinfo=SP), PAUSE_UNTIL) == [
        (3133, 3133)
    ]


def test_a_phase_entered_in_the_period_after_a_trial_is_prorated_as_the_trial_ends_paid(merchant, owner):
    # Test (a)'s schedule on a subscription in its trial until 25/01: the 25/01 invoice ends the trial and,
    # paid when due, makes it active, so the phase entered on 10/02 is prorated as in test (a): credit 4973,
    # charge 1989, net −2984 paying the 25/02 invoice in part.
    world = {
        "anchor": ANCHORS[1],
        "price": 10000,
        "trial": True,
        "phases": [_phase(10000, end_days=16), _phase(4000, iterations=2, proration=PhaseProration.PRORATE)],
        "end": ScheduleEndBehavior.RELEASE,
        "switch": "billing_date",
    }
    BillingSettings.objects.get_or_create(merchant=merchant)
    subscription = build(merchant, owner, world)

    preview = upcoming_invoices(subscription, 3, now=NOW)

    assert _dates(preview) == [
        (dt.date(2027, 1, 25), 10000, 0, 10000),
        (dt.date(2027, 2, 25), 4000, 2984, 1016),
        (dt.date(2027, 3, 25), 4000, 0, 4000),
    ]
    assert _bill_through(subscription, preview, dt.datetime(2027, 2, 10, tzinfo=SP)) == [(0, 0)]
