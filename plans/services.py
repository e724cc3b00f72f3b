"""Writes for the catalog: plans (create, edit, archive, unarchive, delete), coupons and tax rates.

Every rule a plan must satisfy lives on the model (`Plan.clean` and its field validators) and is
checked here with `full_clean()`, so it holds for the screens, the admin, imports and tests alike.
The coupon and tax-rate rules that span fields or other rows (value per kind, months per duration, a
case-insensitive unique code, terms fixed once subscriptions use a coupon) are checked here too,
before `full_clean()`, each with its message on its field.
The audit and outbox rows arrive with the notifications app; `actor` is already part of every
signature so callers do not change then.
"""

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import Merchant
from plans.choices import CouponDuration, CouponKind
from plans.models import Coupon, Plan, TaxRate

# The fields a merchant edits on the plan form; plan_update saves exactly these (plus updated_at).
EDITABLE_FIELDS = [
    "name",
    "description",
    "price",
    "currency",
    "interval_unit",
    "interval_count",
    "trial_days",
    "installments",
    "is_active",
]


def _refuse_unless(plan: Plan, action: str, message, code: str) -> None:
    if not plan.can(action):
        raise ValidationError(message, code=code)


@transaction.atomic
def plan_create(
    *,
    merchant: Merchant,
    actor,
    name: str,
    price: int,
    interval_unit: str,
    interval_count: int,
    currency: str | None = None,
    description: str = "",
    trial_days: int = 0,
    installments: int | None = None,
    is_active: bool = True,
) -> Plan:
    """Adds a plan to the merchant's catalog after validating it as a whole (minimum price included).

    Without a currency the plan is priced in the merchant's default currency.
    """
    plan = Plan(
        merchant=merchant,
        name=name,
        description=description,
        price=price,
        currency=currency or merchant.currency,
        interval_unit=interval_unit,
        interval_count=interval_count,
        trial_days=trial_days,
        installments=installments,
        is_active=is_active,
    )
    plan.full_clean()
    plan.save()
    return plan


@transaction.atomic
def plan_update(
    *,
    plan: Plan,
    actor,
    name: str,
    description: str,
    price: int,
    currency: str,
    interval_unit: str,
    interval_count: int,
    trial_days: int,
    installments: int | None,
    is_active: bool,
) -> Plan:
    """Replaces a plan's catalog fields (all of them, as the form sends them; no silent defaults).

    An archived plan is read-only until it is unarchived.
    """
    _refuse_unless(
        plan,
        "edit",
        _("Este plano está arquivado. Desarquive-o antes de editar."),
        code="plan_archived",
    )
    plan.name = name
    plan.description = description
    plan.price = price
    plan.currency = currency
    plan.interval_unit = interval_unit
    plan.interval_count = interval_count
    plan.trial_days = trial_days
    plan.installments = installments
    plan.is_active = is_active
    plan.full_clean()
    plan.save(update_fields=[*EDITABLE_FIELDS, "updated_at"])
    return plan


@transaction.atomic
def plan_archive(*, plan: Plan, actor) -> Plan:
    """Takes a plan out of the catalog for good: it is no longer sold, but its history stays."""
    _refuse_unless(plan, "archive", _("Este plano já está arquivado."), code="plan_already_archived")
    plan.archived_at = timezone.now()
    plan.is_active = False
    plan.save(update_fields=["archived_at", "is_active", "updated_at"])
    return plan


@transaction.atomic
def plan_unarchive(*, plan: Plan, actor) -> Plan:
    """Brings an archived plan back as inactive, so the merchant reactivates it deliberately."""
    _refuse_unless(plan, "unarchive", _("Este plano não está arquivado."), code="plan_not_archived")
    plan.archived_at = None
    plan.save(update_fields=["archived_at", "updated_at"])
    return plan


@transaction.atomic
def plan_delete(*, plan: Plan, actor) -> None:
    """Deletes a plan permanently; one that subscriptions reference is refused and must be archived.

    Subscriptions point at plans with `on_delete=PROTECT`, so Django refuses before any row goes.
    The savepoint keeps the outer transaction usable on PostgreSQL should the database refuse instead.
    """
    _refuse_unless(plan, "delete", _("Este plano não pode ser excluído."), code="plan_cannot_delete")
    try:
        with transaction.atomic():
            plan.delete()
    except (ProtectedError, RestrictedError) as exc:
        raise ValidationError(
            _(
                "Este plano tem assinaturas e não pode ser excluído. "
                "Arquive-o para que não seja mais vendido."
            ),
            code="plan_has_subscriptions",
        ) from exc


# --- Coupons ---------------------------------------------------------------------------------------

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
        elif not Decimal("0.01") <= coupon.percent_off <= Decimal("100"):
            refuse("percent_off", _("O percentual deve estar entre 0,01 e 100."), "percent_out_of_range")
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
    actor,
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
    actor,
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
def coupon_deactivate(*, coupon: Coupon, actor) -> Coupon:
    """Stops new redemptions of a coupon; subscriptions that already use it keep their discount."""
    if not coupon.is_active:
        raise ValidationError(_("Este cupom já está desativado."), code="coupon_already_inactive")
    coupon.is_active = False
    coupon.save(update_fields=["is_active"])
    return coupon


# --- Tax rates -------------------------------------------------------------------------------------

TAX_RATE_EDITABLE_FIELDS = ["name", "description", "percentage", "inclusive", "is_active"]


def _validate_tax_rate(tax_rate: TaxRate) -> None:
    errors: dict[str, list] = {}
    if not (tax_rate.name or "").strip():
        errors["name"] = [ValidationError(_("Informe o nome do imposto."), code="required")]
    if tax_rate.percentage is None:
        errors["percentage"] = [ValidationError(_("Informe a alíquota."), code="required")]
    elif not Decimal("0") <= tax_rate.percentage <= Decimal("100"):
        errors["percentage"] = [
            ValidationError(_("A alíquota deve estar entre 0 e 100."), code="percentage_out_of_range")
        ]
    try:
        tax_rate.full_clean(exclude=list(errors))
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def tax_rate_create(
    *,
    merchant: Merchant,
    actor,
    name: str,
    percentage: Decimal,
    inclusive: bool = False,
    description: str = "",
    is_active: bool = True,
) -> TaxRate:
    """Adds a tax rate (e.g. ISS 5%) that subscriptions can carry: added on top, or already in the price."""
    tax_rate = TaxRate(
        merchant=merchant,
        name=name.strip(),
        description=description,
        percentage=percentage,
        inclusive=inclusive,
        is_active=is_active,
    )
    _validate_tax_rate(tax_rate)
    tax_rate.save()
    return tax_rate


@transaction.atomic
def tax_rate_update(
    *,
    tax_rate: TaxRate,
    actor,
    name: str,
    description: str,
    percentage: Decimal,
    inclusive: bool,
    is_active: bool,
) -> TaxRate:
    """Replaces a tax rate's fields. Invoices already issued keep the rate they were computed with."""
    tax_rate.name = name.strip()
    tax_rate.description = description
    tax_rate.percentage = percentage
    tax_rate.inclusive = inclusive
    tax_rate.is_active = is_active
    _validate_tax_rate(tax_rate)
    tax_rate.save(update_fields=TAX_RATE_EDITABLE_FIELDS)
    return tax_rate
