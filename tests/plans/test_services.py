import pytest
from django.core.exceptions import ValidationError

from plans import services
from plans.choices import IntervalUnit, PlanStatus
from plans.models import Plan
from tests.factories import PlanFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def plan_kwargs(**overrides):
    return {
        "name": "Plano Ouro",
        "description": "",
        "price": 4990,
        "currency": "BRL",
        "interval_unit": IntervalUnit.MONTH,
        "interval_count": 1,
        "trial_days": 0,
        "installments": None,
        "is_active": True,
        **overrides,
    }


def test_create_saves_the_plan_in_the_merchant(merchant, owner):
    plan = services.plan_create(merchant=merchant, **plan_kwargs(installments=6, trial_days=7))

    plan.refresh_from_db()
    assert plan.merchant == merchant
    assert (plan.name, plan.price, plan.installments, plan.trial_days) == ("Plano Ouro", 4990, 6, 7)
    assert plan.status == PlanStatus.ACTIVE


def test_create_prices_in_the_merchants_currency_when_none_is_given(merchant, owner):
    kwargs = plan_kwargs()
    del kwargs["currency"]

    plan = services.plan_create(merchant=merchant, **kwargs)

    assert plan.currency == merchant.currency


def test_create_refuses_a_brl_price_below_the_minimum(merchant, owner):
    with pytest.raises(ValidationError) as excinfo:
        services.plan_create(merchant=merchant, **plan_kwargs(price=499))

    assert excinfo.value.error_dict["price"][0].code == "price_below_minimum"
    assert not Plan.objects.exists()


def test_create_accepts_the_minimum_price_exactly(merchant, owner):
    plan = services.plan_create(merchant=merchant, **plan_kwargs(price=500))
    assert plan.pk is not None


def test_create_accepts_a_low_price_in_a_currency_without_minimum(merchant, owner):
    plan = services.plan_create(merchant=merchant, **plan_kwargs(price=100, currency="USD"))
    assert plan.price_display.startswith("US$")


@pytest.mark.parametrize(
    ("field", "value"),
    [("trial_days", 366), ("installments", 0), ("interval_count", 0), ("price", -100), ("name", "")],
)
def test_create_refuses_out_of_range_values(merchant, owner, field, value):
    with pytest.raises(ValidationError) as excinfo:
        services.plan_create(merchant=merchant, **plan_kwargs(**{field: value}))

    assert field in excinfo.value.error_dict
    assert not Plan.objects.exists()


def test_update_changes_the_editable_fields(merchant, owner):
    plan = PlanFactory(merchant=merchant, name="Antigo", price=4990)

    services.plan_update(
        plan=plan,
        **plan_kwargs(
            name="Novo", price=9990, interval_unit=IntervalUnit.YEAR, installments=12, is_active=False
        ),
    )

    plan.refresh_from_db()
    assert (plan.name, plan.price, plan.interval_unit, plan.installments) == ("Novo", 9990, "year", 12)
    assert plan.status == PlanStatus.INACTIVE


def test_update_refuses_a_price_below_the_minimum_and_keeps_the_old_one(merchant, owner):
    plan = PlanFactory(merchant=merchant, price=4990)

    with pytest.raises(ValidationError):
        services.plan_update(plan=plan, **plan_kwargs(price=100))

    plan.refresh_from_db()
    assert plan.price == 4990


def test_update_is_refused_for_an_archived_plan(merchant, owner):
    plan = PlanFactory(merchant=merchant, name="Arquivado")
    services.plan_archive(plan=plan)

    with pytest.raises(ValidationError) as excinfo:
        services.plan_update(plan=plan, **plan_kwargs(name="Outro"))

    assert excinfo.value.code == "plan_archived"
    plan.refresh_from_db()
    assert plan.name == "Arquivado"


def test_archive_stamps_the_time_and_deactivates(merchant, owner):
    plan = PlanFactory(merchant=merchant, is_active=True)

    services.plan_archive(plan=plan)

    plan.refresh_from_db()
    assert plan.archived_at is not None
    assert plan.is_active is False
    assert plan.status == PlanStatus.ARCHIVED


def test_archive_is_refused_for_an_archived_plan(merchant, owner):
    plan = PlanFactory(merchant=merchant)
    services.plan_archive(plan=plan)
    archived_at = plan.archived_at

    with pytest.raises(ValidationError) as excinfo:
        services.plan_archive(plan=plan)

    assert excinfo.value.code == "plan_already_archived"
    plan.refresh_from_db()
    assert plan.archived_at == archived_at


def test_unarchive_brings_the_plan_back_inactive(merchant, owner):
    plan = PlanFactory(merchant=merchant)
    services.plan_archive(plan=plan)

    services.plan_unarchive(plan=plan)

    plan.refresh_from_db()
    assert plan.archived_at is None
    assert plan.status == PlanStatus.INACTIVE


def test_unarchive_is_refused_for_a_plan_that_is_not_archived(merchant, owner):
    plan = PlanFactory(merchant=merchant)

    with pytest.raises(ValidationError) as excinfo:
        services.plan_unarchive(plan=plan)

    assert excinfo.value.code == "plan_not_archived"


def test_delete_removes_the_plan(merchant, owner):
    plan = PlanFactory(merchant=merchant)

    services.plan_delete(plan=plan)

    assert not Plan.objects.exists()


def test_delete_is_refused_when_subscriptions_protect_the_plan(merchant, owner):
    plan = PlanFactory(merchant=merchant)
    SubscriptionFactory(merchant=merchant, plan=plan)

    with pytest.raises(ValidationError) as excinfo:
        services.plan_delete(plan=plan)

    assert excinfo.value.code == "plan_has_subscriptions"
    assert "Arquive-o" in excinfo.value.messages[0]
    assert Plan.objects.filter(pk=plan.pk).exists()
