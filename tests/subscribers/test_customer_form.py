"""Cadastro e edição de cliente pela tela: each bad-input rule answers 200 with the message next to its
field (in pt-BR) and saves nothing."""

import pytest
from django.urls import reverse

from subscribers.models import Customer
from tests.factories import CustomerFactory

CREATE_URL = reverse("subscribers:customer_create")

CPF_MESSAGE = "CPF inválido: confira os dígitos."
CNPJ_MESSAGE = "CNPJ inválido: confira os dígitos."
LENGTH_MESSAGE = "Informe um CPF com 11 dígitos ou um CNPJ com 14 dígitos."
HANDLE_MESSAGE = "Use apenas letras, números, ponto (.), hífen (-) e sublinhado (_), sem espaços."
EMAIL_TAKEN_MESSAGE = "Já existe um cliente com este e-mail."


def _data(**overrides):
    data = {
        "name": "Maria Silva",
        "email": "maria@example.com",
        "handle": "@maria.silva",
        "document": "529.982.247-25",
        "phone": "(11) 99999-0000",
    }
    data.update(overrides)
    return data


def _assert_refused(response, field, message):
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in response.content.decode()


def test_create_saves_and_redirects_to_the_detail(owner_client, merchant):
    response = owner_client.post(CREATE_URL, _data(email="Maria@Example.com"))

    customer = Customer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert customer.merchant == merchant
    assert (customer.email, customer.handle, customer.document) == (
        "maria@example.com",
        "maria.silva",
        "52998224725",
    )


def test_the_create_form_shows_every_field(owner_client):
    response = owner_client.get(CREATE_URL)

    assert response.status_code == 200
    # …and the one-time token that makes a double submit harmless (core.idempotency).
    assert list(response.context["form"].fields) == [
        "name",
        "email",
        "handle",
        "document",
        "phone",
        "address_postal_code",
        "address_street",
        "address_number",
        "address_complement",
        "address_district",
        "address_city",
        "address_state",
        "form_token",
    ]


def test_name_is_required(owner_client):
    response = owner_client.post(CREATE_URL, _data(name=""))

    _assert_refused(response, "name", "Este campo é obrigatório.")
    assert not Customer.objects.exists()


def test_a_malformed_email_is_refused(owner_client):
    response = owner_client.post(CREATE_URL, _data(email="maria@"))

    _assert_refused(response, "email", "Informe um endereço de email válido.")
    assert not Customer.objects.exists()


@pytest.mark.parametrize("email", ["maria@example.com", "MARIA@Example.COM"])
def test_an_email_already_used_in_the_merchant_is_refused_whatever_its_case(owner_client, merchant, email):
    CustomerFactory(merchant=merchant, email="maria@example.com")

    response = owner_client.post(CREATE_URL, _data(email=email))

    _assert_refused(response, "email", EMAIL_TAKEN_MESSAGE)
    assert Customer.objects.count() == 1


def test_an_email_used_by_another_merchant_is_allowed(owner_client, merchant, other_merchant):
    CustomerFactory(merchant=other_merchant, email="maria@example.com")

    response = owner_client.post(CREATE_URL, _data())

    assert response.status_code == 302
    assert Customer.objects.filter(merchant=merchant, email="maria@example.com").exists()


@pytest.mark.parametrize("document", ["111.111.111-11", "123.456.789-00", "52998224726"])
def test_a_cpf_with_bad_check_digits_is_refused(owner_client, document):
    response = owner_client.post(CREATE_URL, _data(document=document))

    _assert_refused(response, "document", CPF_MESSAGE)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("document", ["11.222.333/0001-80", "00.000.000/0000-01"])
def test_a_cnpj_with_bad_check_digits_is_refused(owner_client, document):
    response = owner_client.post(CREATE_URL, _data(document=document))

    _assert_refused(response, "document", CNPJ_MESSAGE)
    assert not Customer.objects.exists()


@pytest.mark.parametrize("document", ["123.456.789", "529.982.247-251", "1122233300018"])
def test_a_document_that_is_neither_11_nor_14_digits_is_refused(owner_client, document):
    response = owner_client.post(CREATE_URL, _data(document=document))

    _assert_refused(response, "document", LENGTH_MESSAGE)
    assert not Customer.objects.exists()


def test_a_document_with_letters_is_refused(owner_client):
    response = owner_client.post(CREATE_URL, _data(document="529.982.247-2A"))

    assert response.status_code == 200
    assert "document" in response.context["form"].errors
    assert not Customer.objects.exists()


@pytest.mark.parametrize("document", ["111.444.777-35", "11144477735", "11.222.333/0001-81"])
def test_valid_cpfs_and_cnpjs_are_accepted_with_or_without_punctuation(owner_client, document):
    response = owner_client.post(CREATE_URL, _data(document=document))

    assert response.status_code == 302
    assert Customer.objects.get().document == "".join(c for c in document if c.isdigit())


@pytest.mark.parametrize("handle", ["maria silva", "maria!", "@@maria", "maria/loja"])
def test_a_handle_with_other_characters_is_refused(owner_client, handle):
    response = owner_client.post(CREATE_URL, _data(handle=handle))

    _assert_refused(response, "handle", HANDLE_MESSAGE)
    assert not Customer.objects.exists()


def test_edit_shows_the_current_values_with_the_document_formatted(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, document="52998224725")

    response = owner_client.get(reverse("subscribers:customer_update", args=[customer.pk]))

    assert response.status_code == 200
    assert 'value="529.982.247-25"' in response.content.decode()


def test_edit_saves_and_redirects_to_the_detail(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant)

    response = owner_client.post(
        reverse("subscribers:customer_update", args=[customer.pk]),
        _data(name="Nome Novo", document="11.222.333/0001-81"),
    )

    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.document) == ("Nome Novo", "11222333000181")


def test_edit_refuses_another_customers_email_and_changes_nothing(owner_client, merchant):
    CustomerFactory(merchant=merchant, email="taken@example.com")
    customer = CustomerFactory(merchant=merchant, name="Original", email="mine@example.com")

    response = owner_client.post(
        reverse("subscribers:customer_update", args=[customer.pk]),
        _data(name="Alterado", email="TAKEN@example.com"),
    )

    _assert_refused(response, "email", EMAIL_TAKEN_MESSAGE)
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Original", "mine@example.com")


def test_edit_refuses_an_invalid_cpf_and_changes_nothing(owner_client, merchant):
    customer = CustomerFactory(merchant=merchant, name="Original", document="52998224725")

    response = owner_client.post(
        reverse("subscribers:customer_update", args=[customer.pk]),
        _data(name="Alterado", document="123.456.789-00"),
    )

    _assert_refused(response, "document", CPF_MESSAGE)
    customer.refresh_from_db()
    assert (customer.name, customer.document) == ("Original", "52998224725")
