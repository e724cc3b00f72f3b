"""Re-encrypts every stored credential with the first key of CREDENTIALS_ENCRYPTION_KEYS (key rotation).

Rotation: put the new key first (`CREDENTIALS_ENCRYPTION_KEYS=new,old`), restart web and workers, run this
command, then remove the old key. `--include-derived-key` also accepts values encrypted with the key the
development setup derives from SECRET_KEY, for installs that ran without CREDENTIALS_ENCRYPTION_KEYS.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from notifications.automations import crypto
from notifications.automations.models import ProviderIntegration

# Every encrypted column: (model, field). A new encrypted field is added here so rotation covers it.
ENCRYPTED_FIELDS = [
    (ProviderIntegration, "token_encrypted"),
]


class Command(BaseCommand):
    help = "Re-encrypts stored credentials with the first key of CREDENTIALS_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--include-derived-key",
            action="store_true",
            help="Also decrypt values encrypted with the key derived from SECRET_KEY.",
        )

    def handle(self, *args, include_derived_key, **options):
        keys = crypto._keys()
        if include_derived_key:
            keys = keys + crypto.derived_keys()
        fernet = MultiFernet([Fernet(key) for key in keys])
        total = 0
        unreadable = []
        with transaction.atomic():
            for model, field in ENCRYPTED_FIELDS:
                rows = model.objects.exclude(**{field: ""}).select_for_update().only("pk", field)
                for row in rows.iterator(chunk_size=500):
                    try:
                        rotated = fernet.rotate(getattr(row, field).encode()).decode()
                    except InvalidToken:
                        unreadable.append(f"{model._meta.label} {row.pk}")
                        continue
                    model.objects.filter(pk=row.pk).update(**{field: rotated})
                    total += 1
            if unreadable:
                raise CommandError(
                    "No configured key decrypts: " + ", ".join(unreadable) + ". Nothing was changed."
                )
        self.stdout.write(f"Re-encrypted {total} credential(s) with the first key.")
