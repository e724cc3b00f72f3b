"""Several workers at once on PostgreSQL: each event and each reminder e-mails the customer once.
Real threads, real connections, real SKIP LOCKED and a real unique constraint."""

import datetime as dt

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from core.models import Event
from notifications.emails.services import email_triggers
from notifications.emails.services.customer_emails import send_customer_email
from notifications.emails.services.email_triggers import (
    emit_trial_will_end,
    process_all_email_events,
    send_renewal_reminders,
)
from notifications.models import EmailSending
from subscribers.choices import SubscriptionStatus
from tests.factories import EventFactory, PlanFactory, SubscriptionFactory
from tests.notifications.webhooks.test_dispatch_concurrency import at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
SUBSCRIPTIONS = 40


@pytest.fixture
def subscriptions(merchant):
    plan = PlanFactory(merchant=merchant, price=4990)
    return [
        SubscriptionFactory(merchant=merchant, plan=plan, notify_customer=True) for _ in range(SUBSCRIPTIONS)
    ]


def test_concurrent_consumers_email_each_event_once(subscriptions, monkeypatch):
    monkeypatch.setattr(email_triggers, "EVENTS_BATCH", 7)
    for subscription in subscriptions:
        EventFactory(
            merchant=subscription.merchant, type="subscription.created", payload={"id": subscription.pk}
        )

    at_once(*[process_all_email_events] * 4)

    assert not Event.objects.filter(emails_processed_at__isnull=True).exists()
    assert EmailSending.objects.count() == SUBSCRIPTIONS
    assert len(mail.outbox) == SUBSCRIPTIONS
    assert sorted(m.to[0] for m in mail.outbox) == sorted(s.customer.email for s in subscriptions)


def test_the_same_event_reprocessed_by_two_workers_at_once_emails_once(subscriptions):
    subscription = subscriptions[0]
    event = EventFactory(
        merchant=subscription.merchant, type="subscription.created", payload={"id": subscription.pk}
    )

    def send():
        with transaction.atomic():
            return send_customer_email(kind="subscription_created", subscription=subscription, event=event)

    results = at_once(*[send] * 4)

    assert sum(result is not None for result in results) == 1
    assert EmailSending.objects.count() == 1
    assert len(mail.outbox) == 1


def test_concurrent_reminder_runs_send_each_reminder_once(subscriptions):
    in_two_days = timezone.now() + dt.timedelta(days=2)
    for subscription in subscriptions:
        subscription.next_invoice_at = in_two_days
        subscription.save()

    at_once(*[send_renewal_reminders] * 4)

    assert EmailSending.objects.filter(kind="renewal_reminder").count() == SUBSCRIPTIONS
    assert len(mail.outbox) == SUBSCRIPTIONS


def test_concurrent_trial_runs_emit_each_trial_will_end_once(subscriptions):
    for subscription in subscriptions:
        subscription.status = SubscriptionStatus.TRIALING
        subscription.trial_ends_at = timezone.now() + dt.timedelta(days=2)
        subscription.save()

    emitted = at_once(*[emit_trial_will_end] * 4)

    assert sum(emitted) == SUBSCRIPTIONS
    assert Event.objects.filter(type="subscription.trial_will_end").count() == SUBSCRIPTIONS
