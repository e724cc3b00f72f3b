"""Coupons: codes merchants hand out, with the rules that hold for every caller."""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Merchant
from core.percent import DISCOUNT_PERCENT
from plans.choices import CouponDuration, CouponKind
from plans.models import Coupon

# What stays fixed once subscriptions use a coupon: their invoices were (and will be) computed from it.
COUPON_TERMS = ["code", "kind", "percent_off", "amount_off", "currency", "duration", "duration_in_months"]
COUPON_EDITABLE_FIELDS = [*COUPON_TERMS, "name", "max_redemptions", "expires_at", "is_active"]
COUPON_CODE_RE = re.compile(r"^[A-Z0-9-]+$")


def normalize_coupon_code(code: str | None) -> str:
    """Codes are typed by customers in any case and compared in upper case: " bemvindo10 " → "BEMVINDO10"."""
    return (code or "").strip().upper()


def coupon_code_errors(code: str) -> list[ValidationError]:
    """What is wrong with an already normalized code (empty, or characters other than A–Z, 0–9, hyphen)."""
    if not code:
        return [ValidationError(_("Informe o código do cupom."), code="required")]
    if not COUPON_CODE_RE.match(code):
        return [
            ValidationError(
                _("Use apenas letras sem acento, números e hífen (por exemplo BEMVINDO-10)."),
                code="invalid_code",
            )
        ]
    return []


def _coupon_errors(coupon: Coupon, *, original: Coupon | None, redemptions: int, now) -> dict:
    """The coupon rules, as {field: [errors]}; `original` is the stored row when editing."""
    errors: dict[str, list] = {}

    def refuse(field, message, code, **params):
        errors.setdefault(field, []).append(ValidationError(message, code=code, params=params or None))

    for error in coupon_code_errors(coupon.code):
        errors.setdefault("code", []).append(error)
    if "code" not in errors:
        duplicates = Coupon.objects.filter(merchant_id=coupon.merchant_id, code__iexact=coupon.code)
        if coupon.pk:
            duplicates = duplicates.exclude(pk=coupon.pk)
        if duplicates.exists():
            refuse("code", _("Já existe um cupom com este código."), "duplicate_code")

    if coupon.kind == CouponKind.PERCENT:
        if coupon.percent_off is None:
            refuse("percent_off", _("Informe o percentual de desconto."), "percent_required")
        elif coupon.percent_off not in DISCOUNT_PERCENT:
            refuse("percent_off", DISCOUNT_PERCENT.message, "percent_out_of_range")
        if coupon.amount_off is not None:
            refuse("amount_off", _("Um cupom percentual não tem valor fixo."), "amount_not_allowed")
    elif coupon.kind == CouponKind.FIXED:
        if coupon.amount_off is None:
            refuse("amount_off", _("Informe o valor do desconto."), "amount_required")
        elif coupon.amount_off < 1:
            refuse("amount_off", _("O desconto deve ser de pelo menos R$ 0,01."), "amount_too_small")
        if coupon.percent_off is not None:
            refuse("percent_off", _("Um cupom de valor fixo não tem percentual."), "percent_not_allowed")

    if coupon.duration == CouponDuration.REPEATING:
        if coupon.duration_in_months is None or coupon.duration_in_months < 1:
            refuse(
                "duration_in_months",
                _("Informe por quantos meses o desconto vale (pelo menos 1)."),
                "months_required",
            )
    elif coupon.duration_in_months is not None:
        refuse(
            "duration_in_months",
            _("Só cupons “Por N meses” têm número de meses. Deixe vazio."),
            "months_not_allowed",
        )

    if coupon.max_redemptions is not None:
        if coupon.max_redemptions < 1:
            refuse(
                "max_redemptions",
                _("O limite de usos deve ser pelo menos 1. Deixe vazio para não limitar."),
                "max_redemptions_too_small",
            )
        elif coupon.max_redemptions < redemptions:
            refuse(
                "max_redemptions",
                ngettext(
                    "Este cupom já foi usado %(count)s vez; o limite não pode ser menor que isso.",
                    "Este cupom já foi usado %(count)s vezes; o limite não pode ser menor que isso.",
                    redemptions,
                ),
                "max_redemptions_below_usage",
                count=redemptions,
            )

    if original is None and coupon.expires_at is not None and coupon.expires_at <= now:
        refuse("expires_at", _("A validade não pode estar no passado."), "expires_in_past")

    if original is not None and redemptions:
        for field in COUPON_TERMS:
            if getattr(coupon, field) != getattr(original, field) and field not in errors:
                refuse(
                    field,
                    _(
                        "Este cupom já foi usado por assinaturas: só nome, ativo, limite de usos "
                        "e validade podem mudar."
                    ),
                    "coupon_in_use",
                )
    return errors


