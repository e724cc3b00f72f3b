"""Desfazer cancelamento: a cancellation scheduled for later is taken back until its date; the timeline,
the outbox, the page, Assinantes and its export show it."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.services.billing_run import process_subscription
from core.models import Event
from subscribers.choices import CancelOrigin, CancelWhen, EventKind, SubscriptionAction
from subscribers.models import SubscriptionEvent
from subscribers.services import subscription_cancel, subscription_cancel_revert, subscription_process_due
from tests.subscribers.subscription_services.common import NOW, S, event_types, local, running


def _schedule(subscription, actor, **options):
    options.setdefault("when", CancelWhen.PERIOD_END)
    return subscription_cancel(
        subscription=subscription, actor=actor, origin=CancelOrigin.CUSTOMER, **options
    )


def test_undo_clears_the_scheduled_cancellation_and_records_it(clock, merchant, owner):
    subscription = _schedule(running(merchant), owner, reason="Achou caro")
    assert subscription.can(SubscriptionAction.REVERT_CANCEL)

    subscription = subscription_cancel_revert(subscription=subscription, actor=owner)

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert (subscription.cancel_at, subscription.cancel_origin, subscription.access_until) == (None, "", None)
    assert subscription.can(SubscriptionAction.CANCEL)
    assert not subscription.can(SubscriptionAction.REVERT_CANCEL)
    event = SubscriptionEvent.objects.get(kind=EventKind.CANCEL_REVERTED)
    assert (event.actor, event.from_status, event.to_status) == (owner, S.ACTIVE, S.ACTIVE)
    assert dt.datetime.fromisoformat(event.data["cancel_at"]) == local(2027, 3, 31)
    assert event_types() == ["subscription.cancel_reverted", "subscription.cancel_scheduled"]
    payload = Event.objects.get(type="subscription.cancel_reverted").payload
    assert payload["cancel_at"] is None
    assert dt.datetime.fromisoformat(payload["reverted_cancel_at"]) == local(2027, 3, 31)


def test_after_the_undo_the_subscription_renews_instead_of_ending(clock, merchant, owner):
    subscription = _schedule(running(merchant, next_invoice_at=local(2027, 3, 31)), owner)
    subscription_cancel_revert(subscription=subscription, actor=owner)

    clock.move_to(local(2027, 3, 31, 0, 1))
    assert subscription_process_due() == {"started": 0, "canceled": 0, "paused": 0, "resumed": 0}
    process_subscription(subscription_id=subscription.pk)

    subscription.refresh_from_db()
    assert subscription.status == S.ACTIVE
    assert subscription.current_period_end == local(2027, 4, 30)
    assert subscription.invoices.count() == 1


def test_undo_is_refused_without_a_scheduled_cancellation(clock, merchant, owner):
    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel_revert(subscription=running(merchant), actor=owner)

    assert excinfo.value.code == "cannot_revert_cancel"


def test_undo_is_refused_once_the_cancellation_took_effect(clock, merchant, owner):
    subscription = _schedule(running(merchant), owner, when=CancelWhen.DATE, at_date=dt.date(2027, 3, 20))
    clock.move_to(local(2027, 3, 20, 0, 1))
    subscription_process_due()

    with pytest.raises(ValidationError) as excinfo:
        subscription_cancel_revert(subscription=subscription, actor=owner)

    assert excinfo.value.code == "cannot_revert_cancel"
    subscription.refresh_from_db()
    assert subscription.status == S.CANCELED


def test_undo_is_refused_on_the_effective_date_before_the_task_ran(merchant, owner):
    with time_machine.travel(NOW, tick=False) as clock:
        subscription = _schedule(running(merchant), owner, when=CancelWhen.DATE, at_date=dt.date(2027, 3, 20))
        clock.move_to(local(2027, 3, 20, 0, 0, 1))

        with pytest.raises(ValidationError):
            subscription_cancel_revert(subscription=subscription, actor=owner)


# --- screens ------------------------------------------------------------------------------------------
def test_page_offers_the_undo_and_the_timeline_keeps_the_status(clock, client, merchant, owner):
    subscription = _schedule(running(merchant), owner)
    client.force_login(owner)

    content = client.get(subscription.get_absolute_url()).content.decode()

    assert 'data-action="revert_cancel"' in content
    assert 'data-action="cancel"' not in content
    assert "Cancela em 31/03/2027" in content
    assert "Ativa → Cancelada" not in content

    url = reverse("subscribers:subscription_cancel_revert", args=[subscription.pk])
    assert "agendado para 31/03/2027" in client.get(url).content.decode()
    response = client.post(url)

    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.cancel_at is None
    content = client.get(subscription.get_absolute_url()).content.decode()
    assert "Cancelamento desfeito" in content
    assert 'data-action="revert_cancel"' not in content


def test_the_list_and_the_export_say_when_it_cancels(clock, client, merchant, owner):
    _schedule(running(merchant), owner, when=CancelWhen.DATE, at_date=dt.date(2027, 3, 20))
    client.force_login(owner)

    content = client.get(reverse("subscribers:subscriber_list")).content.decode()
    assert "Cancela em 20/03/2027" in content

    response = client.get(reverse("subscribers:subscriber_export"))
    csv = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = csv.splitlines()[:2]
    column = header.split(";").index("Cancela em")
    assert row.split(";")[column] == "20/03/2027"
