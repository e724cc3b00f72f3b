"""Time-driven work: scheduled contracts start, scheduled cancellations end, scheduled pauses start and
scheduled resumes happen."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.events import EventType
from core.outbox import emit
from subscribers.choices import (
    EventKind,
    ResumeMode,
)
from subscribers.locks import lock_subscription
from subscribers.models import Subscription
from subscribers.services._common import S, _payload, _record
from subscribers.services.contract import _start
from subscribers.services.ending import _end
from subscribers.services.pause import _pause_now, _resume_now
from subscribers.services.schedules import schedule_advance, schedule_pause_due


# --- time-driven -----------------------------------------------------------------------------------
def subscription_process_due(*, now=None, limit: int = 500) -> dict:
    """Carries out what has come due: scheduled contracts start, scheduled cancellations end.

    Each subscription is handled in its own transaction under a row lock (SKIP LOCKED where the
    database has it), and re-checked inside it, so two workers or a retried task never act twice.
    """
    now = now or timezone.now()
    done = {"started": 0, "canceled": 0, "paused": 0, "resumed": 0}
    # A contract whose cancellation falls after its start date still starts (and ends later).
    starts = Subscription.objects.filter(status=S.SCHEDULED, billing_cycle_anchor__lte=now).exclude(
        cancel_at__lte=F("billing_cycle_anchor")
    )
    for pk in starts.values_list("pk", flat=True)[:limit]:
        done["started"] += _process_one(pk, now=now, kind="start")
    ends = Subscription.objects.filter(
        status__in=[S.SCHEDULED, S.TRIALING, S.ACTIVE, S.PAST_DUE, S.PENDING, S.PAUSED], cancel_at__lte=now
    )
    for pk in ends.values_list("pk", flat=True)[:limit]:
        done["canceled"] += _process_one(pk, now=now, kind="cancel")
    # A cancellation due by then wins over a pause (it was handled just above).
    pauses = Subscription.objects.filter(status__in=_PAUSABLE, pause_at__lte=now)
    for pk in pauses.values_list("pk", flat=True)[:limit]:
        done["paused"] += _process_one(pk, now=now, kind="pause")
    resumes = Subscription.objects.filter(status=S.PAUSED, resume_at__lte=now)
    for pk in resumes.values_list("pk", flat=True)[:limit]:
        done["resumed"] += _process_one(pk, now=now, kind="resume")
    return done


_PAUSABLE = [S.ACTIVE, S.PAST_DUE]


def _process_one(pk, *, now, kind) -> int:
    with transaction.atomic():
        row = lock_subscription(pk, skip_locked=True)
        if row is None:
            return 0
        if (
            kind == "start"
            and row.status == S.SCHEDULED
            and row.billing_cycle_anchor <= now
            and (row.cancel_at is None or row.cancel_at > row.billing_cycle_anchor)
        ):
            from_status = row.status
            _start(row, now=now)
            row.save(update_fields=[*_STARTED_FIELDS, "updated_at"])
            _record(
                row, kind=EventKind.STARTED, actor=None, from_status=from_status, to_status=row.status, at=now
            )
            emit(merchant=row.merchant, type=EventType.SUBSCRIPTION_STARTED, payload=_payload(row))
            if row.status in (S.ACTIVE, S.TRIALING):
                emit(merchant=row.merchant, type=EventType.SUBSCRIPTION_ACCESS_GRANTED, payload=_payload(row))
            return 1
        if kind == "cancel" and row.cancel_at is not None and row.cancel_at <= now and not row.is_ended:
            # ended_at is when the cancellation took effect, even when this run comes late.
            _end(
                row,
                actor=row.canceled_by,
                kind=EventKind.CANCELED,
                now=now,
                fields=[],
                ended_at=row.cancel_at,
            )
            return 1
        if kind == "pause" and row.status in _PAUSABLE and row.pause_at is not None and row.pause_at <= now:
            _pause_now(row, actor=None, now=now)
            return 1
        if kind == "resume" and row.status == S.PAUSED and row.resume_at is not None and row.resume_at <= now:
            schedule = schedule_pause_due(row, now=now)
            if schedule is not None:
                # A schedule's pause block ended: its next phase starts, and the schedule resumes the
                # subscription on those terms at the block's end (once: the schedule moved past it).
                schedule_advance(subscription=row, schedule=schedule)
                return 1
            _resume_now(row, actor=None, mode=row.resume_mode or ResumeMode.CONTINUE, now=now)
            return 1
    return 0


_STARTED_FIELDS = [
    "status",
    "started_at",
    "trial_ends_at",
    "billing_cycle_anchor",
    "current_period_start",
    "current_period_end",
    "next_invoice_at",
]
