"""Create and edit through the screens: every bad input is refused next to its field, nothing is saved."""

import pytest
from django.urls import reverse

from plans.choices import IntervalPreset, IntervalUnit
from plans.models import Plan
from tests.factories import PlanFactory

pytestmark = pytest.mark.django_db

CREATE_URL = reverse("plans:plan_create")


def field_errors(response, field):
    return [str(e) for e in response.context["form"].errors.get(field, [])]


def test_the_create_form_renders_with_the_merchants_currency(owner_client):
    response = owner_client.get(CREATE_URL)

    assert response.status_code == 200
    assert response.context["form"]["currency"].value() == "BRL"
    assert 'name="interval_preset"' in response.content.decode()


def test_create_saves_a_monthly_plan_and_goes_to_its_page(owner_client, merchant, plan_form_data):
    response = owner_client.post(CREATE_URL, plan_form_data(price="1234,56", installments="6"))

    plan = Plan.objects.get()
    assert response.status_code == 302
    assert response["Location"] == plan.get_absolute_url()
    assert plan.merchant == merchant
    assert (plan.price, plan.interval_unit, plan.interval_count) == (123456, IntervalUnit.MONTH, 1)
    assert (plan.trial_days, plan.installments, plan.is_active) == (7, 6, True)


def test_a_price_typed_with_thousands_separator_is_accepted(owner_client, plan_form_data):
    response = owner_client.post(CREATE_URL, plan_form_data(price="1.234,56"))

    assert response.status_code == 302
    assert Plan.objects.get().price == 123456


@pytest.mark.parametrize(
    ("preset", "unit", "count"),
    [
        (IntervalPreset.QUARTERLY, IntervalUnit.MONTH, 3),
        (IntervalPreset.SEMIANNUAL, IntervalUnit.MONTH, 6),
        (IntervalPreset.ANNUAL, IntervalUnit.YEAR, 1),
    ],
)
def test_a_preset_sets_unit_and_count_and_ignores_the_custom_fields(
    owner_client, plan_form_data, preset, unit, count
):
    response = owner_client.post(
        CREATE_URL, plan_form_data(interval_preset=preset, interval_count="0", interval_unit="day")
    )

    assert response.status_code == 302
    plan = Plan.objects.get()
    assert (plan.interval_unit, plan.interval_count) == (unit, count)


def test_a_custom_interval_takes_count_and_unit(owner_client, plan_form_data):
    response = owner_client.post(
        CREATE_URL,
        plan_form_data(interval_preset=IntervalPreset.CUSTOM, interval_count="2", interval_unit="week"),
    )

    assert response.status_code == 302
    plan = Plan.objects.get()
    assert (plan.interval_unit, plan.interval_count) == (IntervalUnit.WEEK, 2)
    assert plan.interval_label == "A cada 2 semana(s)"


