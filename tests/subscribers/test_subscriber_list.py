"""Assinantes: columns, every filter and preset, htmx partial, isolation and query count."""

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from billing.choices import PaymentStatus
from billing.services.last_payment import sync_last_payment_status
from subscribers.choices import CancelOrigin, PaymentMethod, SubscriptionStatus
from tests.factories import (
    CustomerFactory,
    InvoiceFactory,
    PaymentFactory,
    PlanFactory,
    SubscriptionFactory,
    show_every_column,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _every_column_shown(monkeypatch):
    # These tests are about what each column shows; which columns are shown by default is
    # tests/accounts/test_table_config.py's.
    show_every_column(monkeypatch, "assinantes")


LIST_URL = reverse("subscribers:subscriber_list")
UTC = dt.UTC


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return sorted(row.record.customer.name for row in response.context["table"].page.object_list)


def subscriber(merchant, name, *, handle="", document="", **fields):
    customer = CustomerFactory(
        merchant=merchant, name=name, email=f"{name.lower()}@example.com", handle=handle, document=document
    )
    return SubscriptionFactory(merchant=merchant, customer=customer, **fields)


def pay(subscription, status, when):
    invoice = InvoiceFactory(merchant=subscription.merchant, subscription=subscription)
    payment = PaymentFactory(merchant=subscription.merchant, invoice=invoice, status=status)
    type(payment).objects.filter(pk=payment.pk).update(created_at=when)
    sync_last_payment_status([subscription.pk])  # a date rewritten behind the ORM's back
    return payment


def test_columns_show_contact_card_last_payment_and_status(owner_client, merchant):
    sub = subscriber(
        merchant,
        "Ana",
        handle="ana.s",
        amount=123456,
        payment_method=PaymentMethod.CARD,
        card_brand="Visa",
        card_last4="4242",
        contract_date=dt.date(2025, 3, 7),
    )
    pay(sub, PaymentStatus.SUCCEEDED, dt.datetime(2025, 1, 1, tzinfo=UTC))
    pay(sub, PaymentStatus.FAILED, dt.datetime(2025, 2, 1, tzinfo=UTC))

    content = owner_client.get(LIST_URL).content.decode()

    for text in [
        "Ana",
        "@ana.s",
        "ana@example.com",
        "R$\xa01.234,56",
        "Visa •••• 4242",
        '<span class="badge text-bg-danger">Falhou</span>',
        '<span class="badge text-bg-success">Ativa</span>',
        "07/03/2025",
    ]:
        assert text in content, text


def test_without_payments_the_payment_status_is_a_dash(owner_client, merchant):
    subscriber(merchant, "Bia")

    response = owner_client.get(LIST_URL)

    assert response.context["table"].page.object_list[0].get_cell("last_payment_status") == "—"


def test_ended_subscription_shows_access_until(owner_client, merchant):
    subscriber(
        merchant,
        "Caio",
        status=SubscriptionStatus.CANCELED,
        ended_at=dt.datetime(2025, 5, 1, 15, tzinfo=UTC),
        access_until=dt.datetime(2025, 5, 20, 15, tzinfo=UTC),
    )

    assert "acesso até 20/05/2025" in owner_client.get(LIST_URL).content.decode()


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("ana", ["Ana"]),
        ("bruno@", ["Bruno"]),
        ("@bru", ["Bruno"]),
        ("123.456", ["Ana"]),
        ("sub_b", ["Bruno"]),
    ],
)
def test_search_by_name_email_handle_document_and_provider_id(owner_client, merchant, query, expected):
    subscriber(merchant, "Ana", handle="aninha", document="12345678909", provider_id="sub_a")
    subscriber(merchant, "Bruno", handle="bruno", document="98765432100", provider_id="sub_b")

    assert listed(owner_client, q=query) == expected


def test_filter_by_status(owner_client, merchant):
    subscriber(merchant, "Ana")
    subscriber(merchant, "Bruno", status=SubscriptionStatus.PAST_DUE)

    assert listed(owner_client, status="past_due") == ["Bruno"]


