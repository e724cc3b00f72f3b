"""Impostos: the tax-rate services and the list, detail and form screens."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from plans import services
from plans.models import TaxRate
from tests.factories import SubscriptionFactory, TaxRateFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("plans:taxrate_list")
CREATE_URL = reverse("plans:taxrate_create")


# --- services -------------------------------------------------------------------------------------


def test_create_saves_the_tax_rate_in_the_merchant(merchant, owner):
    tax_rate = services.tax_rate_create(
        merchant=merchant, name=" ISS ", percentage=Decimal("5.5"), inclusive=True
    )

    tax_rate.refresh_from_db()
    assert (tax_rate.merchant, tax_rate.name, tax_rate.percentage) == (merchant, "ISS", Decimal("5.5"))
    assert (tax_rate.inclusive, tax_rate.is_active) == (True, True)


@pytest.mark.parametrize(
    ("kwargs", "field", "code"),
    [
        ({"name": "  "}, "name", "required"),
        ({"percentage": None}, "percentage", "required"),
        ({"percentage": Decimal("-0.01")}, "percentage", "percentage_out_of_range"),
        ({"percentage": Decimal("100.0001")}, "percentage", "percentage_out_of_range"),
    ],
)
def test_create_refuses_a_tax_rate_without_name_or_with_a_percentage_out_of_range(
    merchant, owner, kwargs, field, code
):
    with pytest.raises(ValidationError) as excinfo:
        services.tax_rate_create(merchant=merchant, **{"name": "ISS", "percentage": 5, **kwargs})

    assert [e.code for e in excinfo.value.error_dict[field]] == [code]
    assert not TaxRate.objects.exists()


@pytest.mark.parametrize("percentage", [Decimal("0"), Decimal("100")])
def test_zero_and_a_hundred_percent_are_accepted(merchant, owner, percentage):
    assert services.tax_rate_create(merchant=merchant, name="Isento", percentage=percentage).pk


def test_update_replaces_every_field(merchant, owner):
    tax_rate = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5"))

    services.tax_rate_update(
        tax_rate=tax_rate,
        name="ISS SP",
        description="São Paulo",
        percentage=Decimal("2"),
        inclusive=True,
        is_active=False,
    )

    tax_rate.refresh_from_db()
    assert (tax_rate.name, tax_rate.description, tax_rate.percentage) == ("ISS SP", "São Paulo", Decimal("2"))
    assert (tax_rate.inclusive, tax_rate.is_active) == (True, False)


def test_update_refuses_a_percentage_above_100_and_keeps_the_stored_one(merchant, owner):
    tax_rate = TaxRateFactory(merchant=merchant, percentage=Decimal("5"))

    with pytest.raises(ValidationError):
        services.tax_rate_update(
            tax_rate=tax_rate,
            name="ISS",
            description="",
            percentage=Decimal("101"),
            inclusive=False,
            is_active=True,
        )

    assert TaxRate.objects.get().percentage == Decimal("5")


# --- screens: create and edit ---------------------------------------------------------------------

VALID_FORM = {"name": "ISS", "description": "", "percentage": "5,5", "inclusive": "", "is_active": "on"}


def form_data(**overrides):
    return {**VALID_FORM, **overrides}


def field_errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def test_the_create_form_renders(owner_client):
    response = owner_client.get(CREATE_URL)

    assert response.status_code == 200
    assert 'id="taxrate-form"' in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "stored"), [("5,5", "5.5"), ("5.5", "5.5"), ("0,65 %", "0.65"), ("2", "2")]
)
def test_create_through_the_screen_takes_the_percentage_as_people_type_it(
    owner_client, merchant, typed, stored
):
    response = owner_client.post(CREATE_URL, form_data(percentage=typed))

    tax_rate = TaxRate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == tax_rate.get_absolute_url()
    assert (tax_rate.merchant, tax_rate.percentage, tax_rate.inclusive) == (merchant, Decimal(stored), False)


def test_the_inclusive_checkbox_is_saved(owner_client):
    owner_client.post(CREATE_URL, form_data(inclusive="on"))
    assert TaxRate.objects.get().inclusive is True


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Informe o nome do imposto."),
        ({"percentage": ""}, "percentage", "Informe a alíquota."),
        ({"percentage": "-1"}, "percentage", "A alíquota deve estar entre 0 e 100."),
        ({"percentage": "100,5"}, "percentage", "A alíquota deve estar entre 0 e 100."),
        ({"percentage": "1000"}, "percentage", "A alíquota deve estar entre 0 e 100."),
        ({"percentage": "5,12345"}, "percentage", "Use no máximo 4 casas decimais."),
        ({"percentage": "cinco"}, "percentage", "Informe um percentual, por exemplo 5,5."),
    ],
)
def test_bad_input_is_refused_next_to_its_field(owner_client, overrides, field, message):
    response = owner_client.post(CREATE_URL, form_data(**overrides))

    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert not TaxRate.objects.exists()


def test_the_edit_form_shows_the_percentage_localized_and_saves(owner_client, merchant):
    tax_rate = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5.5"))
    url = reverse("plans:taxrate_update", args=[tax_rate.pk])

    assert 'value="5,5' in owner_client.get(url).content.decode()
    response = owner_client.post(url, form_data(name="ISS Campinas", percentage="2", inclusive="on"))

    assert response.status_code == 302
    tax_rate.refresh_from_db()
    assert (tax_rate.name, tax_rate.percentage, tax_rate.inclusive) == ("ISS Campinas", Decimal("2"), True)


# --- screens: list and detail ---------------------------------------------------------------------


def names(response):
    return [tax_rate.name for tax_rate in response.context["table"].page.object_list.data]


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return names(response)


@pytest.fixture
def tax_rates(merchant):
    return [
        TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5.5"), description="Serviços"),
        TaxRateFactory(merchant=merchant, name="PIS", percentage=Decimal("0.65"), inclusive=True),
        TaxRateFactory(merchant=merchant, name="Antigo", is_active=False),
    ]


def test_the_list_shows_every_tax_rate_sorted_by_name(owner_client, tax_rates):
    assert listed(owner_client) == ["Antigo", "ISS", "PIS"]


def test_search_matches_name_and_description(owner_client, tax_rates):
    assert listed(owner_client, q="pis") == ["PIS"]
    assert listed(owner_client, q="serviços") == ["ISS"]


@pytest.mark.parametrize(("status", "expected"), [("active", ["ISS", "PIS"]), ("inactive", ["Antigo"])])
def test_status_filter(owner_client, tax_rates, status, expected):
    assert listed(owner_client, status=status) == expected


def test_rows_show_the_percentage_localized_and_how_it_is_charged(owner_client, tax_rates):
    content = owner_client.get(LIST_URL).content.decode()

    for text in ["5,5%", "0,65%", "Incluso no preço", "Adicionado ao preço", ">Inativo</span>"]:
        assert text in content


def test_sorting_by_percentage(owner_client, tax_rates):
    assert listed(owner_client, sort="percentage") == ["PIS", "Antigo", "ISS"]
    for column in ("-name", "inclusive", "subscription_count", "status", "created_at"):
        assert len(listed(owner_client, sort=column)) == 3


def test_an_empty_list_invites_to_create_the_first_tax_rate(owner_client, merchant):
    content = owner_client.get(LIST_URL).content.decode()

    assert "Nenhum imposto ainda." in content
    assert CREATE_URL in content


def test_the_list_page_runs_a_bounded_number_of_queries(
    owner_client, merchant, django_assert_max_num_queries
):
    TaxRate.objects.bulk_create(
        TaxRateFactory.build(merchant=merchant, name=f"Imposto {i:03d}") for i in range(200)
    )
    subscription = SubscriptionFactory(merchant=merchant)
    subscription.tax_rates.set(TaxRate.objects.all()[:5])

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"sort": "-subscription_count"})

    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 25


def test_the_detail_shows_the_tax_rate(owner_client, merchant):
    tax_rate = TaxRateFactory(merchant=merchant, name="ISS", percentage=Decimal("5.5"), inclusive=True)
    SubscriptionFactory(merchant=merchant).tax_rates.add(tax_rate)

    content = owner_client.get(tax_rate.get_absolute_url()).content.decode()

    for text in ["ISS", "5,5%", "Incluso no preço", "Ativo"]:
        assert text in content
    assert reverse("plans:taxrate_update", args=[tax_rate.pk]) in content


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_roles_without_catalog_rights_read_but_cannot_write(request, member_client, merchant, role):
    tax_rate = TaxRateFactory(merchant=merchant)
    client = member_client(request.getfixturevalue(role))

    assert 'id="taxrate-actions"' not in client.get(tax_rate.get_absolute_url()).content.decode()
    assert client.post(CREATE_URL, form_data()).status_code == 403
    assert client.post(reverse("plans:taxrate_update", args=[tax_rate.pk]), form_data()).status_code == 403


def test_the_menu_links_to_tax_rates(owner_client):
    assert f'href="{LIST_URL}"' in owner_client.get(reverse("plans:plan_list")).content.decode()
