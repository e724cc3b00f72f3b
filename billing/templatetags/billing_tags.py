from django import template

from billing import selectors
from billing.tables import period_display

register = template.Library()


@register.simple_tag
def billing_period(start, end):
    """{% billing_period line.period_start line.period_end %} → "01/02/2026 – 01/03/2026"."""
    return period_display(start, end)


@register.inclusion_tag("billing/partials/subscription_transactions.html")
def subscription_transactions(subscription):
    """The subscription page's "Transações": its latest invoices and their payments, in two queries."""
    return {"subscription": subscription, **selectors.subscription_transactions(subscription)}
