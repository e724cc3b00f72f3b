"""Every write of webhooks: endpoints (endpoints.py), deliveries a merchant asks for (deliveries.py), the
delivery machinery driven from the outbox (dispatch.py) with its SSRF guard (security.py) and signatures
(signing.py)."""

from notifications.webhooks.services.deliveries import (
    webhook_deliveries_resend,
    webhook_delivery_resend,
    webhook_send_test,
)
from notifications.webhooks.services.dispatch import webhooks_run
from notifications.webhooks.services.endpoints import (
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)

__all__ = [
    "webhook_deliveries_resend",
    "webhook_delivery_resend",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_send_test",
    "webhooks_run",
]
