"""Checkout links (Planos > Links de pagamento): their terms, and the conversion counts the public page
records. Contracting through a link is billing's (billing/checkout/services.py): it needs customers,
subscriptions and charges, which the catalog may not import."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from plans.models import CheckoutLink

CHECKOUT_LINK_FIELDS = [
    "plan",
    "name",
    "coupon",
    "allow_card",
    "allow_boleto",
    "allow_pix",
    "max_completions",
    "expires_at",
    "success_url",
    "brand_color",
    "is_active",
]
# What the public page counts: a page view, a submission that reached the payment, a sign-up (for a link
# without a limit; a limited one counts with checkout_link_complete).
COUNTERS = ("visits", "started", "completed")


def _check(link: CheckoutLink) -> None:
    errors = {}
    if link.plan.merchant_id != link.merchant_id:
        errors["plan"] = _("Plano não encontrado.")
    elif link.plan.is_archived:
        errors["plan"] = _("Este plano está arquivado.")
    if link.coupon_id is not None:
        if link.coupon.merchant_id != link.merchant_id:
            errors["coupon"] = _("Cupom não encontrado.")
        elif link.coupon.currency != link.plan.currency and link.coupon.amount_off:
            errors["coupon"] = _("O cupom de valor fixo está em outra moeda que o plano.")
    if not (link.allow_card or link.allow_boleto or link.allow_pix):
        errors["allow_card"] = _("Escolha ao menos uma forma de pagamento.")
    if errors:
        raise ValidationError(errors)
    link.full_clean()


@transaction.atomic
def checkout_link_create(*, merchant: Merchant, plan, **fields) -> CheckoutLink:
    """A new link to `plan`, active unless told otherwise, with a fresh unguessable slug."""
    unknown = set(fields) - set(CHECKOUT_LINK_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    link = CheckoutLink(merchant=merchant, plan=plan, **fields)
    _check(link)
    link.save()
    return link


@transaction.atomic
def checkout_link_update(*, link: CheckoutLink, **fields) -> CheckoutLink:
    """Changes a link's terms; its slug (the URL already shared) and its counts stay."""
    unknown = set(fields) - set(CHECKOUT_LINK_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields {sorted(unknown)}")
    for name, value in fields.items():
        setattr(link, name, value)
    _check(link)
    link.save(update_fields=[*fields, "updated_at"])
    return link


@transaction.atomic
def checkout_link_set_active(*, link: CheckoutLink, active: bool) -> CheckoutLink:
    """Turns the public page on or off (off: the URL answers 404, nothing else changes)."""
    if active:
        _check(link)
    link.is_active = active
    link.save(update_fields=["is_active", "updated_at"])
    return link


def checkout_link_count(*, link_id: int, counter: str) -> None:
    """Adds one to a conversion counter, as one UPDATE (no read, no lock: concurrent visits all count)."""
    if counter not in COUNTERS:
        raise ValueError(f"unknown counter {counter!r}")
    CheckoutLink.objects.filter(pk=link_id).update(**{counter: F(counter) + 1})


def checkout_link_complete(*, link_id: int, now) -> CheckoutLink:
    """Counts a subscription contracted through a link with a limit of sign-ups, first thing in the
    contract's transaction.

    The link's row is locked until the contract commits, so two last-place customers cannot both get in:
    the second one waits, then is refused (ValidationError "checkout_link_closed") before it is charged.
    Also refuses a link that closed (switched off, expired) between the page and the submit. A link
    without a limit needs no lock held across the charge: it counts with checkout_link_count at the end."""
    link = CheckoutLink.objects.select_for_update().select_related("plan").get(pk=link_id)
    reason = link.public_refusal(now=now)
    if reason:
        raise ValidationError(
            _("Este link de pagamento não está mais disponível."), code="checkout_link_closed"
        )
    link.completed = F("completed") + 1
    link.save(update_fields=["completed"])
    link.refresh_from_db(fields=["completed"])
    return link
