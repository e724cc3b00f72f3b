"""Churn on the Painel: cancelled among those at risk during the period (running at its start, contracted in
it, and any other deactivated in it), so it never passes 100 %. Edge cases on a merchant of its own."""

import datetime as dt
from decimal import Decimal

import pytest

from dashboard import services
from dashboard.metrics import build_dashboard
from dashboard.periods import Preset, preset_period
from subscribers.choices import SubscriptionStatus
from tests.dashboard.conftest import _subscription, local
from tests.factories import PlanFactory

S = SubscriptionStatus
TODAY = dt.date(2026, 3, 15)  # "este mês": 01/03–15/03/2026, compared with 01/02–15/02/2026

pytestmark = pytest.mark.usefixtures("frozen_clock")


def this_month(merchant):
    return build_dashboard(
        merchant=merchant, period=preset_period(Preset.THIS_MONTH, today=TODAY), today=TODAY
    )


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Mensal", price=10000)


def running(merchant, plan, count):
    return [_subscription(merchant, plan, contract=dt.date(2025, 12, 1)) for _ in range(count)]


def contracted_and_cancelled_this_month(merchant, plan, count):
    return [
        _subscription(
            merchant, plan, contract=dt.date(2026, 3, 2), status=S.CANCELED, ended=local(2026, 3, 9, 10, 0)
        )
        for _ in range(count)
    ]


def test_new_subscriptions_cancelled_in_the_period_count_among_those_at_risk(merchant, plan):
    # The report's case: 17 contracted and cancelled this month, 5 running at its start: not 340 %.
    running(merchant, plan, 5)
    contracted_and_cancelled_this_month(merchant, plan, 17)

    dashboard = this_month(merchant)

    assert dashboard.running_at_start.current == 5
    assert dashboard.churn_at_risk.current == 22
    assert dashboard.deactivated.current == 17
    assert dashboard.churn.current == Decimal("77.27")


def test_none_running_at_the_start_and_all_new_cancelled_is_100_percent(merchant, plan):
    contracted_and_cancelled_this_month(merchant, plan, 3)

    dashboard = this_month(merchant)

    assert dashboard.running_at_start.current == 0
    assert dashboard.churn.current == Decimal("100.00")


def test_nothing_at_risk_shows_no_rate(owner_client, merchant, plan):
    # Only a subscription that ended before the period: nothing could be cancelled in it.
    _subscription(
        merchant, plan, contract=dt.date(2025, 6, 1), status=S.CANCELED, ended=local(2025, 12, 1, 9)
    )

    dashboard = this_month(merchant)

    assert dashboard.churn_at_risk.current == 0
    assert dashboard.churn.current is None
    assert "0 de 0 em risco" in owner_client.get("/?period=this_month").content.decode()


def test_a_trial_and_a_scheduled_contract_from_before_cancelled_in_the_period_are_at_risk(merchant, plan):
    # Neither was running at the start (never paid) nor contracted in the period.
    _subscription(
        merchant,
        plan,
        contract=dt.date(2026, 2, 20),
        status=S.CANCELED,
        trial_ends_at=local(2026, 3, 6, 9, 0),
        ended=local(2026, 3, 3, 9, 0),
    )
    _subscription(
        merchant, plan, contract=dt.date(2026, 4, 10), status=S.CANCELED, ended=local(2026, 3, 4, 9, 0)
    )
    running(merchant, plan, 1)

    dashboard = this_month(merchant)

    assert dashboard.deactivated.current == 2
    assert dashboard.churn_at_risk.current == 3
    assert dashboard.churn.current == Decimal("66.67")


def test_the_stored_snapshot_gives_the_same_churn(merchant, plan):
    running(merchant, plan, 5)
    contracted_and_cancelled_this_month(merchant, plan, 17)
    live = this_month(merchant)

    services.snapshot_refresh(merchant=merchant)
    stored = this_month(merchant)

    assert (stored.churn_at_risk, stored.churn) == (live.churn_at_risk, live.churn)
