"""A schedule attached to a running subscription: its first phase (the current terms) ends when the current
period ends, which need not be a midnight (a subscription contracted today starts now, 14:37 here). The
editor shows that end as a day; saving it unchanged must keep the exact moment, neither refusing an ended
phase as changed nor moving a running phase's end to midnight."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from subscribers.services import subscription_create
from subscribers.services.schedules import PhaseSpec, schedule_advance, schedule_create
from tests.factories import CustomerFactory
from tests.subscribers.test_schedules import SP, phase_post, plans  # noqa: F401

pytestmark = pytest.mark.django_db
# ruff: noqa: F811 — `plans` is test_schedules' fixture

CONTRACTED = dt.datetime(2027, 1, 10, 14, 37, tzinfo=SP)
FIRST_END = dt.datetime(2027, 2, 10, 14, 37, tzinfo=SP)


@pytest.fixture
def attached(merchant, owner, plans):
    with time_machine.travel(CONTRACTED, tick=False):
        subscription = subscription_create(
            merchant=merchant,
            actor=owner,
            customer=CustomerFactory(merchant=merchant),
            plan=plans["impressa"],
            contract_date=CONTRACTED.date(),
            now=CONTRACTED,
        )
        return schedule_create(
            subscription=subscription,
            actor=owner,
            phases=[PhaseSpec(plan=plans["digital"], iterations=2), PhaseSpec(plan=plans["basic"])],
            now=CONTRACTED,
        )


def save_unchanged(client, schedule):
    """Posts the editor with every form as it was shown."""
    url = reverse("subscribers:subscription_schedule", args=[schedule.subscription_id])
    forms = client.get(url).context["formset"].forms
    phases = []
    for form in forms:
        values = {}
        for name in form.fields:
            value = form.initial.get(name)
            if value is None or name == "tax_rates":
                continue
            values[name] = str(value.pk if hasattr(value, "pk") else value)
        phases.append(values)
    data = phase_post(phases, end_behavior=schedule.end_behavior, **{"phases-INITIAL_FORMS": str(len(forms))})
    return client.post(url, data)


def test_saving_the_editor_after_an_attached_first_phase_ended_is_not_refused(member_client, owner, attached):
    with time_machine.travel(dt.datetime(2027, 2, 20, 9, 0, tzinfo=SP), tick=False):
        schedule_advance(subscription=attached.subscription, schedule=attached)
        attached.refresh_from_db()
        assert attached.current_position == 1
        response = save_unchanged(member_client(owner), attached)
    assert response.status_code == 302, response.context and response.context["formset"].errors
    assert attached.phases.get(position=0).end_date == FIRST_END


def test_saving_the_editor_unchanged_keeps_the_running_first_phase_end_to_the_minute(
    member_client, owner, attached
):
    with time_machine.travel(dt.datetime(2027, 1, 20, 9, 0, tzinfo=SP), tick=False):
        response = save_unchanged(member_client(owner), attached)
    assert response.status_code == 302, response.context and response.context["formset"].errors
    first, second = attached.phases.order_by("position")[:2]
    assert first.end_date == FIRST_END and second.start_at == FIRST_END
