"""The local stand-in for api.stripe.com, for the tests and the benchmarks (`make bench-remote`,
`make bench-webhooks`): one HTTP/1.1 server on 127.0.0.1 (port 0: a free one) that the official `stripe`
library talks to when its API base points here (settings.STRIPE_API_BASE, or the gateway's `api_base`), so
nothing reaches the internet.

What it answers:

- `GET /v1/<resource>/<id>`: the object stored under that id. `server.put(obj)` stores one; the recorded
  objects are tests/fixtures/stripe/*.json (written from the shapes in Stripe's API reference), loaded
  with `fixture(name, **changes)`. `GET /v1/account`: the account. Anything unknown: Stripe's 404 error
  object (`resource_missing`).
- `POST /v1/payment_intents`: a Stripe-shaped PaymentIntent, its outcome decided by the saved payment
  method (Stripe's test ids, below). Idempotency keys are deduplicated the way Stripe does: a key seen
  before gets the first answer again (same status, same body, `Idempotent-Replayed: true`) and creates
  nothing; `dedupe=False` turns that off (a provider that would charge twice). Its own ledger (`intents`,
  one entry per PaymentIntent ever created) is what the tests and the benchmark count double charges on —
  never our database.

      pm_card_visa (or anything else)          succeeded
      pm_card_chargeDeclined                   402 card_error card_declined, intent requires_payment_method
      pm_card_chargeDeclinedInsufficientFunds  402 card_error card_declined / insufficient_funds
      pm_card_authenticationRequired           requires_action (an off-session charge that needs the customer)

Options: `latency` (seconds before each API answer, on the server's loop, so hundreds of requests wait
at once), `dedupe`, and `fail_with(status)` (the next API calls answer that error; 401 = a revoked key).
What tests read: `requests` ((method, path, headers) of every API call, headers as sent), `calls(method,
path_prefix)`, `intents`, `charged_keys()`, `succeeded()`, `max_in_flight`, `arrivals` (monotonic time of
each API call). Another process (the benchmark) reads the ledger with `GET /_stub/ledger[?keys=1]` and
clears it with `POST /_stub/reset`.

The benchmark keeps 500 requests waiting out the latency at once on a 2-core machine where this server's
CPU is taken from the workers it measures (Stripe's own CPU is not ours to count), so the server is a small
asyncio protocol speaking just what the library sends (HTTP/1.1, keep-alive, Content-Length bodies) on one
event loop in a thread of its own: about 0.06 ms of CPU a request, against 0.3 ms for `http.server`
threads and 0.22 ms for aiohttp's web server.

`python -m tests.stripe_server --latency 0.2` serves until killed and prints its API base first.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import hashlib
import hmac
import json
import os
import secrets
import sys
import threading
import time
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "stripe"

# The path segment of each object type in Stripe's API (/v1/<segment>/<id>).
RESOURCE = {
    "subscription": "subscriptions",
    "invoice": "invoices",
    "customer": "customers",
    "charge": "charges",
    "dispute": "disputes",
    "payment_intent": "payment_intents",
    "event": "events",
}

DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
NEEDS_AUTHENTICATION = "pm_card_authenticationRequired"


def fixture(name: str, **changes) -> dict:
    """The recorded object tests/fixtures/stripe/<name>.json with top-level `changes` applied."""
    obj = json.loads((FIXTURES / f"{name}.json").read_text())
    obj.update(copy.deepcopy(changes))
    return obj


def _json(status: int, body: dict) -> tuple[int, bytes, bool]:
    return status, json.dumps(body).encode(), False


def _not_found(message: str, code: str | None = None) -> tuple[int, bytes, bool]:
    return _json(404, {"error": {"type": "invalid_request_error", "message": message, "code": code}})


class StripeServer:
    def __init__(self, *, latency: float = 0.0, dedupe: bool = True):
        self.latency = latency
        self.dedupe = dedupe
        self.lock = threading.Lock()  # the tests read from their own thread
        self.objects: dict[tuple[str, str], dict] = {}
        self.account = fixture("account")
        self.failure: int | None = None
        self.intents: dict[str, dict] = {}  # id → PaymentIntent: the ledger, one per creation
        self.answers: dict[str, tuple[int, bytes]] = {}  # idempotency key → first (status, body)
        self.key_locks: dict[str, asyncio.Lock] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrivals: list[float] = []
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.thread = threading.Thread(target=self.loop.run_forever, name="stripe-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    api_base = url

    def start(self) -> StripeServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(timeout=30)
        return self

    async def _serve(self) -> None:
        # Hundreds of clients connect at once (the benchmark's workers): a short backlog would drop their
        # SYNs and cost each a one-second retransmission.
        self.server = await self.loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Closes the port and every open connection (a test may stop it early: the provider unreachable)."""
        if self.server is not None:
            server, self.server = self.server, None

            async def close():
                server.close()
                for connection in list(_Connection.open.get(self, ())):
                    connection.transport.abort()

            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    def __enter__(self) -> StripeServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what the tests set -----------------------------------------------------------------------------
    def put(self, obj: dict) -> dict:
        with self.lock:
            self.objects[(RESOURCE[obj["object"]], obj["id"])] = copy.deepcopy(obj)
        return obj

    def fail_with(self, status: int | None) -> None:
        self.failure = status

    # --- what the tests read ----------------------------------------------------------------------------
    def calls(self, method: str, path_prefix: str) -> list[tuple[str, str, dict]]:
        with self.lock:
            return [r for r in self.requests if r[0] == method and r[1].startswith(path_prefix)]

    def charged_keys(self) -> list[str]:
        """The idempotency key of every PaymentIntent created, once per creation (a double charge shows
        as a key listed twice, or as two keys for one period)."""
        with self.lock:
            return [intent["metadata"].get("idempotency_key", "") for intent in self.intents.values()]

    def succeeded(self) -> list[dict]:
        with self.lock:
            return [intent for intent in self.intents.values() if intent["status"] == "succeeded"]

    def summary(self, *, keys: bool = False) -> dict:
        """The ledger's figures (what `GET /_stub/ledger` answers to another process)."""
        charged = self.charged_keys()
        with self.lock:
            figures = {
                "intents": len(self.intents),
                "succeeded": sum(1 for i in self.intents.values() if i["status"] == "succeeded"),
                "distinct_keys": len(set(charged)),
                "requests": len(self.requests),
                "max_in_flight": self.max_in_flight,
                "pid": os.getpid(),
            }
        if keys:
            figures["keys"] = charged
        return figures

    def reset(self) -> None:
        with self.lock:
            self.intents.clear()
            self.answers.clear()
            self.key_locks.clear()
            self.arrivals.clear()
            self.requests.clear()
            self.max_in_flight = 0

    # --- the HTTP side (in the loop's thread) -----------------------------------------------------------
    async def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes, bool]:
        """(status, JSON body, replayed) of one request; `headers` as sent (their names' case kept)."""
        route = path.split("?")[0].rstrip("/")
        if route == "/_stub/reset":
            self.reset()
            return 200, b"{}", False
        if route == "/_stub/ledger":
            return _json(200, self.summary(keys="keys=1" in path))
        with self.lock:
            self.requests.append((method, path, headers))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.arrivals.append(time.monotonic())
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            return await self._route(method, route, headers, body)
        finally:
            with self.lock:
                self.in_flight -= 1

    async def _route(self, method: str, route: str, headers: dict, body: bytes) -> tuple[int, bytes, bool]:
        if self.failure == 401:
            error = {"type": "invalid_request_error", "message": "Invalid API Key provided"}
            return _json(401, {"error": error})
        if self.failure:
            return _json(self.failure, {"error": {"type": "api_error", "message": "Stub failure"}})
        if method == "POST" and route == "/v1/payment_intents":
            key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), "")
            return await self._create(body, key)
        parts = route.strip("/").split("/")
        if method == "GET" and parts == ["v1", "account"]:
            return _json(200, self.account)
        if method == "GET" and len(parts) == 3 and parts[0] == "v1":
            with self.lock:
                obj = self.intents.get(parts[2]) if parts[1] == "payment_intents" else None
                obj = obj or self.objects.get((parts[1], parts[2]))
                if obj is not None:
                    return _json(200, obj)
            return _not_found(f"No such {parts[1][:-1]}: '{parts[2]}'", "resource_missing")
        return _not_found(f"Unrecognized request URL ({method}: {route}).")

    async def _create(self, body: bytes, key: str) -> tuple[int, bytes, bool]:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        if not (self.dedupe and key):
            return self._record(params, key)
        # One request per key at a time; a concurrent one waits and gets the first answer.
        async with self.key_locks.setdefault(key, asyncio.Lock()):
            known = self.answers.get(key)
            if known is not None:
                return *known, True
            status, answer, _replayed = self._record(params, key)
            self.answers[key] = (status, answer)
        return status, answer, False

    def _record(self, params: dict, key: str) -> tuple[int, bytes, bool]:
        status, payload = self.create_intent(params, key)
        intent = payload.get("error", {}).get("payment_intent", payload)
        with self.lock:
            self.intents[intent["id"]] = intent
        return status, json.dumps(payload).encode(), False

    # --- the API ----------------------------------------------------------------------------------------
    def create_intent(self, params: dict, idempotency_key: str) -> tuple[int, dict]:
        payment_method = params.get("payment_method", "")
        intent = {
            "id": f"pi_{secrets.token_hex(12)}",
            "object": "payment_intent",
            "amount": int(params.get("amount", 0)),
            "amount_received": 0,
            "currency": params.get("currency", "brl"),
            "customer": params.get("customer"),
            "payment_method": payment_method or None,
            "description": params.get("description"),
            "confirmation_method": "automatic",
            "capture_method": "automatic",
            "created": int(time.time()),
            "livemode": False,
            "metadata": {
                **{k[9:-1]: v for k, v in params.items() if k.startswith("metadata[")},
                "idempotency_key": idempotency_key,
            },
            "last_payment_error": None,
            "latest_charge": None,
            "status": "requires_confirmation",
        }
        if params.get("confirm") != "true":
            return 200, intent
        if payment_method in DECLINES:
            code, decline_code, message = DECLINES[payment_method]
            error = {
                "type": "card_error",
                "code": code,
                "decline_code": decline_code,
                "message": message,
                "charge": f"ch_{secrets.token_hex(12)}",
                "payment_method": {"id": payment_method, "object": "payment_method", "type": "card"},
            }
            intent.update(status="requires_payment_method", last_payment_error=error)
            return 402, {"error": {**error, "payment_intent": intent}}
        if payment_method == NEEDS_AUTHENTICATION:
            intent.update(status="requires_action", next_action={"type": "use_stripe_sdk"})
            return 200, intent
        intent.update(
            status="succeeded", amount_received=intent["amount"], latest_charge=f"ch_{secrets.token_hex(12)}"
        )
        return 200, intent


