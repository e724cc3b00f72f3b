from django import template

from core.badges import choices_named, render_badge
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


@register.simple_tag
def badge(value, choices, title="", element_id="", data_status=False):
    """{% badge invoice.status "billing.choices.InvoiceStatus" %} → the status badge in the choice's colour
    (core.badges): the same markup the tables' ChoiceFieldColumn draws."""
    return render_badge(
        choices_named(choices), value, title=title, element_id=element_id, data_status=data_status
    )
