"""Webhook delivery: the outbox fan-out, claiming, sending, retrying and disabling failing endpoints.

One pass (`webhooks_run`, the per-minute task and the on-demand one) does two things:

1. **Fan-out.** Unprocessed outbox Events are locked (SKIP LOCKED, so workers share the work), one
   WebhookDelivery is created per matching active endpoint of the same merchant, and the Event is marked
   processed — in the same transaction, so an Event is never marked without its deliveries.
2. **Sending.** Due deliveries are claimed under lock with a lease (`claimed_until`, `claim_token`) and the
   transaction commits; each is POSTed with httpx *outside* any transaction; the attempt is then recorded
   in a short transaction. A worker killed in between leaves the lease to expire and the delivery is sent
   again by the next pass: at least once, never lost (receivers dedupe on `webhook-id`).

Failures (timeouts, connection errors, refused addresses, any non-2xx) are retried on the schedule of
notifications/retries.py (RETRY_DELAYS: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h — eight attempts over
27 h 35 min), or later when the receiver's `Retry-After` asks for more; claiming and recording are the
leased work that module shares with automations. `410 Gone` disables the endpoint at once; an endpoint
failing without a single success for WEBHOOKS_DISABLE_AFTER_DAYS days, or whose last
WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES deliveries all failed, is disabled too, and the merchant's owners
get an e-mail.
"""

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from core.models import Event
from notifications.attempt_notes import (
    CONNECT_TIMEOUT,
    CONNECTION_FAILED,
    ENDPOINT_DISABLED,
    READ_TIMEOUT,
    Note,
    stored,
)
from notifications.catalog import envelope
from notifications.outbox.consumers import consume_all, consume_batch
from notifications.retries import CLAIM_LEASE, EXCERPT_CHARS, FAILED, AttemptRecorder, claim, retry_move
from notifications.webhooks import alerts
from notifications.webhooks.choices import DeliveryOrigin, DeliveryStatus, DisabledReason
from notifications.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from notifications.webhooks.services.endpoints import stop_pending_deliveries
from notifications.webhooks.services.security import AddressRefused, resolve_addresses, url_refusal_note
from notifications.webhooks.services.signing import webhook_headers

logger = logging.getLogger(__name__)

FAN_OUT_BATCH = 200
CLAIM_BATCH = 10
READ_LIMIT_BYTES = 16 * 1024
# Within one task run a retry due this soon is waited for (the scheduler only wakes us once a minute),
# as long as the run stays within its budget.
SHORT_RETRY_WAIT_SECONDS = 10
RUN_BUDGET_SECONDS = 45


# --- fan-out ---------------------------------------------------------------------------------------
def _create_deliveries(events: list[Event], now) -> None:
    """One WebhookDelivery per matching active endpoint of each Event's merchant."""
    endpoints = defaultdict(list)
    for endpoint in WebhookEndpoint.objects.filter(
        merchant_id__in={event.merchant_id for event in events}, is_active=True
    ).only("pk", "merchant_id", "all_event_types", "event_types"):
        endpoints[endpoint.merchant_id].append(endpoint)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                merchant_id=event.merchant_id,
                endpoint=endpoint,
                event=event,
                origin=DeliveryOrigin.EVENT,
                next_attempt_at=now,
            )
            for event in events
            for endpoint in endpoints[event.merchant_id]
            if endpoint.receives(event.type)
        ],
        # The unique (endpoint, event) constraint: an Event is fanned out at most once per endpoint.
        ignore_conflicts=True,
    )


def fan_out_events(*, now=None, batch_size: int = FAN_OUT_BATCH) -> int:
    """Turns one batch of unprocessed outbox Events into deliveries; returns how many Events it took."""
    return consume_batch("processed_at", _create_deliveries, batch_size=batch_size, now=now)


def fan_out_all(*, now=None) -> int:
    return consume_all("processed_at", _create_deliveries, batch_size=FAN_OUT_BATCH, now=now)


