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
