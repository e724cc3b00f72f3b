"""Model fields shared by the apps."""

from django.db import models

from core import crypto


class EncryptedSecretField(models.TextField):
    """A secret kept encrypted in its column (Fernet, the keys of CREDENTIALS_ENCRYPTION_KEYS, core/crypto.py)
    and in clear on the model instance.

    Used for secrets that must be readable again (webhook signing secrets sign every delivery, a payment
    provider's API key authenticates every call), so they cannot be hashed; a copy of the database or a
    backup alone does not reveal them. Code reads and writes the attribute as plain text; only the column
    changes. "" stays "" (no secret)."""

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if not value:
            return value
        return crypto.encrypt(value)
