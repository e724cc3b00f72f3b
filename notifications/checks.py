"""System checks for the credentials the notifications app keeps encrypted."""

from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register


@register(Tags.security)
def credentials_keys_are_fernet_keys(app_configs=None, **kwargs):
    """A mistyped key would only fail at the first encryption (a 500 when saving an endpoint)."""
    errors = []
    for index, key in enumerate(k.strip() for k in settings.CREDENTIALS_ENCRYPTION_KEYS.split(",")):
        if not key:
            continue
        try:
            Fernet(key.encode())
        except ValueError:
            errors.append(
                Error(
                    f"CREDENTIALS_ENCRYPTION_KEYS: key #{index + 1} is not a Fernet key.",
                    hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                    "print(Fernet.generate_key().decode())'",
                    id="notifications.E001",
                )
            )
    return errors


@register(Tags.security, deploy=True)
def credentials_keys_are_set_in_production(app_configs=None, **kwargs):
    """Without keys, tokens and signing secrets are encrypted with a key derived from SECRET_KEY: changing
    the secret key would make them all unreadable, and one leaked value opens both."""
    if settings.CREDENTIALS_ENCRYPTION_KEYS.strip():
        return []
    return [
        Error(
            "CREDENTIALS_ENCRYPTION_KEYS is empty: provider tokens and webhook signing secrets would be "
            "encrypted with a key derived from SECRET_KEY.",
            hint="Set CREDENTIALS_ENCRYPTION_KEYS to one or more Fernet keys (see README, Configuration).",
            id="notifications.E002",
        )
    ]
