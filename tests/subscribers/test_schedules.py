"""Programações in subscribers: the whole schedule validated in one call, the edit rules (ended phases
frozen, the running one limited, later ones free), release and cancel, timeline and outbox; and the
screens (the card, the phase editor, Liberar, Cancelar) with their permissions."""

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from core.models import Event
from plans.choices import IntervalUnit
from subscribers.choices import (
    MAX_SCHEDULE_PHASES,
    CancelOrigin,
    EventKind,
    ScheduleEndBehavior,
    ScheduleStatus,
    SubscriptionStatus,
)
from subscribers.locks import lock_subscription
from subscribers.models import SubscriptionSchedule
from subscribers.services import (
    subscription_apply_billing,
    subscription_cancel,
    subscription_create,
    subscription_delete,
    subscription_process_due,
)
from subscribers.services.schedules import (
    PhaseSpec,
    schedule_advance,
    schedule_cancel,
    schedule_create,
    schedule_release,
    schedule_update,
)
from tests.factories import CouponFactory, CustomerFactory, PlanFactory, TaxRateFactory

pytestmark = pytest.mark.django_db
S, SS = SubscriptionStatus, ScheduleStatus
SP = zoneinfo.ZoneInfo("America/Sao_Paulo")
NOW = dt.datetime(2027, 1, 10, 10, 0, tzinfo=SP)


@pytest.fixture
def plans(merchant):
    return {
        "impressa": PlanFactory(merchant=merchant, name="Impressa", price=10000),
        "digital": PlanFactory(merchant=merchant, name="Digital", price=4000),
        "basic": PlanFactory(merchant=merchant, name="Básico", price=5000),
    }


@pytest.fixture
def scheduled(merchant, owner, plans):
    """Impressa from 01/02/2027 (a future contract: not started)."""
    with time_machine.travel(NOW, tick=False):
        return subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=plans["impressa"],
            contract_date=dt.date(2027, 2, 1),
            now=NOW,
        )


def three_phases(plans):
    return [
        PhaseSpec(plan=plans["impressa"], iterations=1),
        PhaseSpec(plan=plans["digital"], quantity=2, iterations=2),
        PhaseSpec(plan=plans["basic"]),
    ]


def codes(exc: ValidationError) -> dict:
    return {key: [error.code for error in errors] for key, errors in exc.error_dict.items()}


# --- validation -----------------------------------------------------------------------------------------
def test_a_schedule_is_validated_whole_with_each_error_next_to_its_field(merchant, owner, plans, scheduled):
    other_plan = PlanFactory(name="De outra loja")
    coupon = CouponFactory(merchant=merchant)
    with pytest.raises(ValidationError) as caught:
        schedule_create(
            subscription=scheduled,
            actor=owner,
            phases=[
                PhaseSpec(plan=plans["impressa"]),  # not the last: needs an end
                PhaseSpec(plan=other_plan, iterations=1),
                PhaseSpec(plan=plans["digital"], coupon=coupon, discount_percent=Decimal("10"), iterations=1),
                PhaseSpec(price_amount=0, price_interval_unit="", iterations=1),
            ],
            end_behavior="nunca",
            now=NOW,
        )
    assert codes(caught.value) == {
        "end_behavior": ["end_behavior_required"],
        "phases-0-iterations": ["no_end"],
        "phases-1-plan": ["invalid_plan"],
        "phases-2-discount_percent": ["coupon_and_discount"],
        "phases-3-price_amount": ["invalid_price"],
        "phases-3-price_interval_unit": ["interval_required"],
        "phases-3-price_interval_count": ["invalid_interval"],
    }
    assert not SubscriptionSchedule.objects.exists()


def test_a_schedule_holds_at_most_ten_phases(owner, plans, scheduled):
    phases = [PhaseSpec(plan=plans["digital"], iterations=1) for _n in range(MAX_SCHEDULE_PHASES + 1)]
    with pytest.raises(ValidationError) as caught:
        schedule_create(subscription=scheduled, actor=owner, phases=phases, now=NOW)
    assert codes(caught.value) == {"phases": ["too_many_phases"]}
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=phases[:10], now=NOW)
    assert schedule.phases.count() == 10


def test_one_live_schedule_per_subscription(owner, plans, scheduled):
    schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    with pytest.raises(ValidationError) as caught:
        schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    assert caught.value.code == "schedule_exists"


