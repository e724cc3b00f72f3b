"""A local stand-in for api.stripe.com: an HTTP server on 127.0.0.1 (a free port) answering the official
`stripe` library with recorded Stripe objects (tests/fixtures/stripe/*.json, written from the shapes in
Stripe's API reference). Tests point the library at it with settings.STRIPE_API_BASE, so nothing reaches
the internet.

Routes: `GET /v1/<resource>/<id>` answers the object stored under that id (`server.put(obj)` stores one; the
fixtures are loaded with `fixture(name, **changes)`); `GET /v1/account` the account; anything unknown is
Stripe's 404 error object. `server.requests` records (method, path, headers) of every call, and
`server.fail_with(status)` makes the next calls answer an error (a revoked key: 401)."""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


def fixture(name: str, **changes) -> dict:
    """The recorded object tests/fixtures/stripe/<name>.json with top-level `changes` applied."""
    obj = json.loads((FIXTURES / f"{name}.json").read_text())
    obj.update(copy.deepcopy(changes))
    return obj


def _error(status: int, message: str, code: str = "") -> tuple[int, dict]:
    kind = "invalid_request_error"
    return status, {"error": {"type": kind, "message": message, "code": code or None}}


class StripeStub:
    def __init__(self):
        self.objects: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, str, dict]] = []
        self.failure: int | None = None
        self.account = fixture("account")
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet: pytest shows failures, not access logs
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                status, body = stub.answer(self.command, self.path, dict(self.headers))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_local")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def put(self, obj: dict) -> dict:
        with self._lock:
            self.objects[(RESOURCE[obj["object"]], obj["id"])] = copy.deepcopy(obj)
        return obj

    def fail_with(self, status: int | None):
        self.failure = status

    def calls(self, method: str, path_prefix: str) -> list[tuple[str, str, dict]]:
        return [r for r in self.requests if r[0] == method and r[1].startswith(path_prefix)]

    def answer(self, method: str, path: str, headers: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests.append((method, path, headers))
            if self.failure == 401:
                return 401, {
                    "error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}
                }
            if self.failure:
                return self.failure, {"error": {"type": "api_error", "message": "Stub failure"}}
            parts = path.split("?")[0].strip("/").split("/")
            if parts == ["v1", "account"]:
                return 200, self.account
            if len(parts) == 3 and parts[0] == "v1":
                obj = self.objects.get((parts[1], parts[2]))
                if obj is not None:
                    return 200, copy.deepcopy(obj)
                return _error(404, f"No such {parts[1][:-1]}: '{parts[2]}'", "resource_missing")
            return _error(404, f"Unrecognized request URL ({method}: {path}).")


@pytest.fixture
def stripe_server(settings):
    """A running StripeStub with the library pointed at it."""
    stub = StripeStub().start()
    settings.STRIPE_API_BASE = stub.url
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    yield stub
    stub.stop()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The `Stripe-Signature` header Stripe would send: t=<timestamp>,v1=HMAC-SHA256(secret, "t.payload")
    (Stripe's documented scheme; the app verifies it with the library, never with this)."""
    import hashlib
    import hmac

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
