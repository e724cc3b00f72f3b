"""Writes through the API: the screens' services with the key as actor and origin "api"; refusals as the
error object in the request's language; previews that save nothing; invoices, payments, events and webhook
endpoints."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from billing.models import Refund
from core.events import EventType
from core.models import Event
from notifications.webhooks.models import WebhookEndpoint
from subscribers.choices import EventKind, SubscriptionOrigin
from subscribers.choices import SubscriptionStatus as S
from subscribers.models import Customer, Subscription, SubscriptionEvent
from tests.billing.test_refunds import NOW, paid_subscription
from tests.factories import (
    CouponFactory,
    CustomerFactory,
    EventFactory,
    InvoiceFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(merchant):
    return PlanFactory(merchant=merchant, name="Plano Ouro", price=4990)


@pytest.fixture
def customer(merchant):
    return CustomerFactory(merchant=merchant, name="Ana Souza")


def _contract(api_rw, customer, plan, **extra):
    body = {"customer": customer.pk, "plan": plan.pk, "payment_method": "manual", **extra}
    return api_rw.post("/api/v1/subscriptions", body, format="json")


# --- subscriptions ---------------------------------------------------------------------------------
def test_create_contracts_with_origin_api_and_the_key_on_the_timeline(api_rw, rw_key, customer, plan):
    response = _contract(api_rw, customer, plan, quantity=2)

    assert response.status_code == 201, response.json()
    body = response.json()
    subscription = Subscription.objects.get(pk=body["id"])
    assert (body["origin"], body["status"], body["quantity"]) == ("api", "active", 2)
    assert subscription.origin == SubscriptionOrigin.API
    assert subscription.amount == 2 * 4990
    assert subscription.created_by is None  # a key is not a team member
    entry = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CREATED)
    assert entry.actor is None
    assert entry.data["by"] == "api_key"
    assert entry.data["api_key"] == rw_key[0].pk
    assert entry.data["channel"] == "api"
    assert Event.objects.filter(type=EventType.SUBSCRIPTION_CREATED, payload__id=subscription.pk).exists()


def test_the_timeline_names_the_key(api_rw, customer, plan, client, owner):
    subscription_id = _contract(api_rw, customer, plan).json()["id"]
    client.force_login(owner)
    page = client.get(reverse("subscribers:subscription_detail", args=[subscription_id])).content.decode()
    assert "Pela API (chave “Site”)" in page


def test_another_merchants_plan_in_the_body_is_refused_like_an_unknown_one(api_rw, customer, other_merchant):
    foreign = PlanFactory(merchant=other_merchant)
    response = _contract(api_rw, customer, foreign)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["code"]) == ("invalid_request_error", "does_not_exist")
    assert list(error["fields"]) == ["plan"]
    assert not Subscription.objects.exists()


def test_a_service_refusal_is_an_error_object_in_the_request_language(api_rw, customer, merchant):
    archived = PlanFactory(merchant=merchant, is_active=False)
    pt = _contract(api_rw, customer, archived)
    en = api_rw.post(
        "/api/v1/subscriptions",
        {"customer": customer.pk, "plan": archived.pk},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert pt.status_code == en.status_code == 400
    assert pt.json()["error"]["fields"] == {
        "plan": ["Este plano não está disponível para novas assinaturas."]
    }
    assert en.json()["error"]["fields"] == {"plan": ["This plan is not available for new subscriptions."]}
    assert en.json()["error"]["message"] == "Invalid data."


def test_update_changes_quantity_now_and_plan_at_the_next_cycle(api_rw, customer, plan, merchant):
    subscription_id = _contract(api_rw, customer, plan).json()["id"]
    url = f"/api/v1/subscriptions/{subscription_id}"

    response = api_rw.patch(url, {"quantity": 3}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["quantity"] == 3

    silver = PlanFactory(merchant=merchant, price=2990)
    response = api_rw.patch(url, {"plan": silver.pk, "apply": "next_cycle"}, format="json")
    assert response.status_code == 200, response.json()
    subscription = Subscription.objects.get(pk=subscription_id)
    assert (subscription.plan_id, subscription.pending_plan_id, subscription.quantity) == (
        plan.pk,
        silver.pk,
        3,
    )
    edits = SubscriptionEvent.objects.filter(subscription=subscription, kind=EventKind.EDITED)
    assert edits.count() == 2
    assert all(edit.data["channel"] == "api" for edit in edits)


def test_update_adds_and_removes_a_coupon(api_rw, customer, plan, merchant):
    subscription_id = _contract(api_rw, customer, plan).json()["id"]
    coupon = CouponFactory(merchant=merchant)
    url = f"/api/v1/subscriptions/{subscription_id}"
    assert api_rw.patch(url, {"coupon": coupon.pk}, format="json").status_code == 200
    assert Subscription.objects.get(pk=subscription_id).coupon_id == coupon.pk
    assert api_rw.patch(url, {"coupon": None}, format="json").status_code == 200
    assert Subscription.objects.get(pk=subscription_id).coupon_id is None


def test_change_preview_saves_nothing(api_rw, customer, plan, merchant):
    subscription_id = _contract(api_rw, customer, plan).json()["id"]
    gold = PlanFactory(merchant=merchant, price=9990)
    response = api_rw.get(f"/api/v1/subscriptions/{subscription_id}/change_preview", {"plan": gold.pk})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["currency"] == "BRL"
    assert body["next_invoice"]["total"] == 9990
    assert Subscription.objects.get(pk=subscription_id).plan_id == plan.pk


def test_cancel_needs_an_origin_then_schedules_at_period_end(api_rw, customer, plan):
    subscription_id = _contract(api_rw, customer, plan).json()["id"]
    url = f"/api/v1/subscriptions/{subscription_id}/cancel"

    missing = api_rw.post(url, {"when": "period_end"}, format="json")
    assert missing.status_code == 400
    assert list(missing.json()["error"]["fields"]) == ["origin"]

    preview = api_rw.get(f"/api/v1/subscriptions/{subscription_id}/cancel_preview", {"when": "period_end"})
    assert preview.status_code == 200
    response = api_rw.post(
        url, {"origin": "customer", "when": "period_end", "reason": "Mudou de cidade"}, format="json"
    )
    assert response.status_code == 200, response.json()
    subscription = Subscription.objects.get(pk=subscription_id)
    assert subscription.status == S.ACTIVE
    assert subscription.cancel_at == subscription.current_period_end
    assert response.json()["cancel_at"] == preview.json()["effective_at"]
    assert (subscription.cancel_origin, subscription.cancel_reason) == ("customer", "Mudou de cidade")
    entry = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CANCEL_SCHEDULED)
    assert entry.data["by"] == "api_key"

    again = api_rw.post(url, {"origin": "customer"}, format="json")
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "cannot_cancel"


def test_cancel_on_a_date_in_the_past_is_a_field_error(api_rw, customer, plan, merchant):
    subscription_id = _contract(api_rw, customer, plan).json()["id"]
    yesterday = (merchant.localdate() - dt.timedelta(days=1)).isoformat()
    response = api_rw.post(
        f"/api/v1/subscriptions/{subscription_id}/cancel",
        {"origin": "seller", "when": "date", "at_date": yesterday},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "date_not_future"
    assert list(response.json()["error"]["fields"]) == ["at_date"]


# --- refunds ---------------------------------------------------------------------------------------
def test_refund_gives_back_part_of_the_last_payment(api_rw, merchant, owner):
    subscription = paid_subscription(merchant, owner, PlanFactory(merchant=merchant, price=4990))
    with time_machine.travel(NOW, tick=False):
        response = api_rw.post(
            f"/api/v1/subscriptions/{subscription.pk}/refund",
            {"amount": 1000, "reason": "Cortesia"},
            format="json",
        )
        assert response.status_code == 201, response.json()
        assert response.json()["amount"] == 1000
        refund = Refund.objects.get()
        assert (refund.amount, refund.reason, refund.actor) == (1000, "Cortesia", None)

        too_much = api_rw.post(
            f"/api/v1/subscriptions/{subscription.pk}/refund", {"amount": 10**6}, format="json"
        )
        assert too_much.status_code == 400
        assert Refund.objects.count() == 1


# --- customers -------------------------------------------------------------------------------------
def test_customers_create_normalizes_and_update_keeps_what_is_not_sent(api_rw, merchant):
    response = api_rw.post(
        "/api/v1/customers",
        {"name": " Bia Lima ", "email": "Bia@Example.COM", "phone": "(11) 91234-5678"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    customer = Customer.objects.get(pk=response.json()["id"])
    assert (customer.name, customer.email, customer.phone) == (
        "Bia Lima",
        "bia@example.com",
        "+5511912345678",
    )

    response = api_rw.patch(f"/api/v1/customers/{customer.pk}", {"name": "Beatriz Lima"}, format="json")
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Beatriz Lima", "bia@example.com")

    duplicate = api_rw.post("/api/v1/customers", {"name": "Outra", "email": "bia@example.com"}, format="json")
    assert duplicate.status_code == 400
    assert list(duplicate.json()["error"]["fields"]) == ["email"]


def test_a_customers_address_is_written_and_read_nested_and_the_change_is_the_keys(api_rw, rw_key, merchant):
    customer = CustomerFactory(merchant=merchant, name="Bia")
    subscription = SubscriptionFactory(merchant=merchant, customer=customer)
    assert api_rw.get(f"/api/v1/customers/{customer.pk}").json()["address"] is None

    address = {
        "postal_code": "01310100",
        "street": "Av. Paulista",
        "number": "1000",
        "city": "São Paulo",
        "state": "sp",
    }
    response = api_rw.patch(f"/api/v1/customers/{customer.pk}", {"address": address}, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["address"] == {
        "postal_code": "01310-100",
        "street": "Av. Paulista",
        "number": "1000",
        "complement": "",
        "district": "",
        "city": "São Paulo",
        "state": "SP",
    }
    assert response.json()["name"] == "Bia"  # what is not sent stays
    event = Event.objects.get(type=EventType.CUSTOMER_UPDATED)
    assert event.payload["changed"] == ["address"]
    assert event.payload["actor"] == {
        "by": "api_key",
        "api_key": rw_key[0].pk,
        "api_key_name": "Site",
        "channel": "api",
    }
    line = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CUSTOMER_UPDATED)
    assert line.data["channel"] == "api"

    removed = api_rw.patch(f"/api/v1/customers/{customer.pk}", {"address": None}, format="json")
    assert removed.status_code == 200 and removed.json()["address"] is None


def test_a_bad_or_partial_address_is_refused_on_the_nested_fields(api_rw, merchant):
    response = api_rw.post(
        "/api/v1/customers",
        {
            "name": "Bia",
            "email": "bia@example.com",
            "address": {"postal_code": "123", "city": "Campinas", "state": "XX"},
        },
        format="json",
    )

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert fields["address.postal_code"] == ["CEP inválido: informe os 8 dígitos, por exemplo 01310-100."]
    assert fields["address.state"] == ["UF inválida: escolha um dos estados da lista (por exemplo SP)."]
    assert "address.street" in fields and "address.number" in fields
    assert not Customer.objects.exists()


# --- invoices, payments, events --------------------------------------------------------------------
def test_invoices_link_their_pdf_and_payments_list_by_invoice(api, merchant):
    invoice = InvoiceFactory(merchant=merchant)
    payment = PaymentFactory(merchant=merchant, invoice=invoice)
    PaymentFactory(merchant=merchant)

    body = api.get(f"/api/v1/invoices/{invoice.pk}").json()
    assert body["total"] == invoice.total
    assert body["pdf"] == f"http://testserver/api/v1/invoices/{invoice.pk}/pdf"
    pdf = api.get(body["pdf"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    rows = api.get("/api/v1/payments", {"invoice": invoice.pk}).json()["results"]
    assert [row["id"] for row in rows] == [payment.pk]


def test_events_can_be_polled_by_type_and_time(api, merchant):
    old = EventFactory(merchant=merchant, type=EventType.SUBSCRIPTION_CREATED)
    Event.objects.filter(pk=old.pk).update(created_at=old.created_at - dt.timedelta(hours=1))
    new = EventFactory(merchant=merchant, type=EventType.SUBSCRIPTION_CREATED, payload={"id": 7})
    EventFactory(merchant=merchant, type=EventType.SUBSCRIPTION_CANCELED)

    rows = api.get("/api/v1/events", {"type": "subscription.created"}).json()["results"]
    assert [row["id"] for row in rows] == [new.pk, old.pk]
    assert rows[0]["data"] == {"id": 7}
    since = (old.created_at - dt.timedelta(minutes=30)).isoformat()
    rows = api.get("/api/v1/events", {"type": "subscription.created", "created_after": since}).json()[
        "results"
    ]
    assert [row["id"] for row in rows] == [new.pk]


# --- webhook endpoints -----------------------------------------------------------------------------
def test_webhook_endpoints_crud(api_rw, merchant):
    response = api_rw.post(
        "/api/v1/webhook_endpoints",
        {
            "url": "https://erp.example.com/hooks",
            "all_event_types": False,
            "event_types": ["subscription.created"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert body["secret"] == endpoint.secret
    assert "secret" not in api_rw.get(f"/api/v1/webhook_endpoints/{endpoint.pk}").json()

    response = api_rw.patch(f"/api/v1/webhook_endpoints/{endpoint.pk}", {"is_active": False}, format="json")
    assert response.status_code == 200
    endpoint.refresh_from_db()
    assert endpoint.is_active is False
    assert endpoint.event_types == ["subscription.created"]

    assert api_rw.delete(f"/api/v1/webhook_endpoints/{endpoint.pk}").status_code == 204
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_webhook_endpoint_url_rule_is_the_screens(api_rw):
    body = {"url": "http://erp.example.com/hooks"}
    response = api_rw.post("/api/v1/webhook_endpoints", body, format="json")
    assert response.status_code == 400
    assert "url" in response.json()["error"]["fields"]
    assert not WebhookEndpoint.objects.exists()
