"""Meus dados in Minha assinatura: the customer changes their own e-mail, phone and postal address through
`customer_update` (the service of Clientes > Editar), with the team form's checks; name and CPF/CNPJ are
shown, not edited. Every change is on the timeline "pelo cliente (portal)" and in the outbox."""

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.events import EventType
from core.models import Event
from subscribers.choices import EventKind
from subscribers.models import Customer, SubscriptionEvent
from subscribers.portal.services import EMAIL_UNAVAILABLE_MESSAGE, portal_update_details
from tests.factories import CustomerFactory
from tests.subscribers.portal.conftest import request_link

pytestmark = pytest.mark.django_db

CPF = "52998224725"


def url(merchant):
    return reverse("portal:details", kwargs={"slug": merchant.slug})


@pytest.fixture
def customer(merchant):
    return CustomerFactory(
        merchant=merchant, name="Ana Souza", email="ana@example.com", document=CPF, phone="+5511912345678"
    )


def saved(customer):
    return Customer.objects.values("name", "email", "document", "phone", "handle").get(pk=customer.pk)


def test_the_home_links_to_meus_dados(portal_client, merchant, customer, subscription):
    page = portal_client(customer).get(reverse("portal:home", kwargs={"slug": merchant.slug}))

    assert url(merchant) in page.content.decode()


def test_the_page_shows_name_and_cpf_read_only(portal_client, merchant, customer):
    page = portal_client(customer).get(url(merchant)).content.decode()

    assert "Ana Souza" in page and "529.982.247-25" in page
    assert 'name="name"' not in page and 'name="document"' not in page
    assert 'value="ana@example.com"' in page and 'value="(11) 91234-5678"' in page


def test_the_customer_updates_email_and_phone(portal_client, merchant, customer, subscription):
    client = portal_client(customer)

    response = client.post(
        url(merchant),
        # Name and CPF sent anyway (a crafted form) are ignored: they are not the customer's to change.
        {"email": " Ana.Nova@Example.COM ", "phone": "(21) 3456-7890", "name": "Outra", "document": "1"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home", kwargs={"slug": merchant.slug})
    assert saved(customer) == {
        "name": "Ana Souza",
        "email": "ana.nova@example.com",
        "document": CPF,
        "phone": "+552134567890",
        "handle": customer.handle,
    }
    # Assinantes' search follows the new e-mail, as after the team's edit (same service).
    subscription.refresh_from_db()
    assert "ana.nova@example.com" in subscription.search_text
    assert "Dados atualizados." in client.get(response["Location"]).content.decode()


def test_a_new_email_keeps_the_session_and_the_next_link_goes_to_it(
    portal_client, client, merchant, customer, subscription
):
    portal_client(customer).post(url(merchant), {"email": "ana.nova@example.com", "phone": ""})

    home = client.get(reverse("portal:home", kwargs={"slug": merchant.slug}))
    assert home.status_code == 200 and "ana.nova@example.com" in home.content.decode()

    client.post(reverse("portal:logout", kwargs={"slug": merchant.slug}))
    assert request_link(client, merchant, "ana@example.com") is None
    link = request_link(client, merchant, "ana.nova@example.com")
    assert link is not None and mail.outbox[-1].to == ["ana.nova@example.com"]
    assert client.post(link).status_code == 302


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "ana@example.com", "phone": "1234"}, "phone", "Telefone inválido: informe DDD e número"),
        ({"email": "ana@", "phone": ""}, "email", "Informe um endereço de email válido."),
        ({"email": "", "phone": ""}, "email", "Este campo é obrigatório."),
    ],
)
def test_invalid_values_are_refused_in_portuguese_and_nothing_is_saved(
    portal_client, merchant, customer, data, field, message
):
    before = saved(customer)

    response = portal_client(customer).post(url(merchant), data)

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert saved(customer) == before


def test_another_customers_email_gets_a_neutral_answer(portal_client, merchant, customer):
    CustomerFactory(merchant=merchant, email="bia@example.com")
    before = saved(customer)

    response = portal_client(customer).post(url(merchant), {"email": "BIA@example.com", "phone": ""})

    assert response.status_code == 400
    errors = response.context["form"].errors["email"]
    assert errors == [str(EMAIL_UNAVAILABLE_MESSAGE)]
    page = response.content.decode()
    assert "Já existe um cliente" not in page
    assert saved(customer) == before


def test_an_email_of_another_merchants_customer_is_fine(portal_client, merchant, other_merchant, customer):
    CustomerFactory(merchant=other_merchant, email="bia@example.com")

    response = portal_client(customer).post(url(merchant), {"email": "bia@example.com", "phone": ""})

    assert response.status_code == 302
    assert saved(customer)["email"] == "bia@example.com"


def test_only_the_sessions_own_customer_is_changed(portal_client, merchant, customer):
    other = CustomerFactory(merchant=merchant, email="bia@example.com")
    before = saved(other)

    portal_client(customer).post(
        url(merchant) + f"?pk={other.pk}",
        {"email": "ana.nova@example.com", "phone": "", "pk": other.pk, "customer": other.pk},
    )

    assert saved(other) == before
    assert saved(customer)["email"] == "ana.nova@example.com"


