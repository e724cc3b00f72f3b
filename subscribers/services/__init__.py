"""Every write in the subscribers app (customers and subscriptions) goes through these functions."""

from subscribers.services.customers import customer_create, customer_update
from subscribers.services.subscriptions import (
    cancellation_preview,
    subscription_apply_billing,
    subscription_cancel,
    subscription_create,
    subscription_delete,
    subscription_process_due,
    subscription_readd,
    subscription_remove,
    subscription_update,
)

__all__ = [
    "cancellation_preview",
    "customer_create",
    "customer_update",
    "subscription_apply_billing",
    "subscription_cancel",
    "subscription_create",
    "subscription_delete",
    "subscription_process_due",
    "subscription_readd",
    "subscription_remove",
    "subscription_update",
]
