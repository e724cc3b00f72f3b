"""The web process's WSGI application (config/wsgi.py): Stripe's webhook deliveries through the lean handler
(core/lean_wsgi.py: settings.WEBHOOK_MIDDLEWARE and config/urls_webhooks.py), everything else through the
full Django stack. Called as a WSGI server calls it; tests/deploy/test_production_server.py does the same
through gunicorn."""

import io
import json
import logging
import time
from contextlib import contextmanager
from wsgiref.util import setup_testing_defaults

import pytest
from django.conf import settings
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import get_resolver, resolve, reverse

from billing.choices import ProviderEventStatus as PE
from billing.models import ProviderEvent
from config.wsgi import application
from tests.billing.test_stripe_webhooks import SECRET, T0
from tests.factories import ProviderConnectionFactory
from tests.stripe_server import event, fixture, sign

pytestmark = pytest.mark.django_db


@contextmanager
def inside_the_test_transaction():
    # As Django's test client does: the request signals must not close the test's connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(method: str, path: str, body: bytes = b"", **headers):
    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "wsgi.input": io.BytesIO(body)}
    setup_testing_defaults(environ)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["CONTENT_TYPE"] = "application/json"
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    answer = {}

    def start_response(status, response_headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(response_headers)

    with inside_the_test_transaction():
        result = application(environ, start_response)
        try:
            answer["body"] = b"".join(result)
        finally:
            result.close()
    return answer


def delivery(connection, n: int, secret=SECRET) -> tuple[str, bytes, str]:
    body = event(
        "customer.subscription.updated", fixture("subscription"), created=T0 + n, event_id=f"evt_{n}"
    )
    path = reverse("billing:stripe_webhook", args=[connection.webhook_token])
    return path, body, sign(body, secret, int(time.time()))


def test_a_delivery_is_stored_through_the_lean_handler_with_one_log_line_and_the_security_headers(
    merchant, caplog
):
    connection = ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)
    path, body, signature = delivery(connection, 1)
    with caplog.at_level(logging.INFO, logger="recorrente.request"):
        answer = call("POST", path, body, STRIPE_SIGNATURE=signature, X_REQUEST_ID="stripe-42")

    assert answer["status"] == 200 and json.loads(answer["body"])["outcome"] == "stored"
    assert ProviderEvent.objects.get(event_id="evt_1").status == PE.PENDING
    assert answer["headers"]["X-Request-ID"] == "stripe-42"
    assert answer["headers"]["X-Content-Type-Options"] == "nosniff"
    assert answer["headers"]["X-Frame-Options"] == "DENY"
    # None of the full stack's layers ran: no session cookie, no CSP, no language negotiation.
    assert "Set-Cookie" not in answer["headers"] and "Content-Security-Policy" not in answer["headers"]
    assert "Content-Language" not in answer["headers"]
    (record,) = [r for r in caplog.records if r.name == "recorrente.request"]
    assert (record.method, record.path, record.status, record.request_id) == ("POST", path, 200, "stripe-42")


def test_refusals_answer_in_json_through_the_lean_handler(merchant):
    connection = ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)
    path, body, signature = delivery(connection, 1, secret="whsec_wrong")
    bad = call("POST", path, body, STRIPE_SIGNATURE=signature)
    assert bad["status"] == 400 and json.loads(bad["body"]) == {"error": "invalid signature or body"}

    unknown_path = reverse("billing:stripe_webhook", args=["00000000-0000-0000-0000-000000000000"])
    unknown = call("POST", unknown_path, body, STRIPE_SIGNATURE=signature)
    assert unknown["status"] == 404 and json.loads(unknown["body"]) == {"error": "unknown webhook"}

    wrong_method = call("GET", path)
    assert wrong_method["status"] == 405


def test_a_host_outside_allowed_hosts_is_refused_by_the_lean_handler_too(merchant, settings):
    settings.ALLOWED_HOSTS = ["recorrente.example.com"]
    connection = ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)
    path, body, signature = delivery(connection, 1)
    answer = call("POST", path, body, STRIPE_SIGNATURE=signature, HOST="attacker.example")
    assert answer["status"] == 400
    assert not ProviderEvent.objects.exists()


def test_other_paths_go_through_the_full_stack(client):
    answer = call("GET", reverse("login"))
    assert answer["status"] == 200
    assert "Content-Security-Policy" in answer["headers"] and "csrftoken" in answer["headers"].get(
        "Set-Cookie", ""
    )
    # Under the same prefix, a path the lean URLconf does not know is the full stack's too.
    answer = call("GET", "/cobrancas/webhooks/stripe/not-a-token/")
    assert answer["status"] in (302, 404) and "Content-Security-Policy" in answer["headers"]


def test_the_lean_urlconf_serves_the_same_views_at_the_same_paths_as_the_site():
    lean = get_resolver("config.urls_webhooks")
    token = "6f0c4a7e-0000-4000-8000-000000000001"
    for name in ("billing:stripe_webhook",):
        path = reverse(name, args=[token])
        assert reverse(name, args=[token], urlconf="config.urls_webhooks") == path
        assert lean.resolve(path).func.view_class is resolve(path).func.view_class


def test_the_webhook_middleware_is_a_subset_of_the_sites_in_the_same_order():
    positions = [settings.MIDDLEWARE.index(name) for name in settings.WEBHOOK_MIDDLEWARE]
    assert positions == sorted(positions)