def test_phase_dates_follow_iterations_end_dates_and_the_anchor(merchant, owner, plans, scheduled):
    schedule = schedule_create(
        subscription=scheduled,
        actor=owner,
        phases=[
            PhaseSpec(plan=plans["impressa"], iterations=2),
            PhaseSpec(plan=plans["digital"], end_date=dt.datetime(2027, 4, 15, tzinfo=SP)),
            PhaseSpec(plan=plans["basic"], anchor="phase_start", iterations=1),
            PhaseSpec(
                price_name="Avulso",
                price_amount=500,
                price_interval_unit=IntervalUnit.WEEK,
                price_interval_count=2,
            ),
        ],
        now=NOW,
    )
    d = lambda month, day: dt.datetime(2027, month, day, tzinfo=SP)  # noqa: E731
    assert [(p.start_at, p.end_at) for p in schedule.phases.order_by("position")] == [
        (d(2, 1), d(4, 1)),
        (d(4, 1), d(4, 15)),
        (d(4, 15), d(5, 15)),  # the anchor reset to its start: one month from the 15th
        # Another interval restarts the cycle; the last phase without an end lasts one period (2 weeks).
        (d(5, 15), d(5, 29)),
    ]


# --- creation, events, timeline ---------------------------------------------------------------------
def test_a_schedule_from_the_start_gives_the_subscription_its_first_phase_terms(owner, plans, scheduled):
    iss = TaxRateFactory(merchant=scheduled.merchant)
    phases = three_phases(plans)
    phases[0] = PhaseSpec(plan=plans["digital"], quantity=3, tax_rates=[iss], iterations=1)
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=phases, now=NOW)
    scheduled.refresh_from_db()
    assert (scheduled.plan, scheduled.quantity, scheduled.amount) == (plans["digital"], 3, 12000)
    assert list(scheduled.tax_rates.all()) == [iss]
    assert schedule.status == SS.NOT_STARTED and schedule.next_phase_at == dt.datetime(2027, 2, 1, tzinfo=SP)
    event = scheduled.events.get(kind=EventKind.SCHEDULE)
    assert (event.actor, event.data["action"]) == (owner, "created")
    created = Event.objects.get(type="subscription_schedule.created")
    assert created.payload["subscription"] == scheduled.pk and len(created.payload["phases"]) == 3


def test_entering_a_phase_records_who_planned_it_and_from_which_phase(owner, plans, scheduled):
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    schedule_advance(subscription=scheduled, schedule=schedule)
    schedule_advance(subscription=scheduled, schedule=schedule)
    scheduled.refresh_from_db()
    assert (scheduled.plan, scheduled.quantity) == (plans["digital"], 2)
    entered = scheduled.events.filter(kind=EventKind.SCHEDULE, data__action="phase_started").order_by("pk")
    assert [(e.actor, e.data["from"], e.data["to"]) for e in entered] == [(owner, None, 0), (owner, 0, 1)]
    assert "1 → 2" in entered.last().reason_display


# --- edit rules -------------------------------------------------------------------------------------
@pytest.fixture
def running(owner, plans, scheduled):
    """The three-phase schedule in its second phase (Digital × 2, 01/03 → 01/05)."""
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    schedule_advance(subscription=scheduled, schedule=schedule)
    schedule_advance(subscription=scheduled, schedule=schedule)
    schedule.refresh_from_db()
    return schedule


def test_an_ended_phase_is_frozen_and_the_running_one_changes_only_its_limited_terms(owner, plans, running):
    later = dt.datetime(2027, 3, 10, tzinfo=SP)
    phases = three_phases(plans)
    phases[0] = PhaseSpec(plan=plans["basic"], iterations=1)  # ended: frozen
    phases[1] = PhaseSpec(plan=plans["impressa"], quantity=2, iterations=2)  # running: plan is not editable
    with pytest.raises(ValidationError) as caught:
        schedule_update(schedule=running, actor=owner, phases=phases, end_behavior="release", now=later)
    assert codes(caught.value) == {
        "phases-0-plan": ["phase_frozen"],
        "phases-1-plan": ["current_phase_limited"],
    }
    assert running.phases.get(position=1).plan == plans["digital"]  # nothing half-saved


