"""Requests that must happen once: one-time form tokens and (later) the API's `Idempotency-Key`.

A create form carries a signed token (`issue_form_token`) bound to the merchant, the user and the
form. When it is submitted, `once()` inserts the token into `IdempotencyKey` *inside* the transaction
that creates the object, before the service runs; the service's own `transaction.atomic` joins that
transaction. So:

* the first request commits the token row and the object together (or neither, if the service refuses);
* a second request with the same token either blocks on the unique constraint until the first commits
  and then fails on it, or sees the row already there: both raise `AlreadyDone`, carrying the row,
  whose `result` / `result_url` say what the first request produced — a form redirects there.

The API uses the same `once()` with `scope="api:<METHOD> <path>"`, the client's key, a fingerprint of
the body, and stores `response_status`/`response_body` so a retry gets the first answer (docs/).
"""

import contextlib
import secrets

from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.db import IntegrityError, transaction

from core.models import IdempotencyKey

FORM_TOKEN_FIELD = "form_token"
_SALT = "core.idempotency.form-token"
# A form left open longer than this is refused (and shown again with a new token) rather than trusted.
FORM_TOKEN_MAX_AGE = 60 * 60 * 24


class InvalidToken(Exception):
    """The token was not issued by us for this merchant, user and form, or is too old."""


class AlreadyDone(Exception):
    """The token or key was already used; `record` is the IdempotencyKey row of the first use."""

    def __init__(self, record: IdempotencyKey | None):
        super().__init__("already done")
        self.record = record


def form_scope(kind: str) -> str:
    return f"form:{kind}"


def issue_form_token(*, merchant, user, kind: str) -> str:
    """A new signed token for one rendering of the form `kind` (e.g. its URL name)."""
    return signing.dumps(
        {"m": merchant.pk, "u": getattr(user, "pk", None), "k": kind, "n": secrets.token_urlsafe(18)},
        salt=_SALT,
    )


def read_form_token(token: str, *, merchant, user, kind: str) -> str:
    """The token's one-time key, if `token` is ours and for this merchant, user and form."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=FORM_TOKEN_MAX_AGE)
    except signing.BadSignature as exc:  # also SignatureExpired
        raise InvalidToken from exc
    if (
        not isinstance(data, dict)
        or data.get("m") != merchant.pk
        or data.get("u") != getattr(user, "pk", None)
        or data.get("k") != kind
        or not data.get("n")
    ):
        raise InvalidToken
    return data["n"]


class _Use:
    """What the body of `once()` produced: set `result` (a model instance) and/or the others."""

    def __init__(self, record: IdempotencyKey):
        self.record = record
        self.result = None
        self.result_url = ""
        self.response_status = None
        self.response_body = None


@contextlib.contextmanager
def once(*, merchant, scope: str, key: str, user=None, fingerprint: str = ""):
    """Runs the body once per (merchant, scope, key), in one transaction with the key's row.

    Raises AlreadyDone (before the body runs) when the key was used by a committed request; an
    exception in the body rolls back the key too, so a refused submission can be corrected and sent
    again with the same token.
    """
    with transaction.atomic():
        record = _claim(merchant=merchant, scope=scope, key=key, user=user, fingerprint=fingerprint)
        use = _Use(record)
        yield use
        if use.result is not None and getattr(use.result, "pk", None) is not None:
            record.result_type = ContentType.objects.get_for_model(use.result)
            record.result_id = str(use.result.pk)
        record.result_url = (use.result_url or "")[:500]
        record.response_status = use.response_status
        record.response_body = use.response_body
        record.save(
            update_fields=["result_type", "result_id", "result_url", "response_status", "response_body"]
        )


def _claim(*, merchant, scope, key, user, fingerprint) -> IdempotencyKey:
    # A savepoint, so a unique violation leaves the caller's transaction usable for the look-up below
    # (on PostgreSQL the insert waits for a concurrent holder of the same key to commit or roll back).
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                merchant=merchant,
                scope=scope,
                key=key,
                user=user if getattr(user, "pk", None) else None,
                request_fingerprint=fingerprint,
            )
    except IntegrityError:
        record = IdempotencyKey.objects.filter(merchant=merchant, scope=scope, key=key).first()
        raise AlreadyDone(record) from None


def idempotency_keys_purge(*, scope_prefix: str, older_than) -> int:
    """Deletes the keys of scopes starting with `scope_prefix` used before `older_than` (their retention
    is over: a replay after it runs again). Returns how many."""
    deleted, _per_model = IdempotencyKey.objects.filter(
        scope__startswith=scope_prefix, created_at__lt=older_than
    ).delete()
    return deleted
