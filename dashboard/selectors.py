from plans.models import Plan
from subscribers.choices import SubscriptionStatus
from subscribers.models import Customer, Subscription


def merchant_summary(*, merchant):
    """Counts for the dashboard's first cards."""
    plans = Plan.objects.filter(merchant=merchant)
    return {
        "plans_active": plans.filter(is_active=True, archived_at__isnull=True).count(),
        "customers": Customer.objects.filter(merchant=merchant).count(),
        "subscriptions_active": Subscription.objects.filter(
            merchant=merchant, status=SubscriptionStatus.ACTIVE
        ).count(),
    }
