"""Delivery: fan-out from the outbox, sending to a real local receiver, retries, disabling, crashes."""

import datetime as dt
import json
import time
from email.utils import format_datetime

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from accounts.choices import Role
from core.models import Event
from notifications.models import WebhookDelivery, WebhookDeliveryAttempt
from notifications.retries import MAX_ATTEMPTS, RETRY_DELAYS, next_attempt_delay
from notifications.webhooks.choices import DeliveryOrigin, DeliveryStatus, DisabledReason
from notifications.webhooks.services import dispatch, webhook_delivery_resend
from notifications.webhooks.services.dispatch import (
    AttemptResult,
    claim_due_deliveries,
    deliver_due,
    fan_out_all,
    parse_retry_after,
    record_attempt,
    webhooks_run,
)
from tests.factories import (
    EventFactory,
    MembershipFactory,
    UserFactory,
    WebhookDeliveryFactory,
    WebhookEndpointFactory,
)

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2027, 4, 5, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def scripted(monkeypatch, *results):
    """Replaces the HTTP send with these results, in order (the last one repeats)."""
    queue = list(results)
    sent = []

    def fake_send(delivery, *, now=None):
        sent.append((delivery.pk, now))
        return queue.pop(0) if len(queue) > 1 else queue[0]

    monkeypatch.setattr(dispatch, "send_delivery", fake_send)
    return sent


FAIL = AttemptResult(status_code=500, latency_ms=3, response_excerpt="boom")
OK = AttemptResult(status_code=200, latency_ms=3, response_excerpt="ok")


# --- fan-out ----------------------------------------------------------------------------------------------
def test_fan_out_creates_one_delivery_per_matching_active_endpoint_of_the_same_merchant(
    merchant, other_merchant
):
    everything = WebhookEndpointFactory(merchant=merchant)
    invoices_only = WebhookEndpointFactory(
        merchant=merchant, all_event_types=False, event_types=["invoice.paid"]
    )
    WebhookEndpointFactory(merchant=merchant, is_active=False)
    elsewhere = WebhookEndpointFactory(merchant=other_merchant)
    paid = EventFactory(merchant=merchant, type="invoice.paid")
    canceled = EventFactory(merchant=merchant, type="subscription.canceled")

    assert fan_out_all() == 2

    pairs = set(WebhookDelivery.objects.values_list("endpoint_id", "event_id"))
    assert pairs == {(everything.pk, paid.pk), (everything.pk, canceled.pk), (invoices_only.pk, paid.pk)}
    assert not WebhookDelivery.objects.filter(endpoint=elsewhere).exists()
    assert not Event.objects.filter(processed_at__isnull=True).exists()
    assert set(WebhookDelivery.objects.values_list("origin", flat=True)) == {DeliveryOrigin.EVENT}


def test_an_event_is_fanned_out_once_even_if_it_comes_back_unprocessed(merchant):
    WebhookEndpointFactory(merchant=merchant)
    event = EventFactory(merchant=merchant)
    fan_out_all()
    Event.objects.filter(pk=event.pk).update(processed_at=None)

    fan_out_all()

    assert WebhookDelivery.objects.filter(event=event).count() == 1


def test_events_without_endpoints_are_processed_without_deliveries(merchant):
    event = EventFactory(merchant=merchant)

    fan_out_all()

    event.refresh_from_db()
    assert event.processed_at is not None
    assert not WebhookDelivery.objects.exists()


