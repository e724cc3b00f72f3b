"""API keys: Bearer auth (401 for missing, malformed, unknown and revoked keys), role, last use."""

import datetime as dt
import hashlib

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.choices import ApiKeyMode, ApiKeyRole
from accounts.models import ApiKey
from accounts.services import api_key_revoke
from tests.api.conftest import make_key

pytestmark = pytest.mark.django_db

LIST = "/api/v1/customers"


def _client(secret=None, header=None):
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)
    elif secret is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_the_secret_is_shown_once_and_only_its_hash_is_stored(merchant):
    key, secret = make_key(merchant, mode=ApiKeyMode.TEST)
    key.refresh_from_db()
    assert secret.startswith("rk_test_") and len(secret) > 40
    assert key.prefix == secret[:12]
    assert key.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(v) for v in ApiKey.objects.filter(pk=key.pk).values_list().get()}
    assert make_key(merchant)[1].startswith("rk_live_")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Token rk_live_x",
        "Basic dXNlcjpwYXNz",
        "Bearer rk_live_wrong",
        "Bearer nope",
    ],
)
def test_missing_or_invalid_key_is_401_with_an_error_object(merchant, header):
    response = _client(header=header).get(LIST)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    error = response.json()["error"]
    assert error["type"] == "authentication_error"
    assert error["code"] in {"not_authenticated", "authentication_failed"}
    assert error["message"]


def test_a_revoked_key_is_401(merchant):
    key, secret = make_key(merchant)
    assert _client(secret).get(LIST).status_code == 200
    api_key_revoke(key=key)
    assert _client(secret).get(LIST).status_code == 401


def test_error_messages_follow_the_request_language(merchant):
    pt = _client(header="Bearer rk_live_wrong").get(LIST)
    en = _client(header="Bearer rk_live_wrong").get(LIST, HTTP_ACCEPT_LANGUAGE="en")
    assert pt.json()["error"]["message"] == "Chave de API inválida ou revogada."
    assert en.json()["error"]["message"] == "Invalid or revoked API key."


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_read_only_key_may_not_write(merchant, method):
    _key, secret = make_key(merchant, role=ApiKeyRole.READ_ONLY)
    response = getattr(_client(secret), method)(LIST, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"] == {
        "type": "permission_error",
        "code": "permission_denied",
        "message": "Esta chave de API é somente leitura.",
    }


def test_a_read_write_key_passes_the_role_check(merchant):
    # Past the role check, an empty body meets the validation (400), and PUT is not offered (405: PATCH).
    _key, secret = make_key(merchant, role=ApiKeyRole.READ_WRITE)
    response = _client(secret).post(LIST, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"name", "email"}
    response = _client(secret).put(LIST + "/1", {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_last_used_at_is_recorded_at_most_once_a_minute(merchant):
    key, secret = make_key(merchant)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _client(secret).get(LIST)
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=30), tick=False):
        _client(secret).get(LIST)
    key.refresh_from_db()
    assert key.last_used_at == start
    with time_machine.travel(start + dt.timedelta(minutes=2), tick=False):
        _client(secret).get(LIST)
    key.refresh_from_db()
    assert key.last_used_at == start + dt.timedelta(minutes=2)


def test_a_session_does_not_authenticate_the_api(client, merchant):
    from tests.factories import MembershipFactory

    membership = MembershipFactory(merchant=merchant)
    client.force_login(membership.user)
    assert client.get(reverse("api:customer-list")).status_code == 401
