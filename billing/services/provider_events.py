"""The inbound event inbox: every event a payment provider sends is stored raw first, then applied.

1. `stripe_event_receive` (called by the webhook endpoint) checks the `Stripe-Signature` header with the
   stripe library's scheme (tolerance 300 s) and stores the raw event with one INSERT (autocommit); the
   endpoint answers 2xx at once. A redelivered event that was already processed is only
   acknowledged; one that failed or was ignored goes back to pending and is tried again.
   The accept path queues no task per event (that was a second INSERT, into the broker's table, for every
   delivery): it *wakes* the billing cluster at most once per WAKE_WINDOW per web process
   (`drain_provider_events`), and that task, run once the window has closed, queues one processing task
   per object with pending events. An event stored while a wake-up of its window was already queued is
   committed before that window closes, so the wake-up's drain sees it; the sweep is the backstop.
2. `provider_events_process` (a billing task) applies the pending events of one provider object (a
   subscription, or the customer/charge an event is about) in the order the provider created them, under
   that object's lock (its ProviderObjectState row), so two workers never apply one object's events at the
   same time. An event older than the newest one already applied to its object is skipped (the newer
   state wins); one created in the same second is ambiguous, so the object is fetched again from the
   provider and that answer is applied. Each event runs in its own savepoint: a failure is recorded with
   its traceback and leaves the others alone.
3. Reprocessar (`provider_events_reprocess`) puts chosen events back to pending and queues them.

What each event type does is in billing/services/stripe_sync.py.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import traceback

import stripe
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db import connection as db_connection
from django.utils import timezone

from billing.choices import PROVIDER_EVENT_TRANSITIONS, PaymentProvider
from billing.choices import ProviderEventStatus as PE
from billing.gateways.stripe import verify_signature
from billing.models import ProviderConnection, ProviderEvent, ProviderObjectState
from core.queues import enqueue

# Stripe sends at most 512 KiB; larger bodies are refused before anything is stored.
MAX_BODY_BYTES = 512 * 1024
# Headers kept with the raw body (what a person needs to understand a delivery; never cookies).
KEPT_HEADERS = ("Stripe-Signature", "Content-Type", "User-Agent", "Content-Length")
# A pending event not processed within this time was lost on its way to the queue: the sweep queues it.
SWEEP_AFTER = dt.timedelta(seconds=60)
# A web process wakes the billing cluster at most once per window; the drain runs when the window closes.
WAKE_WINDOW = 0.25
_wake_lock = threading.Lock()
_last_wake = 0.0


def provider_event_move(event: ProviderEvent, to_status: str, **fields) -> None:
    """The one way an inbound event's status changes (PROVIDER_EVENT_TRANSITIONS)."""
    if to_status not in PROVIDER_EVENT_TRANSITIONS[event.status]:
        raise ValueError(f"provider event {event.pk}: {event.status} → {to_status} is not allowed")
    event.status = to_status
    for name, value in fields.items():
        setattr(event, name, value)
    event.save(update_fields=["status", *fields])


def _enqueue_after_commit(merchant_id: int, object_key: str) -> None:
    transaction.on_commit(
        lambda: enqueue("billing.tasks.process_provider_events", merchant_id, object_key, queue="billing")
    )


def _wake() -> None:
    """Asks the billing cluster to drain the pending events, unless this process already did within the
    window (that wake-up's drain runs after the window closes, so it finds this process's new events)."""
    global _last_wake
    now = time.time()
    with _wake_lock:
        if now - _last_wake < WAKE_WINDOW:
            return
        _last_wake = now
    enqueue("billing.tasks.drain_provider_events", now + WAKE_WINDOW, queue="billing")


def provider_events_drain(*, not_before: float) -> int:
    """The wake-up's task: once its window has closed, queues the processing of every object with pending
    events (one task per object, so the cluster's workers share them). Returns how many objects."""
    time.sleep(max(0.0, min(not_before - time.time(), WAKE_WINDOW)))
    pairs = list(
        ProviderEvent.objects.filter(status=PE.PENDING, signature_valid=True)
        .order_by()  # no default ordering: it would be part of the DISTINCT
        .values_list("merchant_id", "object_key")
        .distinct()
    )
    for merchant_id, key in pairs:
        enqueue("billing.tasks.process_provider_events", merchant_id, key, queue="billing")
    return len(pairs)


