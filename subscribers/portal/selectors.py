"""Reads for Minha assinatura: always within one customer of one merchant."""

from django.db.models import QuerySet

from core.money import format_money
from plans.models import Plan
from subscribers.models import Subscription


def customer_subscriptions(customer) -> QuerySet[Subscription]:
    """The customer's subscriptions, running ones first, with what the portal shows."""
    return (
        Subscription.objects.filter(merchant_id=customer.merchant_id, customer=customer)
        .select_related("plan", "pending_plan", "merchant")
        .order_by("ended_at", "-created_at", "-pk")
    )


def customer_subscription(customer, pk) -> Subscription | None:
    return customer_subscriptions(customer).filter(pk=pk).first()


def plans_offered(subscription: Subscription) -> QuerySet[Plan]:
    """Plans the customer may switch to: the merchant's plans open to new subscriptions, in the
    subscription's currency (the current one included, so the form can show where they are)."""
    return Plan.objects.filter(
        merchant_id=subscription.merchant_id,
        is_active=True,
        archived_at__isnull=True,
        currency=subscription.currency,
    ).order_by("price", "name")


def plan_label(plan: Plan) -> str:
    return f"{plan.name} — {format_money(plan.price, plan.currency)} / {plan.interval_label}"
