"""Every number a person types in a form is read from ASCII digits only: Python's int() and Decimal()
also read Arabic-Indic, Devanagari, full-width digits and underscores ("١٠" became R$ 10,00)."""

import importlib
from pathlib import Path

import pytest
from django import forms

ROOT = Path(__file__).resolve().parents[1]
APPS = ["core", "accounts", "plans", "subscribers", "billing", "notifications", "dashboard"]


def form_modules() -> list[str]:
    """Every `forms.py` and every module of a `forms/` package in the project's apps, so a new screen's
    form module is walked without being listed here."""
    paths = set()
    for app in APPS:
        paths.update(ROOT.joinpath(app).rglob("forms.py"))
        paths.update(p for p in ROOT.joinpath(app).rglob("forms/*.py") if p.name != "__init__.py")
    return sorted(".".join(path.relative_to(ROOT).with_suffix("").parts) for path in paths)


FORM_MODULES = form_modules()
NOT_ASCII = ["١٠", "۱۰", "१०", "１０", "1_0", "١"]


def number_fields():
    """(form, field name, field) for every integer/decimal field of every form of the project."""
    found = []
    for module_name in FORM_MODULES:
        module = importlib.import_module(module_name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module_name
            ):
                for name, field in value.base_fields.items():
                    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
                        found.append((f"{value.__name__}.{name}", field))
    return found


FIELDS = number_fields()


def test_the_walk_finds_every_forms_module():
    assert {
        "plans.forms",
        "subscribers.forms.contract",
        "subscribers.forms.schedule",
        "billing.forms",
        "notifications.webhooks.forms",
        "notifications.automations.forms",
        "accounts.forms",
        "dashboard.forms",
    } <= set(FORM_MODULES)


def test_the_walk_finds_the_money_and_integer_fields():
    names = {name for name, _field in FIELDS}
    assert {
        "PlanForm.price",
        "PlanForm.trial_days",
        "RefundForm.amount",
        "BillingSettingsForm.retries",
    } <= names


@pytest.mark.parametrize(("name", "field"), FIELDS, ids=[name for name, _field in FIELDS])
def test_only_ascii_digits_are_numbers(name, field):
    for text in NOT_ASCII:
        with pytest.raises(forms.ValidationError) as caught:
            field.clean(text)
        assert "Use apenas os algarismos 0 a 9." in caught.value.messages, (name, text)
    assert field.to_python("10") in (10, 1000)  # money fields clean to centavos
