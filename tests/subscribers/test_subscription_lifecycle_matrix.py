"""Every lifecycle action against every status, driven by the one table in subscribers.choices.

The parametrized tests prove the services obey ALLOWED_ACTIONS (allowed → done; refused → the right
code and not a single row touched). The hard-coded tests pin the table to the product's status rules, so
the table cannot drift silently with the services following it.
"""

import datetime as dt

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.models import Event
from subscribers.choices import (
    ALLOWED_ACTIONS,
    CancelOrigin,
    CancelWhen,
    EventKind,
    PaymentMethod,
    SubscriptionAction,
    SubscriptionStatus,
)
from subscribers.models import Subscription, SubscriptionEvent, SubscriptionTombstone
from subscribers.services import (
    subscription_cancel,
    subscription_delete,
    subscription_pause,
    subscription_readd,
    subscription_remove,
    subscription_resume,
    subscription_update,
)
from tests.factories import SubscriptionFactory

S = SubscriptionStatus
A = SubscriptionAction
ALL_STATUSES = list(S)


def subscription_in(status, merchant, **fields):
    """A subscription whose fields look like the ones the services leave behind in `status`."""
    now = timezone.now()
    today = timezone.localdate()
    values = {"merchant": merchant, "status": status, "contract_date": today}
    if status == S.SCHEDULED:
        start = today + dt.timedelta(days=10)
        values.update(
            contract_date=start,
            billing_cycle_anchor=timezone.make_aware(dt.datetime.combine(start, dt.time.min)),
            started_at=None,
            current_period_start=None,
            current_period_end=None,
        )
    elif status == S.TRIALING:
        values.update(trial_ends_at=now + dt.timedelta(days=7), current_period_end=now + dt.timedelta(days=7))
    elif status == S.PAUSED:
        values.update(paused_at=now - dt.timedelta(days=1), access_until=now + dt.timedelta(days=20))
    elif status in (S.CANCELED, S.EXPIRED, S.REFUNDED):
        values.update(
            cancel_at=now - dt.timedelta(hours=1),
            cancel_when=CancelWhen.NOW,
            cancel_origin=CancelOrigin.SELLER,
            ended_at=now - dt.timedelta(hours=1),
            access_until=now - dt.timedelta(hours=1),
        )
    values.update(fields)
    return SubscriptionFactory(**values)


def row_state(subscription):
    """Every stored column of the subscription, to prove a refused action touched nothing."""
    row = Subscription.objects.get(pk=subscription.pk)
    return {field.attname: getattr(row, field.attname) for field in Subscription._meta.concrete_fields}


def counts():
    return SubscriptionEvent.objects.count(), Event.objects.count(), SubscriptionTombstone.objects.count()


# --- the services, called the way a screen calls them -------------------------------------------------
def do_cancel(subscription, actor):
    return subscription_cancel(
        subscription=subscription, actor=actor, origin=CancelOrigin.CUSTOMER, when=CancelWhen.NOW
    )


def do_remove(subscription, actor):
    return subscription_remove(subscription=subscription, actor=actor, reason="Chargeback")


def do_readd(subscription, actor):
    return subscription_readd(subscription=subscription, actor=actor)


def do_edit(subscription, actor):
    return subscription_update(
        subscription=subscription,
        actor=actor,
        plan=subscription.plan,
        quantity=subscription.quantity + 1,
        payment_method=subscription.payment_method,
    )


def do_pause(subscription, actor):
    return subscription_pause(subscription=subscription, actor=actor)


def do_resume(subscription, actor):
    return subscription_resume(subscription=subscription, actor=actor)


def do_delete(subscription, actor):
    return subscription_delete(subscription=subscription, actor=actor)


SERVICES = {
    A.CANCEL: (do_cancel, "cannot_cancel"),
    A.REMOVE: (do_remove, "cannot_remove"),
    A.READD: (do_readd, "cannot_readd"),
    A.EDIT: (do_edit, "cannot_edit"),
    A.PAUSE: (do_pause, "cannot_pause"),
    A.RESUME: (do_resume, "cannot_resume"),
}