def test_an_empty_installments_field_means_until_cancelled(owner_client, plan_form_data):
    owner_client.post(CREATE_URL, plan_form_data(installments=""))
    assert Plan.objects.get().installments is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Informe o nome do plano."),
        ({"price": ""}, "price", "Informe o preço do plano."),
        ({"price": "quarenta"}, "price", "Informe um valor em reais, por exemplo 49,90."),
        ({"price": "4,99"}, "price", "O preço mínimo de um plano em BRL é R$\xa05,00."),
        ({"price": "-10,00"}, "price", "O preço não pode ser negativo."),
        ({"trial_days": "-1"}, "trial_days", "Os dias de teste não podem ser negativos."),
        ({"trial_days": "366"}, "trial_days", "O período de teste pode ter no máximo 365 dias."),
        (
            {"installments": "0"},
            "installments",
            "O número de parcelas deve ser pelo menos 1. Deixe vazio para cobrar até o cancelamento.",
        ),
        (
            {"installments": "-3"},
            "installments",
            "O número de parcelas deve ser pelo menos 1. Deixe vazio para cobrar até o cancelamento.",
        ),
        (
            {"interval_preset": "custom", "interval_count": "", "interval_unit": "month"},
            "interval_count",
            "Informe a cada quantos dias, semanas, meses ou anos o plano cobra.",
        ),
        (
            {"interval_preset": "custom", "interval_count": "2", "interval_unit": ""},
            "interval_unit",
            "Escolha a unidade do intervalo personalizado.",
        ),
        (
            {"interval_preset": "custom", "interval_count": "0", "interval_unit": "month"},
            "interval_count",
            "O intervalo deve ser de pelo menos 1.",
        ),
        (
            {"interval_preset": "custom", "interval_count": "-2", "interval_unit": "month"},
            "interval_count",
            "O intervalo deve ser de pelo menos 1.",
        ),
    ],
    ids=[
        "name-required",
        "price-required",
        "price-not-a-number",
        "price-below-brl-minimum",
        "price-negative",
        "trial-days-negative",
        "trial-days-over-365",
        "installments-zero",
        "installments-negative",
        "custom-without-count",
        "custom-without-unit",
        "custom-count-zero",
        "custom-count-negative",
    ],
)
def test_bad_input_is_refused_next_to_the_field_and_nothing_is_saved(
    owner_client, plan_form_data, overrides, field, message
):
    response = owner_client.post(CREATE_URL, plan_form_data(**overrides))

    assert response.status_code == 200
    assert message in field_errors(response, field)
    assert not Plan.objects.exists()


def test_the_minimum_price_message_is_shown_on_the_page(owner_client, plan_form_data):
    response = owner_client.post(CREATE_URL, plan_form_data(price="1,00"))

    assert "O preço mínimo de um plano em BRL é R$\xa05,00." in response.content.decode()


def test_a_usd_plan_may_cost_less_than_five(owner_client, plan_form_data):
    response = owner_client.post(CREATE_URL, plan_form_data(price="1,00", currency="USD"))

    assert response.status_code == 302
    assert Plan.objects.get().price == 100


def test_the_edit_form_shows_the_price_in_reais_and_the_preset(owner_client, merchant):
    plan = PlanFactory(merchant=merchant, price=4990, interval_unit=IntervalUnit.MONTH, interval_count=6)

    response = owner_client.get(reverse("plans:plan_update", args=[plan.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert 'value="49,90"' in content
    assert response.context["form"]["interval_preset"].value() == IntervalPreset.SEMIANNUAL


def test_edit_saves_the_changes(owner_client, merchant, plan_form_data):
    plan = PlanFactory(merchant=merchant, name="Antigo")

    response = owner_client.post(
        reverse("plans:plan_update", args=[plan.pk]),
        plan_form_data(name="Novo", price="99,00", interval_preset=IntervalPreset.ANNUAL),
    )

    assert response.status_code == 302
    plan.refresh_from_db()
    assert (plan.name, plan.price, plan.interval_unit) == ("Novo", 9900, IntervalUnit.YEAR)


def test_edit_with_a_bad_price_changes_nothing(owner_client, merchant, plan_form_data):
    plan = PlanFactory(merchant=merchant, name="Antigo", price=4990)

    response = owner_client.post(
        reverse("plans:plan_update", args=[plan.pk]), plan_form_data(name="Novo", price="2,00")
    )

    assert response.status_code == 200
    assert "O preço mínimo de um plano em BRL é R$\xa05,00." in field_errors(response, "price")
    plan.refresh_from_db()
    assert (plan.name, plan.price) == ("Antigo", 4990)


def test_edit_of_an_archived_plan_is_refused_with_a_message(owner_client, merchant, plan_form_data):
    plan = PlanFactory(merchant=merchant, name="Antigo")
    owner_client.post(reverse("plans:plan_archive", args=[plan.pk]))

    response = owner_client.post(reverse("plans:plan_update", args=[plan.pk]), plan_form_data(name="Novo"))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Este plano está arquivado. Desarquive-o antes de editar."
    ]
    plan.refresh_from_db()
    assert plan.name == "Antigo"
