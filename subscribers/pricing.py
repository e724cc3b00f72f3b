"""The amount a subscription charges per period: plan price × quantity, less its discount."""

from decimal import Decimal

from core.money import round_minor
from subscribers.choices import DiscountType


def subscription_amount(
    *, price: int, quantity: int, discount_type: str = "", discount_percent=None, discount_amount=None
) -> int:
    """Minor units per period, never below zero; percent discounts round once, half up."""
    gross = price * quantity
    if discount_type == DiscountType.PERCENT and discount_percent:
        return gross - round_minor(Decimal(gross) * Decimal(discount_percent) / 100)
    if discount_type == DiscountType.FIXED and discount_amount:
        return max(gross - discount_amount, 0)
    return gross
