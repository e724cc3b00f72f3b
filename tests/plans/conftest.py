import pytest

from plans.choices import IntervalPreset

VALID_FORM = {
    "name": "Plano Ouro",
    "description": "Acesso completo à comunidade.",
    "price": "49,90",
    "currency": "BRL",
    "interval_preset": IntervalPreset.MONTHLY,
    "interval_count": "",
    "interval_unit": "",
    "trial_days": "7",
    "installments": "",
    "is_active": "on",
}


@pytest.fixture
def plan_form_data():
    """Returns a function building a valid plan form POST, with overrides: plan_form_data(price="1,00")."""

    def build(**overrides):
        return {**VALID_FORM, **overrides}

    return build


@pytest.fixture
def manager_client(member_client, manager):
    return member_client(manager)


@pytest.fixture
def viewer_client(member_client, viewer):
    return member_client(viewer)
