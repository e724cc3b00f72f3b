"""Planos list: filters, sorting, money formatting, htmx partial, empty state and query count."""

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.choices import IntervalUnit
from plans.models import Plan
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

LIST_URL = reverse("plans:plan_list")


def names(response):
    return [plan.name for plan in response.context["table"].page.object_list.data]


def listed(client, **params):
    response = client.get(LIST_URL, params)
    assert response.status_code == 200
    return names(response)


@pytest.fixture
def catalog(merchant):
    """One plan per interval and status, named after what sets it apart."""
    month, year, week, day = IntervalUnit.MONTH, IntervalUnit.YEAR, IntervalUnit.WEEK, IntervalUnit.DAY
    return {
        "Mensal": PlanFactory(merchant=merchant, name="Mensal", interval_unit=month, interval_count=1),
        "Trimestral": PlanFactory(
            merchant=merchant, name="Trimestral", interval_unit=month, interval_count=3
        ),
        "Semestral": PlanFactory(merchant=merchant, name="Semestral", interval_unit=month, interval_count=6),
        "Anual": PlanFactory(merchant=merchant, name="Anual", interval_unit=year, interval_count=1),
        "Quinzenal": PlanFactory(merchant=merchant, name="Quinzenal", interval_unit=week, interval_count=2),
        "Bimestral": PlanFactory(merchant=merchant, name="Bimestral", interval_unit=month, interval_count=2),
        "Diário": PlanFactory(merchant=merchant, name="Diário", interval_unit=day, interval_count=1),
        "Pausado": PlanFactory(merchant=merchant, name="Pausado", is_active=False),
        "Antigo": PlanFactory(merchant=merchant, name="Antigo", is_active=False, archived_at=timezone.now()),
    }


def test_the_list_shows_the_merchants_plans_sorted_by_name_without_archived(owner_client, catalog):
    assert listed(owner_client) == sorted(n for n in catalog if n != "Antigo")


def test_search_matches_name_and_description_ignoring_case(owner_client, merchant):
    PlanFactory(merchant=merchant, name="Clube do Vinho")
    PlanFactory(merchant=merchant, name="Básico", description="Uma garrafa de VINHO por mês")
    PlanFactory(merchant=merchant, name="Café")

    assert listed(owner_client, q="vinho") == ["Básico", "Clube do Vinho"]


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("monthly", ["Mensal", "Pausado"]),
        ("quarterly", ["Trimestral"]),
        ("semiannual", ["Semestral"]),
        ("annual", ["Anual"]),
        ("custom", ["Bimestral", "Diário", "Quinzenal"]),
    ],
)
def test_interval_filter_matches_each_preset(owner_client, catalog, preset, expected):
    assert listed(owner_client, interval=preset) == expected


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("active", ["Anual", "Bimestral", "Diário", "Mensal", "Quinzenal", "Semestral", "Trimestral"]),
        ("inactive", ["Pausado"]),
        ("archived", ["Antigo"]),
    ],
)
def test_status_filter(owner_client, catalog, status, expected):
    assert listed(owner_client, status=status) == expected


def test_without_status_filter_archived_plans_are_hidden_and_the_filter_says_so(owner_client, catalog):
    response = owner_client.get(LIST_URL)

    assert "Antigo" not in names(response)
    assert "Não arquivados" in response.content.decode()


def test_filters_combine(owner_client, catalog):
    assert listed(owner_client, interval="monthly", status="inactive", q="pau") == ["Pausado"]


def test_an_unknown_filter_value_shows_no_rows_instead_of_an_error(owner_client, catalog):
    assert listed(owner_client, status="bogus") == []


def test_sorting_by_price_both_ways(owner_client, merchant):
    PlanFactory(merchant=merchant, name="Médio", price=4990)
    PlanFactory(merchant=merchant, name="Caro", price=19900)
    PlanFactory(merchant=merchant, name="Barato", price=990)

    assert listed(owner_client, sort="price") == ["Barato", "Médio", "Caro"]
    assert listed(owner_client, sort="-price") == ["Caro", "Médio", "Barato"]


def test_sorting_by_installments_puts_until_cancelled_last(owner_client, merchant):
    PlanFactory(merchant=merchant, name="Sem fim", installments=None)
    PlanFactory(merchant=merchant, name="Doze", installments=12)
    PlanFactory(merchant=merchant, name="Três", installments=3)

    assert listed(owner_client, sort="installments") == ["Três", "Doze", "Sem fim"]
    assert listed(owner_client, sort="-installments") == ["Sem fim", "Doze", "Três"]


def test_sorting_by_interval_goes_from_shortest_to_longest(owner_client, catalog):
    ordered = listed(owner_client, sort="interval", status="active")
    assert ordered == ["Diário", "Quinzenal", "Mensal", "Bimestral", "Trimestral", "Semestral", "Anual"]


def test_sorting_by_status_and_by_every_other_column_works(owner_client, catalog):
    assert listed(owner_client, sort="status")[-1] == "Pausado"
    for column in ("name", "trial_days", "created_at", "-status", "-interval"):
        assert len(listed(owner_client, sort=column)) == 8


def test_rows_show_money_interval_installments_status_and_date(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, name="Ouro", price=4990, trial_days=7, installments=None)
    PlanFactory(merchant=merchant, name="Parcelado", price=100000, installments=6, is_active=False)
    created = timezone.localtime(plan.created_at).strftime("%d/%m/%Y")

    content = owner_client.get(LIST_URL).content.decode()

    assert '<td class="money text-end" data-column="price" data-label="Preço">R$\xa049,90</td>' in content
    assert "R$\xa01.000,00" in content
    assert "Mensal" in content
    assert "7 dias" in content
    assert "Até cancelar" in content
    assert "6 parcelas" in content
    assert ">Ativo</span>" in content
    assert ">Inativo</span>" in content
    assert created in content
    assert plan.get_absolute_url() in content


def test_htmx_requests_get_only_the_results(owner_client, merchant):
    PlanFactory(merchant=merchant, name="Ouro")

    response = owner_client.get(LIST_URL, {"q": "ouro"}, headers={"HX-Request": "true"})

    content = response.content.decode()
    assert response.status_code == 200
    assert "Ouro" in content
    assert "<nav" not in content
    assert "<html" not in content


def test_an_empty_catalog_invites_to_create_the_first_plan(owner_client, merchant):
    content = owner_client.get(LIST_URL).content.decode()

    assert "Nenhum plano ainda. Crie o primeiro para começar a vender assinaturas." in content
    assert reverse("plans:plan_create") in content


def test_a_filter_without_results_offers_to_clear_it(owner_client, merchant):
    PlanFactory(merchant=merchant, name="Ouro")

    content = owner_client.get(LIST_URL, {"q": "prata"}).content.decode()

    assert "Nenhum resultado para estes filtros." in content
    assert "Limpar filtros" in content


def test_the_list_page_runs_a_bounded_number_of_queries(
    owner_client, merchant, django_assert_max_num_queries
):
    Plan.objects.bulk_create(
        PlanFactory.build(merchant=merchant, name=f"Plano {i:03d}", installments=i % 3 or None)
        for i in range(200)
    )

    with django_assert_max_num_queries(10):
        response = owner_client.get(LIST_URL, {"sort": "-price"})

    assert response.status_code == 200
    assert len(response.context["table"].page.object_list) == 25
