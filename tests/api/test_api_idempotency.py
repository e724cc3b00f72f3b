"""Idempotency-Key on the API's POSTs (Stripe's semantics): a replay answers the first response without a
second effect, another request with the key is 422, concurrent replays make one effect (PostgreSQL), keys
belong to one API key and expire after 24 h (with a purge task)."""

import datetime as dt
import json
import threading

import pytest
import time_machine
from django.db import connection, connections
from django.utils import timezone

from accounts.choices import ApiKeyRole
from api.tasks import purge_idempotency_keys
from core.models import IdempotencyKey
from subscribers.models import Customer, Subscription
from tests.api.conftest import client_for, make_key
from tests.factories import CustomerFactory, PlanFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers"
BODY = {"name": "Ana Souza", "email": "ana@example.com"}


def _post(client, body=BODY, key="chave-1", url=URL, **extra):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


def test_a_replay_answers_the_first_response_without_a_second_effect(api_rw):
    first = _post(api_rw)
    second = _post(api_rw)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Customer.objects.count() == 1


def test_spacing_and_key_order_of_the_json_do_not_make_another_request(api_rw):
    first = _post(api_rw)
    reordered = api_rw.generic(
        "POST",
        URL,
        json.dumps({"email": "ana@example.com", "name": "Ana Souza"}, indent=2),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="chave-1",
    )
    assert reordered.status_code == 201
    assert reordered.json() == first.json()
    assert Customer.objects.count() == 1


def test_the_same_key_with_another_body_or_path_is_422(api_rw, merchant):
    _post(api_rw)
    other_body = _post(api_rw, body={**BODY, "name": "Bia"})
    assert other_body.status_code == 422
    assert other_body.json()["error"] == {
        "type": "idempotency_error",
        "code": "idempotency_key_reused",
        "message": "Esta Idempotency-Key já foi usada em outra requisição; use uma chave nova.",
    }
    plan = PlanFactory(merchant=merchant)
    other_path = _post(
        api_rw, body={"customer": Customer.objects.get().pk, "plan": plan.pk}, url="/api/v1/subscriptions"
    )
    assert other_path.status_code == 422
    assert Customer.objects.count() == 1
    assert not Subscription.objects.exists()
    en = _post(api_rw, body={**BODY, "name": "Bia"}, HTTP_ACCEPT_LANGUAGE="en")
    assert (
        en.json()["error"]["message"]
        == "This Idempotency-Key was already used for another request; use a new key."
    )


def test_a_refused_request_stores_nothing_and_may_be_corrected_with_the_same_key(api_rw):
    refused = _post(api_rw, body={"name": "Ana Souza", "email": "não é e-mail"})
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert _post(api_rw).status_code == 201
    assert Customer.objects.count() == 1


def test_keys_belong_to_one_api_key(api_rw, merchant, other_merchant):
    assert _post(api_rw).status_code == 201
    _key, secret = make_key(merchant, role=ApiKeyRole.READ_WRITE)
    # Another key of the same merchant: its own keys (here the e-mail rule refuses the duplicate, proof
    # that the request ran instead of replaying the first key's answer).
    assert _post(client_for(secret)).status_code == 400
    _key, foreign = make_key(other_merchant, role=ApiKeyRole.READ_WRITE)
    assert _post(client_for(foreign)).status_code == 201
    assert Customer.objects.filter(merchant=other_merchant).count() == 1


def test_a_key_expires_after_24_hours_and_the_purge_deletes_it(api_rw):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        first = _post(api_rw)
        assert first.status_code == 201
    Customer.objects.all().delete()  # so the request can run again without the e-mail rule refusing it
    with time_machine.travel(start + dt.timedelta(hours=23), tick=False):
        assert _post(api_rw).json() == first.json()
        assert not Customer.objects.exists()
    with time_machine.travel(start + dt.timedelta(hours=25), tick=False):
        again = _post(api_rw)
        assert again.status_code == 201
        assert again.json()["id"] != first.json()["id"]
    assert IdempotencyKey.objects.count() == 1

    form_key = IdempotencyKey.objects.create(
        merchant=Customer.objects.get().merchant, scope="form:x", key="k"
    )
    with time_machine.travel(start + dt.timedelta(hours=50), tick=False):
        assert purge_idempotency_keys() == 1
    assert list(IdempotencyKey.objects.all()) == [form_key]  # only the API's keys, forms have their own


def test_a_key_longer_than_255_characters_is_refused(api_rw):
    response = _post(api_rw, key="x" * 256)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_invalid"
    assert not Customer.objects.exists()


def test_gets_ignore_the_header(api):
    assert api.get(URL, HTTP_IDEMPOTENCY_KEY="chave-1").status_code == 200
    assert not IdempotencyKey.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_posts_with_one_key_make_one_subscription(merchant):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: two connections writing at once")
    _key, secret = make_key(merchant, role=ApiKeyRole.READ_WRITE)
    customer, plan = CustomerFactory(merchant=merchant), PlanFactory(merchant=merchant, price=4990)
    body = {"customer": customer.pk, "plan": plan.pk, "payment_method": "manual"}
    start = threading.Barrier(3)
    responses = []

    def submit():
        try:
            client = client_for(secret)
            start.wait()
            responses.append(_post(client, body=body, key="contrato-42", url="/api/v1/subscriptions"))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    subscription = Subscription.objects.get()
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert {r.json()["id"] for r in responses} == {subscription.pk}
    assert sum(r.has_header("Idempotent-Replayed") for r in responses) == 2
    assert IdempotencyKey.objects.get().response_body["id"] == subscription.pk
