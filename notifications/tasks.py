"""django-q2 tasks of the notifications app: they call services."""

from notifications.automations import runner
from notifications.services import dispatch

# Installed by `manage.py setup_schedules` (idempotent): name → (function path, minutes between runs).
SCHEDULES = {
    "notifications: deliver webhooks from the outbox": ("notifications.tasks.deliver_webhooks", 1),
    "notifications: run automations from the outbox": ("notifications.tasks.run_automations", 1),
}


def deliver_webhooks():
    """Fans the outbox out to the endpoints and sends due deliveries (scheduled, and on demand)."""
    return dispatch.webhooks_run()


def run_automations():
    """Fans the outbox out to the automation rules and runs due actions, retrying failures."""
    return runner.automations_run()
