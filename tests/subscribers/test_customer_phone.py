"""A customer's phone: typed the Brazilian ways (or with a country code), stored in E.164, shown back as
"(11) 91234-5678"; anything else refused with a pt-BR message. Phones saved before this are normalised by
migration 0010 where they parse, and kept as typed (flagged on the customer's page) where they do not."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse

from subscribers.models import ADDRESS_FIELDS, Customer
from subscribers.services.customers import customer_create, customer_update
from tests.factories import CustomerFactory

NO_ADDRESS = dict.fromkeys(ADDRESS_FIELDS, "")

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("subscribers:customer_create")
PHONE_MESSAGE = (
    "Telefone inválido: informe DDD e número, por exemplo (11) 91234-5678, (11) 3456-7890 ou "
    "+55 11 91234-5678."
)
migration = importlib.import_module("subscribers.migrations.0010_customer_phone_e164")


def form_data(phone):
    return {"name": "Maria Silva", "email": "maria@example.com", "handle": "", "document": "", "phone": phone}


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("(11) 91234-5678", "+5511912345678"),
        ("+55 11 91234-5678", "+5511912345678"),
        ("11912345678", "+5511912345678"),
        ("011 91234-5678", "+5511912345678"),
        ("(11) 3456-7890", "+551134567890"),  # a landline
        ("(21) 98765-4321", "+5521987654321"),
        ("+1 650 253 0000", "+16502530000"),  # abroad, with its country code
        ("", ""),
    ],
)
def test_the_ways_people_type_a_phone_are_stored_in_e164(owner_client, typed, stored):
    response = owner_client.post(CREATE_URL, form_data(typed))

    assert response.status_code == 302
    assert Customer.objects.get().phone == stored


@pytest.mark.parametrize("typed", ["1234", "(11) 1234-5678", "telefone", "(١١) ٩١٢٣٤-٥٦٧٨", "+55 11 9"])
def test_an_invalid_phone_is_refused_next_to_the_field(owner_client, typed):
    response = owner_client.post(CREATE_URL, form_data(typed))

    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == [PHONE_MESSAGE]
    assert PHONE_MESSAGE in response.content.decode()
    assert not Customer.objects.exists()


def test_the_service_normalises_and_refuses_too(merchant):
    customer = customer_create(
        merchant=merchant, name="Ana", email="ana@example.com", phone="(11) 91234-5678"
    )
    assert customer.phone == "+5511912345678"

    with pytest.raises(ValidationError) as caught:
        customer_update(
            customer=customer,
            actor=None,
            **NO_ADDRESS,
            name="Ana",
            email="ana@example.com",
            handle="",
            document="",
            phone="99",
        )
    assert caught.value.message_dict["phone"] == [PHONE_MESSAGE]


def test_the_phone_is_shown_the_brazilian_way_and_edited_from_there(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, phone="+5511912345678")

    detail = owner_client.get(customer.get_absolute_url()).content.decode()
    edit = owner_client.get(reverse("subscribers:customer_update", args=[customer.pk]))
    listing = owner_client.get(reverse("subscribers:customer_list")).content.decode()

    assert '<a href="tel:+5511912345678">(11) 91234-5678</a>' in detail
    assert "phone-needs-review" not in detail
    assert edit.context["form"].initial["phone"] == "(11) 91234-5678"
    assert "(11) 91234-5678" in listing


def test_the_migration_normalises_what_parses_and_keeps_and_flags_the_rest(owner_client, merchant):
    good = CustomerFactory(merchant=merchant, email="a@example.com")
    odd = CustomerFactory(merchant=merchant, email="b@example.com")
    empty = CustomerFactory(merchant=merchant, email="c@example.com", phone="")
    Customer.objects.filter(pk=good.pk).update(phone="(11) 98888-7777")  # as saved before validation
    Customer.objects.filter(pk=odd.pk).update(phone="ramal 12")

    migration.phones_to_e164(apps, connection.schema_editor())

    assert Customer.objects.get(pk=good.pk).phone == "+5511988887777"
    assert Customer.objects.get(pk=odd.pk).phone == "ramal 12"
    assert Customer.objects.get(pk=empty.pk).phone == ""
    detail = owner_client.get(odd.get_absolute_url()).content.decode()
    assert "ramal 12" in detail and 'id="phone-needs-review"' in detail
