"""subscription_process_due: scheduled contracts start on their date, scheduled cancellations end on
theirs; every run is idempotent, and two workers running at once never act twice (PostgreSQL)."""

import datetime as dt
import threading
import zoneinfo

import pytest
import time_machine
from django.db import connection, connections

from core.models import Event
from subscribers.choices import CancelOrigin, CancelWhen, EventKind, PaymentMethod, SubscriptionStatus
from subscribers.models import Subscription, SubscriptionEvent
from subscribers.services import subscription_cancel, subscription_create, subscription_process_due
from subscribers.tasks import process_due_subscriptions
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory

S = SubscriptionStatus
SAO_PAULO = zoneinfo.ZoneInfo("America/Sao_Paulo")
TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
NOTHING = {"started": 0, "canceled": 0, "paused": 0, "resumed": 0}


def local(*args, tz=SAO_PAULO):
    return dt.datetime(*args, tzinfo=tz)


def schedule(merchant, owner, contract_date, *, created_at, plan=None, **extra):
    """Contracts through the service (as the screen does) at `created_at`, for a future `contract_date`."""
    plan = plan or PlanFactory(merchant=merchant, price=4990)
    customer = CustomerFactory(merchant=merchant)
    with time_machine.travel(created_at, tick=False):
        return subscription_create(
            merchant=merchant, actor=owner, customer=customer, plan=plan, contract_date=contract_date, **extra
        )


def kinds(subscription):
    return sorted(subscription.events.values_list("kind", flat=True))


# --- starts -------------------------------------------------------------------------------------------
def test_a_scheduled_contract_does_not_start_before_its_date(merchant, owner):
    subscription = schedule(merchant, owner, dt.date(2027, 4, 1), created_at=local(2027, 3, 15, 10))

    assert subscription_process_due(now=local(2027, 3, 31, 23, 59, 59)) == NOTHING

    subscription.refresh_from_db()
    assert subscription.status == S.SCHEDULED
    assert kinds(subscription) == [EventKind.CREATED]


def test_a_scheduled_contract_starts_at_local_midnight_of_its_date(merchant, owner):
    subscription = schedule(merchant, owner, dt.date(2027, 4, 1), created_at=local(2027, 3, 15, 10))

    assert subscription_process_due(now=local(2027, 4, 1)) == {
        "started": 1,
        "canceled": 0,
        "paused": 0,
        "resumed": 0,
    }

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.started_at == local(2027, 4, 1)
    assert subscription.current_period_start == local(2027, 4, 1)
    assert subscription.current_period_end == local(2027, 5, 1)
    event = subscription.events.get(kind=EventKind.STARTED)
    assert (event.from_status, event.to_status, event.actor) == (S.SCHEDULED, S.ACTIVE, None)
    assert sorted(Event.objects.values_list("type", flat=True)) == [
        "subscription.access_granted",
        "subscription.created",
        "subscription.started",
    ]


def test_starting_is_idempotent(merchant, owner):
    subscription = schedule(merchant, owner, dt.date(2027, 4, 1), created_at=local(2027, 3, 15, 10))

    subscription_process_due(now=local(2027, 4, 1, 0, 1))
    events_after_first_run = Event.objects.count()
    assert subscription_process_due(now=local(2027, 4, 1, 0, 2)) == NOTHING
    assert subscription_process_due(now=local(2027, 4, 9)) == NOTHING

    assert kinds(subscription) == [EventKind.CREATED, EventKind.STARTED]
    assert Event.objects.count() == events_after_first_run


def test_a_late_run_starts_the_contract_in_the_period_of_now(merchant, owner):
    subscription = schedule(merchant, owner, dt.date(2027, 1, 31), created_at=local(2027, 1, 10))

    subscription_process_due(now=local(2027, 3, 5, 8))

    subscription.refresh_from_db()
    assert subscription.billing_cycle_anchor == local(2027, 1, 31)
    assert (subscription.current_period_start, subscription.current_period_end) == (
        local(2027, 2, 28),
        local(2027, 3, 31),
    )


