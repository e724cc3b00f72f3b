"""Django admin for platform staff: customers are listed, filtered by merchant and searchable, and edited
through the services (the outbox and the timeline record it)."""

from django.contrib import admin
from django.urls import reverse

from core.events import EventType
from core.models import Event
from subscribers.choices import EventKind
from subscribers.models import Customer, SubscriptionEvent
from tests.factories import CustomerFactory, SubscriptionFactory


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


def test_a_staff_edit_goes_through_the_service_and_is_recorded_as_theirs(admin_client, admin_user, merchant):
    customer = CustomerFactory(merchant=merchant, name="Ana", email="ana@example.com", handle="ana")
    subscription = SubscriptionFactory(merchant=merchant, customer=customer)

    response = admin_client.post(
        reverse("admin:subscribers_customer_change", args=[customer.pk]),
        {
            "merchant": merchant.pk,
            "name": "Ana",
            "email": "ana@example.com",
            "handle": "ana",
            "document": "",
            "phone": "",
            "address_postal_code": "01310-100",
            "address_street": "Av. Paulista",
            "address_number": "1000",
            "address_complement": "",
            "address_district": "",
            "address_city": "São Paulo",
            "address_state": "SP",
        },
    )

    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).address_city == "São Paulo"
    event = Event.objects.get(type=EventType.CUSTOMER_UPDATED)
    assert event.payload["changed"] == ["address"]
    assert event.payload["actor"] == {"by": "user", "user": admin_user.pk}
    line = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CUSTOMER_UPDATED)
    assert line.actor == admin_user


def test_a_staff_add_creates_through_the_service(admin_client, merchant):
    response = admin_client.post(
        reverse("admin:subscribers_customer_add"),
        {"merchant": merchant.pk, "name": " Bia ", "email": "Bia@Example.com", "handle": "", "document": ""},
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:subscribers_customer_changelist")
    assert (customer.merchant, customer.name, customer.email) == (merchant, "Bia", "bia@example.com")
