"""Stripe's webhooks arrive here: verify, store, answer 2xx; the work happens in a billing worker
(billing/services/provider_events.py)."""

from django.http import JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from billing.services.provider_events import (
    MAX_BODY_BYTES,
    Throttled,
    UnknownWebhook,
    stripe_event_receive,
    webhook_endpoint,
)
from core.ratelimit import over_limit


def connection_key(group, request) -> str:
    """django-ratelimit key: the merchant connection the delivery is for (every IP together)."""
    return str(request.stripe_connection_id)


def _throttled(retry_after: int) -> JsonResponse:
    # Stripe treats any non-2xx as "not delivered" and sends the event again later (for up to 3 days).
    response = JsonResponse({"error": "rate limited", "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _unknown() -> JsonResponse:
    # A JSON 404 of its own rather than Http404: the site's error page needs the session and the user,
    # which the webhook's lean handler (config/wsgi.py) does not load.
    return JsonResponse({"error": "unknown webhook"}, status=404)


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(View):
    """POST /cobrancas/webhooks/stripe/<token>/ — the URL a merchant pastes in Stripe's dashboard.

    Public (no session, no CSRF): the token finds the merchant's connection and the `Stripe-Signature`
    header, checked with that connection's signing secret, authenticates the body. Answers 404 for an
    unknown or disconnected token, 400 for a bad signature or body (Stripe shows it and retries), 200
    once stored — also for a redelivery, which is acknowledged without being applied twice.

    Rate limits (settings.RATE_LIMITS): per sending IP before anything else (`stripe_webhook_ip`: a flood
    of forged requests costs no query), then per merchant connection counting only deliveries whose
    signature is good (`stripe_webhook`). Over either: 429 with Retry-After and nothing stored — never a
    2xx for an event we did not keep, so Stripe delivers it again and nothing is lost."""

    http_method_names = ["post"]

    def post(self, request, token):
        retry_after = over_limit(request, group="stripe_webhook_ip", key="ip")
        if retry_after is not None:
            return _throttled(retry_after)
        endpoint = webhook_endpoint(token)
        if endpoint is None:
            return _unknown()
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            return JsonResponse({"error": "body too large"}, status=400)
        request.stripe_connection_id = endpoint.connection_id

        def admit():
            seconds = over_limit(request, group="stripe_webhook", key=connection_key)
            if seconds is not None:
                raise Throttled(seconds)

        try:
            received = stripe_event_receive(
                endpoint=endpoint, payload=body, headers=request.headers, admit=admit
            )
        except Throttled as throttled:
            return _throttled(throttled.retry_after)
        except UnknownWebhook:
            return _unknown()
        if received.outcome == "invalid":
            return JsonResponse({"error": "invalid signature or body"}, status=400)
        return JsonResponse({"received": True, "id": received.event_id, "outcome": received.outcome})