def test_filter_by_payment_method(owner_client, merchant):
    subscriber(merchant, "Ana", payment_method=PaymentMethod.PIX)
    subscriber(merchant, "Bruno", payment_method=PaymentMethod.BOLETO)

    assert listed(owner_client, payment_method="boleto") == ["Bruno"]


def test_filter_by_plan(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, name="Vinho")
    subscriber(merchant, "Ana", plan=plan)
    subscriber(merchant, "Bruno")

    assert listed(owner_client, plan=plan.pk) == ["Ana"]


def test_filter_by_cancel_origin(owner_client, merchant):
    subscriber(merchant, "Ana", status=SubscriptionStatus.CANCELED, cancel_origin=CancelOrigin.CUSTOMER)
    subscriber(merchant, "Bruno", status=SubscriptionStatus.CANCELED, cancel_origin=CancelOrigin.SELLER)

    assert listed(owner_client, cancel_origin="seller") == ["Bruno"]


def test_filter_inactive_group(owner_client, merchant):
    subscriber(merchant, "Ana")
    subscriber(merchant, "Bruno", status=SubscriptionStatus.CANCELED)
    subscriber(merchant, "Caio", status=SubscriptionStatus.EXPIRED)
    subscriber(merchant, "Duda", status=SubscriptionStatus.REFUNDED)

    assert listed(owner_client, group="inactive") == ["Bruno", "Caio", "Duda"]


def test_filter_subscribed_custom_range(owner_client, merchant):
    subscriber(merchant, "Ana", contract_date=dt.date(2025, 1, 10))
    subscriber(merchant, "Bruno", contract_date=dt.date(2025, 2, 10))
    subscriber(merchant, "Caio", contract_date=dt.date(2025, 3, 10))

    assert listed(owner_client, subscribed_from="2025-02-01") == ["Bruno", "Caio"]
    assert listed(owner_client, subscribed_to="2025-02-10") == ["Ana", "Bruno"]
    assert listed(owner_client, subscribed_from="2025-02-10", subscribed_to="2025-02-10") == ["Bruno"]


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("last_7", ["D-0", "D-6"]),
        ("last_30", ["D-0", "D-29", "D-6", "D-7"]),
        ("this_month", ["D-0", "D-6", "D-7"]),
    ],
)
def test_filter_subscribed_presets(owner_client, merchant, preset, expected):
    with time_machine.travel(dt.datetime(2025, 3, 20, 12, tzinfo=UTC), tick=False):
        today = dt.date(2025, 3, 20)
        for days in (0, 6, 7, 29, 30):
            subscriber(merchant, f"D-{days}", contract_date=today - dt.timedelta(days=days))

        assert listed(owner_client, subscribed=preset) == expected


def test_filter_canceled_range_uses_the_merchants_day(owner_client, merchant):
    # 02:30 UTC on the 2nd is still the 1st in São Paulo (UTC-3).
    subscriber(
        merchant,
        "Ana",
        status=SubscriptionStatus.CANCELED,
        ended_at=dt.datetime(2025, 4, 2, 2, 30, tzinfo=UTC),
    )
    subscriber(
        merchant,
        "Bruno",
        status=SubscriptionStatus.CANCELED,
        ended_at=dt.datetime(2025, 4, 2, 12, tzinfo=UTC),
    )
    subscriber(merchant, "Caio")

    assert listed(owner_client, canceled_from="2025-04-02") == ["Bruno"]
    assert listed(owner_client, canceled_to="2025-04-01") == ["Ana"]


def test_htmx_request_gets_the_results_and_the_export_link_with_the_filters(owner_client, merchant):
    subscriber(merchant, "Ana")

    response = owner_client.get(
        LIST_URL, {"status": "active", "sort": "name"}, headers={"HX-Request": "true"}
    )

    content = response.content.decode()
    assert "<html" not in content
    assert 'hx-swap-oob="true"' in content
    assert reverse("subscribers:subscriber_export") + "?status=active&amp;sort=name" in content


