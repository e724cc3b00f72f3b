"""Stripe's webhooks arrive here: verify, store, answer 2xx; the work happens in a billing worker
(billing/services/provider_events.py)."""

from django.http import Http404, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from billing.choices import PaymentProvider
from billing.models import ProviderConnection
from billing.services.provider_events import MAX_BODY_BYTES, stripe_event_receive


@method_decorator(csrf_exempt, name="dispatch")
class StripeWebhookView(View):
    """POST /cobrancas/webhooks/stripe/<token>/ — the URL a merchant pastes in Stripe's dashboard.

    Public (no session, no CSRF): the token finds the merchant's connection and the `Stripe-Signature`
    header, checked with that connection's signing secret, authenticates the body. Answers 404 for an
    unknown or disconnected token, 400 for a bad signature or body (Stripe shows it and retries), 200
    once stored — also for a redelivery, which is acknowledged without being applied twice."""

    http_method_names = ["post"]

    def post(self, request, token):
        connection = (
            ProviderConnection.objects.select_related("merchant")
            .filter(webhook_token=token, provider=PaymentProvider.STRIPE, is_active=True)
            .first()
        )
        if connection is None or not connection.webhook_secret:
            raise Http404("unknown webhook")
        body = request.body
        if len(body) > MAX_BODY_BYTES:
            return JsonResponse({"error": "body too large"}, status=400)
        event, outcome = stripe_event_receive(connection=connection, payload=body, headers=request.headers)
        if outcome == "invalid":
            return JsonResponse({"error": "invalid signature or body"}, status=400)
        return JsonResponse({"received": True, "id": event.event_id, "outcome": outcome})