# --- claiming --------------------------------------------------------------------------------------
def _due(now):
    return WebhookDelivery.objects.due(now).filter(endpoint__is_active=True)


def claim_due_deliveries(*, now=None, limit: int = CLAIM_BATCH) -> list[WebhookDelivery]:
    """Claims up to `limit` due deliveries for this worker and commits, so the sends happen outside the
    transaction. Each returned delivery carries the `claim_token` its attempt must be recorded with."""
    now = now or timezone.now()
    ids, _token = claim(_due(now), lease=CLAIM_LEASE, limit=limit, now=now)
    if not ids:
        return []
    return list(WebhookDelivery.objects.filter(pk__in=ids).select_related("endpoint", "event").order_by("pk"))


# --- sending ---------------------------------------------------------------------------------------
@dataclass
class AttemptResult:
    status_code: int | None = None
    latency_ms: int | None = None
    response_excerpt: str = ""
    # The receiver's or an exception's own words, or our sentence as a Note (stored as its code).
    error: str | Note = ""
    retry_after: dt.timedelta | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def retryable(self) -> bool:
        """410 Gone: the receiver says the endpoint is no more; trying again cannot help."""
        return self.status_code != 410


def request_body(event: Event) -> bytes:
    """The JSON body receivers get, identical on every attempt of the event (see catalog.envelope)."""
    return envelope_body(type=event.type, at=event.created_at, data=event.payload)


def envelope_body(*, type: str, at: dt.datetime, data: dict) -> bytes:
    """The envelope of an event of `type` that happened `at`, as compact UTF-8 JSON."""
    timestamp = at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    document = envelope(type=type, timestamp=timestamp, data=data)
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def parse_retry_after(value: str | None, *, now) -> dt.timedelta | None:
    """`Retry-After` as a delay: delta-seconds ("120") or an HTTP date; None when absent or unreadable."""
    value = (value or "").strip()
    if not value:
        return None
    if value.isdigit():
        return dt.timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(when - now, dt.timedelta(0))


def _error_of(exc: Exception) -> Note | str:
    """A failed send's error: our sentence as a Note (the library's words a param), or the exception's
    own words."""
    if isinstance(exc, httpx.ConnectTimeout):
        return Note(CONNECT_TIMEOUT, {"seconds": settings.WEBHOOKS_CONNECT_TIMEOUT})
    if isinstance(exc, httpx.TimeoutException | TimeoutError):
        return Note(READ_TIMEOUT, {"seconds": settings.WEBHOOKS_TIMEOUT})
    if isinstance(exc, httpx.ConnectError):
        return Note(CONNECTION_FAILED, {"error": (str(exc) or exc.__class__.__name__)[:EXCERPT_CHARS]})
    return f"{exc.__class__.__name__}: {exc}"[:EXCERPT_CHARS]


def _post(client: httpx.Client, url: httpx.URL, address: str, headers: dict, body: bytes, deadline: float):
    """POSTs to `address` (already checked) while presenting the URL's host name (Host header, TLS SNI and
    certificate check), and reads at most READ_LIMIT_BYTES of the answer before the deadline."""
    target = url.copy_with(host=address)
    extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
    request = client.build_request(
        "POST", target, headers={**headers, "host": url.netloc.decode()}, content=body, extensions=extensions
    )
    response = client.send(request, stream=True)
    try:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size >= READ_LIMIT_BYTES:
                break
            if time.monotonic() > deadline:
                raise TimeoutError
        return response, b"".join(chunks)
    finally:
        response.close()


def send_delivery(delivery: WebhookDelivery, *, now=None) -> AttemptResult:
    """One HTTP attempt of `delivery`, signed for `now`. Never raises: failures come back as a result."""
    now = now or timezone.now()
    started = time.monotonic()
    try:
        return _send(delivery, now=now, started=started)
    except Exception as exc:  # a bug or an odd answer must cost one attempt, not the whole pass
        logger.exception("webhook delivery %s: unexpected error", delivery.pk)
        return AttemptResult(latency_ms=int((time.monotonic() - started) * 1000), error=_error_of(exc))


