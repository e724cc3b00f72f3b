"""The subscription state machine: every move the table (subscribers.choices.TRANSITIONS) does not list is
refused by the one check every service calls, and every move it lists is let through.

The services' own tests (test_subscription_lifecycle_matrix.py) drive the actions; this pins the table
itself, pair by pair, so a move added to or dropped from it shows up here."""

import pytest
from django.core.exceptions import ValidationError

from subscribers.choices import TRANSITIONS, SubscriptionStatus
from subscribers.models import Subscription
from subscribers.services._common import _move

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
