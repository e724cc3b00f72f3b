"""Notifications in Django admin, for platform staff: the outbox, the webhook machinery and the customer
e-mails log, read-only; the merchant's e-mail templates and settings are editable (staff act for merchants).

Endpoints change through the merchant's screens (which validate the URL against the SSRF rule and show
the secret once); signing secrets are never shown here.
"""

from notifications.automations import admin as automations_admin
from notifications.emails import admin as emails_admin
from notifications.outbox import admin as outbox_admin
from notifications.webhooks import admin as webhooks_admin

# Each feature registers its own models; importing them here is what Django's admin autodiscovery sees.
__all__ = ["automations_admin", "emails_admin", "outbox_admin", "webhooks_admin"]