def _send(delivery: WebhookDelivery, *, now, started: float) -> AttemptResult:
    endpoint, event = delivery.endpoint, delivery.event
    body = request_body(event)
    timestamp = int(now.timestamp())
    headers = webhook_headers(
        secrets=endpoint.signing_secrets(now), msg_id=str(event.uid), timestamp=timestamp, body=body
    )
    return post_json(endpoint.url, headers=headers, body=body, now=now, started=started)


def post_json(url: str, *, headers: dict, body: bytes, now, started: float | None = None) -> AttemptResult:
    """POSTs `body` to `url` under the SSRF rule (security.py): the URL is checked, its host resolved and
    every address vetted, and the request goes to a checked address. Used by webhook deliveries and by
    automations (their webhooks and provider integrations). Transport failures come back as a result;
    anything unexpected raises (callers turn it into a failed attempt)."""
    started = time.monotonic() if started is None else started
    refusal = url_refusal_note(url)
    if refusal:
        return AttemptResult(error=refusal)
    url = httpx.URL(url)
    try:
        addresses = resolve_addresses(url.host, url.port or (443 if url.scheme == "https" else 80))
    except AddressRefused as exc:
        return AttemptResult(error=exc.note)
    timeout = httpx.Timeout(settings.WEBHOOKS_TIMEOUT, connect=settings.WEBHOOKS_CONNECT_TIMEOUT)
    deadline = started + settings.WEBHOOKS_TIMEOUT
    try:
        # No redirects: a 3xx is a failure, so a redirect cannot lead the request to a refused address.
        with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            for index, address in enumerate(addresses):
                try:
                    response, content = _post(client, url, address, headers, body, deadline)
                    break
                except httpx.ConnectError:
                    if index == len(addresses) - 1:
                        raise
    except (httpx.HTTPError, TimeoutError, OSError) as exc:
        return AttemptResult(latency_ms=int((time.monotonic() - started) * 1000), error=_error_of(exc))
    return AttemptResult(
        status_code=response.status_code,
        latency_ms=int((time.monotonic() - started) * 1000),
        response_excerpt=content.decode("utf-8", errors="replace")[:EXCERPT_CHARS],
        retry_after=parse_retry_after(response.headers.get("retry-after"), now=now),
    )


# --- recording --------------------------------------------------------------------------------------
def _disable(endpoint: WebhookEndpoint, *, reason: str, now, delivery_pk) -> None:
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = reason
    stop_pending_deliveries(
        endpoint=endpoint, now=now, reason=Note(ENDPOINT_DISABLED), exclude_pk=delivery_pk
    )
    transaction.on_commit(lambda: alerts.send_endpoint_disabled(endpoint.pk), robust=True)
    logger.warning("webhook endpoint %s disabled (%s)", endpoint.pk, reason)


class DeliveryRecorder(AttemptRecorder):
    """Webhook deliveries as leased work: every attempt is logged (WebhookDeliveryAttempt), and the
    endpoint's health follows the outcome, disabling it when it is gone or keeps failing."""

    model = WebhookDelivery
    parent = "endpoint"
    logs_attempts = True

    def log_attempt(self, delivery, *, number, outcome, now):
        error, response_excerpt, note_code, note_params = stored(
            outcome.error, outcome.response_excerpt, EXCERPT_CHARS
        )
        WebhookDeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            attempted_at=now,
            succeeded=outcome.succeeded,
            status_code=outcome.status_code,
            latency_ms=outcome.latency_ms,
            response_excerpt=response_excerpt,
            error=error,
            note_code=note_code,
            note_params=note_params,
        )

    def after(self, delivery, endpoint, *, outcome, now):
        delivery.last_latency_ms = outcome.latency_ms
        endpoint_fields = ["failing_since", "consecutive_failed_deliveries"]
        if outcome.succeeded:
            endpoint.failing_since, endpoint.consecutive_failed_deliveries = None, 0
            return ["last_latency_ms"], endpoint_fields
        endpoint.failing_since = endpoint.failing_since or now
        if delivery.status == DeliveryStatus.FAILED:
            endpoint.consecutive_failed_deliveries += 1
        reason = _disable_reason(endpoint, outcome, now)
        if reason and endpoint.is_active:
            _disable(endpoint, reason=reason, now=now, delivery_pk=delivery.pk)
            endpoint_fields += ["is_active", "disabled_at", "disabled_reason"]
            if delivery.status == DeliveryStatus.PENDING:
                retry_move(delivery, FAILED, now=now)
        return ["last_latency_ms"], endpoint_fields


