from django import template

from notifications.emails import selectors
from notifications.emails.choices import CustomerEmailKind
from notifications.emails.services.email_triggers import emails_for_events
from notifications.emails.tables import email_status_badge

register = template.Library()


@register.inclusion_tag("notifications/partials/subscription_emails.html", takes_context=True)
def subscription_emails(context, subscription):
    """The subscription page's "E-mails ao cliente": the latest e-mails sent about it, in one query."""
    sendings = selectors.subscription_email_sendings(subscription.pk, merchant_id=subscription.merchant_id)
    return {
        "subscription": subscription,
        "sendings": [(sending, email_status_badge(sending)) for sending in sendings],
        "can": context.get("can"),
    }


@register.simple_tag
def customer_emails_for(event_types, subscription):
    """{% customer_emails_for step.events subscription as emails %} → [(label, enabled)] of the customer
    e-mails those outbox events send (billing's "Simular inadimplência" lists them per step)."""
    found = emails_for_events(
        event_types, merchant=subscription.merchant, payment_method=subscription.payment_method
    )
    return [(CustomerEmailKind(kind).label, enabled) for kind, enabled in found]
