"""A customer's postal address (CEP, logradouro, número, complemento, bairro, cidade, UF), and the record of
every change of a customer's details: `customer.updated` in the outbox and a timeline line on each of the
customer's subscriptions, written by `customer_update` in the same transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from core.events import EventType
from core.models import Event
from subscribers import timeline
from subscribers.actors import ApiKeyActor, CustomerActor
from subscribers.choices import EventKind
from subscribers.forms.customers import CustomerForm
from subscribers.models import ADDRESS_FIELDS, Customer, SubscriptionEvent
from subscribers.services import customer_create, customer_details, customer_update
from tests.factories import CustomerFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

ADDRESS = {
    "address_postal_code": "01310100",
    "address_street": " Av.  Paulista ",
    "address_number": "1000",
    "address_complement": "Apto 12",
    "address_district": "Bela Vista",
    "address_city": "São Paulo",
    "address_state": "sp",
}
INCOMPLETE = "Obrigatório num endereço."


def stored_address(customer):
    return Customer.objects.values(*ADDRESS_FIELDS).get(pk=customer.pk)


def update(customer, *, actor=None, **changes):
    return customer_update(customer=customer, actor=actor, **{**customer_details(customer), **changes})


# --- the rules ----------------------------------------------------------------------------------------
def test_create_normalises_the_cep_the_uf_and_the_spaces(merchant):
    customer = customer_create(merchant=merchant, name="Ana", email="ana@example.com", **ADDRESS)

    assert stored_address(customer) == {
        "address_postal_code": "01310-100",
        "address_street": "Av. Paulista",
        "address_number": "1000",
        "address_complement": "Apto 12",
        "address_district": "Bela Vista",
        "address_city": "São Paulo",
        "address_state": "SP",
    }
    assert customer.address_lines == [
        "Av. Paulista, 1000 — Apto 12",
        "Bela Vista",
        "São Paulo – SP",
        "01310-100",
    ]


def test_no_address_at_all_is_fine(merchant):
    customer = customer_create(merchant=merchant, name="Ana", email="ana@example.com")

    assert not customer.has_address and customer.address_lines == []


@pytest.mark.parametrize("cep", ["1310-100", "01310-1000", "ABCDE-FGH", "０１３１０１００"])
def test_a_bad_cep_is_refused_with_its_message(merchant, cep):
    with pytest.raises(ValidationError) as caught:
        customer_create(
            merchant=merchant, name="Ana", email="a@example.com", **{**ADDRESS, "address_postal_code": cep}
        )

    assert caught.value.message_dict == {
        "address_postal_code": ["CEP inválido: informe os 8 dígitos, por exemplo 01310-100."]
    }
    assert not Customer.objects.exists()


def test_a_bad_uf_is_refused_with_its_message(merchant):
    with pytest.raises(ValidationError) as caught:
        customer_create(
            merchant=merchant, name="Ana", email="a@example.com", **{**ADDRESS, "address_state": "XX"}
        )

    assert caught.value.message_dict == {
        "address_state": ["UF inválida: escolha um dos estados da lista (por exemplo SP)."]
    }


def test_a_partial_address_names_each_missing_required_part(merchant):
    with pytest.raises(ValidationError) as caught:
        customer_create(merchant=merchant, name="Ana", email="a@example.com", address_city="Campinas")

    # Complemento and bairro may stay blank; the rest is what a letter needs.
    assert caught.value.message_dict == {
        "address_postal_code": [INCOMPLETE],
        "address_street": [INCOMPLETE],
        "address_number": [INCOMPLETE],
        "address_state": [INCOMPLETE],
    }


def test_complemento_and_bairro_are_optional(merchant):
    customer = customer_create(
        merchant=merchant,
        name="Ana",
        email="a@example.com",
        **{**ADDRESS, "address_complement": "", "address_district": "", "address_number": "s/n"},
    )

    assert customer.address_lines == ["Av. Paulista, s/n", "São Paulo – SP", "01310-100"]


def test_the_form_takes_the_ways_people_type_a_cep_and_refuses_a_bad_one_once(merchant):
    base = {"name": "Ana", "email": "a@example.com", **ADDRESS}

    good = CustomerForm({**base, "address_postal_code": "01.310-100"}, merchant=merchant)
    bad = CustomerForm({**base, "address_postal_code": "123", "address_state": "ZZ"}, merchant=merchant)
    partial = CustomerForm(
        {"name": "Ana", "email": "a@example.com", "address_number": "10"}, merchant=merchant
    )

    assert good.is_valid(), good.errors
    assert good.cleaned_data["address_postal_code"] == "01310-100"
    assert good.cleaned_data["address_state"] == "SP"
    assert not bad.is_valid()
    assert bad.errors["address_postal_code"] == ["CEP inválido: informe os 8 dígitos, por exemplo 01310-100."]
    assert bad.errors["address_state"] == ["UF inválida: escolha um dos estados da lista (por exemplo SP)."]
    assert not partial.is_valid()
    assert set(partial.errors) == {"address_postal_code", "address_street", "address_city", "address_state"}


# --- customer.updated and the timeline -----------------------------------------------------------------
def test_an_update_emits_customer_updated_and_a_timeline_line_on_every_subscription(merchant, owner):
    customer = CustomerFactory(merchant=merchant, phone="")
    first = SubscriptionFactory(merchant=merchant, customer=customer)
    second = SubscriptionFactory(merchant=merchant, customer=customer)
    someone_else = SubscriptionFactory(merchant=merchant)

    update(customer, actor=owner, phone="(11) 91234-5678", **ADDRESS)

    event = Event.objects.get(type=EventType.CUSTOMER_UPDATED)
    assert event.merchant_id == merchant.pk
    assert event.payload["id"] == customer.pk
    assert event.payload["changed"] == ["phone", "address"]
    assert event.payload["actor"] == {"by": "user", "user": owner.pk}
    # What changed, never the values: no phone, no CEP in the payload.
    assert "91234" not in str(event.payload) and "01310" not in str(event.payload)
    lines = SubscriptionEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED)
    assert sorted(line.subscription_id for line in lines) == [first.pk, second.pk]
    assert not lines.filter(subscription=someone_else).exists()
    line = lines.get(subscription=first)
    assert (line.actor, line.reason_code, line.reason_params) == (
        owner,
        timeline.CUSTOMER_UPDATED,
        {"fields": ["phone", "address"]},
    )
    assert line.reason == ""  # stored as a code, translated when shown
    assert line.reason_display == "Dados do cliente alterados: telefone, endereço."
    with translation.override("en"):
        assert line.reason_display == "Customer details changed: phone, address."


def test_nothing_changed_writes_nothing(merchant):
    customer = customer_create(merchant=merchant, name="Ana", email="ana@example.com", **ADDRESS)
    SubscriptionFactory(merchant=merchant, customer=customer)
    updated_at = customer.updated_at

    # Typed differently, the same after normalisation.
    update(customer, email="ANA@example.com", address_postal_code="01310100", address_state="sp")

    assert not Event.objects.filter(type=EventType.CUSTOMER_UPDATED).exists()
    assert not SubscriptionEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED).exists()
    customer.refresh_from_db()
    assert customer.updated_at == updated_at


def test_a_refused_update_writes_no_event_and_no_line(merchant):
    customer = CustomerFactory(merchant=merchant)
    SubscriptionFactory(merchant=merchant, customer=customer)

    with pytest.raises(ValidationError):
        update(customer, address_city="Campinas")

    assert not Event.objects.filter(type=EventType.CUSTOMER_UPDATED).exists()
    assert not SubscriptionEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED).exists()
    assert not Customer.objects.get(pk=customer.pk).has_address


def test_the_event_and_the_lines_roll_back_with_the_change(merchant):
    customer = CustomerFactory(merchant=merchant, name="Ana")
    SubscriptionFactory(merchant=merchant, customer=customer)

    with pytest.raises(RuntimeError), transaction.atomic():
        update(customer, name="Outro Nome")
        assert Event.objects.filter(type=EventType.CUSTOMER_UPDATED).count() == 1
        raise RuntimeError  # the caller's transaction fails after the service returned

    assert Customer.objects.get(pk=customer.pk).name == "Ana"
    assert not Event.objects.filter(type=EventType.CUSTOMER_UPDATED).exists()
    assert not SubscriptionEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED).exists()


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (CustomerActor(customer_id=7), {"by": "customer", "customer": 7, "channel": "portal"}),
        (
            ApiKeyActor(api_key_id=3, name="Site"),
            {"by": "api_key", "api_key": 3, "api_key_name": "Site", "channel": "api"},
        ),
        (None, {"by": "system"}),
    ],
)
def test_the_event_says_who_acted(merchant, actor, expected):
    customer = CustomerFactory(merchant=merchant)

    update(customer, actor=actor, handle="novo")

    assert Event.objects.get(type=EventType.CUSTOMER_UPDATED).payload["actor"] == expected


# --- the team's screens ------------------------------------------------------------------------------
def test_the_team_creates_a_customer_with_an_address(owner_client, merchant):
    form = owner_client.get(reverse("subscribers:customer_create")).content.decode()
    assert 'id="customer-address"' in form and 'name="address_postal_code"' in form

    response = owner_client.post(
        reverse("subscribers:customer_create"),
        {"name": "Ana", "email": "ana@example.com", **ADDRESS},
    )

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert stored_address(customer)["address_postal_code"] == "01310-100"
    detail = owner_client.get(customer.get_absolute_url()).content.decode()
    assert "Av. Paulista, 1000 — Apto 12" in detail and "São Paulo – SP" in detail


def test_the_team_edit_shows_field_errors_and_saves_nothing(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, name="Ana")
    url = reverse("subscribers:customer_update", args=[customer.pk])

    response = owner_client.post(
        url,
        {"name": "Ana", "email": customer.email, "address_postal_code": "123", "address_city": "Campinas"},
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["address_postal_code"] == ["CEP inválido: informe os 8 dígitos, por exemplo 01310-100."]
    assert errors["address_street"] == [INCOMPLETE] and errors["address_state"] == [INCOMPLETE]
    assert not Customer.objects.get(pk=customer.pk).has_address
    assert not Event.objects.filter(type=EventType.CUSTOMER_UPDATED).exists()


def test_the_team_edit_is_on_the_subscription_timeline_by_that_user(owner_client, merchant, owner):
    customer = CustomerFactory(merchant=merchant, name="Ana", handle="ana")
    subscription = SubscriptionFactory(merchant=merchant, customer=customer)
    url = reverse("subscribers:customer_update", args=[customer.pk])

    response = owner_client.post(url, {"name": "Ana", "email": customer.email, "handle": "ana", **ADDRESS})

    assert response.status_code == 302
    event = Event.objects.get(type=EventType.CUSTOMER_UPDATED)
    assert event.payload["changed"] == ["address"] and event.payload["actor"] == {
        "by": "user",
        "user": owner.pk,
    }
    page = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "Dados do cliente alterados" in page and "Alterado: endereço" in page