def record_attempt(
    *, delivery_id: int, claim_token, result: AttemptResult, now=None
) -> WebhookDelivery | None:
    """Logs the attempt and moves the delivery on: delivered, retried later, or failed for good (410 or
    its attempts ran out); keeps the endpoint's health and disables it when it is gone or keeps failing.

    A worker whose claim was taken over (its lease ran out) still logs its attempt but changes nothing
    else: the delivery belongs to the newer claim. A delivery deleted meanwhile (its endpoint was) is
    skipped (None)."""
    return DeliveryRecorder().record(pk=delivery_id, claim_token=claim_token, outcome=result, now=now)


def _disable_reason(endpoint: WebhookEndpoint, result: AttemptResult, now) -> str:
    if result.status_code == 410:
        return DisabledReason.GONE
    failing_for = now - endpoint.failing_since
    if (
        failing_for >= dt.timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS)
        or endpoint.consecutive_failed_deliveries >= settings.WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES
    ):
        return DisabledReason.FAILING
    return ""


# --- the pass --------------------------------------------------------------------------------------
def deliver_due(*, batch_size: int = CLAIM_BATCH, deadline: float | None = None) -> dict:
    """Claims, sends and records due deliveries until none is left (or, past the `deadline` on the
    monotonic clock, stops claiming: the next pass takes the rest); returns counts."""
    counts = {"sent": 0, "succeeded": 0, "failed": 0}
    while (deadline is None or time.monotonic() < deadline) and (
        claimed := claim_due_deliveries(now=timezone.now(), limit=batch_size)
    ):
        for delivery in claimed:
            result = send_delivery(delivery, now=timezone.now())
            record_attempt(
                delivery_id=delivery.pk, claim_token=delivery.claim_token, result=result, now=timezone.now()
            )
            counts["sent"] += 1
            counts["succeeded" if result.succeeded else "failed"] += 1
    return counts


def next_due_at():
    """When the soonest unclaimed pending delivery of an active endpoint falls due (None if there is none)."""
    now = timezone.now()
    return (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, endpoint__is_active=True)
        .unclaimed(now)
        .aggregate(soonest=Min("next_attempt_at"))["soonest"]
    )


def webhooks_run(*, sleep=time.sleep, budget_seconds: float = RUN_BUDGET_SECONDS) -> dict:
    """One worker pass: fan out the outbox and send what is due. A retry due within a few seconds (the
    first retry comes 5 s after a failure) is waited for inside the pass, within its time budget."""
    started = time.monotonic()
    totals = {"events": 0, "sent": 0, "succeeded": 0, "failed": 0}
    while True:
        totals["events"] += fan_out_all()
        for key, value in deliver_due(deadline=started + budget_seconds).items():
            totals[key] += value
        soonest = next_due_at()
        if soonest is None:
            break
        wait = max((soonest - timezone.now()).total_seconds(), 1.0)
        if wait > SHORT_RETRY_WAIT_SECONDS or time.monotonic() - started + wait > budget_seconds:
            break
        sleep(wait)
    return totals
