"""The outbox hook: services record domain events here, inside their own transaction.

The table belongs to `notifications` (which delivers webhooks and runs automations from it), but
apps to its left must write to it without importing it, so the model is looked up by name.
"""

import json

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder


def emit(*, merchant, type: str, payload: dict):
    """Writes one outbox Event (e.g. "subscription.canceled"), inside the calling service's transaction."""
    Event = apps.get_model("notifications", "Event")
    # Round-trip through Django's encoder so dates, Decimals and UUIDs are stored as JSON strings.
    return Event.objects.create(
        merchant=merchant, type=type, payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder))
    )