@pytest.mark.parametrize(
    ("payment_method", "status"), [(PaymentMethod.BOLETO, S.PENDING), (PaymentMethod.PIX, S.PENDING)]
)
def test_a_scheduled_boleto_or_pix_contract_starts_as_pending(merchant, owner, payment_method, status):
    subscription = schedule(
        merchant, owner, dt.date(2027, 4, 1), created_at=local(2027, 3, 15), payment_method=payment_method
    )

    subscription_process_due(now=local(2027, 4, 1))

    subscription.refresh_from_db()
    assert subscription.status == status
    assert not Event.objects.filter(type="subscription.access_granted").exists()


def test_a_scheduled_contract_with_a_trial_starts_trialing(merchant, owner):
    plan = PlanFactory(merchant=merchant, trial_days=14)
    subscription = schedule(merchant, owner, dt.date(2027, 4, 1), created_at=local(2027, 3, 15), plan=plan)

    subscription_process_due(now=local(2027, 4, 1, 0, 0, 30))

    subscription.refresh_from_db()
    assert subscription.status == S.TRIALING
    assert subscription.trial_ends_at == local(2027, 4, 15)
    assert subscription.billing_cycle_anchor == local(2027, 4, 15)
    assert subscription.current_period_end == local(2027, 4, 15)


def test_a_scheduled_contract_in_tokyo_clamps_its_first_period_in_tokyo(merchant, owner):
    merchant.timezone = "Asia/Tokyo"
    merchant.save()
    subscription = schedule(merchant, owner, dt.date(2027, 1, 31), created_at=local(2027, 1, 10, tz=TOKYO))

    subscription_process_due(now=local(2027, 1, 31, tz=TOKYO))

    subscription.refresh_from_db()
    assert subscription.current_period_start == local(2027, 1, 31, tz=TOKYO)
    assert subscription.current_period_end == local(2027, 2, 28, tz=TOKYO)


def test_a_scheduled_contract_canceled_for_a_later_date_starts_and_then_ends(merchant, owner):
    subscription = schedule(merchant, owner, dt.date(2027, 4, 1), created_at=local(2027, 3, 15))
    with time_machine.travel(local(2027, 3, 16), tick=False):
        subscription_cancel(
            subscription=subscription,
            actor=owner,
            origin=CancelOrigin.CUSTOMER,
            when=CancelWhen.DATE,
            at_date=dt.date(2027, 4, 10),
        )

    assert subscription_process_due(now=local(2027, 4, 1)) == {
        "started": 1,
        "canceled": 0,
        "paused": 0,
        "resumed": 0,
    }
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE

    assert subscription_process_due(now=local(2027, 4, 10)) == {
        "started": 0,
        "canceled": 1,
        "paused": 0,
        "resumed": 0,
    }
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert kinds(subscription) == sorted(
        [EventKind.CREATED, EventKind.CANCEL_SCHEDULED, EventKind.STARTED, EventKind.CANCELED]
    )


def test_a_scheduled_contract_canceled_before_its_date_never_starts(merchant, owner):
    subscription = schedule(merchant, owner, dt.date(2027, 4, 10), created_at=local(2027, 3, 15))
    with time_machine.travel(local(2027, 3, 16), tick=False):
        subscription_cancel(
            subscription=subscription,
            actor=owner,
            origin=CancelOrigin.SELLER,
            when=CancelWhen.DATE,
            at_date=dt.date(2027, 4, 1),
        )

    assert subscription_process_due(now=local(2027, 4, 1)) == {
        "started": 0,
        "canceled": 1,
        "paused": 0,
        "resumed": 0,
    }
    assert subscription_process_due(now=local(2027, 4, 10)) == NOTHING

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.started_at is None
    assert EventKind.STARTED not in kinds(subscription)


# --- scheduled cancellations --------------------------------------------------------------------------
def cancel_at_period_end(merchant, owner, period_end):
    subscription = SubscriptionFactory(
        merchant=merchant,
        contract_date=dt.date(2027, 3, 1),
        billing_cycle_anchor=local(2027, 3, 1),
        current_period_start=local(2027, 3, 1),
        current_period_end=period_end,
    )
    with time_machine.travel(local(2027, 3, 15), tick=False):
        subscription_cancel(
            subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
        )
    return subscription


