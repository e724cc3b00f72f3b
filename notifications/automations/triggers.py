"""What fires a rule: the event type each trigger listens to, and the conditions read from the event's
subscription payload (notifications/catalog.py documents both)."""

import copy

from core.events import EventType
from notifications.automations.choices import Trigger
from notifications.catalog import EVENT_TYPES_BY_NAME

# Trigger → the outbox event type it listens to.
TRIGGER_EVENT_TYPE = {
    Trigger.SUBSCRIPTION_CREATED: EventType.SUBSCRIPTION_CREATED,
    Trigger.SUBSCRIPTION_ACTIVATED: EventType.SUBSCRIPTION_ACTIVATED,
    Trigger.TRIAL_WILL_END: EventType.SUBSCRIPTION_TRIAL_WILL_END,
    Trigger.PAST_DUE: EventType.SUBSCRIPTION_PAST_DUE,
    Trigger.CANCELED_ANY: EventType.SUBSCRIPTION_CANCELED,
    Trigger.CANCELED_BY_CUSTOMER: EventType.SUBSCRIPTION_CANCELED,
    Trigger.CANCELED_BY_SELLER: EventType.SUBSCRIPTION_CANCELED,
    Trigger.CANCELED_BY_ADMIN: EventType.SUBSCRIPTION_CANCELED,
    Trigger.EXPIRED: EventType.SUBSCRIPTION_EXPIRED,
    Trigger.REFUNDED: EventType.SUBSCRIPTION_REFUNDED,
    Trigger.CHARGEBACK: EventType.CHARGEBACK_CREATED,
    Trigger.PAUSED: EventType.SUBSCRIPTION_PAUSED,
    Trigger.RESUMED: EventType.SUBSCRIPTION_RESUMED,
}
# Cancellations narrowed to one origin (the payload's `cancel_origin`).
TRIGGER_CANCEL_ORIGIN = {
    Trigger.CANCELED_BY_CUSTOMER: "customer",
    Trigger.CANCELED_BY_SELLER: "seller",
    Trigger.CANCELED_BY_ADMIN: "admin",
}
# Events whose payload carries the subscription under a key instead of being the subscription itself.
SUBSCRIPTION_KEY = {EventType.CHARGEBACK_CREATED: "subscription"}


def triggers_for(event_type: str) -> list[str]:
    return [trigger for trigger, listened in TRIGGER_EVENT_TYPE.items() if listened == event_type]


def subscription_payload(event_type: str, payload: dict) -> dict:
    """The subscription the event is about, as the catalog's subscription payload ({} when absent)."""
    key = SUBSCRIPTION_KEY.get(event_type)
    subscription = payload.get(key) if key else payload
    return subscription if isinstance(subscription, dict) else {}


def matches(automation, event_type: str, payload: dict, plan_ids: set[int] | None = None) -> bool:
    """Whether `automation` fires for this event. `plan_ids` is the rule's plan condition (read once per
    batch by the consumer); None reads it from the rule."""
    if TRIGGER_EVENT_TYPE.get(automation.trigger) != event_type:
        return False
    subscription = subscription_payload(event_type, payload)
    cancel_origin = subscription.get("cancel_origin") or ""
    wanted_origin = TRIGGER_CANCEL_ORIGIN.get(automation.trigger)
    if wanted_origin and cancel_origin != wanted_origin:
        return False
    if plan_ids is None:
        plan_ids = {plan.pk for plan in automation.plans.all()}
    if plan_ids and (subscription.get("plan") or {}).get("id") not in plan_ids:
        return False
    if automation.payment_methods and subscription.get("payment_method") not in automation.payment_methods:
        return False
    if automation.cancel_origins and cancel_origin not in automation.cancel_origins:
        return False
    if automation.amount_min is not None or automation.amount_max is not None:
        amount = subscription.get("amount")
        if not isinstance(amount, int) or subscription.get("currency") != automation.currency:
            return False
        if automation.amount_min is not None and amount < automation.amount_min:
            return False
        if automation.amount_max is not None and amount > automation.amount_max:
            return False
    return True


def _sample_subscription(status: str, cancel_origin: str = "") -> dict:
    sample = copy.deepcopy(EVENT_TYPES_BY_NAME[EventType.SUBSCRIPTION_CANCELED].sample)
    sample.update(status=status, cancel_origin=cancel_origin)
    if not cancel_origin:
        sample.update(cancel_at=None, access_until=None)
    return sample


def sample_payload(automation) -> dict:
    """What "Enviar teste" sends: the catalog's sample of the trigger's event, shaped so the rule's own
    trigger would fire on it (e.g. the cancellation's origin)."""
    event_type = TRIGGER_EVENT_TYPE[automation.trigger]
    documented = EVENT_TYPES_BY_NAME.get(event_type)
    if documented is not None:
        payload = copy.deepcopy(documented.sample)
    elif event_type == EventType.CHARGEBACK_CREATED:
        payload = {
            "id": 77,
            "payment": 3307,
            "invoice": 2210,
            "subscription": _sample_subscription("canceled", "admin"),
            "amount": 4990,
            "currency": "BRL",
            "reason": "Fraude contestada pelo titular do cartão.",
        }
    else:
        payload = _sample_subscription("trialing")
    origin = TRIGGER_CANCEL_ORIGIN.get(automation.trigger)
    if origin:
        subscription_payload(event_type, payload)["cancel_origin"] = origin
    return payload
