"""Large merchants read a stored snapshot, refreshed by a django-q2 schedule; small ones stay live."""

import datetime as dt

from django.utils import timezone

from core.management.commands.setup_schedules import declared_schedules
from dashboard import services, tasks
from dashboard.metrics import build_dashboard
from dashboard.models import MetricFact, MetricsSnapshot
from dashboard.periods import Preset, preset_period
from tests.factories import SubscriptionFactory


def test_the_refresh_is_scheduled_every_fifteen_minutes():
    assert dict(declared_schedules())["dashboard: refresh large merchants' metrics"] == (
        "dashboard.tasks.refresh_snapshots",
        15,
        "notifications",
    )


def test_merchants_at_the_limit_get_a_snapshot_and_smaller_ones_lose_theirs(merchant, other_merchant):
    SubscriptionFactory.create_batch(3, merchant=merchant)
    SubscriptionFactory(merchant=other_merchant)
    services.snapshot_refresh(merchant=other_merchant)

    outcome = services.snapshots_refresh(limit=3)

    assert outcome == {"refreshed": 1, "dropped": 1}
    assert MetricsSnapshot.objects.get().merchant == merchant
    assert not MetricFact.objects.filter(merchant=other_merchant).exists()


def test_the_task_calls_the_service(merchant, monkeypatch):
    calls = []
    monkeypatch.setattr(services, "snapshots_refresh", lambda: calls.append(True) or {"refreshed": 0})
    assert tasks.refresh_snapshots() == {"refreshed": 0}
    assert calls == [True]


def test_a_refresh_replaces_the_facts_and_the_page_shows_the_snapshot_until_the_next_one(merchant):
    today = merchant.localdate()
    period = preset_period(Preset.THIS_MONTH, today=today)
    SubscriptionFactory(merchant=merchant, contract_date=today)
    first = services.snapshot_refresh(merchant=merchant)
    facts = MetricFact.objects.filter(merchant=merchant).count()

    SubscriptionFactory(merchant=merchant, contract_date=today)  # after the snapshot: unseen until the next
    assert build_dashboard(merchant=merchant, period=period, today=today).active == 1

    later = timezone.now() + dt.timedelta(minutes=15)
    second = services.snapshot_refresh(merchant=merchant, now=later)
    assert second.pk == first.pk and second.taken_at == later
    assert MetricFact.objects.filter(merchant=merchant).count() == facts  # replaced, not appended to
    dashboard = build_dashboard(merchant=merchant, period=period, today=today)
    assert dashboard.active == 2 and dashboard.new.current == 2