def test_a_cancellation_at_period_end_is_carried_out_once_at_that_moment(merchant, owner):
    subscription = cancel_at_period_end(merchant, owner, local(2027, 4, 1))

    assert subscription_process_due(now=local(2027, 3, 31, 23, 59)) == NOTHING
    assert subscription_process_due(now=local(2027, 4, 1)) == {
        "started": 0,
        "canceled": 1,
        "paused": 0,
        "resumed": 0,
    }
    assert subscription_process_due(now=local(2027, 4, 1)) == NOTHING
    assert subscription_process_due(now=local(2027, 5, 1)) == NOTHING

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.events.filter(kind=EventKind.CANCELED).count() == 1
    assert Event.objects.filter(type="subscription.canceled").count() == 1


def test_a_late_run_records_the_end_at_the_effective_moment(merchant, owner):
    subscription = cancel_at_period_end(merchant, owner, local(2027, 4, 1))

    subscription_process_due(now=local(2027, 4, 3, 9))

    subscription.refresh_from_db()
    assert subscription.ended_at == local(2027, 4, 1)
    assert subscription.events.get(kind=EventKind.CANCELED).created_at == local(2027, 4, 3, 9)


def test_the_limit_bounds_one_run_and_the_next_run_picks_up_the_rest(merchant, owner):
    for day in range(1, 6):
        cancel_at_period_end(merchant, owner, local(2027, 3, 31) + dt.timedelta(hours=day))

    assert subscription_process_due(now=local(2027, 4, 2), limit=3) == {
        "started": 0,
        "canceled": 3,
        "paused": 0,
        "resumed": 0,
    }
    assert subscription_process_due(now=local(2027, 4, 2), limit=3) == {
        "started": 0,
        "canceled": 2,
        "paused": 0,
        "resumed": 0,
    }
    assert subscription_process_due(now=local(2027, 4, 2), limit=3) == NOTHING
    assert Subscription.objects.filter(status=S.CANCELED).count() == 5


def test_the_task_calls_the_service_with_the_current_time(merchant, owner):
    subscription = cancel_at_period_end(merchant, owner, local(2027, 4, 1))

    with time_machine.travel(local(2027, 4, 1, 0, 0, 30), tick=False):
        assert process_due_subscriptions() == {"started": 0, "canceled": 1, "paused": 0, "resumed": 0}

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED


# --- two workers at once (PostgreSQL) -----------------------------------------------------------------
WORKERS = 2
SUBSCRIPTIONS = 40


def run_workers_at_once(now):
    barrier = threading.Barrier(WORKERS)
    results, errors = [], []

    def worker():
        try:
            barrier.wait(timeout=30)
            results.append(subscription_process_due(now=now))
        except Exception as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(results) == WORKERS
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_cancel_each_due_subscription_exactly_once(merchant, owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED and real concurrent connections")
    subscriptions = [cancel_at_period_end(merchant, owner, local(2027, 4, 1)) for _ in range(SUBSCRIPTIONS)]

    results = run_workers_at_once(local(2027, 4, 1, 0, 0, 30))

    assert sum(result["canceled"] for result in results) == SUBSCRIPTIONS
    for subscription in subscriptions:
        subscription.refresh_from_db()
        assert subscription.status == S.CANCELED
        assert (
            SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.CANCELED).count() == 1
        )
        assert Event.objects.filter(type="subscription.canceled", payload__id=subscription.pk).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_start_each_scheduled_contract_exactly_once(merchant, owner):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SELECT … FOR UPDATE SKIP LOCKED and real concurrent connections")
    plan = PlanFactory(merchant=merchant)
    subscriptions = [
        schedule(merchant, owner, dt.date(2027, 4, 1), created_at=local(2027, 3, 15), plan=plan)
        for _ in range(SUBSCRIPTIONS)
    ]

    results = run_workers_at_once(local(2027, 4, 1, 0, 0, 30))

    assert sum(result["started"] for result in results) == SUBSCRIPTIONS
    for subscription in subscriptions:
        assert (
            SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.STARTED).count() == 1
        )
        assert Event.objects.filter(type="subscription.started", payload__id=subscription.pk).count() == 1
