"""django-q2 tasks of the subscribers app: they take ids or nothing, and call services."""

from subscribers import services

# Starting and ending subscriptions is billing work: it runs on the billing cluster (core.queues).
QUEUE = "billing"

# Installed by `manage.py setup_schedules` (idempotent): name → (function path, minutes between runs).
SCHEDULES = {
    "subscriptions: start scheduled, end canceled": ("subscribers.tasks.process_due_subscriptions", 1),
}


def process_due_subscriptions():
    """Starts subscriptions whose contract date arrived and ends those whose cancellation came due."""
    return services.subscription_process_due()
