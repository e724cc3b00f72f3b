"""The percent ranges, written once: what a discount and a tax rate may be, for the model fields, the
form fields and the services' own checks alike.

A discount (coupon or subscription) is 0,01–100 % with two decimals: a 0 % discount is no discount and is
chosen as "Sem desconto" instead. A tax rate is 0–100 % with four decimals (PIS is 0,65 %; a 0 % rate is
a real, exempt rate).
"""

from dataclasses import dataclass
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

PERCENT_MAX = Decimal("100")


@dataclass(frozen=True)
class PercentRange:
    minimum: Decimal
    maximum: Decimal
    max_digits: int
    decimal_places: int
    message: str  # lazy: the one error text for a value outside the range, in every layer

    def __contains__(self, value) -> bool:
        return self.minimum <= Decimal(value) <= self.maximum

    def validators(self) -> list:
        """The model field's validators (equal from call to call, so migrations never see a change)."""
        return [MinValueValidator(self.minimum), MaxValueValidator(self.maximum)]

    def model_field_kwargs(self) -> dict:
        return {
            "max_digits": self.max_digits,
            "decimal_places": self.decimal_places,
            "validators": self.validators(),
        }

    def form_field_kwargs(self) -> dict:
        """Bounds, digits and the range's message for a form DecimalField (core.forms.PercentField)."""
        return {
            "min_value": self.minimum,
            "max_value": self.maximum,
            "max_digits": self.max_digits,
            "decimal_places": self.decimal_places,
            "error_messages": {
                key: self.message for key in ("min_value", "max_value", "max_digits", "max_whole_digits")
            },
        }


DISCOUNT_PERCENT = PercentRange(
    minimum=Decimal("0.01"),
    maximum=PERCENT_MAX,
    max_digits=5,
    decimal_places=2,
    message=_("O percentual deve estar entre 0,01 e 100."),
)
TAX_PERCENT = PercentRange(
    minimum=Decimal("0"),
    maximum=PERCENT_MAX,
    max_digits=7,
    decimal_places=4,
    message=_("A alíquota deve estar entre 0 e 100."),
)
