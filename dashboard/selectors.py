from plans.models import Plan
from subscribers.models import Customer


def merchant_summary(*, merchant):
    """Counts for the dashboard's first cards."""
    plans = Plan.objects.filter(merchant=merchant)
    return {
        "plans_active": plans.filter(is_active=True, archived_at__isnull=True).count(),
        "customers": Customer.objects.filter(merchant=merchant).count(),
    }
