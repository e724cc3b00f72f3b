from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(minor, currency="BRL"):
    """{{ plan.price|money:plan.currency }} → "R$ 1.234,56" in the active language."""
    return format_money(minor, currency or "BRL")


@register.filter
def discount_money(minor, currency="BRL"):
    """A discount as an invoice reads it: "−R$ 10,00" taken off; on a proration credit (a negative
    discount: the credit is smaller by what the period's discount saved) "+R$ 10,00"; "—" for none."""
    if not minor:
        return "—"
    sign = "−" if minor > 0 else "+"
    return sign + format_money(abs(minor), currency or "BRL")
