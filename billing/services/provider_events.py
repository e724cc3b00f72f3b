"""The inbound event inbox: every event a payment provider sends is stored raw first, then applied.

1. `stripe_event_receive` (called by the webhook endpoint, which config/wsgi.py serves through a lean
   handler without the site's middleware) checks the `Stripe-Signature` header with the stripe library's
   scheme (tolerance 300 s) against the connection's secret, kept decrypted per process
   (`webhook_endpoint`), and stores the raw event with one guarded INSERT … ON CONFLICT DO NOTHING
   (autocommit): it stores nothing if the connection was disconnected or its secret or token changed since
   this process read it (then the connection is read again and the delivery checked against the new
   secret), nor for an event id already taken in. The endpoint answers 2xx at once. A redelivered event that
   was already processed is only acknowledged; one that failed or was ignored goes back to pending and is
   tried again.
   The accept path queues no task per event: it *wakes* the billing cluster at most once per WAKE_WINDOW per
   web process (`drain_provider_events`), and that task, run once the window has closed, creates the
   ProviderObjectState rows of the objects with pending events and queues processing batches. An event
   stored while a wake-up of its window was already queued is committed before that window closes, so the
   wake-up's drain sees it; the sweep is the backstop.
2. `provider_events_process_batch` (a billing task) claims up to BATCH_OBJECTS provider objects (a
   subscription, or the customer/charge an event is about) by locking their ProviderObjectState rows with
   SKIP LOCKED, so two workers never apply one object's events at the same time, and applies each object's
   pending events in the order the provider created them. An event older than the newest one already
   applied to its object is skipped (the newer state wins); one created in the same second is ambiguous, so
   the object is fetched again from the provider and that answer is applied. Statuses and watermarks are
   written in bulk at the end. If a handler raises, the batch is rolled back and its objects are done one
   at a time by `provider_events_process`, each event in its own savepoint: the failure is recorded with its
   traceback and the others go through.
3. Reprocessar (`provider_events_reprocess`) puts chosen events back to pending and queues them.

What each event type does is in billing/services/stripe_sync.py.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import NamedTuple

import stripe
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Exists, OuterRef, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from billing import provider_notes
from billing.choices import PROVIDER_EVENT_TRANSITIONS, PaymentProvider
from billing.choices import ProviderEventStatus as PE
from billing.gateways.stripe import verify_signature
from billing.models import ProviderConnection, ProviderEvent, ProviderObjectState
from core import crypto
from core.bulk import autocommit_fetchone, update_rows
from core.queues import enqueue

# Stripe sends at most 512 KiB; larger bodies are refused before anything is stored.
MAX_BODY_BYTES = 512 * 1024
# Headers kept with the raw body (what a person needs to understand a delivery; never cookies).
KEPT_HEADERS = ("Stripe-Signature", "Content-Type", "User-Agent", "Content-Length")
# A pending event not processed within this time was lost on its way to the queue: the sweep queues it.
SWEEP_AFTER = dt.timedelta(seconds=60)
# A web process wakes the billing cluster at most once per window; the drain runs when the window closes.
WAKE_WINDOW = 0.25
# A batch claims this many objects (their pending events all together, in order per object).
BATCH_OBJECTS = 100
# A drain or sweep queues at most this many batches (a full batch queues the next one itself).
MAX_BATCHES_QUEUED = 50
_wake_lock = threading.Lock()
_last_wake = 0.0


def provider_event_move(event: ProviderEvent, to_status: str, *, save: bool = True, **fields) -> None:
    """The one way an inbound event's status changes (PROVIDER_EVENT_TRANSITIONS). `save=False` changes the
    instance only: the batch (`provider_events_process_batch`) writes its events' statuses together."""
    if to_status not in PROVIDER_EVENT_TRANSITIONS[event.status]:
        raise ValueError(f"provider event {event.pk}: {event.status} → {to_status} is not allowed")
    event.status = to_status
    for name, value in fields.items():
        setattr(event, name, value)
    if save:
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
    """The wake-up's task: once its window has closed, makes sure every object with pending events has its
    ProviderObjectState row (what a batch claims) and queues enough batches for them
    (`provider_events_process_batch`, BATCH_OBJECTS objects each, so the cluster's workers share them).
    Returns how many objects have pending events."""
    time.sleep(max(0.0, min(not_before - time.time(), WAKE_WINDOW)))
    objects = _track_pending_objects()
    for _batch in range(min(math.ceil(objects / BATCH_OBJECTS), MAX_BATCHES_QUEUED)):
        enqueue("billing.tasks.process_provider_event_batch", queue="billing")
    return objects


