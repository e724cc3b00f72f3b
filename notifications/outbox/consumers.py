"""Reading the outbox: the one loop the three consumers (webhooks, customer e-mails, automations) share.

Each consumer has its own marker column on Event (`processed_at`, `emails_processed_at`,
`automations_processed_at`, each with a partial index on what is left). A batch of unmarked Events is
claimed with SKIP LOCKED — concurrent workers take different rows instead of queueing behind each other —
handed to the consumer, and marked, all in one transaction: an Event is never marked without what the
consumer made of it, and one a crashed worker held comes back to the next pass.
"""

import uuid
from collections.abc import Callable

from django.db import transaction
from django.db.models import F, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from core.models import Event

# What a consumer does with a claimed batch: called as handle(events, now) inside the claiming transaction.
Handler = Callable[[list[Event], object], None]


def skip_locked(queryset):
    """The rows under lock, skipping those another worker holds (PostgreSQL; SQLite ignores it)."""
    return queryset.select_for_update(skip_locked=True, of=("self",))


def consume_batch(marker: str, handle: Handler, *, batch_size: int, now=None) -> int:
    """Claims up to `batch_size` Events whose `marker` is empty, oldest first, calls `handle(events, now)`
    and marks them, in one transaction. Returns how many Events it took."""
    now = now or timezone.now()
    with transaction.atomic():
        pending = Event.objects.filter(**{f"{marker}__isnull": True}).order_by("pk")
        events = list(skip_locked(pending)[:batch_size])
        if not events:
            return 0
        handle(events, now)
        Event.objects.filter(pk__in=[event.pk for event in events]).update(**{marker: now})
    return len(events)


def consume_all(marker: str, handle: Handler, *, batch_size: int, now=None) -> int:
    """Batches until the consumer's backlog is empty; returns how many Events were taken."""
    total = 0
    while taken := consume_batch(marker, handle, batch_size=batch_size, now=now):
        total += taken
        if taken < batch_size:
            break
    return total


def claim(
    due, *, lease, limit: int, now, interleave_by: str | None = "merchant_id"
) -> tuple[list[int], uuid.UUID]:
    """Claims up to `limit` rows of the `due` queryset for this worker: a lease until now + `lease` and a
    fresh token, committed at once so the work (an HTTP request) happens outside any transaction. A
    worker that dies leaves the lease to expire; its result is only recorded with the token it was given.
    Returns the claimed ids and the token.

    Rows are taken in turns per `interleave_by` (the merchant): every merchant's oldest due row before
    any merchant's second, and so on, oldest first within a turn. One merchant's backlog of tens of
    thousands of deliveries then costs every other merchant at most one row per claim, not a wait
    behind the whole backlog."""
    token = uuid.uuid4()
    with transaction.atomic():
        if interleave_by:
            turns = due.annotate(
                claim_turn=Window(
                    RowNumber(),
                    partition_by=F(interleave_by),
                    order_by=[F("next_attempt_at").asc(), F("pk").asc()],
                )
            ).order_by("claim_turn", "next_attempt_at", "pk")
            # Candidates in turn order, locked a slice at a time, only as many as still wanted (skipping
            # rows another worker holds; the due filter is checked again under the lock). Workers
            # claiming at the same moment see the same candidates: one that finds them taken moves on
            # down the turns.
            ids = []
            candidates = list(turns.values_list("pk", flat=True)[: limit * 4])
            position = 0
            while len(ids) < limit and position < len(candidates):
                wanted = candidates[position : position + limit - len(ids)]
                position += len(wanted)
                free = set(skip_locked(due.filter(pk__in=wanted)).values_list("pk", flat=True))
                ids += [pk for pk in wanted if pk in free]
        else:
            ids = list(
                skip_locked(due.order_by("next_attempt_at", "pk")).values_list("pk", flat=True)[:limit]
            )
        if ids:
            due.model.objects.filter(pk__in=ids).update(claimed_until=now + lease, claim_token=token)
    return ids, token


def end_as_failed(pending, *, failed_status: str, now, reason: str) -> int:
    """Ends queued work (deliveries or runs that will no longer be attempted) as failed, with why, and
    releases any lease on it. Returns how many rows."""
    return pending.update(
        status=failed_status,
        next_attempt_at=None,
        claimed_until=None,
        claim_token=None,
        completed_at=now,
        last_error=reason[:500],
    )