def test_the_running_phase_may_change_quantity_coupon_taxes_and_later_phases_are_free(
    merchant, owner, plans, running
):
    later = dt.datetime(2027, 3, 10, tzinfo=SP)
    coupon = CouponFactory(merchant=merchant)
    iss = TaxRateFactory(merchant=merchant)
    phases = three_phases(plans)
    phases[1] = PhaseSpec(plan=plans["digital"], quantity=5, coupon=coupon, tax_rates=[iss], iterations=3)
    phases[2:] = [PhaseSpec(plan=plans["impressa"], iterations=1), PhaseSpec(plan=plans["basic"])]
    schedule_update(schedule=running, actor=owner, phases=phases, end_behavior="cancel", now=later)
    running.refresh_from_db()
    subscription = running.subscription
    subscription.refresh_from_db()
    assert (subscription.quantity, subscription.coupon, list(subscription.tax_rates.all())) == (
        5,
        coupon,
        [iss],
    )
    assert running.end_behavior == ScheduleEndBehavior.CANCEL
    assert running.next_phase_at == dt.datetime(2027, 6, 1, tzinfo=SP)  # the running phase's new end
    assert [p.plan for p in running.phases.order_by("position")] == [
        plans["impressa"],
        plans["digital"],
        plans["impressa"],
        plans["basic"],
    ]
    assert Event.objects.filter(type="subscription_schedule.updated").count() == 1


def test_saving_the_schedule_unchanged_records_nothing(owner, plans, running):
    later = dt.datetime(2027, 3, 10, tzinfo=SP)
    before = list(running.phases.order_by("position").values_list("pk", flat=True))
    events = running.subscription.events.count()

    schedule_update(
        schedule=running, actor=owner, phases=three_phases(plans), end_behavior="release", now=later
    )

    assert list(running.phases.order_by("position").values_list("pk", flat=True)) == before
    assert running.subscription.events.count() == events
    assert not Event.objects.filter(type="subscription_schedule.updated").exists()


def test_a_started_phase_cannot_be_removed(owner, plans, running):
    with pytest.raises(ValidationError) as caught:
        schedule_update(
            schedule=running,
            actor=owner,
            phases=[PhaseSpec(plan=plans["impressa"], iterations=1)],
            end_behavior="release",
            now=dt.datetime(2027, 3, 10, tzinfo=SP),
        )
    assert "phase_started" in codes(caught.value)["phases"]


# --- release, cancel ---------------------------------------------------------------------------------
def test_release_and_cancel_are_refused_once_the_schedule_is_over(owner, plans, running):
    schedule_release(schedule=running, actor=owner, now=dt.datetime(2027, 3, 10, tzinfo=SP))
    running.refresh_from_db()
    assert (running.status, running.next_phase_at) == (SS.RELEASED, None)
    with pytest.raises(ValidationError) as caught:
        schedule_release(schedule=running, actor=owner)
    assert caught.value.code == "invalid_transition"
    with pytest.raises(ValidationError):
        schedule_cancel(schedule=running, actor=owner, origin=CancelOrigin.SELLER)
    with pytest.raises(ValidationError) as caught:
        schedule_update(schedule=running, actor=owner, phases=three_phases(plans), end_behavior="release")
    assert caught.value.code == "schedule_not_live"


def test_cancelling_records_the_cancellation_on_the_subscription(owner, plans, scheduled):
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    schedule_cancel(schedule=schedule, actor=owner, origin=CancelOrigin.SELLER, reason="Desistiu", now=NOW)
    scheduled.refresh_from_db()
    schedule.refresh_from_db()
    assert (scheduled.status, scheduled.cancel_origin, scheduled.cancel_reason) == (
        S.CANCELED,
        "seller",
        "Desistiu",
    )
    assert schedule.status == SS.CANCELED
    assert list(
        Event.objects.filter(type__startswith="subscription_schedule.")
        .order_by("pk")
        .values_list("type", flat=True)
    ) == [
        "subscription_schedule.created",
        "subscription_schedule.canceled",
    ]


# --- the subscription ends another way ------------------------------------------------------------------
def schedule_events(subscription):
    return list(
        Event.objects.filter(type__startswith="subscription_schedule.", payload__subscription=subscription.pk)
        .order_by("pk")
        .values_list("type", flat=True)
    )


