"""Re-encrypts every stored credential with the first key of CREDENTIALS_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand
from django.db import transaction

from billing.models import ProviderConnection
from notifications import crypto
from notifications.models import Automation, ProviderIntegration, WebhookEndpoint


class Command(BaseCommand):
    help = (
        "Re-encrypts provider tokens, webhook/automation signing secrets and payment provider keys with the "
        "first key of CREDENTIALS_ENCRYPTION_KEYS, so the keys after it can be removed."
    )

    def handle(self, *args, **options):
        counts = {"tokens": 0, "endpoints": 0, "automations": 0, "connections": 0}
        with transaction.atomic():
            for integration in ProviderIntegration.objects.select_for_update().exclude(token_encrypted=""):
                integration.token_encrypted = crypto.rotate(integration.token_encrypted)
                integration.save(update_fields=["token_encrypted"])
                counts["tokens"] += 1
            # The secret fields decrypt on read (with any key) and encrypt on save (with the first one).
            for endpoint in WebhookEndpoint.objects.select_for_update():
                endpoint.save(update_fields=["secret", "previous_secret"])
                counts["endpoints"] += 1
            for automation in Automation.objects.select_for_update().exclude(signing_secret=""):
                automation.save(update_fields=["signing_secret"])
                counts["automations"] += 1
            for connection in ProviderConnection.objects.select_for_update():
                connection.save(update_fields=["api_key", "webhook_secret"])
                counts["connections"] += 1
        self.stdout.write(
            "Re-encrypted {tokens} provider token(s), {endpoints} webhook endpoint(s), "
            "{automations} automation(s) and {connections} payment provider connection(s) "
            "with the first key.".format(**counts)
        )