def stripe_object_key(obj: dict) -> str:
    """What an event is about, for ordering: the subscription when there is one, else the object itself."""
    kind = obj.get("object")
    if kind == "subscription":
        return obj.get("id", "")
    if kind == "invoice":
        parent = (obj.get("parent") or {}).get("subscription_details") or {}
        sub = obj.get("subscription") or parent.get("subscription")
        return (sub if isinstance(sub, str) else (sub or {}).get("id")) or obj.get("id", "")
    if kind == "dispute":
        return obj.get("charge") or obj.get("id", "")
    return obj.get("id", "")


class Throttled(Exception):  # noqa: N818 — a refusal to take the delivery now, not an error
    """Raised by `admit` (stripe_event_receive) to refuse a verified delivery for now: nothing is stored
    and the endpoint answers 429 with Retry-After, so Stripe delivers it again later."""

    def __init__(self, retry_after: int):
        super().__init__(retry_after)
        self.retry_after = retry_after


def _kept_headers(headers) -> dict:
    return {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}


def stripe_event_receive(*, connection: ProviderConnection, payload: bytes, headers, now=None, admit=None):
    """Verifies and stores one Stripe webhook delivery. Returns (event, outcome) with outcome one of
    "stored", "retry" (a failed/ignored event delivered again), "duplicate" (already taken in) or
    "invalid" (bad signature or body: the endpoint answers 400). `admit()`, when given, is called once the
    signature is known good and before anything is stored; it raises Throttled to refuse the delivery (the
    per-connection rate limit: forged requests never use up a merchant's allowance)."""
    now = now or timezone.now()
    kept = _kept_headers(headers)
    try:
        verify_signature(payload, headers.get("Stripe-Signature") or "", connection.webhook_secret)
        data = json.loads(payload)
        event_id, event_type = str(data["id"]), str(data["type"])
        obj = data["data"]["object"]
        created = dt.datetime.fromtimestamp(int(data["created"]), tz=dt.UTC)
    except (stripe.SignatureVerificationError, ValueError, KeyError, TypeError) as exc:
        return _store_invalid(connection, payload, kept, now, exc), "invalid"
    if admit is not None:
        admit()
    fields = dict(
        merchant_id=connection.merchant_id,
        provider=PaymentProvider.STRIPE,
        event_id=event_id[:100],
        type=event_type[:100],
        created=created,
        object_key=stripe_object_key(obj)[:120],
        headers=kept,
        body=payload.decode("utf-8"),
        signature_valid=True,
        received_at=now,
    )
    try:
        if db_connection.in_atomic_block:
            # Inside a caller's transaction (tests): a savepoint, so a duplicate leaves it usable.
            with transaction.atomic():
                event = ProviderEvent.objects.create(**fields)
        else:
            # The endpoint's case: one INSERT, committed on its own (one round trip, no BEGIN/COMMIT).
            event = ProviderEvent.objects.create(**fields)
    except IntegrityError:
        return _redelivered(connection, fields["event_id"])
    transaction.on_commit(_wake)
    return event, "stored"


@transaction.atomic
def _redelivered(connection: ProviderConnection, event_id: str):
    event = ProviderEvent.objects.select_for_update().get(
        merchant_id=connection.merchant_id,
        provider=PaymentProvider.STRIPE,
        event_id=event_id,
        signature_valid=True,
    )
    if event.status in (PE.FAILED, PE.IGNORED):
        provider_event_move(event, PE.PENDING)
        _enqueue_after_commit(event.merchant_id, event.object_key)
        return event, "retry"
    return event, "duplicate"


def _store_invalid(connection, payload: bytes, kept: dict, now, exc) -> ProviderEvent:
    """A delivery whose signature or body is bad, kept as an ignored, unsigned record (a wrong secret
    shows up on Eventos recebidos); it never takes the id of a real event."""
    return ProviderEvent.objects.create(
        merchant_id=connection.merchant_id,
        provider=PaymentProvider.STRIPE,
        event_id=_peek_id(payload),
        type="",
        headers=kept,
        body=payload.decode("utf-8", "replace"),
        signature_valid=False,
        received_at=now,
        status=PE.IGNORED,
        note=str(exc)[:300],
    )


