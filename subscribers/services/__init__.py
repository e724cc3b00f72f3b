"""Every write in the subscribers app (customers and subscriptions) goes through these functions."""

from subscribers.services._common import _payload as subscription_payload
from subscribers.services._common import refusal_message
from subscribers.services.billing import subscription_apply_billing, subscription_note_billing
from subscribers.services.changes import (
    kept_discount,
    kept_terms,
    subscription_change_card,
    subscription_change_payment_method,
    subscription_update,
)
from subscribers.services.contract import first_invoices, subscription_contract_preview, subscription_create
from subscribers.services.customers import (
    CUSTOMER_EDITABLE_FIELDS,
    customer_create,
    customer_details,
    customer_find_or_create,
    customer_update,
)
from subscribers.services.deletion import deletion_summary, subscription_delete
from subscribers.services.due import subscription_process_due
from subscribers.services.ending import (
    cancellation_preview,
    subscription_cancel,
    subscription_cancel_revert,
    subscription_readd,
    subscription_remove,
)
from subscribers.services.pause import (
    pause_start,
    subscription_pause,
    subscription_pause_cancel,
    subscription_resume,
)
from subscribers.services.rules import action_refusal

__all__ = [
    "action_refusal",
    "first_invoices",
    "subscription_contract_preview",
    "cancellation_preview",
    "CUSTOMER_EDITABLE_FIELDS",
    "customer_create",
    "customer_details",
    "customer_find_or_create",
    "customer_update",
    "deletion_summary",
    "refusal_message",
    "subscription_apply_billing",
    "subscription_cancel",
    "subscription_cancel_revert",
    "kept_discount",
    "kept_terms",
    "subscription_change_card",
    "subscription_change_payment_method",
    "subscription_create",
    "subscription_delete",
    "subscription_note_billing",
    "pause_start",
    "subscription_pause",
    "subscription_pause_cancel",
    "subscription_resume",
    "subscription_payload",
    "subscription_process_due",
    "subscription_readd",
    "subscription_remove",
    "subscription_update",
]
