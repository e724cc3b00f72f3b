"""The web process's WSGI application (config/wsgi.py): Stripe's webhook deliveries answered by the bare view
through the short path (core/lean_wsgi.py, config/urls_webhooks.py), everything else through the full
Django stack. Called as a WSGI server calls it; tests/deploy/test_production_server.py does the same
through the production web server (granian, config/web.py)."""

import io
import json
import logging
import time
from contextlib import contextmanager
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import get_resolver, path, resolve, reverse

from billing.choices import ProviderEventStatus as PE
from billing.models import ProviderEvent
from billing.views import StripeWebhookView, stripe_webhook
from config.wsgi import application, django_application
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
            if hasattr(result, "close"):
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


def test_the_short_path_serves_the_same_paths_with_the_same_answers_as_the_site():
    lean = get_resolver("config.urls_webhooks")
    token = "6f0c4a7e-0000-4000-8000-000000000001"
    path = reverse("billing:stripe_webhook", args=[token])
    assert reverse("stripe_webhook", args=[token], urlconf="config.urls_webhooks") == path
    assert application.match(path).func is stripe_webhook
    assert lean.resolve(path).func is stripe_webhook
    # The site's view gives the bare view's answer (tests/billing/test_stripe_webhooks.py posts through it).
    assert resolve(path).func.view_class is StripeWebhookView
    assert application.match("/cobrancas/webhooks/stripe/not-a-token/") is None
    assert application.match(path.rstrip("/")) is None


def _broken_view(request):
    raise RuntimeError("a bug below the view")


# A URLconf of this module's own for the short path: a bare view that fails, as a bug anywhere would.
urlpatterns = [path("quebrado/", _broken_view)]


def test_a_server_error_is_a_json_500_logged_with_its_traceback(caplog):
    short = type(application)(urlconf=__name__, fallback=django_application)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/quebrado/", "wsgi.input": io.BytesIO(b"")}
    setup_testing_defaults(environ)
    statuses = []
    with caplog.at_level(logging.INFO), inside_the_test_transaction():
        result = short(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert statuses == ["500 Internal Server Error"]
    assert json.loads(b"".join(result)) == {"error": "server error"}
    (error,) = [r for r in caplog.records if r.name == "django.request"]
    assert error.exc_info[0] is RuntimeError and error.status_code == 500
    (line,) = [r for r in caplog.records if r.name == "recorrente.request"]
    assert line.status == 500


def test_plain_http_is_redirected_to_https_as_on_the_rest_of_the_site(merchant, settings):
    settings.SECURE_SSL_REDIRECT = True
    short = type(application)(urlconf="config.urls_webhooks", fallback=django_application)
    connection = ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)
    path, body, signature = delivery(connection, 1)
    environ = {"REQUEST_METHOD": "POST", "PATH_INFO": path, "wsgi.input": io.BytesIO(body)}
    setup_testing_defaults(environ)
    statuses = []
    with inside_the_test_transaction():
        result = short(
            environ, lambda status, headers, exc_info=None: statuses.append((status, dict(headers)))
        )
    status, headers = statuses[0]
    assert status.startswith("301") and headers["Location"] == f"https://127.0.0.1{path}"
    assert b"".join(result) == b""
    assert not ProviderEvent.objects.exists()


def test_the_end_of_each_request_is_signalled_so_connections_are_recycled(merchant):
    connection = ProviderConnectionFactory(merchant=merchant, webhook_secret=SECRET)
    path, body, signature = delivery(connection, 1)
    ends = []

    def receiver(sender, **kwargs):
        ends.append(sender)

    request_finished.connect(receiver)
    try:
        call("POST", path, body, STRIPE_SIGNATURE=signature)
    finally:
        request_finished.disconnect(receiver)
    assert len(ends) == 1