def _peek_id(payload: bytes) -> str:
    try:
        return str(json.loads(payload).get("id", ""))[:100]
    except (ValueError, AttributeError):
        return ""


def _lock_object(merchant_id: int, provider: str, object_key: str) -> ProviderObjectState:
    ProviderObjectState.objects.get_or_create(
        merchant_id=merchant_id, provider=provider, object_key=object_key
    )
    return ProviderObjectState.objects.select_for_update().get(
        merchant_id=merchant_id, provider=provider, object_key=object_key
    )


def provider_events_process(*, merchant_id: int, object_key: str, now=None) -> dict[str, int]:
    """Applies the pending events of one provider object, oldest first (see the module docstring).
    Returns how many ended in each status."""
    from billing.services import stripe_sync

    counts = {PE.PROCESSED: 0, PE.FAILED: 0, PE.IGNORED: 0}
    with transaction.atomic():
        pending = ProviderEvent.objects.filter(
            merchant_id=merchant_id, object_key=object_key, status=PE.PENDING, signature_valid=True
        )
        providers = set(pending.values_list("provider", flat=True))
        for provider in sorted(providers):
            state = _lock_object(merchant_id, provider, object_key)
            connection = ProviderConnection.objects.filter(merchant_id=merchant_id, provider=provider).first()
            events = pending.filter(provider=provider).select_for_update().order_by("created", "pk")
            for event in events:
                status = _apply(event, state, connection, stripe_sync.apply_event, now=now or timezone.now())
                counts[status] += 1
    return counts


def _apply(event, state, connection, handler, *, now) -> str:
    provider_event_move(event, PE.PROCESSING, attempts=event.attempts + 1)
    if state.watermark and event.created < state.watermark:
        provider_event_move(
            event, PE.IGNORED, processed_at=now, last_error="", note="Mais antigo que o estado já aplicado."
        )
        return PE.IGNORED
    refetch = bool(state.watermark and event.created == state.watermark)
    savepoint = transaction.savepoint()
    try:
        if connection is None or not connection.is_active:
            raise ValidationError("Sem conexão ativa com o provedor.", code="no_connection")
        note = handler(event=event, connection=connection, refetch=refetch, now=now)
    except Exception:  # noqa: BLE001 — any failure of a handler is recorded on the event, to be reprocessed
        transaction.savepoint_rollback(savepoint)
        provider_event_move(event, PE.FAILED, last_error=traceback.format_exc()[-8000:], note="")
        return PE.FAILED
    transaction.savepoint_commit(savepoint)
    if note is None:
        provider_event_move(event, PE.IGNORED, processed_at=now, last_error="", note="Tipo não tratado.")
        return PE.IGNORED
    if state.watermark is None or event.created > state.watermark:
        state.watermark = event.created
        state.save(update_fields=["watermark"])
    provider_event_move(event, PE.PROCESSED, processed_at=now, last_error="", note=str(note)[:300])
    return PE.PROCESSED


@transaction.atomic
def provider_events_reprocess(*, merchant, ids) -> int:
    """Reprocessar: the chosen events (of this merchant, with a valid signature, not waiting already)
    go back to pending and are queued. Returns how many."""
    events = ProviderEvent.objects.select_for_update().filter(
        merchant=merchant,
        pk__in=list(ids),
        signature_valid=True,
        status__in=[PE.PROCESSED, PE.FAILED, PE.IGNORED],
    )
    keys = set()
    count = 0
    for event in events:
        provider_event_move(event, PE.PENDING)
        keys.add(event.object_key)
        count += 1
    for key in sorted(keys):
        _enqueue_after_commit(merchant.pk, key)
    return count


def provider_events_sweep(*, now=None) -> int:
    """Queues the objects of pending events older than SWEEP_AFTER (their queue message was lost)."""
    now = now or timezone.now()
    stale = (
        ProviderEvent.objects.filter(
            status=PE.PENDING, signature_valid=True, received_at__lt=now - SWEEP_AFTER
        )
        .order_by()  # no default ordering: it would be part of the DISTINCT
        .values_list("merchant_id", "object_key")
        .distinct()
    )
    pairs = list(stale[:1000])
    for merchant_id, key in pairs:
        enqueue("billing.tasks.process_provider_events", merchant_id, key, queue="billing")
    return len(pairs)
