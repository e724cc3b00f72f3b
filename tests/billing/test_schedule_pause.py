"""A pause block inside a schedule (issues 13 and 16): when the schedule reaches it the subscription is
paused by the pause services (no invoice, the period does not advance), at its end the schedule's next
phase starts and the subscription resumes in the block's resume mode on that phase's terms. The clock is
moved through the periods and the real scheduler runs (the due task, then the billing run); a retried
run pauses and resumes once. Amounts by hand: Impressa R$ 100, Digital R$ 40, monthly."""
# ruff: noqa: F811 — the fixtures `bill` and `catalog` are test_schedule_billing's

import pytest
from django.core.exceptions import ValidationError

from billing.choices import InvoiceKind
from billing.models import Invoice
from billing.services.upcoming import upcoming_invoices
from core.models import Event
from subscribers.choices import (
    PhaseAnchor,
    PhaseKind,
    ResumeMode,
    ScheduleEndBehavior,
    ScheduleStatus,
    SubscriptionStatus,
)
from subscribers.services import subscription_resume
from subscribers.services.schedules import PhaseSpec, schedule_create, schedule_update
from subscribers.services.schedules import PhaseSpec as Spec
from tests.billing.test_schedule_billing import at, bill, catalog, contract, events, recurring, totals  # noqa: F401
from tests.billing.test_upcoming_property import previewed, written

pytestmark = pytest.mark.django_db
S, SS = SubscriptionStatus, ScheduleStatus


def types(subscription, prefix):
    if prefix.startswith("subscription_schedule."):
        return events(subscription, prefix)
    return list(
        Event.objects.filter(type__startswith=prefix, payload__id=subscription.pk).values_list(
            "type", flat=True
        )
    )


def paused_by_schedule(merchant, owner, catalog, bill, *, mode, resume):
    """Impressa from 15/01 09:00 (paid to 15/02 09:00), a pause from 15/02 until `resume`, then Digital."""
    now = at(2027, 1, 15, 9)
    subscription = contract(merchant, owner, catalog["impressa"], now.date(), now=now)
    bill(now)
    subscription.refresh_from_db()
    schedule = schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[
            PhaseSpec.pause(end_date=resume, resume_mode=mode),
            PhaseSpec(plan=catalog["digital"], iterations=2),
        ],
        end_behavior=ScheduleEndBehavior.RELEASE,
        now=now,
    )
    return subscription, schedule


def test_the_schedule_pauses_at_the_block_and_resumes_with_a_new_period_on_the_next_phase(
    merchant, owner, catalog, bill
):
    subscription, schedule = paused_by_schedule(
        merchant, owner, catalog, bill, mode=ResumeMode.NEW_PERIOD, resume=at(2027, 4, 1)
    )
    pause, digital = schedule.phases.order_by("position")[1:]
    assert (pause.kind, pause.start_at, pause.end_at) == (PhaseKind.PAUSE, at(2027, 2, 15, 9), at(2027, 4, 1))
    # Resumed with a new period on 01/04: Digital's two periods count from there.
    assert (digital.start_at, digital.end_at) == (at(2027, 4, 1), at(2027, 6, 1))
    preview = upcoming_invoices(subscription, 3, now=at(2027, 1, 15, 9))
    assert [(i.at, i.total) for i in preview.invoices] == [
        (at(2027, 4, 1), 4000),
        (at(2027, 5, 1), 4000),
        (at(2027, 6, 1), 4000),
    ]

    for _retry in range(2):  # the boundary's run, and a retried one: paused once
        bill(at(2027, 2, 15, 9))
        subscription.refresh_from_db()
        assert subscription.status == S.PAUSED
        assert (subscription.paused_at, subscription.resume_at) == (at(2027, 2, 15, 9), at(2027, 4, 1))
        assert subscription.resume_mode == ResumeMode.NEW_PERIOD
    assert totals(subscription) == [10000]  # nothing renewed on 15/02
    assert subscription.current_period_end == at(2027, 2, 15, 9)  # the period does not advance
    assert types(subscription, "subscription.paused") == ["subscription.paused"]

    # Próximas faturas of the subscription paused by its schedule: from the resume on.
    coming = upcoming_invoices(subscription, 2, now=at(2027, 3, 1))
    assert [(i.at, i.total) for i in coming.invoices] == [(at(2027, 4, 1), 4000), (at(2027, 5, 1), 4000)]

    bill(at(2027, 3, 15, 9))
    assert totals(subscription) == [10000]  # no invoice while paused

    for _retry in range(2):  # the resume, and a retried one: resumed and billed once
        bill(at(2027, 4, 1))
        subscription.refresh_from_db()
        assert subscription.status == S.ACTIVE
        assert totals(subscription) == [10000, 4000]
    assert types(subscription, "subscription.resumed") == ["subscription.resumed"]
    assert (subscription.billing_cycle_anchor, subscription.next_invoice_at) == (
        at(2027, 4, 1),
        at(2027, 5, 1),
    )
    schedule.refresh_from_db()
    assert (schedule.current_position, schedule.next_phase_at) == (2, at(2027, 6, 1))
    assert types(subscription, "subscription_schedule.") == [
        "subscription_schedule.created",
        "subscription_schedule.phase_started",
        "subscription_schedule.phase_started",
    ]

    bill(at(2027, 5, 1))
    bill(at(2027, 6, 1))
    assert totals(subscription) == [10000, 4000, 4000, 4000]
    schedule.refresh_from_db()
    assert schedule.status == SS.COMPLETED
    # Preview == bill, line by line, for the invoices after the pause.
    after = [i for i in recurring(subscription) if i.period_start > at(2027, 2, 1)]
    assert [written(i) for i in after] == [previewed(i) for i in preview.invoices]


