from django import template

from core.money import format_money

register = template.Library()


@register.filter
def money(minor, currency="BRL"):
    """{{ plan.price|money:plan.currency }} → "R$ 1.234,56" in the active language."""
    return format_money(minor, currency or "BRL")
