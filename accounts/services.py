"""Writes for merchants, memberships and API keys."""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.choices import ApiKeyMode, ApiKeyRole, Role
from accounts.logos import inspect_logo
from accounts.models import ApiKey, Membership, Merchant


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


def _delete_stored_file(storage, name: str) -> None:
    if name:
        storage.delete(name)


@transaction.atomic
def merchant_logo_set(*, merchant: Merchant, upload) -> Merchant:
    """Stores `upload` as the merchant's logo (checked by accounts.logos.inspect_logo) under a new random
    name and deletes the previous file once the change is committed. The file is written before the
    commit: a rolled-back change leaves an unreferenced file behind, never a reference without a file."""
    extension = inspect_logo(upload)
    locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
    previous = locked.logo.name
    locked.logo.save(f"logo.{extension}", upload, save=False)
    locked.save(update_fields=["logo"])
    transaction.on_commit(lambda: _delete_stored_file(locked.logo.storage, previous))
    merchant.logo = locked.logo
    return merchant


@transaction.atomic
def merchant_logo_remove(*, merchant: Merchant) -> Merchant:
    """No logo any more: the pages show the merchant's name alone; the file is deleted after commit."""
    locked = Merchant.objects.select_for_update().get(pk=merchant.pk)
    previous = locked.logo.name
    if previous:
        locked.logo = ""
        locked.save(update_fields=["logo"])
        transaction.on_commit(lambda: _delete_stored_file(locked.logo.storage, previous))
    merchant.logo = ""
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


API_KEY_PREFIXES = {ApiKeyMode.LIVE: "rk_live_", ApiKeyMode.TEST: "rk_test_"}
# Minimum seconds between two writes of `last_used_at`: a busy integration would otherwise write the key's
# row on every request; the screen only needs to tell "used today" from "never used".
LAST_USED_RESOLUTION = 60


def api_key_hash(secret: str) -> str:
    """SHA-256 of the whole key: enough for 32 random bytes (see ApiKey's docstring)."""
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def api_key_create(*, merchant: Merchant, name: str, role: str, mode: str, user=None) -> tuple[ApiKey, str]:
    """Creates a key and returns it with its secret, which is not stored: the caller shows it once."""
    if role not in ApiKeyRole.values or mode not in ApiKeyMode.values:
        raise ValidationError(_("Permissão ou ambiente inválido."), code="invalid")
    secret = API_KEY_PREFIXES[mode] + secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        merchant=merchant,
        name=name,
        role=role,
        mode=mode,
        prefix=secret[: len(API_KEY_PREFIXES[mode]) + 4],
        secret_hash=api_key_hash(secret),
        created_by=user,
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, key: ApiKey, now=None) -> ApiKey:
    """Stops the key from working at once; revoking twice keeps the first date."""
    if key.revoked_at is None:
        key.revoked_at = now or timezone.now()
        key.save(update_fields=["revoked_at"])
    return key


def api_key_authenticate(secret: str, *, now=None) -> ApiKey | None:
    """The active key with this secret (and its merchant), or None; records when it was last used."""
    if not secret.startswith(tuple(API_KEY_PREFIXES.values())):
        return None
    key = (
        ApiKey.objects.select_related("merchant")
        .filter(secret_hash=api_key_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if key is None:
        return None
    now = now or timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() >= LAST_USED_RESOLUTION:
        # A plain UPDATE without locking the row: concurrent requests may both write, the last one wins.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key
