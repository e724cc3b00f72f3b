"""Django admin for platform staff: customers are listed, filtered by merchant and searchable."""

from django.contrib import admin
from django.urls import reverse

from subscribers.models import Customer
from tests.factories import CustomerFactory


def test_customer_is_registered_with_a_merchant_filter_and_search():
    model_admin = admin.site._registry[Customer]

    assert "merchant" in model_admin.list_filter
    assert {"name", "email", "handle", "document"} <= set(model_admin.search_fields)


def test_changelist_filters_by_merchant_and_searches(admin_client, merchant, other_merchant):
    CustomerFactory(merchant=merchant, name="Ana Souza", document="52998224725")
    CustomerFactory(merchant=other_merchant, name="Bruno Lima")
    url = reverse("admin:subscribers_customer_changelist")

    by_merchant = admin_client.get(url, {"merchant__id__exact": merchant.pk})
    by_search = admin_client.get(url, {"q": "52998224725"})

    assert by_merchant.status_code == by_search.status_code == 200
    assert "Ana Souza" in by_merchant.content.decode()
    assert "Bruno Lima" not in by_merchant.content.decode()
    assert "529.982.247-25" in by_search.content.decode()


def test_admin_form_reports_a_duplicate_email_on_the_email_field(admin_client, merchant):
    CustomerFactory(merchant=merchant, email="maria@example.com")

    response = admin_client.post(
        reverse("admin:subscribers_customer_add"),
        {
            "merchant": merchant.pk,
            "name": "Maria",
            "email": "MARIA@example.com",
            "handle": "",
            "document": "",
        },
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["email"] == ["Já existe um cliente com este e-mail."]
    assert Customer.objects.count() == 1
