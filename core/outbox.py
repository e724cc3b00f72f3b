"""The outbox hook: services record domain events here, inside their own transaction.

The table belongs to `notifications` (which delivers webhooks and runs automations from it), but
apps to its left must write to it without importing it, so the model is looked up by name.
"""

import json
import os
from collections.abc import Iterable

from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder

from core.bulk import encode_json, insert_rows


def emit(*, merchant, type: str, payload: dict):
    """Writes one outbox Event (e.g. "subscription.canceled"), inside the calling service's transaction.
    `merchant` is an instance or an id (a service holding only the id need not load the merchant)."""
    Event = apps.get_model("notifications", "Event")
    # Round-trip through Django's encoder so dates, Decimals and UUIDs are stored as JSON strings.
    return Event.objects.create(
        merchant_id=getattr(merchant, "pk", merchant),
        type=type,
        payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
    )


def emit_many(events: Iterable[tuple]) -> int:
    """Writes one outbox Event per `(merchant, type, payload)` (merchant: instance or id), in that order,
    with one bulk insert: the same rows `emit` would write, inside the caller's transaction. Returns how
    many were written."""
    Event = apps.get_model("notifications", "Event")
    events = list(events)
    uids = _uuid4_hex(len(events))
    rows = [
        {
            "uid": uid,
            "merchant_id": getattr(merchant, "pk", merchant),
            "type": type,
            "payload": encode_json(payload),
        }
        for uid, (merchant, type, payload) in zip(uids, events, strict=True)
    ]
    insert_rows(Event, rows)
    return len(rows)


_UUID4_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_UUID4_SET = (4 << 76) | (0x8000 << 48)


def _uuid4_hex(count: int) -> list[str]:
    """`count` random version-4 UUIDs as `uuid.uuid4().hex` gives them, from one urandom call (the
    model's default, uuid4, costs a system call and an object per event)."""
    data = os.urandom(16 * count)
    return [
        f"{(int.from_bytes(data[i : i + 16]) & _UUID4_CLEAR) | _UUID4_SET:032x}"
        for i in range(0, 16 * count, 16)
    ]