def test_an_event_is_never_marked_processed_when_its_deliveries_were_not_created(merchant, monkeypatch):
    WebhookEndpointFactory(merchant=merchant)
    event = EventFactory(merchant=merchant)

    def crash(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr(WebhookDelivery.objects, "bulk_create", crash)
    with pytest.raises(RuntimeError):
        fan_out_all()

    event.refresh_from_db()
    assert event.processed_at is None
    monkeypatch.undo()
    fan_out_all()
    assert WebhookDelivery.objects.filter(event=event).count() == 1


# --- a real receiver on 127.0.0.1 ------------------------------------------------------------------------
def test_a_delivery_reaches_the_receiver_signed_and_verifiable(merchant, receiver, allow_private):
    endpoint = WebhookEndpointFactory(merchant=merchant, url=receiver.url)
    event = EventFactory(merchant=merchant, type="payment.succeeded", payload={"id": 3, "amount": 4990})

    totals = webhooks_run(sleep=lambda seconds: None)

    assert totals["events"] == 1 and totals["succeeded"] == 1
    (request,) = receiver.requests
    assert request.path == "/hook"
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload == {
        "version": 1,
        "type": "payment.succeeded",
        "timestamp": json.loads(request.body)["timestamp"],
        "data": {"id": 3, "amount": 4990},
    }
    assert request.headers["webhook-id"] == str(event.uid)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    attempt = WebhookDeliveryAttempt.objects.get()
    assert (attempt.number, attempt.status_code, attempt.succeeded) == (1, 200, True)
    assert attempt.latency_ms is not None and attempt.response_excerpt == "ok"


def test_500_then_200_delivers_exactly_once_more_with_the_same_id(merchant, receiver, allow_private, clock):
    WebhookEndpointFactory(merchant=merchant, url=receiver.url)
    EventFactory(merchant=merchant, type="invoice.paid")
    receiver.respond(500)
    waits = []

    def sleep(seconds):  # the pass waits for the 5 s retry; the clock moves instead of the test sleeping
        waits.append(seconds)
        clock.shift(seconds)

    webhooks_run(sleep=sleep)
    webhooks_run(sleep=sleep)  # nothing more to do

    assert waits == [5.0]
    assert len(receiver.requests) == 2
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.body == second.body
    assert int(second.headers["webhook-timestamp"]) == int(first.headers["webhook-timestamp"]) + 5
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [(a.number, a.status_code) for a in delivery.attempts.all()] == [(1, 500), (2, 200)]


def test_redirects_are_not_followed(merchant, receiver, allow_private):
    receiver.respond((302, {"Location": "http://169.254.169.254/latest/meta-data"}, b""))
    WebhookDeliveryFactory(merchant=merchant, endpoint__url=receiver.url)

    deliver_due()

    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 302 and delivery.status == DeliveryStatus.PENDING


def test_the_response_excerpt_is_cut_at_500_characters(merchant, receiver, allow_private):
    receiver.respond((400, {}, ("é" * 2000).encode()))
    WebhookDeliveryFactory(merchant=merchant, endpoint__url=receiver.url)

    deliver_due()

    attempt = WebhookDeliveryAttempt.objects.get()
    assert attempt.response_excerpt == "é" * 500


def test_a_connection_refused_is_a_failed_attempt(merchant, allow_private):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    WebhookDeliveryFactory(merchant=merchant, endpoint__url=f"http://127.0.0.1:{port}/hook")

    deliver_due()

    delivery = WebhookDelivery.objects.get()
    assert delivery.attempt_count == 1 and delivery.status == DeliveryStatus.PENDING
    assert delivery.last_status_code is None and delivery.last_note_code == "connection_failed"
    assert delivery.last_note_params["error"] and delivery.last_error_display.startswith("Falha de conexão: ")


def test_a_receiver_that_never_answers_times_out_within_the_limit(merchant, allow_private, settings):
    import socket

    settings.WEBHOOKS_TIMEOUT = 0.5
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    try:
        WebhookDeliveryFactory(
            merchant=merchant, endpoint__url=f"http://127.0.0.1:{listener.getsockname()[1]}/"
        )
        started = time.monotonic()

        deliver_due()

        assert time.monotonic() - started < 5
    finally:
        listener.close()
    delivery = WebhookDelivery.objects.get()
    assert "Tempo de resposta esgotado" in delivery.last_error_display


# --- retries ---------------------------------------------------------------------------------------------
def test_the_retry_schedule_spans_eight_attempts_over_more_than_27_hours(merchant, monkeypatch, clock):
    sent = scripted(monkeypatch, FAIL)
    delivery = WebhookDeliveryFactory(merchant=merchant)
    gaps = []

    for _attempt in range(MAX_ATTEMPTS):
        deliver_due()
        delivery.refresh_from_db()
        if delivery.next_attempt_at:
            gaps.append(delivery.next_attempt_at - timezone.now())
            clock.shift(delivery.next_attempt_at - timezone.now() - dt.timedelta(seconds=1))
            deliver_due()  # one second early: not due yet
            clock.shift(dt.timedelta(seconds=1))

    assert gaps == list(RETRY_DELAYS)
    assert [str(gap) for gap in gaps] == [
        "0:00:05",
        "0:05:00",
        "0:30:00",
        "2:00:00",
        "5:00:00",
        "10:00:00",
        "10:00:00",
    ]
    assert len(sent) == MAX_ATTEMPTS == 8
    assert sum(gaps, dt.timedelta()) >= dt.timedelta(hours=27)
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    deliver_due()
    assert len(sent) == 8


def test_retry_after_in_seconds_is_honoured_when_longer(merchant, monkeypatch, clock):
    scripted(monkeypatch, AttemptResult(status_code=429, retry_after=parse_retry_after("120", now=T0)))
    delivery = WebhookDeliveryFactory(merchant=merchant)

    deliver_due()

    delivery.refresh_from_db()
    assert delivery.next_attempt_at == T0 + dt.timedelta(seconds=120)


def test_retry_after_as_an_http_date_from_a_real_receiver(merchant, receiver, allow_private, clock):
    later = T0 + dt.timedelta(hours=1)
    receiver.respond((503, {"Retry-After": format_datetime(later, usegmt=True)}, b"busy"))
    delivery = WebhookDeliveryFactory(merchant=merchant, endpoint__url=receiver.url)

    deliver_due()

    delivery.refresh_from_db()
    assert delivery.next_attempt_at == later


def test_a_shorter_retry_after_does_not_shorten_the_schedule():
    assert next_attempt_delay(2, dt.timedelta(seconds=10)) == dt.timedelta(minutes=5)
    assert next_attempt_delay(1, None) == dt.timedelta(seconds=5)
    assert next_attempt_delay(1, dt.timedelta(days=30)) == dt.timedelta(hours=24)


def test_unreadable_retry_after_is_ignored():
    assert parse_retry_after("soon", now=T0) is None
    assert parse_retry_after("", now=T0) is None
    assert parse_retry_after(
        format_datetime(T0 - dt.timedelta(hours=1), usegmt=True), now=T0
    ) == dt.timedelta(0)


# --- disabling -------------------------------------------------------------------------------------------
def test_410_gone_disables_the_endpoint_at_once(merchant, receiver, allow_private, mailoutbox, owner):
    receiver.respond(410)
    endpoint = WebhookEndpointFactory(merchant=merchant, url=receiver.url)
    gone = WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint)
    waiting = WebhookDeliveryFactory(
        merchant=merchant, endpoint=endpoint, next_attempt_at=timezone.now() + dt.timedelta(hours=1)
    )

    deliver_due()

    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert endpoint.disabled_reason == DisabledReason.GONE and endpoint.disabled_at
    gone.refresh_from_db()
    waiting.refresh_from_db()
    assert gone.status == DeliveryStatus.FAILED and gone.attempt_count == 1
    assert waiting.status == DeliveryStatus.FAILED and waiting.last_error_display == "Endpoint desativado."
    assert len(receiver.requests) == 1


