"""The automations consumer: outbox events → runs → actions, with the webhooks' retry schedule.

One pass (`automations_run`, a per-minute django-q2 task) does what the webhook pass does:

1. **Fan-out.** Events with `automations_processed_at` empty are locked (SKIP LOCKED), one
   AutomationRun is created per enabled rule of the same merchant whose trigger and conditions match, and
   the events are marked — in one transaction. The unique (automation, event) constraint makes an event
   run a rule at most once, even when it is offered again.
2. **Running.** Due runs are claimed under a lease and executed outside any transaction; the outcome is
   recorded in a short transaction (leased work, notifications/retries.py). Failures are retried after
   retries.RETRY_DELAYS (8 attempts over 27 h 35 min) or the receiver's Retry-After; a failure that
   retrying cannot fix (a deleted subscription, an unreadable credential) ends the run at once. Every
   failure puts the error on the rule (`last_error`, the error badge); a success clears it.
"""

import logging
import time
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import Min
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import Event
from notifications.attempt_notes import NO_CUSTOMER_EMAIL, SENT_TO, SUBSCRIPTION_GONE, TEST_INTERRUPTED, Note
from notifications.automations import triggers
from notifications.automations.choices import ActionKind, RunOrigin, RunStatus
from notifications.automations.integrations import IntegrationError, adapter_for, failure_message
from notifications.automations.models import Automation, AutomationRun
from notifications.outbox.consumers import consume_all, consume_batch
from notifications.retries import CLAIM_LEASE, AttemptRecorder, claim, end_as_failed
from notifications.webhooks.services.dispatch import (
    RUN_BUDGET_SECONDS,
    SHORT_RETRY_WAIT_SECONDS,
    envelope_body,
    post_json,
    request_body,
)
from notifications.webhooks.services.signing import webhook_headers

logger = logging.getLogger(__name__)
FAN_OUT_BATCH = 200
CLAIM_BATCH = 10


# --- fan-out ----------------------------------------------------------------------------------------------
def _create_runs(events: list[Event], now) -> None:
    """One AutomationRun per enabled rule of each Event's merchant whose trigger and conditions match."""
    wanted = {trigger for event in events for trigger in triggers.triggers_for(event.type)}
    rules: dict[int, list[Automation]] = {}
    if wanted:
        candidates = list(
            Automation.objects.filter(
                merchant_id__in={event.merchant_id for event in events},
                is_enabled=True,
                trigger__in=wanted,
            )
        )
        plan_ids: dict[int, set[int]] = {rule.pk: set() for rule in candidates}
        for automation_id, plan_id in Automation.plans.through.objects.filter(
            automation_id__in=plan_ids
        ).values_list("automation_id", "plan_id"):
            plan_ids[automation_id].add(plan_id)
        for rule in candidates:
            rule.plan_ids = plan_ids[rule.pk]
            rules.setdefault(rule.merchant_id, []).append(rule)
    AutomationRun.objects.bulk_create(
        [
            AutomationRun(
                merchant_id=event.merchant_id,
                automation=rule,
                event=event,
                event_type=event.type,
                origin=RunOrigin.EVENT,
                next_attempt_at=now,
            )
            for event in events
            for rule in rules.get(event.merchant_id, [])
            if triggers.matches(rule, event.type, event.payload, rule.plan_ids)
        ],
        ignore_conflicts=True,
    )


def fan_out_events(*, now=None, batch_size: int = FAN_OUT_BATCH) -> int:
    """Turns one batch of events not yet seen by automations into runs; returns how many events it took."""
    return consume_batch("automations_processed_at", _create_runs, batch_size=batch_size, now=now)


def fan_out_all(*, now=None) -> int:
    return consume_all("automations_processed_at", _create_runs, batch_size=FAN_OUT_BATCH, now=now)


# --- claiming ---------------------------------------------------------------------------------------------
def _due(now):
    return AutomationRun.objects.due(now).filter(origin=RunOrigin.EVENT, automation__is_enabled=True)


def claim_due_runs(*, now=None, limit: int = CLAIM_BATCH) -> list[AutomationRun]:
    """Claims up to `limit` due runs for this worker and commits (see dispatch.claim_due_deliveries)."""
    now = now or timezone.now()
    ids, _token = claim(_due(now), lease=CLAIM_LEASE, limit=limit, now=now)
    if not ids:
        return []
    return list(
        AutomationRun.objects.filter(pk__in=ids)
        .select_related("automation__integration", "event")
        .order_by("pk")
    )


