"""The models of the notifications app, gathered from its features so Django finds them here.

Each feature keeps its models in its own package (webhooks/, emails/, automations/); they all belong to
this one app (`notifications`), its tables and its migrations.
"""

from notifications.automations.models import Automation, AutomationRun, ProviderIntegration
from notifications.emails.models import (
    RENEWAL_REMINDER_DAYS_DEFAULT,
    CustomerEmailSettings,
    CustomerEmailTemplate,
    EmailSending,
)
from notifications.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint

__all__ = [
    "RENEWAL_REMINDER_DAYS_DEFAULT",
    "Automation",
    "AutomationRun",
    "CustomerEmailSettings",
    "CustomerEmailTemplate",
    "EmailSending",
    "ProviderIntegration",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEndpoint",
]
