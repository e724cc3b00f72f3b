from django import template
from django.utils.html import strip_tags

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


# The table template asks each cell for its column's <td> attributes and header (the phone layout labels
# every value with it): django-tables2 rebuilds both on every call — the attributes dict, the lazy header's
# translation — 300 times for a page of 25 rows and 12 columns. They are the column's, so each bound column
# (one per rendered table) keeps them after the first cell.
@register.filter
def cell_attrs(bound_column):
    """{{ column|cell_attrs }}: the column's <td> attributes (as `column.attrs.td.as_html`)."""
    cached = getattr(bound_column, "_cell_attrs_html", None)
    if cached is not None:
        return cached
    html = bound_column.attrs["td"].as_html()
    if not _attrs_depend_on_the_row(bound_column):
        bound_column._cell_attrs_html = html
    return html


def _attrs_depend_on_the_row(bound_column) -> bool:
    """Whether a <td> attribute is computed (a callable may read the row's record)."""
    for attrs in (bound_column._table.attrs, bound_column.column.attrs):
        for key in ("td", "cell"):
            if any(callable(value) for value in (attrs.get(key) or {}).values()):
                return True
    return False


@register.filter
def cell_label(bound_column):
    """{{ column|cell_label }}: the column's header as plain text (as `column.header|striptags`)."""
    cached = getattr(bound_column, "_cell_label", None)
    if cached is None:
        cached = bound_column._cell_label = strip_tags(str(bound_column.header))
    return cached
