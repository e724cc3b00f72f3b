"""Configurações > Cobrança: everyone reads the dunning policy, owners and managers save it."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from billing.choices import DunningFinalAction
from billing.models import BillingSettings
from billing.services.settings import billing_settings_update
from tests.factories import BillingSettingsFactory

pytestmark = pytest.mark.django_db

URL = reverse("billing:settings")
VALID = {
    "retries": "3",
    "retry_interval_hours": "12",
    "final_action": DunningFinalAction.CANCEL,
    "boleto_pix_expiry_days": "5",
    "sandbox_disconnected": "on",
    "backdate_max_periods": "1",
    "backdate_max_days": "31",
    "pause_coupons": "freeze",
    "pause_access": "none",
    "customers_may_pause": "on",
}


def test_the_page_shows_the_defaults_before_anything_is_saved(owner_client, merchant):
    response = owner_client.get(URL)

    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["retries"] == 2
    assert form.initial["retry_interval_hours"] == 24
    assert form.initial["final_action"] == DunningFinalAction.EXPIRE
    assert form.initial["boleto_pix_expiry_days"] == 3
    assert not BillingSettings.objects.exists()


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_owners_and_managers_save_the_policy(request, member_client, merchant, role):
    client = member_client(request.getfixturevalue(role))

    response = client.post(URL, VALID, follow=True)

    settings = BillingSettings.objects.get(merchant=merchant)
    assert (settings.retries, settings.retry_interval_hours) == (3, 12)
    assert settings.final_action == DunningFinalAction.CANCEL
    assert settings.boleto_pix_expiry_days == 5
    assert settings.sandbox_disconnected is True
    assert response.redirect_chain[-1][0] == URL
    assert "Configurações de cobrança salvas." in response.content.decode()


def test_saving_again_updates_the_same_row(owner_client, merchant):
    BillingSettingsFactory(merchant=merchant, retries=1)

    owner_client.post(URL, {**VALID, "retries": "4", "sandbox_disconnected": ""})

    settings = BillingSettings.objects.get(merchant=merchant)
    assert BillingSettings.objects.count() == 1
    assert settings.retries == 4 and settings.sandbox_disconnected is False


def test_the_page_shows_the_saved_values(owner_client, merchant):
    BillingSettingsFactory(merchant=merchant, retries=7, final_action=DunningFinalAction.KEEP_UNPAID)
    form = owner_client.get(URL).context["form"]
    assert form.initial["retries"] == 7 and form.initial["final_action"] == DunningFinalAction.KEEP_UNPAID


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("retries", "11", "São no máximo 10 novas tentativas."),
        ("retries", "-1", "O número de tentativas não pode ser negativo."),
        ("retry_interval_hours", "0", "O intervalo deve ser de pelo menos 1 hora."),
        ("retry_interval_hours", "337", "O intervalo pode ser de no máximo 336 horas (14 dias)."),
        ("boleto_pix_expiry_days", "0", "A validade deve ser de pelo menos 1 dia."),
        ("boleto_pix_expiry_days", "61", "A validade pode ser de no máximo 60 dias."),
        ("retries", "dois", "Informe um número inteiro."),
        ("retries", "", "Informe quantas novas tentativas fazer (0 para nenhuma)."),
        ("final_action", "explode", "Faça uma escolha válida."),
        ("backdate_max_periods", "13", "Uma contratação pode retroagir no máximo 12 períodos."),
        ("backdate_max_days", "367", "Uma contratação pode retroagir no máximo 366 dias."),
        ("backdate_max_days", "-1", "O número de dias não pode ser negativo."),
    ],
)
def test_invalid_values_are_refused_in_portuguese_and_nothing_is_saved(
    owner_client, merchant, field, value, message
):
    response = owner_client.post(URL, {**VALID, field: value})

    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert not BillingSettings.objects.exists()


@pytest.mark.parametrize("role", ["viewer", "support"])
def test_other_roles_read_the_policy_but_cannot_save_it(request, member_client, merchant, role):
    BillingSettingsFactory(merchant=merchant, retries=5)
    client = member_client(request.getfixturevalue(role))

    page = client.get(URL)
    assert page.status_code == 200
    content = page.content.decode()
    assert 'id="billing-settings"' in content and "billing-settings-form" not in content
    assert "Somente o proprietário ou um gerente" in content

    assert client.post(URL, VALID).status_code == 403
    assert BillingSettings.objects.get(merchant=merchant).retries == 5


def test_each_merchant_has_its_own_policy(owner_client, merchant, other_merchant):
    BillingSettingsFactory(merchant=other_merchant, retries=9)

    owner_client.post(URL, VALID)

    assert BillingSettings.objects.get(merchant=other_merchant).retries == 9
    assert BillingSettings.objects.get(merchant=merchant).retries == 3


def test_the_settings_page_links_to_billing_settings(owner_client, merchant):
    content = owner_client.get(reverse("accounts:settings")).content.decode()
    assert URL in content


# --- the service ---------------------------------------------------------------------------------------
def test_service_creates_then_updates(merchant, owner):
    first = billing_settings_update(merchant=merchant, retries=0)
    second = billing_settings_update(merchant=merchant, retry_interval_hours=48)

    assert first.pk == second.pk
    settings = BillingSettings.for_merchant(merchant)
    assert (settings.retries, settings.retry_interval_hours) == (0, 48)


def test_service_refuses_out_of_range_values_and_saves_nothing(merchant, owner):
    with pytest.raises(ValidationError) as excinfo:
        billing_settings_update(merchant=merchant, retries=50)

    assert "retries" in excinfo.value.message_dict
    assert BillingSettings.objects.filter(merchant=merchant, retries=50).count() == 0


def test_service_refuses_fields_that_are_not_policy(merchant, owner):
    with pytest.raises(TypeError):
        billing_settings_update(merchant=merchant, merchant_id=123)


def test_the_backdating_bound_is_saved_and_shown(owner_client, viewer, member_client, merchant):
    owner_client.post(URL, {**VALID, "backdate_max_periods": "2", "backdate_max_days": "10"})

    settings = BillingSettings.objects.get(merchant=merchant)
    assert (settings.backdate_max_periods, settings.backdate_max_days) == (2, 10)
    page = member_client(viewer).get(URL).content.decode()
    assert "2 período(s) do plano ou 10 dia(s), o que for maior" in page


def test_the_pause_rules_are_saved(owner_client, merchant):
    owner_client.post(URL, VALID)

    saved = BillingSettings.objects.get(merchant=merchant)
    assert (saved.pause_coupons, saved.pause_access, saved.customers_may_pause) == ("freeze", "none", True)
