"""A local stand-in for Stripe's PaymentIntents API, for the tests and `make bench-remote`.

An HTTP/1.1 server on 127.0.0.1 (port 0: a free one), on one asyncio event loop in a thread of its own,
that the official `stripe` library talks to when its API base points here. It answers
Stripe-shaped PaymentIntent JSON after a configurable latency and deduplicates idempotency keys the way
Stripe does: a key seen before gets the first answer again (same status code, same body) and creates
nothing. Its own ledger (`intents`, one entry per PaymentIntent it ever created) is what the tests and the
benchmark count double charges on — never our database.

The benchmark keeps 500 requests waiting out the latency at once, on a 2-core machine where the stub's CPU
is taken from the workers it measures (Stripe's own CPU is not ours to count): so the server is a small
asyncio protocol that speaks just what the library sends (HTTP/1.1, keep-alive, Content-Length bodies).
The threaded `http.server` spent 0.3 ms of CPU a request and aiohttp's web server 0.22 ms; this one about
0.06 ms.

Saved payment methods decide the outcome, with Stripe's test payment method ids:

    pm_card_visa (or anything else)          succeeded
    pm_card_chargeDeclined                   402 card_error card_declined, intent requires_payment_method
    pm_card_chargeDeclinedInsufficientFunds  402 card_error card_declined / insufficient_funds
    pm_card_authenticationRequired           requires_action (an off-session charge that needs the customer)

It also records how many requests were in flight at once (`max_in_flight`) and when each one arrived
(`arrivals`), so a test can check the engine's concurrency bound and rate limit from the provider's side.
Not thread-safe to reconfigure while serving; everything else is guarded by one lock.
"""

import argparse
import asyncio
import json
import os
import secrets
import sys
import threading
import time
from http import HTTPStatus
from urllib.parse import parse_qsl

DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
NEEDS_AUTHENTICATION = "pm_card_authenticationRequired"


class StripeStub:
    def __init__(self, *, latency: float = 0.0):
        self.latency = latency
        self.lock = threading.Lock()  # the tests read the ledger from their own thread
        self.intents: dict[str, dict] = {}  # id → PaymentIntent: the stub's ledger, one per creation
        self.answers: dict[str, tuple[int, bytes]] = {}  # idempotency key → first (status, body)
        self.key_locks: dict[str, asyncio.Lock] = {}
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrivals: list[float] = []
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.port = 0
        self.thread = threading.Thread(target=self.loop.run_forever, name="stripe-stub", daemon=True)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "StripeStub":
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(timeout=30)
        return self

    async def _serve(self) -> None:
        # Hundreds of clients connect at once (the benchmark's workers): a short backlog would drop their
        # SYNs and cost each a one-second retransmission.
        self.server = await self.loop.create_server(lambda: _Connection(self), "127.0.0.1", 0, backlog=1024)
        self.port = self.server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        if self.server is not None:
            server, self.server = self.server, None

            async def close():
                server.close()
                for connection in list(_Connection.open.get(self, ())):
                    connection.transport.abort()

            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)

    def __enter__(self) -> "StripeStub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- what the tests read --------------------------------------------------------------------------
    def charged_keys(self) -> list[str]:
        """The idempotency key of every PaymentIntent created, once per creation (a double charge shows
        as a key listed twice, or as two keys for one period)."""
        with self.lock:
            return [intent["metadata"].get("idempotency_key", "") for intent in self.intents.values()]

    def summary(self, *, keys: bool = False) -> dict:
        """The ledger's figures (what `GET /_stub/ledger` answers to another process)."""
        charged = self.charged_keys()
        with self.lock:
            figures = {
                "intents": len(self.intents),
                "succeeded": sum(1 for i in self.intents.values() if i["status"] == "succeeded"),
                "distinct_keys": len(set(charged)),
                "requests": self.requests,
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
            self.requests = self.max_in_flight = 0

    def succeeded(self) -> list[dict]:
        with self.lock:
            return [intent for intent in self.intents.values() if intent["status"] == "succeeded"]

    # --- the HTTP side (in the loop's thread) ---------------------------------------------------------
    def _enter(self) -> None:
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.arrivals.append(time.monotonic())

    def _leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    async def handle(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes, bool]:
        """(status, JSON body, replayed) of one request."""
        route = path.split("?")[0].rstrip("/")
        if route == "/_stub/reset":
            self.reset()
            return 200, b"{}", False
        if route == "/_stub/ledger":
            return 200, json.dumps(self.summary(keys="keys=1" in path)).encode(), False
        self._enter()
        try:
            if self.latency:
                await asyncio.sleep(self.latency)
            if method == "POST" and route == "/v1/payment_intents":
                return await self._create(body, headers.get("idempotency-key", ""))
            if method == "GET" and route.startswith("/v1/payment_intents/"):
                with self.lock:
                    intent = self.intents.get(route.rsplit("/", 1)[-1])
                if intent is not None:
                    return 200, json.dumps(intent).encode(), False
                error = {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
                return 404, json.dumps(error).encode(), False
            return 404, json.dumps({"error": {"type": "invalid_request_error"}}).encode(), False
        finally:
            self._leave()

    async def _create(self, body: bytes, key: str) -> tuple[int, bytes, bool]:
        params = dict(parse_qsl(body.decode(), keep_blank_values=True))
        # One request per key at a time; a concurrent one waits and gets the first answer.
        async with self.key_locks.setdefault(key, asyncio.Lock()):
            known = self.answers.get(key) if key else None
            if known is not None:
                return *known, True
            status, payload = self.create_intent(params, key)
            intent = payload.get("error", {}).get("payment_intent", payload)
            answer = json.dumps(payload).encode()
            with self.lock:
                self.intents[intent["id"]] = intent
                if key:
                    self.answers[key] = (status, answer)
        return status, answer, False

    # --- the API --------------------------------------------------------------------------------------
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
    each answered by the stub in a task of its own, so the latency of one does not hold the loop."""

    open: "dict[StripeStub, set[_Connection]]" = {}

    def __init__(self, stub: StripeStub):
        self.stub = stub
        self.buffer = bytearray()
        self.busy = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.open.setdefault(self.stub, set()).add(self)

    def connection_lost(self, exc) -> None:
        # A client killed mid-request (the benchmark's kill -9): its unread request is dropped, as Stripe
        # would never act on a request it did not receive whole.
        self.open.get(self.stub, set()).discard(self)
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
        for line in lines[1:]:
            name, _colon, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length") or 0)
        if len(self.buffer) < end + 4 + length:
            return  # the body is still on its way
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        self.busy = True
        task = asyncio.get_running_loop().create_task(self.stub.handle(method, path, headers, body))
        task.add_done_callback(lambda done: self._answer(done, close=headers.get("connection") == "close"))

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


def main(argv=None) -> None:
    """`python -m tests.stripe_stub --latency 0.2`: serves until killed; prints its API base first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds before each answer")
    args = parser.parse_args(argv)
    stub = StripeStub(latency=args.latency).start()
    print(stub.api_base, flush=True)
    try:
        stub.thread.join()
    finally:
        stub.stop()


if __name__ == "__main__":
    sys.exit(main())