def _track_pending_objects(*, received_before=None) -> int:
    """Creates the missing ProviderObjectState rows of the objects with pending events (received before
    `received_before`, when given) in one INSERT … SELECT DISTINCT … ON CONFLICT DO NOTHING, and returns how
    many such objects there are."""
    pending = ProviderEvent.objects.filter(status=PE.PENDING, signature_valid=True)
    if received_before is not None:
        pending = pending.filter(received_at__lt=received_before)
    objects = pending.order_by().values_list("merchant_id", "provider", "object_key").distinct()
    select, params = objects.query.sql_with_params()
    state, q = ProviderObjectState._meta, db_connection.ops.quote_name
    with db_connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(state.db_table)} ({q('merchant_id')}, {q('provider')}, {q('object_key')}) "  # noqa: S608 - names from _meta, values as parameters
            f"{select} ON CONFLICT DO NOTHING",
            params,
        )
    return objects.count()


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


class UnknownWebhook(Exception):  # noqa: N818 — the endpoint's 404, not an error
    """The token names no active Stripe connection with a signing secret (or no longer does)."""


@dataclass(frozen=True)
class WebhookEndpoint:
    """What the accept path needs of a Stripe connection, kept per process (`webhook_endpoint`): the
    secret decrypted once, and the stored ciphertext that the INSERT checks is still the column's value."""

    connection_id: int
    merchant_id: int
    token: uuid.UUID
    secret: str
    secret_stored: str


class Received(NamedTuple):
    outcome: str  # "stored", "retry", "duplicate" or "invalid"
    event_id: str


# token → WebhookEndpoint, per process. Never trusted alone: the INSERT that stores an event only succeeds
# while the connection is still active with the same token and the same stored secret (see
# _insert_pending), so a rotation or a disconnection made by another process takes effect at the next
# delivery; a miss there reloads the entry.
_endpoints: dict[uuid.UUID, WebhookEndpoint] = {}
_ENDPOINTS_MAX = 10_000


def webhook_endpoint(token, *, reload: bool = False) -> WebhookEndpoint | None:
    """The active Stripe connection a webhook URL's token names, from this process's cache unless
    `reload`; None when there is none (or it has no signing secret)."""
    if not reload and (endpoint := _endpoints.get(token)) is not None:
        return endpoint
    row = (
        ProviderConnection.objects.filter(
            webhook_token=token, provider=PaymentProvider.STRIPE, is_active=True
        )
        # The column as stored (ciphertext), not the field's decrypted value: it is what the INSERT compares.
        .annotate(stored=Cast("webhook_secret", TextField()))
        .values_list("pk", "merchant_id", "stored")
        .first()
    )
    if row is None or not row[2]:
        _endpoints.pop(token, None)
        return None
    if len(_endpoints) >= _ENDPOINTS_MAX:
        _endpoints.clear()
    endpoint = WebhookEndpoint(row[0], row[1], token, crypto.decrypt(row[2]), row[2])
    _endpoints[token] = endpoint
    return endpoint


