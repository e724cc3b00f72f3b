"""Writes for the catalog: plans (create, edit, archive, unarchive, delete), coupons and tax rates.

Every rule a plan must satisfy lives on the model (`Plan.clean` and its field validators) and is
checked here with `full_clean()`, so it holds for the screens, the admin, imports and tests alike.
The coupon and tax-rate rules that span fields or other rows (value per kind, months per duration, a
case-insensitive unique code, terms fixed once subscriptions use a coupon) are checked here too,
before `full_clean()`, each with its message on its field.

Catalog changes emit no outbox event and write no audit row (the objects keep their own timestamps,
`created_at`, `updated_at`, `archived_at`), except a plan's price: every price is a version
(plans.services.prices), and a changed one emits `plan.price_changed`.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Merchant
from plans.models import Plan
from plans.services.prices import plan_price_changed_emit, plan_price_version_add

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
    plan_price_version_add(plan=plan)
    return plan


@transaction.atomic
def plan_update(
    *,
    plan: Plan,
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

    An archived plan is read-only until it is unarchived. A new price or currency is a new price version
    for new subscriptions only (existing ones keep theirs; "Alterar preço" can migrate them).
    """
    _refuse_unless(
        plan,
        "edit",
        _("Este plano está arquivado. Desarquive-o antes de editar."),
        code="plan_archived",
    )
    price_changed = (price, currency) != (plan.price, plan.currency)
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
    if price_changed:
        old = plan.current_price
        version = plan_price_version_add(plan=plan)
        plan_price_changed_emit(plan=plan, version=version, old=old)
    return plan


@transaction.atomic
def plan_archive(*, plan: Plan) -> Plan:
    """Takes a plan out of the catalog for good: it is no longer sold, but its history stays."""
    _refuse_unless(plan, "archive", _("Este plano já está arquivado."), code="plan_already_archived")
    plan.archived_at = timezone.now()
    plan.is_active = False
    plan.save(update_fields=["archived_at", "is_active", "updated_at"])
    return plan


@transaction.atomic
def plan_unarchive(*, plan: Plan) -> Plan:
    """Brings an archived plan back as inactive, so the merchant reactivates it deliberately."""
    _refuse_unless(plan, "unarchive", _("Este plano não está arquivado."), code="plan_not_archived")
    plan.archived_at = None
    plan.save(update_fields=["archived_at", "updated_at"])
    return plan


@transaction.atomic
def plan_delete(*, plan: Plan) -> None:
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
