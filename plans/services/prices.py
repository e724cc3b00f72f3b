"""Price versions of a plan: the one writer of `PlanPrice` rows and of `Plan.price` / `Plan.current_price`.

A new version becomes the plan's price for new subscriptions at once; existing subscriptions keep the
version they were contracted on (`Subscription.plan_price`) unless the merchant migrates them, which
billing.services.price_changes does on top of this (a notice per subscription, then the first renewal
after it charges the new version).
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.events import EventType
from core.outbox import emit
from plans.models import Plan, PlanPrice


def _next_version(plan: Plan) -> int:
    return (PlanPrice.objects.filter(plan=plan).aggregate(top=Max("version"))["top"] or 0) + 1


def plan_price_version_add(*, plan: Plan, now: dt.datetime | None = None) -> PlanPrice:
    """Records `plan.price` / `plan.currency` (already validated and saved by the caller, inside its
    transaction) as the plan's newest version and points `current_price` at it. No event: the callers
    that change a price for a merchant emit `plan.price_changed` (a new plan has no price to change)."""
    version = PlanPrice.objects.create(
        merchant_id=plan.merchant_id,
        plan=plan,
        version=_next_version(plan),
        amount=plan.price,
        currency=plan.currency,
        valid_from=now or timezone.now(),
    )
    plan.current_price = version
    plan.save(update_fields=["current_price", "updated_at"])
    return version


def plan_price_payload(*, plan: Plan, version: PlanPrice, old: PlanPrice | None, **extra) -> dict:
    return {
        "id": plan.pk,
        "name": plan.name,
        "version": version.version,
        "amount": version.amount,
        "currency": version.currency,
        "valid_from": version.valid_from,
        "old_version": old.version if old else None,
        "old_amount": old.amount if old else None,
        **extra,
    }


@transaction.atomic
def plan_price_change(
    *,
    plan: Plan,
    amount: int,
    now: dt.datetime | None = None,
    existing: str = "grandfathered",
    notice_ends_at: dt.datetime | None = None,
) -> tuple[PlanPrice, PlanPrice | None]:
    """Gives `plan` a new price version for new subscriptions from `now`, and emits `plan.price_changed`
    (its payload says whether existing subscriptions keep their price, `existing="grandfathered"`, or
    move to it after a notice ending at `notice_ends_at`, `existing="migrated"`). Returns (new version,
    the version it replaces). The plan's row is locked so two changes number their versions in turn."""
    now = now or timezone.now()
    given, plan = plan, Plan.objects.select_for_update().get(pk=plan.pk)
    if not plan.can("edit"):
        raise ValidationError(
            _("Este plano está arquivado. Desarquive-o antes de alterar o preço."), code="plan_archived"
        )
    old = plan.current_price
    if old is not None and old.amount == amount and old.currency == plan.currency:
        # The code sits on the inner error: ValidationError({field: message}, code=…) drops it.
        raise ValidationError(
            {"amount": ValidationError(_("O novo preço é igual ao atual."), code="price_unchanged")}
        )
    plan.price = amount
    plan.full_clean()
    plan.save(update_fields=["price", "updated_at"])
    version = plan_price_version_add(plan=plan, now=now)
    # The caller's instance (a view's object, a test's plan) reads the new price from here on.
    given.price, given.current_price, given.updated_at = plan.price, version, plan.updated_at
    plan_price_changed_emit(
        plan=plan, version=version, old=old, existing=existing, notice_ends_at=notice_ends_at
    )
    return version, old


def plan_price_changed_emit(*, plan, version, old, existing="grandfathered", notice_ends_at=None) -> None:
    """`plan.price_changed`, inside the caller's transaction."""
    emit(
        merchant=plan.merchant_id,
        type=EventType.PLAN_PRICE_CHANGED,
        payload=plan_price_payload(
            plan=plan, version=version, old=old, existing=existing, notice_ends_at=notice_ends_at
        ),
    )
