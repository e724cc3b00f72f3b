"""Leased retries: the work webhooks and automations share (WebhookDelivery, AutomationRun).

A row of leased work is an attempt-until-done job: created pending and due (`next_attempt_at`), claimed by
one worker at a time with a lease (`claimed_until`, `claim_token`, committed at once so the HTTP request
happens outside any transaction), then its outcome is recorded in a short transaction by
`AttemptRecorder.record`: succeeded, retried later on RETRY_DELAYS (or the receiver's Retry-After), or
failed for good. A worker that dies leaves its lease to expire and the row is claimed again: at least
once, never lost; a worker whose lease was taken over records nothing on the row.

Status moves only along RETRY_TRANSITIONS (pending → succeeded | failed; both final), through
`retry_move` (one row) or `end_as_failed` (a queryset). A resend is a new row, never a finished one
reopened.
"""

import datetime as dt
import uuid
from typing import Protocol

from django.db import models, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from notifications import attempt_notes
from notifications.outbox.consumers import skip_locked

# The schedule: delay before attempt 2, 3, … 8 (the Standard Webhooks / Svix schedule), eight attempts
# over 27 h 35 min. Webhook deliveries and automation runs both follow it.
RETRY_DELAYS = (
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# A receiver's Retry-After is honoured up to this long (a misconfigured one must not park work forever).
MAX_RETRY_AFTER = dt.timedelta(hours=24)
# A claim outlives the sends of its batch (10 × the request timeout) with room to spare.
CLAIM_LEASE = dt.timedelta(minutes=5)
EXCERPT_CHARS = 500

# The statuses every kind of leased work has (each kind labels them its own way in its choices).
PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"
# status → statuses the recorder (or end_as_failed) may move a row to.
RETRY_TRANSITIONS: dict[str, frozenset[str]] = {
    PENDING: frozenset({SUCCEEDED, FAILED}),
    SUCCEEDED: frozenset(),
    FAILED: frozenset(),
}


def next_attempt_delay(attempt_number: int, retry_after: dt.timedelta | None = None) -> dt.timedelta:
    """How long to wait after failed attempt `attempt_number` (1-based): the schedule's delay, or the
    receiver's Retry-After when it asks for longer (capped at MAX_RETRY_AFTER)."""
    delay = RETRY_DELAYS[attempt_number - 1]
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


class LeasedRetryQuerySet(models.QuerySet):
    def unclaimed(self, now):
        """Rows no worker holds: never claimed, or their lease ran out."""
        return self.filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))

    def due(self, now):
        """Pending rows whose next attempt is due and that no worker holds."""
        return self.filter(status=PENDING, next_attempt_at__lte=now).unclaimed(now)


