"""Stripe's webhooks arrive here: verify, store, answer 2xx; the work happens in a billing worker
(billing/services/provider_events.py)."""

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
from core.lean_wsgi import BareAnswer, MetaHeaders
from core.ratelimit import over_limit


def connection_key(group, request) -> str:
    """django-ratelimit key: the merchant connection the delivery is for (every IP together)."""
    return str(request.stripe_connection_id)


def _throttled(retry_after: int) -> BareAnswer:
    # Stripe treats any non-2xx as "not delivered" and sends the event again later (for up to 3 days).
    return BareAnswer(
        429, {"error": "rate limited", "retry_after": retry_after}, {"Retry-After": str(retry_after)}
    )


# A JSON 404 of its own rather than Http404: the site's error page needs the session and the user, which the
# short path (config/wsgi.py) does not load.
_UNKNOWN = {"error": "unknown webhook"}


def stripe_webhook(request, token) -> BareAnswer:
    """POST /cobrancas/webhooks/stripe/<token>/ — the URL a merchant pastes in Stripe's dashboard.

    A bare view (core/lean_wsgi.py): the web process serves it without the site's middleware, and the
    site's stack serves the same answer through StripeWebhookView.

    Public (no session, no CSRF): the token finds the merchant's connection and the `Stripe-Signature`
    header, checked with that connection's signing secret, authenticates the body. Answers 404 for an
    unknown or disconnected token, 400 for a bad signature or body (Stripe shows it and retries), 200
    once stored — also for a redelivery, which is acknowledged without being applied twice.

    Rate limits (settings.RATE_LIMITS): per sending IP before anything else (`stripe_webhook_ip`: a flood
    of forged requests costs no query), then per merchant connection counting only deliveries whose
    signature is good (`stripe_webhook`). Over either: 429 with Retry-After and nothing stored — never a
    2xx for an event we did not keep, so Stripe delivers it again and nothing is lost."""
    if request.method != "POST":
        return BareAnswer(405, {"error": "method not allowed"}, {"Allow": "POST"})
    retry_after = over_limit(request, group="stripe_webhook_ip", key="ip")
    if retry_after is not None:
        return _throttled(retry_after)
    endpoint = webhook_endpoint(token)
    if endpoint is None:
        return BareAnswer(404, _UNKNOWN)
    body = request.body
    if len(body) > MAX_BODY_BYTES:
        return BareAnswer(400, {"error": "body too large"})
    request.stripe_connection_id = endpoint.connection_id

    def admit():
        seconds = over_limit(request, group="stripe_webhook", key=connection_key)
        if seconds is not None:
            raise Throttled(seconds)

    try:
        received = stripe_event_receive(
            endpoint=endpoint, payload=body, headers=MetaHeaders(request.META), admit=admit
        )
    except Throttled as throttled:
        return _throttled(throttled.retry_after)
    except UnknownWebhook:
        return BareAnswer(404, _UNKNOWN)
    if received.outcome == "invalid":
        return BareAnswer(400, {"error": "invalid signature or body"})
    return BareAnswer(200, {"received": True, "id": received.event_id, "outcome": received.outcome})


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(View):
    """The webhook through the site's full stack (the site's URLconf: the test client, ASGI): the same
    answer as the bare view `stripe_webhook`, as a JsonResponse."""

    http_method_names = ["post"]

    def post(self, request, token):
        return stripe_webhook(request, token).to_response()
