"""A local stand-in for Stripe's PaymentIntents API, for the tests and `make bench-remote`.

A threaded HTTP/1.1 server on 127.0.0.1 (port 0: a free one) that the official `stripe` library talks to
when its API base points here. It answers Stripe-shaped PaymentIntent JSON after a configurable latency
and deduplicates idempotency keys the way Stripe does: a key seen before gets the first answer again
(same status code, same body) and creates nothing. Its own ledger (`intents`, one entry per PaymentIntent
it ever created) is what the tests and the benchmark count double charges on — never our database.

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
import json
import os
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

DECLINES = {
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
NEEDS_AUTHENTICATION = "pm_card_authenticationRequired"


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Hundreds of clients connect at once (the benchmark's workers): the default backlog of 5 would drop
    # their SYNs and cost each a one-second retransmission.
    request_queue_size = 1024

    def handle_error(self, request, client_address):
        # A client killed mid-request (the benchmark's kill -9) resets its connections: not our error.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class StripeStub:
    def __init__(self, *, latency: float = 0.0):
        self.latency = latency
        self.lock = threading.Lock()
        self.intents: dict[str, dict] = {}  # id → PaymentIntent: the stub's ledger, one per creation
        self.answers: dict[str, tuple[int, bytes]] = {}  # idempotency key → first (status, body)
        self.key_locks: dict[str, threading.Lock] = {}
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.arrivals: list[float] = []
        self.server = _Server(("127.0.0.1", 0), _handler(self))
        self.thread = threading.Thread(target=self.server.serve_forever, name="stripe-stub", daemon=True)

    @property
    def api_base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "StripeStub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
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


def _handler(stub: StripeStub):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the library reuses its connections
        # One buffered write per answer (flushed after each request), sent at once: headers and body in
        # separate small segments would meet the client's delayed ACK (~40 ms each).
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, body: bytes, replayed: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Request-Id", f"req_{secrets.token_hex(7)}")
            if replayed:
                self.send_header("Idempotent-Replayed", "true")
            self.end_headers()
            self.wfile.write(body)

        def _enter(self):
            with stub.lock:
                stub.requests += 1
                stub.in_flight += 1
                stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                stub.arrivals.append(time.monotonic())

        def _leave(self):
            with stub.lock:
                stub.in_flight -= 1

        def do_POST(self):
            if self.path == "/_stub/reset":
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                stub.reset()
                self._answer(200, b"{}")
                return
            self._enter()
            try:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if len(body) < length:  # the client died mid-request: Stripe would not act on it either
                    self.close_connection = True
                    return
                raw = body.decode()
                params = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                if stub.latency:
                    time.sleep(stub.latency)
                if self.path.rstrip("/") != "/v1/payment_intents":
                    self._answer(404, json.dumps({"error": {"type": "invalid_request_error"}}).encode())
                    return
                key = self.headers.get("Idempotency-Key", "")
                with stub.lock:
                    key_lock = stub.key_locks.setdefault(key, threading.Lock())
                # One request per key at a time; a concurrent one waits and gets the first answer.
                with key_lock:
                    with stub.lock:
                        known = stub.answers.get(key) if key else None
                    if known is not None:
                        self._answer(*known, replayed=True)
                        return
                    status, payload = stub.create_intent(params, key)
                    intent = payload.get("error", {}).get("payment_intent", payload)
                    body = json.dumps(payload).encode()
                    with stub.lock:
                        stub.intents[intent["id"]] = intent
                        if key:
                            stub.answers[key] = (status, body)
                self._answer(status, body)
            finally:
                self._leave()

        def do_GET(self):
            if self.path.startswith("/_stub/ledger"):
                self._answer(200, json.dumps(stub.summary(keys="keys=1" in self.path)).encode())
                return
            self._enter()
            try:
                if stub.latency:
                    time.sleep(stub.latency)
                intent_id = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                with stub.lock:
                    intent = stub.intents.get(intent_id)
                if intent is None:
                    error = {"error": {"type": "invalid_request_error", "code": "resource_missing"}}
                    self._answer(404, json.dumps(error).encode())
                    return
                self._answer(200, json.dumps(intent).encode())
            finally:
                self._leave()

    return Handler


def main(argv=None) -> None:
    """`python -m tests.stripe_stub --latency 0.2`: serves until killed; prints its API base first."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.2, help="seconds before each answer")
    args = parser.parse_args(argv)
    stub = StripeStub(latency=args.latency)
    print(stub.api_base, flush=True)
    try:
        stub.server.serve_forever()
    finally:
        stub.server.server_close()


if __name__ == "__main__":
    sys.exit(main())
