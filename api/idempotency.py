"""`Idempotency-Key` on every POST of the API, with Stripe's semantics (docs/api.md, Idempotency):

* the first request with a key runs and its answer (status and body) is stored with the key, in the same
  transaction as what it created (`core.idempotency.once`, the mechanism the one-time forms use);
* the same key with the same request within `RETENTION` answers the stored response, without running again;
  a concurrent one waits on the key's unique index until the first commits, then answers the same;
* the same key with another request (method, path or body) is 422 `idempotency_key_reused`;
* a request that fails (4xx/5xx) stores nothing: it can be corrected and sent again with the same key.

Keys belong to one API key (`scope` = "api:key:<id>"), so two keys of the merchant never collide.
"""

import datetime as dt
import hashlib
import json

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from api.exceptions import error_body
from core.idempotency import AlreadyDone, idempotency_keys_purge, once
from core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = dt.timedelta(hours=24)
SCOPE_PREFIX = "api:key:"


def scope_for(api_key) -> str:
    return f"{SCOPE_PREFIX}{api_key.pk}"


def request_fingerprint(request) -> str:
    """The request as the key promises it: method, path and the body's JSON (keys sorted, so spacing and
    key order do not make it "another" request); a body that is not JSON counts byte for byte."""
    raw = request.body
    try:
        body = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        body = raw
    return hashlib.sha256(f"{request.method} {request.path}\n".encode() + body).hexdigest()


class _Failed(Exception):
    """An answer that must not be stored (4xx/5xx): leaves `once()` so the key is rolled back."""

    def __init__(self, response):
        super().__init__("not stored")
        self.response = response


def _error(status_code, code, message):
    return Response(error_body(status_code=status_code, code=code, message=message), status=status_code)


def run_idempotent(request, handler, *args, **kwargs):
    """Runs `handler` (the view's POST) once per Idempotency-Key; without the header, just runs it."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler(request, *args, **kwargs)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        return _error(
            status.HTTP_400_BAD_REQUEST,
            "idempotency_key_invalid",
            _("O cabeçalho Idempotency-Key deve ter de 1 a %(max)d caracteres.") % {"max": MAX_KEY_LENGTH},
        )
    api_key = request.auth
    merchant, scope = api_key.merchant, scope_for(api_key)
    fingerprint = request_fingerprint(request._request)
    # Past the retention the key is free again (the purge task deletes such rows; this covers the gap).
    IdempotencyKey.objects.filter(
        merchant=merchant, scope=scope, key=key, created_at__lt=timezone.now() - RETENTION
    ).delete()
    try:
        with once(merchant=merchant, scope=scope, key=key, fingerprint=fingerprint) as use:
            response = handler(request, *args, **kwargs)
            if response.status_code >= 400:
                raise _Failed(response)
            use.response_status, use.response_body = response.status_code, _json(response.data)
    except _Failed as failed:
        return failed.response
    except AlreadyDone as done:
        record = done.record
        if record is None or record.request_fingerprint != fingerprint:
            return _error(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                _("Esta Idempotency-Key já foi usada em outra requisição; use uma chave nova."),
            )
        replay = Response(record.response_body, status=record.response_status)
        replay["Idempotent-Replayed"] = "true"
        return replay
    return response


def _json(data):
    # Stored as the client got it: JSON types only (DRF's encoder renders dates and decimals the same way).
    return json.loads(json.dumps(data, cls=JSONEncoder))


def purge_expired(now=None) -> int:
    """The cleanup task: deletes the API's keys older than the retention."""
    return idempotency_keys_purge(scope_prefix=SCOPE_PREFIX, older_than=(now or timezone.now()) - RETENTION)