def _parse(payload: bytes, headers, secret: str) -> dict:
    """The verified event's fields; raises (stripe.SignatureVerificationError, ValueError, KeyError,
    TypeError) when the signature or the body is bad."""
    verify_signature(payload, headers.get("Stripe-Signature") or "", secret)
    data = json.loads(payload)
    return {
        "event_id": str(data["id"])[:100],
        "type": str(data["type"])[:100],
        "created": dt.datetime.fromtimestamp(int(data["created"]), tz=dt.UTC),
        "object_key": stripe_object_key(data["data"]["object"])[:120],
    }


_BAD_DELIVERY = (stripe.SignatureVerificationError, ValueError, KeyError, TypeError, AttributeError)


def stripe_event_receive(
    *, endpoint: WebhookEndpoint, payload: bytes, headers, now=None, admit=None
) -> Received:
    """Verifies and stores one Stripe webhook delivery for `endpoint` (`webhook_endpoint(token)`).
    Outcomes: "stored", "retry" (a failed/ignored event delivered again), "duplicate" (already taken in)
    or "invalid" (bad signature or body: the endpoint answers 400). Raises UnknownWebhook when the
    connection was disconnected meanwhile. `admit()`, when given, is called once the signature is known
    good and before anything is stored; it raises Throttled to refuse the delivery (the per-connection
    rate limit: forged requests never use up a merchant's allowance).

    The usual delivery costs one statement: a guarded INSERT … ON CONFLICT DO NOTHING (_insert_pending).
    Only when it stores nothing (a redelivery, or this process's copy of the connection is stale) is the
    connection read again and the redelivery handled under a lock."""
    now = now or timezone.now()
    kept = _kept_headers(headers)
    try:
        fields = _parse(payload, headers, endpoint.secret)
    except _BAD_DELIVERY as exc:
        # Perhaps the secret was rotated by another process: check against the stored one before refusing.
        fresh = _fresh(endpoint)
        try:
            fields = _parse(payload, headers, fresh.secret) if fresh.secret != endpoint.secret else None
        except _BAD_DELIVERY:
            fields = None
        if fields is None:
            _store_invalid(fresh, payload, kept, now, exc)
            return Received("invalid", "")
        endpoint = fresh
    if admit is not None:
        admit()
    body = payload.decode("utf-8")
    for _attempt in range(2):
        if _insert_pending(endpoint, fields, kept, body, now):
            if db_connection.in_atomic_block:
                transaction.on_commit(_wake)
            else:
                _wake()  # the endpoint's case: the INSERT is committed already
            return Received("stored", fields["event_id"])
        fresh = _fresh(endpoint)
        if fresh.secret_stored == endpoint.secret_stored:
            return Received(_redelivered(endpoint.merchant_id, fields["event_id"]), fields["event_id"])
        # The secret changed since this process read it: the delivery must verify with the new one.
        try:
            _parse(payload, headers, fresh.secret)
        except _BAD_DELIVERY as exc:
            _store_invalid(fresh, payload, kept, now, exc)
            return Received("invalid", "")
        endpoint = fresh
    raise UnknownWebhook  # the secret changed twice during one delivery: Stripe will deliver it again