# --- executing --------------------------------------------------------------------------------------------
@dataclass
class RunOutcome:
    succeeded: bool
    status_code: int | None = None
    # Free text (a receiver's or an exception's words), or our own as a Note (stored as its code).
    response_excerpt: str | Note = ""
    error: str | Note = ""
    retry_after: object = None
    retryable: bool = True


def _payload_of(run: AutomationRun) -> dict:
    return run.event.payload if run.event_id else triggers.sample_payload(run.automation)


def _webhook(run: AutomationRun, now) -> RunOutcome:
    automation = run.automation
    if run.event_id:
        body, msg_id = request_body(run.event), str(run.event.uid)
    else:
        body, msg_id = envelope_body(type=run.event_type, at=now, data=_payload_of(run)), str(run.uid)
    headers = webhook_headers(
        secrets=[automation.signing_secret], msg_id=msg_id, timestamp=int(now.timestamp()), body=body
    )
    headers["user-agent"] = "Recorrente-Automations/1"
    result = post_json(automation.webhook_url, headers=headers, body=body, now=now)
    if result.succeeded:
        return RunOutcome(True, result.status_code, result.response_excerpt)
    return RunOutcome(
        False,
        result.status_code,
        result.response_excerpt,
        error=failure_message(result),
        retry_after=result.retry_after,
        retryable=result.status_code != 410,
    )


def _provider(run: AutomationRun, now) -> RunOutcome:
    automation = run.automation
    subscription = triggers.subscription_payload(run.event_type, _payload_of(run))
    customer = subscription.get("customer") or {}
    if not customer.get("email"):
        return RunOutcome(False, error=Note(NO_CUSTOMER_EMAIL), retryable=False)
    adapter = adapter_for(automation.integration)
    result = adapter.push_contact(
        automation.integration,
        {"email": customer.get("email"), "name": customer.get("name") or ""},
        automation.list_id,
        tags=automation.tags,
        event_type=run.event_type,
        test=run.origin == RunOrigin.TEST,
    )
    return RunOutcome(True, result.status_code, result.response_excerpt)


def _email(run: AutomationRun, now) -> RunOutcome:
    # The customer e-mails module sends (and records) the message; this only finds the subscription.
    from notifications.emails.services.customer_emails import send_customer_email
    from subscribers.models import Subscription

    subscription_id = triggers.subscription_payload(run.event_type, _payload_of(run)).get("id")
    subscription = (
        Subscription.objects.select_related("customer", "plan", "merchant")
        .filter(pk=subscription_id, merchant_id=run.merchant_id)
        .first()
    )
    if subscription is None:
        return RunOutcome(False, error=Note(SUBSCRIPTION_GONE), retryable=False)
    send_customer_email(
        kind=run.automation.email_kind,
        subscription=subscription,
        event=run.event,
        dedupe_key=f"automation:{run.automation_id}:{run.event_id or run.uid}",
    )
    return RunOutcome(True)


ACTIONS = {ActionKind.WEBHOOK: _webhook, ActionKind.PROVIDER: _provider, ActionKind.EMAIL: _email}


def execute_run(run: AutomationRun, *, now=None) -> RunOutcome:
    """Does the rule's action once for this run. Never raises: failures come back as an outcome."""
    now = now or timezone.now()
    try:
        return ACTIONS[run.automation.action](run, now)
    except IntegrationError as exc:
        return RunOutcome(
            False,
            exc.status_code,
            exc.response_excerpt,
            error=exc.error,
            retry_after=exc.retry_after,
            retryable=exc.retryable,
        )
    except Exception as exc:  # a bug or an odd answer must cost one attempt, not the whole pass
        logger.exception("automation run %s: unexpected error", run.pk)
        return RunOutcome(False, error=f"{exc.__class__.__name__}: {exc}")


# --- recording --------------------------------------------------------------------------------------------
class RunRecorder(AttemptRecorder):
    """Automation runs as leased work: the rule's error badge follows the outcome (a failure sets it, a
    success clears it)."""

    model = AutomationRun
    parent = "automation"

    def after(self, run, automation, *, outcome, now):
        if outcome.succeeded:
            automation.last_error, automation.last_error_at = "", None
            automation.last_error_code, automation.last_error_params = "", {}
        else:
            automation.last_error, automation.last_error_at = run.last_error, now
            automation.last_error_code = run.last_note_code
            automation.last_error_params = run.last_note_params
        automation.last_run_at = now
        return [], ["last_error", "last_error_code", "last_error_params", "last_error_at", "last_run_at"]


