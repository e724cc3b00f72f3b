"""Rate limits per API key: reads and writes counted apart, per key; over the limit a 429 error object with
Retry-After, and the view does not run."""

import datetime as dt

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from accounts.choices import ApiKeyRole
from subscribers.models import Customer
from tests.api.conftest import client_for, make_key

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def limits_on(settings):
    settings.API_RATE_LIMITS = {"read": "3/m", "write": "2/m"}
    cache.clear()
    yield
    cache.clear()


def test_reads_over_the_limit_are_429_with_retry_after(api):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert [api.get("/api/v1/plans").status_code for _ in range(3)] == [200, 200, 200]
        response = api.get("/api/v1/plans")
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("rate_limit_error", "throttled")
    assert error["message"]
    with time_machine.travel(start + dt.timedelta(seconds=20), tick=False):
        assert api.get("/api/v1/plans")["Retry-After"] == "40"
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        assert api.get("/api/v1/plans").status_code == 200


def test_writes_have_their_own_budget_and_a_refused_write_does_nothing(api_rw):
    for _ in range(3):
        api_rw.get("/api/v1/customers")  # the read budget spent…
    body = {"name": "Ana", "email": "ana@example.com"}
    assert api_rw.post("/api/v1/customers", body, format="json").status_code == 201  # …writes still pass
    assert (
        api_rw.post("/api/v1/customers", {**body, "email": "b@example.com"}, format="json").status_code == 201
    )
    refused = api_rw.post("/api/v1/customers", {**body, "email": "c@example.com"}, format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert Customer.objects.count() == 2


def test_each_key_has_its_own_budget(api, merchant):
    for _ in range(3):
        api.get("/api/v1/plans")
    assert api.get("/api/v1/plans").status_code == 429
    _key, secret = make_key(merchant, role=ApiKeyRole.READ_ONLY)
    assert client_for(secret).get("/api/v1/plans").status_code == 200


def test_an_unknown_key_is_401_not_counted(merchant):
    client = client_for("rk_live_nope")
    assert {client.get("/api/v1/plans").status_code for _ in range(5)} == {401}
