"""Read endpoints: content, cursor pagination, filters, the access check; the schema and the docs."""

import datetime as dt
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils import timezone

from subscribers.choices import SubscriptionStatus as S
from tests.factories import CustomerFactory, PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_customer_retrieve_shows_its_fields(api, merchant):
    customer = CustomerFactory(merchant=merchant, name="Ana Souza", email="ana@example.com")
    body = api.get(f"/api/v1/customers/{customer.pk}").json()
    assert body["id"] == customer.pk
    assert body["name"] == "Ana Souza"
    assert body["email"] == "ana@example.com"


def test_plan_amounts_are_integer_centavos(api, merchant):
    plan = PlanFactory(merchant=merchant, price=4990, currency="BRL")
    body = api.get(f"/api/v1/plans/{plan.pk}").json()
    assert (body["price"], body["currency"]) == (4990, "BRL")


def test_cursor_pagination_walks_every_row_once(api, merchant):
    customers = CustomerFactory.create_batch(5, merchant=merchant)
    seen, url, pages = [], "/api/v1/customers?limit=2", 0
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url, pages = body["next"], pages + 1
    assert pages == 3
    assert seen == sorted((c.pk for c in customers), reverse=True)


def test_a_tampered_cursor_is_a_404_error_object(api, merchant):
    response = api.get("/api/v1/customers", {"cursor": "nonsense"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_subscription_filters(api, merchant):
    gold, silver = PlanFactory(merchant=merchant), PlanFactory(merchant=merchant)
    active = SubscriptionFactory(merchant=merchant, plan=gold, status=S.ACTIVE)
    past_due = SubscriptionFactory(merchant=merchant, plan=silver, status=S.PAST_DUE)
    canceled = SubscriptionFactory(merchant=merchant, plan=gold, status=S.CANCELED)

    def ids(**params):
        return {row["id"] for row in api.get("/api/v1/subscriptions", params).json()["results"]}

    assert ids() == {active.pk, past_due.pk, canceled.pk}
    assert ids(status=["active", "past_due"]) == {active.pk, past_due.pk}
    assert ids(plan=gold.pk) == {active.pk, canceled.pk}
    assert ids(customer=past_due.customer_id) == {past_due.pk}


def test_an_invalid_filter_is_a_400_with_field_errors(api, merchant):
    response = api.get("/api/v1/subscriptions", {"status": "sleeping"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["code"] == "invalid_choice"
    assert error["message"] == "Dados inválidos."
    assert list(error["fields"]) == ["status"]


def test_access_check_lists_the_subscriptions_that_give_access(api, merchant):
    now = timezone.now()
    customer = CustomerFactory(merchant=merchant)
    running = SubscriptionFactory(
        merchant=merchant, customer=customer, status=S.ACTIVE, current_period_end=now + dt.timedelta(days=10)
    )
    # Canceled at the end of the paid period: still has access until then.
    winding_down = SubscriptionFactory(
        merchant=merchant, customer=customer, status=S.CANCELED, access_until=now + dt.timedelta(days=20)
    )
    SubscriptionFactory(
        merchant=merchant, customer=customer, status=S.CANCELED, access_until=now - dt.timedelta(days=1)
    )
    SubscriptionFactory(merchant=merchant, customer=customer, status=S.EXPIRED)
    SubscriptionFactory(merchant=merchant, customer=customer, status=S.ACTIVE, access_revoked_at=now)

    body = api.get(f"/api/v1/customers/{customer.pk}/access").json()

    assert body["customer"] == customer.pk
    assert body["has_access"] is True
    assert [s["id"] for s in body["subscriptions"]] == [running.pk, winding_down.pk]
    assert body["subscriptions"][0]["plan"] == {"id": running.plan_id, "name": running.plan.name}
    assert body["subscriptions"][0]["status"] == "active"
    assert dt.datetime.fromisoformat(body["access_until"]) == winding_down.access_until


def test_access_check_of_a_customer_without_subscriptions(api, merchant):
    customer = CustomerFactory(merchant=merchant)
    body = api.get(f"/api/v1/customers/{customer.pk}/access").json()
    assert body == {"customer": customer.pk, "has_access": False, "access_until": None, "subscriptions": []}


def test_the_schema_generates_without_warnings():
    result = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null"],
        cwd=settings.BASE_DIR,
        env={"DJANGO_DEBUG": "true", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/customers/{id}/access" in schema.content
    for url in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert "drf_spectacular_sidecar" in html
        assert "cdn" not in html.lower()


def _subscription_queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if 'FROM "subscribers_subscription"' in q["sql"]]


def test_subscription_retrieve_reads_the_row_alone(api, merchant):
    """The answer holds the plan's and customer's ids only: no join to build related models (bench/api.py)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    subscription = SubscriptionFactory(merchant=merchant, status=S.ACTIVE)
    with CaptureQueriesContext(connection) as captured:
        body = api.get(f"/api/v1/subscriptions/{subscription.pk}").json()
    assert body["plan"] == subscription.plan_id
    [sql] = _subscription_queries(captured)
    assert "JOIN" not in sql


def test_access_check_reads_only_the_columns_it_answers_with(api, merchant):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    subscription = SubscriptionFactory(merchant=merchant, status=S.ACTIVE)
    with CaptureQueriesContext(connection) as captured:
        body = api.get(f"/api/v1/customers/{subscription.customer_id}/access").json()
    assert body["subscriptions"][0]["plan"]["name"] == subscription.plan.name
    [sql] = _subscription_queries(captured)
    assert '"payment_token"' not in sql and '"plans_plan"."description"' not in sql
