"""Standard Webhooks signatures (https://www.standardwebhooks.com): secrets, headers, signing.

The secret is `whsec_` + base64 of 24 random bytes; the signature is
`v1,` + base64(HMAC-SHA256(key = the decoded secret, message = "<webhook-id>.<webhook-timestamp>.<body>")).
During a rotation's grace period the header carries one `v1,…` entry per secret, space-separated.
"""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24


def generate_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(*, secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one attempt: the same id on every retry, this attempt's time, its signature(s)."""
    return {
        "content-type": "application/json",
        "user-agent": "Recorrente-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret, msg_id=msg_id, timestamp=timestamp, body=body) for secret in secrets
        ),
    }