def _validate_coupon(coupon: Coupon, *, original: Coupon | None, redemptions: int, now) -> None:
    """Runs the coupon rules and the model's own field checks; raises one error listing them all."""
    errors = _coupon_errors(coupon, original=original, redemptions=redemptions, now=now)
    try:
        # The unique code was checked above, case-insensitively and with a message on the field.
        coupon.full_clean(exclude=list(errors), validate_constraints=False)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def coupon_create(
    *,
    merchant: Merchant,
    code: str,
    kind: str,
    duration: str,
    name: str = "",
    percent_off: Decimal | None = None,
    amount_off: int | None = None,
    currency: str | None = None,
    duration_in_months: int | None = None,
    max_redemptions: int | None = None,
    expires_at=None,
    is_active: bool = True,
    now=None,
) -> Coupon:
    """Adds a discount code to the merchant's catalog; the code is stored in upper case, unique per merchant.

    Percent coupons carry `percent_off`, fixed ones `amount_off` (minor units, in `currency`, the
    merchant's by default); only "Por N meses" coupons carry `duration_in_months`.
    """
    coupon = Coupon(
        merchant=merchant,
        code=normalize_coupon_code(code),
        name=name,
        kind=kind,
        percent_off=percent_off,
        amount_off=amount_off,
        currency=currency or merchant.currency,
        duration=duration,
        duration_in_months=duration_in_months,
        max_redemptions=max_redemptions,
        expires_at=expires_at,
        is_active=is_active,
    )
    _validate_coupon(coupon, original=None, redemptions=0, now=now or timezone.now())
    coupon.save()
    return coupon


@transaction.atomic
def coupon_update(
    *,
    coupon: Coupon,
    code: str,
    name: str,
    kind: str,
    percent_off: Decimal | None,
    amount_off: int | None,
    currency: str,
    duration: str,
    duration_in_months: int | None,
    max_redemptions: int | None,
    expires_at,
    is_active: bool,
    now=None,
) -> Coupon:
    """Replaces a coupon's fields. Once subscriptions use it, its terms (code, kind, value, duration) are
    fixed, because their invoices are computed from them; name, active, limit and expiry still change.

    Compares against the stored row (locked), not the instance, which a form may already have changed.
    """
    original = Coupon.objects.select_for_update().get(pk=coupon.pk)
    coupon.code = normalize_coupon_code(code)
    coupon.name = name
    coupon.kind = kind
    coupon.percent_off = percent_off
    coupon.amount_off = amount_off
    coupon.currency = currency
    coupon.duration = duration
    coupon.duration_in_months = duration_in_months
    coupon.max_redemptions = max_redemptions
    coupon.expires_at = expires_at
    coupon.is_active = is_active
    _validate_coupon(
        coupon, original=original, redemptions=original.subscriptions.count(), now=now or timezone.now()
    )
    coupon.save(update_fields=COUPON_EDITABLE_FIELDS)
    return coupon


@transaction.atomic
def coupon_deactivate(*, coupon: Coupon) -> Coupon:
    """Stops new redemptions of a coupon; subscriptions that already use it keep their discount."""
    if not coupon.is_active:
        raise ValidationError(_("Este cupom já está desativado."), code="coupon_already_inactive")
    coupon.is_active = False
    coupon.save(update_fields=["is_active"])
    return coupon
