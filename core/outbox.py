"""The outbox: services record domain events here, inside their own transaction.

The table (`core.models.Event`) lives in core because every app writes it; `notifications` reads it to
deliver webhooks, send customer e-mails and run automations. The types are `core.events.EventType`.
"""

import json
import os
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder

from core.bulk import encode_json, insert_rows
from core.events import EventType
from core.models import Event


def emit(*, merchant, type: EventType, payload: dict):
    """Writes one outbox Event (e.g. EventType.SUBSCRIPTION_CANCELED), inside the calling service's
    transaction. `merchant` is an instance or an id (a service holding only the id need not load the
    merchant). A type that is not an EventType is refused (ValueError)."""
    # Round-trip through Django's encoder so dates, Decimals and UUIDs are stored as JSON strings.
    return Event.objects.create(
        merchant_id=getattr(merchant, "pk", merchant),
        type=EventType(type).value,
        payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
    )


def emit_many(events: Iterable[tuple]) -> int:
    """Writes one outbox Event per `(merchant, type, payload)` (merchant: instance or id), in that order,
    with one bulk insert: the same rows `emit` would write, inside the caller's transaction. Returns how
    many were written."""
    events = list(events)
    uids = _uuid4_hex(len(events))
    rows = [
        {
            "uid": uid,
            "merchant_id": getattr(merchant, "pk", merchant),
            "type": EventType(type).value,
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
