"""The subscription and schedule state machines: every move a table (subscribers.choices.TRANSITIONS,
SCHEDULE_TRANSITIONS) does not list is refused by the one check its services call, and every move it lists
is let through.

The services' own tests (test_subscription_lifecycle_matrix.py) drive the actions; this pins the table
itself, pair by pair, so a move added to or dropped from it shows up here."""

import pytest
from django.core.exceptions import ValidationError

from subscribers.choices import SCHEDULE_TRANSITIONS, TRANSITIONS, ScheduleStatus, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionSchedule
from subscribers.services._common import _move
from subscribers.services.schedules import _move_schedule

S = SubscriptionStatus


def pairs(allowed: bool):
    return [(a, b) for a in S for b in S if (b in TRANSITIONS[a]) == allowed]


def test_every_status_has_a_row_and_every_target_is_a_status():
    assert set(TRANSITIONS) == set(S)
    assert set().union(*TRANSITIONS.values()) <= set(S)


def test_the_ended_statuses_lead_nowhere_but_a_refund():
    assert TRANSITIONS[S.CANCELED] == {S.REFUNDED}
    assert not TRANSITIONS[S.EXPIRED]
    assert not TRANSITIONS[S.REFUNDED]


@pytest.mark.parametrize(("from_status", "to_status"), pairs(allowed=False))
def test_a_subscription_refuses_every_move_outside_the_table(from_status, to_status):
    subscription = Subscription(status=from_status)
    with pytest.raises(ValidationError) as refused:
        _move(subscription, to_status)
    assert refused.value.code == "invalid_transition"
    assert refused.value.messages == [
        f"Uma assinatura {S(from_status).label.lower()} não pode passar a {S(to_status).label.lower()}."
    ]
    assert subscription.status == from_status


@pytest.mark.parametrize(("from_status", "to_status"), pairs(allowed=True))
def test_a_subscription_moves_along_the_table(from_status, to_status):
    subscription = Subscription(status=from_status)
    assert _move(subscription, to_status) == from_status
    assert subscription.status == to_status


# --- subscription schedules (Programações) ------------------------------------------------------------
SS = ScheduleStatus


def schedule_pairs(allowed: bool):
    return [(a, b) for a in SS for b in SS if (b in SCHEDULE_TRANSITIONS[a]) == allowed]


def test_every_schedule_status_has_a_row_and_only_live_schedules_move():
    assert set(SCHEDULE_TRANSITIONS) == set(SS)
    assert {status for status, targets in SCHEDULE_TRANSITIONS.items() if targets} == {
        SS.NOT_STARTED,
        SS.ACTIVE,
    }


@pytest.mark.parametrize(("from_status", "to_status"), schedule_pairs(allowed=False))
def test_a_schedule_refuses_every_move_outside_its_table(from_status, to_status):
    schedule = SubscriptionSchedule(status=from_status)
    with pytest.raises(ValidationError) as refused:
        _move_schedule(schedule, to_status)
    assert refused.value.code == "invalid_transition"
    assert refused.value.messages == [
        f"Uma programação {SS(from_status).label.lower()} não pode passar a {SS(to_status).label.lower()}."
    ]
    assert schedule.status == from_status


@pytest.mark.parametrize(("from_status", "to_status"), schedule_pairs(allowed=True))
def test_a_schedule_moves_along_its_table(from_status, to_status):
    schedule = SubscriptionSchedule(status=from_status)
    assert _move_schedule(schedule, to_status) == from_status
    assert schedule.status == to_status


def test_a_pause_comes_from_a_running_cycle_and_leads_back_or_to_the_end():
    assert {status for status in S if S.PAUSED in TRANSITIONS[status]} == {S.ACTIVE, S.PAST_DUE}
    assert TRANSITIONS[S.PAUSED] == {S.ACTIVE, S.CANCELED}
