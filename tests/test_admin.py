"""Platform staff work in Django admin: every model is there, and merchant-owned ones filter by merchant."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import FACTORY_FOR_MODEL, MerchantFactory

OUR_APPS = {"accounts", "plans", "subscribers", "billing", "notifications"}
OUR_MODELS = [m for m in admin.site._registry if m._meta.app_label in OUR_APPS]


def test_every_model_of_ours_is_in_the_admin():
    from django.apps import apps

    ours = {m for m in apps.get_models() if m._meta.app_label in OUR_APPS}
    assert ours == set(OUR_MODELS)


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_merchant_owned_models_filter_by_merchant(model):
    field_names = {f.name for f in model._meta.get_fields()}
    if "merchant" in field_names:
        assert "merchant" in admin.site._registry[model].list_filter


@pytest.mark.parametrize("model", OUR_MODELS, ids=lambda m: m._meta.label)
def test_staff_can_open_every_changelist_and_change_page(model, admin_client):
    factory = FACTORY_FOR_MODEL[model]
    obj = factory(merchant=MerchantFactory()) if model._meta.model_name != "merchant" else factory()
    info = (model._meta.app_label, model._meta.model_name)
    assert admin_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    assert admin_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk])).status_code == 200


def test_the_admin_names_every_model_in_portuguese(admin_client):
    html = admin_client.get(reverse("admin:index")).content.decode()

    for name in ["Numerações de faturas", "Tentativas de acesso", "Tarefas na fila", "Tarefas agendadas"]:
        assert name in html
    for english in ["Invoice sequences", "Access attempts", "Queued tasks", "Scheduled tasks"]:
        assert english not in html


def test_the_currency_list_is_in_the_users_language(owner_client, client):
    from django.conf import settings
    from django.utils import translation

    from core.money import CURRENCY_CHOICES

    with translation.override("pt-br"):
        assert dict(CURRENCY_CHOICES)["USD"] == "USD — Dólar americano"
    with translation.override("en"):
        assert dict(CURRENCY_CHOICES)["USD"] == "USD — US Dollar"
    html = owner_client.get(reverse("plans:plan_create")).content.decode()
    assert "USD — Dólar americano" in html and "US Dollar" not in html
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "USD — US Dollar" in owner_client.get(reverse("plans:plan_create")).content.decode()
