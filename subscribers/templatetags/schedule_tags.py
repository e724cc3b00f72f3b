"""The Programação card on the subscription page, as one tag so the page includes it in one line."""

from django import template

from subscribers import selectors

register = template.Library()


@register.inclusion_tag("subscribers/partials/subscription_schedule_card.html", takes_context=True)
def subscription_schedule(context, subscription):
    """{% subscription_schedule subscription %}: the schedule's timeline and its actions (for roles that
    manage subscriptions), or "Programar fases" when the subscription has none."""
    return {
        "subscription": subscription,
        "can": context.get("can", {}),
        "allowed": getattr(subscription, "allowed", {}),
        **selectors.schedule_card(subscription),
    }