def _ended_with_its_subscription(schedule, subscription, *, at):
    schedule.refresh_from_db()
    assert (schedule.status, schedule.next_phase_at, schedule.ended_at) == (SS.CANCELED, None, at)
    assert schedule_events(subscription)[-1] == "subscription_schedule.canceled"
    assert schedule_events(subscription).count("subscription_schedule.canceled") == 1
    line = subscription.events.filter(kind=EventKind.SCHEDULE).order_by("-pk").first()
    assert (line.data["action"], line.reason_display) == (
        "canceled",
        "Programação cancelada: a assinatura foi encerrada.",
    )


def test_cancelling_the_subscription_from_its_page_cancels_its_schedule(owner, plans, scheduled):
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    subscription_cancel(subscription=scheduled, actor=owner, origin=CancelOrigin.CUSTOMER, now=NOW)
    _ended_with_its_subscription(schedule, scheduled, at=NOW)
    line = scheduled.events.filter(kind=EventKind.SCHEDULE).order_by("-pk").first()
    assert line.actor == owner
    assert scheduled.live_schedule is None


def test_billing_ending_the_subscription_cancels_its_schedule(owner, plans, running):
    """Dunning's final action (and a chargeback, a refund) end the subscription through
    subscription_apply_billing: the schedule goes with it."""
    later = dt.datetime(2027, 3, 10, tzinfo=SP)
    subscription = running.subscription
    with transaction.atomic():
        subscription = lock_subscription(subscription.pk)
        subscription_apply_billing(
            subscription=subscription, now=later, to_status=S.CANCELED, reason="Inadimplência"
        )
    _ended_with_its_subscription(running, subscription, at=later)


def test_a_cancellation_at_the_period_end_cancels_the_schedule_when_it_happens(owner, plans, running):
    subscription = running.subscription
    later = dt.datetime(2027, 3, 10, tzinfo=SP)
    subscription_cancel(
        subscription=subscription,
        actor=owner,
        origin=CancelOrigin.SELLER,
        when="date",
        at_date=dt.date(2027, 3, 20),
        now=later,
    )
    running.refresh_from_db()
    assert running.status == SS.ACTIVE  # still planning until the subscription really ends
    end = dt.datetime(2027, 3, 20, 0, 5, tzinfo=SP)
    subscription_process_due(now=end)
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    running.refresh_from_db()
    assert running.status == SS.CANCELED


def test_deleting_the_subscription_tells_its_schedule_is_canceled(owner, plans, scheduled):
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    payload_id = schedule.pk
    subscription_delete(subscription=scheduled, actor=owner, now=NOW)
    assert not SubscriptionSchedule.objects.filter(pk=payload_id).exists()
    canceled = Event.objects.get(type="subscription_schedule.canceled")
    assert (canceled.payload["id"], canceled.payload["status"]) == (payload_id, SS.CANCELED)


def test_cancelling_the_schedule_and_subscription_writes_one_canceled_event(owner, plans, running):
    later = dt.datetime(2027, 3, 10, tzinfo=SP)
    schedule_cancel(schedule=running, actor=owner, origin=CancelOrigin.SELLER, now=later)
    running.refresh_from_db()
    assert running.status == SS.CANCELED
    assert schedule_events(running.subscription).count("subscription_schedule.canceled") == 1
    reasons = [line.reason_display for line in running.subscription.events.filter(kind=EventKind.SCHEDULE)]
    assert "Programação cancelada: a assinatura foi encerrada." not in reasons


# --- screens -------------------------------------------------------------------------------------------
def phase_post(phases, *, end_behavior="release", total=None, **extra):
    data = {
        "phases-TOTAL_FORMS": str(total if total is not None else len(phases)),
        "phases-INITIAL_FORMS": "0",
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "10",
        "end_behavior": end_behavior,
        **extra,
    }
    for index, phase in enumerate(phases):
        defaults = {"quantity": "1", "proration": "prorate", "anchor": "automatic", "ORDER": str(index + 1)}
        for name, value in {**defaults, **phase}.items():
            data[f"phases-{index}-{name}"] = value
    return data


