"""Writes for merchants and memberships."""

from django.db import transaction

from accounts.models import Membership, Merchant


@transaction.atomic
def merchant_update(*, merchant: Merchant, name: str, timezone: str, currency: str) -> Merchant:
    """Changes the merchant's profile (the settings screen)."""
    merchant.name = name
    merchant.timezone = timezone
    merchant.currency = currency
    merchant.full_clean()
    merchant.save(update_fields=["name", "timezone", "currency"])
    return merchant


@transaction.atomic
def membership_grant(*, merchant: Merchant, user, role: str) -> Membership:
    """Gives `user` a role in `merchant` (or changes it); idempotent, used by the demo loader too."""
    membership, created = Membership.objects.get_or_create(
        user=user, merchant=merchant, defaults={"role": role}
    )
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    return membership