class _Connection(asyncio.Protocol):
    """One client connection: requests read from the buffer one at a time (the library never pipelines),
    each answered in a task of its own, so the latency of one does not hold the loop."""

    open: dict[StripeServer, set[_Connection]] = {}

    def __init__(self, server: StripeServer):
        self.stripe = server
        self.buffer = bytearray()
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.open.setdefault(self.stripe, set()).add(self)

    def connection_lost(self, exc) -> None:
        # A client killed mid-request (the benchmark's kill -9): its unread request is dropped, as Stripe
        # would never act on a request it did not receive whole.
        self.open.get(self.stripe, set()).discard(self)
        self.buffer.clear()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._next()

    def _next(self) -> None:
        if self.busy:
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
        method, path, _version = lines[0].split(" ", 2)
        headers = {}
        length = 0
        close = False
        for line in lines[1:]:
            name, _colon, value = line.partition(":")
            name, value = name.strip(), value.strip()
            headers[name] = value
            lower = name.lower()
            if lower == "content-length":
                length = int(value or 0)
            elif lower == "connection":
                close = value.lower() == "close"
        if len(self.buffer) < end + 4 + length:
            return  # the body is still on its way
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.busy = True
        task = asyncio.get_running_loop().create_task(self.stripe.handle(method, path, headers, body))
        task.add_done_callback(lambda done: self._answer(done, close=close))

    def _answer(self, done: asyncio.Task, *, close: bool) -> None:
        self.busy = False
        if self.transport.is_closing():
            return
        if done.cancelled() or done.exception() is not None:
            status, body, replayed = 500, json.dumps({"error": {"type": "api_error"}}).encode(), False
        else:
            status, body, replayed = done.result()
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRequest-Id: req_{secrets.token_hex(7)}\r\n"
            + ("Idempotent-Replayed: true\r\n" if replayed else "")
            + ("Connection: close\r\n" if close else "")
            + "\r\n"
        )
        self.transport.write(head.encode() + body)  # one segment: no delayed-ACK wait between the parts
        if close:
            self.transport.close()
        else:
            self._next()


@pytest.fixture
def stripe_server(settings):
    """A running StripeServer (no latency) with the library pointed at it."""
    with StripeServer() as server:
        settings.STRIPE_API_BASE = server.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        yield server


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe would send: t=<timestamp>,v1=HMAC-SHA256(secret, "t.payload")
    (Stripe's documented scheme; the app verifies it with the library, never with this)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def event(event_type: str, obj: dict, *, created: int, event_id: str | None = None) -> bytes:
    """A Stripe event (API version 2024-06-20 shape) carrying `obj`, as the raw JSON body Stripe posts."""
    body = {
        "id": event_id or f"evt_{event_type.replace('.', '_')}_{obj['id']}_{created}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
    return json.dumps(body).encode()


def main(argv=None) -> None:
    """`python -m tests.stripe_server --latency 0.2`: serves until killed; prints its API base first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds before each API answer")
    parser.add_argument(
        "--no-dedupe", action="store_true", help="create a PaymentIntent for a repeated idempotency key"
    )
    args = parser.parse_args(argv)
    server = StripeServer(latency=args.latency, dedupe=not args.no_dedupe).start()
    print(server.url, flush=True)
    try:
        server.thread.join()
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