def assert_done(action, subscription, before):
    if action in (A.CANCEL, A.REMOVE):
        subscription.refresh_from_db()
        assert subscription.status == S.CANCELED
        kind = EventKind.CANCELED if action == A.CANCEL else EventKind.REMOVED
        assert subscription.events.get().kind == kind
        assert Event.objects.filter(type="subscription.canceled").count() == 1
    elif action == A.READD:
        assert subscription.events.get().kind == EventKind.READDED
        assert Event.objects.filter(type="subscription.access_granted").count() == 1
    elif action == A.EDIT:
        subscription.refresh_from_db()
        assert subscription.quantity == before["quantity"] + 1
        assert subscription.status == before["status"]
        assert subscription.events.get().kind == EventKind.EDITED
        assert Event.objects.filter(type="subscription.updated").count() == 1
    elif action in (A.PAUSE, A.RESUME):
        subscription.refresh_from_db()
        assert subscription.status == (S.PAUSED if action == A.PAUSE else S.ACTIVE)
        kind = EventKind.PAUSED if action == A.PAUSE else EventKind.RESUMED
        assert subscription.events.get().kind == kind
        event_type = "subscription.paused" if action == A.PAUSE else "subscription.resumed"
        assert Event.objects.filter(type=event_type).count() == 1


ACTION_STATUS = [
    pytest.param(action, status, status in ALLOWED_ACTIONS[action], id=f"{action}-{status}")
    for action in SERVICES
    for status in ALL_STATUSES
]


@pytest.mark.parametrize(("action", "status", "allowed"), ACTION_STATUS)
def test_each_action_in_each_status_follows_the_action_table(
    merchant, owner, django_capture_on_commit_callbacks, action, status, allowed
):
    subscription = subscription_in(status, merchant)
    service, code = SERVICES[action]
    assert subscription.can(action) is allowed
    before, before_counts = row_state(subscription), counts()

    if allowed:
        with django_capture_on_commit_callbacks(execute=True):
            service(subscription, owner)

        assert_done(action, subscription, before)
    else:
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(ValidationError) as excinfo,
        ):
            service(subscription, owner)

        assert excinfo.value.code == code
        assert row_state(subscription) == before
        assert counts() == before_counts
        assert callbacks == []
        assert mail.outbox == []


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_delete_is_allowed_in_every_status_within_the_first_month(merchant, owner, status):
    subscription = subscription_in(status, merchant)
    pk = subscription.pk

    tombstone = subscription_delete(subscription=subscription, actor=owner)

    assert not Subscription.objects.filter(pk=pk).exists()
    assert tombstone.subscription_pk == pk
    assert tombstone.snapshot["status"] == status


@pytest.mark.parametrize("status", ALL_STATUSES)
def test_delete_is_refused_in_every_status_after_the_first_month_and_changes_nothing(merchant, owner, status):
    contract = timezone.localdate() - dt.timedelta(days=40)
    subscription = subscription_in(status, merchant, contract_date=contract)
    before, before_counts = row_state(subscription), counts()

    with pytest.raises(ValidationError) as excinfo:
        subscription_delete(subscription=subscription, actor=owner)

    assert excinfo.value.code == "delete_window_closed"
    assert row_state(subscription) == before
    assert counts() == before_counts


@pytest.mark.parametrize("payment_method", list(PaymentMethod))
@pytest.mark.parametrize("status", ALL_STATUSES)
def test_refund_permission_follows_the_action_table_and_excludes_boleto(merchant, status, payment_method):
    subscription = subscription_in(status, merchant, payment_method=payment_method)

    expected = status in ALLOWED_ACTIONS[A.REFUND] and payment_method != PaymentMethod.BOLETO
    assert subscription.can(A.REFUND) is expected


