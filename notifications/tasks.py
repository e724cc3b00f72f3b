"""django-q2 tasks of the notifications app: they call services."""

from notifications.automations import runner
from notifications.emails.services import email_triggers
from notifications.webhooks.services import dispatch

QUEUE = "notifications"

# Installed by `manage.py setup_schedules` (idempotent): name → (function path, minutes between runs).
SCHEDULES = {
    "notifications: deliver webhooks from the outbox": ("notifications.tasks.deliver_webhooks", 1),
    "notifications: run automations from the outbox": ("notifications.tasks.run_automations", 1),
    "notifications: customer e-mails from the outbox": ("notifications.tasks.send_customer_emails", 1),
    "notifications: renewal reminders and trial endings": ("notifications.tasks.send_customer_reminders", 60),
}


def deliver_webhooks():
    """Fans the outbox out to the endpoints and sends due deliveries (scheduled, and on demand)."""
    return dispatch.webhooks_run()


def run_automations():
    """Fans the outbox out to the automation rules and runs due actions, retrying failures."""
    return runner.automations_run()


def send_customer_emails():
    """E-mails the customers about what the outbox says happened (and sends any left queued by a crash)."""
    return email_triggers.process_all_email_events()


def send_customer_reminders():
    """Renewal reminders N days before the next charge; `subscription.trial_will_end` 3 days before."""
    return email_triggers.process_email_reminders()
