"""Provider credentials at rest: Fernet (AES-128-CBC + HMAC-SHA256) from the `cryptography` package.

The keys come from settings.CREDENTIALS_ENCRYPTION_KEYS (comma-separated Fernet keys, the first one
encrypts, all of them decrypt, so a key can be rotated); when none is set, one key is derived from
SECRET_KEY so development works out of the box (`check --deploy` flags a production without keys).
Webhook and automation signing secrets and the payment providers' keys (billing.ProviderConnection) use
the same keys (core/fields.py). To rotate: put a new
key first, keep the old ones after it, run `manage.py rotate_credential_keys`, then drop the old keys.
Decrypted provider tokens are only ever sent to the provider, never rendered back: screens show `mask()`
of the last four characters, kept in clear beside the token.
"""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class CredentialUnreadable(Exception):
    """The stored credential cannot be decrypted with the configured keys (a key was removed)."""


def _keys() -> list[bytes]:
    configured = [key.strip() for key in settings.CREDENTIALS_ENCRYPTION_KEYS.split(",")]
    keys = [key.encode() for key in configured if key]
    derived = hashlib.sha256(b"recorrente.credentials:" + settings.SECRET_KEY.encode()).digest()
    keys.append(base64.urlsafe_b64encode(derived))
    return keys


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise CredentialUnreadable(str(exc) or "invalid token") from exc


def rotate(token: str) -> str:
    """`token` encrypted again with the first key (after a new key was put first in the list)."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise CredentialUnreadable(str(exc) or "invalid token") from exc


def mask(last4: str) -> str:
    return f"••••{last4}" if last4 else ""
