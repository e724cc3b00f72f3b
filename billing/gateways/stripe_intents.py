"""Our engine charging a merchant's Stripe account: one PaymentIntent per charge, with the official `stripe`
library (the "our engine" mode; in the "mirror" mode Stripe's own billing charges and we only record what
its events say, so this adapter is never asked).

A charge is `PaymentIntent.create(confirm=True, off_session=True)` with the customer's saved payment
method, sent under **our** idempotency key (billing.services.renewal.charge_key): Stripe keeps the first
answer to a key for 24 hours and replays it, so a crashed run that sends the same charge again gets the
same PaymentIntent and moves no money twice. Outcomes:

    succeeded                                     → succeeded (reference: the PaymentIntent id)
    processing                                    → pending (settles later; its event or `status` tells)
    card_error (e.g. card_declined), the intent
      left in requires_payment_method             → failed with Stripe's code (decline code in details)
    requires_action (needs the customer: 3-D S)   → failed, authentication_required
    network error, 5xx, rate limited, a key reuse → GatewayError: the outcome is unknown, so the billing
                                                    run leaves the payment awaiting and sends it again later
                                                    under the same key (never as a new attempt)

The subscription's `payment_token` is the saved payment method as Stripe knows it: `pm_…`, or
`cus_…/pm_…` when the method is attached to a Stripe customer (Stripe requires the customer then).
"""

import asyncio
import functools
import hashlib
import weakref
from collections.abc import Callable

import requests
import stripe
from requests.adapters import HTTPAdapter

from billing.choices import Gateway, PaymentStatus, RefundStatus
from billing.gateways.base import ChargeRequest, ChargeResult, GatewayAdapter, GatewayError, RefundResult
from billing.gateways.stripe import async_http_client, client_for, stripe_client
from billing.models import ProviderConnection
from subscribers.choices import PaymentMethod

# Requests in flight at once per worker process and Stripe account, and requests started per second.
# Stripe's live-mode limit is 100 read/write operations per second per account, shared by all of its
# clients: the default leaves room for the merchant's other integrations (two workers: 2 × 40).
DEFAULT_MAX_CONCURRENCY = 32
DEFAULT_RATE_PER_SECOND = 40.0
REQUEST_TIMEOUT_SECONDS = 30


def split_payment_token(token: str) -> tuple[str, str]:
    """(customer id, payment method id) of a subscription's payment token ("" when not given)."""
    customer, _slash, payment_method = (token or "").strip().rpartition("/")
    return customer, payment_method


class StripeIntentsGateway(GatewayAdapter):
    """One merchant's Stripe account, charged by our engine. Built by `engine_gateway_for` from the
    merchant's provider connection (its client from billing.gateways.stripe.client_for); or from an API
    key and base directly (the benchmark's stub). `account` names what the concurrency bound and the rate
    limit are counted per."""

    name = Gateway.STRIPE.value
    remote = True

    def __init__(
        self,
        *,
        api_key: str = "",
        api_base: str = "",
        client: stripe.StripeClient | None = None,
        async_client: Callable[[], stripe.StripeClient] | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        rate_per_second: float = DEFAULT_RATE_PER_SECOND,
        timeout: float = REQUEST_TIMEOUT_SECONDS,
        account: str = "",
    ):
        if client is None:
            if not api_key:
                raise GatewayError("Stripe: no API key")
            client = stripe_client(
                api_key,
                api_base=api_base,
                # No retries inside the library: a charge whose outcome is unknown is sent again by the
                # billing run's next pass, under the same key, where it is counted and logged.
                max_network_retries=0,
                http_client=stripe.RequestsClient(timeout=timeout, session=_session(max_concurrency)),
            )
        if async_client is None:

            def async_client():
                return stripe_client(
                    api_key, api_base=api_base, max_network_retries=0, http_client=async_http_client(timeout)
                )

        self.client = client
        self._async_client_factory = async_client
        self._async_clients: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self.max_concurrency = max_concurrency
        self.rate_per_second = rate_per_second
        self._account = account or hashlib.sha256(f"{api_key}|{api_base}".encode()).hexdigest()[:16]

    @property
    def account_key(self) -> str:
        return f"{self.name}:{self._account}"

    def charge(self, request: ChargeRequest) -> ChargeResult:
        params = self._intent_params(request)
        if isinstance(params, ChargeResult):
            return params
        try:
            intent = self.client.v1.payment_intents.create(
                params, {"idempotency_key": request.idempotency_key}
            )
        except stripe.StripeError as exc:
            return _error_result(exc)
        return intent_result(intent)

    async def charge_async(self, request: ChargeRequest) -> ChargeResult:
        """`charge` through the library's `*_async` methods (aiohttp) in the running event loop: how the
        billing run's phase 2 sends a chunk's charges from one thread (billing.services.remote_charging).
        The same request, key and outcomes."""
        params = self._intent_params(request)
        if isinstance(params, ChargeResult):
            return params
        loop = asyncio.get_running_loop()
        client = self._async_clients.get(loop)
        if client is None:
            client = self._async_clients[loop] = self._async_client_factory()
        try:
            # The library's raw request: the same encoding, headers, idempotency key and error handling
            # (a decline still raises CardError) as `payment_intents.create_async`, but the answer stays
            # the parsed JSON instead of becoming a tree of StripeObjects that intent_result turns back
            # into a dict: a sixth of a charge's CPU in phase 2 (bench/README.md, "Remote provider").
            response = await client.raw_request_async(
                "post", "/v1/payment_intents", idempotency_key=request.idempotency_key, **params
            )
        except stripe.StripeError as exc:
            return _error_result(exc)
        return intent_result(response.data)

    def _intent_params(self, request: ChargeRequest) -> dict | ChargeResult:
        """The PaymentIntent's parameters, or the failure when there is nothing to charge."""
        if request.method != PaymentMethod.CARD:
            raise GatewayError(f"Stripe (our engine) charges cards only, not {request.method}")
        customer, payment_method = split_payment_token(request.payment_token)
        if not payment_method:
            return ChargeResult(
                status=PaymentStatus.FAILED,
                # Our words, named when shown (FailureCode): no message, which is a provider's.
                failure_code="payment_method_missing",
            )
        params = {
            "amount": request.amount,
            "currency": request.currency.lower(),
            "payment_method": payment_method,
            "payment_method_types": ["card"],
            "confirm": True,
            "off_session": True,
            "description": request.description[:1000],
            # Our key travels in the metadata too, so a PaymentIntent seen in Stripe's dashboard (or in its
            # events) leads back to the payment that asked for it.
            "metadata": {"idempotency_key": request.idempotency_key, "merchant_id": str(request.merchant_id)},
        }
        if customer:
            params["customer"] = customer
        return params

    def status(self, *, merchant_id: int, reference: str) -> ChargeResult:
        try:
            return intent_result(self.client.v1.payment_intents.retrieve(reference))
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe: {type(exc).__name__}: {exc.user_message or exc}") from exc

    def refund(
        self, *, merchant_id: int, payment_reference: str, amount: int, idempotency_key: str
    ) -> RefundResult:
        try:
            refund = self.client.v1.refunds.create(
                {"payment_intent": payment_reference, "amount": amount}, {"idempotency_key": idempotency_key}
            )
        except stripe.InvalidRequestError as exc:
            return RefundResult(
                status=RefundStatus.FAILED,
                failure_code=exc.code or "invalid_request",
                failure_message=str(exc),
            )
        except stripe.StripeError as exc:
            raise GatewayError(f"Stripe: {type(exc).__name__}: {exc.user_message or exc}") from exc
        refund = _plain(refund)
        failed = refund.get("status") in ("failed", "canceled")
        return RefundResult(
            status=RefundStatus.FAILED if failed else RefundStatus.SUCCEEDED,
            reference=refund.get("id", ""),
            failure_code=refund.get("failure_reason") or "",
        )


