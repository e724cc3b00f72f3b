"""Reading the outbox: the one loop the three consumers (webhooks, customer e-mails, automations) share.

Each consumer has its own marker column on Event (`processed_at`, `emails_processed_at`,
`automations_processed_at`, each with a partial index on what is left). A batch of unmarked Events is
claimed with SKIP LOCKED — concurrent workers take different rows instead of queueing behind each other —
handed to the consumer, and marked, all in one transaction: an Event is never marked without what the
consumer made of it, and one a crashed worker held comes back to the next pass.
"""

from collections.abc import Callable

from django.db import transaction
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
