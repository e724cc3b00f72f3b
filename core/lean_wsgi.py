"""The web process's short path: a few URLs answered by *bare views* — no middleware chain, no view class,
no HttpResponse — and every other request handed to Django's WSGI handler unchanged.

Built for Stripe's webhook (config/wsgi.py). A delivery needs no session, user, merchant, locale, CSRF, CSP
or static files, and at a thousand deliveries a second in one process even the objects and calls of
Django's handler (middleware, view dispatch, response, header parsing) cost more CPU than verifying and
storing the event (bench/README.md, "Stripe webhook ingest"). What a request served by Django gets and a
delivery needs is kept, taken from Django's or our own code rather than rewritten:

- the end of a request for Django (`request_finished`: CONN_MAX_AGE, a connection left broken by an error,
  the next request's connection health check, cache connections). `request_started` is not sent: its
  receivers repeat the previous answer's connection checks and reset the DEBUG query log, and one
  signal fewer is a measurable share of a delivery's CPU;
- Django's WSGIRequest: the body's size limit (DATA_UPLOAD_MAX_MEMORY_SIZE), `get_host()` against
  ALLOWED_HOSTS (checked on every request, as CommonMiddleware does), `is_secure()` behind the proxy;
- SecurityMiddleware's https redirect, and the headers SecurityMiddleware and XFrameOptionsMiddleware add to
  an answer (their own methods, called on the bare answer);
- the request id and the one log line per request (core.request_log);
- SuspiciousOperation → 400 logged on `django.security.<name>`; any other exception → 500 logged on
  `django.request` with its traceback, and `got_request_exception` sent.

A bare view is `view(request, **kwargs) -> BareAnswer` (status, JSON-able body, extra headers); the small
URLconf routes its paths. `BareAnswer.to_response()` gives the same answer as a JsonResponse, so the site's
full stack can serve the same URL with the same code (config/urls.py).
"""

import functools
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from django.core import signals
from django.core.exceptions import SuspiciousOperation
from django.core.handlers.wsgi import WSGIRequest, get_path_info, get_script_name
from django.http import JsonResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware
from django.urls import get_resolver, set_script_prefix

from core.request_log import REQUEST_ID_HEADER, log_request, request_id_for, request_id_var


@dataclass
class BareAnswer:
    """A bare view's answer: `data` is sent as JSON (nothing when None). Has the few response methods the
    security middleware's process_response uses, so their own code sets the headers."""

    status: int
    data: dict | None = None
    headers: dict = field(default_factory=dict)

    def __contains__(self, name):
        return name in self.headers

    def get(self, name, default=None):
        return self.headers.get(name, default)

    def setdefault(self, name, value):
        self.headers.setdefault(name, value)

    def to_response(self) -> JsonResponse:
        return JsonResponse(self.data, status=self.status, headers=self.headers, safe=False)


@functools.lru_cache(maxsize=64)
def _meta_key(name: str) -> str:
    """The META (WSGI environ) key of an HTTP header: "Stripe-Signature" → "HTTP_STRIPE_SIGNATURE"."""
    key = name.upper().replace("-", "_")
    return key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"


class MetaHeaders(Mapping):
    """A request's headers by their HTTP names, read from META on demand: the few a bare view asks for,
    without building HttpRequest.headers (every header of the request, parsed) for each request."""

    def __init__(self, meta: dict):
        self.meta = meta

    def __getitem__(self, name: str) -> str:
        return self.meta[_meta_key(name)]

    def get(self, name: str, default=None):
        return self.meta.get(_meta_key(name), default)

    def __iter__(self):
        raise TypeError("MetaHeaders is read by name only")

    def __len__(self):
        raise TypeError("MetaHeaders is read by name only")


def _unused(request):
    raise AssertionError("not part of a middleware chain")


class LeanWSGIHandler:
    """Serves the paths `urlconf` resolves with its bare views; passes every other request to `fallback`
    (the full Django WSGI application)."""

    def __init__(self, *, urlconf: str, fallback):
        self.urlconf = urlconf
        self.fallback = fallback
        # Only their process_request / process_response are called: the chain they would wrap is unused.
        self.security = SecurityMiddleware(_unused)
        self.xframe = XFrameOptionsMiddleware(_unused)
        self.request_logger = logging.getLogger("django.request")

    def match(self, path_info: str):
        """The small URLconf's match for `path_info`, or None (the request goes to the full handler). The
        URLconf is a flat list of paths: each is tried as it stands, without the root resolver's layers."""
        if path_info.startswith("/"):
            for pattern in get_resolver(self.urlconf).url_patterns:
                if (match := pattern.resolve(path_info[1:])) is not None:
                    return match
        return None

    def __call__(self, environ, start_response):
        match = self.match(get_path_info(environ))
        if match is None:
            return self.fallback(environ, start_response)
        set_script_prefix(get_script_name(environ))
        try:
            answer = self.serve(WSGIRequest(environ), match)
        finally:
            # The answer is complete in memory: the connection can go back before the bytes are sent.
            signals.request_finished.send(sender=self.__class__)
        body = b"" if answer.data is None else json.dumps(answer.data).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        status = HTTPStatus(answer.status)
        start_response(f"{status.value} {status.phrase}", headers + list(answer.headers.items()))
        return [body]

    def serve(self, request, match) -> BareAnswer:
        """The view's answer with the request id, the log line and the security headers."""
        request_id = request_id_for(request.META.get("HTTP_X_REQUEST_ID", ""))
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        answer = BareAnswer(500, {"error": "server error"})
        try:
            answer = self.call_view(request, match)
            answer.headers[REQUEST_ID_HEADER] = request_id
            self.security.process_response(request, answer)
            self.xframe.process_response(request, answer)
            return answer
        finally:
            log_request(request.method, request.path, answer.status, started, request_id)
            request_id_var.reset(token)

    def call_view(self, request, match) -> BareAnswer:
        try:
            request.get_host()  # DisallowedHost (a SuspiciousOperation) outside ALLOWED_HOSTS
            redirect = self.security.process_request(request)
            if redirect is not None:
                return BareAnswer(redirect.status_code, None, {"Location": redirect["Location"]})
            return match.func(request, **match.kwargs)
        except SuspiciousOperation as exc:
            # As Django's handler answers it: 400, logged on the security logger named after the exception.
            logging.getLogger(f"django.security.{exc.__class__.__name__}").error(
                str(exc), extra={"status_code": 400, "request": request}
            )
            return BareAnswer(400, {"error": "bad request"})
        except Exception:
            signals.got_request_exception.send(sender=self.__class__, request=request)
            self.request_logger.error(
                "Internal Server Error: %s",
                request.path,
                exc_info=True,
                extra={"status_code": 500, "request": request},
            )
            return BareAnswer(500, {"error": "server error"})
