"""Every write of the notifications app: endpoints (endpoints.py), deliveries a merchant asks for
(deliveries.py), the delivery machinery driven from the outbox (dispatch.py), and customer e-mails:
rendering and sending (customer_emails.py), what triggers them (email_triggers.py), the merchant's
templates and settings (email_templates.py)."""

from notifications.services.customer_emails import render_customer_email, send_customer_email
from notifications.services.deliveries import (
    webhook_deliveries_resend,
    webhook_delivery_resend,
    webhook_send_test,
)
from notifications.services.dispatch import webhooks_run
from notifications.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

__all__ = [
    "render_customer_email",
    "send_customer_email",
    "webhook_deliveries_resend",
    "webhook_delivery_resend",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_send_test",
    "webhooks_run",
]