def test_resuming_in_the_current_cycle_charges_the_rest_of_its_period_on_the_next_phase(
    merchant, owner, catalog, bill
):
    subscription, schedule = paused_by_schedule(
        merchant, owner, catalog, bill, mode=ResumeMode.CONTINUE, resume=at(2027, 3, 20)
    )
    digital = schedule.phases.get(position=2)
    # The cycle stays on the 15th, 09:00: Digital's first period is the one containing 20/03.
    assert (digital.start_at, digital.end_at) == (at(2027, 3, 20), at(2027, 5, 15, 9))
    preview = upcoming_invoices(subscription, 2, now=at(2027, 1, 15, 9))
    assert [(i.at, i.total) for i in preview.invoices] == [
        (at(2027, 4, 15, 9), 4000),
        (at(2027, 5, 15, 9), 4000),
    ]

    bill(at(2027, 2, 15, 9))
    bill(at(2027, 3, 20))
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    # 20/03 00:00 → 15/04 09:00 is 633 h of the 744 h period 15/03 09:00 → 15/04 09:00, on Digital:
    # 4.000 × 633 / 744 = 3.403,2 → R$ 34,03.
    (rest,) = Invoice.objects.filter(subscription=subscription).exclude(kind=InvoiceKind.RECURRING)
    assert rest.total == 3403
    assert subscription.next_invoice_at == at(2027, 4, 15, 9)

    bill(at(2027, 4, 15, 9))
    bill(at(2027, 5, 15, 9))
    assert totals(subscription) == [10000, 4000, 4000]
    after = [i for i in recurring(subscription) if i.period_start > at(2027, 2, 1)]
    assert [written(i) for i in after] == [previewed(i) for i in preview.invoices]


def test_a_pause_block_is_resumed_by_the_schedule_only_and_its_end_can_move(merchant, owner, catalog, bill):
    subscription, schedule = paused_by_schedule(
        merchant, owner, catalog, bill, mode=ResumeMode.NEW_PERIOD, resume=at(2027, 4, 1)
    )
    bill(at(2027, 2, 15, 9))
    with pytest.raises(ValidationError) as refused:
        subscription_resume(subscription=subscription, actor=owner, now=at(2027, 3, 1))
    assert refused.value.code == "schedule_pause"

    # The running pause may end earlier (and change its resume mode); the next phase moves with it.
    phases = [Spec.of(p) for p in schedule.phases.order_by("position")]
    phases[1].end_date, phases[1].resume_mode = at(2027, 3, 10), ResumeMode.NEW_PERIOD
    schedule_update(
        schedule=schedule, actor=owner, phases=phases, end_behavior=schedule.end_behavior, now=at(2027, 3, 1)
    )
    subscription.refresh_from_db()
    assert subscription.resume_at == at(2027, 3, 10)
    assert schedule.phases.get(position=2).start_at == at(2027, 3, 10)
    bill(at(2027, 3, 10))
    assert totals(subscription) == [10000, 4000]


@pytest.mark.parametrize(
    ("phases", "key", "code"),
    [
        (lambda c: [Spec.pause(end_date=at(2027, 4, 1))], "phases-1-end_date", "pause_last"),
        (
            lambda c: [Spec.pause(end_date=at(2027, 4, 1)), Spec(plan=c["digital"], trial_days=7)],
            "phases-2-trial_days",
            "trial_after_pause",
        ),
        (
            lambda c: [
                Spec.pause(end_date=at(2027, 4, 1)),
                Spec(plan=c["digital"], anchor=PhaseAnchor.PHASE_START),
            ],
            "phases-2-anchor",
            "anchor_after_pause",
        ),
        (
            lambda c: [Spec.pause(end_date=None), Spec(plan=c["digital"])],
            "phases-1-end_date",
            "pause_end_required",
        ),
        (
            lambda c: [
                Spec.pause(end_date=at(2027, 3, 1)),
                Spec.pause(end_date=at(2027, 4, 1)),
                Spec(plan=c["digital"]),
            ],
            "phases-2-end_date",
            "pause_after_pause",
        ),
    ],
)
def test_a_pause_block_is_validated(merchant, owner, catalog, phases, key, code):
    now = at(2027, 1, 15, 9)
    subscription = contract(merchant, owner, catalog["impressa"], now.date(), now=now)
    with pytest.raises(ValidationError) as refused:
        schedule_create(subscription=subscription, actor=owner, phases=phases(catalog), now=now)
    assert code in [error.code for error in refused.value.error_dict[key]]