class LeasedRetry(models.Model):
    """The fields of a leased, retried unit of work; each subclass adds its `status` (with its own labels
    for PENDING / SUCCEEDED / FAILED), what it is about, and its own indexes.

    The last attempt is copied onto the row so a log of them needs no query per row."""

    attempt_count = models.PositiveSmallIntegerField(_("tentativas"), default=0)
    next_attempt_at = models.DateTimeField(_("próxima tentativa"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("reservada até"), null=True, blank=True)
    claim_token = models.UUIDField(_("reserva"), null=True, blank=True, editable=False)
    last_attempt_at = models.DateTimeField(_("última tentativa"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("código HTTP"), null=True, blank=True)
    # The last attempt's answer and error: a receiver's or an exception's own words. Our own words on it
    # are a code of notifications/attempt_notes.py and its params, shown in the reader's language.
    last_response_excerpt = models.CharField(_("resposta"), max_length=500, blank=True)
    last_error = models.CharField(_("erro"), max_length=500, blank=True)
    last_note_code = models.CharField(_("código da observação"), max_length=40, blank=True)
    last_note_params = models.JSONField(_("parâmetros da observação"), default=dict, blank=True)
    created_at = models.DateTimeField(_("criada em"), auto_now_add=True, db_index=True)
    completed_at = models.DateTimeField(_("concluída em"), null=True, blank=True)

    objects = LeasedRetryQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def last_error_display(self) -> str:
        """Why the last attempt failed, in the active language: our coded sentence, else the stored text."""
        return attempt_notes.error_text(self.last_note_code, self.last_note_params, self.last_error)

    @property
    def last_response_display(self) -> str:
        """The last attempt's answer: our coded words (a test e-mail's recipient), else the receiver's."""
        return attempt_notes.response_text(
            self.last_note_code, self.last_note_params, self.last_response_excerpt
        )

    @property
    def is_retried(self) -> bool:
        """Whether a failed attempt is tried again (on the schedule) rather than ending the row."""
        return True


def retry_move(row: LeasedRetry, to_status: str, *, now) -> None:
    """The one way a row of leased work changes status: along RETRY_TRANSITIONS, ending it (no next
    attempt, completed now). The caller saves the row (the recorder, in its transaction)."""
    row.status, row.next_attempt_at, row.completed_at = _checked(row.status, to_status), None, now


def _checked(from_status: str, to_status: str) -> str:
    """`to_status`, once RETRY_TRANSITIONS allows the move (a refused move is a bug, never user input)."""
    if to_status not in RETRY_TRANSITIONS[from_status]:
        raise ValueError(f"{from_status} → {to_status} is not in RETRY_TRANSITIONS")
    return to_status


def end_as_failed(pending, *, now, reason: attempt_notes.Note) -> int:
    """Ends queued work (deliveries or runs that will no longer be attempted) as failed, with why (stored
    as its code), and releases any lease on it. Only pending rows move (RETRY_TRANSITIONS). Returns how
    many rows."""
    return pending.filter(status=PENDING).update(
        status=_checked(PENDING, FAILED),
        next_attempt_at=None,
        claimed_until=None,
        claim_token=None,
        completed_at=now,
        last_error="",
        last_note_code=reason.code,
        last_note_params=dict(reason.params),
    )


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


class Outcome(Protocol):
    """What an attempt came back with (webhooks' AttemptResult, automations' RunOutcome)."""

    succeeded: bool
    status_code: int | None
    # Free text (a receiver's or an exception's words), or our own words as an attempt_notes.Note.
    response_excerpt: str | attempt_notes.Note
    error: str | attempt_notes.Note
    retry_after: dt.timedelta | None
    retryable: bool


# What every recorded attempt writes on its row.
RECORDED_FIELDS = (
    "attempt_count",
    "last_attempt_at",
    "last_status_code",
    "last_response_excerpt",
    "last_error",
    "last_note_code",
    "last_note_params",
    "claimed_until",
    "claim_token",
    "status",
    "next_attempt_at",
    "completed_at",
)


class AttemptRecorder:
    """Records one attempt's outcome on a row of leased work: the one recording function of webhooks and
    automations. A kind names its model and the row locked before it (`parent`: the endpoint, the rule),
    and adds what only it does by overriding the hooks."""

    model: type[LeasedRetry]
    parent: str
    # Whether the kind keeps a log row per attempt (log_attempt). A logged attempt really happened, so it
    # is logged and counted even by a worker whose lease was taken over.
    logs_attempts = False

    def log_attempt(self, row, *, number: int, outcome: Outcome, now) -> None:
        """Writes the kind's log row of this attempt."""

    def after(self, row, parent, *, outcome: Outcome, now) -> tuple[list[str], list[str]]:
        """What the kind does once the row moved on (health of the parent, its error badge…); returns the
        row's and the parent's further fields to save."""
        return [], []

    def record(self, *, pk: int, claim_token, outcome: Outcome, now=None):
        """Moves the row on: succeeded, retried after next_attempt_delay, or failed for good (not
        retryable, not retried, or its attempts ran out). A worker whose claim was taken over changes
        nothing on the row but the attempt log; a row deleted meanwhile is skipped (None)."""
        now = now or timezone.now()
        parent_model = self.model._meta.get_field(self.parent).related_model
        with transaction.atomic():
            parent_id = self.model.objects.filter(pk=pk).values_list(f"{self.parent}_id", flat=True).first()
            if parent_id is None:
                return None
            # Parent before row, like every other writer of both.
            parent = parent_model.objects.select_for_update().filter(pk=parent_id).first()
            row = self.model.objects.select_for_update().filter(pk=pk).first()
            if parent is None or row is None:
                return None
            setattr(row, self.parent, parent)
            number = row.attempt_count + 1
            holds_claim = row.claim_token == claim_token and row.status == PENDING
            if self.logs_attempts:
                self.log_attempt(row, number=number, outcome=outcome, now=now)
                row.attempt_count = number
                if not holds_claim:
                    row.save(update_fields=["attempt_count"])
            if not holds_claim:
                return row
            row.attempt_count = number
            row.last_attempt_at = now
            row.last_status_code = outcome.status_code
            row.last_error, row.last_response_excerpt, row.last_note_code, row.last_note_params = (
                attempt_notes.stored(outcome.error, outcome.response_excerpt, EXCERPT_CHARS)
            )
            row.claimed_until, row.claim_token = None, None
            if outcome.succeeded:
                retry_move(row, SUCCEEDED, now=now)
            elif not outcome.retryable or not row.is_retried or number >= MAX_ATTEMPTS:
                retry_move(row, FAILED, now=now)
            else:
                row.next_attempt_at = now + next_attempt_delay(number, outcome.retry_after)
            row_fields, parent_fields = self.after(row, parent, outcome=outcome, now=now)
            row.save(update_fields=[*RECORDED_FIELDS, *row_fields])
            if parent_fields:
                parent.save(update_fields=parent_fields)
        return row
