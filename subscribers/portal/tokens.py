"""Magic links for Minha assinatura: signed, for one customer of one merchant, valid 1 hour, used once.

The token is `django.core.signing` over (merchant, customer, random nonce), so it cannot be forged or moved
to another merchant; `max_age` refuses it after `MAGIC_LINK_MAX_AGE`. Using it inserts its nonce into the
table of used keys (`core.idempotency.once`, scope `portal:magic-link`): a second use — the same link
clicked again, forwarded, or replayed by two tabs at once — finds the row and is refused.
"""

import secrets

from django.core import signing

from core.idempotency import AlreadyDone, once
from core.models import IdempotencyKey
from subscribers.models import Customer

MAGIC_LINK_MAX_AGE = 60 * 60
MAGIC_LINK_SCOPE = "portal:magic-link"
_SALT = "subscribers.portal.magic-link"


class InvalidMagicLink(Exception):
    """Forged, for another merchant, older than an hour, or already used."""


def issue_magic_token(*, customer: Customer) -> str:
    return signing.dumps(
        {"m": customer.merchant_id, "c": customer.pk, "n": secrets.token_urlsafe(18)}, salt=_SALT
    )


def _read(token: str, *, merchant) -> dict:
    try:
        data = signing.loads(token, salt=_SALT, max_age=MAGIC_LINK_MAX_AGE)
    except signing.BadSignature as exc:  # also SignatureExpired
        raise InvalidMagicLink from exc
    if not isinstance(data, dict) or data.get("m") != merchant.pk or not data.get("c") or not data.get("n"):
        raise InvalidMagicLink
    return data


def check_magic_token(token: str, *, merchant) -> None:
    """Raises InvalidMagicLink unless the token is ours, this merchant's, recent and unused — for the page
    that asks the customer to confirm (an e-mail scanner opening the link must not use it up)."""
    data = _read(token, merchant=merchant)
    if IdempotencyKey.objects.filter(merchant=merchant, scope=MAGIC_LINK_SCOPE, key=data["n"]).exists():
        raise InvalidMagicLink


def redeem_magic_token(token: str, *, merchant) -> Customer:
    """The customer the link was sent to, marking the link used; InvalidMagicLink otherwise."""
    data = _read(token, merchant=merchant)
    try:
        with once(merchant=merchant, scope=MAGIC_LINK_SCOPE, key=data["n"]) as use:
            customer = Customer.objects.filter(merchant=merchant, pk=data["c"]).first()
            if customer is None:
                raise InvalidMagicLink
            use.result = customer
    except AlreadyDone as exc:
        raise InvalidMagicLink from exc
    return customer
