from django import template

from notifications.emails import selectors
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