def record_outcome(*, run_id: int, claim_token, outcome: RunOutcome, now=None) -> AutomationRun | None:
    """Moves the run on (done, retried later, or failed for good) and keeps the rule's error badge. A
    worker whose lease was taken over changes nothing; a run deleted meanwhile is skipped (None)."""
    return RunRecorder().record(pk=run_id, claim_token=claim_token, outcome=outcome, now=now)


# --- "Enviar teste" -----------------------------------------------------------------------------------------
def automation_send_test(*, automation: Automation, actor, now=None) -> AutomationRun:
    """Runs the rule's action now with the catalog's sample of its trigger's event (the run log shows it,
    marked "Teste"); the result updates the error badge like a real run. Not retried. An e-mail rule sends
    its template, filled with sample data, to the person testing — never to a customer. Must be called
    outside a transaction: it makes the HTTP request."""
    now = now or timezone.now()
    if automation.action == ActionKind.EMAIL and not getattr(actor, "email", ""):
        raise ValidationError(
            _("Cadastre um e-mail no seu usuário para receber o teste."), code="no_test_recipient"
        )
    token = uuid.uuid4()
    run = AutomationRun.objects.create(
        merchant_id=automation.merchant_id,
        automation=automation,
        event=None,
        event_type=triggers.TRIGGER_EVENT_TYPE[automation.trigger],
        origin=RunOrigin.TEST,
        next_attempt_at=now,
        claimed_until=now + CLAIM_LEASE,
        claim_token=token,
    )
    run.automation = automation
    if automation.action == ActionKind.EMAIL:
        outcome = _email_test(automation, to=actor.email)
    else:
        outcome = execute_run(run, now=now)
    return record_outcome(run_id=run.pk, claim_token=token, outcome=outcome, now=timezone.now())


def _email_test(automation: Automation, *, to: str) -> RunOutcome:
    from notifications.emails.services.customer_emails import send_test_email

    try:
        send_test_email(merchant=automation.merchant, kind=automation.email_kind, to=to)
    except Exception as exc:  # the mail server's refusal is the test's result
        logger.warning("automation %s: test e-mail failed", automation.pk, exc_info=True)
        return RunOutcome(False, error=f"{exc.__class__.__name__}: {exc}", retryable=False)
    return RunOutcome(True, response_excerpt=Note(SENT_TO, {"email": to}))


# --- the pass ---------------------------------------------------------------------------------------------
def run_due(*, batch_size: int = CLAIM_BATCH, deadline: float | None = None) -> dict:
    counts = {"runs": 0, "succeeded": 0, "failed": 0}
    while (deadline is None or time.monotonic() < deadline) and (
        claimed := claim_due_runs(now=timezone.now(), limit=batch_size)
    ):
        for run in claimed:
            outcome = execute_run(run, now=timezone.now())
            record_outcome(run_id=run.pk, claim_token=run.claim_token, outcome=outcome, now=timezone.now())
            counts["runs"] += 1
            counts["succeeded" if outcome.succeeded else "failed"] += 1
    return counts


def next_due_at():
    now = timezone.now()
    return (
        AutomationRun.objects.filter(
            status=RunStatus.PENDING, origin=RunOrigin.EVENT, automation__is_enabled=True
        )
        .unclaimed(now)
        .aggregate(soonest=Min("next_attempt_at"))["soonest"]
    )


def end_abandoned_tests(*, now=None) -> int:
    """Ends as failed the "Enviar teste" runs whose request died with its web process (their lease ran
    out without an outcome), so the log does not show them pending forever. Tests are never retried."""
    now = now or timezone.now()
    abandoned = AutomationRun.objects.filter(origin=RunOrigin.TEST, claimed_until__lte=now)
    return end_as_failed(abandoned, now=now, reason=Note(TEST_INTERRUPTED))


def automations_run(*, sleep=time.sleep, budget_seconds: float = RUN_BUDGET_SECONDS) -> dict:
    """One worker pass: fan the outbox out to the rules and run what is due, waiting within the pass for
    a retry due in a few seconds (like dispatch.webhooks_run)."""
    started = time.monotonic()
    totals = {"events": 0, "runs": 0, "succeeded": 0, "failed": 0}
    end_abandoned_tests()
    while True:
        totals["events"] += fan_out_all()
        for key, value in run_due(deadline=started + budget_seconds).items():
            totals[key] += value
        soonest = next_due_at()
        if soonest is None:
            break
        wait = max((soonest - timezone.now()).total_seconds(), 1.0)
        if wait > SHORT_RETRY_WAIT_SECONDS or time.monotonic() - started + wait > budget_seconds:
            break
        sleep(wait)
    return totals
