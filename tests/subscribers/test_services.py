"""customer_create / customer_update: normalization, the rules full_clean() enforces, and refusals."""

import pytest
from django.core.exceptions import ValidationError

from subscribers.models import ADDRESS_FIELDS, Customer
from subscribers.services import customer_create, customer_update
from tests.factories import CustomerFactory

NO_ADDRESS = dict.fromkeys(ADDRESS_FIELDS, "")


def _create(merchant, **overrides):
    data = {"name": "Maria Silva", "email": "maria@example.com", "handle": "", "document": "", "phone": ""}
    data.update(overrides)
    return customer_create(merchant=merchant, **data)


def test_create_stores_normalized_values(merchant, owner):
    customer = _create(
        merchant,
        name="  Maria Silva ",
        email=" Maria.Silva@Example.COM ",
        handle="@maria.silva",
        document="529.982.247-25",
        phone=" (11) 99999-0000 ",
    )

    customer.refresh_from_db()
    assert customer.merchant == merchant
    assert customer.name == "Maria Silva"
    assert customer.email == "maria.silva@example.com"
    assert customer.handle == "maria.silva"
    assert customer.document == "52998224725"
    assert customer.phone == "+5511999990000"  # E.164 (see test_customer_phone.py)


def test_create_accepts_a_cnpj(merchant, owner):
    customer = _create(merchant, document="11.222.333/0001-81")

    assert customer.document == "11222333000181"
    assert customer.document_display == "11.222.333/0001-81"


def test_create_is_refused_for_an_email_taken_in_the_same_merchant_ignoring_case(merchant, owner):
    CustomerFactory(merchant=merchant, email="maria@example.com")

    with pytest.raises(ValidationError) as excinfo:
        _create(merchant, email="MARIA@example.com")

    assert excinfo.value.message_dict == {"email": ["Já existe um cliente com este e-mail."]}
    assert Customer.objects.filter(merchant=merchant).count() == 1


def test_create_allows_an_email_used_by_another_merchant(merchant, other_merchant, owner):
    CustomerFactory(merchant=other_merchant, email="maria@example.com")

    customer = _create(merchant, email="maria@example.com")

    assert customer.pk is not None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "   "),
        ("email", "nao-e-email"),
        ("document", "111.111.111-11"),
        ("document", "123.456.789-00"),
        ("document", "11.222.333/0001-80"),
        ("document", "123456789"),
        ("document", "529.982.247-2X"),
        ("handle", "maria silva"),
    ],
)
def test_create_is_refused_for_invalid_input_and_saves_nothing(merchant, owner, field, value):
    with pytest.raises(ValidationError) as excinfo:
        _create(merchant, **{field: value})

    assert list(excinfo.value.message_dict) == [field]
    assert not Customer.objects.exists()


def test_update_changes_every_field(merchant, owner):
    customer = CustomerFactory(merchant=merchant, email="old@example.com")

    customer_update(
        customer=customer,
        actor=None,
        **NO_ADDRESS,
        name="Novo Nome",
        email="Novo@Example.com",
        handle="@novo",
        document="11.222.333/0001-81",
        phone="11 3333-4444",
    )

    customer.refresh_from_db()
    assert (customer.name, customer.email, customer.handle, customer.document, customer.phone) == (
        "Novo Nome",
        "novo@example.com",
        "novo",
        "11222333000181",
        "+551133334444",
    )


def test_update_keeps_the_customers_own_email(merchant, owner):
    customer = CustomerFactory(merchant=merchant, email="maria@example.com")

    customer_update(
        customer=customer,
        actor=None,
        **NO_ADDRESS,
        name="Maria",
        email="MARIA@example.com",
        handle="",
        document="",
        phone="",
    )

    customer.refresh_from_db()
    assert customer.name == "Maria"


def test_update_is_refused_for_another_customers_email_and_changes_nothing(merchant, owner):
    CustomerFactory(merchant=merchant, email="taken@example.com")
    customer = CustomerFactory(merchant=merchant, name="Original", email="mine@example.com")

    with pytest.raises(ValidationError) as excinfo:
        customer_update(
            customer=customer,
            actor=None,
            **NO_ADDRESS,
            name="Alterado",
            email="Taken@example.com",
            handle="",
            document="",
            phone="",
        )

    assert "email" in excinfo.value.message_dict
    customer.refresh_from_db()
    assert (customer.name, customer.email) == ("Original", "mine@example.com")


def test_update_is_refused_for_an_invalid_cpf(merchant, owner):
    customer = CustomerFactory(merchant=merchant, document="52998224725")

    with pytest.raises(ValidationError) as excinfo:
        customer_update(
            customer=customer,
            actor=None,
            **NO_ADDRESS,
            name=customer.name,
            email=customer.email,
            handle="",
            document="123.456.789-00",
            phone="",
        )

    assert excinfo.value.message_dict == {"document": ["CPF inválido: confira os dígitos."]}
    customer.refresh_from_db()
    assert customer.document == "52998224725"


def test_a_lost_race_on_the_email_is_reported_on_the_field(merchant, owner, monkeypatch):
    # Simulates a concurrent insert between full_clean() and save(): the database constraint catches it.
    CustomerFactory(merchant=merchant, email="maria@example.com")
    monkeypatch.setattr(Customer, "validate_constraints", lambda self, exclude=None: None)

    with pytest.raises(ValidationError) as excinfo:
        _create(merchant, email="maria@example.com")

    assert excinfo.value.message_dict == {"email": ["Já existe um cliente com este e-mail."]}
    assert Customer.objects.count() == 1
