"""The one delete the product allows: within a calendar month of the contract, with a tombstone."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from core.events import EventType
from core.outbox import emit
from subscribers import extension_points
from subscribers.choices import (
    SubscriptionAction,
)
from subscribers.locks import lock_subscription
from subscribers.models import Subscription, SubscriptionTombstone
from subscribers.services._common import _json_safe, _jsonable, _payload, _refuse
from subscribers.services.schedules import schedule_end_with_subscription


# --- delete ----------------------------------------------------------------------------------------
def deletion_summary(subscription: Subscription) -> dict:
    """What a delete removes, for the confirmation screen, and why it can't when money already moved."""
    return {
        "events": subscription.events.count(),
        **extension_points.billing_history(subscription, delete=False),
    }


@transaction.atomic
def subscription_delete(*, subscription: Subscription, actor, now=None) -> SubscriptionTombstone:
    """Deletes a subscription for good, only within one calendar month of its contract date,
    leaving a tombstone (who, when, snapshot) that owners can see."""
    now = now or timezone.now()
    subscription = lock_subscription(subscription.pk)
    _refuse(subscription, SubscriptionAction.DELETE, now=now)
    summary = deletion_summary(subscription)
    if summary["blocked_reason"]:
        raise ValidationError(summary["blocked_reason"], code="has_payments")
    snapshot = {
        **{k: _jsonable(v) for k, v in model_to_dict(subscription).items()},
        "customer_email": subscription.customer.email,
        "events": summary["events"],
        "invoices": summary["invoices"],
        "payments": summary["payments"],
    }
    tombstone = SubscriptionTombstone.objects.create(
        merchant=subscription.merchant,
        subscription_pk=subscription.pk,
        customer_name=subscription.customer.name,
        plan_name=subscription.plan.name,
        snapshot=_json_safe(snapshot),
        deleted_by=actor if getattr(actor, "pk", None) else None,
        deleted_at=now,
    )
    # Its schedule's webhook consumers learn it is over before the rows go (the cascade would say nothing).
    schedule_end_with_subscription(subscription, now=now, actor=actor)
    emit(merchant=subscription.merchant, type=EventType.SUBSCRIPTION_DELETED, payload=_payload(subscription))
    extension_points.billing_history(subscription, delete=True)
    subscription.delete()
    return tombstone