def test_the_editor_saves_a_three_phase_schedule_and_the_card_shows_its_timeline(
    member_client, owner, plans, scheduled
):
    client = member_client(owner)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        phase_post(
            [
                {"plan": plans["impressa"].pk, "iterations": "1"},
                {"plan": plans["digital"].pk, "quantity": "2", "iterations": "2"},
                {
                    "price_name": "Básico avulso",
                    "price_amount": "30,00",
                    "price_interval_unit": "month",
                    "price_interval_count": "1",
                },
            ]
        ),
    )
    assert response.status_code == 302, response.context and response.context["formset"].errors
    schedule = scheduled.schedules.get()
    assert [p.price.name for p in schedule.phases.order_by("position")] == [
        "Impressa",
        "Digital",
        "Básico avulso",
    ]
    page = client.get(scheduled.get_absolute_url()).content.decode()
    assert 'id="schedule-timeline"' in page
    assert page.count('class="border rounded p-2 flex-shrink-0 schedule-phase') == 3
    assert "R$\xa080,00 por período" in page or "R$ 80,00 por período" in page


def test_the_editor_shows_the_services_error_next_to_the_field(member_client, owner, plans, scheduled):
    client = member_client(owner)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    response = client.post(
        url,
        phase_post(
            [{"plan": plans["impressa"].pk}, {"plan": plans["digital"].pk}],  # the first has no end
        ),
    )
    assert response.status_code == 200
    forms = response.context["formset"].forms
    assert forms[0].errors["iterations"] == [
        "Informe quando a fase termina: uma data ou um número de períodos."
    ]
    assert not scheduled.schedules.exists()


def test_the_editor_shows_the_forms_and_the_services_errors_in_one_round(
    member_client, owner, plans, scheduled
):
    client = member_client(owner)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    response = client.post(
        url,
        phase_post(
            [
                {"plan": plans["impressa"].pk, "quantity": "0", "iterations": "1"},  # the form's error
                {"plan": plans["digital"].pk},  # the service's: not the last, so it needs an end
                {"price_amount": "500,00"},  # the service's: a one-off price needs its interval
            ],
            end_behavior="",
        ),
    )
    assert response.status_code == 200
    forms = response.context["formset"].forms
    assert list(forms[0].errors) == ["quantity"]
    assert forms[1].errors["iterations"] == [
        "Informe quando a fase termina: uma data ou um número de períodos."
    ]
    assert forms[2].errors["price_interval_unit"] == ["Escolha o intervalo do preço avulso."]
    # The form's own "required" on the end behaviour, not the service's repeated next to it.
    assert len(response.context["form"].errors["end_behavior"]) == 1
    assert not scheduled.schedules.exists()


def test_the_editor_adds_and_removes_and_reorders_future_phases(member_client, owner, plans, scheduled):
    client = member_client(owner)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    data = phase_post([{"plan": plans["impressa"].pk, "iterations": "1"}], add_phase="1")
    response = client.post(url, data)
    assert len(response.context["formset"].forms) == 2
    data = phase_post(
        [
            {"plan": plans["impressa"].pk, "iterations": "1", "ORDER": "2"},
            {"plan": plans["digital"].pk, "iterations": "1", "ORDER": "1"},
            {"plan": plans["basic"].pk, "iterations": "1", "DELETE": "on"},
        ]
    )
    assert client.post(url, data).status_code == 302
    assert [p.plan for p in scheduled.schedules.get().phases.order_by("position")] == [
        plans["digital"],
        plans["impressa"],
    ]


def test_the_editor_says_there_is_no_active_tax_rate_like_nova_assinatura(
    merchant, member_client, owner, plans, scheduled
):
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    TaxRateFactory(merchant=merchant, name="ISS antigo", is_active=False)
    with time_machine.travel(NOW, tick=False):
        html = member_client(owner).get(url).content.decode()
    assert "Nenhum imposto ativo para aplicar." in html
    assert reverse("plans:taxrate_list") in html
    assert "ISS antigo" not in html

    TaxRateFactory(merchant=merchant, name="ISS 5", is_active=True)
    with time_machine.travel(NOW, tick=False):
        html = member_client(owner).get(url).content.decode()
    assert "Nenhum imposto ativo para aplicar." not in html
    assert "ISS 5" in html and "ISS antigo" not in html


