"""The subscription page's Linha do tempo: a line names a status change only when the status changed."""

import pytest

from subscribers.choices import SubscriptionStatus
from subscribers.services.schedules import PhaseSpec, schedule_create
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_a_schedule_on_a_running_subscription_shows_its_status_once_not_as_a_change(
    member_client, owner, merchant
):
    # Given a subscription in trial that gets a schedule (the status stays Em teste)
    subscription = SubscriptionFactory(merchant=merchant, status=SubscriptionStatus.TRIALING)
    impressa = PlanFactory(merchant=merchant, name="Impressa", price=8990)
    schedule_create(
        subscription=subscription,
        actor=owner,
        phases=[PhaseSpec(plan=impressa, iterations=1), PhaseSpec(plan=impressa, quantity=2)],
    )

    # When the owner opens its page
    page = member_client(owner).get(subscription.get_absolute_url()).content.decode()

    # Then the schedule's line says the status, without an arrow from a status to itself
    assert "Programação criada com 3 fases." in page
    assert "Em teste → Em teste" not in page
    assert "Status: Em teste" in page