def test_an_endpoint_failing_for_five_days_is_disabled_and_the_owners_are_told(
    merchant, monkeypatch, clock, mailoutbox, django_capture_on_commit_callbacks, settings
):
    settings.WEBHOOKS_DISABLE_AFTER_DAYS = 5
    owner = UserFactory(username="dona", email="dona@example.com")
    MembershipFactory(user=owner, merchant=merchant, role=Role.OWNER)
    viewer = UserFactory(username="leitor", email="leitor@example.com")
    MembershipFactory(user=viewer, merchant=merchant, role=Role.VIEWER)
    scripted(monkeypatch, FAIL)
    endpoint = WebhookEndpointFactory(merchant=merchant, url="https://hooks.example.com/x")

    for day in range(6):
        clock.move_to(T0 + dt.timedelta(days=day))
        WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint)
        with django_capture_on_commit_callbacks(execute=True):
            deliver_due()
        endpoint.refresh_from_db()
        assert endpoint.is_active == (day < 5), day

    assert endpoint.disabled_reason == DisabledReason.FAILING
    assert endpoint.failing_since == T0
    assert not WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).exists()
    (mail,) = mailoutbox
    assert mail.to == ["dona@example.com"]
    assert "hooks.example.com" in mail.body and "desativado" in mail.body