def test_release_and_cancel_screens(member_client, owner, plans, scheduled):
    client = member_client(owner)
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    release = reverse("subscribers:subscription_schedule_release", args=[scheduled.pk])
    assert client.get(release).status_code == 200
    assert client.post(release).status_code == 302
    schedule.refresh_from_db()
    assert schedule.status == SS.RELEASED
    # Nothing live any more: the pages send back to the subscription with the reason.
    cancel = reverse("subscribers:subscription_schedule_cancel", args=[scheduled.pk])
    assert client.get(cancel).status_code == 302
    second = schedule_create(subscription=scheduled, actor=owner, phases=three_phases(plans), now=NOW)
    response = client.post(cancel, {"origin": "customer", "reason": "Pediu"})
    assert response.status_code == 302
    second.refresh_from_db()
    scheduled.refresh_from_db()
    assert (second.status, scheduled.status, scheduled.cancel_origin) == (SS.CANCELED, S.CANCELED, "customer")


@pytest.mark.parametrize(
    "name", ["subscription_schedule", "subscription_schedule_release", "subscription_schedule_cancel"]
)
def test_read_only_roles_cannot_open_the_schedule_screens(member_client, viewer, scheduled, name):
    response = member_client(viewer).get(reverse(f"subscribers:{name}", args=[scheduled.pk]))
    assert response.status_code == 403


def test_the_card_offers_programar_fases_only_to_roles_that_manage_subscriptions(
    member_client, owner, viewer, scheduled
):
    assert (
        'data-action="schedule-create"'
        in member_client(owner).get(scheduled.get_absolute_url()).content.decode()
    )
    assert 'data-action="schedule-create"' not in (
        member_client(viewer).get(scheduled.get_absolute_url()).content.decode()
    )


def test_the_editor_keeps_ended_phases_and_saves_a_change_to_a_later_one(
    member_client, owner, plans, scheduled
):
    # Phase 1 (ended) is a one-off R$ 500 price, phase 2 (Digital × 2) runs, phase 3 (Básico) is ahead.
    schedule = schedule_create(
        subscription=scheduled,
        actor=owner,
        phases=[
            PhaseSpec(
                price_name="Avulso",
                price_amount=50000,
                price_interval_unit=IntervalUnit.MONTH,
                price_interval_count=1,
                iterations=1,
            ),
            PhaseSpec(plan=plans["digital"], quantity=2, iterations=2),
            PhaseSpec(plan=plans["basic"]),
        ],
        now=NOW,
    )
    schedule_advance(subscription=scheduled, schedule=schedule)
    schedule_advance(subscription=scheduled, schedule=schedule)
    url = reverse("subscribers:subscription_schedule", args=[scheduled.pk])
    data = phase_post(
        [
            {},  # ended: every field disabled, the saved values are used
            {"quantity": "3", "iterations": "2"},  # running: only its limited terms are read
            {"plan": plans["impressa"].pk, "iterations": "1"},
        ]
    )
    data["phases-INITIAL_FORMS"] = "3"
    with time_machine.travel(dt.datetime(2027, 3, 10, tzinfo=SP), tick=False):
        client = member_client(owner)  # signed in "then": a session from today would have expired
        page = client.get(url)
        assert [form.state for form in page.context["formset"].forms] == ["past", "current", "future"]
        response = client.post(url, data)
    assert response.status_code == 302, response.context["formset"].errors
    assert [str(m) for m in response.wsgi_request._messages] == ["Programação salva."]
    phases = list(schedule.phases.order_by("position"))
    assert (phases[0].price_amount, phases[1].quantity, phases[2].plan) == (50000, 3, plans["impressa"])


def test_an_archived_plan_is_refused_for_a_new_phase_but_kept_where_already_planned(owner, plans, scheduled):
    basic = plans["basic"]
    basic.archived_at = NOW
    basic.save(update_fields=["archived_at"])
    phases = three_phases(plans)  # ends on Básico, now archived
    with pytest.raises(ValidationError) as caught:
        schedule_create(subscription=scheduled, actor=owner, phases=phases, now=NOW)
    assert codes(caught.value) == {"phases-2-plan": ["archived_plan"]}

    # Planned before it was archived: the schedule keeps it, and may still be edited.
    basic.archived_at = None
    basic.save(update_fields=["archived_at"])
    schedule = schedule_create(subscription=scheduled, actor=owner, phases=phases, now=NOW)
    basic.archived_at = NOW
    basic.save(update_fields=["archived_at"])
    phases[1] = PhaseSpec(plan=plans["digital"], quantity=3, iterations=2)
    schedule_update(schedule=schedule, actor=owner, phases=phases, end_behavior="release", now=NOW)
    assert schedule.phases.get(position=1).quantity == 3
