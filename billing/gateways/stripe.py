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

import asyncio
import atexit
import contextlib
import functools
import ssl
import weakref

import stripe
from django.conf import settings

# Stripe's own default (stripe.Webhook.DEFAULT_TOLERANCE), named here because the issue fixes it.
SIGNATURE_TOLERANCE_SECONDS = 300


@functools.cache
def _http_client(timeout: float) -> stripe.HTTPClient:
    # One client per process: it keeps one `requests` session per thread, so concurrent charges reuse
    # their connections instead of opening one per call.
    return stripe.RequestsClient(timeout=timeout)


# The running event loop → its aiohttp-backed client (see async_http_client).
_async_http_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def async_http_client(timeout: float) -> stripe.HTTPClient:
    """The library's aiohttp client for the running event loop (call it inside the loop): one per loop and
    timeout, so every merchant's charges in a worker share one pool of keep-alive connections. The
    library's own default connector stops at 100 connections per session; the billing run's bound on
    requests in flight is its own (remote_charging), so the pool takes no limit of its own here. Same TLS
    verification as the library's default (its CA bundle)."""
    import aiohttp  # only where asyncio charging runs: web processes never import it

    loop = asyncio.get_running_loop()
    clients = _async_http_clients.setdefault(loop, {})
    if timeout not in clients:
        connector = aiohttp.TCPConnector(
            limit=0, ssl=ssl.create_default_context(cafile=stripe.ca_bundle_path)
        )
        clients[timeout] = client = stripe.AIOHTTPClient(timeout=timeout, connector=connector)
        atexit.register(_close_at_exit, loop, client)
    return clients[timeout]


def _close_at_exit(loop: asyncio.AbstractEventLoop, client: stripe.HTTPClient) -> None:
    """Closes the client's connections while its loop still runs (aiohttp complains of a session left
    open when the interpreter collects it)."""
    if loop.is_running() and not loop.is_closed():
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(client.close_async(), loop).result(timeout=5)


def client_for(
    connection=None, *, api_key: str | None = None, asynchronous: bool = False
) -> stripe.StripeClient:
    """A StripeClient for a merchant's connection (or for a key being tested before it is saved). With
    `asynchronous`, one whose `*_async` methods go through aiohttp in the running event loop (the billing
    run's phase 2, billing.services.remote_charging); build it inside that loop."""
    key = api_key if api_key is not None else connection.api_key
    timeout = float(settings.STRIPE_TIMEOUT_SECONDS)
    return stripe_client(
        key,
        api_base=settings.STRIPE_API_BASE,
        max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        http_client=async_http_client(timeout) if asynchronous else _http_client(timeout),
    )


def stripe_client(
    api_key: str, *, api_base: str = "", max_network_retries: int, http_client: stripe.HTTPClient
) -> stripe.StripeClient:
    """A StripeClient with another API base when given (tests and benchmarks: a local server)."""
    options = {"base_addresses": {"api": api_base}} if api_base else {}
    return stripe.StripeClient(
        api_key, max_network_retries=max_network_retries, http_client=http_client, **options
    )


def verify_signature(
    payload: bytes, signature_header: str, secret: str, *, tolerance=SIGNATURE_TOLERANCE_SECONDS
):
    """Raises stripe.SignatureVerificationError unless `signature_header` (the `Stripe-Signature` header)
    signs `payload` with `secret` within `tolerance` seconds."""
    stripe.WebhookSignature.verify_header(payload.decode("utf-8"), signature_header, secret, tolerance)
