"""Assinantes > Clientes: search, sorting, columns, empty state, htmx partial and query count."""

import datetime

import pytest
from django.urls import reverse

from subscribers.models import Customer
from tests.factories import CustomerFactory

LIST_URL = reverse("subscribers:customer_list")


def _names(response):
    return [row.record.name for row in response.context["table"].page.object_list]


@pytest.fixture
def people(merchant):
    return {
        "ana": CustomerFactory(
            merchant=merchant,
            name="Ana Souza",
            email="ana@example.com",
            handle="anasouza",
            document="52998224725",
        ),
        "bruno": CustomerFactory(
            merchant=merchant,
            name="Bruno Lima",
            email="contato@brunolima.com.br",
            handle="bruno.lima",
            document="11144477735",
        ),
        "loja": CustomerFactory(
            merchant=merchant,
            name="Loja Carvalho",
            email="financeiro@carvalho.com",
            handle="lojacarvalho",
            document="11222333000181",
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bruno", ["Bruno Lima"]),
        ("SOUZA", ["Ana Souza"]),
        ("financeiro@carvalho", ["Loja Carvalho"]),
        ("529.982.247-25", ["Ana Souza"]),
        ("52998224725", ["Ana Souza"]),
        ("111444", ["Bruno Lima"]),
        ("11.222.333/0001-81", ["Loja Carvalho"]),
        ("@bruno.lima", ["Bruno Lima"]),
        ("anasouza", ["Ana Souza"]),
        ("ninguém", []),
    ],
)
def test_search_finds_by_name_email_document_and_handle(owner_client, people, query, expected):
    response = owner_client.get(LIST_URL, {"q": query})

    assert response.status_code == 200
    assert _names(response) == expected


def test_search_without_digits_never_matches_on_the_document(owner_client, merchant):
    CustomerFactory(
        merchant=merchant, name="Ana", email="ana@example.com", handle="ana", document="52998224725"
    )

    response = owner_client.get(LIST_URL, {"q": "-./"})

    assert _names(response) == []


def test_search_mixing_words_and_digits_does_not_match_every_document(owner_client, merchant):
    CustomerFactory(
        merchant=merchant, name="Ana", email="ana@example.com", handle="ana", document="52998224725"
    )

    response = owner_client.get(LIST_URL, {"q": "Bruno 2"})

    assert _names(response) == []


def test_search_stays_inside_the_merchant(owner_client, merchant, other_merchant):
    CustomerFactory(merchant=other_merchant, name="Ana de Fora", document="52998224725")

    response = owner_client.get(LIST_URL, {"q": "52998224725"})

    assert _names(response) == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Ana Souza", "Bruno Lima", "Loja Carvalho"]),
        ("-name", ["Loja Carvalho", "Bruno Lima", "Ana Souza"]),
        ("email", ["Ana Souza", "Bruno Lima", "Loja Carvalho"]),
        ("-email", ["Loja Carvalho", "Bruno Lima", "Ana Souza"]),
        ("handle", ["Ana Souza", "Bruno Lima", "Loja Carvalho"]),
        ("document", ["Bruno Lima", "Loja Carvalho", "Ana Souza"]),
        ("-document", ["Ana Souza", "Loja Carvalho", "Bruno Lima"]),
    ],
)
def test_every_column_sorts(owner_client, people, sort, expected):
    response = owner_client.get(LIST_URL, {"sort": sort})

    assert _names(response) == expected


def test_sorting_by_creation_date(owner_client, people):
    Customer.objects.filter(pk=people["bruno"].pk).update(
        created_at=datetime.datetime(2024, 1, 1, tzinfo=datetime.UTC)
    )

    response = owner_client.get(LIST_URL, {"sort": "created_at"})

    assert _names(response)[0] == "Bruno Lima"


def test_the_table_shows_formatted_columns(owner_client, merchant):
    customer = CustomerFactory(
        merchant=merchant,
        name="Ana Souza",
        email="ana@example.com",
        handle="anasouza",
        document="11222333000181",
        phone="(11) 98888-7777",
    )
    Customer.objects.filter(pk=customer.pk).update(
        created_at=datetime.datetime(2025, 3, 7, 15, 0, tzinfo=datetime.UTC)
    )

    content = owner_client.get(LIST_URL).content.decode()

    assert f'href="{customer.get_absolute_url()}"' in content
    for text in [
        "Ana Souza",
        "ana@example.com",
        "@anasouza",
        "11.222.333/0001-81",
        "(11) 98888-7777",
        "07/03/2025",
    ]:
        assert text in content


def test_empty_list_invites_to_create_the_first_customer(owner_client):
    response = owner_client.get(LIST_URL)

    content = response.content.decode()
    assert "Nenhum cliente ainda. Cadastre o primeiro cliente." in content
    assert f'href="{reverse("subscribers:customer_create")}"' in content


def test_viewer_gets_no_create_button(member_client, viewer):
    content = member_client(viewer).get(LIST_URL).content.decode()

    assert "Nenhum cliente ainda. Cadastre o primeiro cliente." in content
    assert reverse("subscribers:customer_create") not in content


def test_htmx_request_gets_only_the_results_partial(owner_client, people):
    response = owner_client.get(LIST_URL, {"q": "bruno"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "core/partials/list_results.html"
    assert "<nav" not in content
    assert "Bruno Lima" in content
    assert "Ana Souza" not in content


def test_list_query_count_does_not_grow_with_rows(owner_client, merchant, django_assert_max_num_queries):
    Customer.objects.bulk_create(
        Customer(
            merchant=merchant,
            name=f"Cliente {n:03d}",
            email=f"cliente{n}@example.com",
            handle=f"cliente{n}",
            document="52998224725",
            phone="11 99999-0000",
        )
        for n in range(200)
    )

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"sort": "-created_at", "page": 2})

    assert response.status_code == 200
    assert len(_names(response)) == 25
