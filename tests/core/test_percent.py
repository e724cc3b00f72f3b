"""The percent ranges live once (core.percent): model fields, form fields and the services' checks all
read DISCOUNT_PERCENT (0,01–100, two decimals) or TAX_PERCENT (0–100, four decimals)."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.forms import PercentField
from core.percent import DISCOUNT_PERCENT, TAX_PERCENT
from plans.models import Coupon, TaxRate
from subscribers.models import Subscription
from subscribers.services._common import _check_discount

DISCOUNT_MESSAGE = "O percentual deve estar entre 0,01 e 100."
TAX_MESSAGE = "A alíquota deve estar entre 0 e 100."


@pytest.mark.parametrize(
    ("percent_range", "value", "inside"),
    [
        (DISCOUNT_PERCENT, "0", False),
        (DISCOUNT_PERCENT, "0.01", True),
        (DISCOUNT_PERCENT, "100", True),
        (DISCOUNT_PERCENT, "100.01", False),
        (TAX_PERCENT, "-0.0001", False),
        (TAX_PERCENT, "0", True),
        (TAX_PERCENT, "100", True),
        (TAX_PERCENT, "100.0001", False),
    ],
)
def test_the_range_holds_its_bounds(percent_range, value, inside):
    assert (Decimal(value) in percent_range) is inside


@pytest.mark.parametrize(
    ("field", "percent_range"),
    [
        (Coupon._meta.get_field("percent_off"), DISCOUNT_PERCENT),
        (Subscription._meta.get_field("discount_percent"), DISCOUNT_PERCENT),
        (TaxRate._meta.get_field("percentage"), TAX_PERCENT),
    ],
)
def test_model_fields_take_their_digits_and_bounds_from_the_range(field, percent_range):
    assert (field.max_digits, field.decimal_places) == (
        percent_range.max_digits,
        percent_range.decimal_places,
    )
    assert all(validator in field.validators for validator in percent_range.validators())
    with pytest.raises(ValidationError):
        field.run_validators(percent_range.maximum + 1)


@pytest.mark.parametrize(
    ("percent_range", "typed", "message"),
    [
        (DISCOUNT_PERCENT, "0", DISCOUNT_MESSAGE),
        (DISCOUNT_PERCENT, "101", DISCOUNT_MESSAGE),
        (TAX_PERCENT, "101", TAX_MESSAGE),
    ],
)
def test_a_percent_form_field_refuses_outside_the_range_with_its_message(percent_range, typed, message):
    field = PercentField(percent_range=percent_range, error_messages={"invalid": "x"})

    with pytest.raises(ValidationError) as excinfo:
        field.clean(typed)

    assert excinfo.value.messages == [message]
    assert field.error_messages["invalid"] == "x"


def test_a_form_field_accepts_the_range_bounds():
    field = PercentField(percent_range=DISCOUNT_PERCENT)

    assert field.clean("0,01") == Decimal("0.01")
    assert field.clean("100%") == Decimal("100")


@pytest.mark.parametrize("percent", ["0", "0.001", "100.5"])
def test_the_subscription_service_refuses_outside_the_same_range(percent):
    with pytest.raises(ValidationError) as excinfo:
        _check_discount(
            discount_type="percent", discount_percent=Decimal(percent), discount_amount=None, gross=1000
        )

    assert excinfo.value.message_dict == {"discount_percent": [DISCOUNT_MESSAGE]}


@pytest.mark.parametrize("percent", ["0.01", "100"])
def test_the_subscription_service_accepts_the_range_bounds(percent):
    _check_discount(
        discount_type="percent", discount_percent=Decimal(percent), discount_amount=None, gross=1000
    )
