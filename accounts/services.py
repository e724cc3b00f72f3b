"""Writes for merchants and memberships."""

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from accounts.choices import Role
from accounts.models import Membership, Merchant


@transaction.atomic
def merchant_update(
    *,
    merchant: Merchant,
    name: str,
    timezone: str,
    currency: str,
    portal_cancel_at_period_end: bool | None = None,
    portal_retention_offer: str | None = None,
) -> Merchant:
    """Changes the merchant's profile and the customer portal's policy (the settings screen); the portal
    fields left as None stay as they are."""
    merchant.name = name
    merchant.timezone = timezone
    merchant.currency = currency
    fields = ["name", "timezone", "currency"]
    if portal_cancel_at_period_end is not None:
        merchant.portal_cancel_at_period_end = portal_cancel_at_period_end
        fields.append("portal_cancel_at_period_end")
    if portal_retention_offer is not None:
        merchant.portal_retention_offer = portal_retention_offer.strip()
        fields.append("portal_retention_offer")
    merchant.full_clean()
    merchant.save(update_fields=fields)
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


@transaction.atomic
def merchant_create_with_owner(
    *, name: str, owner_username: str, owner_email: str, owner_password: str, slug: str = ""
) -> Membership:
    """A new merchant and its first owner (a new user, never platform staff): how a production install
    starts (`manage.py create_merchant`). The password must pass the configured validators."""
    User = get_user_model()
    slug = slug or slugify(name)
    if not slug:
        raise ValidationError({"slug": "Informe um identificador (slug) para o lojista."})
    if Merchant.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"Já existe um lojista com o identificador {slug}."})
    if User.objects.filter(username=owner_username).exists():
        raise ValidationError({"owner_username": f"Já existe um usuário {owner_username}."})
    merchant = Merchant(name=name, slug=slug)
    merchant.full_clean()
    merchant.save()
    user = User(username=owner_username, email=owner_email)
    validate_password(owner_password, user)
    user.set_password(owner_password)
    user.full_clean()
    user.save()
    return membership_grant(merchant=merchant, user=user, role=Role.OWNER)
