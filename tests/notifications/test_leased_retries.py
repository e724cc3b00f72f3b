"""Leased retries (notifications/retries.py): the claiming, recording and status rules webhook deliveries
and automation runs share, proved once for both kinds."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine
from django.utils import translation

from notifications.attempt_notes import ENDPOINT_DISABLED, Note
from notifications.automations import runner
from notifications.automations.models import AutomationRun
from notifications.retries import (
    FAILED,
    MAX_ATTEMPTS,
    MAX_RETRY_AFTER,
    PENDING,
    RETRY_DELAYS,
    SUCCEEDED,
    end_as_failed,
    retry_move,
)
from notifications.webhooks.models import WebhookDelivery
from notifications.webhooks.services import dispatch
from tests.factories import AutomationRunFactory, WebhookDeliveryFactory

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2027, 4, 5, 10, 0, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Kind:
    """One kind of leased work, seen through the functions its own code calls."""

    model: Any
    factory: Any
    claim: Any  # (now, limit) -> claimed rows
    record: Any  # (row, token, outcome, now) -> row | None
    ok: Any
    fail: Any  # (retry_after=None) -> a retryable failure
    fatal: Any  # a failure retrying cannot fix


WEBHOOK = Kind(
    model=WebhookDelivery,
    factory=WebhookDeliveryFactory,
    claim=lambda now, limit=10: dispatch.claim_due_deliveries(now=now, limit=limit),
    record=lambda row, token, outcome, now: dispatch.record_attempt(
        delivery_id=row.pk, claim_token=token, result=outcome, now=now
    ),
    ok=lambda: dispatch.AttemptResult(status_code=200, latency_ms=5, response_excerpt="ok"),
    fail=lambda retry_after=None: dispatch.AttemptResult(
        status_code=503, latency_ms=5, response_excerpt="busy", retry_after=retry_after
    ),
    fatal=lambda: dispatch.AttemptResult(status_code=410, latency_ms=5, response_excerpt="gone"),
)
AUTOMATION = Kind(
    model=AutomationRun,
    factory=AutomationRunFactory,
    claim=lambda now, limit=10: runner.claim_due_runs(now=now, limit=limit),
    record=lambda row, token, outcome, now: runner.record_outcome(
        run_id=row.pk, claim_token=token, outcome=outcome, now=now
    ),
    ok=lambda: runner.RunOutcome(True, 200, "ok"),
    fail=lambda retry_after=None: runner.RunOutcome(
        False, 503, "busy", error="HTTP 503", retry_after=retry_after
    ),
    fatal=lambda: runner.RunOutcome(False, error="A assinatura do evento não existe mais.", retryable=False),
)
KINDS = pytest.mark.parametrize("kind", [WEBHOOK, AUTOMATION], ids=["webhook_delivery", "automation_run"])


def due_row(kind: Kind, merchant):
    with time_machine.travel(T0, tick=False):
        return kind.factory(merchant=merchant, next_attempt_at=T0)


def attempt(kind: Kind, outcome, *, now):
    (claimed,) = kind.claim(now)
    return kind.record(claimed, claimed.claim_token, outcome, now)


@KINDS
def test_a_success_ends_the_work_and_releases_the_lease(kind, merchant):
    row = due_row(kind, merchant)

    attempt(kind, kind.ok(), now=T0)

    row.refresh_from_db()
    assert row.status == SUCCEEDED
    assert row.attempt_count == 1
    assert row.completed_at == T0 and row.last_attempt_at == T0
    assert row.next_attempt_at is None
    assert row.claimed_until is None and row.claim_token is None
    assert row.last_status_code == 200 and row.last_response_excerpt == "ok"


@KINDS
def test_failures_follow_the_schedule_until_the_attempts_run_out(kind, merchant):
    row = due_row(kind, merchant)
    now = T0

    for number in range(1, MAX_ATTEMPTS):
        attempt(kind, kind.fail(), now=now)
        row.refresh_from_db()
        assert row.status == PENDING and row.attempt_count == number
        assert row.next_attempt_at == now + RETRY_DELAYS[number - 1]
        assert row.claim_token is None
        assert kind.claim(now) == []  # not due before its delay
        now = row.next_attempt_at

    attempt(kind, kind.fail(), now=now)

    row.refresh_from_db()
    assert row.status == FAILED and row.attempt_count == MAX_ATTEMPTS
    assert row.completed_at == now and row.next_attempt_at is None
    assert row.last_status_code == 503


@KINDS
@pytest.mark.parametrize(
    ("retry_after", "expected_wait"),
    [
        (dt.timedelta(seconds=1), RETRY_DELAYS[0]),  # shorter than the schedule: the schedule wins
        (dt.timedelta(hours=1), dt.timedelta(hours=1)),
        (dt.timedelta(hours=48), MAX_RETRY_AFTER),  # capped
    ],
)
def test_a_retry_after_longer_than_the_schedule_is_honoured_up_to_the_cap(
    kind, merchant, retry_after, expected_wait
):
    row = due_row(kind, merchant)

    attempt(kind, kind.fail(retry_after=retry_after), now=T0)

    row.refresh_from_db()
    assert row.status == PENDING
    assert row.next_attempt_at == T0 + expected_wait


@KINDS
def test_a_failure_retrying_cannot_fix_ends_the_work_at_once(kind, merchant):
    row = due_row(kind, merchant)

    attempt(kind, kind.fatal(), now=T0)

    row.refresh_from_db()
    assert row.status == FAILED and row.attempt_count == 1
    assert row.completed_at == T0 and row.next_attempt_at is None


@KINDS
def test_a_claimed_row_waits_for_its_lease_to_run_out_before_another_claim(kind, merchant):
    due_row(kind, merchant)
    (first,) = kind.claim(T0)

    assert kind.claim(T0 + dispatch.CLAIM_LEASE - dt.timedelta(seconds=1)) == []
    (second,) = kind.claim(T0 + dispatch.CLAIM_LEASE)

    assert second.pk == first.pk and second.claim_token != first.claim_token


@KINDS
def test_a_worker_whose_lease_was_taken_over_moves_nothing(kind, merchant):
    row = due_row(kind, merchant)
    (stale,) = kind.claim(T0)
    (current,) = kind.claim(T0 + dispatch.CLAIM_LEASE)

    kind.record(stale, stale.claim_token, kind.ok(), T0 + dispatch.CLAIM_LEASE)

    row.refresh_from_db()
    assert row.status == PENDING
    assert row.claim_token == current.claim_token
    assert row.last_attempt_at is None and row.completed_at is None


@KINDS
def test_recording_for_a_row_deleted_meanwhile_is_skipped(kind, merchant):
    row = due_row(kind, merchant)
    (claimed,) = kind.claim(T0)
    kind.model.objects.filter(pk=row.pk).delete()

    assert kind.record(claimed, claimed.claim_token, kind.ok(), T0) is None


@KINDS
def test_ending_as_failed_moves_only_pending_work_and_releases_its_lease(kind, merchant):
    pending = due_row(kind, merchant)
    done = due_row(kind, merchant)
    kind.claim(T0, limit=2)
    kind.model.objects.filter(pk=done.pk).update(status=SUCCEEDED, completed_at=T0)

    with translation.override("pt-br"):
        ended = end_as_failed(
            kind.model.objects.filter(merchant=merchant), now=T0, reason=Note(ENDPOINT_DISABLED)
        )

    assert ended == 1
    pending.refresh_from_db()
    done.refresh_from_db()
    # Why is stored as its code, never as a sentence in the worker's language.
    assert (pending.status, pending.last_error, pending.last_note_code) == (FAILED, "", ENDPOINT_DISABLED)
    with translation.override("en"):
        assert pending.last_error_display == "Endpoint disabled."
    assert pending.claim_token is None and pending.next_attempt_at is None and pending.completed_at == T0
    assert done.status == SUCCEEDED


@KINDS
@pytest.mark.parametrize("finished", [SUCCEEDED, FAILED])
@pytest.mark.parametrize("to_status", [PENDING, SUCCEEDED, FAILED])
def test_finished_work_never_moves_again(kind, merchant, finished, to_status):
    row = due_row(kind, merchant)
    row.status = finished

    with pytest.raises(ValueError, match="RETRY_TRANSITIONS"):
        retry_move(row, to_status, now=T0)

    assert row.status == finished
