"""Every write of the notifications app: endpoints (endpoints.py), deliveries a merchant asks for
(deliveries.py) and the delivery machinery driven from the outbox (dispatch.py)."""

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
    "webhook_deliveries_resend",
    "webhook_delivery_resend",
    "webhook_endpoint_create",
    "webhook_endpoint_delete",
    "webhook_endpoint_rotate_secret",
    "webhook_endpoint_update",
    "webhook_send_test",
    "webhooks_run",
]