# --- the table itself, pinned to the product rules -------------------------------------------------
DESIGN_TABLE = {
    # action: statuses marked "yes" in the product's table of allowed actions by status.
    # Pausada (pause/resume issue): cancel and edit allowed while paused; paused from active or past due.
    A.CANCEL: {S.SCHEDULED, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PAUSED},
    A.REFUND: {S.CANCELED},
    A.EDIT: {S.SCHEDULED, S.PENDING, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PAUSED},
    A.PAUSE: {S.ACTIVE, S.PAST_DUE},
    A.RESUME: {S.PAUSED},
    A.DELETE: set(S),
}


@pytest.mark.parametrize("action", list(DESIGN_TABLE))
def test_action_table_matches_the_design_document(action):
    assert set(ALLOWED_ACTIONS[action]) == DESIGN_TABLE[action]


def test_every_action_has_a_row_in_the_table():
    assert set(ALLOWED_ACTIONS) == set(A)


@pytest.mark.parametrize("status", [S.PENDING, S.CANCELED, S.EXPIRED, S.REFUNDED])
def test_cancel_is_refused_for_pending_and_ended_subscriptions(merchant, owner, status):
    subscription = subscription_in(status, merchant)

    with pytest.raises(ValidationError) as excinfo:
        do_cancel(subscription, owner)

    assert excinfo.value.code == "cannot_cancel"
    subscription.refresh_from_db()
    assert subscription.status == status


def test_cancel_is_refused_for_expired_subscription(merchant, owner):
    subscription = subscription_in(S.EXPIRED, merchant)

    with pytest.raises(ValidationError) as excinfo:
        do_cancel(subscription, owner)

    assert excinfo.value.messages == ["Uma assinatura expirada não pode ser cancelada."]


def test_cancel_of_a_canceled_subscription_says_it_cannot_be_canceled_not_that_it_is_scheduled(
    merchant, owner
):
    subscription = subscription_in(S.CANCELED, merchant)

    with pytest.raises(ValidationError) as excinfo:
        do_cancel(subscription, owner)

    assert excinfo.value.messages == ["Uma assinatura cancelada não pode ser cancelada."]


@pytest.mark.parametrize("status", [S.SCHEDULED, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PAUSED])
def test_cancel_is_allowed_for_running_and_scheduled_subscriptions(merchant, owner, status):
    subscription = do_cancel(subscription_in(status, merchant), owner)

    assert subscription.status == S.CANCELED


@pytest.mark.parametrize("status", [S.CANCELED, S.EXPIRED, S.REFUNDED])
def test_edit_is_refused_for_ended_subscriptions(merchant, owner, status):
    subscription = subscription_in(status, merchant)

    with pytest.raises(ValidationError) as excinfo:
        do_edit(subscription, owner)

    assert excinfo.value.code == "cannot_edit"
    subscription.refresh_from_db()
    assert subscription.quantity == 1


@pytest.mark.parametrize("status", [S.SCHEDULED, S.PENDING, S.TRIALING, S.ACTIVE, S.PAST_DUE])
def test_edit_is_allowed_until_the_subscription_ends(merchant, owner, status):
    subscription = do_edit(subscription_in(status, merchant), owner)

    assert subscription.quantity == 2


def test_refund_is_allowed_only_for_a_canceled_card_or_pix_subscription(merchant):
    assert subscription_in(S.CANCELED, merchant, payment_method=PaymentMethod.CARD).can(A.REFUND)
    assert subscription_in(S.CANCELED, merchant, payment_method=PaymentMethod.PIX).can(A.REFUND)
    assert not subscription_in(S.CANCELED, merchant, payment_method=PaymentMethod.BOLETO).can(A.REFUND)
    assert not subscription_in(S.ACTIVE, merchant).can(A.REFUND)
    assert not subscription_in(S.REFUNDED, merchant).can(A.REFUND)
    assert not subscription_in(S.EXPIRED, merchant).can(A.REFUND)


def test_readd_is_refused_while_a_cancellation_is_scheduled(merchant, owner):
    subscription = subscription_in(S.ACTIVE, merchant, cancel_at=timezone.now() + dt.timedelta(days=3))

    with pytest.raises(ValidationError) as excinfo:
        do_readd(subscription, owner)

    assert excinfo.value.code == "cannot_readd"
    assert not SubscriptionEvent.objects.exists()