def _session(pool_size: int) -> requests.Session:
    """One HTTP session for all the threads of a worker: a connection pool as large as the concurrency
    bound (requests' default of 10 would open and drop a connection per request above it), and no proxy
    lookup in the environment on every request (trust_env: ~1.5 ms of CPU a request, a third of the
    library's cost). Outbound proxies, where needed, are configured on the server, not per request."""
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool_size, 1))
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _error_result(exc: stripe.StripeError) -> ChargeResult:
    """A card error is the charge's answer (declined); any other error leaves its outcome unknown."""
    if isinstance(exc, stripe.CardError):
        error = _plain(exc.error)
        return ChargeResult(
            status=PaymentStatus.FAILED,
            reference=_plain(error.get("payment_intent")).get("id", ""),
            failure_code=exc.code or "card_declined",
            failure_message=(exc.user_message or str(exc))[:255],
            details={"decline_code": error.get("decline_code") or ""},
        )
    raise GatewayError(f"Stripe: {type(exc).__name__}: {exc.user_message or exc}") from exc


def _plain(obj) -> dict:
    """A StripeObject (or None) as a plain dict, nested objects included."""
    if obj is None:
        return {}
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def intent_result(intent) -> ChargeResult:
    """Our outcome of a PaymentIntent as Stripe returned it."""
    intent = _plain(intent)
    reference = intent.get("id", "")
    status = intent.get("status")
    if status == "succeeded":
        return ChargeResult(status=PaymentStatus.SUCCEEDED, reference=reference)
    if status == "processing":
        return ChargeResult(status=PaymentStatus.PENDING, reference=reference)
    if status == "requires_action":
        return ChargeResult(
            status=PaymentStatus.FAILED,
            reference=reference,
            failure_code="authentication_required",
        )
    error = intent.get("last_payment_error") or {}
    return ChargeResult(
        status=PaymentStatus.FAILED,
        reference=reference,
        failure_code=error.get("code") or status or "failed",
        failure_message=(error.get("message") or "")[:255],
        details={"decline_code": error.get("decline_code") or ""},
    )


def engine_gateway_for(merchant_id: int) -> StripeIntentsGateway:
    """The gateway of a merchant whose Stripe connection is active in our-engine mode (the factory the
    billing app registers for "stripe": billing.gateways.remote_gateways). A merchant in mirror mode, or
    without a connection, raises GatewayError: our engine never charges its Stripe cards."""
    connection = ProviderConnection.objects.engine().filter(merchant_id=merchant_id).first()
    if connection is None:
        raise GatewayError(f"Stripe: merchant {merchant_id} has no active connection in our-engine mode")
    return StripeIntentsGateway(
        client=client_for(connection),
        async_client=functools.partial(client_for, connection, asynchronous=True),
        account=f"connection-{connection.pk}",
    )
