"""Model fields shared by the apps."""

import functools

from django.db import models
from django.utils.encoding import force_str
from django.utils.translation import get_language

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


class ChoiceLabelsMixin:
    """`get_<field>_display()` from a per-language table of the field's labels.

    Django's own builds a dict of every choice on each call, hashing each lazy label, which translates it
    (a gettext walk through every app's catalogue): six calls per Assinantes row — status, payment method,
    the row actions' refusal messages — were ~40 % of a page's Python time. The answer is the same: the
    label in the active language, or the stored value when it is not a choice. Put it before
    models.Model in the bases (Django binds `get_<field>_display` to the model's `_get_FIELD_display`)."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        try:
            return _choice_labels(field, get_language())[value]
        except (KeyError, TypeError):  # not a choice (or unhashable): what Django returns
            return force_str(value, strings_only=True)


@functools.cache
def _choice_labels(field, language) -> dict:
    # Keyed by the language: the lazy labels are translated once per language and field.
    return {value: force_str(label, strings_only=True) for value, label in field.flatchoices}
