"""cancellation_preview and subscription_cancel: now, at period end, on a chosen date, and who asked."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError

from core.models import Event
from subscribers.choices import CancelOrigin, CancelWhen, EventKind
from subscribers.models import Subscription, SubscriptionEvent
from subscribers.services import cancellation_preview, subscription_cancel, subscription_process_due
from tests.factories import UserFactory
from tests.subscribers.subscription_services.common import (
    NOW,
    TODAY,
    S,
    create,
    event_types,
    local,
    moment,
    running,
)


# --- cancellation_preview -----------------------------------------------------------------------------
def test_preview_tells_until_when_the_customer_keeps_access(clock, merchant):
    subscription = running(merchant)

    assert cancellation_preview(subscription=subscription, when=CancelWhen.NOW) == (NOW, local(2027, 3, 31))
    assert cancellation_preview(subscription=subscription, when=CancelWhen.PERIOD_END) == (
        local(2027, 3, 31),
        local(2027, 3, 31),
    )
    assert cancellation_preview(
        subscription=subscription, when=CancelWhen.DATE, at_date=dt.date(2027, 3, 20)
    ) == (local(2027, 3, 20), local(2027, 3, 20))


def test_preview_is_refused_without_a_when(clock, merchant):
    with pytest.raises(ValidationError) as excinfo:
        cancellation_preview(subscription=running(merchant), when="")

    assert excinfo.value.error_dict["when"][0].code == "when_required"


# --- subscription_cancel: now -------------------------------------------------------------------------
def test_cancel_now_of_an_active_subscription_keeps_access_until_the_paid_period_ends(
    clock, merchant, support
):
    subscription = running(merchant)

    subscription_cancel(
        subscription=subscription,
        actor=support,
        origin=CancelOrigin.CUSTOMER,
        when=CancelWhen.NOW,
        reason="  Achou caro.  ",
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.cancel_at == NOW
    assert subscription.ended_at == NOW
    assert subscription.cancel_requested_at == NOW
    assert subscription.access_until == local(2027, 3, 31)
    assert subscription.cancel_when == CancelWhen.NOW
    assert subscription.cancel_origin == CancelOrigin.CUSTOMER
    assert subscription.cancel_reason == "Achou caro."
    assert subscription.canceled_by == support
    event = SubscriptionEvent.objects.get()
    assert (event.kind, event.from_status, event.to_status) == (EventKind.CANCELED, S.ACTIVE, S.CANCELED)
    assert (event.actor, event.origin, event.reason) == (support, CancelOrigin.CUSTOMER, "Achou caro.")
    assert event.created_at == NOW
    assert event_types() == ["subscription.canceled"]
    assert moment(Event.objects.get().payload["access_until"]) == local(2027, 3, 31)


def test_cancel_now_of_a_trialing_subscription_keeps_access_until_the_trial_ends(clock, merchant, owner):
    trial_end = local(2027, 3, 20, 9)
    subscription = running(merchant, status=S.TRIALING, trial_ends_at=trial_end, current_period_end=trial_end)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.NOW
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == trial_end


def test_cancel_now_of_a_past_due_subscription_ends_access_now(clock, merchant, owner):
    subscription = running(merchant, status=S.PAST_DUE)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.NOW
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == NOW


def test_cancel_of_a_scheduled_subscription_ends_it_before_it_starts(clock, merchant, owner, customer, plan):
    subscription = create(merchant, owner, customer, plan, contract_date=dt.date(2027, 4, 1))

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.PERIOD_END
    )

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.access_until == NOW
    assert subscription_process_due(now=local(2027, 4, 2)) == {
        "started": 0,
        "canceled": 0,
        "paused": 0,
        "resumed": 0,
    }


# --- subscription_cancel: at period end ---------------------------------------------------------------
def test_cancel_at_period_end_keeps_the_subscription_active_until_then(clock, merchant, owner):
    subscription = running(merchant)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_at == local(2027, 3, 31)
    assert subscription.access_until == local(2027, 3, 31)
    assert subscription.ended_at is None
    event = SubscriptionEvent.objects.get()
    # Still Ativa: the timeline must not read "Ativa → Cancelada" before the date.
    assert (event.kind, event.from_status, event.to_status) == (
        EventKind.CANCEL_SCHEDULED,
        S.ACTIVE,
        S.ACTIVE,
    )
    assert moment(event.data["cancel_at"]) == local(2027, 3, 31)
    assert moment(event.data["access_until"]) == local(2027, 3, 31)
    assert event_types() == ["subscription.cancel_scheduled"]


def test_cancel_at_period_end_is_carried_out_by_process_due_exactly_once(clock, merchant, owner):
    subscription = running(merchant)
    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )

    assert subscription_process_due(now=local(2027, 3, 30, 23, 59, 59)) == {
        "started": 0,
        "canceled": 0,
        "paused": 0,
        "resumed": 0,
    }
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE

    assert subscription_process_due(now=local(2027, 3, 31)) == {
        "started": 0,
        "canceled": 1,
        "paused": 0,
        "resumed": 0,
    }
    assert subscription_process_due(now=local(2027, 3, 31, 0, 1)) == {
        "started": 0,
        "canceled": 0,
        "paused": 0,
        "resumed": 0,
    }

    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED
    assert subscription.ended_at == local(2027, 3, 31)
    canceled = SubscriptionEvent.objects.get(kind=EventKind.CANCELED)
    assert (canceled.from_status, canceled.actor, canceled.origin) == (S.ACTIVE, owner, CancelOrigin.CUSTOMER)
    assert event_types() == ["subscription.cancel_scheduled", "subscription.canceled"]


def test_cancel_at_period_end_of_a_trial_ends_with_the_trial(clock, merchant, owner):
    trial_end = local(2027, 3, 20, 9)
    subscription = running(merchant, status=S.TRIALING, trial_ends_at=trial_end, current_period_end=trial_end)

    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.PERIOD_END
    )

    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at, subscription.access_until) == (
        S.TRIALING,
        trial_end,
        trial_end,
    )


def test_a_second_cancel_while_one_is_scheduled_is_refused_and_changes_nothing(
    clock, merchant, owner, support
):
    subscription = running(merchant)
    subscription_cancel(
        subscription=subscription, actor=owner, origin=CancelOrigin.CUSTOMER, when=CancelWhen.PERIOD_END
    )
    subscription.refresh_from_db()
    before = (
        subscription.cancel_at,
        subscription.canceled_by,
        subscription.cancel_when,
        subscription.updated_at,
    )

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(
            subscription=subscription, actor=support, origin=CancelOrigin.SELLER, when=CancelWhen.NOW
        )

    assert excinfo.value.code == "cannot_cancel"
    assert excinfo.value.messages == ["O cancelamento desta assinatura já está agendado."]
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert (
        subscription.cancel_at,
        subscription.canceled_by,
        subscription.cancel_when,
        subscription.updated_at,
    ) == before
    assert SubscriptionEvent.objects.count() == 1
    assert Event.objects.count() == 1


# --- subscription_cancel: on a chosen date ------------------------------------------------------------
def test_cancel_on_a_chosen_date_takes_effect_at_that_days_local_midnight(clock, merchant, owner):
    subscription = running(merchant)

    subscription_cancel(
        subscription=subscription,
        actor=owner,
        origin=CancelOrigin.SELLER,
        when=CancelWhen.DATE,
        at_date=dt.date(2027, 3, 16),
    )

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_when == CancelWhen.DATE
    assert subscription.cancel_at == local(2027, 3, 16)
    assert subscription.access_until == local(2027, 3, 16)
    assert subscription_process_due(now=local(2027, 3, 15, 23, 59)) == {
        "started": 0,
        "canceled": 0,
        "paused": 0,
        "resumed": 0,
    }
    assert subscription_process_due(now=local(2027, 3, 16)) == {
        "started": 0,
        "canceled": 1,
        "paused": 0,
        "resumed": 0,
    }
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED


@pytest.mark.parametrize("at_date", [TODAY, TODAY - dt.timedelta(days=1), dt.date(2020, 1, 1)])
def test_cancel_on_a_date_that_is_not_in_the_future_is_refused_and_changes_nothing(
    clock, merchant, owner, at_date
):
    subscription = running(merchant)

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(
            subscription=subscription,
            actor=owner,
            origin=CancelOrigin.SELLER,
            when=CancelWhen.DATE,
            at_date=at_date,
        )

    assert excinfo.value.error_dict["at_date"][0].code == "date_not_future"
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_at, subscription.access_until) == (S.ACTIVE, None, None)
    assert not SubscriptionEvent.objects.exists()
    assert not Event.objects.exists()


def test_cancel_on_a_date_counts_today_in_the_merchants_timezone(merchant, owner):
    # 15/03 22:30 in São Paulo is 16/03 in UTC; 16/03 is still tomorrow for the merchant.
    with time_machine.travel(local(2027, 3, 15, 22, 30), tick=False):
        subscription = subscription_cancel(
            subscription=running(merchant),
            actor=owner,
            origin=CancelOrigin.SELLER,
            when=CancelWhen.DATE,
            at_date=dt.date(2027, 3, 16),
        )

    assert subscription.cancel_at == local(2027, 3, 16)


def test_cancel_on_a_date_without_a_date_is_refused(clock, merchant, owner):
    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(
            subscription=running(merchant), actor=owner, origin=CancelOrigin.SELLER, when=CancelWhen.DATE
        )

    assert excinfo.value.error_dict["at_date"][0].code == "date_required"


# --- subscription_cancel: origin ----------------------------------------------------------------------
@pytest.mark.parametrize("origin", [CancelOrigin.CUSTOMER, CancelOrigin.SELLER])
def test_cancel_records_who_asked_for_it(clock, merchant, support, origin):
    subscription = subscription_cancel(subscription=running(merchant), actor=support, origin=origin)

    assert subscription.cancel_origin == origin
    assert SubscriptionEvent.objects.get().origin == origin
    assert Event.objects.get().payload["cancel_origin"] == origin


@pytest.mark.parametrize("origin", [CancelOrigin.CUSTOMER, CancelOrigin.SELLER, CancelOrigin.ADMIN])
def test_cancel_by_platform_staff_is_always_recorded_as_admin(clock, merchant, origin):
    staff = UserFactory(username="equipe-plataforma", is_staff=True)

    subscription = subscription_cancel(subscription=running(merchant), actor=staff, origin=origin)

    assert subscription.cancel_origin == CancelOrigin.ADMIN
    assert subscription.canceled_by == staff
    assert SubscriptionEvent.objects.get().origin == CancelOrigin.ADMIN


@pytest.mark.parametrize("origin", ["", CancelOrigin.ADMIN, "robot"])
def test_cancel_by_a_merchant_member_needs_customer_or_seller_as_origin(clock, merchant, owner, origin):
    subscription = running(merchant)

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(subscription=subscription, actor=owner, origin=origin)

    assert excinfo.value.error_dict["origin"][0].code == "origin_required"
    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert not SubscriptionEvent.objects.exists()


def test_a_subscription_can_only_be_acted_on_by_the_current_state_in_the_database(clock, merchant, owner):
    # The caller holds a stale copy that still says "active"; the service re-reads the row under lock.
    subscription = running(merchant)
    stale = Subscription.objects.get(pk=subscription.pk)
    subscription_cancel(subscription=subscription, actor=owner, origin=CancelOrigin.SELLER)

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel(subscription=stale, actor=owner, origin=CancelOrigin.SELLER)

    assert excinfo.value.code == "cannot_cancel"
    assert SubscriptionEvent.objects.filter(kind=EventKind.CANCELED).count() == 1
