"""Stripe through the official `stripe` library: the one place a configured client is built.

`client_for(connection)` returns a `stripe.StripeClient` with the merchant's restricted key (decrypted from
its `ProviderConnection`), our timeout and retry policy, and — when settings.STRIPE_API_BASE is set — another
API base: tests point it at a local HTTP server on 127.0.0.1 answering recorded Stripe objects
(tests/stripe_server.py), so no test reaches the internet. The base is a deployment setting, never a
merchant's input (a per-merchant base would let anyone aim our requests anywhere).

Webhook signatures are checked with the library's own scheme (`verify_signature`), with Stripe's default
tolerance of 300 seconds between the signed timestamp and now.
"""

from __future__ import annotations

import functools

import stripe
from django.conf import settings

# Stripe's own default (stripe.Webhook.DEFAULT_TOLERANCE), named here because the issue fixes it.
SIGNATURE_TOLERANCE_SECONDS = 300


@functools.cache
def _http_client(timeout: float) -> stripe.HTTPClient:
    # One client per process: it keeps one `requests` session per thread, so concurrent charges reuse
    # their connections instead of opening one per call.
    return stripe.RequestsClient(timeout=timeout)


def client_for(connection=None, *, api_key: str | None = None) -> stripe.StripeClient:
    """A StripeClient for a merchant's connection (or for a key being tested before it is saved)."""
    key = api_key if api_key is not None else connection.api_key
    options = {}
    if settings.STRIPE_API_BASE:
        options["base_addresses"] = {"api": settings.STRIPE_API_BASE}
    return stripe.StripeClient(
        key,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=_http_client(float(settings.STRIPE_TIMEOUT_SECONDS)),
        **options,
    )


def verify_signature(
    payload: bytes, signature_header: str, secret: str, *, tolerance=SIGNATURE_TOLERANCE_SECONDS
):
    """Raises stripe.SignatureVerificationError unless `signature_header` (the `Stripe-Signature` header)
    signs `payload` with `secret` within `tolerance` seconds."""
    stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature_header, secret, tolerance)