def _fresh(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    fresh = webhook_endpoint(endpoint.token, reload=True)
    if fresh is None or fresh.connection_id != endpoint.connection_id:
        raise UnknownWebhook
    return fresh


_INSERT_PENDING = None


def _insert_pending_sql() -> str:
    """INSERT … SELECT from the connection row, so nothing is stored unless the connection is still active
    with the token and stored secret this process knows; ON CONFLICT DO NOTHING on the inbox's unique
    (merchant, provider, event id) of signed events, so a redelivery stores nothing and raises nothing
    (no savepoint needed). Written by hand because the ORM has neither INSERT … SELECT nor a conflict target
    with a predicate; the ORM's create() and the connection's SELECT were most of the endpoint's time
    (bench/README.md). Valid on PostgreSQL and SQLite (≥ 3.35, for RETURNING)."""
    global _INSERT_PENDING
    if _INSERT_PENDING is None:
        event, conn = ProviderEvent._meta, ProviderConnection._meta
        q = db_connection.ops.quote_name
        columns = [
            "merchant_id", "provider", "event_id", "type", "created", "object_key", "headers", "body",
            "signature_valid", "received_at", "status", "attempts", "note", "last_error", "note_code",
            "note_params",
        ]  # fmt: skip
        _INSERT_PENDING = (
            f"INSERT INTO {q(event.db_table)} ({', '.join(q(c) for c in columns)}) "  # noqa: S608 - names from _meta
            f"SELECT c.{q('merchant_id')}, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0, '', '', '', '{{}}' "
            f"FROM {q(conn.db_table)} c "
            f"WHERE c.{q('id')} = %s AND c.{q('webhook_token')} = %s AND c.{q('is_active')} = %s "
            f"AND c.{q('webhook_secret')} = %s "
            f"ON CONFLICT ({q('merchant_id')}, {q('provider')}, {q('event_id')}) "
            f"WHERE {q('signature_valid')} DO NOTHING RETURNING {q('id')}"
        )
    return _INSERT_PENDING


def _insert_pending(endpoint: WebhookEndpoint, fields: dict, kept: dict, body: str, now) -> bool:
    """Stores a verified delivery as a pending event; False when nothing was stored (see the SQL)."""
    ops = db_connection.ops
    token = ProviderConnection._meta.get_field("webhook_token").get_db_prep_value(
        endpoint.token, db_connection, prepared=False
    )
    params = [
        PaymentProvider.STRIPE.value,
        fields["event_id"],
        fields["type"],
        ops.adapt_datetimefield_value(fields["created"]),
        fields["object_key"],
        json.dumps(kept),
        body,
        True,
        ops.adapt_datetimefield_value(now),
        PE.PENDING.value,
        endpoint.connection_id,
        token,
        True,
        endpoint.secret_stored,
    ]
    if db_connection.in_atomic_block:
        # Inside a caller's transaction (tests, ATOMIC_REQUESTS): a savepoint keeps it usable if the INSERT
        # fails for another reason.
        with transaction.atomic(), db_connection.cursor() as cursor:
            cursor.execute(_insert_pending_sql(), params)
            return cursor.fetchone() is not None
    # The endpoint's case: one prepared statement, committed on its own (no BEGIN/COMMIT round trips).
    return autocommit_fetchone(_insert_pending_sql(), params) is not None


def _kept_headers(headers) -> dict:
    return {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}


@transaction.atomic
def _redelivered(merchant_id: int, event_id: str) -> str:
    event = ProviderEvent.objects.select_for_update().get(
        merchant_id=merchant_id,
        provider=PaymentProvider.STRIPE,
        event_id=event_id,
        signature_valid=True,
    )
    if event.status in (PE.FAILED, PE.IGNORED):
        provider_event_move(event, PE.PENDING)
        _enqueue_after_commit(event.merchant_id, event.object_key)
        return "retry"
    return "duplicate"


def _store_invalid(endpoint: WebhookEndpoint, payload: bytes, kept: dict, now, exc) -> ProviderEvent:
    """A delivery whose signature or body is bad, kept as an ignored, unsigned record (a wrong secret
    shows up on Eventos recebidos); it never takes the id of a real event."""
    return ProviderEvent.objects.create(
        merchant_id=endpoint.merchant_id,
        provider=PaymentProvider.STRIPE,
        event_id=_text(_peek_id(payload)),
        type="",
        headers=kept,
        body=_text(payload.decode("utf-8", "replace")),
        signature_valid=False,
        received_at=now,
        status=PE.IGNORED,
        note=_text(str(exc)[:300]),
    )


def _text(value: str) -> str:
    """PostgreSQL's text columns refuse the NUL character, which a forged body may hold (raw, or as \\u0000
    in its id): kept as U+FFFD, so the delivery is refused with a 400 and recorded, not a server error. A
    signed body never has one raw (it would not parse as JSON)."""
    return value.replace("\x00", "\ufffd")


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
    """Applies the pending events of one provider object, oldest first, each in its own savepoint (see the
    module docstring). Used for Reprocessar and redeliveries, and to redo a batch that failed. Returns how
    many ended in each status."""
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
    provider_event_move(event, PE.PROCESSING, save=False, attempts=event.attempts + 1)
    advanced = _run(event, state, connection, handler, now=now, isolated=True)
    if advanced:
        state.save(update_fields=["watermark"])
    event.save(update_fields=_RESULT_FIELDS)
    return event.status


_RESULT_FIELDS = ["status", "attempts", "processed_at", "last_error", "note", "note_code", "note_params"]
# A note is a code and its params (billing/provider_notes.py), shown in the reader's language: never a
# sentence worded in the worker's language.
_NO_NOTE = {"note": "", "note_code": "", "note_params": {}}


def _run(event, state, connection, handler, *, now, isolated: bool) -> bool:
    """Applies one event that is `processing` and moves it (in memory) to its outcome; returns whether it
    advanced the object's watermark (`state`, also in memory). `isolated`: the handler runs in a savepoint
    and a failure is recorded on the event; otherwise a failure propagates (the batch is then redone one
    object at a time, isolated)."""
    if state.watermark and event.created < state.watermark:
        provider_event_move(
            event,
            PE.IGNORED,
            save=False,
            processed_at=now,
            last_error="",
            **_note(provider_notes.Note(provider_notes.OLDER_THAN_APPLIED)),
        )
        return False
    refetch = bool(state.watermark and event.created == state.watermark)
    try:
        if connection is None or not connection.is_active:
            raise ValidationError("Sem conexão ativa com o provedor.", code="no_connection")
    except ValidationError:
        provider_event_move(
            event, PE.FAILED, save=False, last_error=traceback.format_exc()[-8000:], **_NO_NOTE
        )
        return False
    if isolated:
        savepoint = transaction.savepoint()
        try:
            note = handler(event=event, connection=connection, refetch=refetch, now=now)
        except Exception:  # noqa: BLE001 — any failure of a handler is recorded on the event, to be reprocessed
            transaction.savepoint_rollback(savepoint)
            provider_event_move(
                event, PE.FAILED, save=False, last_error=traceback.format_exc()[-8000:], **_NO_NOTE
            )
            return False
        transaction.savepoint_commit(savepoint)
    else:
        note = handler(event=event, connection=connection, refetch=refetch, now=now)
    if note is None:
        provider_event_move(
            event,
            PE.IGNORED,
            save=False,
            processed_at=now,
            last_error="",
            **_note(provider_notes.Note(provider_notes.UNHANDLED_TYPE)),
        )
        return False
    provider_event_move(event, PE.PROCESSED, save=False, processed_at=now, last_error="", **_note(note))
    if state.watermark is None or event.created > state.watermark:
        state.watermark = event.created
        return True
    return False


def _note(note: provider_notes.Note) -> dict:
    return {"note": "", "note_code": note.code, "note_params": dict(note.params)}


class _RedoOneByOne(Exception):  # noqa: N818 — control flow: roll the batch back
    pass


def provider_events_process_batch(*, limit: int | None = None, now=None) -> dict[str, int]:
    """Applies the pending events of up to `limit` provider objects in one transaction: the objects are
    claimed by locking their ProviderObjectState rows with SKIP LOCKED (two workers never take the same
    object, so each object's events stay in order and under its lock), their events read in one query and
    applied oldest first per object against the `created` watermark, as `provider_events_process` does;
    then every status in one UPDATE and the watermarks in another. No savepoint per event: if a handler
    raises, the whole batch is rolled back and its objects are done again one at a time with a savepoint per
    event (`provider_events_process`), where the failure is recorded and the others go through.
    Returns how many events ended in each status, how many objects had events applied ("objects") and how
    many were claimed ("claimed": the batch was full when it equals `limit`). The two differ when another
    worker applied an object's events between this claim's snapshot and its lock: PostgreSQL rechecks only
    the locked row, not the pending events' EXISTS, so the object is locked with nothing left to do."""
    from billing.services import stripe_sync

    now = now or timezone.now()
    limit = limit or BATCH_OBJECTS
    counts = {PE.PROCESSED: 0, PE.FAILED: 0, PE.IGNORED: 0, "objects": 0, "claimed": 0}
    claimed: list[tuple[int, str]] = []
    try:
        with transaction.atomic():
            states = _claim_objects(limit)
            claimed = [(state.merchant_id, state.object_key) for state in states]
            counts["claimed"] = len(states)
            if not states:
                return counts
            by_object = {(s.merchant_id, s.provider, s.object_key): s for s in states}
            events = [
                event
                for event in ProviderEvent.objects.filter(
                    status=PE.PENDING,
                    signature_valid=True,
                    merchant_id__in={s.merchant_id for s in states},
                    object_key__in=[s.object_key for s in states],
                )
                .select_for_update()
                .order_by("created", "pk")
                if (event.merchant_id, event.provider, event.object_key) in by_object
            ]
            counts["objects"] = len({(e.merchant_id, e.provider, e.object_key) for e in events})
            connections = {
                (c.merchant_id, c.provider): c
                for c in ProviderConnection.objects.filter(merchant_id__in={s.merchant_id for s in states})
            }
            advanced = set()
            for event in events:
                state = by_object[(event.merchant_id, event.provider, event.object_key)]
                provider_event_move(event, PE.PROCESSING, save=False, attempts=event.attempts + 1)
                try:
                    if _run(
                        event,
                        state,
                        connections.get((event.merchant_id, event.provider)),
                        stripe_sync.apply_event,
                        now=now,
                        isolated=False,
                    ):
                        advanced.add(state)
                except Exception as exc:  # noqa: BLE001 — redone one by one, where it is recorded
                    raise _RedoOneByOne from exc
                counts[event.status] += 1
            update_rows(
                ProviderEvent,
                [event.pk for event in events],
                same={},
                each={name: [getattr(event, name) for event in events] for name in _RESULT_FIELDS},
            )
            advanced = sorted(advanced, key=lambda state: state.pk)
            update_rows(
                ProviderObjectState,
                [state.pk for state in advanced],
                same={},
                each={"watermark": [state.watermark for state in advanced]},
            )
    except _RedoOneByOne:
        counts = {PE.PROCESSED: 0, PE.FAILED: 0, PE.IGNORED: 0, "objects": 0, "claimed": len(claimed)}
        for merchant_id, object_key in claimed:
            done = provider_events_process(merchant_id=merchant_id, object_key=object_key, now=now)
            counts["objects"] += bool(sum(done.values()))
            for status, count in done.items():
                counts[status] += count
    return counts


def _claim_objects(limit: int) -> list[ProviderObjectState]:
    """Up to `limit` objects with pending events, locked; objects another worker holds are skipped. Their
    ProviderObjectState rows exist: the drain and the sweep create them (_track_pending_objects)."""
    pending = ProviderEvent.objects.filter(
        merchant_id=OuterRef("merchant_id"),
        provider=OuterRef("provider"),
        object_key=OuterRef("object_key"),
        status=PE.PENDING,
        signature_valid=True,
    )
    return list(
        ProviderObjectState.objects.filter(Exists(pending))
        .order_by()
        .select_for_update(skip_locked=True)[:limit]
    )


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
    """Queues batches for the objects of pending events older than SWEEP_AFTER (their wake-up was lost).
    Returns how many such objects."""
    now = now or timezone.now()
    objects = _track_pending_objects(received_before=now - SWEEP_AFTER)
    for _batch in range(min(math.ceil(objects / BATCH_OBJECTS), MAX_BATCHES_QUEUED)):
        enqueue("billing.tasks.process_provider_event_batch", queue="billing")
    return objects
