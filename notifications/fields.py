"""Model fields of the notifications app."""

from core.fields import EncryptedSecretField as _EncryptedSecretField


class EncryptedSecretField(_EncryptedSecretField):
    """core.fields.EncryptedSecretField under the path the notifications migrations already name."""
