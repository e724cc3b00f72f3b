"""Several automation workers at once on PostgreSQL: each event runs each rule once, each run is executed
by one worker. Real threads, real connections, real SKIP LOCKED."""

import pytest

from core.models import Event
from notifications.automations import runner
from notifications.automations.choices import RunStatus
from notifications.automations.models import AutomationRun
from tests.factories import AutomationFactory, EventFactory
from tests.notifications.webhooks.test_dispatch_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
EVENTS = 60


@pytest.fixture
def outbox(merchant):
    rules = [AutomationFactory(merchant=merchant) for _ in range(2)]
    payload = {"id": 1, "cancel_origin": "seller", "plan": {"id": 1}, "amount": 4990, "currency": "BRL"}
    for _ in range(EVENTS):
        EventFactory(merchant=merchant, type="subscription.canceled", payload=payload)
    return rules


def test_concurrent_fan_outs_create_each_run_once(outbox):
    at_once(*[lambda: runner.fan_out_events(batch_size=7) and runner.fan_out_all()] * 4)

    assert not Event.objects.filter(automations_processed_at__isnull=True).exists()
    assert AutomationRun.objects.count() == 2 * EVENTS


def test_concurrent_workers_execute_each_run_once(outbox, monkeypatch):
    runner.fan_out_all()
    executed = []

    def execute(run, *, now=None):
        executed.append(run.pk)
        return runner.RunOutcome(True, 200)

    monkeypatch.setattr(runner, "execute_run", execute)

    at_once(*[lambda: runner.run_due(batch_size=5)] * 4)

    assert sorted(executed) == sorted(AutomationRun.objects.values_list("pk", flat=True))
    assert set(AutomationRun.objects.values_list("status", flat=True)) == {RunStatus.SUCCEEDED}