def test_a_double_submit_is_harmless(portal_client, merchant, customer):
    client = portal_client(customer)
    data = {"email": "ana.nova@example.com", "phone": "(11) 3456-7890"}

    answers = [client.post(url(merchant), data).status_code for _ in range(2)]

    assert answers == [302, 302]
    assert Customer.objects.filter(merchant=merchant).count() == 1
    assert saved(customer)["email"] == "ana.nova@example.com"


def test_the_post_is_rate_limited_like_every_portal_post(
    portal_client, settings, merchant, customer, rate_limits_on
):
    client = portal_client(customer)
    settings.RATELIMIT_ENABLE = True
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "public": "2/m"}
    cache.clear()
    try:
        answers = [
            client.post(url(merchant), {"email": f"ana{n}@example.com", "phone": ""}).status_code
            for n in range(3)
        ]
    finally:
        cache.clear()

    assert answers == [302, 302, 429]
    assert saved(customer)["email"] == "ana1@example.com"


# --- the service -----------------------------------------------------------------------------------
def test_the_service_changes_only_email_and_phone(customer):
    portal_update_details(customer=customer, email="ANA2@example.com", phone="+55 11 3456-7890")

    assert saved(customer) == {
        "name": "Ana Souza",
        "email": "ana2@example.com",
        "document": CPF,
        "phone": "+551134567890",
        "handle": customer.handle,
    }


def test_the_service_never_says_another_customer_has_the_email(merchant, customer):
    CustomerFactory(merchant=merchant, email="bia@example.com")

    with pytest.raises(ValidationError) as refused:
        portal_update_details(customer=customer, email="bia@example.com", phone="")

    assert refused.value.message_dict == {"email": [str(EMAIL_UNAVAILABLE_MESSAGE)]}
    assert saved(customer)["email"] == "ana@example.com"


def test_a_problem_in_a_field_the_customer_cannot_edit_is_not_put_on_theirs(merchant):
    # A CPF kept from before documents were validated: the customer cannot fix it, the merchant can.
    customer = CustomerFactory(merchant=merchant, document="11111111111")

    with pytest.raises(ValidationError) as refused:
        portal_update_details(customer=customer, email="nova@example.com", phone="")

    assert set(refused.value.message_dict) == {"__all__"}
    assert Customer.objects.get(pk=customer.pk).email == customer.email


# --- the address, the timeline and the outbox ----------------------------------------------------------
ADDRESS = {
    "address_postal_code": "30130-010",
    "address_street": "Av. Afonso Pena",
    "address_number": "1500",
    "address_complement": "",
    "address_district": "Centro",
    "address_city": "Belo Horizonte",
    "address_state": "MG",
}


def test_the_customer_adds_an_address_and_it_is_on_the_timeline_as_theirs(
    portal_client, merchant, customer, subscription, owner_client
):
    client = portal_client(customer)
    page = client.get(url(merchant)).content.decode()
    assert 'id="customer-address"' in page and 'name="address_postal_code"' in page

    response = client.post(url(merchant), {"email": "ana@example.com", "phone": "(11) 91234-5678", **ADDRESS})

    assert response.status_code == 302
    stored = Customer.objects.get(pk=customer.pk)
    assert stored.address_lines == ["Av. Afonso Pena, 1500", "Centro", "Belo Horizonte – MG", "30130-010"]
    event = Event.objects.get(type=EventType.CUSTOMER_UPDATED)
    assert event.payload["changed"] == ["address"]
    assert event.payload["actor"] == {"by": "customer", "customer": customer.pk, "channel": "portal"}
    line = SubscriptionEvent.objects.get(subscription=subscription, kind=EventKind.CUSTOMER_UPDATED)
    assert line.actor is None and line.data["channel"] == "portal"
    timeline = owner_client.get(subscription.get_absolute_url()).content.decode()
    assert "Pelo cliente (portal)" in timeline and "Alterado: endereço" in timeline


def test_a_partial_address_is_refused_on_its_fields_and_nothing_is_written(
    portal_client, merchant, customer, subscription
):
    response = portal_client(customer).post(
        url(merchant),
        {
            "email": "ana@example.com",
            "phone": "",
            "address_postal_code": "3013",
            "address_city": "Belo Horizonte",
        },
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors["address_postal_code"] == ["CEP inválido: informe os 8 dígitos, por exemplo 01310-100."]
    assert "address_street" in errors and "address_number" in errors and "address_state" in errors
    assert not Customer.objects.get(pk=customer.pk).has_address
    assert not Event.objects.filter(type=EventType.CUSTOMER_UPDATED).exists()
    assert not SubscriptionEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED).exists()


def test_saving_unchanged_details_records_nothing(portal_client, merchant, customer, subscription):
    response = portal_client(customer).post(
        url(merchant), {"email": "ana@example.com", "phone": "(11) 91234-5678"}
    )

    assert response.status_code == 302
    assert not Event.objects.filter(type=EventType.CUSTOMER_UPDATED).exists()
    assert not SubscriptionEvent.objects.filter(kind=EventKind.CUSTOMER_UPDATED).exists()


def test_the_service_refuses_the_merchants_fields(customer):
    with pytest.raises(TypeError):
        portal_update_details(customer=customer, email="ana@example.com", name="Outra")
