"""A customer's page (tabs "Dados" and "Recorrências") and who may see, create and edit customers."""

import pytest
from django.urls import reverse

from subscribers.models import Customer
from tests.factories import CustomerFactory

CREATE_URL = reverse("subscribers:customer_create")
VALID = {"name": "Maria", "email": "maria@example.com", "handle": "", "document": "", "phone": ""}


@pytest.fixture
def customer(merchant):
    return CustomerFactory(
        merchant=merchant,
        name="Ana Souza",
        email="ana@example.com",
        handle="anasouza",
        document="52998224725",
        phone="(11) 98888-7777",
    )


def _detail_url(customer):
    return reverse("subscribers:customer_detail", args=[customer.pk])


def _update_url(customer):
    return reverse("subscribers:customer_update", args=[customer.pk])


def test_detail_shows_every_field_formatted(owner_client, customer):
    response = owner_client.get(_detail_url(customer))

    content = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "subscribers/customer_detail.html"
    for text in ["Ana Souza", "ana@example.com", "@anasouza", "529.982.247-25", "(11) 98888-7777", "Dados"]:
        assert text in content


def test_detail_has_an_honest_empty_subscriptions_tab(owner_client, customer):
    response = owner_client.get(_detail_url(customer))

    content = response.content.decode()
    assert 'id="tab-recorrencias"' in content
    assert "Recorrências" in content
    assert "Este cliente ainda não tem assinaturas." in content
    assert "subscribers/partials/customer_subscriptions.html" in [t.name for t in response.templates]


def test_detail_can_open_on_the_subscriptions_tab(owner_client, customer):
    response = owner_client.get(_detail_url(customer), {"tab": "recorrencias"})

    assert response.context["active_tab"] == "recorrencias"


@pytest.mark.parametrize("role", ["owner", "manager", "support"])
def test_roles_that_manage_customers_see_the_edit_button(member_client, customer, request, role):
    client = member_client(request.getfixturevalue(role))

    content = client.get(_detail_url(customer)).content.decode()

    assert f'href="{_update_url(customer)}"' in content


def test_viewer_sees_the_customer_but_no_edit_button(member_client, viewer, customer):
    response = member_client(viewer).get(_detail_url(customer))

    assert response.status_code == 200
    assert _update_url(customer) not in response.content.decode()


def test_viewer_is_refused_create_and_edit(member_client, viewer, customer):
    client = member_client(viewer)

    assert client.get(CREATE_URL).status_code == 403
    assert client.post(CREATE_URL, VALID).status_code == 403
    assert client.get(_update_url(customer)).status_code == 403
    assert client.post(_update_url(customer), VALID).status_code == 403
    assert Customer.objects.count() == 1
    customer.refresh_from_db()
    assert customer.name == "Ana Souza"


def test_support_can_create_a_customer(member_client, support, merchant):
    response = member_client(support).post(CREATE_URL, VALID)

    assert response.status_code == 302
    assert Customer.objects.filter(merchant=merchant, email="maria@example.com").exists()


def test_support_can_edit_a_customer(member_client, support, customer):
    response = member_client(support).post(_update_url(customer), {**VALID, "name": "Ana Lima"})

    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.name == "Ana Lima"


def test_another_merchants_customer_is_404_on_detail_and_edit(owner_client, other_merchant):
    foreign = CustomerFactory(merchant=other_merchant, name="De Outra Loja")

    assert owner_client.get(_detail_url(foreign)).status_code == 404
    assert owner_client.get(_update_url(foreign)).status_code == 404
    assert owner_client.post(_update_url(foreign), VALID).status_code == 404
    foreign.refresh_from_db()
    assert foreign.name == "De Outra Loja"


def test_a_created_customer_belongs_to_the_current_merchant_only(owner_client, merchant, other_merchant):
    owner_client.post(CREATE_URL, {**VALID, "merchant": other_merchant.pk})

    assert Customer.objects.get().merchant == merchant