def test_page_offers_export_shortcuts_to_a_viewer(member_client, viewer, merchant):
    content = member_client(viewer).get(LIST_URL).content.decode()

    assert "?status=active" in content
    assert "?group=inactive" in content


def test_another_merchants_subscribers_never_appear(owner_client, merchant, other_merchant):
    subscriber(merchant, "Ana")
    subscriber(other_merchant, "Segredo")

    assert listed(owner_client) == ["Ana"]
    assert listed(owner_client, q="Segredo") == []


def test_nav_links_to_the_list(owner_client):
    assert f'href="{LIST_URL}"' in owner_client.get(reverse("subscribers:customer_list")).content.decode()


def test_query_count_is_flat_for_200_rows(owner_client, merchant, django_assert_max_num_queries):
    plan = PlanFactory(merchant=merchant)
    for index in range(200):
        sub = subscriber(
            merchant, f"Cliente{index}", handle=f"c{index}", plan=plan, card_brand="Visa", card_last4="4242"
        )
        if index % 20 == 0:
            pay(sub, PaymentStatus.SUCCEEDED, dt.datetime(2025, 1, 1, tzinfo=UTC))
    owner_client.get(LIST_URL, {"per_page": 200})

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"per_page": 200, "sort": "plan"})

    assert len(response.context["table"].page.object_list) == 200


@pytest.mark.parametrize("param", ["plan", "salesperson"])
def test_model_filters_read_their_choices_once(
    owner_client, owner, merchant, param, django_assert_max_num_queries
):
    plan = PlanFactory(merchant=merchant, name="Vinho")
    for index in range(30):
        subscriber(merchant, f"Cliente{index}", plan=plan, salesperson=owner)
    value = plan.pk if param == "plan" else owner.pk
    owner_client.get(LIST_URL)

    # The chosen plan/salesperson is checked against the choices the select shows: no extra query.
    with django_assert_max_num_queries(10) as captured:
        response = owner_client.get(LIST_URL, {param: value})

    assert len(response.context["table"].page.object_list) == 25
    table = "plans_plan" if param == "plan" else "auth_user"
    reads = [
        q for q in captured.captured_queries if q["sql"].lstrip().startswith("SELECT") or "CURSOR" in q["sql"]
    ]
    assert len([q for q in reads if f'FROM "{table}"' in q["sql"].split(" WHERE ")[0]]) <= 1 + (
        table == "auth_user"
    )
    assert f'value="{value}" selected' in response.content.decode()


def test_plan_of_another_merchant_is_an_invalid_filter(owner_client, merchant, other_merchant):
    subscriber(merchant, "Ana")
    foreign = PlanFactory(merchant=other_merchant)

    response = owner_client.get(LIST_URL, {"plan": foreign.pk})

    assert response.status_code == 200
    assert response.context["filter"].errors
    assert list(response.context["table"].page.object_list) == []


@pytest.mark.parametrize("sort", ["name", "-name", "contact", "-contact"])
def test_sorting_by_name_or_e_mail_follows_the_customers_fields(owner_client, merchant, sort):
    # The list sorts by the customer's name / e-mail as the subscription's search_text holds them (one
    # table's index instead of a join and a sort of every row); renaming a customer moves its rows.
    subscriber(merchant, "Bruna")
    zelia = subscriber(merchant, "Zélia")
    ana = subscriber(merchant, "Ana")
    SubscriptionFactory(merchant=merchant, customer=ana.customer)  # a tie: the id decides
    customer = zelia.customer
    customer.name, customer.email = "Aaron", "aaron@example.com"
    customer.save()

    response = owner_client.get(LIST_URL, {"sort": sort})

    rows = list(response.context["table"].page.object_list)
    field = "name" if sort.endswith("name") else "email"
    expected = sorted(rows, key=lambda row: (getattr(row.record.customer, field), row.record.pk))
    if sort.startswith("-"):
        expected.reverse()
    assert [row.record.pk for row in rows] == [row.record.pk for row in expected]
    assert rows[-1 if sort.startswith("-") else 0].record.customer.name == "Aaron"