def test_n_consecutive_failed_deliveries_disable_the_endpoint(merchant, monkeypatch, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES = 3
    scripted(monkeypatch, FAIL)
    endpoint = WebhookEndpointFactory(merchant=merchant)
    last_tries = [
        WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, attempt_count=MAX_ATTEMPTS - 1)
        for _ in range(3)
    ]

    deliver_due()

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_reason == DisabledReason.FAILING
    assert endpoint.consecutive_failed_deliveries == 3
    assert all(
        d.status == DeliveryStatus.FAILED
        for d in WebhookDelivery.objects.filter(pk__in=[d.pk for d in last_tries])
    )


def test_a_success_resets_the_failure_count(merchant, monkeypatch, settings):
    settings.WEBHOOKS_DISABLE_AFTER_FAILED_DELIVERIES = 2
    scripted(monkeypatch, FAIL, OK, FAIL)
    endpoint = WebhookEndpointFactory(merchant=merchant)
    for _ in range(3):
        WebhookDeliveryFactory(merchant=merchant, endpoint=endpoint, attempt_count=MAX_ATTEMPTS - 1)

    deliver_due()

    endpoint.refresh_from_db()
    assert endpoint.is_active
    assert endpoint.consecutive_failed_deliveries == 1


def test_deliveries_of_an_inactive_endpoint_are_not_sent(merchant, monkeypatch):
    sent = scripted(monkeypatch, OK)
    WebhookDeliveryFactory(merchant=merchant, endpoint__is_active=False)

    deliver_due()

    assert sent == []


# --- crashes and concurrency (see test_dispatch_concurrency.py for real threads on PostgreSQL) ------------
def test_a_worker_killed_after_claiming_loses_nothing(merchant, receiver, allow_private, clock):
    WebhookEndpointFactory(merchant=merchant, url=receiver.url)
    event = EventFactory(merchant=merchant, type="invoice.paid")
    fan_out_all()

    claimed = claim_due_deliveries()  # the worker claims, commits … and dies before sending or recording
    assert len(claimed) == 1

    deliver_due()  # another worker meanwhile: the lease still holds, so nothing is sent twice at once
    assert receiver.requests == []

    clock.shift(dispatch.CLAIM_LEASE + dt.timedelta(seconds=1))
    deliver_due()

    assert len(receiver.requests) == 1
    assert receiver.requests[0].headers["webhook-id"] == str(event.uid)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_a_worker_whose_lease_was_taken_over_only_logs_its_attempt(merchant, monkeypatch, clock):
    scripted(monkeypatch, OK)
    delivery = WebhookDeliveryFactory(merchant=merchant)
    (stale,) = claim_due_deliveries()
    clock.shift(dispatch.CLAIM_LEASE + dt.timedelta(seconds=1))
    deliver_due()  # the new claim delivers it

    record_attempt(delivery_id=stale.pk, claim_token=stale.claim_token, result=FAIL)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.last_status_code == 200
    assert list(delivery.attempts.values_list("number", "status_code")) == [(1, 200), (2, 500)]


def test_a_resend_goes_out_with_the_same_webhook_id(merchant, owner, receiver, allow_private):
    endpoint = WebhookEndpointFactory(merchant=merchant, url=receiver.url)
    EventFactory(merchant=merchant, type="invoice.paid")
    webhooks_run(sleep=lambda s: None)
    original = WebhookDelivery.objects.get()

    resend = webhook_delivery_resend(delivery=original, actor=owner)
    webhooks_run(sleep=lambda s: None)

    resend.refresh_from_db()
    assert resend.status == DeliveryStatus.SUCCEEDED and resend.origin == DeliveryOrigin.RESEND
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(original.event.uid)] * 2
    for request in receiver.requests:
        Webhook(endpoint.secret).verify(request.body, request.headers)


def test_the_scheduled_task_is_declared():
    from core.management.commands.setup_schedules import declared_schedules

    assert dict(declared_schedules())["notifications: deliver webhooks from the outbox"] == (
        "notifications.tasks.deliver_webhooks",
        1,
        "notifications",
    )


def test_recording_for_a_delivery_deleted_meanwhile_is_skipped(merchant):
    delivery = WebhookDeliveryFactory(merchant=merchant)
    (claimed,) = claim_due_deliveries()
    delivery.endpoint.delete()

    assert record_attempt(delivery_id=claimed.pk, claim_token=claimed.claim_token, result=OK) is None
    assert not WebhookDeliveryAttempt.objects.exists()
