"""Model fields of the notifications app."""

from django.db import models

from notifications import crypto


class EncryptedSecretField(models.TextField):
    """A secret kept encrypted in its column (Fernet, the keys of CREDENTIALS_ENCRYPTION_KEYS, like the
    provider tokens) and in clear on the model instance.

    Webhook signing secrets must be readable (they sign every delivery), so they cannot be hashed; a copy
    of the database or a backup alone no longer lets anyone forge a signature. Code keeps reading and
    writing `endpoint.secret` as before; only the column changes. "" stays "" (no secret)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)
